"""Claude and Gemini through the real SDKs against a local HTTP server on 127.0.0.1."""

from decimal import Decimal

import pytest

from apps.ai.providers import ProviderError, Request
from apps.ai.providers.claude import ClaudeProvider
from apps.ai.providers.gemini import GeminiProvider

from .fake_llm import Reply, anthropic_message, anthropic_sse, gemini_response, gemini_sse

REQ = Request(system="You are an SRE.", messages=[{"role": "user", "content": "Why did it die? [E1]"}], model="", max_tokens=300)
ANTHROPIC_401 = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
ANTHROPIC_500 = {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
GEMINI_401 = {"error": {"code": 401, "message": "API key not valid.", "status": "UNAUTHENTICATED"}}
GEMINI_500 = {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}


def _req(model):
    return Request(**{**REQ.__dict__, "model": model})


def test_claude_request_shape_and_accounting(fake_llm):
    fake_llm.replies = [Reply(body=anthropic_message("It ran out of memory [E1]."))]
    result = ClaudeProvider(api_key="sk-ant-test-key", base_url=fake_llm.url).complete(_req("claude-sonnet-4-6"))
    sent = fake_llm.requests[0]
    assert sent["path"] == "/v1/messages"
    auth = sent["headers"].get("x-api-key") or sent["headers"].get("authorization", "").removeprefix("Bearer ")
    assert auth == "sk-ant-test-key" and sent["headers"]["anthropic-version"]
    assert sent["json"]["model"] == "claude-sonnet-4-6" and sent["json"]["system"] == "You are an SRE."
    assert sent["json"]["messages"] == [{"role": "user", "content": "Why did it die? [E1]"}] and sent["json"]["max_tokens"] == 300
    assert result.text == "It ran out of memory [E1]." and (result.input_tokens, result.output_tokens) == (120, 30)
    assert result.cost_usd == Decimal(3 * 120 + 15 * 30) / Decimal(1_000_000)


def test_claude_streams_in_order(fake_llm):
    fake_llm.replies = [Reply(sse=anthropic_sse(["It ", "ran out ", "of memory."]))]
    seen = []
    result = ClaudeProvider(api_key="k", base_url=fake_llm.url).stream(_req("claude-sonnet-4-6"), seen.append)
    assert seen == ["It ", "ran out ", "of memory."] and result.text == "It ran out of memory."
    assert fake_llm.requests[0]["json"]["stream"] is True and result.output_tokens == 30


def test_claude_401_is_not_retried(fake_llm):
    fake_llm.replies = [Reply(401, ANTHROPIC_401)]
    with pytest.raises(ProviderError) as err:
        ClaudeProvider(api_key="bad", base_url=fake_llm.url).complete(_req("claude-sonnet-4-6"))
    assert err.value.status == 401 and "API key" in str(err.value) and len(fake_llm.requests) == 1


def test_claude_429_is_retried_then_succeeds(fake_llm):
    fake_llm.replies = [Reply(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, {"retry-after": "0"}),
                        Reply(body=anthropic_message("ok"))]
    result = ClaudeProvider(api_key="k", base_url=fake_llm.url).complete(_req("claude-sonnet-4-6"))
    assert result.text == "ok" and len(fake_llm.requests) == 2


def test_claude_500_gives_up_after_the_attempts(fake_llm, settings):
    settings.AI_PROVIDER_ATTEMPTS = 3
    fake_llm.default = Reply(500, ANTHROPIC_500)
    with pytest.raises(ProviderError) as err:
        ClaudeProvider(api_key="k", base_url=fake_llm.url).complete(_req("claude-sonnet-4-6"))
    assert err.value.status == 500 and err.value.retryable and len(fake_llm.requests) == 3


def test_claude_unreachable_is_a_clear_error(settings):
    settings.AI_PROVIDER_ATTEMPTS = 1
    with pytest.raises(ProviderError, match="Cannot reach"):
        ClaudeProvider(api_key="k", base_url="http://127.0.0.1:1").complete(_req("claude-sonnet-4-6"))


def test_gemini_request_shape_and_accounting(fake_llm):
    fake_llm.replies = [Reply(body=gemini_response("Port 80 is taken [E2]."))]
    result = GeminiProvider(api_key="gem-key", base_url=fake_llm.url).complete(_req("gemini-2.5-flash"))
    sent = fake_llm.requests[0]
    assert sent["path"].endswith("/models/gemini-2.5-flash:generateContent")
    assert sent["headers"]["x-goog-api-key"] == "gem-key"
    assert sent["json"]["contents"] == [{"role": "user", "parts": [{"text": "Why did it die? [E1]"}]}]
    assert sent["json"]["systemInstruction"]["parts"][0]["text"] == "You are an SRE."
    assert sent["json"]["generationConfig"]["maxOutputTokens"] == 300
    assert result.text == "Port 80 is taken [E2]." and (result.input_tokens, result.output_tokens) == (100, 20)
    assert result.cost_usd > 0


def test_gemini_streams_in_order(fake_llm):
    fake_llm.replies = [Reply(sse=gemini_sse(["Port ", "80 ", "is taken."]))]
    seen = []
    result = GeminiProvider(api_key="k", base_url=fake_llm.url).stream(_req("gemini-2.5-flash"), seen.append)
    assert seen == ["Port ", "80 ", "is taken."] and result.text == "Port 80 is taken."
    assert ":streamGenerateContent" in fake_llm.requests[0]["path"]


def test_gemini_errors(fake_llm, settings):
    settings.AI_PROVIDER_ATTEMPTS = 2
    provider = GeminiProvider(api_key="k", base_url=fake_llm.url)
    fake_llm.replies = [Reply(401, GEMINI_401)]
    with pytest.raises(ProviderError) as err:
        provider.complete(_req("gemini-2.5-flash"))
    assert err.value.status == 401 and len(fake_llm.requests) == 1
    fake_llm.replies = [Reply(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}), Reply(body=gemini_response("ok"))]
    assert provider.complete(_req("gemini-2.5-flash")).text == "ok" and len(fake_llm.requests) == 3
    fake_llm.default = Reply(500, GEMINI_500)
    with pytest.raises(ProviderError) as err:
        provider.complete(_req("gemini-2.5-flash"))
    assert err.value.status == 500 and len(fake_llm.requests) == 5

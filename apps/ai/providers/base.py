"""The provider interface every AI backend implements (built-ins and plugins alike)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

# USD per million tokens (input, output). Unknown models cost 0 and say so in the result.
PRICES: dict[str, tuple[Decimal, Decimal]] = {
    "claude-opus-4-6": (Decimal("5"), Decimal("25")),
    "claude-sonnet-4-6": (Decimal("3"), Decimal("15")),
    "claude-sonnet-4-5": (Decimal("3"), Decimal("15")),
    "claude-haiku-4-5": (Decimal("1"), Decimal("5")),
    "gemini-2.5-pro": (Decimal("1.25"), Decimal("10")),
    "gemini-2.5-flash": (Decimal("0.30"), Decimal("2.50")),
}


def cost(model: str, input_tokens: int, output_tokens: int) -> Decimal:
    price = PRICES.get(model)
    if price is None:
        return Decimal(0)
    return (price[0] * input_tokens + price[1] * output_tokens) / Decimal(1_000_000)


class ProviderError(Exception):
    """A provider failed. `retryable` errors (429, 5xx, network) are retried with backoff."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class Request:
    system: str
    messages: list[dict]  # [{"role": "user"|"assistant", "content": str}]
    model: str
    max_tokens: int = 1500
    findings: list = field(default_factory=list)  # structured findings (the offline provider writes from them)
    evidence_ids: list[str] = field(default_factory=list)
    purpose: str = "analysis"  # "analysis" | "chat" | "summary": the offline provider answers each its own way
    summary: str = ""  # chat: the conversation's summary of older turns (also rendered into `system`)


@dataclass
class Result:
    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def cost_usd(self) -> Decimal:
        return cost(self.model, self.input_tokens, self.output_tokens)


class Provider:
    name = "base"
    default_model = ""
    needs_key = True

    def __init__(self, *, api_key: str = "", base_url: str = ""):
        self.api_key = api_key
        self.base_url = base_url

    def complete(self, request: Request) -> Result:
        raise NotImplementedError

    def stream(self, request: Request, on_text: Callable[[str], None]) -> Result:
        """Stream the answer's text to `on_text` as it arrives; return the whole result."""
        result = self.complete(request)
        on_text(result.text)
        return result


def with_retries(call: Callable[[], Result]) -> Result:
    """Retry retryable provider errors (429, 5xx) with backoff, honouring Retry-After."""
    attempts = getattr(settings, "AI_PROVIDER_ATTEMPTS", 3)
    backoff = getattr(settings, "AI_PROVIDER_BACKOFF", 1.0)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ProviderError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else backoff * 2 ** (attempt - 1)
            time.sleep(min(delay, getattr(settings, "AI_PROVIDER_MAX_BACKOFF", 30.0)))
    raise AssertionError("unreachable")


def retry_after_of(headers) -> float | None:
    try:
        return float(headers.get("retry-after")) if headers is not None and headers.get("retry-after") else None
    except (TypeError, ValueError):
        return None


def http_error(status: int | None, message: str, headers=None) -> ProviderError:
    """A ProviderError with a message a person can act on."""
    if status == 401 or status == 403:
        return ProviderError(f"The provider rejected the API key ({status}): check the team's AI settings.", status=status)
    if status == 429:
        return ProviderError("The provider's rate limit was reached (429).", status=status, retryable=True, retry_after=retry_after_of(headers))
    if status is not None and status >= 500:
        return ProviderError(f"The provider failed ({status}): {message[:200]}", status=status, retryable=True)
    if status is None:
        return ProviderError(f"Cannot reach the provider: {message[:200]}", retryable=True)
    return ProviderError(f"The provider refused the request ({status}): {message[:200]}", status=status)


def iter_nothing() -> Iterator[str]:
    return iter(())

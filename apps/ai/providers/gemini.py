"""Gemini through the `google-genai` SDK (generateContent / streamGenerateContent)."""

from __future__ import annotations

from collections.abc import Callable

from .base import Provider, ProviderError, Request, Result, http_error, with_retries


class GeminiProvider(Provider):
    name = "gemini"
    default_model = "gemini-2.5-flash"

    def _client(self):
        from google import genai
        from google.genai import types

        options = types.HttpOptions(base_url=self.base_url, timeout=60_000) if self.base_url else types.HttpOptions(timeout=60_000)
        return genai.Client(api_key=self.api_key, http_options=options)

    @staticmethod
    def _args(request: Request) -> dict:
        from google.genai import types

        contents = [types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
                    for m in request.messages]
        config = types.GenerateContentConfig(system_instruction=request.system, max_output_tokens=request.max_tokens)
        return {"model": request.model, "contents": contents, "config": config}

    @staticmethod
    def _usage(meta) -> tuple[int, int]:
        if meta is None:
            return 0, 0
        return meta.prompt_token_count or 0, meta.candidates_token_count or 0

    def complete(self, request: Request) -> Result:
        def call() -> Result:
            client = self._client()  # keep a reference: the SDK closes its HTTP client when the Client is collected
            with _errors():
                response = client.models.generate_content(**self._args(request))
                text = response.text or ""
            tokens_in, tokens_out = self._usage(response.usage_metadata)
            return Result(text=text, model=response.model_version or request.model, input_tokens=tokens_in, output_tokens=tokens_out)

        return with_retries(call)

    def stream(self, request: Request, on_text: Callable[[str], None]) -> Result:
        def call() -> Result:
            parts, usage, model = [], None, request.model
            client = self._client()
            with _errors():
                for chunk in client.models.generate_content_stream(**self._args(request)):
                    if chunk.text:
                        parts.append(chunk.text)
                        on_text(chunk.text)
                    usage = chunk.usage_metadata or usage
                    model = chunk.model_version or model
            tokens_in, tokens_out = self._usage(usage)
            return Result(text="".join(parts), model=model, input_tokens=tokens_in, output_tokens=tokens_out)

        return with_retries(call)


class _errors:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from google.genai import errors

        if exc is None or isinstance(exc, ProviderError):
            return False
        if isinstance(exc, errors.APIError):
            headers = getattr(getattr(exc, "response", None), "headers", None)
            raise http_error(exc.code, str(exc.message or exc), headers) from None
        if exc_type.__module__.startswith(("httpx", "httpcore")) or isinstance(exc, OSError):
            raise http_error(None, str(exc)) from None
        return False

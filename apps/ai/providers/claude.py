"""Claude through the `anthropic` SDK (Messages API)."""

from __future__ import annotations

from collections.abc import Callable

from .base import Provider, ProviderError, Request, Result, http_error, with_retries


class ClaudeProvider(Provider):
    name = "claude"
    default_model = "claude-sonnet-4-6"

    def _client(self):
        import anthropic

        kwargs = {"api_key": self.api_key, "max_retries": 0, "timeout": 60.0}
        if self.base_url:
            kwargs["base_url"] = self.base_url
        return anthropic.Anthropic(**kwargs)

    @staticmethod
    def _params(request: Request) -> dict:
        return {"model": request.model, "max_tokens": request.max_tokens, "system": request.system, "messages": request.messages}

    def complete(self, request: Request) -> Result:
        def call() -> Result:
            with _errors():
                message = self._client().messages.create(**self._params(request))
            text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
            return Result(text=text, model=message.model or request.model,
                          input_tokens=message.usage.input_tokens, output_tokens=message.usage.output_tokens)

        return with_retries(call)

    def stream(self, request: Request, on_text: Callable[[str], None]) -> Result:
        def call() -> Result:
            with _errors(), self._client().messages.stream(**self._params(request)) as stream:
                for text in stream.text_stream:
                    on_text(text)
                message = stream.get_final_message()
            text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
            return Result(text=text, model=message.model or request.model,
                          input_tokens=message.usage.input_tokens, output_tokens=message.usage.output_tokens)

        return with_retries(call)


class _errors:
    """Map the SDK's exceptions to ProviderError."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        import anthropic

        if exc is None or isinstance(exc, ProviderError):
            return False
        if isinstance(exc, anthropic.APIStatusError):
            raise http_error(exc.status_code, str(exc.message), exc.response.headers) from None
        if isinstance(exc, anthropic.APIConnectionError):
            raise http_error(None, str(exc)) from None
        return False

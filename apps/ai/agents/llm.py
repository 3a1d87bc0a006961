"""Tool use through the providers' real SDKs: one conversation per agent, turn by turn.

`chat_for(choice, system, tools, user_text)` returns a ToolChat for Claude and Gemini, or None
for providers without tool use (the offline provider and plugins): the coordinator then runs
its deterministic plan instead."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..providers.base import with_retries

MAX_TOKENS = 1500


@dataclass
class ToolCall:
    id: str
    name: str
    args: dict


@dataclass
class Turn:
    text: str
    calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""


class ClaudeToolChat:
    def __init__(self, provider, model: str, system: str, tools: list, user_text: str):
        self.provider, self.model, self.system = provider, model, system
        self.tools = [{"name": t.name, "description": t.description, "input_schema": t.schema} for t in tools]
        self.messages: list[dict] = [{"role": "user", "content": user_text}]

    def turn(self) -> Turn:
        from ..providers.claude import _errors

        def call():
            with _errors():
                return self.provider._client().messages.create(model=self.model, max_tokens=MAX_TOKENS, system=self.system,
                                                               messages=self.messages, tools=self.tools)

        message = with_retries(call)
        self.messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
        calls = [ToolCall(b.id, b.name, dict(b.input or {})) for b in message.content if getattr(b, "type", "") == "tool_use"]
        text = "".join(b.text for b in message.content if getattr(b, "type", "") == "text")
        return Turn(text, calls, message.usage.input_tokens, message.usage.output_tokens, message.model or self.model)

    def answer(self, results: list[tuple[ToolCall, str]]) -> None:
        self.messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": c.id, "content": text} for c, text in results]})


class GeminiToolChat:
    def __init__(self, provider, model: str, system: str, tools: list, user_text: str):
        from google.genai import types

        self.provider, self.model = provider, model
        self.config = types.GenerateContentConfig(
            system_instruction=system, max_output_tokens=MAX_TOKENS,
            tools=[types.Tool(function_declarations=[
                types.FunctionDeclaration(name=t.name, description=t.description, parameters_json_schema=t.schema) for t in tools])],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
        self.contents = [types.Content(role="user", parts=[types.Part(text=user_text)])]

    def turn(self) -> Turn:
        from ..providers.gemini import GeminiProvider, _errors

        def call():
            client = self.provider._client()  # kept referenced for the call (the SDK closes on collection)
            with _errors():
                return client.models.generate_content(model=self.model, contents=self.contents, config=self.config)

        response = with_retries(call)
        content = response.candidates[0].content if response.candidates else None
        parts = (content.parts or []) if content is not None else []
        if content is not None:
            self.contents.append(content)
        calls = [ToolCall(p.function_call.id or p.function_call.name, p.function_call.name, dict(p.function_call.args or {}))
                 for p in parts if p.function_call is not None]
        text = "".join(p.text for p in parts if p.text)
        tokens_in, tokens_out = GeminiProvider._usage(response.usage_metadata)
        return Turn(text, calls, tokens_in, tokens_out, response.model_version or self.model)

    def answer(self, results: list[tuple[ToolCall, str]]) -> None:
        from google.genai import types

        self.contents.append(types.Content(role="user", parts=[
            types.Part.from_function_response(name=c.name, response={"result": text}) for c, text in results]))


CHATS = {"claude": ClaudeToolChat, "gemini": GeminiToolChat}


def chat_for(choice, system: str, tools: list, user_text: str):
    cls = CHATS.get(choice.provider.name)
    return cls(choice.provider, choice.model, system, tools, user_text) if cls is not None else None

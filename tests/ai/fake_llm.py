"""A real HTTP server on 127.0.0.1 speaking the Anthropic Messages and Gemini generateContent
APIs (enough of them for the real SDKs): scripted replies, every request recorded."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def anthropic_message(text: str, model="claude-sonnet-4-6", tokens=(120, 30)) -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


def anthropic_sse(parts: list[str], model="claude-sonnet-4-6", tokens=(120, 30)) -> bytes:
    events = [("message_start", {"type": "message_start", "message": {**anthropic_message("", model, (tokens[0], 1)), "content": []}}),
              ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}) for p in parts]
    events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
               ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": tokens[1]}}),
               ("message_stop", {"type": "message_stop"})]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


def gemini_response(text: str, model="gemini-2.5-flash", tokens=(100, 20)) -> dict:
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": tokens[0], "candidatesTokenCount": tokens[1], "totalTokenCount": sum(tokens)},
            "modelVersion": model}


def gemini_sse(parts: list[str], model="gemini-2.5-flash", tokens=(100, 20)) -> bytes:
    chunks = [gemini_response(p, model, tokens) for p in parts]
    return "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks).encode()


def anthropic_tool_use(name: str, args: dict, call_id="toolu_1", model="claude-sonnet-4-6", tokens=(200, 40)) -> dict:
    """An assistant turn that asks for a tool (stop_reason tool_use)."""
    return {"id": "msg_t", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Let me look."}, {"type": "tool_use", "id": call_id, "name": name, "input": args}],
            "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


def gemini_function_call(name: str, args: dict, model="gemini-2.5-flash", tokens=(150, 25)) -> dict:
    return {"candidates": [{"content": {"parts": [{"functionCall": {"name": name, "args": args}}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": tokens[0], "candidatesTokenCount": tokens[1], "totalTokenCount": sum(tokens)},
            "modelVersion": model}


class Reply:
    def __init__(self, status=200, body=None, headers=None, sse: bytes | None = None):
        self.status, self.body, self.headers, self.sse = status, body, headers or {}, sse


class FakeLLM:
    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[Reply] = []
        self.default: Reply | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "json": json.loads(raw or b"{}")})
                reply = server.replies.pop(0) if server.replies else server.default
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.sse is not None:
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("content-length", str(len(reply.sse)))
                    self.end_headers()
                    self.wfile.write(reply.sse)
                    return
                data = json.dumps(reply.body).encode()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

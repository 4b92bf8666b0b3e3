"""Local HTTP servers that speak the OpenAI, Anthropic and Gemini wire formats, for tests.

A ``WireServer`` listens on 127.0.0.1 (a free port) in a thread of its own, so the SDKs'
async clients can call it from async tests. It answers from a queue of canned replies,
``Reply`` (a body with a status and headers: JSON, or anything malformed) or ``Stream``
(server-sent events, with delays, that may stall), and once the queue is empty with its
dialect's default text answer. It records every request, so a test can check what the SDK
sent. Each dialect (``OPENAI``, ``ANTHROPIC``, ``GEMINI``) builds canonical bodies: a text
answer, a tool-call answer, streams of both with usage, an error body.

Standard library only.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ANTHROPIC",
    "DIALECTS",
    "GEMINI",
    "OPENAI",
    "Call",
    "Dialect",
    "Event",
    "Recorded",
    "Reply",
    "Stream",
    "WireServer",
]


# -- what a server answers and records ---------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One whole HTTP answer: ``body`` as JSON when it is a dict or list, else as it is
    (a str or bytes, e.g. truncated JSON or an HTML page)."""

    body: Any = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0
    """Seconds to wait before answering (for client timeouts)."""


@dataclass(frozen=True)
class Event:
    """One server-sent event: ``data`` as JSON when it is a dict, else as it is."""

    data: Any
    event: str | None = None
    delay: float = 0.0
    """Seconds to wait before sending it."""


@dataclass(frozen=True)
class Stream:
    """An HTTP 200 answer of server-sent events.

    With ``stall`` the server sends the events, then keeps the connection open and silent
    that many seconds (or until the server closes) before it closes it.
    """

    events: Sequence[Event]
    stall: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """A request as the server received it."""

    method: str
    path: str
    """With the query, e.g. '/v1beta/models/gemini-test:streamGenerateContent?alt=sse'."""
    headers: dict[str, str]
    """Names lower-cased."""
    body: Any
    """The JSON body parsed, or the text when it is not JSON."""


@dataclass(frozen=True)
class Call:
    """A tool call a canned answer asks for (Gemini may give no id)."""

    name: str
    args: dict[str, Any] | str
    """The arguments; a str is sent as the arguments' JSON text as it is (malformed, say)."""
    id: str | None = None

    @property
    def text(self) -> str:
        return self.args if isinstance(self.args, str) else json.dumps(self.args)


# -- the three dialects ------------------------------------------------------------------


class Dialect:
    """One provider's wire format: where it listens and what its bodies look like."""

    name = ""
    prefix = ""
    """The path the provider's base URL ends with ('/v1' for OpenAI)."""
    model = ""
    """The model name tests use with this dialect."""

    def text(
        self,
        text: str = "Hello!",
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        finish: str | None = None,
    ) -> Any:
        """The body of a text answer; ``finish`` in the provider's words (else its 'stop')."""
        raise NotImplementedError

    def tool_call(
        self,
        calls: Sequence[Call],
        *,
        text: str = "",
        input_tokens: int = 10,
        output_tokens: int = 5,
    ) -> Any:
        """The body of an answer that asks for tools."""
        raise NotImplementedError

    def text_stream(
        self,
        pieces: Sequence[str],
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        delay: float = 0.0,
    ) -> list[Event]:
        """The events of a streamed text answer, ``delay`` seconds before each."""
        raise NotImplementedError

    def tool_stream(
        self, calls: Sequence[Call], *, input_tokens: int = 10, output_tokens: int = 5
    ) -> list[Event]:
        """The events of a streamed answer that asks for tools (arguments in pieces)."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        """The provider's error body."""
        raise NotImplementedError

    def key_of(self, headers: Mapping[str, str]) -> str | None:
        """The API key a request carried (names lower-cased, as ``Recorded`` has them)."""
        bearer = headers.get("authorization", "")
        return bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None

    def wants_stream(self, path: str, body: Any) -> bool:
        """Whether a request asks for a stream."""
        return isinstance(body, dict) and body.get("stream") is True

    def error_reply(
        self, status: int, message: str = "failed", headers: Mapping[str, str] | None = None
    ) -> Reply:
        """An error answer in this dialect's shape."""
        return Reply(self.error(status, message), status, dict(headers or {}))

    def default(self, path: str, body: Any) -> Reply | Stream:
        """The answer when nothing is queued: 'Hello!', streamed if the request asks so."""
        if self.wants_stream(path, body):
            return Stream(self.text_stream(["Hel", "lo!"]))
        return Reply(self.text())


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [text[:middle], text[middle:]]


class _OpenAI(Dialect):
    name = "openai"
    prefix = "/v1"
    model = "gpt-test"

    def _completion(self, message: dict[str, Any], finish: str, usage: tuple[int, int]) -> Any:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": _openai_usage(*usage),
        }

    def text(
        self,
        text: str = "Hello!",
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        finish: str | None = None,
    ) -> Any:
        message = {"role": "assistant", "content": text}
        return self._completion(message, finish or "stop", (input_tokens, output_tokens))

    def tool_call(
        self,
        calls: Sequence[Call],
        *,
        text: str = "",
        input_tokens: int = 10,
        output_tokens: int = 5,
    ) -> Any:
        message = {
            "role": "assistant",
            "content": text or None,
            "tool_calls": [
                {
                    "id": c.id or f"call_{i}",
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.text},
                }
                for i, c in enumerate(calls)
            ],
        }
        return self._completion(message, "tool_calls", (input_tokens, output_tokens))

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _tail(self, finish: str, usage: tuple[int, int]) -> list[Event]:
        """The finish chunk, the usage chunk (include_usage) and [DONE]."""
        final = {**self._chunk({}), "choices": [], "usage": _openai_usage(*usage)}
        return [Event(self._chunk({}, finish)), Event(final), Event("[DONE]")]

    def text_stream(
        self,
        pieces: Sequence[str],
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        delay: float = 0.0,
    ) -> list[Event]:
        events = [Event(self._chunk({"role": "assistant", "content": ""}))]
        events += [Event(self._chunk({"content": p}), delay=delay) for p in pieces]
        return events + self._tail("stop", (input_tokens, output_tokens))

    def tool_stream(
        self, calls: Sequence[Call], *, input_tokens: int = 10, output_tokens: int = 5
    ) -> list[Event]:
        events = [Event(self._chunk({"role": "assistant", "content": None}))]
        for i, c in enumerate(calls):
            start = {
                "index": i,
                "id": c.id or f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": ""},
            }
            events.append(Event(self._chunk({"tool_calls": [start]})))
            for piece in _halves(c.text):
                more = {"index": i, "function": {"arguments": piece}}
                events.append(Event(self._chunk({"tool_calls": [more]})))
        return events + self._tail("tool_calls", (input_tokens, output_tokens))

    def error(self, status: int, message: str) -> Any:
        kind = "rate_limit_exceeded" if status == 429 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _openai_usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


class _Anthropic(Dialect):
    name = "anthropic"
    model = "claude-test"

    def _message(
        self, content: list[dict[str, Any]], stop: str | None, usage: tuple[int, int]
    ) -> dict[str, Any]:
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }

    def text(
        self,
        text: str = "Hello!",
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        finish: str | None = None,
    ) -> Any:
        content = [{"type": "text", "text": text}]
        return self._message(content, finish or "end_turn", (input_tokens, output_tokens))

    def tool_call(
        self,
        calls: Sequence[Call],
        *,
        text: str = "",
        input_tokens: int = 10,
        output_tokens: int = 5,
    ) -> Any:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        content += [
            {"type": "tool_use", "id": c.id or f"toolu_{i}", "name": c.name, "input": c.args}
            for i, c in enumerate(calls)
        ]
        return self._message(content, "tool_use", (input_tokens, output_tokens))

    def _start(self, input_tokens: int) -> Event:
        message = self._message([], None, (input_tokens, 1))
        return Event({"type": "message_start", "message": message}, "message_start")

    def _block(
        self, index: int, block: dict[str, Any], deltas: list[dict[str, Any]]
    ) -> list[Event]:
        start = {"type": "content_block_start", "index": index, "content_block": block}
        events = [Event(start, "content_block_start")]
        for delta in deltas:
            body = {"type": "content_block_delta", "index": index, "delta": delta}
            events.append(Event(body, "content_block_delta"))
        stop = {"type": "content_block_stop", "index": index}
        return [*events, Event(stop, "content_block_stop")]

    def _end(self, stop: str, output_tokens: int) -> list[Event]:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        }
        return [Event(delta, "message_delta"), Event({"type": "message_stop"}, "message_stop")]

    def text_stream(
        self,
        pieces: Sequence[str],
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        delay: float = 0.0,
    ) -> list[Event]:
        block = self._block(0, {"type": "text", "text": ""}, [])
        deltas = [
            Event(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": p},
                },
                "content_block_delta",
                delay,
            )
            for p in pieces
        ]
        events = [self._start(input_tokens), Event({"type": "ping"}, "ping"), block[0]]
        return [*events, *deltas, block[-1], *self._end("end_turn", output_tokens)]

    def tool_stream(
        self, calls: Sequence[Call], *, input_tokens: int = 10, output_tokens: int = 5
    ) -> list[Event]:
        events = [self._start(input_tokens)]
        for i, c in enumerate(calls):
            block = {"type": "tool_use", "id": c.id or f"toolu_{i}", "name": c.name, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece} for piece in _halves(c.text)
            ]
            events += self._block(i, block, deltas)
        return events + self._end("tool_use", output_tokens)

    def key_of(self, headers: Mapping[str, str]) -> str | None:
        # anthropic 2.x sends the key as a bearer token; the API also takes x-api-key
        return headers.get("x-api-key") or super().key_of(headers)

    def error(self, status: int, message: str) -> Any:
        kinds = {429: "rate_limit_error", 401: "authentication_error", 529: "overloaded_error"}
        kind = kinds.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


class _Gemini(Dialect):
    name = "gemini"
    model = "gemini-test"

    def _answer(
        self, parts: list[dict[str, Any]], finish: str | None, usage: tuple[int, int]
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": {
                "promptTokenCount": usage[0],
                "candidatesTokenCount": usage[1],
                "totalTokenCount": usage[0] + usage[1],
            },
            "modelVersion": self.model,
            "responseId": "resp-1",
        }

    def text(
        self,
        text: str = "Hello!",
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        finish: str | None = None,
    ) -> Any:
        return self._answer([{"text": text}], finish or "STOP", (input_tokens, output_tokens))

    def tool_call(
        self,
        calls: Sequence[Call],
        *,
        text: str = "",
        input_tokens: int = 10,
        output_tokens: int = 5,
    ) -> Any:
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        parts += [{"functionCall": _function_call(c)} for c in calls]
        return self._answer(parts, "STOP", (input_tokens, output_tokens))

    def text_stream(
        self,
        pieces: Sequence[str],
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        delay: float = 0.0,
    ) -> list[Event]:
        events = []
        for n, piece in enumerate(pieces, 1):
            finish = "STOP" if n == len(pieces) else None
            usage = (input_tokens, output_tokens * n // len(pieces))
            events.append(Event(self._answer([{"text": piece}], finish, usage), delay=delay))
        return events

    def tool_stream(
        self, calls: Sequence[Call], *, input_tokens: int = 10, output_tokens: int = 5
    ) -> list[Event]:
        parts = [{"functionCall": _function_call(c)} for c in calls]
        return [Event(self._answer(parts, "STOP", (input_tokens, output_tokens)))]

    def error(self, status: int, message: str) -> Any:
        statuses = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
        return {
            "error": {
                "code": status,
                "message": message,
                "status": statuses.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT"),
            }
        }

    def key_of(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-goog-api-key")

    def wants_stream(self, path: str, body: Any) -> bool:
        return ":streamGenerateContent" in path


def _function_call(call: Call) -> dict[str, Any]:
    body: dict[str, Any] = {"name": call.name, "args": call.args}
    if call.id is not None:
        body["id"] = call.id
    return body


OPENAI: Dialect = _OpenAI()
ANTHROPIC: Dialect = _Anthropic()
GEMINI: Dialect = _Gemini()
DIALECTS = (OPENAI, ANTHROPIC, GEMINI)


# -- the server --------------------------------------------------------------------------


class WireServer:
    """A local server speaking one dialect; use it as a context manager.

    ``queue`` the next answers; ``requests`` are what it received, in order.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._replies: deque[Reply | Stream] = deque()
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._http = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> WireServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Wake stalled streams, stop serving, and wait for every handler to finish."""
        self._closing.set()
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        """The base URL the dialect's provider is given."""
        return f"http://127.0.0.1:{self.port}{self.dialect.prefix}"

    def queue(self, *replies: Reply | Stream) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> Recorded:
        """The latest request (fails the test when there was none)."""
        requests = self.requests
        assert requests, "the server received no request"
        return requests[-1]

    def _take(self, request: Recorded) -> Reply | Stream:
        with self._lock:
            self._requests.append(request)
            if self._replies:
                return self._replies.popleft()
        return self.dialect.default(request.path, request.body)

    def _wait(self, seconds: float) -> None:
        """Sleep, but stop at once when the server closes."""
        if seconds > 0:
            self._closing.wait(seconds)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # so that server_close() waits for the handlers

    def __init__(self, wire: WireServer) -> None:
        self.wire = wire
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends at close
    timeout = 10  # no handler waits forever on a client that went quiet

    def do_POST(self) -> None:
        wire = self.server.wire
        reply = wire._take(self._record())
        try:
            if isinstance(reply, Stream):
                self._stream(reply, wire)
            else:
                self._reply(reply, wire)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Recorded(self.command, urlsplit(self.path).path + _query(self.path), headers, body)

    def _reply(self, reply: Reply, wire: WireServer) -> None:
        wire._wait(reply.delay)
        body = reply.body
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, stream: Stream, wire: WireServer) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        for name, value in stream.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        for event in stream.events:
            wire._wait(event.delay)
            if wire._closing.is_set():
                return
            self.wfile.write(_sse(event))
            self.wfile.flush()
        wire._wait(stream.stall)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def _query(path: str) -> str:
    query = urlsplit(path).query
    return f"?{query}" if query else ""


def _sse(event: Event) -> bytes:
    data = event.data if isinstance(event.data, str) else json.dumps(event.data)
    lines = [f"event: {event.event}"] if event.event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()

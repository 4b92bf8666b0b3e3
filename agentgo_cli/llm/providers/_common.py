"""What the three providers share: ProviderErrors with a kind and one clear line (never the
key), Retry-After, tool-call arguments, finish reasons and stop sequences.

Imported only by the provider modules, so only once a real client is made.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
import httpx2

from agentgo_cli.errors import ProviderError

if TYPE_CHECKING:
    from agentgo_cli.llm.providers import Endpoint

__all__ = [
    "SHAPE_ERRORS",
    "TRANSPORT_ERRORS",
    "Failures",
    "error_detail",
    "finish_reason",
    "parse_arguments",
    "placeholder_key",
    "retry_after",
    "stop_list",
]

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.RequestError, httpx2.RequestError)
"""Connection, timeout, protocol and decoding failures of both HTTP stacks the SDKs may use
(openai and anthropic use httpx2; google-genai picks httpx2 or httpx). Mid-stream, some SDKs
let these through unwrapped."""

_DECODE_ERRORS: tuple[type[Exception], ...] = (httpx.DecodingError, httpx2.DecodingError)

SHAPE_ERRORS: tuple[type[Exception], ...] = (AttributeError, TypeError, KeyError, IndexError)
"""What reading a body that lacks fields raises: openai and anthropic build their response
objects without validating them, so a missing field shows only when it is read."""

_TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx2.TimeoutException)

_FINISH_ALIASES = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "max_tokens": "length",
}
"""Anthropic's and Gemini's stop reasons (and OpenAI's legacy one) in OpenAI's words."""

_DETAIL_CHARS = 200


def placeholder_key(endpoint: Endpoint) -> str:
    """The key for the SDK: the endpoint's, else the provider's name.

    A local Ollama or LiteLLM proxy may need no key, and an explicit value keeps every SDK
    from looking for one in the environment or in its own config files.
    """
    return endpoint.api_key.reveal() if endpoint.api_key is not None else endpoint.provider


def finish_reason(reason: object, *, has_calls: bool) -> str:
    """'stop', 'tool_calls' or 'length', else the provider's own reason lower-cased.

    ``reason`` may be an enum (Gemini's FinishReason): its value is what counts.
    """
    reason = getattr(reason, "value", reason)
    value = str(reason).lower() if reason else "stop"
    value = _FINISH_ALIASES.get(value, value)
    if has_calls and value == "stop":
        return "tool_calls"  # Gemini says STOP when it asks for functions
    return value


def stop_list(value: object, failures: Failures) -> list[str]:
    """A ``stop`` parameter as the list Anthropic and Gemini expect (OpenAI takes both)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise failures.error("bad_request", "params: stop: expected a string or a list of strings")


class Failures:
    """Make the ProviderErrors of one provider and model.

    Every message is one line that starts with the model reference and never holds the
    key: text the server sent is cut to one short line and has the key masked out.
    """

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.provider = endpoint.provider
        self.model = model
        self.ref = f"{endpoint.provider}:{model}"
        self._timeout = endpoint.timeout
        self._base_url = endpoint.base_url
        self._secret = endpoint.api_key

    def error(
        self,
        kind: str,
        text: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> ProviderError:
        return ProviderError(
            f"{self.ref}: {self._mask(text)}",
            kind=kind,
            provider=self.provider,
            model=self.model,
            status=status,
            retry_after=retry_after,
        )

    def status(self, status: int, headers: Mapping[str, str] | None, body: object) -> ProviderError:
        """An HTTP error answer: the kind from the status, Retry-After, the server's message."""
        kind = _kind_for_status(status)
        wait = retry_after(headers) if headers is not None else None
        text = f"{_status_label(status)} (HTTP {status})"
        if wait is not None:
            text += f", retry after {wait:g}s"
        detail = error_detail(body)
        if detail:
            text += f": {detail}"
        return self.error(kind, text, status=status, retry_after=wait)

    def in_stream(self, kind: str, body: object) -> ProviderError:
        """An error event inside a stream that had begun with HTTP 200."""
        detail = error_detail(body)
        return self.error(kind, "error event in the stream" + (f": {detail}" if detail else ""))

    def timeout(self, *, mid_stream: bool) -> ProviderError:
        """A timeout; 'stalled' when a stream went quiet after it had begun."""
        if mid_stream:
            return self.error("stalled", f"stream stalled: no data for {self._timeout:g}s")
        return self.error("timeout", f"no answer within {self._timeout:g}s")

    def connection(self, exc: BaseException, *, mid_stream: bool) -> ProviderError:
        """A failed connection, with its innermost reason (e.g. 'Connection refused')."""
        reason = _root_reason(exc)
        where = f" to {self._base_url}" if self._base_url else ""
        what = "connection lost mid-stream" if mid_stream else f"cannot connect{where}"
        return self.error("connection", what + (f": {reason}" if reason else ""))

    def bad_response(self, why: str) -> ProviderError:
        return self.error("bad_response", f"bad response: {why}")

    def transport(self, exc: Exception, *, mid_stream: bool) -> ProviderError:
        """An httpx or httpx2 error that reached us unwrapped."""
        if isinstance(exc, _TIMEOUTS):
            return self.timeout(mid_stream=mid_stream)
        if isinstance(exc, _DECODE_ERRORS):
            return self.bad_response(f"the body does not decode ({_one_line(str(exc))})")
        return self.connection(exc, mid_stream=mid_stream)

    def _mask(self, text: str) -> str:
        # The only reveal besides the SDK client's: to keep a server's echo of it out.
        key = self._secret.reveal() if self._secret is not None else ""
        return text.replace(key, "***") if key else text


def error_detail(body: object) -> str | None:
    """The message of an error body ({"error": {"message": ...}} and its variants), cut to
    one short line; None for anything else (an HTML page says nothing useful)."""
    error = body.get("error", body) if isinstance(body, Mapping) else None
    if isinstance(error, list) and len(error) == 1:
        error = error[0]
    message = error.get("message") if isinstance(error, Mapping) else error
    if not isinstance(message, str) or not message.strip() or message.lstrip().startswith("<"):
        return None
    return _one_line(message)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``Retry-After`` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, round(when.timestamp() - time.time(), 3))


def parse_arguments(text: str | None, name: str, failures: Failures) -> dict[str, Any]:
    """A tool call's arguments from the JSON text OpenAI and Anthropic's stream send."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise failures.bad_response(
            f"the arguments of tool call '{name}' are not valid JSON: {_one_line(text, 60)}"
        ) from None
    if not isinstance(value, dict):
        raise failures.bad_response(
            f"the arguments of tool call '{name}' are not a JSON object: {_one_line(text, 60)}"
        )
    return value


def _kind_for_status(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status == 408:
        return "timeout"  # the server gave up waiting: worth another try
    if status >= 500:
        return "server"
    if status >= 400:
        return "bad_request"
    return "bad_response"


def _status_label(status: int) -> str:
    labels = {
        401: "authentication failed",
        403: "permission denied",
        408: "request timed out",
        429: "rate limited",
        529: "overloaded",
    }
    if status in labels:
        return labels[status]
    if status >= 500:
        return "server error"
    return "request rejected" if status >= 400 else "unexpected status"


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def _root_reason(exc: BaseException) -> str:
    """The message of the innermost cause that has one ('[Errno 111] Connection refused')."""
    reason = ""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(current).strip():
            reason = str(current)
        current = current.__cause__ or current.__context__
    return _one_line(reason)


def _one_line(text: str, limit: int = _DETAIL_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

"""What crosses HTTP between a ``RemoteBackend`` and ``agentgo serve`` besides the views:
errors, as a body that names the exception and keeps what the CLI shows of it.

An AgentGoError on the server becomes ``{"error": {...}}`` with the HTTP status of its exit
code; the client raises the same exception class again, so a command's message and exit
code are the same through a server as in process.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from agentgo_cli import errors as e
from agentgo_cli.backend.views import ManifestErrorView

__all__ = [
    "STATUS_BY_EXIT",
    "ErrorBody",
    "ErrorDetail",
    "dumps",
    "error_body",
    "error_from_body",
    "read_model",
    "status_of",
]

M = TypeVar("M", bound=BaseModel)


def dumps(data: Any) -> bytes:
    """Plain data as the JSON bytes that cross HTTP: UTF-8, except that a text holding a
    lone surrogate (which UTF-8 cannot encode; a tool or a model may give one) is written
    with JSON escapes (\\udXXX) instead, so that it reads back exactly."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        escaped = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return escaped.encode("ascii")


def read_model(model: type[M], content: bytes | str) -> M:
    """A view from JSON that ``dumps`` wrote. Raises ValueError for a body that is not one.
    (pydantic's own parser refuses a lone surrogate's escape, so that is read by json.)"""
    try:
        return model.model_validate_json(content)
    except ValueError:
        return model.model_validate(json.loads(content))


STATUS_BY_EXIT = {
    e.EXIT_FAILED: 422,
    e.EXIT_USAGE: 400,
    e.EXIT_NOT_FOUND: 404,
    e.EXIT_DENIED: 403,
    e.EXIT_INVALID_INPUT: 422,
    e.EXIT_QUOTA: 429,
    e.EXIT_CONFLICT: 409,
    e.EXIT_INVALID_OUTPUT: 502,
}
"""The HTTP status of an error, by its exit code."""

_CLASSES: dict[str, type[e.AgentGoError]] = {
    cls.__name__: cls
    for cls in (
        e.AgentGoError,
        e.UsageError,
        e.ConfigError,
        e.NotFoundError,
        e.StoreError,
        e.LeaseLost,
        e.ValueNotStorable,
        e.StepError,
        e.ProviderError,
        e.SandboxError,
    )
}


class ErrorDetail(BaseModel):
    """What an error body says: the exception's class, its message and exit code, and
    what that class carries (only the fields that apply are present)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: str
    """The exception's class name (``NotFoundError``, ``CallError``, ...)."""
    message: str
    """The one-line message the CLI prints."""
    exit_code: int
    """The exit code the CLI exits with for this error."""
    code: str | None = None
    """A refused call's code (``invalid_input``, ``rate_limited``, ...)."""
    retry_after: float | None = None
    """Seconds until a rate-limited call may be tried again."""
    kind: str | None = None
    """A provider error's kind (``timeout``, ``rate_limit``, ...)."""
    errors: list[ManifestErrorView] | None = None
    """The located errors of invalid manifests or config."""


class ErrorBody(BaseModel):
    """The JSON body of every error answer of ``agentgo serve``: ``{"error": {...}}``."""

    error: ErrorDetail


def status_of(exc: e.AgentGoError) -> int:
    """The HTTP status an error is answered with."""
    if isinstance(exc, e.ManifestSetError | e.ManifestError):
        return 422
    if isinstance(exc, e.StoreError | e.ProviderError | e.SandboxError):
        return 503 if isinstance(exc, e.ProviderError) else 500
    if isinstance(exc, e.CallError) and exc.code == "failed":
        return 502
    return STATUS_BY_EXIT.get(exc.exit_code, 422)


def error_body(exc: e.AgentGoError) -> dict[str, Any]:
    """The JSON body of an error: its class, message and exit code, and what that class
    carries (a call's code and retry time, a manifest set's located errors)."""
    body: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": str(exc),
        "exit_code": exc.exit_code,
    }
    if isinstance(exc, e.CallError):
        body["code"] = exc.code
        if exc.retry_after is not None:
            body["retry_after"] = exc.retry_after
    if isinstance(exc, e.ManifestSetError | e.InvalidConfigError):
        body["errors"] = [m.to_dict() for m in exc.errors]
    if isinstance(exc, e.ManifestError):
        body["errors"] = [exc.to_dict()]
    if isinstance(exc, e.ProviderError):
        body["kind"] = exc.kind
    return {"error": body}


def error_from_body(status: int, body: Any) -> e.AgentGoError:
    """The exception an error body stands for (a plain AgentGoError with the status, for a
    body that is not one of ours: a proxy's page, say)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return e.AgentGoError(f"the server answered HTTP {status}")
    kind, message = error.get("type"), error["message"]
    located = [e.ManifestError(**m) for m in error.get("errors") or [] if isinstance(m, dict)]
    exc: e.AgentGoError
    if kind == "CallError":
        exc = e.CallError(str(error.get("code") or "failed"), message)
        if isinstance(error.get("retry_after"), int | float):
            exc.retry_after = float(error["retry_after"])
    elif kind == "ManifestSetError" and located:
        exc = e.ManifestSetError(located)
    elif kind == "ManifestError" and located:
        exc = located[0]
    elif kind == "InvalidConfigError":
        exc = e.ConfigError(message)
    elif kind == "ProviderError":
        exc = e.ProviderError(message, kind=str(error.get("kind") or "error"))
    else:
        exc = _CLASSES.get(str(kind), e.AgentGoError)(message)
    code = error.get("exit_code")
    if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 126:
        exc.exit_code = code
    return exc

"""W3C trace context: the ``traceparent`` a call continues or starts.

``00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>``; ids of all zeros are
invalid. Every call gets a span of its own whose parent is the caller's span, so one trace
id runs through a whole chain of calls.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

__all__ = ["TraceContext", "parse_traceparent"]

_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    """One span of a trace: its trace id, its own span id, its parent's span id and flags."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    flags: str = "01"

    @classmethod
    def start(cls) -> TraceContext:
        """A new trace (sampled), with this as its root span."""
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    def child(self) -> TraceContext:
        """A new span of the same trace whose parent is this span."""
        return TraceContext(self.trace_id, secrets.token_hex(8), self.span_id, self.flags)

    @property
    def traceparent(self) -> str:
        """This span as a traceparent header: what a callee continues from."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def parse_traceparent(header: str) -> TraceContext:
    """The caller's span from a traceparent header; ValueError (with the reason) when it is
    not a valid version-00 header."""
    m = _TRACEPARENT_RE.match(header.strip().lower())
    if m is None:
        raise ValueError(
            "a traceparent is 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, "
            f"not '{header}'"
        )
    version, trace_id, span_id, flags = m.groups()
    if version == "ff":
        raise ValueError("traceparent version ff is invalid")
    if trace_id == "0" * 32 or span_id == "0" * 16:
        raise ValueError("a traceparent's trace id and parent id cannot be all zeros")
    return TraceContext(trace_id, span_id, None, flags)

"""The provider-neutral model interface: messages, tool definitions, usage and clients.

Providers translate these to and from their wire formats; the agent loop, the reliability
layer and cost accounting only ever see these types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ChatClient",
    "Client",
    "Message",
    "ModelResponse",
    "StreamEvent",
    "StreamingClient",
    "TextDelta",
    "ToolCall",
    "ToolDef",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class ToolDef:
    """A tool as the model sees it: name, what it does, and its input as a JSON Schema."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to call one tool; ``id`` pairs it with the tool message answering it."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation; ``role`` is system, user, assistant or tool.

    ``tool_calls`` is set on assistant messages that ask for tools; ``tool_call_id`` and
    ``name`` on the tool message that answers one call.
    """

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one model turn (or a sum of turns) consumed."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """One model turn: the assistant message, its usage, why it stopped, and which model."""

    message: Message
    usage: Usage
    finish_reason: str
    """'stop' for a final answer, 'tool_calls' when the message asks for tools, or the
    provider's own reason such as 'length'."""
    model: str
    """The model that answered (after failover, the fallback's reference 'provider:name')."""
    cost_usd: float = 0.0
    """What the turn cost, priced by the reliability layer (0.0 from a bare provider)."""


@runtime_checkable
class Client(Protocol):
    """A chat model that may answer with text or with tool calls."""

    def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> Awaitable[ModelResponse]:
        """Run one model turn on the conversation so far.

        Providers write ``async def complete(...)``; a client may also return any awaitable
        (the scripted one returns a future, one coroutine less per turn).
        """
        ...


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text, as a stream produces it."""

    text: str


StreamEvent = TextDelta | ModelResponse
"""What a stream yields: text deltas, then exactly one ModelResponse, the whole turn (its
message holds the full text and any tool calls, with the usage), as the last item."""


@runtime_checkable
class StreamingClient(Protocol):
    """A chat model that can also stream its answer.

    Implementations write ``async def stream(...)`` with ``yield``, which is what this
    signature describes.
    """

    def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta items as the answer is produced, then the whole ModelResponse."""
        ...


@runtime_checkable
class ChatClient(Client, StreamingClient, Protocol):
    """A client that completes and streams: what every real provider is."""

"""Language models: the provider-neutral Client protocol and the offline scripted provider."""

from agentgo_cli.llm.base import (
    Client,
    Message,
    ModelResponse,
    StreamingClient,
    ToolCall,
    ToolDef,
    Usage,
)
from agentgo_cli.llm.scripted import ScriptedClient

__all__ = [
    "Client",
    "Message",
    "ModelResponse",
    "ScriptedClient",
    "StreamingClient",
    "ToolCall",
    "ToolDef",
    "Usage",
]

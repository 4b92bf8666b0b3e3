"""Tools: the registry agents and tool steps call through, and the tool runtimes."""

from agentgo_cli.tools.registry import ToolContext, ToolRegistry

__all__ = ["ToolContext", "ToolRegistry"]

"""Tool: a typed function agents and workflow steps can call, and the runtime that runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests._text import did_you_mean, quote_list
from agentgo_cli.manifests.models._union import tagged_union
from agentgo_cli.manifests.models.common import JsonSchemaDoc, Manifest, Spec
from agentgo_cli.manifests.types import ENTRYPOINT_PATTERN, Duration, OneOf, Size

__all__ = [
    "BuiltinRuntime",
    "ContainerRuntime",
    "HttpRuntime",
    "PythonRuntime",
    "ToolManifest",
    "ToolSpec",
]


class Resources(Spec):
    """Container limits."""

    memory: Size | None = None
    cpus: PositiveFloat | None = None
    pids: PositiveInt | None = None


class ContainerRuntime(Spec):
    """Run the tool in a sandboxed container; stdout becomes the result."""

    type: Literal["container"]
    image: str = Field(min_length=1)
    command: list[str] = Field(default_factory=list)
    stdin: str | None = Field(default=None, description="Text fed to stdin; may use ${{ input }}.")
    output: Annotated[str, OneOf(("json", "text"), "output format")] = "text"
    network: Annotated[str, OneOf(("none",), "network mode")] = "none"
    env: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None
    resources: Resources | None = None


class PythonRuntime(Spec):
    """Call a Python function 'module:function' with the input as keyword arguments."""

    type: Literal["python"]
    entrypoint: Annotated[str, Field(pattern=ENTRYPOINT_PATTERN)] = Field(
        description="'module.path:function'"
    )
    timeout: Duration | None = None
    isolation: Annotated[str, OneOf(("none", "process"), "isolation")] = Field(
        default="none",
        description="none: call in the worker's process; process: in a child process of its "
        "own, so that a crash, an exit or a hang fails the call only.",
    )


class HttpRuntime(Spec):
    """Call an HTTP endpoint through a connector."""

    type: Literal["http"]
    method: Annotated[str, OneOf(("GET", "POST", "PUT", "PATCH", "DELETE"), "HTTP method")] = "POST"
    url: str = Field(min_length=1)
    connector: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None


class BuiltinRuntime(Spec):
    """One of AgentGo's built-in tools."""

    type: Literal["builtin"]
    name: str | None = Field(
        default=None,
        description="Built-in tool, e.g. http_get; defaults to metadata.name with '-' as '_'.",
    )

    @staticmethod
    def builtin_for(manifest_name: str) -> str:
        """The built-in a Tool named e.g. 'http-get' stands for when runtime.name is not set."""
        return manifest_name.replace("-", "_")


_RUNTIMES: dict[str, type] = {
    "container": ContainerRuntime,
    "python": PythonRuntime,
    "http": HttpRuntime,
    "builtin": BuiltinRuntime,
}


def _choose_runtime(value: dict[str, Any]) -> type:
    kind = value.get("type")
    if kind is None:
        raise PydanticCustomError(
            "runtime_type",
            "missing required field 'type' ({known})",
            {"known": quote_list(_RUNTIMES)},
        )
    if not isinstance(kind, str) or kind not in _RUNTIMES:
        raise PydanticCustomError(
            "enum",
            "unknown runtime type '{kind}'{hint}; expected {known}",
            {
                "kind": str(kind),
                "hint": did_you_mean(str(kind), _RUNTIMES),
                "known": quote_list(_RUNTIMES),
            },
        )
    return _RUNTIMES[kind]


if TYPE_CHECKING:
    Runtime = ContainerRuntime | PythonRuntime | HttpRuntime | BuiltinRuntime
else:
    Runtime = tagged_union(list(_RUNTIMES.values()), _choose_runtime)


class ToolSpec(Spec):
    """What a tool takes, returns and runs on."""

    description: str = ""
    input: JsonSchemaDoc = Field(default_factory=lambda: {"type": "object"})
    output: JsonSchemaDoc | None = None
    runtime: Runtime
    scopes: list[str] = Field(default_factory=list, description="Scopes needed from a connector.")


class ToolManifest(Manifest):
    """A Tool manifest."""

    kind: Literal["Tool"]
    spec: ToolSpec

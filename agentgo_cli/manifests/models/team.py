"""Team: agents that coordinate through a protocol and a shared blackboard."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests.models.common import Manifest, Spec
from agentgo_cli.manifests.types import Duration, Name, OneOf

__all__ = ["FEATURE_PROTOCOLS", "PROTOCOLS", "Role", "TeamManifest", "TeamSpec"]

PROTOCOLS = ("pipeline", "planner-workers", "contract-net", "swarm")
FEATURE_PROTOCOLS = ("contract-net", "swarm")
BLACKBOARD_SCOPES = ("instance", "session", "team", "workflow")
"""Protocols that run only where the profile's ``features`` enables them."""


class Role(Spec):
    """A part an agent plays in a team."""

    name: Name
    agent: Name
    replicas: PositiveInt = Field(default=1, description="Concurrent workers of this role.")
    fallback_agents: list[Name] = Field(default_factory=list)
    on_failure: Annotated[str, OneOf(("skip", "replace", "abort"), "on_failure action")] = "abort"


class Limits(Spec):
    """Limits for one team run."""

    cost_usd: NonNegativeFloat | None = None
    wallclock: Duration | None = None
    max_rounds: PositiveInt | None = None


class Blackboard(Spec):
    """Where the team's shared blackboard lives."""

    scope: Annotated[
        str, OneOf(("instance", "session", "team", "workflow"), "blackboard scope")
    ] = Field(
        default="team",
        description="team: this run of the team only; workflow: the job; session: the "
        "principal the work is for, across jobs; instance: every run of this team.",
    )


class TeamSpec(Spec):
    """The protocol, the roles and the limits."""

    protocol: Annotated[str, OneOf(PROTOCOLS, "team protocol")]
    roles: list[Role] = Field(min_length=1)
    limits: Limits | None = None
    blackboard: Blackboard | None = None

    @model_validator(mode="after")
    def _roles(self) -> TeamSpec:
        seen: set[str] = set()
        for role in self.roles:
            if role.name in seen:
                raise PydanticCustomError(
                    "duplicate_role", "duplicate role '{name}'", {"name": role.name}
                )
            seen.add(role.name)
        if self.protocol == "planner-workers" and "planner" not in seen:
            raise PydanticCustomError(
                "planner_role", "protocol 'planner-workers' needs a role named 'planner'"
            )
        return self


class TeamManifest(Manifest):
    """A Team manifest."""

    kind: Literal["Team"]
    spec: TeamSpec

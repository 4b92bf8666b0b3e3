"""A team's roles against its protocol: what a role asks for that the protocol would never
do (replicas it does not run, fallback agents it never tries), and teams that cannot work
(planner-workers with no worker role, a swarm of one role, a max_rounds no run can finish
in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.manifests.loader import PathKey
    from agentgo_cli.manifests.models import TeamManifest

__all__ = ["team_errors"]


def team_errors(m: TeamManifest) -> list[tuple[PathKey, str, str]]:
    """The team's errors against its protocol: (path in the manifest, message, code)."""
    protocol, roles = m.spec.protocol, m.spec.roles
    once = ("planner", "synthesizer") if protocol == "planner-workers" else ()
    errors: list[tuple[PathKey, str, str]] = []
    if protocol == "planner-workers" and all(r.name in once for r in roles):
        errors.append(
            (
                ("spec", "roles"),
                "protocol 'planner-workers' needs a worker role (a role besides the planner "
                "and the synthesizer) to do the planner's tasks",
                "team-roles",
            )
        )
    if protocol == "swarm" and len(roles) == 1:
        errors.append(
            (
                ("spec", "roles"),
                "a swarm needs two roles or more: its one role would have no one to hand off to",
                "team-roles",
            )
        )
    for i, role in enumerate(roles):
        if role.replicas > 1 and (protocol != "planner-workers" or role.name in once):
            who = f"the {role.name} plays" if once else f"protocol '{protocol}' plays each role"
            errors.append(
                (
                    ("spec", "roles", i, "replicas"),
                    f"{who} once; only the worker roles of planner-workers run replicas",
                    "team-replicas",
                )
            )
        if role.fallback_agents and role.on_failure != "replace":
            errors.append(
                (
                    ("spec", "roles", i, "fallback_agents"),
                    "fallback agents are tried only with 'on_failure: replace' (this role's "
                    f"on_failure is '{role.on_failure}')",
                    "team-fallbacks",
                )
            )
    least = _least_rounds(m)
    rounds = m.spec.limits.max_rounds if m.spec.limits is not None else None
    if least is not None and rounds is not None and rounds < least[0]:
        errors.append(
            (
                ("spec", "limits", "max_rounds"),
                f"protocol '{protocol}' plays at least {least[0]} role turns ({least[1]}): "
                f"max_rounds {rounds} stops every run before it ends",
                "team-rounds",
            )
        )
    return errors


def _least_rounds(m: TeamManifest) -> tuple[int, str] | None:
    """The fewest role turns any run of the team plays, and why; None: one may do."""
    roles = len(m.spec.roles)
    if m.spec.protocol == "pipeline":
        return roles, "one per role"
    if m.spec.protocol == "contract-net":
        return roles + 1, "a bid per role and an award"
    if m.spec.protocol == "planner-workers":
        return 2, "the plan and the merge"
    return None

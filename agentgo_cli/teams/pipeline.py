"""pipeline: the roles in order, each given the previous role's output.

Turn keys: ``<team key>.<role id>``. A role that fails with ``on_failure: skip`` passes the
output it was given on to the next role.
"""

from __future__ import annotations

from typing import Any

from agentgo_cli.teams.coordinator import TeamRun, Turn, role_id

__all__ = ["run"]


async def run(team: TeamRun, task: Any) -> Any:
    """The last role's output (or the last output a role gave, when later roles skipped)."""
    value = task
    for role in team.team.spec.roles:
        stage = role_id(role.name)
        result = await team.turn(Turn(f".{stage}", stage, role, value))
        if result.ok:
            value = result.output
    return value

"""Who is working in a team right now: the context the team built-in tools read.

The coordinator sets ``TEAM`` around each role turn (one agent invocation); the built-in
tools (``teams/tools.py``) find the team's blackboard, its todo list, the claim owner and
the roles a swarm agent may hand off to there. Outside a team, ``TEAM`` is None and the
tools use the job's own blackboard and todo list (``job_context``).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["TEAM", "BoardScope", "Handoff", "TeamContext", "board_id", "job_context"]

BoardScope = str
"""``instance`` | ``session`` | ``team`` | ``workflow`` (the Team manifest's blackboard.scope)."""


@dataclass
class Handoff:
    """Where a swarm turn's ``handoff`` tool leaves its decision for the coordinator."""

    to: str | None = None
    message: str = ""


@dataclass(frozen=True)
class TeamContext:
    """One role turn of one team run."""

    team: str
    """The team's name ('' outside a team)."""
    role: str
    """The role the running agent plays ('' outside a team)."""
    board: str
    """The blackboard's id (see ``board_id``)."""
    todos: str
    """The todo list's id: the team run's (``<job id>:<team step key>``)."""
    worker: str
    """The claim owner of this turn's agent (unique per turn)."""
    principal: str
    """Who the work is done for (recorded as a blackboard entry's writer)."""
    roles: tuple[str, ...] = ()
    """The team's role names: the targets ``handoff`` accepts."""
    handoff: Handoff | None = field(default=None, compare=False)
    """Set for swarm turns: where ``handoff`` records the decision; None: no handoff here."""


TEAM: ContextVar[TeamContext | None] = ContextVar("agentgo_team_context", default=None)
"""The team context of the role turn running now, if any."""


def board_id(
    scope: BoardScope, *, team: str, run_id: str, job_id: str | None, principal: str
) -> str:
    """The id of the blackboard a team run uses.

    - ``team``: this run of the team only (``team:<run id>``; the run id is
      ``<job id>:<step key>`` for a team step, the call's span for a call);
    - ``workflow``: the job (``job:<job id>``): every team of the job, and agents outside
      teams, share it (a call with no job: the run's own);
    - ``session``: the principal the work is done for (``session:<principal>``), across jobs;
    - ``instance``: every run of this team, for as long as the store lives
      (``instance:<team>``).
    """
    if scope == "team" or (scope == "workflow" and job_id is None):
        return f"team:{run_id}"
    if scope == "workflow":
        return f"job:{job_id}"
    if scope == "session":
        return f"session:{principal}"
    return f"instance:{team}"


def job_context(job_id: str, step_key: str, principal: str, owner: str) -> TeamContext:
    """The context of an agent outside any team: the job's blackboard and todo list."""
    return TeamContext(
        team="",
        role="",
        board=f"job:{job_id}",
        todos=f"job:{job_id}",
        worker=f"{owner}/{job_id}/{step_key}",
        principal=principal,
    )

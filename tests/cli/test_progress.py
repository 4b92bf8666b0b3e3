"""The live progress tree: each step under the container it runs in."""

from __future__ import annotations

from rich.console import Console

from agentgo_cli.backend.views import EventView, HandoffView, RoleTurnView, StepView, TeamRunView
from agentgo_cli.cli._progress import StepProgress


def _event(key: str, kind: str, status: str = "succeeded") -> EventView:
    step = StepView(
        key=key, step_id=key, kind=kind, status=status, attempt=1, started_at=1.0, finished_at=2.0
    )
    return EventView(job_id="j", time=2.0, kind="step", message="", step=step)


def test_steps_nest_under_their_foreach_loop_and_parallel() -> None:
    progress = StepProgress()
    for key, kind in [
        ("research", "foreach"),
        ("research[0].summarize", "agent"),
        ("polish", "loop"),
        ("polish#1.review", "agent"),
        ("checks", "parallel"),
        ("checks.count", "tool"),
        ("researcher", "agent"),  # a sibling whose name only starts like another's
    ]:
        progress.update(_event(key, kind))
    console = Console(record=True, width=80, color_system=None)
    console.print(progress._render())
    lines = [line.rstrip() for line in console.export_text().splitlines()[1:]]
    assert lines == [
        "├── ✓ research (foreach) succeeded 1.00s",
        "│   └── ✓ research[0].summarize (agent) succeeded 1.00s",
        "├── ✓ polish (loop) succeeded 1.00s",
        "│   └── ✓ polish#1.review (agent) succeeded 1.00s",
        "├── ✓ checks (parallel) succeeded 1.00s",
        "│   └── ✓ checks.count (tool) succeeded 1.00s",
        "└── ✓ researcher (agent) succeeded 1.00s",
    ]


def test_a_teams_turns_nest_under_it_and_say_their_role_agent_and_round() -> None:
    progress = StepProgress()
    team = TeamRunView(protocol="swarm", rounds=2, answered_by="billing", handoffs=1)
    handoff = HandoffView(to="billing", message="a refund")
    for key, noted in [
        ("desk", {"team": team}),
        (
            "desk#1.triage",
            {"turn": RoleTurnView(role="triage", agent="t", round=1, handoff=handoff)},
        ),
        ("desk#2.billing", {"turn": RoleTurnView(role="billing", agent="b", round=2)}),
    ]:
        event = _event(key, "team" if key == "desk" else "role")
        assert event.step is not None
        progress.update(event.model_copy(update={"step": event.step.model_copy(update=noted)}))
    console = Console(record=True, width=100, color_system=None)
    console.print(progress._render())
    lines = [line.rstrip() for line in console.export_text().splitlines()[1:]]
    assert lines == [
        "└── ✓ desk (team swarm, 2 rounds, answered by billing) succeeded 1.00s",
        "    ├── ✓ desk#1.triage (role triage: t, round 1, handoff to billing) succeeded 1.00s",
        "    └── ✓ desk#2.billing (role billing: b, round 2) succeeded 1.00s",
    ]

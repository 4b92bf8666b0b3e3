"""The live progress tree: each step under the container it runs in."""

from __future__ import annotations

from rich.console import Console

from agentgo_cli.backend.views import EventView, StepView
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

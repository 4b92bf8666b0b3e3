"""The live progress tree shows a running agent step's streamed reply under it (its last
lines), and drops it when the step ends; plain (non-terminal) progress ignores the pieces."""

from __future__ import annotations

import pytest
from rich.console import Console

from agentgo_cli.backend.views import EventView, StepView
from agentgo_cli.cli._progress import StepProgress


def _step(key: str, status: str) -> EventView:
    step = StepView(
        key=key,
        step_id=key.rsplit(".", 1)[-1],
        kind="agent",
        status=status,
        attempt=1,
        started_at=1.0,
        finished_at=None if status == "running" else 2.0,
    )
    return EventView(job_id="j", time=2.0, kind="step", message="", step=step)


def _delta(key: str, text: str) -> EventView:
    return EventView(job_id="j", time=2.0, kind="delta", message=text, data={"key": key})


def _shown(progress: StepProgress) -> list[str]:
    console = Console(record=True, width=60, color_system=None)
    console.print(progress._render())
    return [line.rstrip() for line in console.export_text().splitlines()[1:]]


def test_the_running_steps_reply_grows_under_it_then_collapses() -> None:
    progress = StepProgress(live=True, width=60)
    progress.update(_step("each", "running"))
    progress.update(_step("each[0].tell", "running"))
    for piece in ["Line one.\n", "Line two.\nLine ", "three.\n", "Line four is ", "growing"]:
        progress.update(_delta("each[0].tell", piece))
    assert _shown(progress) == [
        "└── … each (agent) running",
        "    └── … each[0].tell (agent) running",
        "        └── Line two.",
        "            Line three.",
        "            Line four is growing",
    ]
    progress.update(_delta("each[0].tell", " and" + " word" * 12))
    assert _shown(progress)[-3:] == [
        "        └── Line three.",
        "            Line four is growing and word word word word",
        "            word word word word word word word word",
    ]
    progress.update(_step("each[0].tell", "succeeded"))
    assert _shown(progress) == [
        "└── … each (agent) running",
        "    └── ✓ each[0].tell (agent) succeeded 1.00s",
    ]
    assert progress.replies == {}


def test_a_retried_step_starts_its_reply_afresh_and_escape_codes_are_dropped() -> None:
    progress = StepProgress(live=True, width=60)
    progress.update(_step("ask", "running"))
    progress.update(_delta("ask", "first try"))
    progress.update(_step("ask", "running"))  # attempt 2 started
    progress.update(_delta("ask", "\x1b[2Jsecond\x07 try\r"))
    # The escape character is dropped: what is left is plain text, not a terminal command.
    assert _shown(progress) == ["└── … ask (agent) running", "    └── [2Jsecond try"]


def test_plain_progress_ignores_the_pieces(capsys: pytest.CaptureFixture[str]) -> None:
    progress = StepProgress(live=False)
    with progress:
        progress.update(_step("ask", "running"))
        progress.update(_delta("ask", "a streamed reply"))
        progress.update(_step("ask", "succeeded"))
    assert progress.replies == {}
    assert capsys.readouterr().err == "✓ ask (agent) succeeded 1.00s\n"

"""The installed `agentgo call` of a team's intent, one process per call: the team's answer,
its cost in the call record, a denied caller that no role ever saw (a file the first role's
tool appends to stays absent), and a quota kept between processes in the store."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.a2a.test_lifecycle import CONFIG, TURN_TOKENS, TURN_USD
from tests.a2a.test_team_targets import DESK_TURNS, desk_team
from tests.e2e.test_crash_recovery import AGENTGO, MARK_TOOL, _run

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

TEAM = MARK_TOOL + "---" + desk_team("mark")


def call(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``agentgo call desk.story ARGS`` in cwd, its marks in cwd/marks.txt."""
    return _run(cwd, "call", "desk.story", *args)


def test_agentgo_call_runs_a_team_as_its_caller_allows(write: Write, workdir: Path) -> None:
    write("agentgo.yaml", CONFIG)
    write("m/team.yaml", TEAM)
    marks = workdir / "marks.txt"

    denied = call(workdir, "-i", "topic=cats", "--as", "user:mallory")
    assert (denied.returncode, denied.stdout) == (4, "")
    assert denied.stderr.startswith("error: desk.story@1.0.0: user:mallory may not call it: ")
    assert not marks.exists()  # no role ran

    done = call(workdir, "-i", "topic=cats", "--as", "user:alice", "-o", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["output"] == {"summary": "checked draft"}
    assert (record["target"], record["chain"]) == ("team:desk", ["user:alice", "team:desk"])
    assert record["tokens"] == DESK_TURNS * TURN_TOKENS
    assert record["cost_usd"] == pytest.approx(DESK_TURNS * TURN_USD)
    assert [line.split("\t")[1] for line in marks.read_text().splitlines()] == ["Write about cats"]

    again = call(workdir, "-i", "topic=dogs", "--as", "user:alice")
    assert (again.returncode, again.stdout) == (6, "")
    assert "rate limit of 1 calls per 1h for user:alice reached" in again.stderr
    assert len(marks.read_text().splitlines()) == 1

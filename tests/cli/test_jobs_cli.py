"""agentgo jobs list | show | logs | cancel as the user runs them."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

runner = CliRunner()

NESTED = """
steps:
  - id: draft
    agent: writer
    prompt: "x"
  - id: research
    foreach: [a, b]
    steps:
      - id: note
        tool: echo
        with: {text: "${{ item }}"}
  - id: shaky
    tool: flaky
    with: {label: "s"}
    retry: {max_attempts: 3, backoff: fixed, initial: 10ms}
  - id: skipped
    if: ${{ false }}
    tool: echo
    with: {text: "never"}
outputs:
  draft: ${{ steps.draft.output }}
  notes: ${{ steps.research.output | length }}
"""

BROKEN = "steps: [{id: ok, tool: echo, with: {text: hi}}, {id: bad, tool: boom, with: {reason: x}}]"

WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
ID = r"j-\w+"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run(name: str, *args: str) -> str:
    _, out, _ = invoke("run", name, "-q", "--output", "json", *args)
    job_id: str = json.loads(out)["job_id"]
    return job_id


def show(job_id: str) -> dict[str, Any]:
    code, out, err = invoke("jobs", "show", job_id, "--output", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, NESTED, name="nested")
    workflow(write, BROKEN, name="broken")
    return write


# -- list ------------------------------------------------------------------------------------


def test_list_without_jobs(project: Write) -> None:
    assert invoke("jobs", "list") == (0, "no jobs\n", "")
    assert invoke("jobs", "list", "--output", "json") == (0, "[]\n", "")


def test_list_text_newest_first_with_status_filter(project: Write) -> None:
    first = run("nested")
    second = run("broken")
    code, out, _ = invoke("jobs", "list")
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0]
        == "JOB              WORKFLOW                 STATUS     CREATED              SECONDS"
    )
    assert re.fullmatch(rf"{second}\s+broken\s+failed\s+{WHEN}\s+\d+\.\d\d", lines[1])
    assert re.fullmatch(rf"{first}\s+nested\s+succeeded\s+{WHEN}\s+\d+\.\d\d", lines[2])
    assert len(lines) == 3

    code, out, _ = invoke("jobs", "list", "--status", "succeeded")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [first]
    assert invoke("jobs", "list", "--status", "queued") == (0, "no jobs\n", "")
    code, out, _ = invoke("jobs", "list", "--limit", "1", "--output", "json")
    assert [j["job_id"] for j in json.loads(out)] == [second]


def test_list_json_fields(project: Write) -> None:
    job_id = run("nested")
    code, out, _ = invoke("jobs", "list", "--output", "json")
    assert code == 0
    (job,) = json.loads(out)
    assert list(job) == [
        "job_id",
        "workflow",
        "status",
        "created_at",
        "updated_at",
        "duration_s",
        "inputs",
        "outputs",
        "error",
        "tokens",
        "cost_usd",
        "principal",
        "scopes",
    ]
    assert (job["job_id"], job["workflow"], job["status"], job["error"]) == (
        job_id,
        "nested",
        "succeeded",
        None,
    )
    assert job["outputs"] == {"draft": "draft about x", "notes": 2}
    assert (job["inputs"], job["tokens"]) == ({}, 15)
    assert job["created_at"] <= job["updated_at"]


def test_list_rejects_an_unknown_status(project: Write) -> None:
    run("nested")
    code, out, err = invoke("jobs", "list", "--status", "suceeded")
    assert (code, out) == (2, "")
    assert "succeeded" in err


# -- show ------------------------------------------------------------------------------------


def test_show_text_prints_the_step_tree_with_timings(project: Write) -> None:
    job_id = run("nested")
    code, out, _ = invoke("jobs", "show", job_id)
    assert code == 0
    lines = out.splitlines()
    took = r"\d+\.\d{3}s"
    expected = [
        rf"job {job_id}  workflow nested  succeeded",
        rf"created {WHEN}  updated {WHEN}",
        r"runs for user:\S+",
        r"tokens 15  cost \$0\.0000",
        rf"draft \(agent\) succeeded {took} 15 tokens",
        rf"research \(foreach\) succeeded {took}",
        rf"  research\[0\]\.note \(tool\) succeeded {took}",
        rf"  research\[1\]\.note \(tool\) succeeded {took}",
        rf"shaky \(tool\) succeeded {took} attempt 3",
        rf"skipped \(tool\) skipped {took}",
        r"outputs:",
        r'  draft: "draft about x"',
        r"  notes: 2",
    ]
    assert len(lines) == len(expected), out
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_show_text_of_a_failed_job(project: Write) -> None:
    job_id = run("broken")
    code, out, _ = invoke("jobs", "show", job_id)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"job {job_id}  workflow broken  failed"
    assert re.fullmatch(r"runs for user:\S+", lines[2])
    assert lines[4] == "error: step 'bad' failed: tool 'boom' raised ValueError: x"
    assert re.fullmatch(r"ok \(tool\) succeeded \d+\.\d{3}s", lines[5])
    assert re.fullmatch(
        r"bad \(tool\) failed \d+\.\d{3}s: tool 'boom' raised ValueError: x", lines[6]
    )
    assert len(lines) == 7


def test_show_json_has_the_job_and_its_steps(project: Write) -> None:
    job_id = run("nested")
    data = show(job_id)
    assert (data["job_id"], data["status"], data["tokens"]) == (job_id, "succeeded", 15)
    steps = data["steps"]
    assert [s["key"] for s in steps] == [
        "draft",
        "research",
        "research[0].note",
        "research[1].note",
        "shaky",
        "skipped",
    ]
    assert list(steps[0]) == [
        "key",
        "step_id",
        "kind",
        "status",
        "attempt",
        "started_at",
        "finished_at",
        "output",
        "error",
        "tokens",
        "cost_usd",
        "exhausted",
        "errors",
        "turn",
        "team",
    ]
    assert data["models"] is None  # no real model was called
    note = steps[3]
    assert {k: note[k] for k in ("step_id", "kind", "status", "attempt", "output", "error")} == {
        "step_id": "note",
        "kind": "tool",
        "status": "succeeded",
        "attempt": 1,
        "output": {"text": "b", "words": 1},
        "error": None,
    }
    assert (steps[4]["attempt"], steps[4]["output"]["attempt"]) == (3, 3)
    assert (steps[5]["status"], steps[5]["output"]) == ("skipped", None)
    for step in steps:
        assert data["created_at"] <= step["started_at"] <= step["finished_at"]


@pytest.mark.parametrize("command", ["show", "logs", "cancel"])
def test_unknown_job_is_not_found(project: Write, command: str) -> None:
    assert invoke("jobs", command, "nope") == (3, "", "error: no job 'nope'\n")


@pytest.mark.parametrize("command", ["list", "show", "logs"])
def test_unknown_output_format_is_a_usage_error(project: Write, command: str) -> None:
    args = ["jobs", command] + (["x"] if command != "list" else []) + ["--output", "yaml"]
    assert invoke(*args) == (2, "", "error: --output takes text or json, got 'yaml'\n")


# -- logs ------------------------------------------------------------------------------------


def test_logs_text_and_json(project: Write) -> None:
    job_id = run("nested")
    code, out, _ = invoke("jobs", "logs", job_id)
    assert code == 0
    lines = out.splitlines()
    retries = [line for line in lines if " retry " in line]
    assert len(retries) == 2
    for n, line in enumerate(retries, start=1):
        assert re.fullmatch(rf"{WHEN} retry      shaky: attempt {n} failed: .*", line), line
        assert line.endswith(f": tool 'flaky' raised RuntimeError: flaky s attempt {n}")

    code, out, _ = invoke("jobs", "logs", job_id, "--output", "json")
    assert code == 0
    rows = json.loads(out)
    keys = ["seq", "time", "kind", "message", "data", "job_id", "step"]
    assert all(list(row) == keys and row["job_id"] == job_id for row in rows)
    assert [row["seq"] for row in rows] == sorted(row["seq"] for row in rows)
    assert [row["message"] for row in rows if row["kind"] == "retry"] == [
        "shaky: attempt 1 failed: tool 'flaky' raised RuntimeError: flaky s attempt 1",
        "shaky: attempt 2 failed: tool 'flaky' raised RuntimeError: flaky s attempt 2",
    ]
    assert len(rows) == len(lines)


# -- cancel ----------------------------------------------------------------------------------


def test_cancel_of_a_queued_job_is_immediate(project: Write) -> None:
    job_id = run("nested", "--detach")
    assert invoke("jobs", "cancel", job_id) == (0, f"job {job_id}: cancelled\n", "")
    data = show(job_id)
    assert (data["status"], data["steps"]) == ("cancelled", [])
    # A worker finds nothing to do.
    assert invoke("worker", "--once") == (0, "", "worker ran 0 jobs\n")
    assert show(job_id)["status"] == "cancelled"


def test_cancel_of_a_finished_job_is_a_usage_error(project: Write) -> None:
    job_id = run("nested")
    assert invoke("jobs", "cancel", job_id) == (
        2,
        "",
        f"error: job {job_id} already succeeded\n",
    )
    queued = run("nested", "--detach")
    invoke("jobs", "cancel", queued)
    assert invoke("jobs", "cancel", queued) == (
        2,
        "",
        f"error: job {queued} already cancelled\n",
    )


@pytest.mark.parametrize("how", ["worker", "resume"])
def test_cancel_ends_an_abandoned_job_at_once_and_nothing_runs_it_later(
    project: Write, how: str
) -> None:
    job_id = seed_job(
        "nested",
        {},
        status="running",
        lease_owner=f"{socket.gethostname()}:999999:dead",
        lease_seconds=-5,
    )
    assert invoke("jobs", "cancel", job_id) == (0, f"job {job_id}: cancelled\n", "")
    if how == "worker":
        invoke("worker", "--once", "--poll", "0.05")
    else:
        invoke("resume", job_id, "-q")
    data = show(job_id)
    assert (data["status"], data["error"]) == (
        "cancelled",
        "cancelled on request (no live process was running it)",
    )
    assert data["steps"] == []


def test_watch_json_of_an_ended_job_is_each_step_as_it_ended(project: Write) -> None:
    """A job that has ended is watched from its records, wherever it ran: through a server
    that ran it too, not from that server's live feed (with each step's start)."""
    job_id = run("broken")
    code, out, err = invoke("jobs", "watch", job_id, "-o", "json")
    assert (code, err) == (1, "")
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["kind"], e["message"]) for e in events] == [
        ("step", "ok (tool) succeeded"),
        ("step", "bad failed: tool 'boom' raised ValueError: x"),  # its log line
        ("step", "bad (tool) failed"),
        ("job", "failed: step 'bad' failed: tool 'boom' raised ValueError: x"),
        ("end", "failed: step 'bad' failed: tool 'boom' raised ValueError: x"),
    ]

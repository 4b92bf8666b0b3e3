"""agentgo run and agentgo resume as the user runs them: outputs, status line, json, exit codes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

runner = CliRunner()

DIGEST = """
inputs:
  topic: {type: string}
  tags: {type: array, default: [a, b]}
steps:
  - id: draft
    agent: writer
    prompt: "topic ${{ inputs.topic }}"
  - id: count
    tool: echo
    with: {text: "${{ steps.draft.output }}"}
outputs:
  draft: ${{ steps.draft.output }}
  words: ${{ steps.count.output.words }}
  tags: ${{ inputs.tags }}
"""

DRAFT = "draft about topic chips"
OUTPUTS = {"draft": DRAFT, "words": 4, "tags": ["a", "b"]}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


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
    workflow(write, DIGEST)
    return write


STATUS_LINE = re.compile(r"job (j-\w+) succeeded in \d+\.\d\ds, 15 tokens")


def test_run_prints_outputs_on_stdout_and_status_on_stderr(project: Write) -> None:
    code, out, err = invoke("run", "wf", "-i", "topic=chips", "--quiet")
    assert code == 0
    assert out == f'draft: {DRAFT}\nwords: 4\ntags: ["a", "b"]\n'
    assert STATUS_LINE.fullmatch(err.rstrip("\n")), err


def test_run_shows_one_progress_line_per_finished_step(project: Write) -> None:
    code, _, err = invoke("run", "wf", "-i", "topic=chips")
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"✓ draft \(agent\) succeeded \d+\.\d\ds 15 tokens", lines[0])
    assert re.fullmatch(r"✓ count \(tool\) succeeded \d+\.\d\ds", lines[1])
    assert STATUS_LINE.fullmatch(lines[2])


def test_run_output_json(project: Write) -> None:
    code, out, err = invoke("run", "wf", "-i", "topic=chips", "--output", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == [
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
    assert re.fullmatch(r"j-\w+", data["job_id"])
    assert data["created_at"] <= data["updated_at"]
    times = ("job_id", "created_at", "updated_at", "duration_s")
    assert re.fullmatch(r"user:\S+", data.pop("principal"))
    assert {k: v for k, v in data.items() if k not in times} == {
        "workflow": "wf",
        "status": "succeeded",
        "inputs": {"topic": "chips", "tags": ["a", "b"]},
        "outputs": OUTPUTS,
        "error": None,
        "tokens": 15,
        "cost_usd": 0.0,
        "scopes": [],
    }
    assert 0 <= data["duration_s"] < 5
    stored = show(data["job_id"])
    assert (stored["status"], stored["outputs"], stored["tokens"]) == ("succeeded", OUTPUTS, 15)
    assert [(s["key"], s["status"]) for s in stored["steps"]] == [
        ("draft", "succeeded"),
        ("count", "succeeded"),
    ]


def test_run_a_workflow_file(project: Write) -> None:
    project("flows/other.yaml", _workflow_doc("other"))
    code, out, err = invoke("run", "flows/other.yaml", "-q")
    assert (code, out) == (0, "said: hello\n"), err


def test_run_a_file_with_two_workflows_is_a_usage_error(project: Write) -> None:
    project("two.yaml", _workflow_doc("one") + "---\n" + _workflow_doc("two"))
    assert invoke("run", "two.yaml") == (
        2,
        "",
        "error: two.yaml must define exactly one Workflow (found: one, two)\n",
    )


def test_run_rejects_an_unknown_output_format(project: Write) -> None:
    assert invoke("run", "wf", "-i", "topic=x", "--output", "yaml") == (
        2,
        "",
        "error: --output takes text or json, got 'yaml'\n",
    )


def test_detach_only_enqueues(project: Write) -> None:
    code, out, err = invoke("run", "wf", "-i", "topic=chips", "--detach", "--output", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["status"], data["outputs"], data["tokens"]) == ("queued", None, 0)
    stored = show(data["job_id"])
    assert (stored["status"], stored["steps"]) == ("queued", [])

    code, out, err = invoke("run", "wf", "-i", "topic=chips", "--detach")
    assert (code, out) == (0, out.strip() + "\n")  # only the id: JOB=$(agentgo run … --detach)
    job_id = out.strip()
    assert re.fullmatch(r"j-\w+", job_id), out
    assert err == (
        f"job {job_id} queued: an 'agentgo worker' runs it; follow it with: "
        f"agentgo jobs watch {job_id}\n"
    )
    assert show(job_id)["status"] == "queued"

    code, _, err = invoke("worker", "--once", "--poll", "0.05")
    assert (code, err.splitlines()[-1]) == (0, "worker ran 2 jobs")
    stored = show(data["job_id"])
    assert (stored["status"], stored["outputs"]) == ("succeeded", OUTPUTS)


# -- resume ----------------------------------------------------------------------------------


def test_resume_of_a_finished_job_just_prints_it(project: Write) -> None:
    code, out, _ = invoke("run", "wf", "-i", "topic=chips", "-q", "--output", "json")
    job_id = json.loads(out)["job_id"]
    before = show(job_id)
    code, out, err = invoke("resume", job_id, "-q")
    assert code == 0
    assert out == f'draft: {DRAFT}\nwords: 4\ntags: ["a", "b"]\n'
    assert STATUS_LINE.fullmatch(err.rstrip("\n")), err
    assert show(job_id) == before  # nothing ran again

    workflow(project, "steps: [{id: bad, tool: boom, with: {reason: nope}}]", name="broken")
    code, out, _ = invoke("run", "broken", "-q", "--output", "json")
    failed = json.loads(out)["job_id"]
    code, out, err = invoke("resume", failed, "--output", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["status"], data["error"]) == (
        "failed",
        "step 'bad' failed: tool 'boom' raised ValueError: nope",
    )


def test_resume_of_an_unknown_job_is_not_found(project: Write) -> None:
    assert invoke("resume", "x") == (3, "", "error: no job 'x'\n")


def test_resume_finishes_an_interrupted_job_without_redoing_finished_steps(
    project: Write,
) -> None:
    # A process that died after 'draft' finished; its lease has expired.
    job_id = seed_job(
        "wf",
        {"topic": "chips", "tags": ["a", "b"]},
        status="running",
        lease_owner=f"{socket.gethostname()}:999999:dead",
        lease_seconds=-5,
        finished={"draft": "recorded before the crash"},
    )
    code, out, err = invoke("resume", job_id, "-q", "--output", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "succeeded"
    assert data["outputs"] == {"draft": "recorded before the crash", "words": 4, "tags": ["a", "b"]}
    stored = show(job_id)
    assert [(s["key"], s["status"]) for s in stored["steps"]] == [
        ("draft", "succeeded"),
        ("count", "succeeded"),
    ]


def test_resume_refuses_a_job_with_a_live_owner_unless_forced(project: Write) -> None:
    owner = f"{socket.gethostname()}:{os.getpid()}:alive"
    job_id = seed_job("wf", {"topic": "chips", "tags": []}, status="running", lease_owner=owner)
    assert invoke("resume", job_id, "-q") == (
        2,
        "",
        f"error: job {job_id} is running under {owner}; wait for its lease to expire, or pass "
        "--force if that process is gone\n",
    )
    code, out, err = invoke("resume", job_id, "--force", "-q", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["outputs"] == {"draft": DRAFT, "words": 4, "tags": []}


def test_resume_runs_a_queued_job_here(project: Write) -> None:
    _, out, _ = invoke("run", "wf", "-i", "topic=chips", "--detach", "--output", "json")
    job_id = json.loads(out)["job_id"]
    code, out, err = invoke("resume", job_id, "-q")
    assert (code, out) == (0, f'draft: {DRAFT}\nwords: 4\ntags: ["a", "b"]\n')
    status = STATUS_LINE.fullmatch(err.rstrip("\n"))
    assert status is not None, err
    assert status.group(1) == job_id


FAN_OUT = """
steps:
  - id: each
    foreach: [0.3, 0]
    steps:
      - {id: wait, tool: nap, with: {seconds: "${{ item }}"}}
      - {id: say, tool: echo, with: {text: "item ${{ index }}"}}
  - id: report
    tool: echo
    with: {text: "${{ steps.say.output.text }}"}
outputs:
  report: ${{ steps.report.output.text }}
"""


def test_resume_after_a_foreach_gives_the_outputs_of_an_uninterrupted_run(
    project: Write,
) -> None:
    workflow(project, FAN_OUT, name="fan")
    _, out, _ = invoke("run", "fan", "-q", "--output", "json")
    live = json.loads(out)
    records = show(live["job_id"])["steps"]
    # Item 1 is quicker, so its inner steps start (and are recorded) before item 0's.
    assert [s["key"] for s in records][-3:] == ["each[1].say", "each[0].say", "report"]
    # The same job, stopped by a crash just after the foreach had finished.
    job_id = seed_job(
        "fan",
        {},
        status="running",
        lease_owner=f"{socket.gethostname()}:999999:dead",
        lease_seconds=-5,
        finished={s["key"]: s["output"] for s in records if s["key"] != "report"},
    )
    code, out, err = invoke("resume", job_id, "-q", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["outputs"] == live["outputs"] == {"report": "item 1"}


# -- a real process --------------------------------------------------------------------------


def _workflow_doc(name: str) -> str:
    return (
        f"apiVersion: agentgo/v1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n"
        "  steps: [{id: say, tool: echo, with: {text: hello}}]\n"
        "  outputs: {said: '${{ steps.say.output.text }}'}\n"
    )


@pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")
def test_run_exits_soon_after_a_sync_tool_times_out(project: Write, workdir: Path) -> None:
    workflow(project, "steps: [{id: stuck, tool: doze, with: {seconds: 3}, timeout: 100ms}]")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["PYTHONPATH"] = str(REPO)
    started = time.monotonic()
    result = subprocess.run(
        [str(AGENTGO), "run", "wf", "-q"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    took = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.endswith("0 tokens: step 'stuck' failed: timed out after 100ms\n")
    assert took < 2, f"exited {took:.1f}s after start"

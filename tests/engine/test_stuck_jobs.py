"""No job stays 'running' forever: a result that cannot be stored as standard JSON fails
its step (and the job) durably, and cancel ends a job that no live process owns."""

from __future__ import annotations

import json
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

TOOLS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: weird}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:weird"}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/weird.yaml", TOOLS)
    return write


def show(job_id: str) -> dict[str, Any]:
    code, out, err = invoke("jobs", "show", job_id, "-o", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("nan", "Out of range float values are not JSON compliant"),
        ("infinity", "Out of range float values are not JSON compliant"),
        ("deep", "it is nested too deeply"),
        ("object", "is not JSON serializable"),
    ],
)
def test_a_tool_result_that_cannot_be_stored_fails_the_step_and_the_job(
    project: Write, kind: str, reason: str
) -> None:
    workflow(project, f"steps:\n  - {{id: odd, tool: weird, with: {{kind: {kind}}}}}\n")
    code, out, err = invoke("run", "wf", "-q", "-o", "json")
    assert code == 1, err
    job = json.loads(out)
    assert job["status"] == "failed"
    assert job["error"].startswith("step 'odd' failed: ")
    assert reason in job["error"]
    stored = show(job["job_id"])
    assert stored["status"] == "failed"
    assert [(s["key"], s["status"]) for s in stored["steps"]] == [("odd", "failed")]


def test_outputs_that_cannot_be_stored_fail_the_job(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - {id: said, tool: echo, with: {text: hi}}
        outputs:
          text: ${{ 'nan' | float }}
        """,
    )
    code, out, err = invoke("run", "wf", "-q", "-o", "json")
    assert code == 1, err
    job = json.loads(out)
    assert job["status"] == "failed"
    assert job["error"].startswith("cannot store the outputs of the job as JSON: ")
    stored = show(job["job_id"])
    assert (stored["status"], stored["outputs"]) == ("failed", None)
    assert [(s["key"], s["status"]) for s in stored["steps"]] == [("said", "succeeded")]


def test_a_nan_input_is_a_usage_error(project: Write) -> None:
    workflow(
        project, "inputs:\n  n: {type: number}\nsteps:\n  - {id: s, tool: echo, with: {text: x}}\n"
    )
    code, out, err = invoke("run", "wf", "-i", "n=NaN", "-q")
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert "NaN" in err or "Out of range float" in err
    code, out, _ = invoke("jobs", "list", "-o", "json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    "owner",
    ["gone-host:1:dead", f"{socket.gethostname()}:{2**22 + 7}:0123abcd"],
    ids=["expired", "owner-died"],
)
def test_cancel_ends_a_running_job_that_no_live_process_owns(project: Write, owner: str) -> None:
    workflow(
        project,
        "steps:\n"
        "  - {id: a, tool: echo, with: {text: x}}\n"
        "  - {id: b, tool: echo, with: {text: y}}\n",
    )
    expired = owner.startswith("gone")
    job_id = seed_job(
        "wf",
        {},
        status="running",
        lease_owner=owner,
        lease_seconds=-1 if expired else 300,
        finished={"a": {"text": "x", "words": 1}},
    )
    code, out, err = invoke("jobs", "cancel", job_id)
    assert code == 0, err
    assert out == f"job {job_id}: cancelled\n"
    stored = show(job_id)
    assert stored["status"] == "cancelled"
    assert stored["error"] == "cancelled on request (no live process was running it)"
    code, out, err = invoke("resume", job_id, "-q", "-o", "json")
    assert json.loads(out)["status"] == "cancelled"  # ended: nothing runs again
    assert engine_tools.calls == {}

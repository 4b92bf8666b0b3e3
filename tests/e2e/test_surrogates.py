"""The installed `agentgo` with a lone surrogate (as a model's JSON reply "\\ud800" decodes
to) in a tool's output, a model's reply, an error message and a job's inputs: the job ends,
its values read back exactly in `-o json` (JSON escapes them), no traceback, never a hang
(every command runs with a timeout)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, agentgo, show
from tests.engine.engine_tools import CONFIG, workflow
from tests.remote import served_variant

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

TOOLS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: lone}
spec:
  input: {type: object, required: [text], properties: {text: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.surrogate_tools:lone"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: fail}
spec:
  input: {type: object, required: [text], properties: {text: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.surrogate_tools:fail"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: lock}
spec:
  input: {type: object, required: [text], properties: {text: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.surrogate_tools:lock_store"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: odd}
spec:
  model: scripted:demo
  tools: [lone]
  script:
    - tool: {name: lone, args: {text: x}}
    - reply: "${{ input }}"
"""
"""The agent replies with what its tool answered (YAML cannot hold a lone surrogate)."""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/tools.yaml", TOOLS)
    workflow(
        write,
        """
        steps:
          - {id: a, tool: lone, with: {text: "a"}}
        outputs: {out: "${{ steps.a.output }}"}
        """,
        name="tool-out",
    )
    workflow(
        write,
        """
        steps:
          - {id: a, agent: odd, prompt: "hi"}
          - {id: b, tool: lone, with: {text: "${{ steps.a.output }}"}}
        outputs: {reply: "${{ steps.a.output }}", out: "${{ steps.b.output }}"}
        """,
        name="reply",
    )
    workflow(write, "steps:\n  - {id: a, tool: fail, with: {text: x}}\n", name="fails")
    workflow(write, "steps:\n  - {id: a, tool: lock, with: {text: x}}\n", name="locked")
    workflow(
        write,
        """
        inputs: {x: {type: string}}
        steps:
          - {id: a, tool: lone, with: {text: "${{ inputs.x }}"}}
        outputs: {x: "${{ inputs.x }}", out: "${{ steps.a.output }}"}
        """,
        name="inputs",
    )
    return write


@pytest.fixture(params=["local", "remote"], autouse=True)
def backend_kind(
    request: pytest.FixtureRequest,
    project: Write,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """Each test twice: the project run here, and sent to an ``agentgo serve`` of it (a
    child process) through a remote profile, with the same assertions."""
    yield from served_variant(request.param, request.node, workdir, monkeypatch.setenv)


def _run(workdir: Path, *args: str) -> dict[str, object]:
    result = agentgo(workdir, "run", *args, "-o", "json")
    assert "Traceback" not in result.stderr, result.stderr
    assert "lost" not in result.stderr, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return {"code": result.returncode, **data}


def test_a_tool_output_with_a_lone_surrogate_is_kept(project: Write, workdir: Path) -> None:
    run = _run(workdir, "tool-out")
    assert (run["code"], run["status"], run["outputs"]) == (0, "succeeded", {"out": "a\ud800!"})
    job = show(workdir, str(run["job_id"]))
    assert (job["status"], job["outputs"]) == ("succeeded", {"out": "a\ud800!"})
    assert [s["output"] for s in job["steps"]] == ["a\ud800!"]
    text = agentgo(workdir, "run", "tool-out")  # the text output shows it escaped
    assert (text.returncode, text.stdout) == (0, "out: a\\ud800!\n")


def test_a_model_reply_with_a_lone_surrogate_is_kept(project: Write, workdir: Path) -> None:
    run = _run(workdir, "reply")
    assert (run["code"], run["status"]) == (0, "succeeded")
    reply = '"x\ud800!"'  # the tool's answer as JSON text, repeated
    assert run["outputs"] == {"reply": reply, "out": f"{reply}\ud800!"}
    job = show(workdir, str(run["job_id"]))
    assert [s["output"] for s in job["steps"]] == [reply, f"{reply}\ud800!"]


def test_an_error_with_a_lone_surrogate_fails_the_job_clearly(
    project: Write, workdir: Path
) -> None:
    run = _run(workdir, "fails")
    assert (run["code"], run["status"]) == (1, "failed")
    job = show(workdir, str(run["job_id"]))
    (step,) = job["steps"]
    assert "bad x\ufffd" in step["error"]
    assert job["error"] == f"step 'a' failed: {step['error']}"


@pytest.mark.parametrize("how", ["argument", "file"])
def test_an_input_with_a_lone_surrogate_is_kept(project: Write, workdir: Path, how: str) -> None:
    if how == "argument":  # a byte that is not UTF-8 in argv decodes to a lone surrogate
        value, args = "a\udcff", ["-i", os.fsdecode(b"x=a\xff")]
    else:  # JSON escapes any lone surrogate
        value, args = "a\ud800", ["--input-file", "in.json"]
        (workdir / "in.json").write_text('{"x": "a\\ud800"}', encoding="utf-8")
    run = _run(workdir, "inputs", *args)
    assert (run["code"], run["status"]) == (0, "succeeded")
    assert run["outputs"] == {"x": value, "out": f"{value}\ud800!"}
    assert show(workdir, str(run["job_id"]))["inputs"] == {"x": value}


def test_a_job_whose_end_cannot_be_written_stops_with_a_clear_error(
    project: Write, workdir: Path
) -> None:
    # The last step's record and the job's end are one write; the store is locked past its
    # wait for it. The progress display, following the job, must not wait for ever.
    result = agentgo(workdir, "run", "locked")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].endswith("database is locked"), result.stderr

"""agentgo jobs trace as the user runs it: the tree, one node in full, JSON, and mistakes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.backend.test_trace import AGENTS, CHAIN, WORK
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

FULL = CONFIG.replace("manifests: [./m]", "manifests: [./m], trace: full")
"""The profile that records turns, tool calls and calls (the default, steps, does not)."""

Write = Callable[[str, str], Path]

runner = CliRunner()

SECRET = "sk-trace-cli-0123456789"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run(name: str) -> str:
    code, out, err = invoke("run", name, "-q", "--output", "json")
    assert code == 0, err
    job_id: str = json.loads(out)["job_id"]
    return job_id


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", FULL)
    write("m/common.yaml", COMMON)
    write("m/agents.yaml", AGENTS)
    workflow(write, WORK, name="work")
    workflow(write, CHAIN, name="chain")
    return write


def _masked(text: str) -> str:
    """Output with the parts that change from run to run replaced."""
    text = re.sub(r"j-\w+", "JOB", text)
    return re.sub(r"\b\d+ms\b|\b\d+\.\d\ds\b", "T", text)


def test_the_tree_is_one_line_per_node(project: Write) -> None:
    job_id = run("work")
    code, out, err = invoke("jobs", "trace", job_id)

    assert (code, err) == (0, "")
    assert _masked(out).splitlines() == [
        "job JOB work succeeded T 45 tokens",
        "├─ fix (agent) succeeded T 45 tokens",
        '│  ├─ turn:1 scripted:demo ok T 15 tokens → boom({"reason": "first try"})',
        "│  ├─ tool:1 boom failed T: tool 'boom' raised ValueError: first try",
        '│  ├─ turn:2 scripted:demo ok T 15 tokens → echo({"text": "second try"})',
        '│  ├─ tool:2 echo ok T {"text": "second try"} → {"text": "second try", "words": 2}',
        "│  └─ turn:3 scripted:demo ok T 15 tokens → recovered",
        "├─ shaky (tool) succeeded T",
        "│  ├─ attempt:1 failed T: tool 'flaky' raised RuntimeError: flaky s attempt 1",
        "│  │  └─ tool:1 flaky failed T: tool 'flaky' raised RuntimeError: flaky s attempt 1",
        "│  ├─ attempt:2 failed T: tool 'flaky' raised RuntimeError: flaky s attempt 2",
        "│  │  └─ tool:1 flaky failed T: tool 'flaky' raised RuntimeError: flaky s attempt 2",
        "│  └─ attempt:3 succeeded T",
        '│     └─ tool:1 flaky ok T {"label": "s"} → '
        '{"label": "s", "attempt": 3, "key": "JOB:shaky"}',
        "└─ each (foreach) succeeded T",
        "   ├─ each[0].note (tool) succeeded T",
        '   │  └─ tool:1 echo ok T {"text": "a"} → {"text": "a", "words": 1}',
        "   └─ each[1].note (tool) succeeded T",
        '      └─ tool:1 echo ok T {"text": "b"} → {"text": "b", "words": 1}',
    ]


def test_step_shows_one_node_in_full_with_its_traceback(project: Write) -> None:
    job_id = run("work")
    code, out, err = invoke("jobs", "trace", job_id, "--step", "fix/tool:1")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert _masked(lines[0]) == "tool:1 boom failed T: tool 'boom' raised ValueError: first try"
    assert lines[1:6] == [
        "path: fix/attempt:1/tool:1",
        "arguments:",
        "  {",
        '    "reason": "first try"',
        "  }",
    ]
    assert lines[6:8] == ["error:", "  tool 'boom' raised ValueError: first try"]
    assert lines[8] == "traceback:"
    assert lines[9] == "  Traceback (most recent call last):"
    assert lines[-1] == "  ValueError: first try"


def test_json_is_the_node_tree_and_step_narrows_it(project: Write) -> None:
    job_id = run("chain")
    code, out, _ = invoke("jobs", "trace", job_id, "-o", "json")
    tree = json.loads(out)
    code_one, one, _ = invoke("jobs", "trace", job_id, "--step", "go/call:1", "-o", "json")
    call = json.loads(one)

    assert (code, code_one) == (0, 0)
    assert (tree["kind"], tree["path"], tree["detail"]["job_id"]) == ("job", "", job_id)
    (go,) = tree["children"]
    assert call == go["children"][0]["children"][2]
    assert (call["kind"], call["name"], call["path"]) == (
        "call",
        "beta.work@1.0.0",
        "go/attempt:1/call:1",
    )
    below = [(c["kind"], c["name"]) for c in call["children"]]
    assert below == [
        ("turn", "scripted:demo"),
        ("tool", "call_agent"),
        ("call", "gamma.run@1.0.0"),
        ("turn", "scripted:demo"),
    ]


def test_a_secret_never_reaches_the_trace(
    project: Write, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    spec = "steps:\n  - id: fix\n    agent: fumbler\n    prompt: 'key ${{ inputs.k }}'\n"
    workflow(write, spec + "inputs:\n  k: {type: string}\n", name="leaky")
    code, out, err = invoke("run", "leaky", "-i", f"k={SECRET}", "-q", "-o", "json")
    assert code == 0, err
    job_id = json.loads(out)["job_id"]

    _, tree, _ = invoke("jobs", "trace", job_id, "-o", "json")
    _, turn, _ = invoke("jobs", "trace", job_id, "--step", "fix/turn:1")

    assert SECRET not in tree and SECRET not in turn
    assert '"content": "key ***"' in turn


@pytest.mark.parametrize("config", ["trace: steps", "default"])
def test_the_trace_level_steps_keeps_steps_and_attempts_only(project: Write, config: str) -> None:
    if config != "default":
        config = CONFIG.replace("manifests: [./m]", f"manifests: [./m], {config}")
        project("agentgo.yaml", config)
    else:
        project("agentgo.yaml", CONFIG)  # no trace setting: steps
    job_id = run("work")
    _, out, _ = invoke("jobs", "trace", job_id)

    lines = _masked(out).splitlines()
    assert lines[:3] == [
        "job JOB work succeeded T 45 tokens",
        "├─ fix (agent) succeeded T 45 tokens",
        "├─ shaky (tool) succeeded T",
    ]
    assert lines[-1] == (
        "(no model turns or tool calls recorded: set 'trace: full' in the profile to record them)"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["j-nope"], 3, "no job 'j-nope'"),
        (["JOB", "--step", "nope"], 3, "no step 'nope' in the trace of job JOB"),
        (["JOB", "--step", "fix/turn:7"], 3, "no turn 7 under 'fix/attempt:1' (it has 3)"),
        (
            ["JOB", "--step", "fix/step:1"],
            2,
            "--step: 'step:1' in 'fix/step:1' is not a segment: "
            "attempt:N, turn:N, tool:N or call:N",
        ),
        (
            ["JOB", "--step", "../x"],
            2,
            "--step: '../x' is not a node path: a step key, then /attempt:N, /turn:N, /tool:N "
            "or /call:N (e.g. draft/turn:1)",
        ),
        (["JOB", "-o", "yaml"], 2, "--output takes text or json, got 'yaml'"),
    ],
)
def test_a_mistake_is_one_line_and_its_exit_code(
    project: Write, args: list[str], code: int, message: str
) -> None:
    job_id = run("work")
    got, out, err = invoke("jobs", "trace", *[a.replace("JOB", job_id) for a in args])

    assert (got, out) == (code, "")
    assert err == f"error: {message.replace('JOB', job_id)}\n"

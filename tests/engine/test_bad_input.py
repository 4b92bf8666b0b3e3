"""Bad input and failing steps, as `agentgo run` reports them and as the store records them.

Inputs that cannot start a job are usage errors (exit 2, no job). A step that fails at run
time fails the job (exit 1): the job's error names the step key and the message, the step's
record holds the same message, and the steps that finished before it keep their outputs.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.helpers import Reason

Write = Callable[[str, str], Path]


runner = CliRunner()

INPUTS_WORKFLOW = """
inputs:
  topic: {type: string}
  count: {type: integer, default: 2}
steps:
  - id: say
    tool: echo
    with: {text: "${{ inputs.topic }} ${{ inputs.count }}"}
outputs:
  text: ${{ steps.say.output.text }}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def show(job_id: str) -> dict[str, Any]:
    code, out, err = invoke("jobs", "show", job_id, "--output", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def only_job() -> dict[str, Any]:
    code, out, err = invoke("jobs", "list", "--output", "json")
    assert code == 0, err
    (job,) = json.loads(out)
    return show(job["job_id"])


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, INPUTS_WORKFLOW, name="inputs")
    return write


def assert_no_job() -> None:
    assert invoke("jobs", "list") == (0, "no jobs\n", "")


# -- inputs: usage errors, no job ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing required input 'topic' (pass -i topic=VALUE)"),
        (
            ["-i", "topic=x", "-i", "cuont=3"],
            "unknown input 'cuont' (did you mean 'count'?); this workflow takes: topic, count",
        ),
        (
            ["-i", "topic=x", "-i", "zzz=3"],
            "unknown input 'zzz'; this workflow takes: topic, count",
        ),
        (["-i", "topic=x", "-i", "count=abc"], Reason("input 'count': ", "'abc'")),
        (["-i", "topic=x", "-i", "count=[1]"], Reason("input 'count': ", "[1]")),
        (["-i", "topic"], "-i takes name=value, got 'topic'"),
        (["-i", "=x"], "-i takes name=value, got '=x'"),
    ],
    ids=[
        "missing",
        "did-you-mean",
        "unknown",
        "wrong-type",
        "list-for-int",
        "no-equals",
        "no-name",
    ],
)
def test_bad_inputs_are_usage_errors(
    project: Write, args: list[str], message: str | Reason
) -> None:
    code, out, err = invoke("run", "inputs", *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.endswith("\n"), err
    assert err.removeprefix("error: ").removesuffix("\n") == message
    assert_no_job()


def test_workflow_without_inputs_names_none(project: Write) -> None:
    workflow(project, "steps: [{id: a, tool: echo, with: {text: hi}}]", name="bare")
    assert invoke("run", "bare", "-i", "x=1") == (
        2,
        "",
        "error: unknown input 'x'; this workflow takes: no inputs\n",
    )


def test_string_input_keeps_text_that_looks_like_a_number(project: Write) -> None:
    code, out, err = invoke("run", "inputs", "-i", "topic=007", "-i", "count=5", "-q")
    assert (code, out) == (0, "text: 007 5\n"), err


def test_input_file_missing(project: Write) -> None:
    assert invoke("run", "inputs", "--input-file", "nope.yaml") == (
        2,
        "",
        "error: cannot read --input-file nope.yaml: No such file or directory\n",
    )
    assert_no_job()


@pytest.mark.parametrize("text", ["[1, 2]\n", "just text\n", "42\n"])
def test_input_file_not_a_mapping(project: Write, text: str) -> None:
    project("in.yaml", text)
    assert invoke("run", "inputs", "--input-file", "in.yaml") == (
        2,
        "",
        "error: --input-file in.yaml must hold a mapping of input names to values\n",
    )
    assert_no_job()


def test_input_file_with_broken_json(project: Write) -> None:
    project("in.json", '{"topic": ')
    code, out, err = invoke("run", "inputs", "--input-file", "in.json")
    assert (code, out) == (2, "")
    assert err.startswith("error: --input-file in.json is not valid JSON or YAML: ")
    assert_no_job()


def test_input_file_values_are_checked_and_overridden_by_i(project: Write) -> None:
    project("in.json", '{"topic": "chips", "count": "three"}')
    code, out, err = invoke("run", "inputs", "--input-file", "in.json")
    assert (code, out) == (2, "")
    assert err.endswith("\n"), err
    assert err.removesuffix("\n") == Reason("error: input 'count': ", "'three'")
    code, out, err = invoke("run", "inputs", "--input-file", "in.json", "-i", "count=3", "-q")
    assert (code, out) == (0, "text: chips 3\n"), err


def test_unknown_workflow_name_is_not_found(project: Write) -> None:
    assert invoke("run", "input") == (
        3,
        "",
        "error: no workflow file or workflow named 'input' (did you mean 'inputs'?)\n",
    )


# -- failing steps ---------------------------------------------------------------------------

FAILING = {
    "expression": (
        """
        tool: echo
        with: {text: "${{ steps.first.output.missing }}"}
        """,
        "tool",
        "m/wf.yaml:11:20: expression '${{ steps.first.output.missing }}' failed: 'dict object' "
        "has no attribute 'missing'",
    ),
    "if-expression": (
        """
        if: ${{ steps.first.output.missing }}
        tool: echo
        with: {text: "x"}
        """,
        "tool",
        "m/wf.yaml:10:11: if: expression '${{ steps.first.output.missing }}' failed: "
        "'dict object' has no attribute 'missing'",
    ),
    "tool-raises": (
        """
        tool: boom
        with: {reason: "disk full"}
        """,
        "tool",
        "tool 'boom' raised ValueError: disk full",
    ),
    "tool-arguments": (
        """
        tool: echo
        with: {text: "${{ steps.first.output.words }}"}
        """,
        "tool",
        Reason("tool 'echo': invalid arguments: text: ", "1"),
    ),
    "timeout": (
        """
        tool: nap
        with: {seconds: 5}
        timeout: 100ms
        """,
        "tool",
        "timed out after 100ms",
    ),
    "output-schema": (
        """
        agent: sloppy
        prompt: "${{ steps.first.output.text }}"
        """,
        "agent",
        Reason("agent 'sloppy' must answer JSON matching its output_schema: approved: ", "'yes'"),
    ),
    "output-not-json": (
        """
        agent: sloppy
        prompt: "prose please"
        """,
        "agent",
        "agent 'sloppy' must answer JSON matching its output_schema: the answer is not JSON "
        "(Expecting value: line 1 column 1 (char 0))",
    ),
    "team": (
        """
        team: desk
        input: "${{ steps.first.output.text }}"
        """,
        "team",
        "step 'bad.write' failed: agent 'sloppy' must answer JSON matching its "
        "output_schema: approved: 'yes' is not of type 'boolean'",
    ),
    "foreach-not-a-list": (
        """
        foreach: ${{ steps.first.output.text }}
        steps:
          - {id: inner, tool: echo, with: {text: "${{ item }}"}}
        """,
        "foreach",
        "foreach needs a list, got str",
    ),
    "inner-step": (
        """
        foreach: [a]
        steps:
          - {id: inner, tool: boom, with: {reason: "inside"}}
        """,
        "foreach",
        "step 'bad[0].inner' failed: tool 'boom' raised ValueError: inside",
    ),
}


def failing_workflow(write: Write, body: str) -> None:
    step = "\n".join("    " + line for line in body.strip("\n").splitlines())
    workflow(
        write,
        f"""
steps:
  - id: first
    tool: echo
    with: {{text: "hello"}}
  - id: bad
{step}
  - id: never
    tool: echo
    with: {{text: "never"}}
outputs:
  first: ${{{{ steps.first.output }}}}
""",
    )


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [pytest.param(*case, id=name) for name, case in FAILING.items()],
)
def test_failing_step_fails_the_job(
    project: Write, body: str, kind: str, message: str | Reason
) -> None:
    failing_workflow(project, textwrap.dedent(body))
    code, out, err = invoke("run", "wf")
    assert (code, out) == (1, "")
    job = only_job()
    by_key = {s["key"]: s for s in job["steps"]}
    assert by_key["first"]["status"] == "succeeded"
    assert by_key["first"]["output"] == {"text": "hello", "words": 1}
    bad = by_key["bad"]
    assert (bad["kind"], bad["status"], bad["error"], bad["output"]) == (
        kind,
        "failed",
        message,
        None,
    )
    assert bad["finished_at"] is not None
    # The step's record holds `message`; the progress, the summary and the job repeat it.
    error = bad["error"]
    lines = err.splitlines()
    assert re.fullmatch(r"✓ first \(tool\) succeeded \d+\.\d\ds", lines[0])
    # (a team's line says its protocol and rounds: "(team pipeline, 1 round)")
    progress = rf"✗ bad \({kind}( [^)]*)?\) failed \d+\.\d\ds(.*? tokens)?: {re.escape(error)}"
    assert any(re.fullmatch(progress, line) for line in lines), lines
    # A container failed by a step inside it says that step's failure, once.
    said = (
        error if error.startswith(("step 'bad[", "step 'bad.")) else f"step 'bad' failed: {error}"
    )
    assert lines[-1].endswith(f" tokens: {said}"), lines[-1]
    assert re.fullmatch(r"job j-\w+ failed in \d+\.\d\ds, \d+ tokens: .*", lines[-1])
    assert (job["status"], job["error"]) == ("failed", said)
    assert job["outputs"] is None
    assert "never" not in by_key


def test_failing_step_with_run_output_json(project: Write) -> None:
    failing_workflow(project, textwrap.dedent(FAILING["tool-raises"][0]))
    code, out, _ = invoke("run", "wf", "--output", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["status"], data["error"], data["outputs"]) == (
        "failed",
        "step 'bad' failed: tool 'boom' raised ValueError: disk full",
        None,
    )


def test_failing_outputs_expression_fails_the_job(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - {id: a, tool: echo, with: {text: hi}}
        outputs:
          missing: ${{ steps.a.output.nope }}
        """,
    )
    code, _, err = invoke("run", "wf", "-q")
    message = (
        "m/wf.yaml:8:14: outputs: expression '${{ steps.a.output.nope }}' failed: 'dict object' "
        "has no attribute 'nope'"
    )
    assert code == 1
    assert err.splitlines()[-1].endswith(f"0 tokens: {message}")
    job = only_job()
    assert (job["status"], job["error"]) == ("failed", message)
    assert [(s["key"], s["status"]) for s in job["steps"]] == [("a", "succeeded")]


def test_failed_parallel_branch_interrupts_its_siblings(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: both
            parallel:
              - {id: slow, tool: nap, with: {seconds: 5}}
              - {id: bad, tool: boom, with: {reason: "no"}}
        """,
    )
    code, _, _ = invoke("run", "wf", "-q")
    assert code == 1
    job = only_job()
    error = "step 'both.bad' failed: tool 'boom' raised ValueError: no"  # said once
    assert job["error"] == error
    assert {s["key"]: (s["status"], s["error"]) for s in job["steps"]} == {
        "both": ("failed", error),
        "both.bad": ("failed", "tool 'boom' raised ValueError: no"),
        "both.slow": ("failed", "interrupted: step 'both.bad' failed"),
    }


# -- bugs ------------------------------------------------------------------------------------


def test_agent_whose_model_fails_fails_its_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: ask
            agent: badscript
            prompt: "hello"
            continue_on_error: true
          - id: after
            tool: echo
            with: {text: "${{ steps.ask.status }}"}
        """,
    )
    code, _, _ = invoke("run", "wf", "-q")
    job = only_job()
    by_key = {s["key"]: s for s in job["steps"]}
    assert by_key["ask"]["status"] == "failed"
    assert by_key["ask"]["error"] == (
        "scripted model 'demo': script entry 1: expression '${{ input.nope }}' failed: "
        "'str object' has no attribute 'nope'"
    )
    assert (code, job["status"]) == (0, "succeeded")


def test_tool_returning_a_non_json_value_fails_its_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - {id: odd, tool: notjson, continue_on_error: true}
          - {id: after, tool: echo, with: {text: "${{ steps.odd.status }}"}}
        """,
    )
    code, _, _ = invoke("run", "wf", "-q")
    job = only_job()
    by_key = {s["key"]: s for s in job["steps"]}
    assert by_key["odd"]["status"] == "failed"
    assert not by_key["odd"]["error"].startswith("interrupted: ")
    assert (code, job["status"], by_key["after"]["output"]["text"]) == (0, "succeeded", "failed")


def test_failed_agent_step_still_counts_its_tokens(project: Write) -> None:
    workflow(project, "steps: [{id: judge, agent: sloppy, prompt: review}]")
    code, _, _ = invoke("run", "wf", "-q")
    job = only_job()
    assert (code, job["status"]) == (1, "failed")
    assert (job["steps"][0]["tokens"], job["tokens"]) == (3, 3)


def test_call_step_honours_the_intent_timeout(project: Write) -> None:
    workflow(project, "steps: [{id: ask, call: slow.think, input: {}}]")
    code, _, _ = invoke("run", "wf", "-q")
    job = only_job()
    assert (code, job["status"]) == (1, "failed")
    assert "timed out after 200ms" in job["error"]

"""The workflow engine, step kind by step kind, read back from the store.

Every test writes a project (agentgo.yaml with a sqlite store and `manifests: [./m]`), runs
one workflow through `LocalBackend.run` and checks the job and step records the
store holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import JobDetailView, LogsRequest, RunRequest, StepView
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.helpers import Reason

Write = Callable[[str, str], Path]


@pytest.fixture
def project(write: Write) -> Write:
    """A project folder with the shared tools, agents and capabilities."""
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    return write


async def run(name: str = "wf", **inputs: str) -> JobDetailView:
    """Run a workflow to its end through the backend and read its records back."""
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow=name, inputs=dict(inputs)))
        return await backend.job(job.job_id)


def steps(detail: JobDetailView) -> dict[str, StepView]:
    by_key = {s.key: s for s in detail.steps}
    assert len(by_key) == len(detail.steps), "one record per step instance"
    return by_key


def brief(record: StepView) -> tuple[str, str, str, int, Any, str | None]:
    return (
        record.step_id,
        record.kind,
        record.status,
        record.attempt,
        record.output,
        record.error,
    )


# -- agent and tool --------------------------------------------------------------------------


async def test_agent_then_tool_record_outputs_tokens_and_timings(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          topic: {type: string}
        steps:
          - id: draft
            agent: writer
            prompt: "topic ${{ inputs.topic }}"
          - id: count
            tool: echo
            with: {text: "${{ steps.draft.output }}"}
          - id: judge
            agent: editor
            prompt: "round 2 of ${{ job.workflow }}"
        outputs:
          draft: ${{ steps.draft.output }}
          words: ${{ steps.count.output.words }}
          approved: ${{ steps.judge.output.approved }}
        """,
    )
    detail = await run(topic="chips")
    job = detail
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs == {"draft": "draft about topic chips", "words": 4, "approved": True}
    assert job.inputs == {"topic": "chips"}
    assert job.tokens == 15 + 4
    records = steps(detail)
    assert list(records) == ["draft", "count", "judge"]
    assert brief(records["draft"]) == (
        "draft",
        "agent",
        "succeeded",
        1,
        "draft about topic chips",
        None,
    )
    assert records["draft"].tokens == 15
    assert brief(records["count"]) == (
        "count",
        "tool",
        "succeeded",
        1,
        {"text": "draft about topic chips", "words": 4},
        None,
    )
    # An agent with an output_schema gives the parsed object.
    assert records["judge"].output == {"approved": True}
    assert records["judge"].tokens == 4
    for record in detail.steps:
        assert record.finished_at is not None
        assert job.created_at <= record.started_at <= record.finished_at <= job.updated_at


# -- foreach ---------------------------------------------------------------------------------


async def test_foreach_with_as_index_and_max_concurrency(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          topics: {type: array, items: {type: string}, default: [a, b, c, d, e]}
        steps:
          - id: research
            foreach: ${{ inputs.topics }}
            as: topic
            max_concurrency: 2
            steps:
              - id: probe
                tool: track
                with: {label: "${{ topic }}", seconds: 0.05}
              - id: note
                tool: echo
                with: {text: "${{ index }} ${{ topic }} ${{ steps.probe.output }}"}
          - id: after
            tool: echo
            with: {text: "last ${{ steps.note.output.text }}"}
        outputs:
          research: ${{ steps.research.output }}
          note: ${{ steps.note.output.text }}
          probe: ${{ steps.probe.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert engine_tools.in_flight["peak"] == 2
    expected = [{"text": f"{i} {t} {t}", "words": 3} for i, t in enumerate("abcde")]
    assert detail.outputs == {"research": expected, "note": "4 e e", "probe": "e"}
    records = steps(detail)
    keys = {f"research[{i}].{s}" for i in range(5) for s in ("probe", "note")}
    assert set(records) == keys | {"research", "after"}
    assert brief(records["research[2].note"]) == (
        "note",
        "tool",
        "succeeded",
        1,
        {"text": "2 c c", "words": 3},
        None,
    )
    assert brief(records["research"]) == ("research", "foreach", "succeeded", 1, expected, None)
    # Inner ids are addressable after the foreach, with the latest (last item's) value.
    assert records["after"].output == {"text": "last 4 e e", "words": 4}


async def test_foreach_default_variable_is_item(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: each
            foreach: [x, y]
            steps:
              - id: say
                tool: echo
                with: {text: "${{ item }}${{ index }}"}
        outputs:
          each: ${{ steps.each.output | map(attribute='text') | list }}
        """,
    )
    detail = await run()
    assert detail.outputs == {"each": ["x0", "y1"]}


async def test_foreach_over_an_empty_list_gives_an_empty_list(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          items: {type: array, default: []}
        steps:
          - id: each
            foreach: ${{ inputs.items }}
            steps:
              - id: say
                tool: echo
                with: {text: "${{ item }}"}
        outputs:
          each: ${{ steps.each.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded"
    assert detail.outputs == {"each": []}
    assert [s.key for s in detail.steps] == ["each"]


# -- loop ------------------------------------------------------------------------------------


async def test_loop_stops_when_until_holds(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: polish
            loop:
              max_iterations: 5
              until: ${{ steps.review.output.approved }}
              steps:
                - id: stamp
                  tool: echo
                  with: {text: "iteration ${{ loop.iteration }}"}
                - id: review
                  agent: editor
                  prompt: "round ${{ loop.iteration }}"
          - id: after
            tool: echo
            with: {text: "${{ steps.stamp.output.text }}"}
        outputs:
          polish: ${{ steps.polish.output }}
          review: ${{ steps.review.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert detail.outputs == {"polish": {"approved": True}, "review": {"approved": True}}
    records = steps(detail)
    assert list(records) == [
        "polish",
        "polish#1.stamp",
        "polish#1.review",
        "polish#2.stamp",
        "polish#2.review",
        "after",
    ]
    assert records["polish#1.review"].output == {"approved": False}
    assert records["polish#2.stamp"].output == {"text": "iteration 2", "words": 2}
    assert brief(records["polish"]) == (
        "polish",
        "loop",
        "succeeded",
        1,
        {"approved": True},
        None,
    )
    # The inner ids keep the last iteration's values after the loop.
    assert records["after"].output == {"text": "iteration 2", "words": 2}


async def test_loop_runs_max_iterations_when_until_never_holds(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: spin
            loop:
              max_iterations: 3
              until: ${{ false }}
              steps:
                - id: turn
                  tool: echo
                  with: {text: "turn ${{ loop.iteration }}"}
          - id: bare
            loop:
              max_iterations: 2
              steps:
                - id: again
                  tool: echo
                  with: {text: "again ${{ loop.iteration }}"}
        outputs:
          spin: ${{ steps.spin.output.text }}
          again: ${{ steps.again.output.text }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert detail.outputs == {"spin": "turn 3", "again": "again 2"}
    assert [s.key for s in detail.steps] == [
        "spin",
        "spin#1.turn",
        "spin#2.turn",
        "spin#3.turn",
        "bare",
        "bare#1.again",
        "bare#2.again",
    ]


# -- parallel --------------------------------------------------------------------------------


async def test_parallel_runs_branches_at_once_and_keys_output_by_branch(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: draft
            agent: writer
            prompt: "x"
          - id: checks
            parallel:
              - id: left
                tool: track
                with: {label: "left", seconds: 0.1}
              - id: right
                tool: track
                with: {label: "right", seconds: 0.1}
              - id: count
                tool: echo
                with: {text: "${{ steps.draft.output }}"}
          - id: after
            tool: echo
            with: {text: "${{ steps.left.output }} ${{ steps.count.output.words }}"}
        outputs:
          checks: ${{ steps.checks.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert engine_tools.in_flight["peak"] == 2
    checks = {"left": "left", "right": "right", "count": {"text": "draft about x", "words": 3}}
    assert detail.outputs == {"checks": checks}
    records = steps(detail)
    assert set(records) == {"draft", "checks", "checks.left", "checks.right", "checks.count"} | {
        "after"
    }
    assert brief(records["checks.right"]) == ("right", "tool", "succeeded", 1, "right", None)
    assert brief(records["checks"]) == ("checks", "parallel", "succeeded", 1, checks, None)
    assert records["after"].output == {"text": "left 3", "words": 2}


# -- call ------------------------------------------------------------------------------------


async def test_call_resolves_intent_version_checks_schemas_and_dispatches(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: v1
            call: text.summarize@^1
            input: {topic: batteries}
          - id: latest
            call: text.summarize
            input: {topic: chips}
        outputs:
          v1: ${{ steps.v1.output.summary }}
          latest: ${{ steps.latest.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    # The intent's prompt is rendered with the input and given to the target agent; the
    # agent's JSON text becomes an object because the intent has an output schema.
    # Without a range the call takes any version.
    assert detail.outputs == {
        "v1": "v1: summarize batteries",
        "latest": {"summary": "v1: summarize chips"},
    }
    records = steps(detail)
    assert brief(records["v1"]) == (
        "v1",
        "call",
        "succeeded",
        1,
        {"summary": "v1: summarize batteries"},
        None,
    )


async def test_call_to_synthetic_agent_run_intent(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: text
            call: echoer.run
            input: "hello there"
          - id: obj
            call: echoer.run
            input: "${{ {'a': 1} | tojson }}"
        outputs:
          text: ${{ steps.text.output }}
          obj: ${{ steps.obj.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    # Text in, and an agent without an output_schema answers text.
    assert detail.outputs == {"text": "hello there", "obj": '{"a": 1}'}
    assert steps(detail)["text"].kind == "call"


async def test_a_synthetic_intent_refuses_input_that_is_not_text(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: obj
            call: echoer.run
            input: {a: 1}
        """,
    )
    detail = await run()
    record = steps(detail)["obj"]
    assert brief(record)[:5] == ("obj", "call", "failed", 1, None)
    assert record.error == Reason("echoer.run@1.0.0: invalid input: ", "{'a': 1}")


async def test_call_with_input_that_breaks_the_intent_schema_fails(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          payload: {type: object, default: {subject: batteries}}
        steps:
          - id: ask
            call: text.summarize@^1
            input: ${{ inputs.payload }}
        """,
    )
    detail = await run()
    record = steps(detail)["ask"]
    assert brief(record)[:5] == ("ask", "call", "failed", 1, None)
    assert record.error == Reason("text.summarize@1.2.0: invalid input: ", "'topic'")
    assert (detail.status, detail.error) == ("failed", f"step 'ask' failed: {record.error}")


async def test_call_whose_answer_breaks_the_output_schema_fails(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: ask
            call: text.ramble
            input: {}
        """,
    )
    detail = await run()
    record = steps(detail)["ask"]
    assert brief(record)[:5] == ("ask", "call", "failed", 1, None)
    assert record.error == Reason("text.ramble@1.0.0: invalid output: ", "'summary'")
    assert (detail.status, detail.error) == ("failed", f"step 'ask' failed: {record.error}")


# -- if, retry, timeout, continue_on_error ---------------------------------------------------


async def test_if_skips_a_step_and_records_it_skipped(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          publish: {type: boolean, default: false}
        steps:
          - id: maybe
            if: ${{ inputs.publish }}
            tool: echo
            with: {text: "published"}
          - id: surely
            if: ${{ not inputs.publish }}
            tool: echo
            with: {text: "kept"}
        outputs:
          status: ${{ steps.maybe.status }}
          output: ${{ steps.maybe.output }}
          surely: ${{ steps.surely.status }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert detail.outputs == {"status": "skipped", "output": None, "surely": "succeeded"}
    records = steps(detail)
    assert (records["maybe"].status, records["maybe"].output) == ("skipped", None)
    assert records["surely"].status == "succeeded"
    assert engine_tools.calls == {}

    detail = await run(publish="true")
    assert detail.outputs == {
        "status": "succeeded",
        "output": {"text": "published", "words": 1},
        "surely": "skipped",
    }
    assert steps(detail)["surely"].status == "skipped"


async def test_retry_runs_a_failing_tool_again_with_the_same_key(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: first
            tool: echo
            with: {text: "before"}
          - id: shaky
            tool: flaky
            with: {label: "x"}
            retry: {max_attempts: 3, backoff: fixed, initial: 10ms}
        outputs:
          shaky: ${{ steps.shaky.output }}
        """,
    )
    detail = await run()
    job = detail
    assert job.status == "succeeded", job.error
    key = f"{job.job_id}:shaky"
    assert engine_tools.calls == {key: 3}
    assert job.outputs == {"shaky": {"label": "x", "attempt": 3, "key": key}}
    records = steps(detail)
    assert list(records) == ["first", "shaky"]
    assert brief(records["shaky"]) == (
        "shaky",
        "tool",
        "succeeded",
        3,
        {"label": "x", "attempt": 3, "key": key},
        None,
    )
    async with LocalBackend() as backend:
        events = await backend.logs(LogsRequest(job_id=job.job_id))
    assert [(e.kind, e.message) for e in events if e.kind == "retry"] == [
        ("retry", "shaky: attempt 1 failed: tool 'flaky' raised RuntimeError: flaky x attempt 1"),
        ("retry", "shaky: attempt 2 failed: tool 'flaky' raised RuntimeError: flaky x attempt 2"),
    ]


async def test_retry_gives_up_after_max_attempts(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: shaky
            tool: flaky
            with: {label: "y"}
            retry: {max_attempts: 2, initial: 10ms}
        """,
    )
    detail = await run()
    message = "tool 'flaky' raised RuntimeError: flaky y attempt 2"
    assert (detail.status, detail.error) == ("failed", f"step 'shaky' failed: {message}")
    assert brief(steps(detail)["shaky"]) == ("shaky", "tool", "failed", 2, None, message)


async def test_every_attempt_of_a_retried_step_is_paid_for(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: judge
            agent: sloppy
            prompt: "some prose"
            retry: {max_attempts: 3, backoff: fixed, initial: 10ms}
        """,
    )
    detail = await run()
    assert detail.status == "failed"
    record = steps(detail)["judge"]
    assert (record.status, record.attempt) == ("failed", 3)
    # sloppy answers prose (3 tokens a turn) where its output_schema wants JSON, 3 times.
    assert record.tokens == 3 * 3
    assert detail.tokens == 3 * 3


async def test_step_timeout_fails_the_step_and_is_retried(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: ok
            tool: echo
            with: {text: "fine"}
          - id: slow
            tool: nap
            with: {seconds: 5}
            timeout: 100ms
            retry: {max_attempts: 2, initial: 10ms}
        """,
    )
    started = time.monotonic()
    detail = await run()
    assert time.monotonic() - started < 2
    assert (detail.status, detail.error) == (
        "failed",
        "step 'slow' failed: timed out after 100ms",
    )
    records = steps(detail)
    assert brief(records["slow"]) == ("slow", "tool", "failed", 2, None, "timed out after 100ms")
    assert records["ok"].output == {"text": "fine", "words": 1}


async def test_continue_on_error_records_the_failure_and_goes_on(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: risky
            tool: boom
            with: {reason: "disk full"}
            continue_on_error: true
          - id: report
            tool: echo
            with: {text: "${{ steps.risky.status }}: ${{ steps.risky.error }}"}
        outputs:
          report: ${{ steps.report.output.text }}
          risky: ${{ steps.risky.output }}
        """,
    )
    detail = await run()
    message = "tool 'boom' raised ValueError: disk full"
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == {"report": f"failed: {message}", "risky": None}
    assert brief(steps(detail)["risky"]) == ("risky", "tool", "failed", 1, None, message)


async def test_failed_branch_with_continue_on_error_keeps_the_parallel_going(
    project: Write,
) -> None:
    workflow(
        project,
        """
        steps:
          - id: both
            parallel:
              - id: bad
                tool: boom
                with: {reason: "no"}
                continue_on_error: true
              - id: good
                tool: echo
                with: {text: "yes"}
        outputs:
          both: ${{ steps.both.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert detail.outputs == {"both": {"bad": None, "good": {"text": "yes", "words": 1}}}
    assert steps(detail)["both.bad"].status == "failed"


async def test_failed_container_with_continue_on_error_leaves_no_step_running(
    project: Write,
) -> None:
    workflow(
        project,
        """
        steps:
          - id: each
            foreach: [1, 2]
            timeout: 100ms
            continue_on_error: true
            steps:
              - {id: wait, tool: nap, with: {seconds: 5}}
          - id: both
            continue_on_error: true
            parallel:
              - {id: slow, tool: nap, with: {seconds: 5}}
              - {id: bad, tool: boom, with: {reason: "x"}}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert steps(detail)["each"].error == "timed out after 100ms"
    assert [s.key for s in detail.steps if s.status == "running"] == []


# -- workflow limits -------------------------------------------------------------------------


async def test_workflow_timeout_fails_the_job_and_keeps_finished_steps(project: Write) -> None:
    workflow(
        project,
        """
        timeout: 300ms
        steps:
          - id: quick
            tool: echo
            with: {text: "done"}
          - id: slow
            tool: nap
            with: {seconds: 5}
        """,
    )
    started = time.monotonic()
    detail = await run()
    assert time.monotonic() - started < 2
    assert (detail.status, detail.error) == ("failed", "workflow timed out after 300ms")
    assert detail.outputs is None
    records = steps(detail)
    assert brief(records["quick"]) == (
        "quick",
        "tool",
        "succeeded",
        1,
        {"text": "done", "words": 1},
        None,
    )
    # The step the timeout interrupted ends with the job instead of staying 'running'.
    assert brief(records["slow"]) == (
        "slow",
        "tool",
        "failed",
        1,
        None,
        "interrupted: workflow timed out after 300ms",
    )


async def test_workflow_max_concurrency_limits_steps_in_flight(project: Write) -> None:
    workflow(
        project,
        """
        max_concurrency: 2
        steps:
          - id: fan
            foreach: [a, b, c, d, e, f]
            steps:
              - id: probe
                tool: track
                with: {label: "${{ item }}", seconds: 0.05}
          - id: branches
            parallel:
              - {id: p1, tool: track, with: {label: "1", seconds: 0.05}}
              - {id: p2, tool: track, with: {label: "2", seconds: 0.05}}
              - {id: p3, tool: track, with: {label: "3", seconds: 0.05}}
        outputs:
          fan: ${{ steps.fan.output }}
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert detail.outputs == {"fan": list("abcdef")}
    assert engine_tools.in_flight["peak"] == 2


# -- outputs ---------------------------------------------------------------------------------


async def test_outputs_keep_native_types_and_interpolate_text(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          n: {type: integer, default: 3}
          flag: {type: boolean, default: true}
          tags: {type: array, default: [x, y]}
        steps:
          - id: count
            tool: echo
            with: {text: "one two"}
        outputs:
          number: ${{ inputs.n }}
          flag: ${{ inputs.flag }}
          tags: ${{ inputs.tags }}
          object: ${{ steps.count.output }}
          nothing: ${{ none }}
          text: "n=${{ inputs.n }} flag=${{ inputs.flag }}"
          json: "count=${{ steps.count.output }} tags=${{ inputs.tags }}"
          joined: ${{ inputs.tags | join('+') }}
          literal: plain text
          ids: "${{ job.workflow }}/${{ job.id }}"
        """,
    )
    detail = await run(n="7")
    job = detail
    assert job.status == "succeeded", job.error
    assert job.outputs == {
        "number": 7,
        "flag": True,
        "tags": ["x", "y"],
        "object": {"text": "one two", "words": 2},
        "nothing": None,
        "text": "n=7 flag=true",
        "json": 'count={"text": "one two", "words": 2} tags=["x", "y"]',
        "joined": "x+y",
        "literal": "plain text",
        "ids": f"wf/{job.job_id}",
    }

"""Workflow semantics of issue 11: exhausted loops, foreach items that may fail, value steps,
and a nested failure said once, at the innermost step.

Like test_scheduler, every test writes a project, runs a workflow through
``LocalBackend.run`` and reads the job, its step records and its log back from the store.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import (
    JobDetailView,
    LogsRequest,
    ResumeRequest,
    RunRequest,
    StepView,
)
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

TOOLS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: tally}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:tally"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: refuse}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:refuse"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: once}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:once"}
"""

DEAD_OWNER = f"{socket.gethostname()}:999999:dead"


@pytest.fixture
def project(write: Write) -> Write:
    """A project folder with the shared tools, agents and capabilities."""
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/tools.yaml", TOOLS)
    return write


async def run(name: str = "wf", **inputs: str) -> JobDetailView:
    """Run a workflow to its end through the backend and read its records back."""
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow=name, inputs=dict(inputs)))
        return await backend.job(job.job_id)


async def resume(job_id: str) -> JobDetailView:
    """Resume a job a dead process left running; read its records back."""
    async with LocalBackend() as backend:
        await backend.resume(ResumeRequest(job_id=job_id))
        await backend.wait(job_id)
        return await backend.job(job_id)


async def log(job_id: str, kind: str = "step") -> list[str]:
    """The job's log lines of one kind."""
    async with LocalBackend() as backend:
        return [e.message for e in await backend.logs(LogsRequest(job_id=job_id)) if e.kind == kind]


def steps(detail: JobDetailView) -> dict[str, StepView]:
    return {s.key: s for s in detail.steps}


def _manifests() -> list[str]:
    return [str(Path("m").resolve())]


async def seed(
    name: str, records: list[dict[str, Any]], inputs: dict[str, Any] | None = None
) -> str:
    """A job of workflow ``name`` as a process that died mid-run leaves it: ``records``
    (key, status, output, error, extra) finished, in order; its lease expired."""
    from agentgo_cli.store import open_store

    url, _ = LocalBackend().store_url()
    store = open_store(url)
    await store.start()
    try:
        job = await store.create_job(
            name,
            inputs or {},
            _manifests(),
            status="running",
            lease_owner=DEAD_OWNER,
            lease_seconds=-5,
        )
        for r in records:
            key = r["key"]
            await store.step_started(job.id, key, key.rsplit(".", 1)[-1], r.get("kind", "tool"), 1)
            await store.step_finished(
                job.id,
                key,
                r["status"],
                output=r.get("output"),
                error=r.get("error"),
                extra=r.get("extra"),
            )
        return job.id
    finally:
        await store.close()


def finished(detail: JobDetailView, *, but: set[str]) -> list[dict[str, Any]]:
    """The finished records of a live run, as ``seed`` takes them (leaving out ``but``)."""
    out = []
    for s in detail.steps:
        if s.key in but or s.status == "running":
            continue
        extra: dict[str, Any] = {}
        if s.exhausted:
            extra["exhausted"] = True
        if s.errors:
            extra["errors"] = [e.model_dump() for e in s.errors]
        out.append(
            {
                "key": s.key,
                "kind": s.kind,
                "status": s.status,
                "output": s.output,
                "error": s.error,
                "extra": extra or None,
            }
        )
    return out


# -- item 7: a loop whose until never held -----------------------------------------------------

LOOPS = """
steps:
  - id: spin
    loop:
      max_iterations: 3
      until: ${{ steps.turn.output.words > 5 }}
      steps:
        - id: turn
          tool: echo
          with: {text: "turn ${{ loop.iteration }}"}
  - id: met
    loop:
      max_iterations: 3
      until: ${{ loop.iteration == 2 }}
      steps:
        - {id: once, tool: echo, with: {text: "met"}}
  - id: bare
    loop:
      max_iterations: 2
      steps:
        - {id: again, tool: echo, with: {text: "again"}}
  - id: after
    tool: echo
    with:
      text: "${{ steps.spin.exhausted }} ${{ steps.met.exhausted }} ${{ steps.bare.exhausted }}"
outputs:
  spin: ${{ steps.spin.output.text }}
  said: ${{ steps.after.output.text }}
"""


async def test_a_loop_whose_until_never_held_succeeds_recorded_exhausted(project: Write) -> None:
    workflow(project, LOOPS)
    detail = await run()
    assert (detail.status, detail.error) == ("succeeded", None)
    # Only a loop with an until that never held is exhausted: running max_iterations is
    # what a loop without until is for.
    assert detail.outputs == {"spin": "turn 3", "said": "true false false"}
    records = steps(detail)
    assert [(k, records[k].status, records[k].exhausted) for k in ("spin", "met", "bare")] == [
        ("spin", "succeeded", True),
        ("met", "succeeded", False),
        ("bare", "succeeded", False),
    ]
    assert await log(detail.job_id) == [
        "loop 'spin' stopped after 3 iterations without meeting until"
    ]


async def test_on_exhausted_fail_fails_the_loop_naming_it_and_its_iterations(
    project: Write,
) -> None:
    workflow(
        project,
        """
        steps:
          - id: spin
            loop:
              max_iterations: 2
              until: ${{ false }}
              on_exhausted: fail
              steps:
                - {id: turn, tool: echo, with: {text: "turn"}}
          - {id: never, tool: echo, with: {text: "no"}}
        """,
    )
    detail = await run()
    reason = "loop 'spin' stopped after 2 iterations without meeting until (on_exhausted: fail)"
    assert (detail.status, detail.error) == ("failed", f"step 'spin' failed: {reason}")
    records = steps(detail)
    assert (records["spin"].status, records["spin"].error) == ("failed", reason)
    assert records["spin"].exhausted is True
    assert "never" not in records


async def test_exhausted_survives_a_resume(project: Write) -> None:
    workflow(project, LOOPS)
    live = await run()
    job_id = await seed("wf", finished(live, but={"after"}))
    detail = await resume(job_id)
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == live.outputs
    assert steps(detail)["spin"].exhausted is True


# -- item 8: foreach items that may fail ---------------------------------------------------------

ITEMS = """
inputs:
  names: {type: array, default: ["a", "bad", "c", "worse"]}
steps:
  - id: each
    foreach: ${{ inputs.names }}
    on_item_error: continue
    steps:
      - id: check
        if: ${{ item in ['bad', 'worse'] }}
        tool: refuse
        with: {label: "${{ item }}"}
      - id: work
        tool: tally
        with: {label: "${{ item }}"}
  - id: report
    tool: echo
    with: {text: "${{ steps.each.errors | map(attribute='index') | join(',') }}"}
outputs:
  each: ${{ steps.each.output }}
  errors: ${{ steps.each.errors }}
  failed: ${{ steps.report.output.text }}
"""

ITEM_ERRORS = [
    {"index": 1, "step": "each[1].check", "error": "tool 'refuse' raised ValueError: no bad"},
    {"index": 3, "step": "each[3].check", "error": "tool 'refuse' raised ValueError: no worse"},
]


async def test_on_item_error_continue_runs_every_item_and_lists_the_errors(
    project: Write,
) -> None:
    workflow(project, ITEMS)
    detail = await run()
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == {
        "each": [{"label": "a", "count": 1}, None, {"label": "c", "count": 1}, None],
        "errors": ITEM_ERRORS,
        "failed": "1,3",
    }
    records = steps(detail)
    each = records["each"]
    assert (each.status, each.error, each.output) == ("succeeded", None, detail.outputs["each"])
    assert [e.model_dump() for e in each.errors] == ITEM_ERRORS
    assert records["each[1].check"].status == "failed"
    assert "each[1].work" not in records  # the rest of a failed item's body does not run
    assert dict(engine_tools.calls) == {"a": 1, "c": 1, "refuse:bad": 1, "refuse:worse": 1}


async def test_a_failed_item_still_fails_the_foreach_by_default(project: Write) -> None:
    workflow(project, ITEMS.replace("    on_item_error: continue\n", ""))
    detail = await run()
    assert detail.status == "failed"
    assert steps(detail)["each"].errors == []


async def test_resume_does_not_rerun_finished_or_failed_items(project: Write) -> None:
    workflow(project, ITEMS)
    live = await run()
    engine_tools.reset()
    # A crash while item 3 ran: items 0 to 2 (one of them failed) are recorded, not 'each'.
    keep = {"each[0].check", "each[0].work", "each[1].check", "each[2].check", "each[2].work"}
    job_id = await seed("wf", finished(live, but={s.key for s in live.steps} - keep), live.inputs)
    detail = await resume(job_id)
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == live.outputs
    assert dict(engine_tools.calls) == {"refuse:worse": 1}  # only item 3 ran again
    assert [e.model_dump() for e in steps(detail)["each"].errors] == ITEM_ERRORS


async def test_resume_of_a_finished_foreach_keeps_its_errors(project: Write) -> None:
    workflow(project, ITEMS)
    live = await run()
    engine_tools.reset()
    job_id = await seed("wf", finished(live, but={"report"}), live.inputs)
    detail = await resume(job_id)
    assert detail.outputs == live.outputs
    assert dict(engine_tools.calls) == {}


# -- item 8: the value step ----------------------------------------------------------------------


async def test_a_value_step_computes_a_value(project: Write) -> None:
    workflow(
        project,
        """
        inputs:
          n: {type: integer, default: 21}
        steps:
          - id: double
            value: ${{ inputs.n * 2 }}
          - id: literal
            value: {list: [1, 2], text: "n=${{ inputs.n }}"}
          - id: skipped
            if: ${{ false }}
            value: 1
          - id: broken
            value: ${{ steps.double.output.nope }}
            continue_on_error: true
          - id: use
            tool: echo
            with: {text: "${{ steps.double.output }} ${{ steps.broken.status }}"}
        outputs:
          double: ${{ steps.double.output }}
          literal: ${{ steps.literal.output }}
          use: ${{ steps.use.output.text }}
        """,
    )
    detail = await run()
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == {
        "double": 42,
        "literal": {"list": [1, 2], "text": "n=21"},
        "use": "42 failed",
    }
    records = steps(detail)
    assert [(s.key, s.kind, s.status, s.tokens, s.cost_usd) for s in detail.steps] == [
        ("double", "value", "succeeded", 0, 0.0),
        ("literal", "value", "succeeded", 0, 0.0),
        ("skipped", "value", "skipped", 0, 0.0),
        ("broken", "value", "failed", 0, 0.0),
        ("use", "tool", "succeeded", 0, 0.0),
    ]
    assert records["broken"].error == (
        "m/wf.yaml:16:14: expression '${{ steps.double.output.nope }}' failed: 'int object' "
        "has no attribute 'nope'"
    )


async def test_a_value_step_is_not_run_again_on_resume(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - {id: when, value: "recorded"}
          - {id: say, tool: echo, with: {text: "${{ steps.when.output }}"}}
        outputs:
          said: ${{ steps.say.output.text }}
        """,
    )
    job_id = await seed(
        "wf", [{"key": "when", "kind": "value", "status": "succeeded", "output": "before"}]
    )
    detail = await resume(job_id)
    assert detail.outputs == {"said": "before"}


# -- item 9: a nested failure, said once -------------------------------------------------------


async def test_a_nested_failure_is_said_once_at_the_innermost_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: each
            foreach: [1]
            steps:
              - id: rounds
                loop:
                  max_iterations: 2
                  steps:
                    - id: both
                      parallel:
                        - {id: slow, tool: nap, with: {seconds: 5}}
                        - {id: enrich, tool: boom, with: {reason: "no data"}}
        """,
    )
    detail = await run()
    inner = "each[0].rounds#1.both.enrich"
    reason = "tool 'boom' raised ValueError: no data"
    assert (detail.status, detail.error) == ("failed", f"step '{inner}' failed: {reason}")
    assert {s.key: (s.status, s.error) for s in detail.steps} == {
        "each": ("failed", f"step '{inner}' failed: {reason}"),
        "each[0].rounds": ("failed", f"step '{inner}' failed: {reason}"),
        "each[0].rounds#1.both": ("failed", f"step '{inner}' failed: {reason}"),
        "each[0].rounds#1.both.slow": ("failed", f"interrupted: step '{inner}' failed"),
        inner: ("failed", reason),
    }
    assert await log(detail.job_id) == [f"{inner} failed: {reason}"]
    assert await log(detail.job_id, "job") == [f"failed: step '{inner}' failed: {reason}"]


async def test_a_container_that_fails_by_itself_is_the_innermost_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: outer
            foreach: [1]
            steps:
              - {id: inner, foreach: "${{ 'not a list' }}", steps: [{id: x, value: 1}]}
        """,
    )
    detail = await run()
    assert detail.error == "step 'outer[0].inner' failed: foreach needs a list, got str"


async def test_a_failed_item_with_continue_names_its_innermost_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: each
            foreach: [1, 2]
            on_item_error: continue
            steps:
              - id: pair
                parallel:
                  - {id: bad, if: "${{ item == 2 }}", tool: boom, with: {reason: "two"}}
        outputs:
          errors: ${{ steps.each.errors }}
        """,
    )
    detail = await run()
    assert detail.outputs == {
        "errors": [
            {"index": 1, "step": "each[1].pair.bad", "error": "tool 'boom' raised ValueError: two"}
        ]
    }
    # Resumed after a crash that left the foreach unfinished, the failed container of item 1
    # fails again as it did: in the name of its innermost step, with that step's reason.
    job_id = await seed("wf", await stored(detail.job_id, but={"each"}))
    resumed = await resume(job_id)
    assert resumed.outputs == detail.outputs


async def stored(job_id: str, *, but: set[str]) -> list[dict[str, Any]]:
    """The step records of a job as the store holds them (with their details), as ``seed``
    takes them (leaving out ``but``)."""
    from agentgo_cli.store import open_store

    url, _ = LocalBackend().store_url()
    store = open_store(url)
    await store.start()
    try:
        records = await store.steps(job_id)
    finally:
        await store.close()
    return [
        {
            "key": r.key,
            "kind": r.kind,
            "status": r.status,
            "output": r.output,
            "error": r.error,
            "extra": r.extra or None,
        }
        for r in records
        if r.key not in but
    ]


async def test_a_new_attempt_of_a_container_runs_its_body_again_after_a_resume(
    project: Write,
) -> None:
    workflow(
        project,
        """
        steps:
          - id: each
            foreach: [a]
            retry: {max_attempts: 3, backoff: fixed, initial: 10ms}
            steps:
              - {id: try, tool: once, with: {label: "${{ item }}"}}
        outputs:
          each: ${{ steps.each.output }}
        """,
    )
    # A crash after the first attempt's item failed, while the foreach was being retried.
    job_id = await seed(
        "wf", [{"key": "each[0].try", "status": "failed", "error": "first call of a"}]
    )
    detail = await resume(job_id)
    # Attempt 1 reads the recorded failure; attempts 2 and 3 run the item again.
    assert (detail.status, detail.error) == ("succeeded", None)
    assert detail.outputs == {"each": [{"label": "a"}]}
    assert steps(detail)["each"].attempt == 3
    assert dict(engine_tools.calls) == {"once:a": 2}

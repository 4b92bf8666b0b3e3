"""How a step instance ends: its events, its failure record, a resume's inner records.

The scheduler (``engine/scheduler.py``) runs a step; these functions keep what its end
leaves behind. ``mark_started`` and ``report_finished`` keep ``run.inflight`` (the steps a
stop or a failing container cuts short) and report an attempt to the run's observer;
``fail_step`` records a failure, ends the inner steps it cut off and raises StepFailed
unless the step continues on error; ``interrupt_inflight`` ends the steps a job's
timeout or cancel cut short; ``forget_inner`` and ``restore_inner`` handle the records a
resume read of a container's inner steps; ``ended_record`` is the record a run returns at
its end without reading it back.

They are plain functions over the job's Run, called directly from the per-step path: no
method layer between the scheduler and them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agentgo_cli.engine.state import Run, Scope, StepFailed, inside, log_line, position
from agentgo_cli.engine.steps import BY_NAME, KINDS
from agentgo_cli.observer import StepFinished, StepStarted
from agentgo_cli.store.base import JobRecord, JobStore, StepStatus

__all__ = [
    "ended_record",
    "fail_step",
    "forget_inner",
    "interrupt_inflight",
    "mark_started",
    "report_finished",
    "restore_inner",
]


def mark_started(run: Run, key: str, step_id: str, kind: str, attempt: int) -> None:
    """Count step ``key`` as in flight; report its attempt's start when someone listens."""
    run.inflight.add(key)
    observer = run.observer
    if observer is not None:
        run.started[key] = time.monotonic()
        observer.emit(StepStarted(run.job.id, key, step_id, kind, attempt))


def report_finished(
    run: Run,
    key: str,
    step_id: str,
    kind: str,
    status: str,
    attempt: int,
    tokens: int,
    cost_usd: float,
    error: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Report a step's end to the run's observer (the caller checked it has one);
    ``details``: what its record notes beyond its output (its extra)."""
    assert run.observer is not None
    seconds = time.monotonic() - run.started.pop(key, time.monotonic())
    if run.redactor:
        error = run.redactor.text(error) if error is not None else None
        details = run.redactor.value(details) if details else details
    run.observer.emit(
        StepFinished(
            run.job.id,
            key,
            step_id,
            kind,
            status,
            attempt,
            seconds,
            tokens,
            cost_usd,
            error,
            details,
        )
    )


async def fail_step(
    store: JobStore,
    run: Run,
    step: Any,
    key: str,
    kind: str,
    scope: Scope,
    message: str,
    attempt: int,
    tokens: int = 0,
    cost_usd: float = 0.0,
    details: dict[str, Any] | None = None,
    cause: StepFailed | None = None,
) -> None:
    """Record a step's failure; raise StepFailed unless it continues on error.

    ``cause``: the failure of a step inside this container that failed it. It was
    logged where it happened and is passed on as it is (the innermost key and its
    reason), so a nested failure is said once; this step's error is the same text
    (``step '<inner key>' failed: <reason>``) and its record names the inner step.
    """
    job_id = run.job.id
    if cause is None:
        line = f"{key} failed: {message}"
        await log_line(store, run.observer, job_id, "step", line, None, run.redactor, run.lease)
    else:
        details = {**(details or {}), "failed_step": cause.key}
    # Inner steps a failing container cut off end with it, not 'running'.
    inner = [k for k in run.inflight if k != key and inside(k, key)]
    failed = key if cause is None else cause.key
    for inner_key in sorted(inner):
        run.inflight.discard(inner_key)
        await store.step_finished(
            job_id,
            inner_key,
            StepStatus.FAILED,
            error=f"interrupted: step '{failed}' failed",
            lease=run.lease,
        )
    await store.step_finished(
        job_id,
        key,
        StepStatus.FAILED,
        error=message,
        tokens=tokens,
        cost_usd=cost_usd,
        lease=run.lease,
        extra=details,
    )
    run.tokens += tokens
    run.cost_usd += cost_usd
    run.inflight.discard(key)
    if run.observer is not None:
        report_finished(
            run, key, step.id, kind, StepStatus.FAILED, attempt, tokens, cost_usd, message, details
        )
    fields = KINDS[type(step)].scope_fields(details)
    scope.set_step(step.id, StepStatus.FAILED, None, message, fields)
    if not step.continue_on_error:
        raise cause or StepFailed(key, message)
    return None


async def interrupt_inflight(store: JobStore, run: Run, reason: str) -> None:
    """End every step still in flight as failed with ``reason`` (the job ends without them)."""
    await asyncio.gather(
        *(
            store.step_finished(run.job.id, key, StepStatus.FAILED, error=reason, lease=run.lease)
            for key in sorted(run.inflight)
        )
    )


def forget_inner(run: Run, key: str) -> None:
    """Drop the records a resume read of the steps inside container ``key``: they are
    an earlier attempt's, and the container's next attempt runs its body again."""
    for inner_key in [k for k in run.done if k != key and inside(k, key)]:
        del run.done[inner_key]


def restore_inner(run: Run, key: str, scope: Scope) -> None:
    """Put the latest values of a finished container's inner steps back in scope."""
    inner = [(k, r) for k, r in run.done.items() if k != key and inside(k, key)]
    # The latest value is the last item's or iteration's, as in a live run.
    inner.sort(key=lambda pair: position(pair[0][len(key) :]))
    for _, record in inner:
        kind = BY_NAME.get(record.kind)
        fields = kind.scope_fields(record.extra) if kind is not None else None
        scope.set_step(record.step_id, record.status, record.output, record.error, fields)


def ended_record(
    job: JobRecord, run: Run, status: str, values: dict[str, Any] | None, error: str | None
) -> JobRecord:
    """What a read of the job would give once its run ended; built here without one."""
    return JobRecord(
        job.id,
        job.workflow,
        status,
        job.inputs,
        job.manifests,
        job.created_at,
        time.time(),
        values,
        error,
        None,
        None,
        job.cancel_requested,
        job.cost_usd + run.cost_usd,
        job.tokens + run.tokens,
        job.principal,
        job.scopes,
        job.lease_epoch,
        job.owners_lost,
    )

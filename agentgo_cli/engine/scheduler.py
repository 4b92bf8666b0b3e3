"""Run workflow jobs on one event loop, durably, resuming where a job stopped.

A job replays its workflow from the start. Every step instance has a stable key (its path
in the run: ``draft``, ``research[1].summarize``, ``polish#2.review``, ``checks.count``).
A step whose finished record is in the store is not run again: its recorded output is put
back in scope. A step that was in flight when the process died runs again, with the same
idempotency key (``<job id>:<key>``), so a tool can make its side effect happen once.
A step counts as finished only once ``store.step_finished`` has returned (committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.catalog import Catalog
from agentgo_cli.a2a.lifecycle import CURRENT, CallService
from agentgo_cli.engine._parts import (
    _FAILS_STEP,
    _LEAF_KINDS,
    _NO_EVENTS,
    JobEvents,
    _backoff,
    _check_budget,
    _gather,
    _inside,
    _kind,
    _merge_inner,
    _outputs,
    _position,
    _Refused,
    _Run,
    _Scope,
    _shadow_line,
    _StepFailed,
)
from agentgo_cli.engine.agent import run_agent
from agentgo_cli.engine.calls import AgentCalls
from agentgo_cli.engine.inputs import prepare_inputs
from agentgo_cli.engine.owners import local_principal, new_owner, owner_is_dead, tune_gc
from agentgo_cli.errors import AgentGoError, CallError, StepError
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.llm.hub import ModelHub
from agentgo_cli.manifests.manifest_set import ManifestSet
from agentgo_cli.manifests.models import (
    AgentManifest,
    ToolManifest,
    WorkflowManifest,
)
from agentgo_cli.manifests.models.workflow import (
    AgentStep,
    CallStep,
    ForeachStep,
    LoopStep,
    ParallelStep,
    TeamStep,
    ToolStep,
)
from agentgo_cli.store.base import JobRecord, JobStore, StepRecord
from agentgo_cli.tools.registry import (
    ToolContext,
    ToolRegistry,
)

if TYPE_CHECKING:
    from agentgo_cli.llm.cost import CallRecord
    from agentgo_cli.llm.reliability import ShadowRecord

__all__ = [
    "LEASE_SECONDS",
    "Engine",
    "JobEvents",
    "local_principal",
    "new_owner",
    "owner_is_dead",
    "prepare_inputs",
]

SHADOW_GRACE_SECONDS = 2.0
"""How long a job's end waits for its shadow calls; the rest are cancelled (and logged)."""

LEASE_SECONDS = 30.0
"""How long a job stays a process's without renewal; the engine renews every third of it."""

_FINISHED = frozenset({"succeeded", "failed", "skipped"})


class Engine(AgentCalls):
    """Runs and resumes jobs against a store and a manifest set."""

    def __init__(
        self,
        store: JobStore,
        mset: ManifestSet,
        *,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        models: ModelHub | None = None,
        principal: str | None = None,
        scopes: frozenset[str] = frozenset(),
    ) -> None:

        tune_gc()
        self.store = store
        self.mset = mset
        self.owner = owner or new_owner()
        self.lease_seconds = lease_seconds
        self.models = models or ModelHub()
        """Model clients, with the breakers every job of this engine shares."""
        self.principal = principal or local_principal()
        """Who jobs run for here: calls made by their steps and agents run as this principal."""
        self.scopes = scopes
        self._catalog: Catalog | None = None
        self._calls: CallService | None = None
        self.agents = {n: e.manifest for n, e in mset.of_kind("Agent").items()}
        self.workflows = {n: e.manifest for n, e in mset.of_kind("Workflow").items()}
        tools = {n: e.manifest for n, e in mset.of_kind("Tool").items()}
        self.tools = ToolRegistry({n: t for n, t in tools.items() if isinstance(t, ToolManifest)})
        self.tools.builtins.update(self._builtin_tools())
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._stopped: dict[str, str] = {}
        self._guard_task: asyncio.Future[None] | None = None
        self._fresh: set[str] = set()
        self._pending: set[asyncio.Future[Any]] = set()
        self._runs: dict[str, _Run] = {}
        """The jobs running here, by id (calls dispatched for them find their job)."""

    def workflow(self, name: str) -> WorkflowManifest:
        """The workflow of that name; StepError if the set has none."""
        wf = self.workflows.get(name)
        if not isinstance(wf, WorkflowManifest):
            raise StepError(f"workflow '{name}' is not in the manifest set")
        return wf

    async def submit(
        self,
        workflow: str,
        inputs: dict[str, Any],
        manifests: list[str],
        *,
        run_here: bool,
        principal: str | None = None,
        scopes: list[str] | None = None,
    ) -> JobRecord:
        """Check inputs and create a job: running under our lease, or queued for a worker.

        The job runs for ``principal`` (default: this engine's) with ``scopes``: its calls
        run as them, wherever the job runs.
        """
        wf = self.workflow(workflow)
        values = prepare_inputs(wf.spec.inputs, inputs)
        self.check_models(wf)
        job = await self.store.create_job(
            workflow,
            values,
            manifests,
            status="running" if run_here else "queued",
            lease_owner=self.owner if run_here else None,
            lease_seconds=self.lease_seconds,
            principal=principal or self.principal,
            scopes=sorted(scopes) if scopes is not None else sorted(self.scopes),
        )
        if run_here:
            self._fresh.add(job.id)  # no step records to read back
        return job

    def check_models(self, wf: WorkflowManifest) -> None:
        """ConfigError, naming the variable, when a model the workflow may call has no key."""
        refs: list[str] = []
        for name in sorted(self._agents_of(wf.spec.steps)):
            agent = self.agents.get(name)
            if isinstance(agent, AgentManifest):
                refs += self.models.refs_of(agent.spec)
        if any(not r.startswith("scripted:") for r in refs):
            self.models.check(refs)

    def _agents_of(self, steps: list[Any]) -> set[str]:
        """The agents a list of steps may run, directly or through call steps."""
        found: set[str] = set()
        for step in steps:
            if isinstance(step, AgentStep):
                found.add(step.agent)
            elif isinstance(step, CallStep):
                with contextlib.suppress(CallError):
                    entry = self.catalog.lookup(step.call)
                    if entry.target_kind == "agent":
                        found.add(entry.target_name)
            elif isinstance(step, ForeachStep):
                found |= self._agents_of(step.steps)
            elif isinstance(step, LoopStep):
                found |= self._agents_of(step.loop.steps)
            elif isinstance(step, ParallelStep):
                found |= self._agents_of(step.parallel)
        return found

    async def run(self, job: JobRecord, events: JobEvents | None = None) -> JobRecord:
        """Run (or resume) a job we hold the lease of, to its end; return the final record."""
        try:
            if job.cancel_requested:  # asked to stop while nobody ran it
                raise _Refused("cancelled", "cancelled on request")
            wf = self.workflow(job.workflow)
        except (_Refused, StepError) as exc:
            status, error = exc.args if isinstance(exc, _Refused) else ("failed", str(exc))
            await self.store.add_event(job.id, "job", f"{status}: {error}")
            await self.store.job_finished(job.id, status, error=error)
            return dataclasses.replace(
                job, status=status, error=error, updated_at=time.time(), lease_owner=None
            )
        fresh = job.id in self._fresh
        if fresh:
            self._fresh.discard(job.id)
            done: dict[str, StepRecord] = {}
        else:
            records = await self.store.steps(job.id)
            done = {r.key: r for r in records if r.status in _FINISHED}
        limit = wf.spec.max_concurrency
        run = _Run(
            job=job,
            workflow=wf,
            done=done,
            semaphore=asyncio.Semaphore(limit) if limit else None,
            events=events or _NO_EVENTS,
            budget=wf.spec.budget,
        )
        scope = _Scope(
            {
                "inputs": job.inputs,
                "steps": {},
                "job": {"id": job.id, "workflow": job.workflow},
            }
        )
        if not fresh:  # a new job's start is its created_at; a resume is worth a line
            message = f"{job.workflow} resumed by {self.owner} with {len(done)} finished steps"
            await self.store.add_event(job.id, "job", message)
        # The workflow runs in the caller's task (no task of its own per job): the guard
        # cancels this task to stop the job, and says why in self._stopped.
        task = asyncio.current_task()
        assert task is not None, "Engine.run must be awaited in a task"
        self._running[job.id] = task
        self._runs[job.id] = run
        if self._guard_task is None or self._guard_task.done():
            self._guard_task = asyncio.ensure_future(self._guard())
        status, outputs, error = "failed", None, None
        deadline_s = wf.spec.timeout.seconds if wf.spec.timeout is not None else None
        try:
            async with asyncio.timeout(deadline_s) as deadline:
                # The top-level steps are run here rather than through _steps: each
                # coroutine level costs every step of ten thousand jobs a little.
                last = wf.spec.steps[-1]
                for step in wf.spec.steps:
                    # The last step's record commits with job_finished: one wait, not two.
                    await self._step(run, step, step.id, scope, wait=step is not last)
                outputs = _outputs(wf, scope)
            status = "succeeded"
        except TimeoutError:
            if not deadline.expired():
                raise  # pragma: no cover - steps turn their own timeouts into step failures
            error = f"workflow timed out after {wf.spec.timeout}"
        except asyncio.CancelledError:
            reason = self._stopped.pop(job.id, None)
            if reason is None:
                raise  # our own caller cancelled us: leave the job to be resumed
            task.uncancel()
            if reason == "lost":
                return job  # another owner took the job over; it is theirs to finish
            status, error = "cancelled", "cancelled on request"
        except _StepFailed as exc:
            error = str(exc)
        except AgentGoError as exc:
            error = str(exc)
        finally:
            self._running.pop(job.id, None)
            self._runs.pop(job.id, None)
            if self._stopped.pop(job.id, None) is not None:
                task.uncancel()  # a stop whose cancel some step swallowed
        if status in ("failed", "cancelled") and run.inflight:
            # Steps the timeout or the cancel interrupted end with the job, not 'running'.
            reason = "interrupted: " + (error or status)
            await asyncio.gather(
                *(
                    self.store.step_finished(job.id, key, "failed", error=reason)
                    for key in sorted(run.inflight)
                )
            )
        if run.clients:
            await self._settle_models(run)
        ending = f"{status}: {error}" if error else status
        await self.store.add_event(job.id, "job", ending)
        await self.store.job_finished(job.id, status, outputs=outputs, error=error)
        return JobRecord(  # what a read would now give; built here without one
            job.id,
            job.workflow,
            status,
            job.inputs,
            job.manifests,
            job.created_at,
            time.time(),
            outputs,
            error,
            None,
            None,
            job.cancel_requested,
            job.cost_usd + run.cost_usd,
            job.tokens + run.tokens,
            job.principal,
            job.scopes,
        )

    async def _settle_models(self, run: _Run) -> None:
        """At a job's end: let shadow calls finish (briefly) and log what the models cost."""
        await asyncio.gather(*(c.drain(SHADOW_GRACE_SECONDS) for c in run.clients))
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if run.costs is not None and run.costs.calls:
            costs = run.costs
            message = f"models: {costs.calls} call(s), {costs.tokens} tokens, ${costs.usd:.6f}" + (
                f"; shadow ${costs.shadow_usd:.6f}" if costs.shadow_calls else ""
            )
            await self.store.add_event(run.job.id, "cost", message, costs.as_dict())

    async def _guard(self) -> None:
        """While jobs run here: renew their leases and stop the ones asked to cancel."""
        renew_every = max(0.05, self.lease_seconds / 3)
        last_renew = time.monotonic()
        while self._running:
            await asyncio.sleep(min(1.0, renew_every))
            running = dict(self._running)
            if not running:
                break
            for job_id in await self.store.cancelled_ids(list(running)):
                self._stop(job_id, running[job_id], "cancelled")
            if time.monotonic() - last_renew >= renew_every:
                last_renew = time.monotonic()
                held = await asyncio.gather(
                    *(self.store.renew_lease(j, self.owner, self.lease_seconds) for j in running)
                )
                for (job_id, task), ok in zip(running.items(), held, strict=True):
                    if not ok:
                        self._stop(job_id, task, "lost")

    def _stop(self, job_id: str, task: asyncio.Task[Any], reason: str) -> None:
        """Cancel the task running a job, if it still runs that job (after an await, the
        task may have finished the job and gone on to other work)."""
        if self._running.get(job_id) is task and job_id not in self._stopped:
            self._stopped[job_id] = reason
            task.cancel()

    # -- steps ---------------------------------------------------------------------------

    async def _steps(self, run: _Run, steps: list[Any], prefix: str, scope: _Scope) -> Any:
        """Run steps in order; return the last one's output."""
        last: Any = None
        for step in steps:
            last = await self._step(run, step, prefix + step.id, scope)
        return last

    async def _step(
        self, run: _Run, step: Any, key: str, scope: _Scope, *, wait: bool = True
    ) -> Any:
        """Run one step instance (or restore its recorded result) and return its output.

        ``wait=False`` (a job's last top-level step) does not wait for the success record to
        commit: the job's own end record, which the caller awaits next, commits it.
        """

        record = run.done.get(key)
        if record is not None:
            # Finished before: never run again; put its result back in scope.
            if isinstance(step, ForeachStep | LoopStep | ParallelStep):
                self._restore_inner(run, step, key, scope)
            scope.set_step(step.id, record.status, record.output, record.error)
            return record.output
        kind = _kind(step)
        if step.if_ is not None:
            try:
                wanted = render(step.if_, scope.values)
            except ExpressionError as exc:
                await self.store.step_started(run.job.id, key, step.id, kind, 1)
                return await self._fail(run, step, key, kind, scope, f"if: {exc}", 1)
            if not wanted:
                await self.store.step_started(run.job.id, key, step.id, kind, 1)
                await self.store.step_finished(run.job.id, key, "skipped")
                self._emit(run, key, kind, "skipped")
                scope.set_step(step.id, "skipped")
                return None
        retry = step.retry
        attempts = retry.max_attempts if retry else 1
        attempt = 1
        spent, spent_usd = 0, 0.0  # failed attempts: every attempt is paid for
        while True:
            await self.store.step_started(run.job.id, key, step.id, kind, attempt)
            self._emit(run, key, kind, "running")
            try:
                if kind in _LEAF_KINDS and run.semaphore is None:
                    work = self._leaf(run, step, key, scope, attempt)  # one coroutine less
                else:
                    work = self._execute(run, step, key, kind, scope, attempt)
                if step.timeout is None:
                    output, tokens, cost = await work
                else:
                    async with asyncio.timeout(step.timeout.seconds):
                        output, tokens, cost = await work
            except _FAILS_STEP as exc:
                message = (
                    f"timed out after {step.timeout}" if isinstance(exc, TimeoutError) else str(exc)
                )
                used = spent + getattr(exc, "tokens", 0)
                used_usd = spent_usd + getattr(exc, "cost_usd", 0.0)
                if attempt < attempts and retry is not None:
                    spent, spent_usd = used, used_usd
                    await self.store.add_event(
                        run.job.id, "retry", f"{key}: attempt {attempt} failed: {message}"
                    )
                    await asyncio.sleep(_backoff(retry, attempt))
                    attempt += 1
                    continue
                return await self._fail(
                    run, step, key, kind, scope, message, attempt, used, used_usd
                )
            tokens += spent
            cost += spent_usd
            await self.store.step_finished(
                run.job.id,
                key,
                "succeeded",
                output=output,
                tokens=tokens,
                cost_usd=cost,
                wait=wait,
            )
            run.tokens += tokens
            run.cost_usd += cost
            self._emit(run, key, kind, "succeeded", tokens)
            scope.set_step(step.id, "succeeded", output)
            if run.budget is not None:
                _check_budget(run)
            return output

    async def _fail(
        self,
        run: _Run,
        step: Any,
        key: str,
        kind: str,
        scope: _Scope,
        message: str,
        attempt: int,
        tokens: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        await self.store.add_event(run.job.id, "step", f"{key} failed: {message}")
        # Inner steps a failing container cut off end with it, not 'running'.
        inner = [k for k in run.inflight if k != key and _inside(k, key)]
        for inner_key in sorted(inner):
            run.inflight.discard(inner_key)
            await self.store.step_finished(
                run.job.id, inner_key, "failed", error=f"interrupted: step '{key}' failed"
            )
        await self.store.step_finished(
            run.job.id, key, "failed", error=message, tokens=tokens, cost_usd=cost_usd
        )
        run.tokens += tokens
        run.cost_usd += cost_usd
        self._emit(run, key, kind, "failed", tokens, error=message)
        scope.set_step(step.id, "failed", None, message)
        if not step.continue_on_error:
            raise _StepFailed(key, message)
        return None

    def _emit(
        self, run: _Run, key: str, kind: str, status: str, tokens: int = 0, error: str | None = None
    ) -> None:
        callback = run.events.on_step
        now = time.monotonic()
        if status == "running":
            run.started[key] = now
            run.inflight.add(key)
        else:
            run.inflight.discard(key)
        if callback is not None:
            callback(key, kind, status, now - run.started.get(key, now), tokens, error)

    def _restore_inner(self, run: _Run, step: Any, key: str, scope: _Scope) -> None:
        """Put the latest values of a finished container's inner steps back in scope."""
        inner = [(k, r) for k, r in run.done.items() if k != key and _inside(k, key)]
        # The latest value is the last item's or iteration's, as in a live run.
        inner.sort(key=lambda pair: _position(pair[0][len(key) :]))
        for _, record in inner:
            scope.set_step(record.step_id, record.status, record.output, record.error)

    async def _execute(
        self, run: _Run, step: Any, key: str, kind: str, scope: _Scope, attempt: int
    ) -> tuple[Any, int, float]:
        if isinstance(step, ForeachStep):
            return await self._foreach(run, step, key, scope), 0, 0.0
        if isinstance(step, LoopStep):
            return await self._loop(run, step, key, scope), 0, 0.0
        if isinstance(step, ParallelStep):
            return await self._parallel(run, step, key, scope), 0, 0.0
        if run.semaphore is None:
            return await self._leaf(run, step, key, scope, attempt)
        async with run.semaphore:
            return await self._leaf(run, step, key, scope, attempt)

    def _client(self, run: _Run, agent: AgentManifest) -> Any:
        """A model client for one agent invocation; its calls are counted on the job."""
        if agent.spec.model_ref.provider == "scripted":
            return self.models.client_for(agent.spec)
        job_id = run.job.id

        def on_call(call: CallRecord) -> None:
            if run.costs is None:
                from agentgo_cli.llm.cost import CostTracker

                run.costs = CostTracker()
            run.costs.record(call)

        client = self.models.client_for(
            agent.spec, on_call=on_call, on_shadow=self._shadow_logger(job_id)
        )
        run.clients.append(client)
        return client

    def _shadow_logger(self, job_id: str) -> Callable[[ShadowRecord], None]:
        """Log each shadow comparison on the job (kind 'shadow')."""

        def on_shadow(record: ShadowRecord) -> None:
            data = dataclasses.asdict(record)
            data["usage"] = {
                "input_tokens": record.usage.input_tokens,
                "output_tokens": record.usage.output_tokens,
            }
            self._later(self.store.add_event(job_id, "shadow", _shadow_line(record), data))

        return on_shadow

    def _later(self, work: Any) -> None:
        """Run a store write from a callback, keeping the task referenced until it ends."""
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _leaf(
        self, run: _Run, step: Any, key: str, scope: _Scope, attempt: int
    ) -> tuple[Any, int, float]:

        ctx = ToolContext(
            job_id=run.job.id, step_id=key, attempt=attempt, idempotency_key=f"{run.job.id}:{key}"
        )
        if isinstance(step, AgentStep):
            agent = self.agents.get(step.agent)
            if not isinstance(agent, AgentManifest):
                raise StepError(f"unknown agent '{step.agent}'")
            prompt = render(step.prompt, scope.values) if step.prompt is not None else None
            value = render(step.input, scope.values)
            calls = self._root_context(run, step.agent) if self._calls_possible(agent) else None
            token = CURRENT.set(calls) if calls is not None else None
            try:
                result = await run_agent(
                    agent,
                    prompt=None if prompt is None else str(prompt),
                    input=value,
                    tools=self.tools,
                    ctx=ctx,
                    client=self._client(run, agent),
                )
            finally:
                if token is not None:
                    CURRENT.reset(token)
            if calls is None:
                return result.output, result.usage.total, result.cost_usd
            spent = calls.spend  # what the agent's calls to other agents cost
            return result.output, result.usage.total + spent.tokens, result.cost_usd + spent.usd
        if isinstance(step, ToolStep):
            args = render(step.with_, scope.values)
            result = await self.tools.call(step.tool, args, ctx)
            try:
                json.dumps(result)
            except (TypeError, ValueError) as exc:
                raise StepError(
                    f"tool '{step.tool}' returned a value that is not JSON: {exc}"
                ) from None
            return result, 0, 0.0
        if isinstance(step, CallStep):
            return await self._call(run, step, render(step.input, scope.values), ctx)
        if isinstance(step, TeamStep):
            raise StepError(f"team '{step.team}': teams are not available in this version")
        raise StepError(f"unsupported step kind for '{key}'")  # pragma: no cover

    async def _call(
        self, run: _Run, step: CallStep, value: Any, ctx: Any
    ) -> tuple[Any, int, float]:
        """A typed call step: the whole call lifecycle, as the job's principal."""
        outcome = await self.calls.call(step.call, value, parent=self._root_context(run, None))
        return outcome.output, outcome.tokens, outcome.cost_usd

    async def _foreach(self, run: _Run, step: ForeachStep, key: str, scope: _Scope) -> list[Any]:

        items = render(step.foreach, scope.values)
        if not isinstance(items, list):
            raise StepError(f"foreach needs a list, got {type(items).__name__}")
        limit = asyncio.Semaphore(step.max_concurrency) if step.max_concurrency else None
        scopes: list[_Scope] = []

        async def one(index: int, item: Any) -> Any:
            inner = scope.child(**{step.as_: item, "index": index})
            scopes.append(inner)
            if limit is None:
                return await self._steps(run, step.steps, f"{key}[{index}].", inner)
            async with limit:
                return await self._steps(run, step.steps, f"{key}[{index}].", inner)

        results = await _gather(one(i, item) for i, item in enumerate(items))
        _merge_inner(scope, scopes, step.steps)
        return results

    async def _loop(self, run: _Run, step: LoopStep, key: str, scope: _Scope) -> Any:

        last: Any = None
        inner = scope
        for iteration in range(1, step.loop.max_iterations + 1):
            inner = scope.child(loop={"iteration": iteration})
            last = await self._steps(run, step.loop.steps, f"{key}#{iteration}.", inner)
            if step.loop.until is not None and render(step.loop.until, inner.values):
                break
        _merge_inner(scope, [inner], step.loop.steps)
        return last

    async def _parallel(self, run: _Run, step: ParallelStep, key: str, scope: _Scope) -> Any:
        limit = asyncio.Semaphore(step.max_concurrency) if step.max_concurrency else None
        scopes: list[_Scope] = []

        async def branch(inner_step: Any) -> Any:
            inner = scope.child()
            scopes.append(inner)
            if limit is None:
                return await self._step(run, inner_step, f"{key}.{inner_step.id}", inner)
            async with limit:
                return await self._step(run, inner_step, f"{key}.{inner_step.id}", inner)

        results = await _gather(branch(s) for s in step.parallel)
        _merge_inner(scope, scopes, step.parallel)
        return {s.id: r for s, r in zip(step.parallel, results, strict=True)}

"""Run workflow jobs on one event loop, durably, resuming where a job stopped.

A job replays its workflow from the start. Every step instance has a stable key (its path
in the run: ``draft``, ``research[1].summarize``, ``polish#2.review``, ``checks.count``).
A step whose finished record is in the store is not run again: its recorded output is put
back in scope. A step that was in flight when the process died runs again, with the same
idempotency key (``<job id>:<key>``), so a tool can make its side effect happen once.
A step counts as finished only once ``store.step_finished`` has returned (committed).

The scheduler does what every step kind shares (records, retries, timeouts, ``if``,
budgets); each kind's own work is its executor in ``engine/steps/``, and what a step's end
leaves (its failure record, events, a resume's inner records) is ``engine/outcomes.py``'s.
What happens is reported to the engine's observer, when it has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.calls import AgentCalls
from agentgo_cli.engine.clients import JobClients
from agentgo_cli.engine.gate import StepGate
from agentgo_cli.engine.inputs import prepare_inputs
from agentgo_cli.engine.outcomes import (
    ended_record,
    fail_step,
    forget_inner,
    interrupt_inflight,
    mark_started,
    report_finished,
    restore_inner,
)
from agentgo_cli.engine.owners import local_principal, new_owner, owner_is_dead, tune_gc
from agentgo_cli.engine.state import (
    FAILS_STEP,
    Refused,
    Run,
    Scope,
    StepFailed,
    backoff,
    check_budget,
    log_line,
    outputs,
)
from agentgo_cli.engine.steps import KINDS
from agentgo_cli.engine.trace import PAYLOAD_LIMIT, TraceLevel, TraceRecorder
from agentgo_cli.errors import AgentGoError, CallError, LeaseLost, StepError, ValueNotStorable
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.llm.hub import ModelHub
from agentgo_cli.manifests.manifest_set import ManifestSet
from agentgo_cli.manifests.models import (
    AgentManifest,
    TeamManifest,
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
)
from agentgo_cli.observer import (
    JobEnded,
    Observer,
    Observers,
    Redactor,
)
from agentgo_cli.store.base import (
    STEP_DONE,
    JobRecord,
    JobStatus,
    JobStore,
    Lease,
    StepRecord,
    StepStatus,
    to_json,
)
from agentgo_cli.teams.tools import team_tools
from agentgo_cli.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog
    from agentgo_cli.a2a.lifecycle import CallService

__all__ = [
    "LEASE_SECONDS",
    "Engine",
    "local_principal",
    "new_owner",
    "owner_is_dead",
    "prepare_inputs",
]

_logger = logging.getLogger("agentgo")

LEASE_SECONDS = 30.0
"""How long a job stays a process's without renewal; the engine renews every third of it."""
_LEASE_MARGIN = 0.1
"""The share of a lease not counted on: past 90 % of it, a step renews before it starts."""


class Engine:
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
        observer: Observer | None = None,
        redactor: Redactor | None = None,
        trace: TraceLevel = "steps",
        trace_limit: int = PAYLOAD_LIMIT,
        gate: StepGate | None = None,
    ) -> None:
        tune_gc()
        self.gate = gate or StepGate()
        """Counts the leaf steps at work; a stopping server closes it (engine/gate.py)."""
        self._runs: dict[str, Run] = {}
        """The jobs running here, by id (calls dispatched for them find their job)."""
        if trace != "off":  # every job run here records its trace (engine/trace.py)
            recorder = TraceRecorder(store, self._runs, level=trace, limit=trace_limit)
            observer = recorder if observer is None else Observers([recorder, observer])
        self.store = store
        self.mset = mset
        self.owner = owner or new_owner()
        self.lease_seconds = lease_seconds
        self.models = models or ModelHub()
        """Model clients, with the breakers every job of this engine shares."""
        self.principal = principal or local_principal()
        """Who jobs run for here: calls made by their steps and agents run as this principal."""
        self.scopes = scopes
        self.observer = observer
        """Where what happens is reported; None: no event is made at all."""
        if redactor is None and observer is not None:
            redactor = Redactor(self.models.secret_values())
        self.redactor = redactor
        """Masks the known secrets in the payloads of events (model turns, tool calls)."""
        self.agents = {n: e.manifest for n, e in mset.of_kind("Agent").items()}
        self.workflows = {n: e.manifest for n, e in mset.of_kind("Workflow").items()}
        self.teams = {n: e.manifest for n, e in mset.of_kind("Team").items()}
        tools = {n: e.manifest for n, e in mset.of_kind("Tool").items()}
        self.tools = ToolRegistry(
            {n: t for n, t in tools.items() if isinstance(t, ToolManifest)},
            files={n: e.doc.file for n, e in mset.of_kind("Tool").items()},
            observer=observer,
            redactor=redactor,
        )
        self.clients = JobClients(store, self.models)
        """The model clients of this engine's jobs (counted, shadow-logged, settled)."""
        self.agent_calls = AgentCalls(
            store,
            mset,
            agents=self.agents,
            tools=self.tools,
            models=self.models,
            principal=self.principal,
            scopes=scopes,
            runs=self._runs,
            client_for=self.clients.client_for,
            teams=self.teams,
            owner=self.owner,
            features=frozenset(mset.config.features if mset.config else ()),
            observer=observer,
            redactor=redactor,
        )
        """Calls between agents: the catalog, the call lifecycle and its dispatcher."""
        self.tools.builtins.update(self.agent_calls.builtin_tools())
        self.tools.builtins.update(team_tools(store))
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._stopped: dict[str, str] = {}
        self._guard_task: asyncio.Future[None] | None = None
        self._fresh: set[str] = set()

    @property
    def catalog(self) -> Catalog:
        """The intents of this engine's manifest set."""
        return self.agent_calls.catalog

    @property
    def calls(self) -> CallService:
        """The call lifecycle over this engine's catalog, dispatching to its agents."""
        return self.agent_calls.service

    def workflow(self, name: str) -> WorkflowManifest:
        """The workflow of that name, or the synthetic one of an A2A task
        (``a2a:<intent>@<version>``, a2a/task_workflow.py); StepError if the set has none."""
        wf = self.workflows.get(name)
        if wf is None:
            from agentgo_cli.a2a.task_workflow import PREFIX, call_workflow

            if name.startswith(PREFIX):
                wf = self.workflows[name] = call_workflow(name)
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
            status=JobStatus.RUNNING if run_here else JobStatus.QUEUED,
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
        self._check_agents(self._agents_of(wf.spec.steps))

    def check_target(self, target: str) -> None:
        """ConfigError, naming the variable, when a model a call's target (``agent:<name>``
        or ``team:<name>``: every agent its roles may use) has no key; before it runs."""
        self._check_agents(self._agents_of_target(target))

    def _check_agents(self, names: set[str]) -> None:
        refs: list[str] = []
        for name in sorted(names):
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
                    found |= self._agents_of_target(self.catalog.lookup(step.call).target)
            elif isinstance(step, TeamStep):
                found |= self._agents_of_team(step.team)
            elif isinstance(step, ForeachStep):
                found |= self._agents_of(step.steps)
            elif isinstance(step, LoopStep):
                found |= self._agents_of(step.loop.steps)
            elif isinstance(step, ParallelStep):
                found |= self._agents_of(step.parallel)
        return found

    def _agents_of_target(self, target: str) -> set[str]:
        """The agents a call target may run: the agent, or the team's (a remote A2A
        agent's are not ours)."""
        kind, _, name = target.partition(":")
        if kind == "a2a":
            return set()
        return {name} if kind == "agent" else self._agents_of_team(name)

    def _agents_of_team(self, name: str) -> set[str]:
        """The agents a team's roles may use (their fallbacks too)."""
        team = self.teams.get(name)
        if not isinstance(team, TeamManifest):
            return set()
        return {a for r in team.spec.roles for a in (r.agent, *r.fallback_agents)}

    def running(self) -> list[str]:
        """The ids of the jobs this engine runs now."""
        return list(self._running)

    def _shown(self, text: str | None) -> str | None:
        """Text for an event: secrets masked."""
        return self.redactor.text(text) if text is not None and self.redactor else text

    def _log(
        self,
        observer: Observer | None,
        job_id: str,
        kind: str,
        message: str,
        data: Any = None,
        *,
        lease: Lease | None,
    ) -> Awaitable[None]:
        return log_line(self.store, observer, job_id, kind, message, data, self.redactor, lease)

    def _lost(self, job: JobRecord) -> JobRecord:
        """Stop running a job whose lease another owner took: its records are theirs now."""
        if self.observer is not None:
            self.observer.emit(JobEnded(job.id, "lost", "the job's lease was taken over"))
        return job

    async def run(self, job: JobRecord, *, stream: bool = False) -> JobRecord:
        """Run (or resume) a job we hold the lease of, to its end; return the final record.

        With ``stream`` (someone watches the run live), agent steps stream their replies to
        the observer as ReplyDelta events.

        Every write of the job's records carries our lease (owner, epoch); once the store
        refuses one (LeaseLost: another process took the job over), the run stops without
        touching the job's records again.
        """
        observer = self.observer
        lease = Lease(self.owner, job.lease_epoch)
        try:
            if job.cancel_requested:  # asked to stop while nobody ran it
                raise Refused(JobStatus.CANCELLED, "cancelled on request")
            wf = self.workflow(job.workflow)
        except (Refused, StepError) as exc:
            status, error = exc.args if isinstance(exc, Refused) else (JobStatus.FAILED, str(exc))
            await self._log(observer, job.id, "job", f"{status}: {error}", lease=lease)
            try:
                await self.store.job_finished(job.id, status, error=error, lease=lease)
            except LeaseLost:
                return self._lost(job)
            if observer is not None:
                observer.emit(JobEnded(job.id, status, self._shown(error)))
            return dataclasses.replace(
                job, status=status, error=error, updated_at=time.time(), lease_owner=None
            )
        fresh = job.id in self._fresh
        if fresh:
            self._fresh.discard(job.id)
            done: dict[str, StepRecord] = {}
            in_flight: dict[str, float] = {}
        else:
            records = await self.store.steps(job.id)
            done = {r.key: r for r in records if r.status in STEP_DONE}
            in_flight = {r.key: r.started_at for r in records if r.status not in STEP_DONE}
        limit = wf.spec.max_concurrency
        run = Run(
            job=job,
            workflow=wf,
            done=done,
            semaphore=asyncio.Semaphore(limit) if limit else None,
            observer=observer,
            stream=stream and observer is not None,
            redactor=self.redactor,
            budget=wf.spec.budget,
            lease=lease,
            lease_until=self._until(job.lease_expires),
        )
        scope = Scope(
            {
                "inputs": job.inputs,
                "steps": {},
                "job": {"id": job.id, "workflow": job.workflow},
            }
        )
        if not fresh:  # a new job's start is its created_at; a resume is worth a line
            message = f"{job.workflow} resumed by {self.owner} with {len(done)} finished steps"
            cut = {"interrupted": in_flight} if in_flight else None  # steps the stop cut short
            await self._log(observer, job.id, "job", message, cut, lease=lease)
        # The workflow runs in the caller's task (no task of its own per job): the guard
        # cancels this task to stop the job, and says why in self._stopped.
        task = asyncio.current_task()
        assert task is not None, "Engine.run must be awaited in a task"
        self._running[job.id] = task
        self._runs[job.id] = run
        if self._guard_task is None or self._guard_task.done():
            self._guard_task = asyncio.ensure_future(self._guard())
        status, values, error = JobStatus.FAILED, None, None
        deadline_s = wf.spec.timeout.seconds if wf.spec.timeout is not None else None
        try:
            async with asyncio.timeout(deadline_s) as deadline:
                # The top-level steps are run here rather than through run_steps: each
                # coroutine level costs every step of ten thousand jobs a little.
                last = wf.spec.steps[-1]
                for step in wf.spec.steps:
                    # The last step's record commits with job_finished: one wait, not two.
                    await self.run_step(run, step, step.id, scope, wait=step is not last)
                produced = outputs(wf, scope)
                to_json(produced, "the outputs of the job")  # else the job could never end
                values = produced
            status = JobStatus.SUCCEEDED
        except TimeoutError:
            if not deadline.expired():
                raise  # pragma: no cover - steps turn their own timeouts into step failures
            error = f"workflow timed out after {wf.spec.timeout}"
        except asyncio.CancelledError:
            reason = self._stopped.pop(job.id, None)
            if reason is None:
                raise  # our own caller cancelled us: leave the job to be resumed
            task.uncancel()
            if reason == "lost":  # another owner took the job over; theirs to finish
                return self._lost(job)
            status, error = JobStatus.CANCELLED, "cancelled on request"
        except LeaseLost:  # the store refused a write of ours: the same
            return self._lost(job)
        except StepFailed as exc:
            error = str(exc)
        except AgentGoError as exc:
            error = str(exc)
            if isinstance(exc.__cause__, ExpressionError):  # an output's expression
                error = self._place(run, exc.__cause__, None) + error
        except Exception as exc:  # a defect must not leave the job running forever
            _logger.exception("job %s: internal error", job.id)
            error = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            self._running.pop(job.id, None)
            self._runs.pop(job.id, None)
            if self._stopped.pop(job.id, None) is not None:
                task.uncancel()  # a stop whose cancel some step swallowed
        try:
            if status != JobStatus.SUCCEEDED and run.inflight:
                # Steps the timeout or the cancel interrupted end with the job, not 'running'.
                await interrupt_inflight(self.store, run, "interrupted: " + (error or status))
            if run.clients:
                await self.clients.settle(run)
            ending = f"{status}: {error}" if error else str(status)
            await self._log(observer, job.id, "job", ending, lease=lease)
            await self.store.job_finished(job.id, status, outputs=values, error=error, lease=lease)
        except LeaseLost:
            return self._lost(job)
        if observer is not None:
            observer.emit(JobEnded(job.id, status, self._shown(error)))
        return ended_record(job, run, status, values, error)

    async def _guard(self) -> None:
        """While jobs run here: renew their leases and stop the ones asked to cancel."""
        renew_every = max(0.05, self.lease_seconds / 3)
        last_renew = time.monotonic()
        while self._running:
            await asyncio.sleep(min(1.0, renew_every))
            running = dict(self._running)
            if not running:
                break
            runs = {j: self._runs[j] for j in running}
            for job_id in await self.store.cancelled_ids(list(running)):
                self._stop(job_id, running[job_id], "cancelled")
            if time.monotonic() - last_renew >= renew_every:
                last_renew = time.monotonic()
                sent = time.time()
                held = await asyncio.gather(
                    *(
                        self.store.renew_lease(
                            j, runs[j].lease or Lease(self.owner, 0), self.lease_seconds
                        )
                        for j in running
                    )
                )
                for (job_id, task), ok in zip(running.items(), held, strict=True):
                    if ok:
                        runs[job_id].lease_until = self._until(sent + self.lease_seconds)
                    else:
                        self._stop(job_id, task, "lost")

    def _place(self, run: Run, exc: ExpressionError, step_id: str | None) -> str:
        """``file:line:col: `` of a failing expression of the job's workflow, or ''."""
        from agentgo_cli.engine.locate import expression_place

        return expression_place(self.mset, run.job.workflow, exc.source, step_id)

    def _until(self, expires: float | None) -> float:
        """Until when a lease expiring at ``expires`` is counted on (see Run.lease_until)."""
        if expires is None:
            expires = time.time() + self.lease_seconds
        return expires - self.lease_seconds * _LEASE_MARGIN

    async def _hold(self, run: Run, key: str) -> None:
        """Before step ``key`` starts past ``run.lease_until``: renew the lease, or raise
        LeaseLost when another process took the job meanwhile (then the step never runs)."""
        sent = time.time()
        assert run.lease is not None
        if not await self.store.renew_lease(run.job.id, run.lease, self.lease_seconds):
            raise LeaseLost(f"job {run.job.id} was taken over before step '{key}' could start")
        run.lease_until = self._until(sent + self.lease_seconds)

    def _stop(self, job_id: str, task: asyncio.Task[Any], reason: str) -> None:
        """Cancel the task running a job, if it still runs that job (after an await, the
        task may have finished the job and gone on to other work)."""
        if self._running.get(job_id) is task and job_id not in self._stopped:
            self._stopped[job_id] = reason
            task.cancel()

    # -- steps ---------------------------------------------------------------------------

    async def run_steps(self, run: Run, steps: list[Any], prefix: str, scope: Scope) -> Any:
        """Run steps in order (keys ``<prefix><id>``); return the last one's output."""
        last: Any = None
        for step in steps:
            last = await self.run_step(run, step, prefix + step.id, scope)
        return last

    async def run_step(
        self, run: Run, step: Any, key: str, scope: Scope, *, wait: bool = True
    ) -> Any:
        """Run one step instance (or restore its recorded result) and return its output.

        ``wait=False`` (a job's last top-level step) does not wait for the success record to
        commit: the job's own end record, which the caller awaits next, commits it.
        """
        step_kind = KINDS.get(type(step))
        if step_kind is None:  # pragma: no cover - a test checks every kind has one
            raise StepError(f"unsupported step kind for '{key}'")
        record = run.done.get(key)
        if record is not None:
            # Finished before: never run again; put its result back in scope.
            if not step_kind.leaf and step_kind.scoped_inner:
                restore_inner(run, key, scope)
            fields = step_kind.scope_fields(record.extra)
            scope.set_step(step.id, record.status, record.output, record.error, fields)
            if record.status == StepStatus.FAILED and not step.continue_on_error:
                raise StepFailed.of_record(record)  # as it failed then (a foreach item's)
            return record.output
        kind = step_kind.name
        job_id = run.job.id
        if step.if_ is not None:
            try:
                wanted = render(step.if_, scope.values)
            except ExpressionError as exc:
                await self.store.step_started(job_id, key, step.id, kind, 1, lease=run.lease)
                mark_started(run, key, step.id, kind, 1)
                where = self._place(run, exc, step.id)
                return await fail_step(
                    self.store, run, step, key, kind, scope, f"{where}if: {exc}", 1
                )
            if not wanted:
                await self.store.step_started(job_id, key, step.id, kind, 1, lease=run.lease)
                mark_started(run, key, step.id, kind, 1)
                await self.store.step_finished(job_id, key, StepStatus.SKIPPED, lease=run.lease)
                run.inflight.discard(key)
                if run.observer is not None:
                    report_finished(run, key, step.id, kind, StepStatus.SKIPPED, 1, 0, 0.0)
                scope.set_step(step.id, StepStatus.SKIPPED, fields=step_kind.scope_fields(None))
                return None
        retry = step.retry
        attempts = retry.max_attempts if retry else 1
        attempt = 1
        spent, spent_usd = 0, 0.0  # failed attempts: every attempt is paid for
        execute = step_kind.execute
        limited = step_kind.leaf and run.semaphore is not None
        gate = self.gate
        while True:
            if gate.closed:  # the process stops: no new step (it is cancelled here)
                await gate.park(job_id)
            if time.time() >= run.lease_until:  # our lease may have run out: renew first
                await self._hold(run, key)
            await self.store.step_started(job_id, key, step.id, kind, attempt, lease=run.lease)
            mark_started(run, key, step.id, kind, attempt)
            try:
                work = execute(self, run, step, key, scope, attempt)
                if limited:
                    work = self._limited(run, work)
                gate.active += step_kind.leaf
                try:
                    if step.timeout is None:
                        output, tokens, cost = await work
                    else:
                        async with asyncio.timeout(step.timeout.seconds):
                            output, tokens, cost = await work
                finally:
                    gate.active -= step_kind.leaf
            except FAILS_STEP as exc:
                details = run.details.pop(key, None)
                message = (
                    f"timed out after {step.timeout}" if isinstance(exc, TimeoutError) else str(exc)
                )
                if isinstance(exc, ExpressionError):
                    message = self._place(run, exc, step.id) + message
                used = spent + getattr(exc, "tokens", 0)
                used_usd = spent_usd + getattr(exc, "cost_usd", 0.0)
                if attempt < attempts and retry is not None:
                    spent, spent_usd = used, used_usd
                    line = f"{key}: attempt {attempt} failed: {message}"
                    took = time.monotonic() - run.started.get(key, time.monotonic())
                    data = {"key": key, "attempt": attempt, "error": message, "seconds": took}
                    await self._log(run.observer, job_id, "retry", line, data, lease=run.lease)
                    await asyncio.sleep(backoff(retry, attempt))
                    if not step_kind.leaf and run.done:
                        forget_inner(run, key)  # a new attempt runs the body again
                    attempt += 1
                    continue
                cause = exc if isinstance(exc, StepFailed) else None
                return await fail_step(
                    self.store,
                    run,
                    step,
                    key,
                    kind,
                    scope,
                    message,
                    attempt,
                    used,
                    used_usd,
                    details,
                    cause,
                )
            details = run.details.pop(key, None)
            tokens += spent
            cost += spent_usd
            try:
                await self.store.step_finished(
                    job_id,
                    key,
                    StepStatus.SUCCEEDED,
                    output=output,
                    tokens=tokens,
                    cost_usd=cost,
                    wait=wait,
                    lease=run.lease,
                    extra=details,
                )
            except ValueNotStorable as exc:  # nothing was written: the step fails instead
                return await fail_step(
                    self.store, run, step, key, kind, scope, str(exc), attempt, tokens, cost
                )
            run.tokens += tokens
            run.cost_usd += cost
            run.inflight.discard(key)
            if run.observer is not None:
                succeeded = StepStatus.SUCCEEDED
                report_finished(
                    run, key, step.id, kind, succeeded, attempt, tokens, cost, details=details
                )
            fields = step_kind.scope_fields(details)
            scope.set_step(step.id, StepStatus.SUCCEEDED, output, None, fields)
            if run.budget is not None:
                check_budget(run)
            return output

    @staticmethod
    async def _limited(run: Run, work: Awaitable[tuple[Any, int, float]]) -> Any:
        """A leaf step's work, within the workflow's max_concurrency."""
        assert run.semaphore is not None
        async with run.semaphore:
            return await work

"""Run the project in the current folder (agentgo.yaml and its manifests) on the engine
directly: what the engine tests need, without the backend or the CLI in between."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgo_cli.a2a.lifecycle import CallContext, CallOutcome, Spend
from agentgo_cli.a2a.trace import TraceContext, parse_traceparent
from agentgo_cli.config import LoadedConfig, load_config
from agentgo_cli.engine.engines import Engines
from agentgo_cli.engine.inputs import parse_cli_value
from agentgo_cli.engine.owners import local_principal
from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.engine.worker import Worker
from agentgo_cli.errors import ManifestSetError
from agentgo_cli.llm.hub import ModelHub
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.manifests.models import AgentManifest
from agentgo_cli.store import open_store
from agentgo_cli.store.base import EventRecord, JobRecord, JobStore, StepRecord

DEFAULT_STORE = "sqlite:///.agentgo/agentgo.db"


@dataclass
class RunRequest:
    """A workflow (by name) to run, with ``-i`` pairs as text."""

    workflow: str
    inputs: dict[str, str]
    input_file: str | None = None
    detach: bool = False
    principal: str | None = None
    scopes: list[str] = field(default_factory=list)


@dataclass
class CallRequest:
    """One call between agents, made from outside any job."""

    intent: str
    input: Any = None
    principal: str | None = None
    scopes: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    traceparent: str | None = None


@dataclass
class JobDetail:
    """A job, its step records, and what its real model calls cost (the 'cost' log line)."""

    job: JobRecord
    steps: list[StepRecord]
    models: dict[str, Any] | None = None


class Project:
    """The project in the current folder, on a store opened for each operation."""

    def __init__(self) -> None:
        self.config: LoadedConfig = load_config(None)

    def _load(self, paths: list[str]) -> ManifestSet:
        mset = load_set(paths, config=self.config.data)
        if not mset.valid:
            raise ManifestSetError(mset.sorted_errors())
        return mset

    def _paths(self) -> list[str]:
        return [str(p.resolve()) for p in self.config.manifest_paths()]

    @asynccontextmanager
    async def _engines(self) -> AsyncIterator[tuple[JobStore, Engines]]:
        profile = self.config.profile()
        url = (profile.store if profile and profile.store else None) or DEFAULT_STORE
        if url.startswith("sqlite:///"):
            raw = Path(url.removeprefix("sqlite:///"))
            if not raw.is_absolute():
                base = self.config.path.parent if self.config.path else Path.cwd()
                url = "sqlite:///" + str((base / raw).resolve())
        store = open_store(url)
        await store.start()
        hub = ModelHub.from_config(self.config)
        try:
            yield store, Engines(store, hub, self._load)
        finally:
            await hub.aclose()
            await store.close()

    async def run(self, request: RunRequest) -> JobRecord:
        """Create the job and, unless detached, run it to its end here."""
        paths = self._paths()
        async with self._engines() as (_, engines):
            engine = engines.get(paths)
            schemas: dict[str, Any] = engine.workflow(request.workflow).spec.inputs
            given = {k: parse_cli_value(v, schemas.get(k)) for k, v in request.inputs.items()}
            job = await engine.submit(
                request.workflow,
                given,
                paths,
                run_here=not request.detach,
                principal=request.principal,
                scopes=request.scopes,
            )
            return job if request.detach else await engine.run(job)

    async def job(self, job_id: str) -> JobDetail:
        async with self._engines() as (store, _):
            job = await store.get_job(job_id)
            assert job is not None, f"no job {job_id}"
            costs = [e.data for e in await store.events(job_id) if e.kind == "cost"]
            return JobDetail(job, await store.steps(job_id), costs[-1] if costs else None)

    async def logs(self, job_id: str) -> list[EventRecord]:
        async with self._engines() as (store, _):
            return await store.events(job_id)

    async def call(self, request: CallRequest) -> CallOutcome:
        """One call as ``request.principal``, the way `agentgo call` makes it."""
        principal = request.principal or local_principal()
        scopes = frozenset(request.scopes)
        trace = parse_traceparent(request.traceparent) if request.traceparent else None
        async with self._engines() as (store, engines):
            mset = self._load(self._paths())
            engine = Engine(store, mset, models=engines.models, principal=principal, scopes=scopes)
            entry = engine.catalog.lookup(request.intent)
            target = engine.agents.get(entry.target_name)
            if isinstance(target, AgentManifest):
                engine.models.check(engine.models.refs_of(target.spec))
            root = CallContext(
                principal, scopes, (principal,), trace or TraceContext.start(), Spend()
            )
            return await engine.calls.call(
                request.intent,
                request.input,
                parent=root,
                idempotency_key=request.idempotency_key,
            )

    async def work(self, *, concurrency: int, once: bool, poll: float) -> int:
        """Run queued jobs like `agentgo worker`; return how many ran."""
        async with self._engines() as (store, engines):
            return await Worker(engines, store).run(
                concurrency=concurrency,
                once=once,
                poll=poll,
                watch_paths=[],
                notify=lambda line: None,
            )

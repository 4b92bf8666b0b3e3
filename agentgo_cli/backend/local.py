"""The local backend: the embedded engine and store, in this process.

``LocalBackend`` is an async context manager that owns the store, the model hub and the
engine cache for as long as it is open; the store and the hub are opened on first use, so
a command that needs neither (validate, catalog) creates no database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from agentgo_cli.backend import _resolve
from agentgo_cli.backend import views as v
from agentgo_cli.backend._live import LiveFeeds
from agentgo_cli.backend.convert import (
    catalog_view,
    job_detail_view,
    job_view,
    log_view,
    plan_view,
)
from agentgo_cli.errors import ManifestSetError, NotFoundError, UsageError
from agentgo_cli.observer import Observer, Observers
from agentgo_cli.store.base import (
    JOB_DONE,
    JobRecord,
    JobStore,
    Lease,
)

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.engine.engines import Engines
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.llm.hub import ModelHub
    from agentgo_cli.manifests.manifest_set import ManifestSet

__all__ = ["DEFAULT_STORE", "LocalBackend"]

DEFAULT_STORE = "sqlite:///.agentgo/agentgo.db"
POLL_SECONDS = 0.2
"""How often ``watch`` reads the store for a job that runs in another process."""
_log = logging.getLogger("agentgo")


class LocalBackend:
    """Does the work in this process. Use as ``async with LocalBackend(config) as b:``."""

    def __init__(
        self,
        config: LoadedConfig | None = None,
        *,
        profile: str | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._config = config
        self._profile = profile
        self._feeds = LiveFeeds()
        self._observers = Observers([self._feeds])
        if observer is not None:
            self._observers.add(observer)
        self._store: JobStore | None = None
        self._hub: ModelHub | None = None
        self._engines: Engines | None = None
        self._stamps: dict[tuple[str, ...], tuple[tuple[object, ...], ...]] = {}
        """The files of each set ``call`` loaded, as they were then (``_current_engine``)."""
        self._opening = asyncio.Lock()
        self._tasks: dict[str, asyncio.Future[JobRecord]] = {}
        self._leases: dict[str, Lease] = {}
        """The lease each job started here was taken under (to give it up: ``interrupt``)."""
        self._state = "new"

    # -- life cycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a LocalBackend is used once: open a new one")
        self._state = "open"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._state = "closed"
        running = [t for t in self._tasks.values() if not t.done()]
        for task in running:  # interrupted: the jobs are given up, to be resumed at once
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        for job_id, task in list(self._tasks.items()):
            if task.cancelled():  # not given up yet (``interrupt`` would have)
                await self._give_up(job_id, "interrupted: the command running it stopped")
        if self._hub is not None:
            await self._hub.aclose()
        if self._store is not None:
            await self._store.close()

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError("use the backend inside 'async with'")

    def config(self) -> LoadedConfig:
        """The loaded agentgo.yaml and its active profile."""
        if self._config is None:
            from agentgo_cli.config import load_config

            self._config = load_config(self._profile).check()
        return self._config

    def store_url(self) -> tuple[str, str]:
        """The active profile's store URL (relative paths anchored at the config folder)."""
        config = self.config()
        profile = config.profile()
        url = (profile.store if profile and profile.store else None) or DEFAULT_STORE
        sync = profile.synchronous if profile else "normal"
        if url.startswith("sqlite:///"):
            raw = Path(url.removeprefix("sqlite:///"))
            if not raw.is_absolute():
                base = config.path.parent if config.path else Path.cwd()
                url = "sqlite:///" + str((base / raw).resolve())
        return url, sync

    async def _get_store(self) -> JobStore:
        self._check_open()
        async with self._opening:
            if self._store is None:
                from agentgo_cli.store import open_store

                url, sync = self.store_url()
                store = open_store(url, synchronous=sync)
                await store.start()
                self._store = store
        return self._store

    def _get_hub(self) -> ModelHub:
        if self._hub is None:
            from agentgo_cli.llm.hub import ModelHub

            self._hub = ModelHub.from_config(self.config())
        return self._hub

    async def _get_engines(self) -> Engines:
        store = await self._get_store()
        if self._engines is None:
            from agentgo_cli.engine.engines import Engines
            from agentgo_cli.manifests.models.config import Profile

            profile = self.config().profile() or Profile()  # no config: a profile's defaults
            self._engines = Engines(
                store,
                self._get_hub(),
                self._load,
                poison_after=profile.poison_after,
                observer=self._observers,
                trace=profile.trace,
                trace_limit=profile.trace_payload_bytes,
            )
        return self._engines

    async def prepare(self) -> None:
        """Open the store and the engines now rather than on first use (a server is ready
        only once its store is)."""
        await self._get_engines()

    # -- manifests -------------------------------------------------------------------------

    async def validate(self, request: v.ValidateRequest) -> v.ValidationReport:
        self._check_open()
        from agentgo_cli.manifests.manifest_set import load_set

        config = self.config()
        # The manifest set is what was named plus the active profile's manifests (spec).
        targets: list[str | Path] = [*request.paths, *config.manifest_paths()]
        if not targets and not config.errors:
            raise UsageError(
                "nothing to validate: name files or folders, or list them under 'manifests:' "
                "in the active profile of agentgo.yaml"
            )
        mset = load_set(targets, config=config.data)
        from agentgo_cli.tools.entrypoints import check_entrypoints

        # Python tools must import from the project root: tried in a child process.
        mset.errors.extend(await check_entrypoints(mset, config.path))
        if config.path is not None and config.errors:
            mset.errors.extend(config.errors)
            mset.config_files.append(str(config.path))
        errors = mset.sorted_errors()
        return v.ValidationReport(
            valid=not errors,
            files=len(mset.files),
            file_names=list(mset.files),
            documents=mset.documents,
            manifests=mset.counts(),
            errors=[v.ManifestErrorView(**e.to_dict()) for e in errors],
            config_errors=len(config.errors) if config.path is not None else 0,
        )

    def _load(self, paths: list[str]) -> ManifestSet:
        """A valid manifest set, or ManifestSetError with every error."""
        from agentgo_cli.manifests.manifest_set import load_set

        mset = load_set(paths, config=self.config().data)
        if not mset.valid:
            raise ManifestSetError(mset.sorted_errors())
        return mset

    def _profile_paths(self, what: str) -> list[str]:
        paths = [str(p) for p in self.config().manifest_paths()]
        if not paths:
            raise UsageError(
                f"no manifests to {what}: name files or folders, or set 'manifests:' in the "
                "profile of agentgo.yaml"
            )
        return paths

    async def _current_engine(self, paths: list[str]) -> Engine:
        """The engine of the set at ``paths`` as its files are now: the one made before while
        no file was added, removed or changed since, else the set loaded again. A server
        answers call after call without parsing the set each time."""
        from agentgo_cli.manifests.loader import files_stamp

        engines = await self._get_engines()
        key, stamp = tuple(paths), files_stamp(paths)  # before loading: an edit made
        if stamp is not None and self._stamps.get(key) == stamp:  # while it loads shows
            return engines.get(paths)  # up next time
        self._stamps.pop(key, None)
        engine = engines.put(paths, self._load(paths))
        if stamp is not None:
            self._stamps[key] = stamp
        return engine

    def _workflow_set(self, ref: str) -> tuple[str, list[str], ManifestSet]:
        """Resolve ``run``'s argument to (workflow name, manifest paths, manifest set)."""
        return _resolve.workflow_set(ref, self.config(), self._load)

    # -- jobs ------------------------------------------------------------------------------

    async def submit(self, request: v.RunRequest) -> v.JobView:
        name, paths, mset = self._workflow_set(request.workflow)
        wf = mset.of_kind("Workflow")[name].manifest
        given = _resolve.given_inputs(
            request.inputs, request.input_file, wf.spec.inputs, request.input_data
        )
        engines = await self._get_engines()
        engine = engines.put(paths, mset)
        job = await engine.submit(
            name,
            given,
            paths,
            run_here=not request.detach,
            principal=_resolve.principal(request.principal),
            scopes=request.scopes,
        )
        if not request.detach:
            self._start(job, engine.run(job, stream=request.stream))
        return job_view(job)

    async def plan(self, request: v.PlanRequest) -> v.PlanView:
        self._check_open()
        from agentgo_cli.engine.inputs import prepare_inputs
        from agentgo_cli.manifests.plan import plan_workflow

        name, _, mset = self._workflow_set(request.workflow)
        entry = mset.of_kind("Workflow")[name]
        schemas = entry.manifest.spec.inputs
        given = _resolve.given_inputs(
            request.inputs, request.input_file, schemas, request.input_data
        )
        values = prepare_inputs(schemas, given)
        defaults = [n for n in values if n not in given]
        return plan_view(plan_workflow(entry, mset.of_kind("Team")), values, defaults)

    def _start(self, job: JobRecord, work: Any) -> None:
        """Run a job we hold the lease of in a task of its own; ``wait`` and ``watch`` follow it."""
        self._feeds.open(job.id)
        if job.lease is not None:
            self._leases[job.id] = job.lease
        task = self._tasks[job.id] = asyncio.ensure_future(work)
        task.add_done_callback(lambda _: self._feeds.stopped(job.id))

    async def interrupt(self, job_id: str) -> v.JobDetailView:
        task = self._tasks.get(job_id)
        if task is not None:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            # Cancelled (here, or with a caller awaiting it): the engine left the job
            # running under our lease; end the lease now.
            if task.cancelled():
                await self._give_up(job_id, "interrupted by the user")
        return await self.job(job_id)

    async def _give_up(self, job_id: str, message: str) -> None:
        """Release the lease of a job whose run here was cancelled (see JobStore.release)."""
        lease = self._leases.pop(job_id, None)
        if lease is not None and self._store is not None:
            await self._store.release(job_id, lease, message)

    async def wait(self, job_id: str) -> v.JobView:
        task = self._tasks.get(job_id)
        if task is None:
            return job_view(await _get(await self._get_store(), job_id))
        return job_view(await task)

    async def run(self, request: v.RunRequest) -> v.JobView:
        job = await self.submit(request)
        return job if request.detach else await self.wait(job.job_id)

    async def resume(self, request: v.ResumeRequest) -> v.JobView:
        from agentgo_cli.engine.recovery import take_for_resume

        store = await self._get_store()
        engines = await self._get_engines()
        job, engine = await take_for_resume(engines, store, request.job_id, force=request.force)
        if engine is not None:
            self._start(job, engine.run(job, stream=request.stream))
        return job_view(job)

    async def watch(
        self, job_id: str, *, ended_from_store: bool = False
    ) -> AsyncIterator[v.EventView]:
        """See Backend.watch. ``ended_from_store``: a job that has ended is read from the
        store even if it ran here, as a watch in another process reads it (a server: what
        a client sees of an ended job does not depend on which process ran it)."""
        store = await self._get_store()
        job = await _get(store, job_id)
        feed = self._feeds.get(job_id)
        if ended_from_store and job.status in JOB_DONE:
            feed = None
        if feed is not None:  # it runs here: the observer's events, as they happen
            async for event in feed.follow():
                yield event
            return
        from agentgo_cli.backend._follow import follow_store

        # It runs elsewhere (a worker, another shell), or ended: read the store.
        async for event in follow_store(store, job, POLL_SECONDS):
            yield event

    async def completions(self, what: str, incomplete: str) -> list[str]:
        self._check_open()
        from agentgo_cli.backend import _names

        if what != "job":
            found = _names.manifest_names(what, self.config().manifest_paths())
        elif _names.store_exists(self.store_url()[0]):  # completion must not create one
            store = await self._get_store()
            found = [j.id for j in await store.list_jobs(limit=_names.JOBS)]
        else:
            found = []
        return [name for name in found if name.startswith(incomplete)]

    async def jobs(self, query: v.JobsQuery) -> list[v.JobView]:
        store = await self._get_store()
        status = None if query.status is None else str(query.status)
        found = await store.list_jobs(status=status, principal=query.principal, limit=query.limit)
        return [job_view(j) for j in found]

    async def job(self, job_id: str) -> v.JobDetailView:
        store = await self._get_store()
        job = await _get(store, job_id)
        steps = await store.steps(job_id)
        costs = [e.data for e in await store.events(job_id) if e.kind == "cost"]
        return job_detail_view(job, steps, costs[-1] if costs else None)

    async def cancel(self, job_id: str) -> v.JobView:
        store = await self._get_store()
        job = await _get(store, job_id)
        # A running job that nobody owns would never see the request: it ends now.
        orphan = job.status == "running" and _orphaned(job)
        if orphan and await store.cancel_orphan(job_id, job.lease_owner):
            return job_view(await _get(store, job_id))
        if not await store.request_cancel(job_id):
            raise UsageError(f"job {job_id} already {job.status}")
        return job_view(await _get(store, job_id))

    async def trace(self, request: v.TraceRequest) -> v.TraceNode:
        from agentgo_cli.backend.trace_tree import build_tree, find_node, parse_path

        if request.step is not None:
            parse_path(request.step)  # a malformed path is refused before any read
        store = await self._get_store()
        job = await _get(store, request.job_id)
        tree = build_tree(job, await store.steps(job.id), await store.trace(job.id))
        return tree if request.step is None else find_node(tree, request.step)

    async def logs(self, request: v.LogsRequest) -> list[v.EventView]:
        store = await self._get_store()
        await _get(store, request.job_id)
        records = await store.events(request.job_id, after=request.after)
        return [log_view(request.job_id, r) for r in records]

    # -- catalog and calls -----------------------------------------------------------------

    def _catalog(self, paths: list[str]) -> Catalog:
        self._check_open()
        from agentgo_cli.a2a.catalog import Catalog

        return Catalog.from_set(self._load(paths or self._profile_paths("read")))

    async def catalog(self, request: v.CatalogRequest) -> list[v.CatalogEntryView]:
        catalog = self._catalog(request.paths)
        if request.all_versions:
            entries = catalog.entries()
        else:
            from agentgo_cli.a2a.discovery import latest_entries

            entries = latest_entries(catalog)
        return [catalog_view(e) for e in entries]

    async def intent(self, request: v.IntentRequest) -> v.IntentView:
        catalog = self._catalog(request.paths)
        entry = catalog.lookup(request.intent)
        others = [e.version for e in catalog.entries() if e.name == entry.name and e != entry]
        return v.IntentView(
            **catalog_view(entry).model_dump(),
            prompt=entry.intent.prompt,
            other_versions=others,
        )

    async def export_cards(self, request: v.ExportRequest) -> list[v.ExportedCard]:
        from agentgo_cli import __version__
        from agentgo_cli.a2a.a2a_card import agent_cards, card_file_name

        catalog = self._catalog(request.paths)
        cards = agent_cards(catalog, base_url=request.url, agentgo_version=__version__)
        return [v.ExportedCard(file_name=card_file_name(c), card=c) for c in cards]

    async def call(self, request: v.CallRequest) -> v.CallResult:
        from agentgo_cli.a2a.lifecycle import CallContext, Spend
        from agentgo_cli.a2a.trace import TraceContext, parse_traceparent
        from agentgo_cli.engine.owners import local_principal

        principal = _resolve.principal(request.principal) or local_principal()
        trace = TraceContext.start()
        if request.traceparent:
            try:
                trace = parse_traceparent(request.traceparent)
            except ValueError as exc:
                raise UsageError(f"--traceparent: {exc}") from None
        paths = [str(p) for p in self.config().manifest_paths()]
        if not paths:
            raise UsageError("no manifests to call into: set 'manifests:' in agentgo.yaml")
        engine = await self._current_engine(paths)
        scopes = frozenset(request.scopes)
        entry = engine.catalog.lookup(request.intent)
        value = _resolve.call_input(request, entry.intent.input)
        engine.check_target(entry.target)  # a missing key: before anything runs
        root = CallContext(principal, scopes, (principal,), trace, Spend())
        outcome = await engine.calls.call(
            request.intent, value, parent=root, idempotency_key=request.idempotency_key
        )
        return v.CallResult(**outcome.as_dict())

    async def profile_engine(self) -> tuple[list[str], Engine]:
        """The active profile's manifest paths and their engine, as its files are now
        (``_current_engine``): a server's A2A card lists its intents, its tasks are jobs of it."""
        paths = self._profile_paths("serve")
        return paths, await self._current_engine(paths)

    def run_here(self, job: JobRecord, engine: Engine) -> None:
        """Run a job just made under this process's lease (``Engine.submit`` with
        ``run_here``), as ``submit`` does: ``wait``, ``watch`` and ``interrupt`` follow it."""
        self._start(job, engine.run(job))

    # -- models ----------------------------------------------------------------------------

    async def models(self) -> list[v.ModelView]:
        self._check_open()
        import dataclasses

        from agentgo_cli.llm.listing import model_rows
        from agentgo_cli.manifests.manifest_set import load_set
        from agentgo_cli.manifests.models import AgentManifest

        hub = self._get_hub()
        used: dict[str, list[str]] = {}
        paths = [str(p) for p in self.config().manifest_paths() if p.exists()]
        if paths:
            mset = load_set(paths, config=self.config().data)
            for name, entry in sorted(mset.of_kind("Agent").items()):
                if isinstance(entry.manifest, AgentManifest):
                    for ref in hub.refs_of(entry.manifest.spec):
                        used.setdefault(ref, []).append(name)
        return [v.ModelView(**dataclasses.asdict(r)) for r in model_rows(hub, used)]

    async def ping_model(self, request: v.PingRequest) -> v.PingResult:
        self._check_open()
        from agentgo_cli.errors import ProviderError
        from agentgo_cli.llm.base import Message

        ref = request.ref
        if ref.partition(":")[0] == "scripted":
            raise UsageError("scripted models answer offline from a script; nothing to ping")
        hub = self._get_hub()
        client = hub.provider_client(ref)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(request.within):
                response = await client.complete(
                    [Message("user", "Reply with the single word: pong")],
                    tools=[],
                    params={"max_tokens": 16},
                )
        except TimeoutError:
            raise ProviderError(
                f"{ref}: no answer within {request.within:g}s", kind="timeout"
            ) from None
        seconds = time.perf_counter() - started
        usage = response.usage
        return v.PingResult(
            ref=ref,
            text=response.message.content,
            seconds=seconds,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=hub.prices.cost(ref, usage),
        )

    # -- a server's life cycle --------------------------------------------------------------

    async def adopt(self) -> list[str]:
        """Take over and run here the running jobs whose owner was a process of this host
        that is gone (a server killed and started again): they need not wait for their
        leases to expire. Returns their ids; a job another process took first is left."""
        from agentgo_cli.engine.owners import owner_is_dead
        from agentgo_cli.errors import AgentGoError

        store = await self._get_store()
        taken = []
        for job in await store.list_jobs(status="running", limit=10_000):
            if not job.lease_owner or not owner_is_dead(job.lease_owner):
                continue
            try:
                await self.resume(v.ResumeRequest(job_id=job.id))
            except AgentGoError as exc:
                _log.warning("job %s not taken over: %s", job.id, exc)
                continue
            taken.append(job.id)
        return taken

    async def drain(self, within: float, hurry: asyncio.Event | None = None) -> None:
        """Stop at the next committed step: start no new step, wait (at most ``within``
        seconds, or until ``hurry`` is set) for the steps in flight to finish, then give up
        the jobs started here (their leases released: the next server or worker takes them
        at once and redoes nothing). A worker's jobs (``work``) are given up by stopping it."""
        if self._engines is None:
            return
        engines = self._engines
        engines.gate.close()
        deadline = time.monotonic() + within
        while not engines.gate.settled(engines.running()):
            if time.monotonic() >= deadline or (hurry is not None and hurry.is_set()):
                break
            await asyncio.sleep(0.02)
        running = {j: t for j, t in self._tasks.items() if not t.done()}
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        for job_id, task in running.items():
            if task.cancelled():
                await self._give_up(job_id, "given up by a server that stopped; queued again")

    # -- worker ----------------------------------------------------------------------------

    async def work(
        self, request: v.WorkRequest, *, stop: asyncio.Event | None = None
    ) -> AsyncIterator[v.WorkerNotice]:
        """Run queued jobs (see Worker.run). ``stop``: the event that stops it, instead of
        SIGTERM (a server's workers, whose process signals the server owns)."""
        from agentgo_cli.engine.worker import Worker

        store = await self._get_store()
        engines = await self._get_engines()
        notices: asyncio.Queue[v.WorkerNotice] = asyncio.Queue()
        watched = [p for p in self.config().manifest_paths() if p.exists()] if request.watch else []
        worker = Worker(engines, store)
        task = asyncio.ensure_future(
            worker.run(
                concurrency=request.concurrency,
                once=request.once,
                poll=request.poll,
                watch_paths=watched,
                notify=lambda line: notices.put_nowait(v.WorkerNotice(message=line)),
                on_job=lambda job_id, line: notices.put_nowait(
                    v.WorkerNotice(message=line, job_id=job_id)
                ),
                drain=request.drain,
                stop=stop,
            )
        )
        try:
            while not task.done():
                getter = asyncio.ensure_future(notices.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                else:
                    getter.cancel()
            while not notices.empty():
                yield notices.get_nowait()
            count = task.result()
            yield v.WorkerNotice(message=f"ran {count} job{'s' * (count != 1)}", jobs_run=count)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


def _orphaned(job: JobRecord) -> bool:
    """Whether no live process owns a running job: its lease expired, or its owner died."""
    from agentgo_cli.engine.owners import owner_is_dead

    expired = job.lease_expires is None or job.lease_expires < time.time()
    return expired or owner_is_dead(job.lease_owner)


async def _get(store: JobStore, job_id: str) -> JobRecord:
    # An id a store cannot hold (a lone surrogate: a non-UTF-8 byte typed) is no job's.
    job = await store.get_job(job_id) if _encodable(job_id) else None
    if job is None:
        raise NotFoundError(f"no job '{job_id}'")
    return job


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

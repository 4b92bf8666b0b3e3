"""The Backend protocol every command talks to, and the local implementation.

Commands parse arguments, call one Backend method and render the answer; they never touch
manifests, the store or the engine directly. ``LocalBackend`` does the work in process; a
``RemoteBackend`` (later) sends the same calls to ``agentgo serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentgo_cli.errors import ManifestSetError, NotFoundError, UsageError
from agentgo_cli.llm.listing import ModelInfo
from agentgo_cli.watch import reload_triggers

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog
    from agentgo_cli.a2a.lifecycle import CallOutcome
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.engine.scheduler import Engine, JobEvents
    from agentgo_cli.llm.hub import ModelHub
    from agentgo_cli.manifests.manifest_set import ManifestSet
    from agentgo_cli.store.base import JobRecord, JobStore, StepRecord

__all__ = [
    "Backend",
    "CallRequest",
    "JobDetail",
    "LocalBackend",
    "ModelInfo",
    "PingResult",
    "RunRequest",
]

DEFAULT_STORE = "sqlite:///.agentgo/agentgo.db"
_log = logging.getLogger("agentgo")


@dataclass
class RunRequest:
    """What ``agentgo run`` asks for."""

    workflow: str
    """A workflow file, or the name of a workflow in the active profile's manifests."""
    inputs: dict[str, str]
    """``-i name=value`` pairs, as text (parsed against the input's schema)."""
    input_file: str | None = None
    detach: bool = False
    principal: str | None = None
    """Whom the job runs for (default: user:<login name>); its calls run as them."""
    scopes: list[str] = field(default_factory=list)


@dataclass
class PingResult:
    """The answer to one tiny call: ``agentgo models ping``."""

    ref: str
    text: str
    seconds: float
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class CallRequest:
    """What ``agentgo call`` asks for."""

    intent: str
    """'name' or 'name@range'."""
    input: Any = None
    """The input as a value (from --input JSON)."""
    pairs: dict[str, str] = field(default_factory=dict)
    """``-i name=value`` pairs, as text (parsed against the intent's input schema)."""
    principal: str | None = None
    scopes: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    traceparent: str | None = None


@dataclass
class JobDetail:
    """A job and its step records."""

    job: JobRecord
    steps: list[StepRecord]
    models: dict[str, Any] | None = None
    """What the job's real model calls cost, shadow calls apart (CostTracker.as_dict())."""


class Backend(Protocol):
    """What every command can ask for."""

    def validate(self, paths: Sequence[str]) -> ManifestSet:
        """Load, validate and cross-check a manifest set."""
        ...

    async def run(self, request: RunRequest, events: JobEvents | None = None) -> JobRecord:
        """Start a job and run it here to its end, or only enqueue it (detach)."""
        ...

    async def resume(
        self, job_id: str, *, force: bool = False, events: JobEvents | None = None
    ) -> JobRecord:
        """Finish a job that stopped; finished steps are not run again."""
        ...

    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[JobRecord]:
        """Jobs, newest first."""
        ...

    async def job(self, job_id: str) -> JobDetail:
        """One job with its steps; NotFoundError if there is none."""
        ...

    async def cancel(self, job_id: str) -> JobRecord:
        """Ask a job to stop."""
        ...

    async def logs(self, job_id: str, *, after: int = 0) -> list[tuple[int, float, str, str, Any]]:
        """A job's events after a sequence number."""
        ...

    def models(self) -> list[ModelInfo]:
        """Configured providers, the models the manifests use, and their prices."""
        ...

    def catalog(self, paths: Sequence[str] = ()) -> Catalog:
        """The capability catalog of a manifest set (default: the profile's manifests)."""
        ...

    async def call(self, request: CallRequest) -> CallOutcome:
        """Call an intent through the whole call lifecycle and wait for its output."""
        ...

    async def ping_model(self, ref: str, *, within: float) -> PingResult:
        """One tiny call to a model, to check its key and that it can be reached."""
        ...

    async def work(
        self,
        *,
        concurrency: int,
        once: bool,
        poll: float,
        watch: bool = False,
        notify: Callable[[str], None] | None = None,
    ) -> int:
        """Take queued and abandoned jobs and run them; return how many were run."""
        ...


class LocalBackend:
    """Does the work in this process."""

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile
        self._config: LoadedConfig | None = None

    def config(self) -> LoadedConfig:
        from agentgo_cli.config import load_config

        if self._config is None:
            self._config = load_config(self.profile)
        return self._config

    # -- manifests -----------------------------------------------------------------------

    def validate(self, paths: Sequence[str]) -> ManifestSet:
        from agentgo_cli.manifests.manifest_set import load_set

        config = self.config()
        # The manifest set is what was named plus the active profile's manifests (spec).
        targets: list[str | Path] = [*paths, *config.manifest_paths()]
        if not targets:
            raise UsageError(
                "nothing to validate: name files or folders, or list them under 'manifests:' "
                "in the active profile of agentgo.yaml"
            )
        mset = load_set(targets, config=config.data)
        if config.path is not None and config.errors:
            mset.errors.extend(config.errors)
            mset.config_files.append(str(config.path))
        return mset

    def _load(self, paths: list[str]) -> ManifestSet:
        """A valid manifest set, or ManifestSetError with every error."""
        from agentgo_cli.manifests.manifest_set import load_set

        mset = load_set(paths, config=self.config().data)
        if not mset.valid:
            raise ManifestSetError(mset.sorted_errors())
        return mset

    def _workflow_set(self, ref: str) -> tuple[str, list[str], ManifestSet]:
        """Resolve ``run``'s argument to (workflow name, manifest paths, manifest set)."""
        profile_paths = [str(p.resolve()) for p in self.config().manifest_paths()]
        path = Path(ref)
        if path.is_file():
            from agentgo_cli.manifests.loader import load_paths

            names = [
                d.data["metadata"]["name"]
                for d in load_paths([path]).documents
                if isinstance(d.data, dict)
                and d.data.get("kind") == "Workflow"
                and isinstance(d.data.get("metadata"), dict)
                and isinstance(d.data["metadata"].get("name"), str)
            ]
            if len(names) != 1:
                found = ", ".join(names) or "none"
                raise UsageError(f"{ref} must define exactly one Workflow (found: {found})")
            paths = [str(path.resolve().parent), *profile_paths]
            return names[0], paths, self._load(paths)
        if not profile_paths:
            raise UsageError(f"no such workflow file: {ref}")
        mset = self._load(profile_paths)
        if ref not in mset.of_kind("Workflow"):
            from agentgo_cli.manifests._text import did_you_mean

            hint = did_you_mean(ref, mset.of_kind("Workflow"))
            raise NotFoundError(f"no workflow file or workflow named '{ref}'{hint}")
        return ref, profile_paths, mset

    # -- store and engine ----------------------------------------------------------------

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

    @asynccontextmanager
    async def _store(self) -> AsyncIterator[JobStore]:
        from agentgo_cli.store.base import open_store

        url, sync = self.store_url()
        store = open_store(url, synchronous=sync)
        await store.start()
        try:
            yield store
        finally:
            await store.close()

    async def run(self, request: RunRequest, events: JobEvents | None = None) -> JobRecord:
        from agentgo_cli.engine.inputs import parse_cli_value
        from agentgo_cli.engine.scheduler import Engine

        name, paths, mset = self._workflow_set(request.workflow)
        wf = mset.of_kind("Workflow")[name].manifest
        schemas: dict[str, Any] = getattr(wf.spec, "inputs", {})
        given: dict[str, Any] = {}
        if request.input_file:
            given.update(_read_input_file(request.input_file))
        for key, raw in request.inputs.items():
            given[key] = parse_cli_value(raw, schemas.get(key))
        async with self._store() as store, self._models() as models:
            engine = Engine(store, mset, models=models)
            job = await engine.submit(
                name,
                given,
                paths,
                run_here=not request.detach,
                principal=_principal(request.principal),
                scopes=request.scopes,
            )
            if request.detach:
                return job
            return await engine.run(job, events)

    async def resume(
        self, job_id: str, *, force: bool = False, events: JobEvents | None = None
    ) -> JobRecord:
        from agentgo_cli.engine.scheduler import Engine, owner_is_dead

        async with self._store() as store, self._models() as models:
            job = await _get(store, job_id)
            if job.status in ("succeeded", "failed", "cancelled"):
                return job
            import time

            live = job.lease_expires is not None and job.lease_expires > time.time()
            if (
                job.status == "running"
                and live
                and not force
                and not owner_is_dead(job.lease_owner)
            ):
                raise UsageError(
                    f"job {job_id} is running under {job.lease_owner}; wait for its lease to "
                    "expire, or pass --force if that process is gone"
                )
            engine = Engine(store, self._load(job.manifests), models=models)
            engine.check_models(engine.workflow(job.workflow))
            taken = await store.take_over(job_id, engine.owner, engine.lease_seconds)
            if taken is None:
                raise UsageError(f"job {job_id} could not be taken over (it ended meanwhile)")
            return await engine.run(taken, events)

    @asynccontextmanager
    async def _models(self) -> AsyncIterator[ModelHub]:
        """The model hub of the active config, its SDK clients closed after the block."""
        from agentgo_cli.llm.hub import ModelHub

        hub = ModelHub.from_config(self.config())
        try:
            yield hub
        finally:
            await hub.aclose()

    def catalog(self, paths: Sequence[str] = ()) -> Catalog:
        from agentgo_cli.a2a.catalog import Catalog

        wanted = list(paths) or [str(p) for p in self.config().manifest_paths()]
        if not wanted:
            raise UsageError(
                "no manifests to read: name files or folders, or set 'manifests:' in the "
                "profile of agentgo.yaml"
            )
        return Catalog.from_set(self._load(wanted))

    async def call(self, request: CallRequest) -> CallOutcome:
        from agentgo_cli.a2a.lifecycle import CallContext, Spend
        from agentgo_cli.a2a.trace import TraceContext, parse_traceparent
        from agentgo_cli.engine.scheduler import Engine, local_principal
        from agentgo_cli.manifests.models import AgentManifest

        principal = _principal(request.principal) or local_principal()
        trace = TraceContext.start()
        if request.traceparent:
            try:
                trace = parse_traceparent(request.traceparent)
            except ValueError as exc:
                raise UsageError(f"--traceparent: {exc}") from None
        paths = [str(p) for p in self.config().manifest_paths()]
        if not paths:
            raise UsageError("no manifests to call into: set 'manifests:' in agentgo.yaml")
        mset = self._load(paths)
        scopes = frozenset(request.scopes)
        async with self._store() as store, self._models() as models:
            engine = Engine(store, mset, models=models, principal=principal, scopes=scopes)
            entry = engine.catalog.lookup(request.intent)
            value = _call_input(request, entry.intent.input)
            target = engine.agents.get(entry.target_name)
            if isinstance(target, AgentManifest):  # a missing key: before anything runs
                engine.models.check(engine.models.refs_of(target.spec))
            root = CallContext(principal, scopes, (principal,), trace, Spend())
            return await engine.calls.call(
                request.intent, value, parent=root, idempotency_key=request.idempotency_key
            )

    def models(self) -> list[ModelInfo]:
        from agentgo_cli.llm.hub import ModelHub
        from agentgo_cli.llm.listing import model_rows
        from agentgo_cli.manifests.models import AgentManifest

        hub = ModelHub.from_config(self.config())
        used: dict[str, list[str]] = {}
        paths = [str(p) for p in self.config().manifest_paths() if p.exists()]
        if paths:
            mset = self.validate(paths)
            for name, entry in sorted(mset.of_kind("Agent").items()):
                if isinstance(entry.manifest, AgentManifest):
                    for ref in hub.refs_of(entry.manifest.spec):
                        used.setdefault(ref, []).append(name)
        return model_rows(hub, used)

    async def ping_model(self, ref: str, *, within: float) -> PingResult:
        import time

        from agentgo_cli.errors import ProviderError
        from agentgo_cli.llm.base import Message

        provider, _, model = ref.partition(":")
        if provider == "scripted":
            raise UsageError("scripted models answer offline from a script; nothing to ping")
        async with self._models() as hub:
            client = hub.provider_client(ref)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(within):
                    response = await client.complete(
                        [Message("user", "Reply with the single word: pong")],
                        tools=[],
                        params={"max_tokens": 16},
                    )
            except TimeoutError:
                raise ProviderError(
                    f"{ref}: no answer within {within:g}s", kind="timeout"
                ) from None
            seconds = time.perf_counter() - started
        usage = response.usage
        return PingResult(
            ref,
            response.message.content,
            seconds,
            usage.input_tokens,
            usage.output_tokens,
            hub.prices.cost(ref, usage),
        )

    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[JobRecord]:
        async with self._store() as store:
            return await store.list_jobs(status=status, limit=limit)

    async def job(self, job_id: str) -> JobDetail:
        async with self._store() as store:
            job = await _get(store, job_id)
            steps = await store.steps(job_id)
            costs = [e[4] for e in await store.events(job_id) if e[2] == "cost"]
            return JobDetail(job, steps, costs[-1] if costs else None)

    async def cancel(self, job_id: str) -> JobRecord:
        async with self._store() as store:
            job = await _get(store, job_id)
            if not await store.request_cancel(job_id):
                raise UsageError(f"job {job_id} already {job.status}")
            return await _get(store, job_id)

    async def logs(self, job_id: str, *, after: int = 0) -> list[tuple[int, float, str, str, Any]]:
        async with self._store() as store:
            await _get(store, job_id)
            return await store.events(job_id, after=after)

    async def work(
        self,
        *,
        concurrency: int,
        once: bool,
        poll: float,
        watch: bool = False,
        notify: Callable[[str], None] | None = None,
    ) -> int:
        from agentgo_cli.engine.scheduler import LEASE_SECONDS, new_owner

        owner = new_owner()
        engines: dict[tuple[str, ...], Engine] = {}
        done = 0
        say = notify or (lambda line: _log.info("%s", line))
        reload = asyncio.Event()
        stop_watching = reload_triggers(reload, self._watched_paths() if watch else [], poll)
        try:
            async with self._store() as store, self._models() as models:
                running: set[asyncio.Task[Any]] = set()
                while True:
                    if reload.is_set():
                        reload.clear()
                        self._reload(engines, store, owner, models, say)
                    while len(running) < concurrency:
                        job = await store.claim_job(owner, LEASE_SECONDS)
                        if job is None:
                            break
                        engine = self._engine_for(store, job, owner, engines, models)
                        running.add(asyncio.ensure_future(engine.run(job)))
                    if not running:
                        if once:
                            return done
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(reload.wait(), poll)
                        continue
                    finished, pending = await asyncio.wait(
                        running, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                    )
                    running = set(pending)
                    done += len(finished)
                    for task in finished:
                        if task.exception() is not None:  # one broken job must not stop it
                            _log.error("worker: a job stopped with an error: %s", task.exception())
        finally:
            stop_watching()

    def _watched_paths(self) -> list[Path]:
        return [p for p in self.config().manifest_paths() if p.exists()]

    def _reload(
        self,
        engines: dict[tuple[str, ...], Engine],
        store: JobStore,
        owner: str,
        models: ModelHub,
        say: Callable[[str], None],
    ) -> None:
        """Validate every manifest set in use again; swap in the ones that are valid.

        A set that no longer validates is refused as a whole and its old engine (catalog,
        agents, workflows) stays in use; jobs already running keep the engine they began with.
        """
        from agentgo_cli.engine.scheduler import Engine
        from agentgo_cli.manifests.manifest_set import load_set

        for key in list(engines):
            mset = load_set(list(key), config=self.config().data)
            if not mset.valid:
                errors = mset.sorted_errors()
                say(
                    f"reload refused, the previous manifests stay in use: {errors[0]}"
                    + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
                )
                continue
            engines[key] = Engine(store, mset, owner=owner, models=models)
            intents = len(engines[key].catalog.entries())
            say(f"reloaded {len(mset.of_kind('Workflow'))} workflows, {intents} intents")

    def _engine_for(
        self,
        store: JobStore,
        job: JobRecord,
        owner: str,
        cache: dict[tuple[str, ...], Engine],
        models: ModelHub,
    ) -> Engine:
        from agentgo_cli.engine.scheduler import Engine

        key = tuple(job.manifests)
        if key not in cache:
            cache[key] = Engine(store, self._load(list(key)), owner=owner, models=models)
        return cache[key]


def _principal(given: str | None) -> str | None:
    """A principal from --as, checked: 'kind:name' (user:alice, service:ci) or anonymous."""
    if given is None:
        return None
    kind, sep, name = given.partition(":")
    if given != "anonymous" and (not sep or not kind or not name or " " in given):
        raise UsageError(f"--as takes a principal such as user:alice or service:ci, not '{given}'")
    return given


def _call_input(request: CallRequest, schema: dict[str, Any]) -> Any:
    """The call's input: --input as given, or -i pairs parsed against the input schema."""
    from agentgo_cli.engine.inputs import parse_cli_value

    if request.pairs:
        if request.input is not None:
            raise UsageError("give the input with --input or with -i pairs, not both")
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        return {k: parse_cli_value(v, properties.get(k)) for k, v in request.pairs.items()}
    return request.input


async def _get(store: JobStore, job_id: str) -> JobRecord:
    job = await store.get_job(job_id)
    if job is None:
        raise NotFoundError(f"no job '{job_id}'")
    return job


def _read_input_file(path: str) -> dict[str, Any]:
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --input-file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"--input-file {path} is not valid JSON or YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--input-file {path} must hold a mapping of input names to values")
    return data

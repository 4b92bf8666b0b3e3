"""The Backend protocol every command talks to, and the local implementation.

Commands parse arguments, call one Backend method and render the answer; they never touch
manifests, the store or the engine directly. ``LocalBackend`` does the work in process; a
``RemoteBackend`` (later) sends the same calls to ``agentgo serve``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentgo_cli.errors import ManifestSetError, NotFoundError, UsageError

if TYPE_CHECKING:
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.engine.scheduler import Engine, JobEvents
    from agentgo_cli.manifests.manifest_set import ManifestSet
    from agentgo_cli.store.base import JobRecord, JobStore, StepRecord

__all__ = ["Backend", "JobDetail", "LocalBackend", "RunRequest"]

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


@dataclass
class JobDetail:
    """A job and its step records."""

    job: JobRecord
    steps: list[StepRecord]


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

    async def work(self, *, concurrency: int, once: bool, poll: float) -> int:
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
        async with self._store() as store:
            engine = Engine(store, mset)
            job = await engine.submit(name, given, paths, run_here=not request.detach)
            if request.detach:
                return job
            return await engine.run(job, events)

    async def resume(
        self, job_id: str, *, force: bool = False, events: JobEvents | None = None
    ) -> JobRecord:
        from agentgo_cli.engine.scheduler import Engine, owner_is_dead

        async with self._store() as store:
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
            engine = Engine(store, self._load(job.manifests))
            taken = await store.take_over(job_id, engine.owner, engine.lease_seconds)
            if taken is None:
                raise UsageError(f"job {job_id} could not be taken over (it ended meanwhile)")
            return await engine.run(taken, events)

    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[JobRecord]:
        async with self._store() as store:
            return await store.list_jobs(status=status, limit=limit)

    async def job(self, job_id: str) -> JobDetail:
        async with self._store() as store:
            job = await _get(store, job_id)
            return JobDetail(job, await store.steps(job_id))

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

    async def work(self, *, concurrency: int, once: bool, poll: float) -> int:
        from agentgo_cli.engine.scheduler import LEASE_SECONDS, new_owner

        owner = new_owner()
        engines: dict[tuple[str, ...], Engine] = {}
        done = 0
        async with self._store() as store:
            running: set[asyncio.Task[Any]] = set()
            while True:
                while len(running) < concurrency:
                    job = await store.claim_job(owner, LEASE_SECONDS)
                    if job is None:
                        break
                    engine = self._engine_for(store, job, owner, engines)
                    running.add(asyncio.ensure_future(engine.run(job)))
                if not running:
                    if once:
                        return done
                    await asyncio.sleep(poll)
                    continue
                finished, pending = await asyncio.wait(
                    running, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                )
                running = set(pending)
                done += len(finished)
                for task in finished:
                    if task.exception() is not None:  # one broken job must not stop the worker
                        _log.error("worker: a job stopped with an error: %s", task.exception())

    def _engine_for(
        self,
        store: JobStore,
        job: JobRecord,
        owner: str,
        cache: dict[tuple[str, ...], Engine],
    ) -> Engine:
        from agentgo_cli.engine.scheduler import Engine

        key = tuple(job.manifests)
        if key not in cache:
            cache[key] = Engine(store, self._load(list(key)), owner=owner)
        return cache[key]


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

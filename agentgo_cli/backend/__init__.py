"""The Backend every command talks to: a service boundary of plain data.

Commands parse arguments, build a request view, call one Backend method and render the
view it returns; they never touch manifests, the store or the engine. Every method is
async and takes and returns pydantic models (``backend.views``): the same JSON crosses
HTTP between a ``RemoteBackend`` and ``agentgo serve``. Live progress is a stream
(``watch``), never a callback. ``backend_for(profile)`` is the one factory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from agentgo_cli.backend.views import (
        CallRequest,
        CallResult,
        CatalogEntryView,
        CatalogRequest,
        EventView,
        ExportedCard,
        ExportRequest,
        IntentRequest,
        IntentView,
        JobDetailView,
        JobsQuery,
        JobView,
        LogsRequest,
        ModelView,
        PingRequest,
        PingResult,
        PlanRequest,
        PlanView,
        ResumeRequest,
        RunRequest,
        TraceNode,
        TraceRequest,
        ValidateRequest,
        ValidationReport,
        WorkerNotice,
        WorkRequest,
    )

__all__ = ["Backend", "backend_for"]


class Backend(Protocol):
    """What every command can ask for. Use as ``async with backend_for(profile) as b:``."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def validate(self, request: ValidateRequest) -> ValidationReport:
        """Load, validate and cross-check a manifest set."""
        ...

    async def plan(self, request: PlanRequest) -> PlanView:
        """Validate a workflow's set and resolve its inputs as ``run`` would, then return its
        step graph and what each step reads; nothing runs and no job is made."""
        ...

    async def submit(self, request: RunRequest) -> JobView:
        """Create a job: start running it (see ``wait`` and ``watch``), or only enqueue it
        for a worker (``detach``)."""
        ...

    async def wait(self, job_id: str) -> JobView:
        """Wait for a job started by ``submit`` or ``resume`` to end, and return it."""
        ...

    async def run(self, request: RunRequest) -> JobView:
        """``submit`` and ``wait``: run a job to its end (or only enqueue it)."""
        ...

    async def resume(self, request: ResumeRequest) -> JobView:
        """Take over a job that stopped and start finishing it; finished steps are not run
        again. A job that already ended is returned as it is."""
        ...

    async def interrupt(self, job_id: str) -> JobDetailView:
        """Stop at once a job that ``submit`` or ``resume`` started here, and give it up: its
        lease ends now, so ``resume`` (without --force) or a worker takes it straight away;
        its log says it was interrupted by the user. Returns the job as it was left (its
        steps in flight still ``running``); a job that ended meanwhile is returned ended."""
        ...

    def watch(self, job_id: str) -> AsyncIterator[EventView]:
        """A job's events as they happen, from its first, until the job ends."""
        ...

    async def completions(self, what: str, incomplete: str) -> list[str]:
        """Candidates for shell completion that start with ``incomplete``: the names of the
        profile's workflows (``what`` "workflow"), its intents ("intent"), or the ids of
        the newest jobs ("job", newest first). Cheap: manifests are parsed, not validated;
        a store that does not exist yet is not created."""
        ...

    async def jobs(self, query: JobsQuery) -> list[JobView]:
        """Jobs, newest first."""
        ...

    async def job(self, job_id: str) -> JobDetailView:
        """One job with its steps; NotFoundError if there is none."""
        ...

    async def cancel(self, job_id: str) -> JobView:
        """Ask a job to stop."""
        ...

    async def logs(self, request: LogsRequest) -> list[EventView]:
        """A job's stored log after a sequence number."""
        ...

    async def trace(self, request: TraceRequest) -> TraceNode:
        """A job's trace as a tree (or one node of it, ``request.step``); NotFoundError for
        an unknown job or node, UsageError for a path that is not one."""
        ...

    async def catalog(self, request: CatalogRequest) -> list[CatalogEntryView]:
        """The intents of a manifest set's catalog (default: the profile's manifests)."""
        ...

    async def intent(self, request: IntentRequest) -> IntentView:
        """One intent version, resolved by name and semver range."""
        ...

    async def export_cards(self, request: ExportRequest) -> list[ExportedCard]:
        """The catalog as A2A AgentCards, one per agent or team."""
        ...

    async def call(self, request: CallRequest) -> CallResult:
        """Call an intent through the whole call lifecycle and wait for its output."""
        ...

    async def models(self) -> list[ModelView]:
        """Configured providers, the models the manifests use, and their prices."""
        ...

    async def ping_model(self, request: PingRequest) -> PingResult:
        """One tiny call to a model, to check its key and that it can be reached."""
        ...

    def work(self, request: WorkRequest) -> AsyncIterator[WorkerNotice]:
        """Take queued and abandoned jobs and run them, saying what happens; the last
        notice carries how many jobs were run."""
        ...


def backend_for(
    profile: str | None = None,
    *,
    lenient: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Backend:
    """The backend of the active profile: local (the embedded engine and store), or, for a
    profile with ``server:``, the remote one (``agentgo serve`` over HTTP).

    A config file that exists and is wrong is refused (InvalidConfigError, each error
    located), unless ``lenient``: ``validate`` reports its errors in its own list instead.
    ``warn`` is given each warning about the config (a literal key), once.

    Raises ConfigError for a profile the config does not define.
    """
    from agentgo_cli.config import load_config

    config = load_config(profile)
    if not lenient:
        config.check()
    if warn is not None:
        for warning in config.warnings:
            warn(warning)
    active = config.profile()
    if active is not None and active.server:
        from agentgo_cli.backend.remote import RemoteBackend

        return RemoteBackend(config)
    from agentgo_cli.backend.local import LocalBackend  # not imported by a remote command

    return LocalBackend(config)

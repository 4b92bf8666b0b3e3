"""The engines of a long-lived process: one per manifest set, revalidated on reload."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agentgo_cli.engine.gate import StepGate
from agentgo_cli.engine.owners import new_owner
from agentgo_cli.engine.scheduler import LEASE_SECONDS, Engine
from agentgo_cli.engine.trace import PAYLOAD_LIMIT, TraceLevel
from agentgo_cli.errors import ManifestSetError
from agentgo_cli.observer import Redactor
from agentgo_cli.store.base import POISON_AFTER

if TYPE_CHECKING:
    from agentgo_cli.llm.hub import ModelHub
    from agentgo_cli.manifests.manifest_set import ManifestSet
    from agentgo_cli.observer import Observer
    from agentgo_cli.store.base import JobStore

__all__ = ["Engines"]


class Engines:
    """One Engine per manifest set (keyed by the tuple of its paths), sharing one store, one
    model hub, one lease owner and one observer.

    ``load`` turns manifest paths into a valid set, or raises ManifestSetError.
    """

    def __init__(
        self,
        store: JobStore,
        models: ModelHub,
        load: Callable[[list[str]], ManifestSet],
        *,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poison_after: int = POISON_AFTER,
        observer: Observer | None = None,
        redactor: Redactor | None = None,
        trace: TraceLevel = "steps",
        trace_limit: int = PAYLOAD_LIMIT,
    ) -> None:
        self.gate = StepGate()
        """Shared by every engine: a stopping server closes it to start no new step."""
        self.store = store
        self.models = models
        self.owner = owner or new_owner()
        self.lease_seconds = lease_seconds
        self.poison_after = poison_after
        """A job that lost this many owners is failed as poisoned instead of taken again."""
        self.observer = observer
        if redactor is None and observer is not None:
            redactor = Redactor(models.secret_values())
        self.redactor = redactor
        """Made once from the hub's provider keys, shared by every engine."""
        self.trace: TraceLevel = trace
        """What the jobs of every engine record of their trace (full, steps or off)."""
        self.trace_limit = trace_limit
        self._load = load
        self._engines: dict[tuple[str, ...], Engine] = {}
        self._made: weakref.WeakSet[Engine] = weakref.WeakSet()

    def get(self, manifests: Sequence[str]) -> Engine:
        """The engine of that manifest set, loading the set the first time."""
        key = tuple(manifests)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = self._make(self._load(list(key)))
        return engine

    def put(self, manifests: Sequence[str], mset: ManifestSet) -> Engine:
        """The engine of an already-loaded set; it replaces the cached one (which keeps
        running the jobs it began)."""
        engine = self._engines[tuple(manifests)] = self._make(mset)
        return engine

    def running(self) -> list[str]:
        """The ids of the jobs run here now, by any engine made (a replaced one too)."""
        return [job_id for engine in list(self._made) for job_id in engine.running()]

    def reload(self, notify: Callable[[str], None]) -> None:
        """Load every set in use again; swap in the ones that are valid.

        A set that no longer validates is refused as a whole and its old engine (catalog,
        agents, workflows) stays in use; jobs already running keep the engine they began with.
        """
        for key in list(self._engines):
            try:
                mset = self._load(list(key))
            except ManifestSetError as exc:
                notify(f"reload refused, the previous manifests stay in use: {exc}")
                continue
            engine = self._engines[key] = self._make(mset)
            intents = len(engine.catalog.entries())
            notify(f"reloaded {len(mset.of_kind('Workflow'))} workflows, {intents} intents")

    def _make(self, mset: ManifestSet) -> Engine:
        engine = Engine(
            self.store,
            mset,
            owner=self.owner,
            lease_seconds=self.lease_seconds,
            models=self.models,
            observer=self.observer,
            redactor=self.redactor,
            trace=self.trace,
            trace_limit=self.trace_limit,
            gate=self.gate,
        )
        self._made.add(engine)
        return engine

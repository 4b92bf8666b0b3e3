"""The model clients of a job's agents: every real call counted on the job, shadow
comparisons logged, and at the job's end the shadows drained and the cost logged."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import Run, log_line, shadow_line
from agentgo_cli.observer import ShadowCompared

if TYPE_CHECKING:
    from agentgo_cli.llm.base import Client
    from agentgo_cli.llm.cost import CallRecord
    from agentgo_cli.llm.hub import ModelHub
    from agentgo_cli.llm.reliability import ShadowRecord
    from agentgo_cli.manifests.models import AgentManifest
    from agentgo_cli.store.base import JobStore

__all__ = ["SHADOW_GRACE_SECONDS", "JobClients"]

SHADOW_GRACE_SECONDS = 2.0
"""How long a job's end waits for its shadow calls; the rest are cancelled (and logged)."""


class JobClients:
    """Makes the model clients of the jobs of one engine, and settles them at a job's end."""

    def __init__(self, store: JobStore, models: ModelHub) -> None:
        self.store = store
        self.models = models
        self._pending: set[asyncio.Future[Any]] = set()

    def client_for(self, run: Run, agent: AgentManifest) -> Client:
        """A model client for one agent invocation; its calls are counted on the job."""
        if agent.spec.model_ref.provider == "scripted":
            return self.models.client_for(agent.spec)

        def on_call(call: CallRecord) -> None:
            if run.costs is None:
                from agentgo_cli.llm.cost import CostTracker

                run.costs = CostTracker()
            run.costs.record(call)

        client = self.models.client_for(
            agent.spec, on_call=on_call, on_shadow=self._shadow_logger(run)
        )
        run.clients.append(client)
        return client

    async def settle(self, run: Run) -> None:
        """At a job's end: let shadow calls finish (briefly) and log what the models cost."""
        await asyncio.gather(*(c.drain(SHADOW_GRACE_SECONDS) for c in run.clients))
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if run.costs is not None and run.costs.calls:
            costs = run.costs
            message = f"models: {costs.calls} call(s), {costs.tokens} tokens, ${costs.usd:.6f}" + (
                f"; shadow ${costs.shadow_usd:.6f}" if costs.shadow_calls else ""
            )
            await log_line(
                self.store,
                run.observer,
                run.job.id,
                "cost",
                message,
                costs.as_dict(),
                run.redactor,
                run.lease,
            )

    def _shadow_logger(self, run: Run) -> Callable[[ShadowRecord], None]:
        """Log each shadow comparison on the job (kind 'shadow')."""
        job_id = run.job.id

        def on_shadow(record: ShadowRecord) -> None:
            data = dataclasses.asdict(record)
            data["usage"] = {
                "input_tokens": record.usage.input_tokens,
                "output_tokens": record.usage.output_tokens,
            }
            line = shadow_line(record)
            if run.observer is not None:
                run.observer.emit(ShadowCompared(job_id, data, line))
            self._later(
                log_line(
                    self.store, run.observer, job_id, "shadow", line, data, run.redactor, run.lease
                )
            )

        return on_shadow

    def _later(self, work: Awaitable[Any]) -> None:
        """Run a store write from a callback, keeping the task referenced until it ends."""
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

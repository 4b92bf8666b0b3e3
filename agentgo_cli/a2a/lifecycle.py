"""The typed call lifecycle: one code path for `agentgo call`, workflow `call:` steps and the
`call_agent` tool.

    lookup → input schema → ACL → quota → idempotency → trace → principal binding
           → dispatch → output schema

Each refusal is a CallError with its own code (and exit code): ``not_found``,
``invalid_input``, ``denied``, ``quota_exceeded`` (with ``retry_after``),
``idempotency_conflict``, ``invalid_output``; a target that fails gives ``failed``.

Principal binding: the callee runs as the caller's principal, so a nested call is checked
against the principal the work is done for, never against the agent in the middle; the
chain of agents a call passed through travels with it (deny rules see it) and is recorded.
Cost rolls up: what a callee spends (its own model calls and its nested calls) is added to
its caller's ``Spend``, and so on up to the step of the root caller's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentgo_cli.a2a.trace import TraceContext
from agentgo_cli.errors import AgentGoError, CallError

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog, CatalogEntry
    from agentgo_cli.a2a.idempotency import Begin, Idempotency
    from agentgo_cli.a2a.quota import Quotas
    from agentgo_cli.observer import Observer, Redactor

__all__ = [
    "CURRENT",
    "MAX_DEPTH",
    "CallContext",
    "CallOutcome",
    "CallService",
    "Dispatched",
    "Dispatcher",
    "Spend",
]

MAX_DEPTH = 8
"""Calls nested deeper than this are refused: agents calling each other in a loop."""

DEFAULT_IDEMPOTENCY_TTL = 24 * 3600.0


@dataclass
class Spend:
    """Tokens and dollars spent below one caller: its callees add theirs here."""

    tokens: int = 0
    usd: float = 0.0

    def add(self, tokens: int, usd: float) -> None:
        self.tokens += tokens
        self.usd += usd


@dataclass(frozen=True)
class CallContext:
    """Who a piece of work runs for, in which trace, and where its callees' cost goes."""

    principal: str
    """The principal every call below runs as (the root caller's)."""
    scopes: frozenset[str]
    chain: tuple[str, ...]
    """The root principal, then every agent the work passed through, this one last."""
    trace: TraceContext
    spend: Spend = field(default_factory=Spend)
    job_id: str | None = None
    """The root caller's job, where calls are logged; None for `agentgo call`."""
    log: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    """Where finished calls are reported (the engine writes them as job events)."""
    key: str | None = None
    """The key of the root caller's job step the work is for (a trace files calls under it)."""

    @property
    def depth(self) -> int:
        return len(self.chain) - 1

    def below(self, target: str, trace: TraceContext | None = None) -> CallContext:
        """The context of work this one hands to ``target`` (``agent:<name>``, …): the same
        principal, scopes, job and log; the chain one longer; a fresh Spend; ``trace``
        (default: a child span of this one's)."""
        return CallContext(
            self.principal,
            self.scopes,
            (*self.chain, target),
            trace or self.trace.child(),
            Spend(),
            self.job_id,
            self.log,
            self.key,
        )


CURRENT: ContextVar[CallContext | None] = ContextVar("agentgo_call_context", default=None)
"""The context of the agent running now; the call_agent tool continues it."""


@dataclass(frozen=True)
class Dispatched:
    """What a target produced: its output and what it spent (nested calls included)."""

    output: Any
    tokens: int
    cost_usd: float


class Dispatcher(Protocol):
    """Runs a call's target (an agent; teams later) as ``ctx.principal``."""

    def __call__(
        self, entry: CatalogEntry, value: Any, ctx: CallContext
    ) -> Awaitable[Dispatched]: ...


@dataclass(frozen=True)
class CallOutcome:
    """The whole record of one call, as `agentgo call --output json` prints it."""

    intent: str
    """'name@version' the call resolved to."""
    target: str
    output: Any
    principal: str
    chain: list[str]
    trace_id: str
    span_id: str
    parent_span_id: str | None
    traceparent: str
    tokens: int
    cost_usd: float
    duration_s: float
    replayed: bool
    """True when an idempotency record answered and the target did not run."""
    idempotency_key: str | None

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


class CallService:
    """Runs calls against a catalog: the lifecycle above, one method."""

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        dispatch: Dispatcher,
        *,
        quotas: Quotas | None = None,
        idempotency: Idempotency | None = None,
        observer: Observer | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._catalog = catalog
        self._dispatch = dispatch
        self._quotas = quotas
        self._idempotency = idempotency
        self.observer = observer
        """Told of every call and its decision (``AgentCalled``)."""
        self.redactor = redactor
        """Masks secrets in the error text of the events."""

    def call(
        self,
        ref: str,
        value: Any,
        *,
        parent: CallContext,
        idempotency_key: str | None = None,
    ) -> Awaitable[CallOutcome]:
        """Run one call for ``parent`` (the caller's context); CallError on any refusal."""
        if self.observer is None:
            return self._call(ref, value, parent, idempotency_key)
        return self._observed(self.observer, ref, value, parent, idempotency_key)

    async def _observed(
        self,
        observer: Observer,
        ref: str,
        value: Any,
        parent: CallContext,
        idempotency_key: str | None,
    ) -> CallOutcome:
        from agentgo_cli.observer import AgentCalled

        started = time.perf_counter()
        span = parent.trace.child()  # made here so that a failed call's event names it too
        try:
            outcome = await self._call(ref, value, parent, idempotency_key, span)
        except Exception as exc:
            code = exc.code if isinstance(exc, CallError) else "failed"
            intent, version = ref, None
            with contextlib.suppress(Exception):  # what the reference resolves to, if anything
                entry = self._catalog().lookup(ref)
                intent, version = entry.name, entry.version
            observer.emit(
                AgentCalled(
                    parent.job_id,
                    intent,
                    version,
                    list(parent.chain),
                    code,
                    parent.trace.trace_id,
                    self.redactor.text(str(exc)) if self.redactor else str(exc),
                    seconds=time.perf_counter() - started,
                    span_id=span.span_id,
                    parent_span_id=parent.trace.span_id,
                    key=parent.key,
                )
            )
            raise
        name, _, version = outcome.intent.partition("@")
        observer.emit(
            AgentCalled(
                parent.job_id,
                name,
                version or None,
                outcome.chain,
                "ok",
                outcome.trace_id,
                None,
                outcome.tokens,
                outcome.cost_usd,
                outcome.duration_s,
                span_id=span.span_id,
                parent_span_id=parent.trace.span_id,
                key=parent.key,
            )
        )
        return outcome

    async def _call(
        self,
        ref: str,
        value: Any,
        parent: CallContext,
        idempotency_key: str | None,
        span: TraceContext | None = None,
    ) -> CallOutcome:
        """The lifecycle; the call's span is ``span`` (default: a new child of the parent's)."""
        from agentgo_cli.a2a.acl import Caller, check_access
        from agentgo_cli.tools.registry import schema_problem, validator_for

        started = time.perf_counter()
        entry = self._catalog().lookup(ref)
        intent = entry.intent
        problem = schema_problem(validator_for(intent.input), value)
        if problem is not None:
            raise CallError("invalid_input", f"{entry.ref}: invalid input: {problem}")
        caller = Caller(parent.principal, parent.scopes, parent.chain)
        reason = check_access(intent, caller)
        if reason is not None:
            raise CallError("denied", f"{entry.ref}: {parent.principal} may not call it: {reason}")
        if parent.depth >= MAX_DEPTH:
            raise CallError(
                "denied", f"{entry.ref}: calls nested more than {MAX_DEPTH} deep are refused"
            )
        if self._quotas is not None and intent.rate_limit is not None:
            wait = await self._quotas.take(intent, parent.principal)
            if wait:
                error = CallError(
                    "quota_exceeded",
                    f"{entry.ref}: rate limit of {intent.rate_limit.requests} calls per "
                    f"{intent.rate_limit.per} for {parent.principal} reached; "
                    f"retry after {wait:.1f}s",
                )
                error.retry_after = wait
                raise error
        trace = span or parent.trace.child()
        ctx = parent.below(entry.target, trace)
        key = idempotency_key
        output, replayed = None, False
        owned: Begin | None = None
        if key is not None and self._idempotency is not None:
            ttl = intent.idempotency_ttl.seconds if intent.idempotency_ttl else None
            # Keys are the caller's own: another principal's key never replays for you.
            # The key is held while this call runs (a renewed lease), not for its timeout.
            begun = await self._idempotency.begin(
                f"{entry.name}|{parent.principal}", key, value, ttl or DEFAULT_IDEMPOTENCY_TTL
            )
            if begun.action == "conflict":
                raise CallError(
                    "idempotency_conflict",
                    f"{entry.ref}: idempotency key '{key}' was used with a different input",
                )
            if begun.action == "replay":
                output, replayed = begun.result, True
            else:
                owned = begun
        tokens, cost = 0, 0.0
        if not replayed:
            try:
                done = await self._run(entry, value, ctx)
                output = self._checked_output(entry, done.output)
            except BaseException as exc:
                if owned is not None and self._idempotency is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(
                            self._idempotency.finish(owned, "failed", None, str(exc))
                        )
                raise
            tokens, cost = done.tokens, done.cost_usd
            if owned is not None and self._idempotency is not None:
                await self._idempotency.finish(owned, "succeeded", output)
        parent.spend.add(tokens, cost)
        outcome = CallOutcome(
            entry.ref,
            entry.target,
            output,
            parent.principal,
            list(ctx.chain),
            trace.trace_id,
            trace.span_id,
            trace.parent_span_id,
            trace.traceparent,
            tokens,
            cost,
            time.perf_counter() - started,
            replayed,
            key,
        )
        if parent.log is not None:
            await parent.log(outcome.as_dict())
        return outcome

    async def _run(self, entry: CatalogEntry, value: Any, ctx: CallContext) -> Dispatched:
        limit = entry.intent.timeout.seconds if entry.intent.timeout else None
        token = CURRENT.set(ctx)
        try:
            async with asyncio.timeout(limit):
                return await self._dispatch(entry, value, ctx)
        except TimeoutError:
            raise CallError(
                "failed", f"{entry.ref}: timed out after {entry.intent.timeout}"
            ) from None
        except CallError:
            raise
        except AgentGoError as exc:
            raise CallError("failed", f"{entry.ref}: {exc}") from exc
        finally:
            CURRENT.reset(token)

    def _checked_output(self, entry: CatalogEntry, output: Any) -> Any:
        from agentgo_cli.tools.registry import schema_problem, validator_for

        schema = entry.intent.output
        if schema is None:
            return output
        if isinstance(output, str) and schema.get("type") != "string":
            with contextlib.suppress(ValueError):
                output = json.loads(output)
        problem = schema_problem(validator_for(schema), output)
        if problem is not None:
            raise CallError("invalid_output", f"{entry.ref}: invalid output: {problem}")
        return output

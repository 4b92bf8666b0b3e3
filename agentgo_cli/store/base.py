"""The JobStore protocol: jobs, step attempts, results and events as a durable log, plus the
records of typed agent-to-agent calls (rate-limit buckets and idempotency records) and
the shared state of teams (``store/teams.py``: todo claims and blackboards).

A job is a sequence of records: job created, step started (attempt), step finished
(result), job finished. Writes go through one writer with group commit; a write's
coroutine returns only once its record is committed, so "done" always means "on disk".
Resume rebuilds a job from its finished step records.

Leases and fencing
  A process runs a job while it holds the job's lease: an owner id and an expiry. Every
  take of a job (``create_job`` with an owner, ``claim_job``, ``take_over``) increments the
  job's lease epoch; (owner, epoch) is the ``Lease`` the taker passes with every later
  write of that job's records. The store checks it in the same transaction as the write
  and refuses a write whose lease no longer holds the job (it was taken over, or it
  ended), so a process that lost its lease cannot change the job. Writes without a lease
  (``lease=None``) are not checked; they are for tools and tests, never the engine.

  A take of a job from an owner that held it (its lease expired, or it was judged dead)
  counts as one owner lost. A job that has lost ``poison_after`` owners is not taken
  again: the take fails it as poisoned (see ``poisoned_error``).

Statuses
  job:  queued → running → succeeded | failed | cancelled; running → queued when its holder
        gives it up (``release``: interrupted by the user, or a worker stopping)
  step: running → succeeded | failed | skipped
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, overload

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store.registry import factory_for
from agentgo_cli.store.teams import BoardEntry, TeamStore, Todo

__all__ = [
    "IDEM_LEASE_S",
    "JOB_DONE",
    "POISON_AFTER",
    "STEP_DONE",
    "CallStore",
    "EventRecord",
    "IdemRecord",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "Lease",
    "StepRecord",
    "StepStatus",
    "BoardEntry",
    "TeamStore",
    "Todo",
    "TraceEntry",
    "TraceRecord",
    "open_store",
    "encode_json",
    "poisoned_error",
    "storable_text",
    "to_json",
]


_encode_utf8 = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_encode_ascii = json.JSONEncoder(ensure_ascii=True, allow_nan=False).encode
_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_json(value: Any) -> str:
    """Standard JSON text of a value (no NaN), always valid UTF-8; raises as ``json`` does.
    See ``to_json``.

    Text is written as it is, unescaped, except when a string in the value holds a lone
    surrogate (as a reply's JSON ``"\\ud800"`` decodes to), which no UTF-8 text can: then
    the whole value is written with every non-ASCII character escaped, so it reads back
    exactly. ASCII text (the common case) is told in constant time."""
    text = _encode_utf8(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _encode_ascii(value)
    return text


@overload
def storable_text(text: str) -> str: ...
@overload
def storable_text(text: None) -> None: ...
@overload
def storable_text(text: str | None) -> str | None: ...
def storable_text(text: str | None) -> str | None:
    """``text`` as a plain text column can hold it (a step's, a job's error, an event's
    message): a lone surrogate, which UTF-8 cannot encode, becomes U+FFFD; None stays None."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def to_json(value: Any, what: str = "the value") -> str:
    """``value`` as standard JSON text, as every store writes it; ValueNotStorable (naming
    ``what``) for a value that is not JSON, holds NaN or infinity, or is nested too deeply."""
    try:
        return encode_json(value)
    except RecursionError:
        reason = "it is nested too deeply"
    except (TypeError, ValueError) as exc:
        reason = str(exc)
    raise ValueNotStorable(f"cannot store {what} as JSON: {reason}")


class JobStatus(StrEnum):
    """Where a job is: queued → running → succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """Where a step instance is: running → succeeded | failed | skipped."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


JOB_DONE = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
"""The statuses a job ends in."""
STEP_DONE = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED})
"""The statuses of a finished step instance (a resume does not run it again)."""


class EventRecord(NamedTuple):
    """One line of a job's log, as stored."""

    seq: int
    """Increases with every event of the store (not per job)."""
    time: float
    kind: str
    message: str
    data: Any = None


class TraceEntry(NamedTuple):
    """One node of a job's trace, to be recorded (``JobStore.add_trace``)."""

    time: float
    kind: str
    """retry (an attempt failed and is retried), interrupted (an attempt a stop cut short,
    written at the resume), turn (a model turn), tool (a tool call), call (an agent-to-agent
    call). A step's last attempt is its step record."""
    key: str | None
    """The step instance's key (for a callee's turns and tool calls: the intent ref)."""
    attempt: int | None
    span: str | None
    """The agent-to-agent call a turn or tool call ran under; for a call: its own span."""
    parent: str | None
    """For a call: its caller's span."""
    name: str | None
    """The step kind, the model, the tool or the intent."""
    status: str | None
    seconds: float | None
    tokens: int
    cost_usd: float
    data: str | None
    """The payloads as JSON text, each cut to a size (see ``engine.trace``)."""


class TraceRecord(NamedTuple):
    """One recorded node of a job's trace, as stored: ``data`` is decoded."""

    seq: int
    """The node's place in its job's trace: 1, 2, 3, … (per job)."""
    time: float
    kind: str
    key: str | None
    attempt: int | None
    span: str | None
    parent: str | None
    name: str | None
    status: str | None
    seconds: float | None
    tokens: int
    cost_usd: float
    data: Any = None


POISON_AFTER = 3
"""How many owners a job may lose (each died while running it) before a take fails it."""


def poisoned_error(job_id: str, lost: int) -> str:
    """The error of a job failed as poisoned after losing ``lost`` owners."""
    return (
        f"job {job_id} was abandoned by {lost} owner{'s' * (lost != 1)} "
        "(each died while running it); failed as poisoned"
    )


@dataclass(frozen=True, slots=True)
class Lease:
    """A fencing token: the owner that took a job and the job's lease epoch at that take."""

    owner: str
    epoch: int


IDEM_LEASE_S = 10.0
"""How long a pending idempotency record holds its key without renewal. Its owner renews
it every third of that while the call runs (``idem_renew``), so a live call keeps its key
however long it takes, and a killed caller's key is free again within this many seconds."""


@dataclass
class JobRecord:
    """One workflow run."""

    id: str
    workflow: str
    status: str
    inputs: dict[str, Any]
    manifests: list[str]
    """Absolute paths of the manifest set the job was started with (for resume)."""
    created_at: float
    updated_at: float
    outputs: dict[str, Any] | None = None
    error: str | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    cancel_requested: bool = False
    cost_usd: float = 0.0
    tokens: int = 0
    principal: str | None = None
    """Whom the job runs for: its calls run as this principal (None: the runner's)."""
    scopes: list[str] = field(default_factory=list)
    """The scopes that principal holds for the job's calls."""
    lease_epoch: int = 0
    """How many times the job was taken (created with an owner, claimed, taken over)."""
    owners_lost: int = 0
    """How many owners lost the job while holding it (each take from a holder counts)."""

    @property
    def lease(self) -> Lease | None:
        """The fencing token of the job's current holder, or None when nobody holds it."""
        return None if self.lease_owner is None else Lease(self.lease_owner, self.lease_epoch)


@dataclass
class StepRecord:
    """The latest attempt of one step instance, keyed by its path in the run.

    ``key`` names the instance: ``draft``, ``research[1].summarize``,
    ``polish#2.review``, ``checks.count``. It is stable across resumes, and the
    idempotency key a tool receives is ``f"{job_id}:{key}"``.
    """

    job_id: str
    key: str
    step_id: str
    kind: str
    status: str
    attempt: int
    started_at: float
    finished_at: float | None = None
    output: Any = None
    error: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class IdemRecord:
    """The idempotency record of one key of one intent.

    ``status`` is ``pending`` while its owner runs the call, ``succeeded`` once it stored
    the result. A failed call leaves no record (see ``CallStore.idem_finish``).
    """

    scope: str
    """What the key is unique within: the intent's name (not its version), and whatever
    else the caller adds to it."""
    key: str
    input_hash: str
    owner: str
    """Who runs (or ran) the call: the token given to ``idem_begin``."""
    status: str
    result: Any
    """The call's output (decoded JSON); None while pending."""
    created_at: float
    expires_at: float
    """created_at + the intent's TTL: after it the key is free again."""
    lease_expires: float | None
    """While pending: when another caller may take the record over (its owner is
    presumed dead); None once finished."""

    def is_live(self, now: float) -> bool:
        """Whether the record still holds its key at ``now`` (else a new call may claim it)."""
        if self.status == "pending":
            return self.lease_expires is not None and now <= self.lease_expires
        return now <= self.expires_at


class CallStore(Protocol):
    """Shared state of typed calls, so that separate processes see one quota and one
    idempotency record per key. Every write is committed when it returns."""

    async def take_token(
        self, bucket: str, rate_per_s: float, capacity: float, now: float
    ) -> float:
        """Refill the token bucket to ``now`` and take one token, in one transaction.

        A bucket never seen starts full (``capacity`` tokens). Returns 0.0 when a token was
        taken, else the seconds until one will be available (nothing is taken then).
        """
        ...

    async def idem_begin(
        self,
        scope: str,
        key: str,
        input_hash: str,
        owner: str,
        ttl_s: float,
        now: float,
        *,
        lease_s: float = IDEM_LEASE_S,
    ) -> IdemRecord:
        """Claim a key, or read who holds it, in one transaction.

        Without a live record, a new ``pending`` one owned by ``owner`` is stored and
        returned: the caller runs the call. Otherwise the live record is returned as it is
        (its hash may differ from ``input_hash``: the caller decides). A succeeded record
        is live until ``expires_at``, a pending one until ``lease_expires``.
        """
        ...

    async def idem_finish(
        self, scope: str, key: str, owner: str, status: str, result: Any = None
    ) -> None:
        """End ``owner``'s pending record: ``succeeded`` stores the result; ``failed``
        deletes the record, so that the same key may run again (a failure is not worth
        replaying). A record no longer pending or owned by someone else is left alone."""
        ...

    async def idem_get(self, scope: str, key: str) -> IdemRecord | None:
        """The record of a key as stored (expired or not), or None."""
        ...

    async def idem_renew(self, scope: str, key: str, owner: str, lease_expires: float) -> bool:
        """Extend ``owner``'s pending record's lease to ``lease_expires``; False when the
        record is no longer ``owner``'s pending one (finished, freed, or taken over)."""
        ...


class JobStore(CallStore, TeamStore, Protocol):
    """Durable storage of jobs and their steps, of call records (``CallStore``) and of teams'
    shared state (``TeamStore``). Every method is safe to call concurrently."""

    async def start(self) -> None:
        """Open connections, run migrations, start the writer."""
        ...

    async def close(self) -> None:
        """Flush pending writes and stop; the store cannot be used again."""
        ...

    async def create_job(
        self,
        workflow: str,
        inputs: dict[str, Any],
        manifests: list[str],
        *,
        status: str = JobStatus.QUEUED,
        lease_owner: str | None = None,
        lease_seconds: float = 30.0,
        principal: str | None = None,
        scopes: list[str] | None = None,
    ) -> JobRecord:
        """Insert a job (committed when this returns), run for ``principal`` with ``scopes``."""
        ...

    async def step_started(
        self,
        job_id: str,
        key: str,
        step_id: str,
        kind: str,
        attempt: int,
        *,
        lease: Lease | None = None,
    ) -> None:
        """Record that an attempt began. Committed with the next batch; not awaited for disk.
        With a ``lease`` that no longer holds the job, nothing is recorded."""
        ...

    async def step_finished(
        self,
        job_id: str,
        key: str,
        status: str,
        *,
        output: Any = None,
        error: str | None = None,
        tokens: int = 0,
        cost_usd: float = 0.0,
        wait: bool = True,
        lease: Lease | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record a step's result; returns once committed.

        ``extra`` holds what a step kind records beyond its output (``StepRecord.extra``:
        a loop's ``exhausted``, a foreach's item ``errors``); a new attempt clears it.

        With ``wait=False`` it returns at once: the record is committed no later than the
        next write of this store that is awaited (the engine uses it for a job's last step,
        whose record then commits together with ``job_finished``). LeaseLost (nothing
        recorded) when ``lease`` no longer holds the job; without waiting, nothing is
        recorded then and the next ``job_finished`` with that lease fails.
        """
        ...

    async def job_finished(
        self,
        job_id: str,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
        lease: Lease | None = None,
    ) -> None:
        """Record a job's end; returns once committed. Releases its lease. LeaseLost
        (nothing recorded) when ``lease`` no longer holds the job."""
        ...

    async def add_event(
        self, job_id: str, kind: str, message: str, data: Any = None, *, lease: Lease | None = None
    ) -> None:
        """Append a log event (committed with the next batch); with a ``lease`` that no
        longer holds the job, nothing is recorded."""
        ...

    def add_trace(self, job_id: str, entry: TraceEntry, *, lease: Lease | None = None) -> None:
        """Append a node to a job's trace under the job's next sequence number. Not a
        coroutine: an Observer's ``emit`` calls it, and it only queues the write (committed
        with the next batch); with a ``lease`` that no longer holds the job, nothing is
        recorded."""
        ...

    async def trace(self, job_id: str) -> list[TraceRecord]:
        """Every node of a job's trace, in the order recorded."""
        ...

    async def get_job(self, job_id: str) -> JobRecord | None:
        """One job, or None."""
        ...

    async def list_jobs(
        self, *, status: str | None = None, principal: str | None = None, limit: int = 50
    ) -> list[JobRecord]:
        """Newest first; of one status and one principal (the job's own) if given."""
        ...

    async def steps(self, job_id: str) -> list[StepRecord]:
        """Every step record of a job, in the order they started."""
        ...

    async def events(self, job_id: str, *, after: int = 0) -> list[EventRecord]:
        """The events of a job with a sequence number above ``after``, in order."""
        ...

    async def claim_job(
        self, owner: str, lease_seconds: float, *, poison_after: int = POISON_AFTER
    ) -> JobRecord | None:
        """Atomically take a queued job, or a running one whose lease expired; mark it running
        under a new lease epoch. A job that would lose its ``poison_after``-th owner by this
        claim is failed as poisoned instead (with a log line), and the next one is tried."""
        ...

    async def renew_lease(self, job_id: str, lease: Lease, lease_seconds: float) -> bool:
        """Extend a lease we hold; False if the job ended or another owner took it."""
        ...

    async def release(self, job_id: str, lease: Lease, message: str) -> bool:
        """Give up a running job that ``lease`` holds, now: it is queued again with no
        owner, so the next ``claim_job`` or ``take_over`` takes it at once (no lease to wait
        for, and no owner counted lost); ``message`` is logged in the same transaction. Its
        finished steps stay finished; steps in flight are run again by whoever takes it.
        False (nothing changes) when the lease no longer holds the job."""
        ...

    async def take_over(
        self,
        job_id: str,
        owner: str,
        lease_seconds: float,
        *,
        expected: Lease | None = None,
        poison_after: int = POISON_AFTER,
    ) -> JobRecord | None:
        """Make a job that has not ended ours (status running, our lease, a new epoch), in one
        atomic compare-and-set; None if it has ended or does not exist. Used by resume.

        With ``expected`` (the holder the caller saw and judged gone; owner "" for nobody)
        the job is taken only if it is still held under that lease, or its lease expired;
        otherwise it is returned as it is, held by whoever took it meanwhile. Without it,
        the job is taken from whoever holds it. A take from a holder that would make the
        job's ``poison_after``-th lost owner fails the job as poisoned instead and returns it.
        """
        ...

    async def cancelled_ids(self, job_ids: list[str]) -> set[str]:
        """Those of the given jobs that have a cancel request (one query for many jobs)."""
        ...

    async def request_cancel(self, job_id: str) -> bool:
        """Ask a job to stop (a queued job is cancelled at once); False if it already ended."""
        ...

    async def cancel_orphan(self, job_id: str, owner: str | None) -> bool:
        """Cancel at once a running job that no live process owns: its lease has expired,
        or ``owner`` (whom the caller found dead) still holds it. Its steps still in flight
        end failed. False (nothing changes) when another owner holds it or it ended."""
        ...


def open_store(url: str, *, synchronous: str = "normal") -> JobStore:
    """A new, unstarted store for a profile's ``store:`` URL, chosen by its scheme
    (``sqlite:///path``; see ``registry``)."""
    store: JobStore = factory_for(url)(url, synchronous=synchronous)
    return store

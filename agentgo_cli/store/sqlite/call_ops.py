"""SQLite operations on the records of typed calls: rate-limit buckets and idempotency
records. Like ``ops``, each runs on the writer thread inside its batch's transaction
(reads on a reader thread)."""

from __future__ import annotations

import sqlite3
from typing import Any

from agentgo_cli.store.base import IdemRecord
from agentgo_cli.store.sqlite.ops import load

__all__ = [
    "CLAIM_IDEM",
    "DROP_IDEM",
    "FINISH_IDEM",
    "IDEM_COLUMNS",
    "PURGE_BUCKETS",
    "PURGE_IDEM",
    "RENEW_IDEM",
    "SAVE_BUCKET",
    "SELECT_BUCKET",
    "SELECT_IDEM",
    "idem_begin",
    "idem_finish",
    "idem_record",
    "idem_renew",
    "read_idem",
    "take_token",
]

SELECT_BUCKET = "SELECT tokens, updated_at FROM call_buckets WHERE bucket = ?"
SAVE_BUCKET = (
    "INSERT INTO call_buckets (bucket, tokens, updated_at, full_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bucket) DO UPDATE SET tokens = excluded.tokens, "
    "updated_at = excluded.updated_at, full_at = excluded.full_at"
)
# A few stale rows per call keep the tables from growing without a separate sweeper.
PURGE_BUCKETS = (
    "DELETE FROM call_buckets WHERE rowid IN "
    "(SELECT rowid FROM call_buckets WHERE full_at < ? LIMIT 8)"
)
IDEM_COLUMNS = (
    "scope, key, input_hash, owner, status, result, created_at, expires_at, lease_expires"
)
SELECT_IDEM = f"SELECT {IDEM_COLUMNS} FROM call_idempotency WHERE scope = ? AND key = ?"
CLAIM_IDEM = (
    f"INSERT INTO call_idempotency ({IDEM_COLUMNS}) "
    "VALUES (?, ?, ?, ?, 'pending', NULL, ?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET input_hash = excluded.input_hash, "
    "owner = excluded.owner, status = 'pending', result = NULL, "
    "created_at = excluded.created_at, expires_at = excluded.expires_at, "
    "lease_expires = excluded.lease_expires"
)
FINISH_IDEM = (
    "UPDATE call_idempotency SET status = 'succeeded', result = ?, lease_expires = NULL "
    "WHERE scope = ? AND key = ? AND owner = ? AND status = 'pending'"
)
RENEW_IDEM = (
    "UPDATE call_idempotency SET lease_expires = ? "
    "WHERE scope = ? AND key = ? AND owner = ? AND status = 'pending'"
)
DROP_IDEM = (
    "DELETE FROM call_idempotency WHERE scope = ? AND key = ? AND owner = ? AND status = 'pending'"
)
PURGE_IDEM = (
    "DELETE FROM call_idempotency WHERE rowid IN (SELECT rowid FROM call_idempotency "
    "WHERE expires_at < ? AND coalesce(lease_expires, 0) < ? LIMIT 8)"
)
_FULL_TOKEN = 1.0 - 1e-9
"""One token, less the rounding error a refill of n × (1/n) tokens may leave."""


def idem_record(row: tuple[Any, ...]) -> IdemRecord:
    """An IdemRecord from a row of IDEM_COLUMNS."""
    scope, key, input_hash, owner, status, result, created, expires, lease = row
    return IdemRecord(scope, key, input_hash, owner, status, load(result), created, expires, lease)


def take_token(
    conn: sqlite3.Connection, bucket: str, rate_per_s: float, capacity: float, now: float
) -> float:
    """Refill a bucket to ``now`` and take a token: 0.0, or the wait until one is there."""
    conn.execute(PURGE_BUCKETS, (now,))
    row = conn.execute(SELECT_BUCKET, (bucket,)).fetchone()
    tokens, last = (capacity, now) if row is None else row
    tokens = min(capacity, tokens + max(0.0, now - last) * rate_per_s)
    if tokens < _FULL_TOKEN:
        return (1.0 - tokens) / rate_per_s  # refused: the refill is recomputed next time
    tokens, last = max(tokens - 1.0, 0.0), max(now, last)
    conn.execute(SAVE_BUCKET, (bucket, tokens, last, last + (capacity - tokens) / rate_per_s))
    return 0.0


def idem_begin(
    conn: sqlite3.Connection,
    scope: str,
    key: str,
    input_hash: str,
    owner: str,
    ttl_s: float,
    now: float,
    lease_s: float,
) -> IdemRecord:
    """The live record of a key, or a new pending one owned by ``owner``."""
    conn.execute(PURGE_IDEM, (now, now))
    row = conn.execute(SELECT_IDEM, (scope, key)).fetchone()
    if row is not None:
        record = idem_record(row)
        if record.is_live(now):
            return record
    claimed = (scope, key, input_hash, owner, now, now + ttl_s, now + lease_s)
    conn.execute(CLAIM_IDEM, claimed)
    return IdemRecord(scope, key, input_hash, owner, "pending", None, *claimed[4:])


def idem_finish(
    conn: sqlite3.Connection, scope: str, key: str, owner: str, result: str | None, keep: bool
) -> None:
    """Store the result of ``owner``'s pending record (``keep``), or delete the record."""
    if keep:
        conn.execute(FINISH_IDEM, (result, scope, key, owner))
    else:
        conn.execute(DROP_IDEM, (scope, key, owner))


def idem_renew(
    conn: sqlite3.Connection, scope: str, key: str, owner: str, lease_expires: float
) -> bool:
    """Extend ``owner``'s pending record's lease; False when it is no longer theirs."""
    return conn.execute(RENEW_IDEM, (lease_expires, scope, key, owner)).rowcount == 1


def read_idem(conn: sqlite3.Connection, scope: str, key: str) -> IdemRecord | None:
    row = conn.execute(SELECT_IDEM, (scope, key)).fetchone()
    return None if row is None else idem_record(row)

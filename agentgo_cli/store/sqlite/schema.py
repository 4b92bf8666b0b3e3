"""The SQLite job store's schema, its named migrations, and how its connections are opened.

Migrations are sqlite-utils migrations recorded in the ``_migrations`` table (``name``,
``applied_at``); they run in order, in one ``BEGIN IMMEDIATE`` transaction, so two processes
opening a new file at once cannot both create the tables. Importing sqlite-utils costs about
0.1 s, so it is imported only when a migration is pending; an up-to-date database is checked
with one query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentgo_cli.errors import StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "open_reader", "open_writer"]

MIGRATIONS_TABLE = "_migrations"
_MIGRATION_SET = "agentgo.store"
BUSY_TIMEOUT_MS = 5000
PAGE_SIZE = 1024


def _create_jobs(db: Database) -> None:
    jobs = db.table("jobs")
    jobs.create(
        {
            "id": str,
            "workflow": str,
            "status": str,
            "inputs": str,  # JSON
            "manifests": str,  # JSON
            "created_at": float,
            "updated_at": float,
            "outputs": str,  # JSON
            "error": str,
            "lease_owner": str,
            "lease_expires": float,
            "cancel_requested": int,
            "cost_usd": float,
            "tokens": int,
        },
        pk="id",
        not_null={
            "workflow",
            "status",
            "inputs",
            "manifests",
            "created_at",
            "updated_at",
            "cancel_requested",
            "cost_usd",
            "tokens",
        },
        defaults={"cancel_requested": 0, "cost_usd": 0.0, "tokens": 0},
    )
    jobs.create_index(["created_at", "id"], index_name="jobs_by_created")
    jobs.create_index(["status", "created_at", "id"], index_name="jobs_by_status")
    jobs.create_index(["status", "lease_expires"], index_name="jobs_by_lease")


def _create_steps(db: Database) -> None:
    # A rowid table on purpose: an upsert keeps the rowid, which orders a job's steps by
    # when each instance was first recorded.
    db.table("steps").create(
        {
            "job_id": str,
            "key": str,
            "step_id": str,
            "kind": str,
            "status": str,
            "attempt": int,
            "started_at": float,
            "finished_at": float,
            "output": str,  # JSON
            "error": str,
            "tokens": int,
            "cost_usd": float,
            "extra": str,  # JSON
        },
        pk=("job_id", "key"),
        not_null={
            "job_id",
            "key",
            "step_id",
            "kind",
            "status",
            "attempt",
            "started_at",
            "tokens",
            "cost_usd",
        },
        defaults={"tokens": 0, "cost_usd": 0.0},
    )


def _create_events(db: Database) -> None:
    # Written as SQL because sqlite-utils' create() cannot say AUTOINCREMENT, which keeps a
    # sequence number from ever being reused, so a reader following `after=seq` never skips.
    db.execute(
        "CREATE TABLE events (\n"
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  job_id TEXT NOT NULL,\n"
        "  time REAL NOT NULL,\n"
        "  kind TEXT NOT NULL,\n"
        "  message TEXT NOT NULL,\n"
        "  data TEXT\n"
        ")"
    )
    db.table("events").create_index(["job_id", "seq"], index_name="events_by_job")


def _create_calls(db: Database) -> None:
    # Rate-limit buckets: ``full_at`` is when the bucket will be full again; a row past it
    # means the same as no row, so such rows may be deleted.
    db.table("call_buckets").create(
        {"bucket": str, "tokens": float, "updated_at": float, "full_at": float},
        pk="bucket",
        not_null={"tokens", "updated_at", "full_at"},
    )
    db.table("call_buckets").create_index(["full_at"], index_name="call_buckets_by_full")
    db.table("call_idempotency").create(
        {
            "scope": str,
            "key": str,
            "input_hash": str,
            "owner": str,
            "status": str,
            "result": str,  # JSON
            "error": str,
            "created_at": float,
            "expires_at": float,
            "lease_expires": float,
        },
        pk=("scope", "key"),
        not_null={"scope", "key", "input_hash", "owner", "status", "created_at", "expires_at"},
    )
    db.table("call_idempotency").create_index(
        ["expires_at"], index_name="call_idempotency_by_expiry"
    )


def _add_job_principal(db: Database) -> None:
    # Who a job runs for, so a worker runs its calls as the submitter, not as itself.
    db.execute("ALTER TABLE jobs ADD COLUMN principal TEXT")
    db.execute("ALTER TABLE jobs ADD COLUMN scopes TEXT")  # JSON list


def _add_lease_epoch(db: Database) -> None:
    # The fencing token of a job's writes is (lease_owner, lease_epoch): every take of the
    # job increments the epoch. owners_lost counts takes from a holder (poison jobs).
    db.execute("ALTER TABLE jobs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE jobs ADD COLUMN owners_lost INTEGER NOT NULL DEFAULT 0")


def _create_trace(db: Database) -> None:
    # What a job did, node by node (``jobs trace``), numbered per job. A rowid table: rows
    # go at its end and only the small index entry lands among the job's others (a table
    # clustered by job wrote 2.5x slower: each batch touches a page per job).
    db.execute(
        "CREATE TABLE trace (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  job_id TEXT NOT NULL,\n"
        "  seq INTEGER NOT NULL,\n"
        "  time REAL NOT NULL,\n"
        "  kind TEXT NOT NULL,\n"
        "  key TEXT,\n"
        "  attempt INTEGER,\n"
        "  span TEXT,\n"
        "  parent TEXT,\n"
        "  name TEXT,\n"
        "  status TEXT,\n"
        "  seconds REAL,\n"
        "  tokens INTEGER NOT NULL DEFAULT 0,\n"
        "  cost_usd REAL NOT NULL DEFAULT 0,\n"
        "  data TEXT\n"
        ")"
    )
    db.execute("CREATE UNIQUE INDEX trace_by_job ON trace (job_id, seq)")


def _create_teams(db: Database) -> None:
    # Teams' shared state. A todo is claimed by one UPDATE whose subquery finds the list's
    # first open todo by the (list_id, status, seq) prefix of team_todos_by_status and scans
    # only the list's claimed rows (as many as live workers) for an expired claim; the index
    # covers claim_expires, so that scan never reads the table.
    db.execute(
        "CREATE TABLE team_todos (\n"
        "  list_id TEXT NOT NULL,\n"
        "  seq INTEGER NOT NULL,\n"
        "  task TEXT,\n"  # JSON
        "  status TEXT NOT NULL,\n"
        "  owner TEXT,\n"
        "  token TEXT,\n"
        "  claim_expires REAL,\n"
        "  claims INTEGER NOT NULL DEFAULT 0,\n"
        "  result TEXT,\n"  # JSON
        "  created_at REAL NOT NULL,\n"
        "  updated_at REAL NOT NULL,\n"
        "  PRIMARY KEY (list_id, seq)\n"
        ")"
    )
    db.execute(
        "CREATE INDEX team_todos_by_status ON team_todos (list_id, status, seq, claim_expires)"
    )
    db.execute(
        "CREATE TABLE team_board (\n"
        "  board TEXT NOT NULL,\n"
        "  key TEXT NOT NULL,\n"
        "  value TEXT,\n"  # JSON
        "  version INTEGER NOT NULL,\n"
        "  updated_at REAL NOT NULL,\n"
        "  updated_by TEXT,\n"
        "  PRIMARY KEY (board, key)\n"
        ")"
    )


def _index_jobs_by_principal(db: Database) -> None:
    # ``jobs list`` through a server shows a token's own jobs, newest first.
    db.execute("CREATE INDEX jobs_by_principal ON jobs (principal, created_at, id)")


MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = [
    ("0001_jobs", _create_jobs),
    ("0002_steps", _create_steps),
    ("0003_events", _create_events),
    ("0004_calls", _create_calls),
    ("0005_job_principal", _add_job_principal),
    ("0006_lease_epoch", _add_lease_epoch),
    ("0007_trace", _create_trace),
    ("0008_teams", _create_teams),
    ("0009_jobs_by_principal", _index_jobs_by_principal),
]
"""Every migration, in the order it runs. Append; never rename or reorder."""


def _applied(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
    ).fetchone()
    if exists is None:
        return []
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id",
        (_MIGRATION_SET,),
    ).fetchall()
    return [name for (name,) in rows]


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    known = [name for name, _ in MIGRATIONS]
    applied = _applied(conn)
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StoreError(
            f"job store {path} was written by a newer agentgo (migration {unknown[0]}); "
            "upgrade agentgo to use it"
        )
    if len(applied) == len(known):
        return

    import sqlite_utils

    migrations = sqlite_utils.Migrations(_MIGRATION_SET)
    migrations.migrations_table = MIGRATIONS_TABLE
    for name, fn in MIGRATIONS:
        migrations(name=name)(fn)
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(db)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def open_writer(path: str, synchronous: str) -> sqlite3.Connection:
    """The one write connection: WAL, the chosen synchronous level, migrations applied.

    Call it on the thread that will use the connection.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=64)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # A new file only. Each commit writes its changed pages in full: most of our
        # commits change a few small rows, so smaller pages mean fewer bytes to write and to
        # fsync at checkpoints (15-25% more commits per second than 4096 in bench/).
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise StoreError(
                f"cannot open job store {path}: the file system does not support "
                f"write-ahead logging (journal mode is {mode})"
            )
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def open_reader(path: str) -> sqlite3.Connection:
    """A read-only connection, usable from any one thread at a time."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn

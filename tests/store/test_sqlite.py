"""What only the SQLite store promises: its file, pragmas, writer thread and error messages.

``store_db`` (and so ``store``) is narrowed here to its sqlite parameter.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.errors import ConfigError, StoreError
from agentgo_cli.store import open_store
from agentgo_cli.store.sqlite import SQLiteJobStore, call_ops, ops, schema
from agentgo_cli.store.sqlite import store as store_module
from tests.conftest import StoreDB, sqlite_db

T0 = 1_000_000.0


@pytest.fixture
def store_db(tmp_path: Path) -> StoreDB:
    """The sqlite parameter alone: every test of this module is about SQLite."""
    return sqlite_db(tmp_path / "data" / "jobs.db")


def _pragma(name: str) -> Any:
    """An operation that reads a pragma on the writer's own connection."""

    def read(conn: sqlite3.Connection) -> Any:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]

    return read


async def _on_writer(store: SQLiteJobStore, operation: Any) -> Any:
    return await store._write(operation)


def _hold_writer(store: SQLiteJobStore) -> threading.Event:
    """Keep the writer busy until the event is set, so that what is queued meanwhile
    becomes one batch."""
    release = threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        assert release.wait(10)

    store._write_nowait(hold)
    return release


@pytest.mark.parametrize(("synchronous", "level"), [("normal", 1), ("full", 2), ("FULL", 2)])
async def test_wal_synchronous_and_busy_timeout(
    tmp_path: Path, synchronous: str, level: int
) -> None:
    path = tmp_path / "a" / "b" / "jobs.db"  # missing folders are created
    async with SQLiteJobStore(str(path), synchronous=synchronous).running() as store:
        assert await _on_writer(store, _pragma("journal_mode")) == "wal"
        assert await _on_writer(store, _pragma("synchronous")) == level
        assert await _on_writer(store, _pragma("busy_timeout")) == 5000
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_builds_a_sqlite_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/jobs.db", synchronous="full")
    assert isinstance(store, SQLiteJobStore)
    assert (store.path, store.synchronous) == (f"{tmp_path}/jobs.db", "full")


def test_unknown_synchronous_level_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be 'normal' or 'full', not 'off'"):
        SQLiteJobStore(str(tmp_path / "jobs.db"), synchronous="off")


async def test_running_starts_and_closes(store_db: StoreDB) -> None:
    store = store_db.make()
    assert isinstance(store, SQLiteJobStore)
    async with store.running() as same:
        assert same is store
        await same.create_job("wf", {}, [])
    with pytest.raises(StoreError, match="^store is closed$"):
        await store.list_jobs()
    with pytest.raises(StoreError, match="^store is closed$"):
        async with store.running():
            pass


async def test_start_twice_is_refused(store: SQLiteJobStore) -> None:
    with pytest.raises(StoreError, match="^store is already started$"):
        await store.start()


async def test_threads_stop_on_close(store_db: StoreDB) -> None:
    # synchronous=full writes on a thread (its fsync would block the event loop).
    async with store_db.running(synchronous="full") as store:
        await store.create_job("wf", {}, [])
        await store.list_jobs()
        assert any(t.name == "agentgo-store-writer" for t in threading.enumerate())
    assert not [t for t in threading.enumerate() if t.name.startswith("agentgo-store")]


async def test_normal_mode_writes_on_the_event_loop(store_db: StoreDB) -> None:
    async with store_db.running() as store:
        assert isinstance(store, SQLiteJobStore)
        job = await store.create_job("wf", {}, [])
        await store.step_finished(job.id, "a", "succeeded", output=1)
        assert not any(t.name == "agentgo-store-writer" for t in threading.enumerate())
        many = [store.step_finished(job.id, f"k{i}", "succeeded") for i in range(500)]
        before = store._writer.batches if store._writer else 0
        await asyncio.gather(*many)
        assert store._writer is not None
        assert store._writer.batches - before == 1  # one group commit for all 500
    assert not [t for t in threading.enumerate() if t.name.startswith("agentgo-store")]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p.mkdir(), "cannot open job store {path}: unable to open database file"),
        (
            lambda p: p.write_bytes(b"this is not a database, just some text" * 100),
            "cannot open job store {path}: file is not a database",
        ),
        (
            lambda p: (p.parent / "file").write_text("x"),
            "cannot open job store {path}: File exists ({parent})",
        ),
    ],
    ids=["a folder", "not a database", "parent is a file"],
)
async def test_open_errors_name_the_path(tmp_path: Path, setup: Any, message: str) -> None:
    path = tmp_path / "jobs.db"
    setup(path)
    if "parent" in message:
        path = tmp_path / "file" / "jobs.db"
    store = SQLiteJobStore(str(path))
    with pytest.raises(StoreError) as info:
        await store.start()
    assert str(info.value) == message.format(path=path, parent=path.parent)
    with pytest.raises(StoreError, match="^store is closed$"):
        await store.list_jobs()
    await store.close()


async def test_in_memory_is_refused() -> None:
    with pytest.raises(StoreError, match="in-memory database is not durable"):
        await SQLiteJobStore(":memory:").start()


async def test_a_database_from_a_newer_version_is_refused(store: SQLiteJobStore) -> None:
    with closing(sqlite3.connect(store.path)) as conn, conn:
        conn.execute(
            "INSERT INTO _migrations (migration_set, name, applied_at) "
            "VALUES ('agentgo.store', '0999_future', 'later')"
        )
    store = SQLiteJobStore(store.path)
    with pytest.raises(StoreError, match=r"written by a newer agentgo \(migration 0999_future\)"):
        await store.start()


async def test_an_up_to_date_database_does_not_import_sqlite_utils(store_db: StoreDB) -> None:
    async with store_db.running():
        pass
    code = (
        "import asyncio, sys\n"
        "from agentgo_cli.store import open_store\n"
        "async def main():\n"
        f"    s = open_store({store_db.url!r})\n"
        "    await s.start()\n"
        "    await s.list_jobs()\n"
        "    await s.close()\n"
        "asyncio.run(main())\n"
        "assert 'sqlite_utils' not in sys.modules, 'imported'\n"
    )
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    assert await child.wait() == 0


async def test_sqlite_errors_become_store_errors_with_the_path(store: SQLiteJobStore) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(StoreError, match=f"^job store {store.path}: disk I/O error$") as info:
        await _on_writer(store, broken)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    await store.create_job("wf", {}, [])  # the writer carries on


async def test_concurrent_writes_share_commits(store: SQLiteJobStore) -> None:
    job = await store.create_job("wf", {}, [])
    assert store._writer is not None
    before = store._writer.batches
    for i in range(20):
        await store.step_finished(job.id, f"seq{i}", "succeeded")
    assert store._writer.batches - before == 20  # a lone caller: one commit per write
    before = store._writer.batches
    await asyncio.gather(*(store.step_finished(job.id, f"c{i}", "succeeded") for i in range(1000)))
    assert store._writer.batches - before < 100


async def test_a_failed_write_nobody_waits_for_is_logged(
    store_db: StoreDB, caplog: pytest.LogCaptureFixture
) -> None:
    async with store_db.running() as store:
        assert isinstance(store, SQLiteJobStore)
        job = await store.create_job("wf", {}, [])
        with caplog.at_level(logging.ERROR, logger="agentgo_cli.store.sqlite.writer"):
            release = _hold_writer(store)
            # One batch: a run of step_started (applied with executemany), one of them bad.
            for key in ("a", "b", "c"):
                kind = None if key == "b" else "agent"
                await store.step_started(job.id, key, key, kind, 1)  # type: ignore[arg-type]
            finished = store.step_finished(job.id, "d", "succeeded")
            release.set()
            await finished
        assert [s.key for s in await store.steps(job.id)] == ["a", "c", "d"]
    (record,) = caplog.records
    message = record.getMessage()
    assert "1 write(s) nobody waited for were lost, the first step_started" in message
    assert f"('{job.id}', 'b')" in message
    assert "NOT NULL constraint failed: steps.kind" in message


async def test_a_job_id_collision_takes_a_new_id(
    store: SQLiteJobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(["j-same", "j-same", "j-other"])
    monkeypatch.setattr(store_module, "new_job_id", lambda: next(ids))
    first = await store.create_job("wf", {}, [])
    second = await store.create_job("wf", {}, [])
    assert (first.id, second.id) == ("j-same", "j-other")


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (ops.OLDEST_QUEUED, (), "jobs_by_status"),
        (ops.OLDEST_EXPIRED, (0.0,), "jobs_by_lease"),
        (ops.LIST_JOBS[False, False], (50,), "jobs_by_created"),
        (ops.LIST_JOBS[True, False], ("queued", 50), "jobs_by_status"),
        (ops.LIST_JOBS[False, True], ("user:alice", 50), "jobs_by_principal"),
        (ops.EVENTS, ("j", 0), "events_by_job"),
    ],
)
async def test_queries_use_their_index(
    store: SQLiteJobStore, sql: str, params: tuple[Any, ...], index: str
) -> None:
    with closing(sqlite3.connect(store.path)) as conn:
        plan = " / ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert index in plan, plan
    if "jobs_by_lease" not in plan:
        assert "TEMP B-TREE" not in plan, plan  # rows come out in order, no sort


async def test_a_database_locked_elsewhere_fails_the_batch_at_once(
    store_db: StoreDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 200)
    async with store_db.running() as store:
        assert isinstance(store, SQLiteJobStore)
        path = store.path
        job = await store.create_job("wf", {}, [])
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            results = await asyncio.gather(
                *(store.step_finished(job.id, f"s{i}", "succeeded") for i in range(50)),
                return_exceptions=True,
            )
            assert {str(r) for r in results} == {f"job store {path}: database is locked"}
            assert all(isinstance(r, StoreError) for r in results)
            other.execute("ROLLBACK")
        await store.step_finished(job.id, "after", "succeeded")
        assert [s.key for s in await store.steps(job.id)] == ["after"]


async def test_reads_run_while_writes_commit(store: SQLiteJobStore) -> None:
    job = await store.create_job("wf", {}, [])

    async def write(i: int) -> None:
        await store.step_finished(job.id, f"s{i}", "succeeded", output={"i": i})

    async def read() -> int:
        return len(await store.steps(job.id))

    writes = [write(i) for i in range(500)]
    results = await asyncio.gather(*writes, *(read() for _ in range(50)))
    assert all(0 <= n <= 500 for n in results[500:])
    assert await read() == 500


async def test_migrations_apply_all_or_nothing(
    store_db: StoreDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: Any) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("migration failed")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("9_x", broken)])
    store = store_db.make()
    assert isinstance(store, SQLiteJobStore)
    path = store.path
    with pytest.raises(StoreError, match=f"^cannot open job store {path}: migration failed$"):
        await store.start()
    with closing(sqlite3.connect(path)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == []


async def test_a_run_with_an_unknown_job_fails_only_that_call(store_db: StoreDB) -> None:
    async with store_db.running(synchronous="full") as store:  # thread writer
        assert isinstance(store, SQLiteJobStore)
        job = await store.create_job("wf", {}, [])
        assert store._writer is not None
        release = _hold_writer(store)
        calls = [
            store.step_finished("j-missing" if i == 3 else job.id, f"s{i}", "succeeded", tokens=1)
            for i in range(6)
        ]
        tasks = [asyncio.ensure_future(call) for call in calls]
        await asyncio.sleep(0.05)  # every call is queued behind the held writer
        before = store._writer.batches
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[:3] == [None] * 3 and results[4:] == [None] * 2
        assert isinstance(results[3], StoreError)
        assert str(results[3]) == "cannot record step 's3': there is no job 'j-missing'"
        assert store._writer.batches - before == 5 + 1  # replayed one by one (+ the holder)
        assert [s.key for s in await store.steps(job.id)] == ["s0", "s1", "s2", "s4", "s5"]
        record = await store.get_job(job.id)
        assert record is not None and record.tokens == 5


# Call records


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (call_ops.PURGE_IDEM, (T0, T0), "call_idempotency_by_expiry"),
        (call_ops.PURGE_BUCKETS, (T0,), "call_buckets_by_full"),
        (call_ops.SELECT_IDEM, ("s", "k"), "sqlite_autoindex_call_idempotency_1"),
        (call_ops.SELECT_BUCKET, ("b",), "sqlite_autoindex_call_buckets_1"),
    ],
)
async def test_call_queries_use_an_index(
    store: SQLiteJobStore, sql: str, params: tuple[Any, ...], index: str
) -> None:
    with closing(sqlite3.connect(store.path)) as conn:
        plan = " / ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert index in plan, plan


async def test_idle_full_buckets_are_purged(store: SQLiteJobStore) -> None:
    for i in range(5):
        await store.take_token(f"b{i}", 1.0, 2, T0)
    await store.take_token("busy", 1.0, 2, T0 + 0.5)
    await store.take_token("late", 1.0, 2, T0 + 1.25)  # b0..b4 are full again
    with closing(sqlite3.connect(store.path)) as conn:
        rows = conn.execute("SELECT bucket FROM call_buckets ORDER BY bucket").fetchall()
    assert rows == [("busy",), ("late",)]

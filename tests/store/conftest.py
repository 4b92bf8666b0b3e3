"""Fixtures for the store contract: one parameter per backend, each able to reopen its data."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgo_cli.store.base import JobStore
from agentgo_cli.store.sqlite import SQLiteJobStore


@dataclass
class Backend:
    """One store backend under test, bound to one database that outlives its store objects."""

    name: str
    url: str
    """What ``open_store`` takes (and what a child process gets) to reach this database."""
    make: Callable[..., JobStore]
    """A new, unstarted store on the database; keyword arguments go to the constructor."""
    migrations: Callable[[], list[tuple[str, str]]]
    """(name, applied_at) of every recorded migration, in the order applied."""
    integrity: Callable[[], str]
    """The backend's own consistency check: "ok" when the database is sound."""


def _sqlite(path: Path) -> Backend:
    def query(sql: str) -> list[tuple[str, str]]:
        with closing(sqlite3.connect(path)) as conn:
            return [tuple(row) for row in conn.execute(sql)]

    def integrity() -> str:
        return "\n".join(row for (row,) in query("PRAGMA integrity_check"))

    return Backend(
        name="sqlite",
        url=f"sqlite:///{path}",
        make=lambda **kwargs: SQLiteJobStore(str(path), **kwargs),
        migrations=lambda: query("SELECT name, applied_at FROM _migrations ORDER BY id"),
        integrity=integrity,
    )


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend on an empty database (a postgres parameter will join here)."""
    if request.param == "sqlite":
        return _sqlite(tmp_path / "data" / "jobs.db")
    raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[JobStore]:
    """A started store, closed after the test."""
    store = backend.make()
    await store.start()
    try:
        yield store
    finally:
        await store.close()

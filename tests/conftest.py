"""Shared fixtures: a clean environment for every test, helpers to write manifests, and the
job store under test (``store_db``, ``store``), one parameter per store dialect."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agentgo_cli.store import JobStore
from agentgo_cli.store.sqlite import SQLiteJobStore

if TYPE_CHECKING:
    from agentgo_cli.backend.local import LocalBackend

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "local_only(reason): the test's [remote] run (tests/remote.py) is skipped, saying why",
    )


@pytest.fixture(autouse=True)
def _clean_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR, a fixed width, a temporary home, and no AGENTGO_* variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    for name in list(os.environ):
        if name.startswith("AGENTGO_"):
            monkeypatch.delenv(name)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary working folder, made the current directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def write(workdir: Path) -> Callable[[str, str], Path]:
    """Write a dedented text file under the working folder and return its path."""

    def _write(rel: str, text: str) -> Path:
        path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@dataclass
class StoreDB:
    """One database of one store dialect, which outlives the store objects made on it."""

    name: str
    """The dialect ("sqlite"; "postgres" will join)."""
    url: str
    """What ``open_store`` takes (and what a child process gets) to reach this database."""
    make: Callable[..., JobStore]
    """A new, unstarted store on the database; keyword arguments go to the constructor."""
    migrations: Callable[[], list[tuple[str, str]]]
    """(name, applied_at) of every recorded migration, in the order applied."""
    integrity: Callable[[], str]
    """The dialect's own consistency check: "ok" when the database is sound."""

    @contextlib.asynccontextmanager
    async def running(self, **kwargs: Any) -> AsyncIterator[JobStore]:
        """A new store on the database, started for the block and closed after."""
        store = self.make(**kwargs)
        await store.start()
        try:
            yield store
        finally:
            await store.close()


def sqlite_db(path: Path) -> StoreDB:
    """A SQLite database at ``path`` (created by the first store started on it)."""

    def query(sql: str) -> list[tuple[str, str]]:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return [tuple(row) for row in conn.execute(sql)]

    def integrity() -> str:
        return "\n".join(row for (row,) in query("PRAGMA integrity_check"))

    return StoreDB(
        name="sqlite",
        url=f"sqlite:///{path}",
        make=lambda **kwargs: SQLiteJobStore(path, **kwargs),
        migrations=lambda: query("SELECT name, applied_at FROM _migrations ORDER BY id"),
        integrity=integrity,
    )


@pytest.fixture(params=["sqlite"])
def store_db(request: pytest.FixtureRequest, tmp_path: Path) -> StoreDB:
    """An empty database of each store dialect (a postgres parameter will join here)."""
    if request.param == "sqlite":
        return sqlite_db(tmp_path / "data" / "jobs.db")
    raise AssertionError(f"unknown store dialect {request.param}")


@pytest.fixture
async def store(store_db: StoreDB) -> AsyncIterator[JobStore]:
    """A started store on ``store_db``, closed after the test."""
    async with store_db.running() as store:
        yield store


@pytest.fixture
async def backend(workdir: Path) -> AsyncIterator[LocalBackend]:
    """An open LocalBackend of the working folder; it reads agentgo.yaml on first use, so
    a test may write its project first."""
    from agentgo_cli.backend.local import LocalBackend

    async with LocalBackend() as opened:
        yield opened

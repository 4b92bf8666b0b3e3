"""Blackboard writes against a model: simulated writers, each with its own (possibly stale)
idea of a key's version, write in rounds; the writes of a round race (one ``gather``), and
writers refresh their view by reading or from the entry a refused write returns.

A refused write must never be a lost update, and no accepted write may replace a version
other than the one it expected: per key, the accepted writes of a round form a chain from
the version the round started with (each replaced exactly the version it expected), and
after every round the board equals the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store.base import BoardEntry, JobStore
from tests.conftest import StoreDB

KEYS = ["plan", "é/note", "日本", "a"]
WRITERS = 4


@dataclass
class Writer:
    """A team member's view of the board: the version it last saw of each key."""

    seen: dict[str, int] = field(default_factory=dict)

    def learn(self, key: str, entry: BoardEntry | None) -> None:
        self.seen[key] = 0 if entry is None else entry.version


# One action: (writer, key, kind, skew). kind "write" expects the writer's seen version
# plus skew (0 usually: a stale view is the usual way to be refused); "read" refreshes.
_ACTION = st.tuples(
    st.integers(0, WRITERS - 1),
    st.sampled_from(KEYS),
    st.sampled_from(["write", "write", "write", "read"]),
    st.sampled_from([0, 0, 0, 0, -1, 1]),
)
_ROUNDS = st.lists(st.lists(_ACTION, min_size=1, max_size=6), min_size=1, max_size=12)


@dataclass
class Model:
    """What the board must hold: each key's version and value."""

    entries: dict[str, tuple[int, Any]] = field(default_factory=dict)

    def version(self, key: str) -> int:
        return self.entries.get(key, (0, None))[0]


def _chain(key: str, start: int, accepted: list[tuple[int, BoardEntry]]) -> Iterator[Any]:
    """The values of ``key``'s accepted writes in the order they applied, checking that each
    replaced exactly the version it expected."""
    version = start
    for expected, entry in sorted(accepted, key=lambda pair: pair[1].version):
        assert expected == version, f"{key}: a write expecting {expected} replaced {version}"
        assert entry.version == version + 1
        version = entry.version
        yield entry.value


async def _play(store: JobStore, board: str, rounds: list[list[tuple[int, str, str, int]]]) -> None:
    writers = [Writer() for _ in range(WRITERS)]
    model = Model()
    serial = 0
    for number, actions in enumerate(rounds):
        calls: list[Coroutine[Any, Any, Any]] = []
        expecteds: list[int] = []
        for who, key, kind, skew in actions:
            serial += 1
            expected = max(0, writers[who].seen.get(key, 0) + skew)
            expecteds.append(expected)
            if kind == "read":
                calls.append(store.board_get(board, key))
            else:
                value = {"by": who, "round": number, "n": serial, "text": "ü"}
                calls.append(store.board_put(board, key, value, expected, by=f"w{who}"))
        results: list[Any] = await asyncio.gather(*calls)
        accepted: dict[str, list[tuple[int, BoardEntry]]] = {}
        for (who, key, kind, _), expected, result in zip(actions, expecteds, results, strict=True):
            if kind == "read":
                writers[who].learn(key, result)
                continue
            ok, entry = result
            if ok:
                assert entry is not None and entry.key == key and entry.updated_by == f"w{who}"
                accepted.setdefault(key, []).append((expected, entry))
            else:
                # Refused: what is there now is not the version it expected.
                assert (0 if entry is None else entry.version) != expected
            writers[who].learn(key, entry)
        # The first write of a key to apply saw the round's starting version: if one of the
        # round's writes expected it, some write of that key was accepted.
        for (_, key, kind, _), expected in zip(actions, expecteds, strict=True):
            if kind == "write" and expected == model.version(key):
                assert key in accepted, f"{key}: every write was refused"
        for key, wins in accepted.items():
            values = list(_chain(key, model.version(key), wins))
            model.entries[key] = (model.version(key) + len(values), values[-1])
        listed = await store.board_list(board)
        assert {e.key: (e.version, e.value) for e in listed} == model.entries


@contextlib.contextmanager
def _started(store_db: StoreDB) -> Iterator[tuple[asyncio.Runner, JobStore]]:
    """A store on ``store_db``, started in an event loop of its own that a hypothesis test
    (a sync function) runs its calls in, and closed after."""
    with asyncio.Runner() as runner:
        store = store_db.make()
        runner.run(store.start())
        try:
            yield runner, store
        finally:
            runner.run(store.close())


def test_versioned_writes_never_lose_an_update(store_db: StoreDB) -> None:
    with _started(store_db) as (runner, store):
        boards = iter(range(10**9))

        @settings(max_examples=150, deadline=None)
        @given(_ROUNDS)
        def check(rounds: list[list[tuple[int, str, str, int]]]) -> None:
            runner.run(_play(store, f"team:j-{next(boards)}", rounds))

        check()


# Garbage: any text as board, key, prefix or list id (lone surrogates and NUL included), any
# JSON-like value (NaN and infinities included): stored and read back as it was, or refused
# with ValueNotStorable and nothing written; never another error.

# Mostly a few characters, so that keys and prefixes often share a start or differ in one
# adjacent code point: a, b; U+D7FF, U+E000 (neighbours across the surrogates); the last
# two code points; then a lone surrogate and NUL, and any character at all.
_CHARS = st.sampled_from(
    ["a", "b", "\ud7ff", "\ue000", "\U0010fffe", "\U0010ffff", "\ud800", "\x00"]
) | st.characters(exclude_categories=())
_TEXT = st.lists(_CHARS, max_size=6).map("".join)  # st.text would not weigh the few
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _storable(*names: str, value: Any = None) -> bool:
    """The model of what a store takes: standard JSON; names and keys in valid Unicode (a
    lone surrogate inside a value is kept, escaped)."""
    try:
        json.dumps(value, allow_nan=False)
        for name in names:
            name.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return True


async def _garbage_board(
    store: JobStore, board: str, puts: list[tuple[str, Any]], prefixes: list[str]
) -> None:
    model: dict[str, tuple[int, Any]] = {}
    for key, value in puts:
        version = model.get(key, (0, None))[0]
        if not _storable(board, key, value=value):
            with pytest.raises(ValueNotStorable):
                await store.board_put(board, key, value, version)
            continue
        ok, entry = await store.board_put(board, key, value, version)
        assert ok and entry is not None
        assert (entry.key, entry.value, entry.version) == (key, value, version + 1)
        model[key] = (version + 1, value)
        assert await store.board_get(board, key) == entry
    if not _storable(board):
        return
    for prefix in prefixes:
        if not _storable(prefix):
            with pytest.raises(ValueNotStorable):
                await store.board_list(board, prefix=prefix)
            continue
        listed = await store.board_list(board, prefix=prefix)
        expected = sorted((k, v) for k, v in model.items() if k.startswith(prefix))
        assert [(e.key, (e.version, e.value)) for e in listed] == expected


async def _garbage_todos(store: JobStore, list_id: str, tasks: list[Any]) -> None:
    if not _storable(list_id, value=tasks):
        with pytest.raises(ValueNotStorable):
            await store.todo_add(list_id, tasks)
        if _storable(list_id):
            assert await store.todos(list_id) == []  # nothing half-added
        return
    added = await store.todo_add(list_id, tasks)
    assert [(t.seq, t.task) for t in added] == list(enumerate(tasks))
    assert await store.todos(list_id) == added


def test_garbage_is_stored_as_it_is_or_refused(store_db: StoreDB) -> None:
    with _started(store_db) as (runner, store):
        boards = iter(range(10**9))

        @settings(max_examples=200, deadline=None)
        @given(
            _TEXT,
            st.lists(st.tuples(_TEXT, _VALUES), max_size=6),
            st.lists(_TEXT, max_size=4),
            st.lists(_VALUES, max_size=4),
        )
        def check(
            name: str, puts: list[tuple[str, Any]], prefixes: list[str], tasks: list[Any]
        ) -> None:
            n = next(boards)
            prefixes = [*prefixes, *(key[:2] for key, _ in puts)]  # prefixes that match
            runner.run(_garbage_board(store, f"{n}:{name}", puts, prefixes))
            runner.run(_garbage_todos(store, f"{n}:{name}", tasks))

        check()

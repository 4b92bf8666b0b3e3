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
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_versioned_writes_never_lose_an_update(store_db: StoreDB) -> None:
    with asyncio.Runner() as runner:
        store = store_db.make()
        runner.run(store.start())
        boards = iter(range(10**9))

        @settings(max_examples=150, deadline=None)
        @given(_ROUNDS)
        def check(rounds: list[list[tuple[int, str, str, int]]]) -> None:
            runner.run(_play(store, f"team:j-{next(boards)}", rounds))

        try:
            check()
        finally:
            runner.run(store.close())

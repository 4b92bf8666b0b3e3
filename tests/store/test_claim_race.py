"""The claim race: many workers over one todo list, some of them dying while they hold
claims, must complete every todo exactly once and lose none.

Completions are counted twice: by what ``todo_complete`` returned True for (each worker's
own record of its wins) and by the store's final state, and the two must agree. The seed of
the random choices is in every failure message; ``AGENTGO_RACE_SEED`` replays it.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from agentgo_cli.store.base import JobStore, Todo
from tests.conftest import REPO, StoreDB

TODOS = 1000
LIST = "j-race:desk"
CHILD = Path(__file__).with_name("_claim_child.py")
CHILD_WORKERS = 4
"""As ``_claim_child.WORKERS``: how many completions a killed child may not have reported."""


def _seed() -> int:
    return int(os.environ.get("AGENTGO_RACE_SEED", random.randrange(2**32)))


async def _add(store: JobStore) -> None:
    added = await store.todo_add(LIST, [{"n": i} for i in range(TODOS)])
    assert [t.seq for t in added] == list(range(TODOS))


def _once(wins: dict[int, list[str]], where: str) -> None:
    twice = {seq: owners for seq, owners in wins.items() if len(owners) > 1}
    assert not twice, f"{where}: completed more than once: {twice}"
    missing = sorted(set(range(TODOS)) - set(wins))
    assert not missing, f"{where}: never completed: {missing[:20]}"
    assert sum(len(owners) for owners in wins.values()) == TODOS


def _stored(todos: list[Todo], where: str) -> dict[int, Todo]:
    assert [t.seq for t in todos] == list(range(TODOS)), f"{where}: todos lost"
    assert {t.status for t in todos} == {"done"}, where
    for todo in todos:
        assert todo.result == todo.owner, f"{where}: {todo}"  # the winner wrote its name
        assert todo.task == {"n": todo.seq} and todo.claim_expires is None, f"{where}: {todo}"
    return {t.seq: t for t in todos}


async def test_coroutines_killed_mid_claim_lose_no_todo(store: JobStore) -> None:
    seed = _seed()
    rng = random.Random(seed)
    where = f"seed {seed}"
    ttl = 0.2
    await _add(store)
    wins: dict[int, list[str]] = collections.defaultdict(list)
    abandoned: list[tuple[int, str]] = []
    """(todo, token) of the claims their workers walked away from."""
    late: list[tuple[int, str]] = []
    """(todo, token) of completions refused because the claim had been taken."""
    completing: set[str] = set()
    """Workers awaiting todo_complete: never cancelled, since a cancelled wait would hide
    whether it returned True (the write itself is not withdrawn)."""

    async def worker(name: str) -> None:
        while True:
            todo = await store.todo_claim(LIST, name, ttl)
            if todo is None:
                if not (await store.todos(LIST, status="open")) and not (
                    await store.todos(LIST, status="claimed")
                ):
                    return
                await asyncio.sleep(0.02)
                continue
            assert todo.token is not None and todo.owner == name
            roll = rng.random()
            if roll < 0.02:  # walks away holding the claim: it must be stolen
                abandoned.append((todo.seq, todo.token))
                continue
            if roll < 0.03:  # outlives its claim: it may or may not be stolen meanwhile
                await asyncio.sleep(ttl * 1.5)
            elif roll < 0.08:  # slow, but within its claim: nobody may take it meanwhile
                await asyncio.sleep(ttl / 2)
            elif roll < 0.5:
                await asyncio.sleep(0)
            completing.add(name)
            try:
                won = await store.todo_complete(LIST, todo.seq, todo.token, name)
            finally:
                completing.discard(name)
            if won:
                wins[todo.seq].append(name)
            else:
                expired = todo.claim_expires is not None and time.time() > todo.claim_expires
                assert expired, f"{where}: {name}'s live claim of {todo.seq} was taken"
                late.append((todo.seq, todo.token))

    tasks: dict[str, asyncio.Task[None]] = {}
    for i in range(50):
        tasks[f"w{i}"] = asyncio.create_task(worker(f"w{i}"))
    killed = 0
    deadline = time.monotonic() + 60
    while any(not task.done() for task in tasks.values()):
        assert time.monotonic() < deadline, f"{where}: the workers never finished"
        await asyncio.sleep(rng.uniform(0, 0.01))
        victims = [n for n, t in tasks.items() if not t.done() and n not in completing]
        if killed < 20 and victims:
            victim = rng.choice(victims)
            tasks[victim].cancel()  # wherever it is: awaiting a claim, or holding one
            killed += 1
            tasks[f"w{len(tasks)}"] = asyncio.create_task(worker(f"w{len(tasks)}"))
    for name, task in tasks.items():
        if not task.cancelled():
            assert task.exception() is None, f"{where}: {name}: {task.exception()!r}"

    _once(wins, where)
    stored = _stored(await store.todos(LIST), where)
    for seq, (owner,) in wins.items():
        assert stored[seq].owner == owner, f"{where}: todo {seq}"
    # Stolen after the claim expired (perhaps by the same worker, with a new claim).
    for seq, token in abandoned:
        assert stored[seq].token != token and stored[seq].claims >= 2, f"{where}: {seq}"
    for seq, token in late:  # refused: another claim took it first
        assert stored[seq].token != token and stored[seq].claims >= 2, f"{where}: {seq}"
    assert sum(t.claims for t in stored.values()) >= TODOS + len(abandoned) + len(late)


def _wins(out: Path) -> list[int]:
    """The todos a child reported it won (none when it was killed before it was ready)."""
    text = out.read_text()
    lines = text.splitlines()[: None if text.endswith("\n") else -1]  # a cut last line
    assert lines[:1] in ([], ["ready"]), lines[:1]
    return [int(line.removeprefix("won ")) for line in lines[1:]]


@pytest.mark.timeout(120)
async def test_processes_killed_mid_claim_lose_no_todo(
    store: JobStore, store_db: StoreDB, tmp_path: Path
) -> None:
    seed = _seed()
    rng = random.Random(seed)
    where = f"seed {seed}"
    await _add(store)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children: dict[str, asyncio.subprocess.Process] = {}

    async def spawn(name: str) -> None:
        with (tmp_path / f"{name}.out").open("wb") as out:
            children[name] = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), store_db.url, LIST, name, "0.3", stdout=out, env=env
            )

    def reported() -> int:
        return sum(
            max(0, len((tmp_path / f"{name}.out").read_text().splitlines()) - 1)
            for name in children
        )

    async def until(wins: int) -> None:
        deadline = time.monotonic() + 60
        while reported() < wins:
            assert time.monotonic() < deadline, f"{where}: stuck at {reported()} wins"
            await asyncio.sleep(0.01)

    killed: list[str] = []
    orphans: dict[int, str] = {}
    try:
        for i in range(4):
            await spawn(f"c{i}")
        for victim, after in ((f"c{rng.randrange(4)}", rng.randrange(150, 350)), (None, 650)):
            await until(after)
            name = victim or rng.choice([n for n in children if n not in killed])
            children[name].send_signal(signal.SIGKILL)
            assert await children[name].wait() == -signal.SIGKILL
            killed.append(name)
            for todo in await store.todos(LIST, status="claimed"):
                if todo.owner is not None and todo.owner.startswith(f"{name}/"):
                    orphans[todo.seq] = todo.owner  # held by the dead: must be stolen
            await spawn(f"c{len(children)}")
        for name, child in children.items():
            if name not in killed:
                code = await asyncio.wait_for(child.wait(), 60)
                assert code == 0, f"{where}: child {name} exited {code}"
    finally:
        for child in children.values():
            if child.returncode is None:
                child.kill()
                await child.wait()

    stored = _stored(await store.todos(LIST), where)
    wins: dict[int, list[str]] = collections.defaultdict(list)
    for name in children:
        for seq in _wins(tmp_path / f"{name}.out"):
            wins[seq].append(name)
    for seq, owners in wins.items():
        assert len(owners) == 1, f"{where}: todo {seq} reported by {owners}"
        assert (stored[seq].owner or "").split("/")[0] == owners[0], f"{where}: todo {seq}"
    # What nobody reported was completed by a killed child just before it died.
    unreported = [t for seq, t in stored.items() if seq not in wins]
    for name in killed:
        mine = [t.seq for t in unreported if (t.owner or "").startswith(f"{name}/")]
        assert len(mine) <= CHILD_WORKERS, f"{where}: {name} completed {mine} unreported"
    assert all((t.owner or "").split("/")[0] in killed for t in unreported), where
    assert orphans, f"{where}: the killed children held no claims"
    for seq, owner in orphans.items():
        assert stored[seq].owner != owner and stored[seq].claims >= 2, f"{where}: {seq}"

"""The TeamStore contract: todo lists with two-phase claims, and versioned blackboards, on
every store dialect (the ``store`` fixture). Claims expire on the store's clock, so the
tests of expiry use claims of a few hundredths of a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from agentgo_cli.errors import StoreError, ValueNotStorable
from agentgo_cli.store.base import JobStore, Todo
from tests.conftest import StoreDB
from tests.store.test_contract import NESTED

LIST = "j-team:desk"
SHORT = 0.05
"""A claim that expires while the test sleeps twice as long."""


async def _list(store: JobStore, n: int, list_id: str = LIST) -> list[Todo]:
    return await store.todo_add(list_id, [f"task {i}" for i in range(n)])


async def _claim(store: JobStore, owner: str, ttl: float = 60.0, **kwargs: int) -> Todo:
    todo = await store.todo_claim(LIST, owner, ttl, **kwargs)
    assert todo is not None
    return todo


# Adding


async def test_tasks_are_numbered_from_0_then_after_the_last(store: JobStore) -> None:
    before = time.time()
    first = await store.todo_add(LIST, ["a", NESTED, None])
    assert [(t.seq, t.task, t.status) for t in first] == [
        (0, "a", "open"),
        (1, NESTED, "open"),
        (2, None, "open"),
    ]
    todo = first[0]
    assert (todo.list_id, todo.owner, todo.token, todo.claim_expires) == (LIST, None, None, None)
    assert (todo.claims, todo.result) == (0, None)
    assert before <= todo.created_at == todo.updated_at <= time.time()
    more = await store.todo_add(LIST, ["d"])
    assert [(t.seq, t.task) for t in more] == [(3, "d")]
    assert await store.todos(LIST) == [*first, *more]
    assert await store.todo_add(LIST, []) == []
    assert [t.seq for t in await store.todo_add("other list", ["x"])] == [0]


async def test_adding_from_first_seq_again_adds_nothing_twice(store: JobStore) -> None:
    planned = await store.todo_add(LIST, ["a", "b", "c"], first_seq=0)
    claimed = await _claim(store, "w1")
    again = await store.todo_add(LIST, ["A", "B", "C", "D"], first_seq=0)
    # Numbers already there are returned as stored (the claim included); 3 is new.
    assert again[:3] == [claimed, *planned[1:]]
    assert [(t.seq, t.task) for t in again] == [(0, "a"), (1, "b"), (2, "c"), (3, "D")]
    assert len(await store.todos(LIST)) == 4
    gap = await store.todo_add(LIST, ["j"], first_seq=9)
    assert [(t.seq, t.task) for t in gap] == [(9, "j")]
    assert [t.seq for t in await store.todo_add(LIST, ["k"])] == [10]
    with pytest.raises(ValueError, match=r"^a todo's seq is 0 or more, not -1$"):
        await store.todo_add(LIST, ["x"], first_seq=-1)


# Claiming


async def test_claims_take_the_lowest_open_seq_with_a_fresh_token(store: JobStore) -> None:
    await _list(store, 3)
    before = time.time()
    claims = [await _claim(store, f"w{i}", 30) for i in range(3)]
    assert [(t.seq, t.status, t.owner, t.claims) for t in claims] == [
        (0, "claimed", "w0", 1),
        (1, "claimed", "w1", 1),
        (2, "claimed", "w2", 1),
    ]
    assert len({t.token for t in claims}) == 3 and all(t.token for t in claims)
    for todo in claims:
        assert todo.claim_expires is not None
        assert before + 30 <= todo.claim_expires <= time.time() + 30
        assert todo.updated_at >= todo.created_at
    assert await store.todo_claim(LIST, "w3", 30) is None  # every claim is live
    assert await store.todos(LIST) == claims
    assert await store.todo_claim("no such list", "w3", 30) is None


async def test_racing_claims_give_each_todo_one_live_claim(
    store: JobStore, store_db: StoreDB
) -> None:
    await _list(store, 30)
    async with store_db.running() as other:
        got = await asyncio.gather(
            *(s.todo_claim(LIST, f"w{i}", 30) for i, s in enumerate([store, other] * 25))
        )
    won = [todo for todo in got if todo is not None]
    assert sorted(t.seq for t in won) == list(range(30))
    assert len({t.token for t in won}) == 30


async def test_an_expired_claim_is_stolen_and_its_old_token_is_worthless(
    store: JobStore,
) -> None:
    await _list(store, 2)
    old = await _claim(store, "slow", SHORT)
    await asyncio.sleep(2 * SHORT)
    stolen = await _claim(store, "fast")
    assert (stolen.seq, stolen.owner, stolen.claims) == (0, "fast", 2)  # before open seq 1
    assert stolen.token != old.token
    assert old.token is not None and stolen.token is not None
    assert not await store.todo_renew(LIST, 0, old.token, 60)
    assert not await store.todo_complete(LIST, 0, old.token, "late")
    assert await store.todo_complete(LIST, 0, stolen.token, "on time")
    (done,) = await store.todos(LIST, status="done")
    assert (done.seq, done.owner, done.result, done.claims) == (0, "fast", "on time", 2)


async def test_an_expired_claim_nobody_took_still_completes(store: JobStore) -> None:
    await _list(store, 1)
    todo = await _claim(store, "slow", SHORT)
    await asyncio.sleep(2 * SHORT)
    assert todo.token is not None
    assert await store.todo_complete(LIST, 0, todo.token, {"late": True})
    assert await store.todo_claim(LIST, "other", 60) is None


async def test_a_todo_is_completed_once_and_never_claimed_again(store: JobStore) -> None:
    await _list(store, 2)
    todo = await _claim(store, "w1", SHORT)
    assert todo.token is not None
    assert not await store.todo_complete(LIST, 0, "not the token", "x")
    assert not await store.todo_complete(LIST, 1, todo.token, "x")  # another todo's token
    assert await store.todo_complete(LIST, 0, todo.token, NESTED)
    assert not await store.todo_complete(LIST, 0, todo.token, "again")
    assert not await store.todo_renew(LIST, 0, todo.token, 60)
    await asyncio.sleep(2 * SHORT)  # a done todo has no claim left to expire
    nxt = await _claim(store, "w2")
    assert nxt.seq == 1
    assert await store.todo_claim(LIST, "w3", 60, seq=0) is None
    done, claimed = await store.todos(LIST)
    assert (done.status, done.owner, done.result, done.claims) == ("done", "w1", NESTED, 1)
    assert done.claim_expires is None
    assert claimed == nxt


async def test_renew_extends_a_live_claim(store: JobStore) -> None:
    await _list(store, 1)
    todo = await _claim(store, "w1", SHORT)
    assert todo.token is not None and todo.claim_expires is not None
    assert await store.todo_renew(LIST, 0, todo.token, 60)
    (renewed,) = await store.todos(LIST)
    assert renewed.claim_expires is not None
    assert renewed.claim_expires >= todo.claim_expires + 59
    await asyncio.sleep(2 * SHORT)
    assert await store.todo_claim(LIST, "w2", 60) is None  # the renewal holds it
    assert not await store.todo_renew(LIST, 0, "not the token", 60)
    assert not await store.todo_renew(LIST, 7, todo.token, 60)


async def test_a_claim_of_one_seq_takes_only_that_todo(store: JobStore) -> None:
    await _list(store, 3)
    two = await _claim(store, "w1", seq=2)
    assert (two.seq, two.owner) == (2, "w1")
    assert await store.todo_claim(LIST, "w2", 60, seq=2) is None  # live claim
    assert await store.todo_claim(LIST, "w2", 60, seq=3) is None  # no such todo
    assert (await _claim(store, "w2")).seq == 0
    short = await _claim(store, "w3", SHORT, seq=1)
    await asyncio.sleep(2 * SHORT)
    again = await _claim(store, "w4", seq=1)
    assert (again.owner, again.claims) == ("w4", 2)
    assert again.token != short.token


async def test_release_opens_claims_by_owner_by_seq_or_all(store: JobStore) -> None:
    await _list(store, 6)
    claims = [await _claim(store, owner) for owner in ("a", "b", "a", "b", "c")]
    done = claims[4]
    assert done.token is not None
    assert await store.todo_complete(LIST, done.seq, done.token, "ok")
    assert await store.todo_release(LIST, owner="a") == 2
    assert [t.seq for t in await store.todos(LIST, status="open")] == [0, 2, 5]
    assert await store.todo_release(LIST, owner="a") == 0
    assert await store.todo_release(LIST, seq=1) == 1
    assert await store.todo_release(LIST, seq=4) == 0  # done: left alone
    assert await store.todo_release(LIST, owner="b", seq=1) == 0  # already open
    assert await store.todo_release(LIST) == 1  # b's seq 3
    todos = await store.todos(LIST)
    assert [t.status for t in todos] == ["open"] * 4 + ["done", "open"]
    for todo in todos[:4]:
        assert (todo.owner, todo.token, todo.claim_expires, todo.claims) == (None, None, None, 1)
    assert (todos[4].owner, todos[4].result) == ("c", "ok")
    old = claims[0]
    assert old.token is not None
    assert not await store.todo_complete(LIST, 0, old.token, "x")  # released: not held
    again = await _claim(store, "d")
    assert (again.seq, again.claims) == (0, 2)
    assert await store.todo_release("no such list") == 0


async def test_todos_filter_by_status(store: JobStore) -> None:
    await _list(store, 3)
    claimed = await _claim(store, "w")
    assert [t.seq for t in await store.todos(LIST, status="claimed")] == [claimed.seq]
    assert [t.seq for t in await store.todos(LIST, status="open")] == [1, 2]
    assert await store.todos(LIST, status="done") == []
    assert await store.todos("no such list") == []
    with pytest.raises(ValueError, match=r"^a todo is 'open', 'claimed' or 'done', not 'x'$"):
        await store.todos(LIST, status="x")


@pytest.mark.parametrize("ttl", [0, -1, float("inf"), float("nan")])
async def test_a_claim_needs_a_positive_ttl(store: JobStore, ttl: float) -> None:
    await _list(store, 1)
    message = r"^a claim's TTL must be a positive number of seconds, not "
    with pytest.raises(ValueError, match=message):
        await store.todo_claim(LIST, "w", ttl)
    with pytest.raises(ValueError, match=message):
        await store.todo_renew(LIST, 0, "t", ttl)
    assert [t.status for t in await store.todos(LIST)] == ["open"]


# Blackboards


async def test_a_board_key_is_written_by_version(store: JobStore) -> None:
    assert await store.board_get("b", "plan") is None
    before = time.time()
    ok, first = await store.board_put("b", "plan", NESTED, 0, by="user:ann/planner")
    assert ok and first is not None
    assert (first.board, first.key, first.value, first.version) == ("b", "plan", NESTED, 1)
    assert first.updated_by == "user:ann/planner"
    assert before <= first.updated_at <= time.time()
    assert await store.board_get("b", "plan") == first
    ok, second = await store.board_put("b", "plan", [1, 2], 1)
    assert ok and second is not None
    assert (second.value, second.version, second.updated_by) == ([1, 2], 2, None)
    assert await store.board_get("b", "plan") == second
    ok, none = await store.board_put("b", "null", None, 0)
    assert ok and none is not None and (none.value, none.version) == (None, 1)


async def test_a_stale_write_changes_nothing_and_returns_what_is_there(
    store: JobStore,
) -> None:
    _, first = await store.board_put("b", "k", "one", 0, by="w1")
    assert await store.board_put("b", "k", "two", 0, by="w2") == (False, first)  # must be new
    _, second = await store.board_put("b", "k", "two", 1, by="w2")
    assert await store.board_put("b", "k", "three", 1, by="w3") == (False, second)
    assert await store.board_put("b", "k", "three", 5, by="w3") == (False, second)
    assert await store.board_put("b", "absent", "x", 1) == (False, None)
    assert await store.board_get("b", "absent") is None
    assert await store.board_get("b", "k") == second
    with pytest.raises(ValueError, match=r"^a version is 0 \(absent\) or more, not -1$"):
        await store.board_put("b", "k", "x", -1)


async def test_racing_writers_of_one_version_elect_one(store: JobStore, store_db: StoreDB) -> None:
    async with store_db.running() as other:
        puts = await asyncio.gather(
            *(s.board_put("b", "k", i, 0) for i, s in enumerate([store, other] * 10))
        )
    winners = [entry for ok, entry in puts if ok]
    assert len(winners) == 1 and winners[0] is not None
    assert {entry for ok, entry in puts if not ok} == {winners[0]}


async def test_board_list_by_key_and_prefix(store: JobStore) -> None:
    keys = ["b", "a/2", "a/1", "a", "a\U0010ffff", "é/x", "日本/語", "ab", "a/1/deep"]
    for key in keys:
        assert (await store.board_put("board", key, key, 0))[0]
    await store.board_put("other", "a/3", "elsewhere", 0)
    listed = await store.board_list("board")
    assert [e.key for e in listed] == sorted(keys)  # code point order
    assert [e.value for e in listed] == sorted(keys)
    assert [e.key for e in await store.board_list("board", prefix="a/")] == [
        "a/1",
        "a/1/deep",
        "a/2",
    ]
    assert [e.key for e in await store.board_list("board", prefix="a")] == [
        "a",
        "a/1",
        "a/1/deep",
        "a/2",
        "ab",
        "a\U0010ffff",
    ]
    assert [e.key for e in await store.board_list("board", prefix="a\U0010ffff")] == ["a\U0010ffff"]
    assert [e.key for e in await store.board_list("board", prefix="é")] == ["é/x"]
    assert [e.key for e in await store.board_list("board", prefix="日本/")] == ["日本/語"]
    assert await store.board_list("board", prefix="z") == []
    assert await store.board_list("no board") == []


# Values that cannot be stored


async def test_a_value_that_is_not_standard_json_is_not_stored(store: JobStore) -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    bad: list[tuple[object, str]] = [
        (float("nan"), "Out of range float values are not JSON compliant"),
        ({1j}, "Object of type set is not JSON serializable"),
        (deep, "it is nested too deeply"),
    ]
    await store.board_put("b", "k", "kept", 0)
    await _list(store, 1)
    todo = await _claim(store, "w")
    assert todo.token is not None
    for value, reason in bad:
        with pytest.raises(
            ValueNotStorable, match=rf"^cannot store a task of todo list .*{reason}"
        ):
            await store.todo_add(LIST, ["fine", value])
        with pytest.raises(ValueNotStorable, match=rf"^cannot store the value of 'k' .*{reason}"):
            await store.board_put("b", "k", value, 1)
        with pytest.raises(
            ValueNotStorable, match=rf"^cannot store the result of todo 0 .*{reason}"
        ):
            await store.todo_complete(LIST, 0, todo.token, value)
    assert [(t.seq, t.status) for t in await store.todos(LIST)] == [(0, "claimed")]
    entry = await store.board_get("b", "k")
    assert entry is not None and (entry.value, entry.version) == ("kept", 1)


async def test_a_name_that_is_not_unicode_is_refused_not_crashed_on(store: JobStore) -> None:
    bad = "key \udc80"
    message = r"^a board's id, key or writer is not valid Unicode \(surrogates not allowed\)$"
    with pytest.raises(ValueNotStorable, match=message):
        await store.board_put("b", bad, 1, 0)
    with pytest.raises(ValueNotStorable, match=message):
        await store.board_put("b", "k", 1, 0, by=bad)
    with pytest.raises(ValueNotStorable, match=r"^a board's id or key is not valid Unicode"):
        await store.board_get("b", bad)
    with pytest.raises(ValueNotStorable, match=r"^a board's id or key prefix is not valid"):
        await store.board_list("b", prefix=bad)
    with pytest.raises(ValueNotStorable, match=r"^a todo list's id is not valid Unicode"):
        await store.todo_add(bad, ["x"])
    with pytest.raises(ValueNotStorable, match=r"^a todo list's id or owner is not valid"):
        await store.todo_claim(LIST, bad, 60)
    assert await store.board_list("b") == []
    assert await store.board_get("b", "k") is None


# Life cycle


async def test_team_state_survives_reopening(store_db: StoreDB) -> None:
    async with store_db.running() as store:
        await _list(store, 2)
        todo = await _claim(store, "w")
        _, entry = await store.board_put("b", "k", NESTED, 0)
        todos = await store.todos(LIST)
    async with store_db.running() as store:
        assert await store.todos(LIST) == todos
        assert await store.board_get("b", "k") == entry
        assert todo.token is not None
        assert await store.todo_complete(LIST, todo.seq, todo.token, "after reopening")


async def test_team_calls_on_a_closed_store_raise(store_db: StoreDB) -> None:
    store = store_db.make()
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.todo_add(LIST, ["x"]),
        lambda: store.todo_claim(LIST, "w", 60),
        lambda: store.todo_renew(LIST, 0, "t", 60),
        lambda: store.todo_complete(LIST, 0, "t", None),
        lambda: store.todo_release(LIST),
        lambda: store.todos(LIST),
        lambda: store.board_get("b", "k"),
        lambda: store.board_put("b", "k", 1, 0),
        lambda: store.board_list("b"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=r"^store is not started$"):
            await call()
    await store.start()
    await store.close()
    for call in calls:
        with pytest.raises(StoreError, match=r"^store is closed$"):
            await call()

"""The SQLite store's side of ``TeamStore``: todo lists with claims, and blackboards.

A mixin of ``SQLiteJobStore``: each method checks its arguments, encodes its values and
runs its operation (``team_ops``) on the store's writer (committed when it returns) or a
reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from agentgo_cli.store.sqlite import ops, team_ops
from agentgo_cli.store.teams import TODO_STATUSES, BoardEntry, Todo

if TYPE_CHECKING:
    from agentgo_cli.store.sqlite.writer import Operation

__all__ = ["TeamState"]

_T = TypeVar("_T")


class TeamState:
    """Todo lists and blackboards over the store's writer and readers."""

    if TYPE_CHECKING:

        def _write(self, operation: Operation, *args: Any) -> asyncio.Future[Any]: ...

        async def _read(self, read: Callable[..., _T], *args: Any) -> _T: ...

    async def todo_add(
        self, list_id: str, tasks: list[Any], *, first_seq: int | None = None
    ) -> list[Todo]:
        """Add tasks to a list (numbers ``first_seq`` on already there are kept); committed."""
        encoded = [ops.dump(task, "a task of todo list '{}'", list_id) for task in tasks]
        first = team_ops.new_first_seq(first_seq)
        todos: list[Todo] = await self._write(team_ops.todo_add, list_id, encoded, first)
        return todos

    async def todo_claim(
        self, list_id: str, owner: str, ttl_s: float, *, seq: int | None = None
    ) -> Todo | None:
        """Claim the first claimable todo (or ``seq``) with a fresh token; committed."""
        ttl = team_ops.check_ttl(ttl_s)
        todo: Todo | None = await self._write(team_ops.todo_claim, list_id, owner, ttl, seq)
        return todo

    async def todo_renew(self, list_id: str, seq: int, token: str, ttl_s: float) -> bool:
        """Extend the claim ``token`` holds to now + ``ttl_s``; False when it holds none."""
        ttl = team_ops.check_ttl(ttl_s)
        renewed: bool = await self._write(team_ops.todo_renew, list_id, seq, token, ttl)
        return renewed

    async def todo_complete(self, list_id: str, seq: int, token: str, result: Any) -> bool:
        """Mark the todo ``token`` holds done with ``result``; False when it holds none."""
        encoded = ops.dump(result, "the result of todo {} of '{}'", str(seq), list_id)
        done: bool = await self._write(team_ops.todo_complete, list_id, seq, token, encoded)
        return done

    async def todo_release(
        self, list_id: str, *, owner: str | None = None, seq: int | None = None
    ) -> int:
        """Open claimed todos again (all of the list's, ``owner``'s or ``seq``); how many."""
        released: int = await self._write(team_ops.todo_release, list_id, owner, seq)
        return released

    async def todos(self, list_id: str, *, status: str | None = None) -> list[Todo]:
        """The todos of a list in seq order, of one status if given."""
        if status is not None and status not in TODO_STATUSES:
            raise ValueError(f"a todo is 'open', 'claimed' or 'done', not '{status}'")
        return await self._read(team_ops.read_todos, list_id, status)

    async def board_get(self, board: str, key: str) -> BoardEntry | None:
        """The entry of ``key`` on ``board``, or None."""
        return await self._read(team_ops.read_board_entry, board, key)

    async def board_put(
        self,
        board: str,
        key: str,
        value: Any,
        expected_version: int,
        *,
        by: str | None = None,
    ) -> tuple[bool, BoardEntry | None]:
        """Write ``key`` if its version is ``expected_version`` (0: absent); committed."""
        if expected_version < 0:
            raise ValueError(f"a version is 0 (absent) or more, not {expected_version}")
        encoded = ops.dump(value, "the value of '{}' on board '{}'", key, board)
        put: tuple[bool, BoardEntry | None] = await self._write(
            team_ops.board_put, board, key, encoded, expected_version, by
        )
        return put

    async def board_list(self, board: str, *, prefix: str = "") -> list[BoardEntry]:
        """The entries of ``board`` whose key starts with ``prefix``, by key."""
        return await self._read(team_ops.read_board, board, prefix)

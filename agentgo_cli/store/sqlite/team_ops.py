"""SQLite operations on teams' shared state: todo lists with claims, and versioned
blackboards. Like ``ops``, each write runs on the writer inside its batch's transaction
(``BEGIN IMMEDIATE``, so processes sharing the file take turns), reads on a reader thread.

A claim is one statement: an UPDATE of the row its subquery picks, RETURNING the row. The
claim's time and token are made inside the transaction, so a wait for the database lock
never shortens a claim, and a batch replayed after a failure makes a fresh token.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store.base import BoardEntry, Todo
from agentgo_cli.store.sqlite.ops import load
from agentgo_cli.store.teams import TODO_STATUSES

__all__ = [
    "BOARD_COLUMNS",
    "COMPLETE",
    "CREATE_ENTRY",
    "ENTRIES",
    "ENTRIES_BELOW",
    "RELEASE",
    "RENEW",
    "SELECT_ENTRY",
    "TAKE_FIRST",
    "TAKE_SEQ",
    "TODOS",
    "TODOS_BY_STATUS",
    "TODO_COLUMNS",
    "UPDATE_ENTRY",
    "board_put",
    "check_ttl",
    "new_first_seq",
    "prefix_end",
    "read_board",
    "read_board_entry",
    "read_todos",
    "storable",
    "todo_add",
    "todo_claim",
    "todo_complete",
    "todo_release",
    "todo_renew",
]

_OPEN, _CLAIMED, _DONE = TODO_STATUSES

TODO_COLUMNS = (
    "list_id, seq, task, status, owner, token, claim_expires, claims, result, "
    "created_at, updated_at"
)
BOARD_COLUMNS = "board, key, value, version, updated_at, updated_by"

_LAST_SEQ = "SELECT max(seq) FROM team_todos WHERE list_id = ?"
_INSERT_TODO = (
    f"INSERT INTO team_todos ({TODO_COLUMNS}) VALUES (?, ?, ?, '{_OPEN}', NULL, NULL, NULL, 0, "
    "NULL, ?, ?) ON CONFLICT (list_id, seq) DO NOTHING"
)
_TODO_RANGE = (
    f"SELECT {TODO_COLUMNS} FROM team_todos WHERE list_id = ? AND seq BETWEEN ? AND ? ORDER BY seq"
)
_TAKE = (
    f"UPDATE team_todos SET status = '{_CLAIMED}', owner = ?1, token = ?2, claim_expires = ?3, "
    "claims = claims + 1, updated_at = ?4 "
)
# The first open todo comes from the index in one probe; expired claims are looked for
# among the list's claimed rows only. The lower seq of the two is taken.
TAKE_FIRST = (
    _TAKE + "WHERE rowid = (SELECT id FROM ("
    f"SELECT * FROM (SELECT rowid AS id, seq FROM team_todos WHERE list_id = ?5 "
    f"AND status = '{_OPEN}' ORDER BY seq LIMIT 1) UNION ALL "
    f"SELECT * FROM (SELECT rowid AS id, seq FROM team_todos WHERE list_id = ?5 "
    f"AND status = '{_CLAIMED}' AND claim_expires < ?6 ORDER BY seq LIMIT 1)"
    f") ORDER BY seq LIMIT 1) RETURNING {TODO_COLUMNS}"
)
TAKE_SEQ = (
    _TAKE + f"WHERE list_id = ?5 AND seq = ?7 AND (status = '{_OPEN}' "
    f"OR status = '{_CLAIMED}' AND claim_expires < ?6) RETURNING {TODO_COLUMNS}"
)
RENEW = (
    "UPDATE team_todos SET claim_expires = ?, updated_at = ? "
    f"WHERE list_id = ? AND seq = ? AND token = ? AND status = '{_CLAIMED}'"
)
COMPLETE = (
    f"UPDATE team_todos SET status = '{_DONE}', result = ?, claim_expires = NULL, "
    f"updated_at = ? WHERE list_id = ? AND seq = ? AND token = ? AND status = '{_CLAIMED}'"
)
RELEASE = (
    f"UPDATE team_todos SET status = '{_OPEN}', owner = NULL, token = NULL, "
    f"claim_expires = NULL, updated_at = ?1 WHERE list_id = ?2 AND status = '{_CLAIMED}' "
    "AND (?3 IS NULL OR owner = ?3) AND (?4 IS NULL OR seq = ?4)"
)
TODOS = f"SELECT {TODO_COLUMNS} FROM team_todos WHERE list_id = ? ORDER BY seq"
TODOS_BY_STATUS = (
    f"SELECT {TODO_COLUMNS} FROM team_todos WHERE list_id = ? AND status = ? ORDER BY seq"
)

SELECT_ENTRY = f"SELECT {BOARD_COLUMNS} FROM team_board WHERE board = ? AND key = ?"
CREATE_ENTRY = (
    f"INSERT INTO team_board ({BOARD_COLUMNS}) VALUES (?, ?, ?, 1, ?, ?) "
    f"ON CONFLICT (board, key) DO NOTHING RETURNING {BOARD_COLUMNS}"
)
UPDATE_ENTRY = (
    "UPDATE team_board SET value = ?, version = version + 1, updated_at = ?, updated_by = ? "
    f"WHERE board = ? AND key = ? AND version = ? RETURNING {BOARD_COLUMNS}"
)
ENTRIES = f"SELECT {BOARD_COLUMNS} FROM team_board WHERE board = ? AND key >= ? ORDER BY key"
ENTRIES_BELOW = (
    f"SELECT {BOARD_COLUMNS} FROM team_board WHERE board = ? AND key >= ? AND key < ? ORDER BY key"
)

_MAX_CHAR = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def storable(what: str, *texts: str | None) -> None:
    """ValueNotStorable when one of ``texts`` (names, keys) holds a lone surrogate, which no
    UTF-8 text can (the sqlite3 module would raise UnicodeEncodeError)."""
    for text in texts:
        try:
            if text is not None:
                text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueNotStorable(f"{what} is not valid Unicode ({exc.reason})") from None


def check_ttl(ttl_s: float) -> float:
    """A claim's time to live, which must be positive and finite."""
    if not 0 < ttl_s < float("inf"):
        raise ValueError(f"a claim's TTL must be a positive number of seconds, not {ttl_s}")
    return ttl_s


def new_first_seq(first_seq: int | None) -> int | None:
    """``todo_add``'s ``first_seq``, which may not be negative."""
    if first_seq is not None and first_seq < 0:
        raise ValueError(f"a todo's seq is 0 or more, not {first_seq}")
    return first_seq


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (code point order,
    which is SQLite's order of UTF-8 text), or None when there is none."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= _MAX_CHAR:
            return "".join(chars) + chr(code)
    return None


def _todo(row: tuple[Any, ...]) -> Todo:
    list_id, seq, task, status, owner, token, expires, claims, result, created, updated = row
    return Todo(
        list_id, seq, load(task), status, owner, token, expires, claims, load(result), created,
        updated,
    )  # fmt: skip


def _entry(row: tuple[Any, ...]) -> BoardEntry:
    board, key, value, version, updated_at, updated_by = row
    return BoardEntry(board, key, load(value), version, updated_at, updated_by)


def todo_add(
    conn: sqlite3.Connection, list_id: str, tasks: list[str | None], first_seq: int | None
) -> list[Todo]:
    """Number the (encoded) tasks from ``first_seq`` or after the list's last todo, insert
    those whose number is free, and return the todos of those numbers as stored."""
    storable("a todo list's id", list_id)
    if not tasks:
        return []
    if first_seq is None:
        (last,) = conn.execute(_LAST_SEQ, (list_id,)).fetchone()
        first_seq = 0 if last is None else last + 1
    now = time.time()
    conn.executemany(
        _INSERT_TODO,
        [(list_id, first_seq + i, task, now, now) for i, task in enumerate(tasks)],
    )
    rows = conn.execute(_TODO_RANGE, (list_id, first_seq, first_seq + len(tasks) - 1))
    return [_todo(row) for row in rows]


def todo_claim(
    conn: sqlite3.Connection, list_id: str, owner: str, ttl_s: float, seq: int | None
) -> Todo | None:
    """Claim the first claimable todo of a list (or todo ``seq``) for ``owner``: the todo
    with its fresh token, or None."""
    storable("a todo list's id or owner", list_id, owner)
    now = time.time()
    claim = (owner, secrets.token_hex(16), now + ttl_s, now)
    if seq is None:
        row = conn.execute(TAKE_FIRST, (*claim, list_id, now)).fetchone()
    else:
        row = conn.execute(TAKE_SEQ, (*claim, list_id, now, seq)).fetchone()
    return None if row is None else _todo(row)


def todo_renew(conn: sqlite3.Connection, list_id: str, seq: int, token: str, ttl_s: float) -> bool:
    """Extend the claim ``token`` holds; False when it holds none."""
    storable("a todo list's id or token", list_id, token)
    now = time.time()
    return conn.execute(RENEW, (now + ttl_s, now, list_id, seq, token)).rowcount == 1


def todo_complete(
    conn: sqlite3.Connection, list_id: str, seq: int, token: str, result: str | None
) -> bool:
    """Mark the todo ``token`` holds done with the (encoded) result; False when it holds none."""
    storable("a todo list's id or token", list_id, token)
    return conn.execute(COMPLETE, (result, time.time(), list_id, seq, token)).rowcount == 1


def todo_release(conn: sqlite3.Connection, list_id: str, owner: str | None, seq: int | None) -> int:
    """Open the list's claimed todos again (``owner``'s, or ``seq`` only); how many."""
    storable("a todo list's id or owner", list_id, owner)
    return conn.execute(RELEASE, (time.time(), list_id, owner, seq)).rowcount


def read_todos(conn: sqlite3.Connection, list_id: str, status: str | None) -> list[Todo]:
    storable("a todo list's id", list_id)
    if status is None:
        rows = conn.execute(TODOS, (list_id,))
    else:
        rows = conn.execute(TODOS_BY_STATUS, (list_id, status))
    return [_todo(row) for row in rows]


def board_put(
    conn: sqlite3.Connection,
    board: str,
    key: str,
    value: str | None,
    expected_version: int,
    by: str | None,
) -> tuple[bool, BoardEntry | None]:
    """Compare-and-set the (encoded) value of ``key`` on its version (0: absent)."""
    storable("a board's id, key or writer", board, key, by)
    now = time.time()
    if expected_version == 0:
        row = conn.execute(CREATE_ENTRY, (board, key, value, now, by)).fetchone()
    else:
        args = (value, now, by, board, key, expected_version)
        row = conn.execute(UPDATE_ENTRY, args).fetchone()
    if row is not None:
        return True, _entry(row)
    return False, read_board_entry(conn, board, key)


def read_board_entry(conn: sqlite3.Connection, board: str, key: str) -> BoardEntry | None:
    storable("a board's id or key", board, key)
    row = conn.execute(SELECT_ENTRY, (board, key)).fetchone()
    return None if row is None else _entry(row)


def read_board(conn: sqlite3.Connection, board: str, prefix: str) -> list[BoardEntry]:
    storable("a board's id or key prefix", board, prefix)
    end = prefix_end(prefix)
    if end is None:
        rows = conn.execute(ENTRIES, (board, prefix))
    else:
        rows = conn.execute(ENTRIES_BELOW, (board, prefix, end))
    return [_entry(row) for row in rows]

"""The TeamStore protocol: the shared state of teams, beside the job log (``store/base.py``).

Todo lists with two-phase claims (claim with a TTL and a fencing token, then complete with
that token) and versioned blackboards (compare-and-set writes). ``JobStore`` includes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["TODO_STATUSES", "BoardEntry", "TeamStore", "Todo"]

TODO_STATUSES = ("open", "claimed", "done")
"""What a todo's status may be, in the order a todo goes through them."""


@dataclass(frozen=True)
class Todo:
    """One todo of a team's todo list, as stored."""

    list_id: str
    """The list it belongs to (a team run's: ``<job id>:<team step key>``)."""
    seq: int
    """Its number in the list, from 0, in the order todos were added; stable forever."""
    task: Any
    """What is to be done (decoded JSON)."""
    status: str
    """One of ``TODO_STATUSES``: ``open`` | ``claimed`` | ``done``."""
    owner: str | None
    """Who holds the claim (``claimed``) or completed it (``done``); None while open."""
    token: str | None
    """The claim's fencing token: a fresh value per claim, so that a worker whose claim
    expired and was taken cannot complete the todo. None while open; a ``done`` todo keeps
    the token of the claim that completed it."""
    claim_expires: float | None
    """When a ``claimed`` todo may be taken by another worker; None otherwise."""
    claims: int
    """How many times it was claimed (more than 1: it was stolen after its claim expired)."""
    result: Any
    """What completed it (decoded JSON); None until ``done``."""
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class BoardEntry:
    """One key of a blackboard, as stored."""

    board: str
    """The blackboard it belongs to (its scope's id, e.g. ``team:<job id>:<step key>``)."""
    key: str
    value: Any
    """Decoded JSON."""
    version: int
    """1 when first written, +1 on every write: what ``expected_version`` is checked against."""
    updated_at: float
    updated_by: str | None
    """Who wrote it last (the principal and role, as the tool gives it), for people reading."""


class TeamStore(Protocol):
    """Shared state of teams: todo lists with claims, and versioned blackboards. Like
    ``CallStore``, every write is committed when it returns and is atomic across
    processes sharing the store. A task, result or value that is not standard JSON, or a
    name or key that is not valid Unicode (a lone surrogate), raises ValueNotStorable and
    nothing is written. A lone surrogate inside a task, result or value is kept: it reads
    back exactly, as in every JSON value the store keeps."""

    async def todo_add(
        self, list_id: str, tasks: list[Any], *, first_seq: int | None = None
    ) -> list[Todo]:
        """Add tasks to a list, numbered after the list's last todo; return them as stored.

        With ``first_seq``, the tasks are numbered ``first_seq, first_seq + 1, …`` and a
        number the list already has is left as it is (its stored todo is returned): adding
        the planner's tasks again after a resume adds nothing twice. ValueError for a
        negative ``first_seq``.
        """
        ...

    async def todo_claim(
        self, list_id: str, owner: str, ttl_s: float, *, seq: int | None = None
    ) -> Todo | None:
        """Claim the first todo (lowest seq) that is open or whose claim expired (``now >
        claim_expires``: stolen), or todo ``seq`` only, in one transaction: it becomes
        ``claimed`` by ``owner`` with a fresh token until now + ``ttl_s``. None when there is
        none to claim. However many workers race, each todo has one live claim.
        ValueError unless ``ttl_s`` is a positive, finite number of seconds."""
        ...

    async def todo_renew(self, list_id: str, seq: int, token: str, ttl_s: float) -> bool:
        """Extend a live claim to now + ``ttl_s``; False when ``token`` no longer holds it
        (it expired and was taken, or was released, or the todo is done). An expired claim
        nobody took is still held."""
        ...

    async def todo_complete(self, list_id: str, seq: int, token: str, result: Any) -> bool:
        """Phase two of a claim: mark the todo ``done`` with ``result`` if ``token`` still
        holds its claim, even past its expiry as long as nobody took it. False (nothing
        written) when the claim was taken or released, or the todo is already done: each
        todo is completed exactly once."""
        ...

    async def todo_release(
        self, list_id: str, *, owner: str | None = None, seq: int | None = None
    ) -> int:
        """Make claimed todos open again (all of the list's, or ``owner``'s, or todo
        ``seq``); return how many. A resume frees the claims its dead process held."""
        ...

    async def todos(self, list_id: str, *, status: str | None = None) -> list[Todo]:
        """The todos of a list in seq order (only those with ``status``, if given;
        ValueError for a status that is not ``open``, ``claimed`` or ``done``)."""
        ...

    async def board_get(self, board: str, key: str) -> BoardEntry | None:
        """The entry of ``key``, or None."""
        ...

    async def board_put(
        self,
        board: str,
        key: str,
        value: Any,
        expected_version: int,
        *,
        by: str | None = None,
    ) -> tuple[bool, BoardEntry | None]:
        """Write ``key`` if its stored version is ``expected_version`` (0: the key must not
        exist yet), in one transaction: (True, the new entry, version + 1). Otherwise
        nothing is written: (False, the current entry, or None when the key does not
        exist). A stale write is never a lost update. ValueError for a negative
        ``expected_version``."""
        ...

    async def board_list(self, board: str, *, prefix: str = "") -> list[BoardEntry]:
        """The entries of a board whose key starts with ``prefix``, by key (in code point
        order)."""
        ...

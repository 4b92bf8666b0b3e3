"""The principal grammar: who a job or a call runs for, defined once.

    principal = "anonymous" | kind ":" name          (at most 128 characters)
    kind      = [a-z][a-z0-9-]*                       user, team, agent, service, ...
    name      = part ("/" part)*                      alice, research/bob
    part      = [a-z0-9_][a-z0-9._@+-]*               no spaces, no control characters

Principals are case-insensitive: ``parse_principal`` lowers them, so ``user:Alice`` is
``user:alice`` wherever it is used (job records, ACLs, quotas, idempotency keys). A ``/``
nests: ``team:research/bob`` is under ``team:research``, and a deny rule that matches a
principal also matches every principal under it (``ancestors``), so ``user:mallory/x``
cannot slip past a deny of ``user:mallory``.

An ACL rule's principal is a glob over the same alphabet with ``*`` and ``?``
(``PRINCIPAL_GLOB_PATTERN``), compared case-insensitively.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "ANONYMOUS",
    "MAX_LENGTH",
    "PRINCIPAL_GLOB_PATTERN",
    "PRINCIPAL_PATTERN",
    "InvalidPrincipal",
    "Principal",
    "check_principal_glob",
    "login_principal",
    "parse_principal",
]

ANONYMOUS = "anonymous"
"""The principal of a caller nobody authenticated."""
MAX_LENGTH = 128

_PART = r"[a-z0-9_][a-z0-9._@+-]*"
_PRINCIPAL_RE = re.compile(rf"(?P<kind>[a-z][a-z0-9-]*):(?P<name>{_PART}(?:/{_PART})*)")
_PART_ANY_CASE = r"[A-Za-z0-9_][A-Za-z0-9._@+-]*"
PRINCIPAL_PATTERN = (
    rf"^(?=.{{1,{MAX_LENGTH}}}$)(?:[Aa][Nn][Oo][Nn][Yy][Mm][Oo][Uu][Ss]|"
    rf"[A-Za-z][A-Za-z0-9-]*:{_PART_ANY_CASE}(?:/{_PART_ANY_CASE})*)$"
)
"""The principal grammar as a JSON Schema pattern (for API documents): the text
``parse_principal`` takes, written in ASCII."""
PRINCIPAL_GLOB_PATTERN = r"^[A-Za-z0-9_:.@+/*?-]{1,128}$"
"""What an ACL rule's principal may hold: a principal's characters, any case, and * ?."""
_GLOB_RE = re.compile(PRINCIPAL_GLOB_PATTERN)
_USAGE = (
    "write kind:name (user:alice, team:research/bob, service:ci) or anonymous; a name "
    "takes letters, digits and . _ @ + - with / between parts"
)


class InvalidPrincipal(ValueError):
    """Raised for text that is not a principal (or not a principal glob)."""


class Principal(NamedTuple):
    """A parsed principal: ``kind`` and ``name`` (both lower case); anonymous has no kind."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.kind else self.name

    def ancestors(self) -> list[str]:
        """This principal and each one it is under, nearest first: ``team:a/b`` gives
        ``team:a/b``, ``team:a``."""
        parts = self.name.split("/")
        return [f"{self.kind}:{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1)]


def parse_principal(text: str) -> Principal:
    """The principal ``text`` names, lowered; InvalidPrincipal when it breaks the grammar."""
    if len(text) > MAX_LENGTH:
        raise InvalidPrincipal(f"'{_shown(text)}' is not a principal: longer than {MAX_LENGTH}")
    lowered = text.lower()
    if lowered == ANONYMOUS:
        return Principal("", ANONYMOUS)
    m = _PRINCIPAL_RE.fullmatch(lowered) if lowered.isascii() else None
    if m is None:
        raise InvalidPrincipal(f"'{_shown(text)}' is not a principal: {_USAGE}")
    return Principal(m["kind"], m["name"])


def check_principal_glob(text: str) -> str:
    """``text`` if it may be an ACL rule's principal glob, else InvalidPrincipal."""
    if not _GLOB_RE.fullmatch(text):
        raise InvalidPrincipal(
            f"'{_shown(text)}' is not a principal glob: letters, digits, : . _ @ + - / and "
            f"the wildcards * ?, at most {MAX_LENGTH} characters"
        )
    return text


def login_principal(login: str) -> str | None:
    """``user:<login>`` for a login name, made to fit the grammar (lowered, other characters
    replaced by '-'); None when nothing usable is left."""
    name = re.sub(r"[^a-z0-9._@+-]", "-", login.lower()).lstrip(".-@+")[: MAX_LENGTH - 5]
    if not name:
        return None
    try:
        return str(parse_principal(f"user:{name}"))
    except InvalidPrincipal:
        return None


def _shown(text: str) -> str:
    """Text as it may be printed: control characters escaped, cut at 60 characters."""
    cut = text if len(text) <= 60 else text[:59] + "…"
    return cut.encode("unicode_escape").decode("ascii").replace("\\u2026", "…")

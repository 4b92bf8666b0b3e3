"""Who a request is: bearer tokens of ``serve.tokens`` mapped to principals and scopes.

Tokens are read once at start (from ``${env:}``, ``${file:}`` or a literal) and kept only
as SHA-256 digests; a request's token is hashed and compared with every digest in constant
time. A request's principal is always its token's: a ``principal`` a client sends is
refused unless the token holds ``agentgo:impersonate``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentgo_cli.errors import EXIT_DENIED, AgentGoError, ConfigError

if TYPE_CHECKING:
    from agentgo_cli.manifests.models.config import ServeToken

__all__ = [
    "ADMIN",
    "ANONYMOUS",
    "IMPERSONATE",
    "MIN_LENGTH",
    "Caller",
    "Denied",
    "TokenTable",
    "Unauthenticated",
    "digest",
]

ADMIN = "agentgo:admin"
IMPERSONATE = "agentgo:impersonate"
ANONYMOUS = "anonymous"
MIN_LENGTH = 16
"""The fewest characters a token may have."""


class Unauthenticated(AgentGoError):
    """No token, or one the server does not know (HTTP 401)."""

    exit_code = EXIT_DENIED


class Denied(AgentGoError):
    """A token that may not do what it asks (HTTP 403)."""

    exit_code = EXIT_DENIED


def digest(token: str) -> bytes:
    """The SHA-256 digest a token is kept and compared as."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the token's principal, its ACL scopes and its API rights."""

    principal: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    impersonate: bool = False

    @property
    def anonymous(self) -> bool:
        return self.principal == ANONYMOUS

    def acl_scopes(self) -> list[str]:
        """The scopes its jobs and calls carry (the API scopes left out)."""
        return sorted(s for s in self.scopes if not s.startswith("agentgo:"))

    def bind(self, principal: str | None, scopes: list[str]) -> tuple[str, list[str]]:
        """The principal and scopes a job or call it asks for runs with: its own, unless it
        may impersonate; asked-for scopes must be among its own unless it may. Principals
        are compared as the grammar reads them, lowered: ``--as User:Alice`` is alice."""
        if principal is not None and _lowered(principal) == _lowered(self.principal):
            principal = self.principal
        if principal is not None and principal != self.principal and not self.impersonate:
            raise Denied(
                f"this token runs as {self.principal}; acting as {principal} (--as) needs "
                f"the scope '{IMPERSONATE}'"
            )
        own = self.acl_scopes()
        if scopes and not self.impersonate:
            extra = sorted(set(scopes) - set(own))
            if extra:
                raise Denied(f"this token does not hold the scope(s) {', '.join(extra)}")
        return (principal or self.principal), (scopes or own)

    def may_see(self, job_principal: str | None) -> bool:
        """Whether it may read and steer a job run for ``job_principal``: its own, or any
        with ``agentgo:admin``, or with ``agentgo:impersonate`` (which may start a job as
        anyone, so must follow it)."""
        return self.admin or self.impersonate or job_principal == self.principal


def _lowered(principal: str) -> str:
    """A principal as the grammar reads it (lowered); a text outside the grammar as it is
    (the backend refuses it with the message a local run gives)."""
    from agentgo_cli.principal import InvalidPrincipal, parse_principal

    try:
        return str(parse_principal(principal))
    except InvalidPrincipal:
        return principal


class TokenTable:
    """The tokens a server accepts, as digests."""

    def __init__(self, entries: list[tuple[bytes, Caller]]) -> None:
        self._entries = entries

    @classmethod
    def from_config(cls, tokens: list[ServeToken], base: Path | None) -> TokenTable:
        """Read each token (its secret reference resolved now) and keep its digest only.
        Raises ConfigError for a reference that cannot be read or an empty token."""
        from agentgo_cli.config import resolve_secret

        entries: list[tuple[bytes, Caller]] = []
        for n, entry in enumerate(tokens):
            where = f"serve.tokens[{n}] ({entry.principal})"
            if entry.sha256 is not None:
                hashed = bytes.fromhex(entry.sha256)
            else:
                try:
                    value = resolve_secret(str(entry.token), base)
                except ConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                if len(value) < MIN_LENGTH:
                    raise ConfigError(
                        f"{where}: a token must be at least {MIN_LENGTH} characters "
                        "('agentgo serve --new-token' makes one)"
                    )
                hashed = digest(value)
            for m, (known, _) in enumerate(entries):
                if hmac.compare_digest(known, hashed):
                    raise ConfigError(
                        f"{where}: the same token as serve.tokens[{m}]; give each principal "
                        "a token of its own"
                    )
            scopes = frozenset(entry.scopes)
            caller = Caller(
                entry.principal,
                scopes,
                admin=ADMIN in scopes,
                impersonate=IMPERSONATE in scopes,
            )
            entries.append((hashed, caller))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str) -> Caller | None:
        """The caller a token stands for, or None; every digest is compared, in constant
        time, so the answer's timing does not tell which one matched."""
        hashed = digest(token)
        found = None
        for known, caller in self._entries:
            if hmac.compare_digest(known, hashed):
                found = caller
        return found

    def caller(self, authorization: str | None, *, anonymous_ok: bool = False) -> Caller:
        """The caller of a request from its Authorization header. Raises Unauthenticated
        for a missing or unknown token (unless ``anonymous_ok``: then no header is the
        ``anonymous`` caller; a wrong token is still refused)."""
        if not authorization:
            if anonymous_ok:
                return Caller(ANONYMOUS)
            raise Unauthenticated("this server needs a bearer token (Authorization: Bearer …)")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        caller = self.lookup(token)
        if caller is None:
            raise Unauthenticated("this token is not known to the server")
        return caller

"""Access control for typed calls: who may call an intent, from its classification and acl.

The rules, in the order they are applied (this is the contract; the tests hold a second,
independent model of it):

1. Matching. A rule's ``principal`` is a glob matched with ``fnmatch.fnmatchcase``:
   case-sensitive, and ``*`` also crosses ``/`` (``team:research/*`` matches
   ``team:research/bob``, ``user:*`` matches ``user:a/b``). A rule's ``scopes`` are globs
   too; the rule matches only when every one of them is matched by at least one of the
   caller's scopes (a rule without scopes asks for none).
2. Deny wins. A deny rule matches when its principal glob matches the caller's principal
   or any principal in the caller's chain (so a card can refuse calls that pass through a
   given agent), and its scopes match the caller's. Any matching deny rule refuses the call.
3. Anonymous callers (principal ``anonymous``: nobody authenticated them) may call
   ``public`` intents only, whatever the allow list says: an allow glob such as ``*``
   means "anyone who logged in", never "anyone at all".
4. With a non-empty ``acl.allow``, the caller's own principal (not its chain) must match at
   least one allow rule, scopes included.
5. Without an allow list: ``public``, ``internal`` and ``confidential`` intents admit
   every caller that got here; ``restricted`` ones admit nobody (manifest validation
   already requires an allow list for them; this is the safe answer if one is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.manifests.models.capability import AclRule, Intent

__all__ = ["ANONYMOUS", "Caller", "check_access"]

ANONYMOUS = "anonymous"
"""The principal of a caller nobody authenticated."""


@dataclass(frozen=True)
class Caller:
    """Who makes a call: a principal, the scopes it holds, and the way the call came."""

    principal: str
    """'user:alice', 'team:research/bob', 'agent:writer', 'service:ci' or 'anonymous'."""
    scopes: frozenset[str] = frozenset()
    chain: tuple[str, ...] = ()
    """The principals and agents the call passed through before this one, root first."""

    @property
    def authenticated(self) -> bool:
        return self.principal != ANONYMOUS


def check_access(intent: Intent, caller: Caller) -> str | None:
    """None when ``caller`` may call ``intent``, else the one-line reason it may not."""
    allow = intent.acl.allow if intent.acl else []
    deny = intent.acl.deny if intent.acl else []
    for index, rule in enumerate(deny):
        reason = _denied_by(index, rule, caller)
        if reason is not None:
            return reason
    classification = intent.classification
    if not caller.authenticated and classification != "public":
        return f"'{classification}' intent: anonymous callers are not allowed"
    if allow:
        if any(_matches(rule, caller.principal, caller.scopes) for rule in allow):
            return None
        return f"no acl.allow rule matches {caller.principal} with {_scopes_text(caller.scopes)}"
    if classification == "restricted":
        return "'restricted' intent: only principals in acl.allow may call it, and it has none"
    return None


def _denied_by(index: int, rule: AclRule, caller: Caller) -> str | None:
    if _matches(rule, caller.principal, caller.scopes):
        return f"denied by acl.deny[{index}] (principal '{rule.principal}')"
    via = next((p for p in caller.chain if _matches(rule, p, caller.scopes)), None)
    if via is not None:
        return (
            f"denied by acl.deny[{index}] "
            f"(principal '{rule.principal}' matches {via} in the call chain)"
        )
    return None


def _matches(rule: AclRule, principal: str, scopes: frozenset[str]) -> bool:
    """The rule's principal glob matches ``principal`` and each of its scope globs is
    matched by one of ``scopes``."""
    return fnmatchcase(principal, rule.principal) and all(
        any(fnmatchcase(scope, wanted) for scope in scopes) for wanted in rule.scopes
    )


def _scopes_text(scopes: frozenset[str]) -> str:
    return f"scopes [{', '.join(sorted(scopes))}]" if scopes else "no scopes"

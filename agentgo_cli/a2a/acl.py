"""Access control for typed calls: who may call an intent, from its classification and acl.

The rules, in the order they are applied (this is the contract; the tests hold a second,
independent model of it):

0. Principals follow the grammar of ``agentgo_cli.principal``: a caller (or a principal
   in its chain) that does not parse is refused, whatever the rules say.
1. Matching. A rule's ``principal`` is a glob matched with ``fnmatch.fnmatchcase`` against
   the lowered principal, the glob lowered too (principals are case-insensitive); ``*``
   also crosses ``/`` (``team:research/*`` matches ``team:research/bob``, ``user:*``
   matches ``user:a/b``). A rule's ``scopes`` are globs too (case-sensitive); the rule
   matches only when every one of them is matched by at least one of the caller's scopes
   (a rule without scopes asks for none).
2. Deny wins. A deny rule matches when its principal glob matches the caller's principal
   or any principal in the caller's chain (so a card can refuse calls that pass through a
   given agent), or any principal they are under (a deny of ``user:mallory`` also refuses
   ``user:mallory/x``), and its scopes match the caller's. Any matching deny rule refuses
   the call.
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

from agentgo_cli.principal import ANONYMOUS, InvalidPrincipal, Principal, parse_principal

if TYPE_CHECKING:
    from agentgo_cli.manifests.models.capability import AclRule, Intent

__all__ = ["ANONYMOUS", "Caller", "check_access"]


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
        return self.principal.lower() != ANONYMOUS


def check_access(intent: Intent, caller: Caller) -> str | None:
    """None when ``caller`` may call ``intent``, else the one-line reason it may not."""
    try:
        who = parse_principal(caller.principal)
        chain = [parse_principal(p) for p in caller.chain]
    except InvalidPrincipal as exc:
        return str(exc)
    allow = intent.acl.allow if intent.acl else []
    deny = intent.acl.deny if intent.acl else []
    for index, rule in enumerate(deny):
        reason = _denied_by(index, rule, who, chain, caller.scopes)
        if reason is not None:
            return reason
    classification = intent.classification
    if str(who) == ANONYMOUS and classification != "public":
        return f"'{classification}' intent: anonymous callers are not allowed"
    if allow:
        if any(_matches(rule, str(who), caller.scopes) for rule in allow):
            return None
        return f"no acl.allow rule matches {who} with {_scopes_text(caller.scopes)}"
    if classification == "restricted":
        return "'restricted' intent: only principals in acl.allow may call it, and it has none"
    return None


def _denied_by(
    index: int, rule: AclRule, who: Principal, chain: list[Principal], scopes: frozenset[str]
) -> str | None:
    if _under(rule, who, scopes):
        return f"denied by acl.deny[{index}] (principal '{rule.principal}')"
    via = next((p for p in chain if _under(rule, p, scopes)), None)
    if via is not None:
        return (
            f"denied by acl.deny[{index}] "
            f"(principal '{rule.principal}' matches {via} in the call chain)"
        )
    return None


def _under(rule: AclRule, principal: Principal, scopes: frozenset[str]) -> bool:
    """The rule matches ``principal`` or a principal it is under (for deny rules)."""
    if str(principal) == ANONYMOUS:
        return _matches(rule, ANONYMOUS, scopes)
    return any(_matches(rule, p, scopes) for p in principal.ancestors())


def _matches(rule: AclRule, principal: str, scopes: frozenset[str]) -> bool:
    """The rule's principal glob matches ``principal`` (lowered) and each of its scope
    globs is matched by one of ``scopes``."""
    return fnmatchcase(principal, rule.principal.lower()) and all(
        any(fnmatchcase(scope, wanted) for scope in scopes) for wanted in rule.scopes
    )


def _scopes_text(scopes: frozenset[str]) -> str:
    return f"scopes [{', '.join(sorted(scopes))}]" if scopes else "no scopes"

"""Access control: each rule of the contract in agentgo_cli/a2a/acl.py, and a property test
against an independent model of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.a2a.acl import Caller, check_access
from agentgo_cli.manifests.models.capability import Acl, AclRule, Intent


def intent(classification: str = "internal", **acl: Any) -> Intent:
    fields = {"name": "research.summarize", "version": "1.0.0", "classification": classification}
    if acl:
        fields["acl"] = acl
    return Intent.model_validate(fields)


def unvalidated(classification: str, allow: list[AclRule], deny: list[AclRule]) -> Intent:
    """An intent that skipped manifest validation (a restricted one may lack an allow list)."""
    return intent().model_copy(
        update={"classification": classification, "acl": Acl(allow=allow, deny=deny)}
    )


CARD = intent(
    allow=[{"principal": "team:research/*"}, {"principal": "user:*", "scopes": ["research.read"]}],
    deny=[{"principal": "user:mallory"}, {"principal": "agent:leaky"}],
)


def test_anonymous_is_the_only_unauthenticated_caller() -> None:
    assert not Caller("anonymous").authenticated
    assert Caller("user:anonymous").authenticated


@pytest.mark.parametrize("principal", ["anonymous", "user:alice", "service:ci"])
def test_a_public_intent_without_allow_list_admits_anyone(principal: str) -> None:
    assert check_access(intent("public"), Caller(principal)) is None


@pytest.mark.parametrize("classification", ["internal", "confidential"])
def test_other_intents_without_allow_list_admit_authenticated_callers(
    classification: str,
) -> None:
    assert check_access(intent(classification), Caller("agent:writer")) is None
    assert check_access(intent(classification), Caller("anonymous")) == (
        f"'{classification}' intent: anonymous callers are not allowed"
    )


def test_a_restricted_intent_without_allow_list_admits_nobody() -> None:
    card = unvalidated("restricted", [], [])
    assert check_access(card, Caller("user:root", frozenset({"*"}))) == (
        "'restricted' intent: only principals in acl.allow may call it, and it has none"
    )


def test_a_restricted_intent_admits_its_allow_list() -> None:
    card = intent("restricted", allow=[{"principal": "service:ci"}])
    assert check_access(card, Caller("service:ci")) is None
    assert check_access(card, Caller("service:cd")) == (
        "no acl.allow rule matches service:cd with no scopes"
    )


@pytest.mark.parametrize(
    ("principal", "scopes", "allowed"),
    [
        ("team:research/bob", [], True),
        ("team:research/lab/eve", [], True),  # '*' crosses '/'
        ("team:research", [], False),
        ("team:Research/bob", [], True),  # principals are case-insensitive
        ("user:bob", ["research.read"], True),
        ("user:bob", ["research.write", "research.read"], True),
        ("user:bob", ["research.readonly"], False),
        ("user:bob", [], False),
        ("agent:writer", ["research.read"], False),
    ],
)
def test_allow_rules_match_principal_globs_and_scopes(
    principal: str, scopes: list[str], allowed: bool
) -> None:
    assert (check_access(CARD, Caller(principal, frozenset(scopes))) is None) is allowed


def test_a_refusal_names_the_caller_and_its_scopes_sorted() -> None:
    caller = Caller("user:bob", frozenset({"z.write", "research.write"}))
    assert check_access(CARD, caller) == (
        "no acl.allow rule matches user:bob with scopes [research.write, z.write]"
    )
    assert check_access(CARD, Caller("user:bob")) == (
        "no acl.allow rule matches user:bob with no scopes"
    )


def test_rule_scopes_are_globs_and_each_must_be_held() -> None:
    card = intent(allow=[{"principal": "*", "scopes": ["research.*", "billing.read"]}])
    assert check_access(card, Caller("user:a", frozenset({"research.x", "billing.read"}))) is None
    assert check_access(card, Caller("user:a", frozenset({"research.x"}))) is not None
    assert check_access(card, Caller("user:a", frozenset({"billing.read"}))) is not None


def test_deny_wins_over_allow() -> None:
    mallory = Caller("user:mallory", frozenset({"research.read"}))
    assert check_access(CARD, mallory) == "denied by acl.deny[0] (principal 'user:mallory')"


def test_deny_sees_the_call_chain_but_allow_does_not() -> None:
    via_leaky = Caller("team:research/bob", chain=("team:research/bob", "agent:leaky"))
    assert check_access(CARD, via_leaky) == (
        "denied by acl.deny[1] (principal 'agent:leaky' matches agent:leaky in the call chain)"
    )
    through_research = Caller("agent:writer", chain=("team:research/bob",))
    assert check_access(CARD, through_research) == (
        "no acl.allow rule matches agent:writer with no scopes"
    )


def test_a_deny_rule_with_scopes_needs_the_caller_to_hold_them() -> None:
    card = intent(deny=[{"principal": "user:*", "scopes": ["admin"]}])
    assert check_access(card, Caller("user:a")) is None
    assert check_access(card, Caller("user:a", frozenset({"admin"}))) == (
        "denied by acl.deny[0] (principal 'user:*')"
    )
    chained = Caller("agent:x", frozenset({"admin"}), ("user:a",))
    assert check_access(card, chained) is not None


def test_anonymous_callers_need_a_public_intent_even_with_a_matching_allow_rule() -> None:
    anyone = [{"principal": "*"}]
    assert check_access(intent("internal", allow=anyone), Caller("anonymous")) == (
        "'internal' intent: anonymous callers are not allowed"
    )
    assert check_access(intent("public", allow=anyone), Caller("anonymous")) is None
    assert check_access(intent("public", allow=[{"principal": "user:*"}]), Caller("anonymous")) == (
        "no acl.allow rule matches anonymous with no scopes"
    )


def test_a_deny_rule_can_refuse_anonymous_callers_of_a_public_intent() -> None:
    card = intent("public", deny=[{"principal": "anonymous"}])
    assert check_access(card, Caller("anonymous")) == (
        "denied by acl.deny[0] (principal 'anonymous')"
    )


@pytest.mark.parametrize(
    "principal", ["user:Mallory", "USER:MALLORY", "user:mallory/x", "user:Mallory/a/b"]
)
def test_a_deny_cannot_be_slipped_past_by_case_or_a_sub_principal(principal: str) -> None:
    caller = Caller(principal, frozenset({"research.read"}))
    assert check_access(CARD, caller) == "denied by acl.deny[0] (principal 'user:mallory')"
    via = Caller("team:research/bob", chain=("team:research/bob", principal))
    assert check_access(CARD, via) == (
        "denied by acl.deny[0] "
        f"(principal 'user:mallory' matches {principal.lower()} in the call chain)"
    )


def test_a_rule_written_in_capitals_matches_in_any_case() -> None:
    card = intent(deny=[{"principal": "User:Mallory"}])
    assert check_access(card, Caller("user:mallory")) == (
        "denied by acl.deny[0] (principal 'User:Mallory')"
    )


def test_a_sub_principal_is_not_allowed_by_an_allow_of_its_parent() -> None:
    card = intent(allow=[{"principal": "user:alice"}])
    assert check_access(card, Caller("user:ALICE")) is None
    assert check_access(card, Caller("user:alice/x")) == (
        "no acl.allow rule matches user:alice/x with no scopes"
    )


@pytest.mark.parametrize("forged", [r"user:alice\nINFO x", "user:al ice", r"user:alice\t"])
def test_a_caller_that_is_not_a_principal_is_refused(forged: str) -> None:
    text = forged.encode().decode("unicode_escape")
    reason = check_access(intent("public"), Caller(text))
    assert reason is not None
    assert reason.startswith(f"'{forged}' is not a principal: ")
    chained = Caller("user:bob", chain=("user:bob", text))
    assert check_access(intent("public"), chained) == reason


def test_anonymous_in_capitals_is_still_anonymous() -> None:
    assert not Caller("ANONYMOUS").authenticated
    assert check_access(intent("internal"), Caller("Anonymous")) == (
        "'internal' intent: anonymous callers are not allowed"
    )


@pytest.mark.parametrize("bad", ["user:a b", r"user:mallory\n", "user:[ab]"])
def test_a_rule_principal_outside_the_grammar_is_a_manifest_error(bad: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a principal glob"):
        intent(deny=[{"principal": bad.encode().decode("unicode_escape")}])


# The reference model: the same contract, written differently (regular expressions and
# list comprehensions, no fnmatch), over small alphabets so that globs often match.


def _glob_re(glob: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)


def _like(glob: str, text: str) -> bool:
    return re.fullmatch(_glob_re(glob), text, flags=re.DOTALL) is not None


def _rule_fits(rule: AclRule, principals: list[str], scopes: list[str]) -> bool:
    held = [[s for s in scopes if _like(wanted, s)] for wanted in rule.scopes]
    return bool([p for p in principals if _like(rule.principal.lower(), p.lower())]) and all(held)


def _with_parents(principal: str) -> list[str]:
    kind, _, name = principal.rpartition(":")
    parts = name.split("/")
    return [f"{kind}:{'/'.join(parts[:n])}" if kind else name for n in range(1, len(parts) + 1)]


def _reference(card: Intent, caller: Caller) -> bool:
    acl = card.acl or Acl()
    scopes = sorted(caller.scopes)
    everyone = [p for who in [caller.principal, *caller.chain] for p in _with_parents(who)]
    if [rule for rule in acl.deny if _rule_fits(rule, everyone, scopes)]:
        return False
    if caller.principal == "anonymous":
        return card.classification == "public" and (
            not acl.allow or bool([r for r in acl.allow if _rule_fits(r, ["anonymous"], scopes)])
        )
    if acl.allow:
        return bool([r for r in acl.allow if _rule_fits(r, [caller.principal], scopes)])
    return card.classification != "restricted"


kinds = st.sampled_from(["user:", "team:", "agent:", "User:"])
named = st.builds(str.__add__, kinds, st.sampled_from(["a", "b", "ab", "a/b", "A", "a/B"]))
principals = st.one_of(named, named, named, st.just("anonymous"))
principal_globs = st.one_of(
    named,
    st.builds(str.__add__, kinds | st.just("*:"), st.text(alphabet="ab/*?", max_size=3)),
    st.sampled_from(["*", "anonymous", "anon*"]),
)
scopes = st.sampled_from(["a", "b", "a.b", "b.a"])
scope_globs = st.one_of(scopes, st.text(alphabet="ab.*?", min_size=1, max_size=3))
rules = st.builds(
    lambda principal, wanted: AclRule(principal=principal, scopes=wanted),
    principal_globs,
    st.lists(scope_globs, max_size=2),
)
cards = st.builds(
    unvalidated,
    st.sampled_from(["public", "internal", "confidential", "restricted"]),
    st.lists(rules, max_size=3),
    st.lists(rules, max_size=2),
)
callers = st.builds(
    Caller,
    principals,
    st.frozensets(scopes, max_size=3),
    st.lists(principals, max_size=3).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(cards, callers)
def test_check_access_agrees_with_the_reference_model(card: Intent, caller: Caller) -> None:
    reason = check_access(card, caller)
    assert (reason is None) is _reference(card, caller), reason
    assert reason is None or "\n" not in reason

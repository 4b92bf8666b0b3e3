"""The principal grammar (agentgo_cli/principal.py): what parses, what is refused, and a
property test that whatever parses round-trips and holds no control characters."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.principal import (
    PRINCIPAL_PATTERN,
    InvalidPrincipal,
    Principal,
    check_principal_glob,
    login_principal,
    parse_principal,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("user:alice", Principal("user", "alice")),
        ("user:Alice", Principal("user", "alice")),
        ("USER:ALICE", Principal("user", "alice")),
        ("team:research/bob", Principal("team", "research/bob")),
        ("service:ci-2.prod", Principal("service", "ci-2.prod")),
        ("user:bob@example.com", Principal("user", "bob@example.com")),
        ("anonymous", Principal("", "anonymous")),
        ("Anonymous", Principal("", "anonymous")),
    ],
)
def test_principals_parse_to_lower_case(text: str, parsed: Principal) -> None:
    assert parse_principal(text) == parsed
    assert str(parse_principal(text)) == text.lower()


USAGE = (
    "write kind:name (user:alice, team:research/bob, service:ci) or anonymous; a name takes "
    "letters, digits and . _ @ + - with / between parts"
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("user:alice\nINFO forged", "user:alice\\nINFO forged"),
        ("user:alice\tx", "user:alice\\tx"),
        ("user:al ice", "user:al ice"),
        ("user:", "user:"),
        (":alice", ":alice"),
        ("alice", "alice"),
        ("user:alice/", "user:alice/"),
        ("user:a//b", "user:a//b"),
        ("user:../x", "user:../x"),
        ("user:a:b", "user:a:b"),
        ("1user:a", "1user:a"),
        ("user:ålice", "user:\\xe5lice"),
        ("user:a\x1b[31m", "user:a\\x1b[31m"),
    ],
)
def test_what_is_not_a_principal(text: str, shown: str) -> None:
    with pytest.raises(InvalidPrincipal) as caught:
        parse_principal(text)
    assert str(caught.value) == f"'{shown}' is not a principal: {USAGE}"


def test_a_principal_has_at_most_128_characters() -> None:
    assert parse_principal("user:" + "a" * 123).name == "a" * 123
    with pytest.raises(InvalidPrincipal, match="longer than 128"):
        parse_principal("user:" + "a" * 124)


def test_ancestors_nearest_first() -> None:
    assert parse_principal("team:a/b/c").ancestors() == ["team:a/b/c", "team:a/b", "team:a"]
    assert parse_principal("user:bob").ancestors() == ["user:bob"]


def test_principal_globs() -> None:
    assert check_principal_glob("team:research/*") == "team:research/*"
    assert check_principal_glob("User:Mallory") == "User:Mallory"
    for bad in ["user:a b", "user:a\n", "", "user:[ab]", "x" * 129]:
        with pytest.raises(InvalidPrincipal):
            check_principal_glob(bad)


@pytest.mark.parametrize(
    ("login", "principal"),
    [
        ("alice", "user:alice"),
        ("Alice Smith", "user:alice-smith"),
        ("bob\nINFO x", "user:bob-info-x"),
        ("DOMAIN\\carol", "user:domain-carol"),
        ("..", None),
        ("", None),
    ],
)
def test_login_names_are_made_to_fit(login: str, principal: str | None) -> None:
    assert login_principal(login) == principal


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda kind, name: f"{kind}:{name}",
            st.from_regex(r"[a-zA-Z][a-zA-Z0-9-]{0,8}", fullmatch=True),
            st.text(alphabet="abZ09._@+-/\n\t :", max_size=12),
        ),
    )
)
def test_whatever_parses_round_trips_without_control_characters(text: str) -> None:
    try:
        parsed = parse_principal(text)
    except InvalidPrincipal as exc:
        assert "\n" not in str(exc) and "\t" not in str(exc)
        return
    shown = str(parsed)
    assert parse_principal(shown) == parsed
    assert shown == text.lower()
    assert not any(unicodedata.category(c).startswith(("C", "Z")) for c in shown)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_login_principal_is_always_a_principal_or_none(login: str) -> None:
    made = login_principal(login)
    assert made is None or str(parse_principal(made)) == made


def _parses(text: str) -> bool:
    try:
        parse_principal(text)
    except InvalidPrincipal:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(PRINCIPAL_PATTERN),
        st.builds(
            lambda kind, name: f"{kind}:{name}",
            st.from_regex(r"[a-zA-Z][a-zA-Z0-9-]{0,8}", fullmatch=True),
            st.text(alphabet="abZ09._@+-/\n\t :K\u212a", max_size=130),
        ),
        st.sampled_from(["anonymous", "AnonyMous", "user:" + "a" * 123, "user:" + "a" * 124]),
    )
)
def test_the_principal_pattern_is_the_grammar(text: str) -> None:
    # What the pattern (of the API documents) takes parses; ASCII text that parses matches
    # it (parse_principal lowers first, so a non-ASCII letter that lowers to ASCII, such as
    # the Kelvin sign, parses but is left out of the pattern).
    matches = re.fullmatch(PRINCIPAL_PATTERN, text) is not None
    if matches:
        assert _parses(text)
    if text.isascii():
        assert matches == _parses(text)

"""Semantic versions and the ranges callers ask for (research.summarize@^1)."""

from __future__ import annotations

import pytest

from agentgo_cli.semver import InvalidRange, best_match, matches, parse_range, parse_version


def test_parse_version_parts() -> None:
    assert parse_version("1.2.3")[:3] == (1, 2, 3)
    assert parse_version("0.0.0")[:3] == (0, 0, 0)
    assert parse_version("10.20.30-rc.1+build.5")[:3] == (10, 20, 30)


def test_build_metadata_does_not_count() -> None:
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b") == parse_version("1.0.0")


@pytest.mark.parametrize(
    "text", ["1.2", "1", "v1.2.3", "01.2.3", "1.02.3", "1.2.3-", "1.2.3.4", ""]
)
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_version(text)
    assert str(info.value) == f"invalid version '{text}'"


def test_precedence_follows_semver() -> None:
    """The example from semver.org, section 11."""
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1-0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    assert sorted(reversed(ordered), key=parse_version) == ordered


def test_numeric_and_text_identifiers_compare() -> None:
    """A number and a text in the same place used to raise TypeError."""
    assert parse_version("1.0.0-1") < parse_version("1.0.0-alpha")
    assert parse_version("1.0.0-alpha") < parse_version("1.0.0")
    assert parse_version("1.0.0-rc.1") < parse_version("1.0.0-rc.a")


@pytest.mark.parametrize(
    ("range_text", "inside", "outside"),
    [
        pytest.param("^1", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0", "2.0.0-0"], id="caret-major"),
        pytest.param("^1.2", ["1.2.0", "1.99.0"], ["1.1.9", "2.0.0"], id="caret-minor"),
        pytest.param("^1.2.3", ["1.2.3", "1.3.0"], ["1.2.2", "2.0.0"], id="caret-patch"),
        pytest.param("^0", ["0.0.0", "0.9.9"], ["1.0.0"], id="caret-zero"),
        pytest.param("^0.2", ["0.2.0", "0.2.9"], ["0.1.9", "0.3.0"], id="caret-zero-minor"),
        pytest.param("^0.2.3", ["0.2.3", "0.2.9"], ["0.2.2", "0.3.0"], id="caret-zero-minor-patch"),
        pytest.param("^0.0.3", ["0.0.3"], ["0.0.2", "0.0.4"], id="caret-zero-zero-patch"),
        pytest.param("^0.0", ["0.0.0", "0.0.9"], ["0.1.0"], id="caret-zero-zero"),
        pytest.param("~1", ["1.0.0", "1.9.0"], ["0.9.0", "2.0.0"], id="tilde-major"),
        pytest.param("~1.2", ["1.2.0", "1.2.9"], ["1.1.0", "1.3.0"], id="tilde-minor"),
        pytest.param("~1.2.3", ["1.2.3", "1.2.9"], ["1.2.2", "1.3.0"], id="tilde-patch"),
        pytest.param("1", ["1.0.0", "1.5.0"], ["2.0.0", "0.1.0"], id="bare-major"),
        pytest.param("1.2", ["1.2.0", "1.2.7"], ["1.3.0"], id="bare-minor"),
        pytest.param("1.x", ["1.0.0", "1.5.0"], ["2.0.0"], id="x-minor"),
        pytest.param("1.2.*", ["1.2.0", "1.2.7"], ["1.3.0"], id="star-patch"),
        pytest.param("=1.2.3", ["1.2.3", "1.2.3+build"], ["1.2.4"], id="equal"),
        pytest.param("1.2.3", ["1.2.3"], ["1.2.4", "1.2.3-rc.1"], id="exact"),
        pytest.param(">=1.2.0", ["1.2.0", "3.0.0"], ["1.1.9"], id="ge"),
        pytest.param(">1.2.0", ["1.2.1"], ["1.2.0"], id="gt"),
        pytest.param("<=1.2.0", ["1.2.0", "0.1.0"], ["1.2.1"], id="le"),
        pytest.param("<1.2.0", ["1.1.9"], ["1.2.0", "1.2.0-rc.1"], id="lt"),
        pytest.param(" ^1 ", ["1.0.0"], ["2.0.0"], id="spaces"),
    ],
)
def test_ranges(range_text: str, inside: list[str], outside: list[str]) -> None:
    assert [v for v in inside if not matches(v, range_text)] == []
    assert [v for v in outside if matches(v, range_text)] == []


@pytest.mark.parametrize("range_text", ["", "*", "x"])
def test_any_release(range_text: str) -> None:
    assert matches("0.0.1", range_text)
    assert matches("99.0.0", range_text)
    assert not matches("1.0.0-rc.1", range_text)


@pytest.mark.parametrize(
    ("version", "range_text", "expected"),
    [
        pytest.param("1.5.0-beta", "^1", False, id="caret-skips-prereleases"),
        pytest.param("1.5.0-beta", ">=1.0.0", False, id="compare-skips-prereleases"),
        pytest.param("1.0.0-rc.2", "~1.0.0-rc.1", True, id="same-patch-prerelease"),
        pytest.param("1.0.0-rc.1", "^1.0.0-rc.1", True, id="the-prerelease-itself"),
        pytest.param("1.0.0", "^1.0.0-rc.1", True, id="its-release"),
        pytest.param("1.2.0-rc.1", "^1.0.0-rc.1", False, id="another-patch-prerelease"),
        pytest.param("1.0.0-beta", "^1.0.0-rc.1", False, id="an-earlier-prerelease"),
        pytest.param("2.0.0-rc.1", ">=2.0.0-rc.0", True, id="compare-same-patch"),
        pytest.param("2.0.0-rc.1", "^1", False, id="next-major-prerelease"),
    ],
)
def test_prereleases_match_only_when_asked_for(
    version: str, range_text: str, expected: bool
) -> None:
    assert matches(version, range_text) is expected


@pytest.mark.parametrize("range_text", ["^", "latest", "^v1", ">=1.0.0 <2.0.0", "1.2.3.4", "~>1"])
def test_invalid_ranges(range_text: str) -> None:
    with pytest.raises(InvalidRange) as info:
        parse_range(range_text)
    assert str(info.value) == f"invalid version range '{range_text}'"


def test_invalid_range_is_a_value_error() -> None:
    assert issubclass(InvalidRange, ValueError)


def test_best_match_takes_the_highest_match() -> None:
    versions = ["1.0.0", "1.4.0", "1.10.0", "2.0.0", "1.11.0-beta"]
    assert best_match(versions, "^1") == "1.10.0"
    assert best_match(versions, "~1.4") == "1.4.0"
    assert best_match(versions, "*") == "2.0.0"
    assert best_match(versions, "^3") is None
    assert best_match([], "^1") is None
    assert best_match(versions, ">=1.11.0-alpha") == "2.0.0"
    assert best_match(["1.0.0-1", "1.0.0-alpha"], ">=1.0.0-0") == "1.0.0-alpha"


def test_best_match_keeps_the_text_as_written() -> None:
    assert best_match(["1.0.0+build.7"], "1.0.0") == "1.0.0+build.7"

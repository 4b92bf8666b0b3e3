"""Semantic versions and the ranges callers ask for: ^1, ~1.2, >=1.0.0, 1.2.0, 1.x, *."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

__all__ = ["InvalidRange", "Version", "best_match", "matches", "parse_range", "parse_version"]

Version = tuple[int, int, int, tuple[tuple[int, int | str], ...]]
"""(major, minor, patch, prerelease key); a release sorts after its prereleases."""

_VERSION_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_RANGE_RE = re.compile(
    r"^(\^|~|>=|<=|>|<|=)?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:-([0-9A-Za-z.-]+))?$"
)
_RELEASE: tuple[tuple[int, int | str], ...] = ((2, 0),)
"""Sorts after every prerelease: identifiers are (0, number) or (1, text), so a number is
never compared with a text, and numbers sort before texts as semver says."""


class InvalidRange(ValueError):
    """A version range that cannot be parsed."""


def _pre_key(pre: str | None) -> tuple[tuple[int, int | str], ...]:
    if not pre:
        return _RELEASE
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))


def parse_version(text: str) -> Version:
    """Parse 'MAJOR.MINOR.PATCH[-pre][+build]'; raise ValueError if it is not one."""
    m = _VERSION_RE.match(text)
    if not m:
        raise ValueError(f"invalid version '{text}'")
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), _pre_key(m.group(4))


def parse_range(text: str) -> Callable[[Version], bool]:
    """Parse a range into a predicate on versions; raise InvalidRange.

    As with npm, a prerelease satisfies a range only if the range names a prerelease of the
    same MAJOR.MINOR.PATCH: '^1' does not pick 1.5.0-beta, '>=1.5.0-beta.1' may.
    """
    text = text.strip()
    if text in ("", "*", "x"):
        return lambda v: v[3] == _RELEASE
    m = _RANGE_RE.match(text)
    if not m:
        raise InvalidRange(f"invalid version range '{text}'")
    op, major_s, minor_s, patch_s, pre = m.groups()
    wild = {None, "x", "*"}
    major = int(major_s)
    minor = None if minor_s in wild else int(minor_s)
    patch = None if patch_s in wild else int(patch_s)
    base: Version = (major, minor or 0, patch or 0, _pre_key(pre))

    def allowed(v: Version) -> bool:
        return v[3] == _RELEASE or (pre is not None and v[:3] == base[:3])

    if op == "^":
        if major > 0 or minor is None:
            upper: Version = (major + 1, 0, 0, ((0, 0),))
        elif minor > 0 or patch is None:
            upper = (0, minor + 1, 0, ((0, 0),))
        else:
            upper = (0, 0, (patch or 0) + 1, ((0, 0),))
        return lambda v: allowed(v) and base <= v < upper
    if op == "~" or (op in (None, "=") and (minor is None or patch is None)):
        upper = (major + 1, 0, 0, ((0, 0),)) if minor is None else (major, minor + 1, 0, ((0, 0),))
        return lambda v: allowed(v) and base <= v < upper
    if op in (None, "="):
        return lambda v: v == base
    compare: dict[str, Callable[[Version], bool]] = {
        ">=": lambda v: v >= base,
        "<=": lambda v: v <= base,
        ">": lambda v: v > base,
        "<": lambda v: v < base,
    }
    test = compare[op]
    return lambda v: allowed(v) and test(v)


def matches(version: str, range_text: str) -> bool:
    """Tell whether a version satisfies a range."""
    return parse_range(range_text)(parse_version(version))


def best_match(versions: Iterable[str], range_text: str) -> str | None:
    """The highest version that satisfies the range, or None."""
    pred = parse_range(range_text)
    ok = [(parse_version(v), v) for v in versions if pred(parse_version(v))]
    return max(ok)[1] if ok else None

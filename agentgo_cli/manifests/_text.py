"""Small text helpers shared by manifest checks: suggestions and YAML-ish type names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "quote_list", "type_name"]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest choice, or an empty string."""
    options = sorted(set(choices))
    folded = [c for c in options if c.casefold() == str(word).casefold()]
    match = folded or difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def quote_list(items: Iterable[str]) -> str:
    """Render ['a', 'b', 'c'] as "'a', 'b' or 'c'"."""
    quoted = [f"'{i}'" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def type_name(value: Any) -> str:
    """Name a parsed YAML value's type the way a YAML author thinks of it."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)

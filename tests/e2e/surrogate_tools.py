"""Python tools for tests/e2e/test_surrogates.py: text with a lone surrogate, as a model's
JSON reply ``"\\ud800"`` decodes to."""

from __future__ import annotations


def lone(text: str) -> str:
    """``text`` with a lone surrogate in it."""
    return f"{text}\ud800!"


def fail(text: str) -> str:
    """Fail with a message holding a lone surrogate."""
    raise ValueError(f"bad {text}\udfff")

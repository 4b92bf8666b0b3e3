"""Helpers for tests: validate text as a manifest set, get the error lines, and match an
error whose reason a library words."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from agentgo_cli.manifests.manifest_set import ManifestSet, load_set


def validate_files(files: dict[str, str], root: Path) -> ManifestSet:
    """Write files (dedented) under root and validate them as one set."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_set([root])


def error_lines(mset: ManifestSet) -> list[str]:
    """The errors as the user reads them, in order."""
    return [str(e) for e in mset.sorted_errors()]


@dataclass(frozen=True, eq=False)
class Reason:
    """An error whose reason a library (jsonschema) words and we pass on after our own
    ``prefix``: equal to a one-line message that is ``prefix`` followed by a reason naming
    ``value``. Tests assert our words exactly and the library's behaviour, not its words."""

    prefix: str
    value: str

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str) or not other.startswith(self.prefix):
            return False
        reason = other.removeprefix(self.prefix)
        return "\n" not in reason and self.value in reason

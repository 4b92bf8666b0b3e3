"""Helpers for tests: validate text as a manifest set and get the error lines."""

from __future__ import annotations

import textwrap
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

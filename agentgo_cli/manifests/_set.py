"""What a manifest set holds: valid manifests with their documents, errors, what was read.

Apart from ``manifest_set`` (which builds it and re-exports it) so that the cross-reference
checks can read a set without importing the module that runs them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from agentgo_cli.errors import ManifestError
from agentgo_cli.manifests.loader import Document
from agentgo_cli.manifests.models import KINDS, ConfigFile, Manifest

__all__ = ["Entry", "ManifestSet"]


@dataclass(frozen=True)
class Entry:
    """A valid manifest and the document it came from (for positions)."""

    manifest: Manifest
    doc: Document


@dataclass
class ManifestSet:
    """Valid manifests by kind and name, the errors found, and what was read."""

    entries: list[Entry] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    documents: int = 0
    config: ConfigFile | None = None
    config_files: list[str] = field(default_factory=list)
    kinds_read: Counter[str] = field(default_factory=Counter)
    broken: dict[str, set[str]] = field(default_factory=dict)
    """Names declared by invalid manifests, by kind (and "Intent"), so that references to
    them are not reported as unknown on top of the manifest's own errors."""

    @property
    def valid(self) -> bool:
        return not self.errors

    def of_kind(self, kind: str) -> dict[str, Entry]:
        """The first manifest of each name of a kind (duplicates are reported as errors)."""
        out: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.manifest.kind == kind:
                out.setdefault(entry.manifest.name, entry)
        return out

    def counts(self) -> dict[str, int]:
        """How many manifests of each kind were read, valid or not."""
        return {k: self.kinds_read[k] for k in KINDS if self.kinds_read[k]}

    def sorted_errors(self) -> list[ManifestError]:
        """Errors in file order, then line and column, without repeats."""
        unique = dict.fromkeys(self.errors)
        return sorted(unique, key=lambda e: (e.file, e.line, e.col, e.path, e.message))

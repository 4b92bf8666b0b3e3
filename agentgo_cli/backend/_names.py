"""Names for shell completion (and ``run FILE``'s workflow), read cheaply: manifests are
only parsed (not validated, not cross-checked), and the store is read only if it exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "JOBS",
    "intent_names",
    "manifest_names",
    "names_of",
    "store_exists",
    "workflow_names",
]

JOBS = 100
"""How many of the newest jobs completion offers."""


def _documents(paths: list[Path], kind: str) -> list[dict[str, Any]]:
    """The parsed manifests of ``kind`` under the paths (broken ones are skipped)."""
    from agentgo_cli.manifests.loader import load_paths

    found = []
    for doc in load_paths(paths).documents:
        data = doc.data
        if isinstance(data, dict) and data.get("kind") == kind:
            found.append(data)
    return found


def _name(data: dict[str, Any]) -> str | None:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def names_of(paths: list[Path], kind: str) -> list[str]:
    """The names of the parsed manifests of ``kind`` under the paths, in file order."""
    return [n for d in _documents(paths, kind) if (n := _name(d)) is not None]


def workflow_names(paths: list[Path]) -> list[str]:
    """The names of the Workflow manifests under the paths, sorted."""
    return sorted(set(names_of(paths, "Workflow")))


def intent_names(paths: list[Path]) -> list[str]:
    """The intent names the Capability manifests under the paths declare, sorted."""
    names: set[str] = set()
    for data in _documents(paths, "Capability"):
        spec = data.get("spec")
        intents = spec.get("intents") if isinstance(spec, dict) else None
        for intent in intents if isinstance(intents, list) else []:
            name = intent.get("name") if isinstance(intent, dict) else None
            if isinstance(name, str):
                names.add(name)
    return sorted(names)


def manifest_names(what: str, paths: list[Path]) -> list[str]:
    """Workflow names (``what`` "workflow") or intent names under the paths that exist."""
    there = [p for p in paths if p.exists()]
    return workflow_names(there) if what == "workflow" else intent_names(there)


def store_exists(url: str) -> bool:
    """Whether the store at ``url`` was created (a SQLite file; other stores: True)."""
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()

"""Where a failing expression is written: its manifest file, line and column.

Run-time errors of expressions name their place, as validation errors do. This runs only
when an expression fails, so it may search the workflow's document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentgo_cli.manifests.manifest_set import ManifestSet

__all__ = ["expression_place"]


def expression_place(mset: ManifestSet, workflow: str, source: str, step_id: str | None) -> str:
    """``file:line:col: `` of the expression ``source`` in a workflow, preferring one inside
    the step ``step_id``; empty when it cannot be found."""
    entry = mset.of_kind("Workflow").get(workflow)
    if entry is None or not source:
        return ""
    doc = entry.doc
    hits = [path for path, text in _strings(doc.data, ()) if source in text]
    if step_id is not None:
        hits.sort(key=lambda path: not _in_step(doc.data, path, step_id))
    if not hits:
        return ""
    line, col = doc.at(hits[0])
    return f"{doc.file}:{line}:{col}: "


def _strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        if "${{" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _in_step(data: Any, path: tuple[Any, ...], step_id: str) -> bool:
    """Whether a mapping with ``id: step_id`` holds the value at ``path``."""
    node = data
    for part in path:
        if isinstance(node, dict) and node.get("id") == step_id:
            return True
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return False

"""Text of ``agentgo jobs trace``: a compact tree (one line per node), or one node in full."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from agentgo_cli.cli._output import kind_label, printable

if TYPE_CHECKING:
    from agentgo_cli.backend.views import TraceNode

__all__ = ["full_lines", "tree_lines"]

PREVIEW = 60
"""Characters of a payload shown on a node's line."""

_AGENTS = ("agent", "role")
"""The step kinds that invoke an agent (a role turn of a team does)."""


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = printable(text)
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


def _took(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


def _label(node: TraceNode) -> str:
    """The node's kind and name: what its path is made of (``turn:2``, a step's key)."""
    if node.kind == "job":
        return f"job {node.detail.get('job_id', '')} {node.name}"
    if node.kind == "step":
        return f"{node.name} ({kind_label(str(node.detail.get('kind', '?')), node.detail)})"
    number = node.path.rsplit(":", 1)[-1] if ":" in node.path else "?"
    if node.kind == "attempt":
        return f"attempt:{number}"
    return f"{node.kind}:{number} {node.name}"


def _summary(node: TraceNode) -> str:
    """What a node's line says after its label: status, duration, tokens, cost, a preview."""
    parts = [_label(node)]
    if node.status:
        parts.append(node.status)
    parts.append(_took(node.duration_s))
    if node.tokens:
        parts.append(f"{node.tokens} tokens")
    if node.cost_usd:
        parts.append(f"${node.cost_usd:.6f}")
    line = " ".join(printable(p) for p in parts)
    detail = node.detail
    if detail.get("error"):
        return f"{line}: {_preview(detail['error'])}"
    if node.kind == "turn":
        calls = detail.get("tool_calls") or []
        if isinstance(calls, list) and calls:
            asked = ", ".join(
                f"{c.get('name')}({_preview(c.get('arguments'))})"
                for c in calls
                if isinstance(c, dict)
            )
            return f"{line} → {printable(asked)}"
        return f"{line} → {_preview(detail.get('reply', ''))}"
    if node.kind == "tool":
        return f"{line} {_preview(detail.get('arguments'))} → {_preview(detail.get('result'))}"
    if node.kind == "call" and detail.get("chain"):
        return f"{line} (chain {printable(' > '.join(map(str, detail['chain'])))})"
    if node.kind == "attempt" and detail.get("resumed"):
        return f"{line} (resumed)"
    return line


def _shown_children(node: TraceNode) -> list[TraceNode]:
    """A step that ran once shows its attempt's nodes in the attempt's place."""
    attempts = [c for c in node.children if c.kind == "attempt"]
    if node.kind == "step" and len(attempts) == 1:
        return attempts[0].children + [c for c in node.children if c.kind != "attempt"]
    return node.children


def tree_lines(root: TraceNode) -> Iterator[str]:
    """The compact tree: the root's line, then one line per node below it, and a hint when
    agent steps ran but no model turn was recorded (the profile's ``trace`` is not full)."""
    yield _summary(root)
    yield from _below(root, "")
    if _has(root, lambda n: n.kind == "step" and n.detail.get("kind") in _AGENTS) and not _has(
        root, lambda n: n.kind == "turn"
    ):
        yield (
            "(no model turns or tool calls recorded: set 'trace: full' in the profile to "
            "record them)"
        )


def _has(node: TraceNode, wanted: Callable[[TraceNode], bool]) -> bool:
    return wanted(node) or any(_has(child, wanted) for child in node.children)


def _below(node: TraceNode, indent: str) -> Iterator[str]:
    children = _shown_children(node)
    for i, child in enumerate(children):
        last = i == len(children) - 1
        yield f"{indent}{'└─ ' if last else '├─ '}{_summary(child)}"
        yield from _below(child, indent + ("   " if last else "│  "))


def full_lines(node: TraceNode) -> Iterator[str]:
    """One node in full: its line, its path, every payload, then the tree below it."""
    yield _summary(node)
    if node.path:
        yield f"path: {printable(node.path)}"
    for name, value in node.detail.items():
        if isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        yield f"{name}:"
        for line in printable(text, lines=True).splitlines() or [""]:
            yield f"  {line}"
    if node.children:
        yield "below:"
        for line in _below(node, "  "):
            yield line

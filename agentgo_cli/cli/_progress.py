"""Live progress of one job: a rich tree of steps on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from agentgo_cli.backend.views import EventView, StepView

__all__ = ["StepProgress"]

_MARKS = {"running": "…", "succeeded": "✓", "failed": "✗", "skipped": "-"}


class StepProgress:
    """Shows the step events of a job's watch stream; use as a context manager."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.rows: dict[str, StepView] = {}
        self._live: Any = None
        self._started = time.monotonic()

    def __enter__(self) -> StepProgress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render(), console=Console(stderr=True), refresh_per_second=8)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(None, None, None)

    def update(self, event: EventView) -> None:
        """Take one event of the stream; only step events are shown."""
        step = event.step
        if step is None:
            return
        self.rows[step.key] = step
        if self._live is not None:
            self._live.update(self._render())
        elif step.status != "running":
            typer.echo(_line(step), err=True)

    def _render(self) -> Any:
        from rich.markup import escape
        from rich.tree import Tree

        root = Tree(f"job  {time.monotonic() - self._started:.1f}s")
        nodes: dict[str, Any] = {}
        for key, step in self.rows.items():
            parent = root
            for prefix in sorted((k for k in nodes if _inside(key, k)), key=len):
                parent = nodes[prefix]
            style = {"succeeded": "green", "failed": "red", "skipped": "dim"}.get(
                step.status, "yellow"
            )
            nodes[key] = parent.add(f"[{style}]{escape(_line(step))}[/]")
        return root


def _inside(key: str, outer: str) -> bool:
    """Whether a step key is inside another's: ``research[0].summarize`` in ``research``,
    ``polish#2.review`` in ``polish``, ``checks.count`` in ``checks``."""
    return key.startswith(outer) and key[len(outer) : len(outer) + 1] in (".", "[", "#")


def _line(step: StepView) -> str:
    text = f"{_MARKS.get(step.status, '?')} {step.key} ({step.kind}) {step.status}"
    if step.status != "running" and step.finished_at is not None:
        text += f" {step.finished_at - step.started_at:.2f}s"
    if step.tokens:
        text += f" {step.tokens} tokens"
    if step.error:
        text += f": {step.error}"
    return text

"""Live progress of one job: a rich tree of steps on a terminal, plain lines elsewhere.

On a terminal, the reply an agent step's model is streaming (``delta`` events) shows under
the running step, its last few lines, until the step ends.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TYPE_CHECKING, Any

import typer

from agentgo_cli.cli._output import step_kind

if TYPE_CHECKING:
    from agentgo_cli.backend.views import EventView, StepView

__all__ = ["StepProgress", "live_terminal"]

_MARKS = {"running": "…", "succeeded": "✓", "failed": "✗", "skipped": "-"}
_REPLY_LINES = 3
"""How many lines of a streaming reply show under its step (the newest)."""
_REPLY_CHARS = 4000
"""How much of a streaming reply is kept to show (its end)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def live_terminal() -> bool:
    """Whether progress is drawn live (stderr is a terminal), not written as plain lines."""
    return sys.stderr.isatty()


class StepProgress:
    """Shows the step events of a job's watch stream; use as a context manager."""

    def __init__(self, *, live: bool | None = None, width: int = 100) -> None:
        self.live = live_terminal() if live is None else live
        self.width = width
        """The terminal's width (set from the console on a terminal)."""
        self.rows: dict[str, StepView] = {}
        self.replies: dict[str, str] = {}
        """The streamed reply so far (its end) of each running agent step, by key."""
        self._live: Any = None
        self._console: Any = None
        self._started = time.monotonic()

    def __enter__(self) -> StepProgress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            console = self._console = Console(stderr=True)
            self.width = console.width
            self._live = Live(self._render(), console=console, refresh_per_second=8)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(None, None, None)

    def update(self, event: EventView) -> None:
        """Take one event of the stream: step events, and on a terminal the pieces of the
        replies agent steps stream (``delta``)."""
        if event.kind == "delta":
            self._delta(event)
            return
        step = event.step
        if step is None:
            return
        self.rows[step.key] = step
        self.replies.pop(step.key, None)  # an attempt starts afresh; an end collapses it
        if self._live is not None:
            self._live.update(self._render())
        elif step.status != "running":
            typer.echo(_line(step), err=True)

    def _delta(self, event: EventView) -> None:
        key = event.data.get("key") if isinstance(event.data, dict) else None
        if not self.live or not isinstance(key, str):
            return
        text = _CONTROL.sub("", event.message)  # a model's escape codes never reach the terminal
        self.replies[key] = (self.replies.get(key, "") + text)[-_REPLY_CHARS:]
        if self._live is not None:
            self._live.update(self._render())

    def _tail(self, text: str, width: int) -> Any:
        """The last lines of a reply as they fit in ``width`` columns (dim)."""
        from rich.console import Console
        from rich.text import Text

        if self._console is None:
            self._console = Console(width=self.width)
        width = max(width, 20)
        lines = Text(text.strip()).wrap(self._console, width)
        shown = Text("\n").join(list(lines)[-_REPLY_LINES:])
        shown.stylize("dim")
        return shown

    def _render(self) -> Any:
        from rich.markup import escape
        from rich.tree import Tree

        root = Tree(f"job  {time.monotonic() - self._started:.1f}s")
        nodes: dict[str, Any] = {}
        for key, step in self.rows.items():
            outer = [k for k in nodes if _inside(key, k)]  # the containers it is in
            parent = nodes[max(outer, key=len)] if outer else root
            style = {"succeeded": "green", "failed": "red", "skipped": "dim"}.get(
                step.status, "yellow"
            )
            nodes[key] = parent.add(f"[{style}]{escape(_line(step))}[/]")
            reply = self.replies.get(key)
            if reply and step.status == "running":
                nodes[key].add(self._tail(reply, self.width - 4 * (len(outer) + 2)))
        return root


def _inside(key: str, outer: str) -> bool:
    """Whether a step key is inside another's: ``research[0].summarize`` in ``research``,
    ``polish#2.review`` in ``polish``, ``checks.count`` in ``checks``."""
    return key.startswith(outer) and key[len(outer) : len(outer) + 1] in (".", "[", "#")


def _line(step: StepView) -> str:
    text = f"{_MARKS.get(step.status, '?')} {step.key} ({step_kind(step)}) {step.status}"
    if step.status != "running" and step.finished_at is not None:
        text += f" {step.finished_at - step.started_at:.2f}s"
    if step.tokens:
        text += f" {step.tokens} tokens"
    if step.error:
        text += f": {step.error}"
    return text

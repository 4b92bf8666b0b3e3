"""Live progress of one job: a rich tree of steps on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

__all__ = ["StepProgress"]

_MARKS = {"running": "…", "succeeded": "✓", "failed": "✗", "skipped": "-"}


class StepProgress:
    """Receives engine step events and shows them; use as a context manager."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.live = enabled and sys.stderr.isatty()
        self.rows: dict[str, tuple[str, str, float, int, str | None]] = {}
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

    def on_step(
        self, key: str, kind: str, status: str, seconds: float, tokens: int, error: str | None
    ) -> None:
        if not self.enabled:
            return
        self.rows[key] = (kind, status, seconds, tokens, error)
        if self._live is not None:
            self._live.update(self._render())
        elif status != "running":
            typer.echo(_line(key, kind, status, seconds, tokens, error), err=True)

    def _render(self) -> Any:
        from rich.markup import escape
        from rich.tree import Tree

        root = Tree(f"job  {time.monotonic() - self._started:.1f}s")
        nodes: dict[str, Any] = {}
        for key, (kind, status, seconds, tokens, error) in self.rows.items():
            parent = root
            for prefix in sorted((k for k in nodes if key.startswith(k + ".")), key=len):
                parent = nodes[prefix]
            style = {"succeeded": "green", "failed": "red", "skipped": "dim"}.get(status, "yellow")
            label = _line(key, kind, status, seconds, tokens, error)
            nodes[key] = parent.add(f"[{style}]{escape(label)}[/]")
        return root


def _line(key: str, kind: str, status: str, seconds: float, tokens: int, error: str | None) -> str:
    text = f"{_MARKS.get(status, '?')} {key} ({kind}) {status}"
    if status != "running":
        text += f" {seconds:.2f}s"
    if tokens:
        text += f" {tokens} tokens"
    if error:
        text += f": {error}"
    return text

"""agentgo catalog: list, show and export the capability catalog."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="List, show and export the capability catalog.", no_args_is_help=True)

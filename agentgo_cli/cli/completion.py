"""agentgo completion: print the shell completion script for bash, zsh or fish."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from enum import StrEnum

import typer

__all__ = ["complete_intent", "complete_job", "complete_workflow", "completion_script", "register"]


class Shell(StrEnum):
    """Shells with completion scripts."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _candidates(what: str) -> Callable[[typer.Context, str], list[str]]:
    """A completion function offering the backend's names of one kind (see
    ``Backend.completions``). It says nothing, and offers nothing, when anything fails (a
    broken config, an unreadable store): the shell's prompt is no place for errors."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        from agentgo_cli.backend import backend_for
        from agentgo_cli.cli._output import run_async

        async def ask() -> list[str]:
            profile = ctx.find_root().params.get("profile")
            async with backend_for(profile) as backend:
                return await backend.completions(what, incomplete)

        try:
            with contextlib.redirect_stderr(io.StringIO()):
                return run_async(ask())
        except Exception:
            return []

    return complete


complete_workflow = _candidates("workflow")
"""Completes the names of the profile's workflows (``run``)."""
complete_intent = _candidates("intent")
"""Completes the profile's intent names (``call``, ``catalog show``)."""
complete_job = _candidates("job")
"""Completes the ids of the newest jobs (``jobs show``, ``resume``, …)."""


def completion_script(shell: str) -> str:
    """The completion script for a shell, as checked in under completions/."""
    from typer._completion_shared import get_completion_script

    return (
        get_completion_script(prog_name="agentgo", complete_var="_AGENTGO_COMPLETE", shell=shell)
        + "\n"
    )


def register(app: typer.Typer) -> None:
    """Add the completion command to the root app."""

    @app.command()
    def completion(
        shell: Shell = typer.Argument(..., help="bash, zsh or fish."),
    ) -> None:
        """Print the completion script for a shell.

        bash: agentgo completion bash > ~/.local/share/bash-completion/completions/agentgo
        zsh:  agentgo completion zsh > "${fpath[1]}/_agentgo"
        fish: agentgo completion fish > ~/.config/fish/completions/agentgo.fish
        """
        typer.echo(completion_script(shell.value), nl=False)

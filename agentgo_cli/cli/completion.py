"""agentgo completion: print the shell completion script for bash, zsh or fish."""

from __future__ import annotations

from enum import StrEnum

import typer

__all__ = ["completion_script", "register"]


class Shell(StrEnum):
    """Shells with completion scripts."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


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

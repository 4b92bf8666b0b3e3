"""Shell completion scripts: generated from the CLI and checked in under completions/."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_checked_in_completion_is_current(shell: str) -> None:
    result = runner.invoke(app, ["completion", shell], catch_exceptions=False)
    assert result.exit_code == 0
    assert "_AGENTGO_COMPLETE" in result.stdout
    checked_in = (REPO / "completions" / f"agentgo.{shell}").read_text(encoding="utf-8")
    assert checked_in == result.stdout, "run 'make completions' to regenerate"


def test_unknown_shell_is_usage_error() -> None:
    result = runner.invoke(app, ["completion", "tcsh"])
    assert result.exit_code == 2

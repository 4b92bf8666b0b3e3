"""Shell completion scripts: generated from the CLI and checked in under completions/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from agentgo_cli.cli.completion import complete_intent, complete_job, complete_workflow
from tests.engine.engine_tools import COMMON, CONFIG, workflow

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


def test_names_complete_from_the_active_profile(write: Callable[[str, str], Path]) -> None:
    """Workflow, intent and job names come from the profile's backend (a server's too)."""
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, "steps: [{id: s, tool: echo, with: {text: x}}]", name="quick")
    workflow(write, "steps: [{id: s, tool: echo, with: {text: y}}]", name="quiet")
    ctx = click.Context(click.Command("agentgo"))
    ctx.params = {"profile": None}
    assert complete_workflow(ctx, "qui") == ["quick", "quiet"]
    assert complete_workflow(ctx, "quie") == ["quiet"]
    assert (complete_intent(ctx, "text.s"), complete_job(ctx, "")) == (["text.summarize"], [])
    result = runner.invoke(app, ["run", "quick", "--detach"], catch_exceptions=False)
    job_id = result.stdout.strip()
    assert complete_job(ctx, "j-") == [job_id]
    assert complete_job(ctx, job_id + "x") == []

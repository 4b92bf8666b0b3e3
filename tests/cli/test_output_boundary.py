"""The error boundary: AgentGoErrors become messages and exit codes, never tracebacks."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from agentgo_cli.cli._output import handle_errors
from agentgo_cli.errors import CallError, NotFoundError

runner = CliRunner()


def _app(exc: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @handle_errors
    def boom() -> None:
        """Raise the error under test."""
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (NotFoundError("no job 'j1'"), 3, "error: no job 'j1'\n"),
        (CallError("denied", "user:eve may not call x.y"), 4, "error: user:eve may not call x.y\n"),
        (
            RuntimeError("boom"),
            1,
            "error: internal error: RuntimeError: boom (set AGENTGO_DEBUG=1 for a traceback, "
            "and please report it)\n",
        ),
    ],
)
def test_errors_become_exit_codes(exc: BaseException, code: int, message: str) -> None:
    result = runner.invoke(_app(exc), [], catch_exceptions=False)
    assert result.exit_code == code
    assert result.stderr == message
    assert result.stdout == ""


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGO_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        runner.invoke(_app(RuntimeError("boom")), [], catch_exceptions=False)

"""A config file that exists and is wrong stops every command with exit 2 and its located
errors; nothing falls back to the default store. A literal key in it is never printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

Write = Callable[[str, str], Path]

runner = CliRunner()

BROKEN = {
    "undefined profile": (
        "profile: dev\nprofiles:\n  prod:\n    store: sqlite:///x.db\n",
        "agentgo.yaml:1:10: profile: profile 'dev' is not defined under profiles",
    ),
    "bad synchronous": (
        "profiles:\n  dev:\n    synchronous: bogus\n",
        "agentgo.yaml:3:18: profiles.dev.synchronous: unknown SQLite synchronous mode 'bogus'; "
        "expected 'normal' or 'full'",
    ),
    "yaml syntax": (
        "profiles: [\n",
        "agentgo.yaml:2:1: YAML syntax error: did not find expected node content "
        "(while parsing a flow node)",
    ),
}

COMMANDS = [
    ["jobs", "list"],
    ["jobs", "show", "j1"],
    ["run", "wf"],
    ["resume", "j1"],
    ["worker", "--once"],
    ["call", "a.b"],
    ["catalog", "list"],
    ["catalog", "export", "--format", "a2a"],
    ["models", "list"],
    ["models", "ping", "openai:gpt-4o-mini"],
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_broken_config_stops_every_command(
    write: Write, workdir: Path, case: str, command: list[str]
) -> None:
    text, located = BROKEN[case]
    write("agentgo.yaml", text)
    code, out, err = invoke(*command)
    assert (code, out) == (2, "")
    assert err == f"{located}\nerror: agentgo.yaml has 1 error; fix it (see 'agentgo validate')\n"
    assert not (workdir / ".agentgo").exists()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validate_lists_the_config_errors_and_exits_2(write: Write, case: str) -> None:
    text, located = BROKEN[case]
    write("agentgo.yaml", text)
    write(
        "m/agent.yaml",
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: w}\nspec: {model: 'scripted:x'}\n",
    )
    code, out, err = invoke("validate", "m")
    assert code == 2, out + err
    assert out == f"{located}\ninvalid: 1 file, 1 Agent; 1 error\n"
    code, out, _ = invoke("validate")  # no paths: the config's errors, not "nothing to validate"
    assert code == 2
    assert out.startswith(f"{located}\ninvalid:")
    code, out, _ = invoke("validate", "m", "--output", "json")
    assert code == 2
    report = json.loads(out)
    assert report["valid"] is False
    assert [e["file"] for e in report["errors"]] == ["agentgo.yaml"]


def test_two_errors_are_each_located(write: Write) -> None:
    write("agentgo.yaml", "profiles:\n  dev:\n    synchronous: bogus\n    stoor: x\n")
    code, _, err = invoke("jobs", "list")
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("agentgo.yaml:3:18: profiles.dev.synchronous")
    assert lines[1].startswith("agentgo.yaml:4:5: profiles.dev.stoor")
    assert lines[2] == "error: agentgo.yaml has 2 errors; fix them (see 'agentgo validate')"


LITERAL = "providers:\n  openai:\n    api_key: sk-secret-123\n"
WARNING = (
    "warning: agentgo.yaml:3:14: providers.openai.api_key is a literal key; use "
    "${env:OPENAI_API_KEY} so it stays out of the file\n"
)


def test_models_list_never_prints_a_literal_key(write: Write) -> None:
    write("agentgo.yaml", LITERAL)
    code, out, err = invoke("models", "list")
    assert code == 0, err
    assert "sk-secret-123" not in out + err
    row = next(line for line in out.splitlines() if line.startswith("openai:gpt-4o-mini "))
    assert "literal (in agentgo.yaml)" in row
    assert err == WARNING
    code, out, err = invoke("models", "list", "--output", "json")
    assert code == 0
    assert "sk-secret-123" not in out + err
    assert {r["key"] for r in json.loads(out) if r["provider"] == "openai"} == {
        "literal (in agentgo.yaml)"
    }
    assert err == WARNING


def test_a_profile_literal_key_is_warned_about_once(write: Write) -> None:
    write(
        "agentgo.yaml",
        "profile: dev\nprofiles:\n  dev:\n    providers:\n      anthropic: {api_key: abc}\n",
    )
    code, _, err = invoke("jobs", "list")
    assert code == 0
    assert err == (
        "warning: agentgo.yaml:5:28: profiles.dev.providers.anthropic.api_key is a literal key; "
        "use ${env:ANTHROPIC_API_KEY} so it stays out of the file\n"
    )


def test_a_key_reference_is_shown_and_not_warned_about(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-from-env")
    write("agentgo.yaml", "providers:\n  openai:\n    api_key: ${env:MY_KEY}\n")
    code, out, err = invoke("models", "list")
    assert (code, err) == (0, "")
    assert "${env:MY_KEY}" in out
    assert "sk-from-env" not in out

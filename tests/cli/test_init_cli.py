"""agentgo init writes a project that validates, and never overwrites by surprise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

runner = CliRunner()


def test_init_writes_a_valid_project(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["init", "proj"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "wrote proj/agentgo.yaml",
        "wrote proj/manifests/greeter.yaml",
        "wrote proj/manifests/hello.yaml",
        "next: cd proj && agentgo validate",
    ]
    monkeypatch.chdir(workdir / "proj")
    check = runner.invoke(app, ["validate"], catch_exceptions=False)
    assert check.exit_code == 0
    assert check.stdout == "valid: 2 files, 1 Agent, 1 Workflow; 0 errors\n"


def test_an_init_project_traces_model_turns(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(app, ["init", "proj"], catch_exceptions=False)
    monkeypatch.chdir(workdir / "proj")
    ran = runner.invoke(app, ["run", "hello", "-q", "-o", "json"], catch_exceptions=False)
    assert ran.exit_code == 0, ran.stderr
    job_id = json.loads(ran.stdout)["job_id"]
    trace = runner.invoke(app, ["jobs", "trace", job_id, "-o", "json"], catch_exceptions=False)
    step = json.loads(trace.stdout)["children"][0]
    turns = [n for attempt in step["children"] for n in attempt["children"] if n["kind"] == "turn"]
    assert [t["detail"]["reply"] for t in turns] == ["Hello! Nice to meet you."]


def test_init_refuses_to_overwrite(workdir: Path) -> None:
    (workdir / "agentgo.yaml").write_text("profile: mine\n")
    result = runner.invoke(app, ["init"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr == "error: would overwrite agentgo.yaml; pass --force to replace\n"
    assert (workdir / "agentgo.yaml").read_text() == "profile: mine\n"


def test_init_force_overwrites(workdir: Path) -> None:
    (workdir / "agentgo.yaml").write_text("profile: mine\n")
    result = runner.invoke(app, ["init", "--force"], catch_exceptions=False)
    assert result.exit_code == 0
    assert (workdir / "agentgo.yaml").read_text().startswith("# AgentGo configuration")

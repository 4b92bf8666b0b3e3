"""agentgo validate as the user runs it: output formats, summary and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

runner = CliRunner()

AGENT = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec:
  model: scripted:demo
"""

BAD_WORKFLOW = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: wf}
spec:
  steps:
    - id: draft
      agent: writter
      prompt: "x"
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_valid_set_exits_0_with_summary(write: Callable[[str, str], Path]) -> None:
    write("m/agent.yaml", AGENT)
    code, out, _ = invoke("validate", "m")
    assert code == 0
    assert out == "valid: 1 file, 1 Agent; 0 errors\n"


def test_invalid_set_exits_1_with_positioned_error(write: Callable[[str, str], Path]) -> None:
    write("m/agent.yaml", AGENT)
    write("m/wf.yaml", BAD_WORKFLOW)
    code, out, _ = invoke("validate", "m")
    assert code == 1
    assert out.splitlines() == [
        "m/wf.yaml:7:14: spec.steps[0].agent: unknown agent 'writter' (did you mean 'writer'?)",
        "invalid: 2 files, 1 Agent, 1 Workflow; 1 error",
    ]


def test_json_output(write: Callable[[str, str], Path]) -> None:
    write("m/agent.yaml", AGENT)
    write("m/wf.yaml", BAD_WORKFLOW)
    code, out, _ = invoke("validate", "m", "--output", "json")
    assert code == 1
    data = json.loads(out)
    assert data == {
        "valid": False,
        "files": 2,
        "file_names": ["m/agent.yaml", "m/wf.yaml"],
        "documents": 2,
        "manifests": {"Agent": 1, "Workflow": 1},
        "errors": [
            {
                "file": "m/wf.yaml",
                "line": 7,
                "col": 14,
                "path": "spec.steps[0].agent",
                "message": "unknown agent 'writter' (did you mean 'writer'?)",
                "code": "unknown-ref",
            }
        ],
        "config_errors": 0,
    }


def test_github_output_annotations(write: Callable[[str, str], Path]) -> None:
    write("m/agent.yaml", AGENT)
    write("m/wf.yaml", BAD_WORKFLOW)
    code, out, _ = invoke("validate", "m", "-o", "github")
    assert code == 1
    assert out.splitlines()[0] == (
        "::error file=m/wf.yaml,line=7,col=14,title=agentgo validate::spec.steps[0].agent: "
        "unknown agent 'writter' (did you mean 'writer'?)"
    )


def test_github_output_escapes_newlines_and_percent(write: Callable[[str, str], Path]) -> None:
    write("m/a.yaml", "a: [1,\n")
    code, out, _ = invoke("validate", "m", "-o", "github")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("::error file=m/a.yaml,line=")
    assert "\r" not in first


def test_missing_path_is_an_error_not_a_traceback(workdir: Path) -> None:
    code, out, _ = invoke("validate", "nope")
    assert code == 1
    assert out.splitlines()[0] == "nope:1:1: no such file or folder"


def test_no_paths_and_no_config_is_a_usage_error(workdir: Path) -> None:
    code, out, err = invoke("validate")
    assert code == 2
    assert err == (
        "error: nothing to validate: name files or folders, or list them under 'manifests:' "
        "in the active profile of agentgo.yaml\n"
    )


def test_no_paths_uses_profile_manifests(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", "profile: local\nprofiles:\n  local:\n    manifests: [./defs]\n")
    write("defs/agent.yaml", AGENT)
    code, out, _ = invoke("validate")
    assert code == 0
    assert out == "valid: 1 file, 1 Agent; 0 errors\n"


def test_unknown_profile_is_a_config_error(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", "profile: local\nprofiles:\n  local:\n    manifests: [./defs]\n")
    code, _, err = invoke("--profile", "prod", "validate")
    assert code == 2
    assert err == "error: unknown profile 'prod' (defined in agentgo.yaml: local)\n"


def test_profile_from_environment(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        "agentgo.yaml",
        "profile: a\nprofiles:\n  a:\n    manifests: [./one]\n  b:\n    manifests: [./two]\n",
    )
    write("one/agent.yaml", AGENT)
    write("two/bad.yaml", "kind: Agent\n")
    monkeypatch.setenv("AGENTGO_PROFILE", "b")
    code, out, _ = invoke("validate")
    assert code == 1
    assert "two/bad.yaml:1:1: missing required field 'apiVersion'" in out


def test_broken_config_is_reported_with_position(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", "profiles:\n  local:\n    stroe: sqlite:///x.db\n")
    write("m/agent.yaml", AGENT)
    code, out, _ = invoke("validate", "m")
    assert code == 2  # a broken config is a config error, listed with the others
    assert out.splitlines()[0] == (
        "agentgo.yaml:3:5: profiles.local.stroe: unknown field 'stroe' (did you mean 'store'?)"
    )


def test_bad_output_option_is_usage_error(workdir: Path) -> None:
    code, _, err = invoke("validate", ".", "--output", "xml")
    assert code == 2
    assert "Invalid value for '--output' / '-o'" in err


def test_examples_validate() -> None:
    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    code, out, _ = invoke("validate", str(examples))
    assert code == 0, out
    assert out.startswith("valid: ")


def test_named_paths_join_the_profile_manifests(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", "profile: local\nprofiles:\n  local:\n    manifests: [./agents]\n")
    write("agents/writer.yaml", AGENT)
    write(
        "flows/wf.yaml",
        """
        apiVersion: agentgo/v1
        kind: Workflow
        metadata: {name: wf}
        spec:
          steps:
            - {id: draft, agent: writer}
        """,
    )
    code, out, _ = invoke("validate", "flows")
    assert code == 0, out
    assert out == "valid: 2 files, 1 Agent, 1 Workflow; 0 errors\n"


def test_profile_manifest_folder_missing_is_reported(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", "profile: local\nprofiles:\n  local:\n    manifests: [./gone]\n")
    write("m/agent.yaml", AGENT)
    code, out, _ = invoke("validate", "m")
    assert code == 1
    assert out.splitlines()[0] == "gone:1:1: no such file or folder"

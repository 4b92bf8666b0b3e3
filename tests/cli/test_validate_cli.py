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


def test_help_says_named_paths_are_validated_with_the_profile_manifests() -> None:
    code, out, _ = invoke("validate", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert (
        "paths... <list[str]> Manifest files or folders (read recursively), validated "
        "together with the active profile's 'manifests:' paths, as run sees them (the "
        "manifest set). No PATH: the profile's paths alone."
    ) in text
    assert (
        "The python tools' entrypoints are imported, in a child process, from the project "
        "root (the folder of agentgo.yaml, else the manifest's): a module's top-level code "
        "runs."
    ) in text


PY_TOOL = """
apiVersion: agentgo/v1
kind: Tool
metadata: {{name: {name}}}
spec:
  runtime: {{type: python, entrypoint: "{entrypoint}"}}
"""

PROJECT = "profile: local\nprofiles:\n  local:\n    manifests: [./m]\n"


def _tools(write: Callable[[str, str], Path], **entrypoints: str) -> None:
    text = "---".join(
        PY_TOOL.format(name=name.replace("_", "-"), entrypoint=entrypoint)
        for name, entrypoint in entrypoints.items()
    )
    write("m/tools.yaml", text)


def test_python_entrypoints_are_imported_from_the_project_root(
    write: Callable[[str, str], Path], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("agentgo.yaml", PROJECT)
    write("crm.py", "def lookup(customer):\n    return customer\n")
    write("crmpkg/__init__.py", "")
    write("crmpkg/calls.py", "async def lookup(customer):\n    return customer\n")
    _tools(write, plain="crm:lookup", pkg="crmpkg.calls:lookup")
    (workdir / "sub").mkdir()
    monkeypatch.chdir(workdir / "sub")
    code, out, _ = invoke("validate")
    assert (code, out) == (0, "valid: 1 file, 2 Tool; 0 errors\n")


def test_an_entrypoint_that_does_not_import_is_an_error_at_its_line(
    write: Callable[[str, str], Path], workdir: Path
) -> None:
    write("agentgo.yaml", PROJECT)
    write("crm.py", "import json\n\ndef lookup(customer):\n    return customer\n\nVALUE = 3\n")
    write("broken.py", "def ok():\n    pass\n\nraise RuntimeError('no CRM_URL set')\n")
    write("quits.py", "import sys\nsys.exit(4)\n")
    write("bad_syntax.py", "def f(:\n")
    write("needs.py", "import crm_client_not_installed\n")
    _tools(
        write,
        missing="crmx:lookup",
        typo="crm:lookp",
        value="crm:VALUE",
        broken="broken:ok",
        quits="quits:run",
        syntax="bad_syntax:f",
        needs="needs:go",
        deep="crm.sub:lookup",
    )
    code, out, _ = invoke("validate")
    assert code == 1
    head = "spec.runtime.entrypoint: cannot import"
    assert out.splitlines() == [
        f"m/tools.yaml:5:39: {head} 'crmx:lookup': no module named 'crmx' in the project "
        f"root {workdir} (the folder of agentgo.yaml) or on the Python path; put crmx.py there, "
        "or fix the entrypoint",
        f"m/tools.yaml:11:39: {head} 'crm:lookp': module 'crm' has no function 'lookp' "
        "(did you mean 'lookup'?)",
        f"m/tools.yaml:17:39: {head} 'crm:VALUE': 'VALUE' of module 'crm' is not a function",
        f"m/tools.yaml:23:39: {head} 'broken:ok': importing 'broken' raised RuntimeError: "
        "no CRM_URL set (at broken.py:4)",
        f"m/tools.yaml:29:39: {head} 'quits:run': importing 'quits' raised SystemExit: 4 "
        "(at quits.py:2)",
        f"m/tools.yaml:35:39: {head} 'bad_syntax:f': importing 'bad_syntax' raised "
        "SyntaxError: invalid syntax (at bad_syntax.py:1)",
        f"m/tools.yaml:41:39: {head} 'needs:go': importing 'needs' raised ModuleNotFoundError: "
        "No module named 'crm_client_not_installed' (at needs.py:1)",
        f"m/tools.yaml:47:39: {head} 'crm.sub:lookup': no module named 'crm.sub' ('crm' is "
        "a module, not a package); fix the entrypoint",
        "invalid: 1 file, 8 Tool; 8 errors",
    ]


def test_an_import_that_ends_the_process_is_blamed_and_the_rest_still_checked(
    write: Callable[[str, str], Path], workdir: Path
) -> None:
    write("m/crash.py", "import os\nos._exit(9)\n")
    write("m/fine.py", "def go():\n    return 1\n")
    _tools(write, crash="crash:go", fine="fine:go", gone="fine:gone")
    code, out, _ = invoke("validate", "m")
    assert code == 1
    head = "spec.runtime.entrypoint: cannot import"
    assert out.splitlines() == [
        f"m/tools.yaml:5:39: {head} 'crash:go': importing 'crash' ended the process: its "
        "process exited with status 9",
        f"m/tools.yaml:17:39: {head} 'fine:gone': module 'fine' has no function 'gone' "
        "(did you mean 'go'?)",
        "invalid: 1 file, 3 Tool; 2 errors",
    ]

"""The project root as the installed `agentgo` command finds it, with no PYTHONPATH.

A python tool beside ``agentgo.yaml`` imports from the project folder and from any folder
below it; ``agentgo.yaml`` is looked for upwards from the working folder, so a subfolder uses
the project's database instead of creating a second one; and a workflow name given where no
``agentgo.yaml`` can be found says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.remote import served_variant

AGENTGO = Path(sys.executable).with_name("agentgo")

pytestmark = pytest.mark.skipif(
    not AGENTGO.exists(), reason=f"agentgo is not installed next to {sys.executable}"
)

CONFIG = """\
profile: local
profiles:
  local:
    store: sqlite:///.agentgo/agentgo.db
    manifests: [./manifests]
"""

CRM = """\
def lookup(customer):
    return {"name": customer.upper()}
"""

TOOLS = """\
apiVersion: agentgo/v1
kind: Tool
metadata: {name: crm-lookup}
spec:
  input: {type: object, required: [customer], properties: {customer: {type: string}}}
  runtime: {type: python, entrypoint: "crm:lookup"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: crm-lookup-isolated}
spec:
  input: {type: object, required: [customer], properties: {customer: {type: string}}}
  runtime: {type: python, entrypoint: "crm:lookup", isolation: process}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: lookup}
spec:
  inputs:
    customer: {type: string}
  steps:
    - id: here
      tool: crm-lookup
      with: {customer: "${{ inputs.customer }}"}
    - id: apart
      tool: crm-lookup-isolated
      with: {customer: "${{ inputs.customer }}"}
  outputs:
    here: ${{ steps.here.output.name }}
    apart: ${{ steps.apart.output.name }}
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def agentgo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command, without PYTHONPATH (the point of these tests)."""
    return subprocess.run(
        [str(AGENTGO), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=60,
        check=False,
    )


@pytest.fixture
def project_files(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "manifests").mkdir(parents=True)
    (root / "agentgo.yaml").write_text(CONFIG)
    (root / "crm.py").write_text(CRM)
    (root / "manifests" / "lookup.yaml").write_text(TOOLS)
    (root / "jobs" / "deeper").mkdir(parents=True)
    return root


@pytest.fixture(params=["local", "remote"])
def project(
    request: pytest.FixtureRequest, project_files: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The project, run here and sent to an ``agentgo serve`` of it (a child process, with
    no PYTHONPATH either) through a remote profile, with the same assertions."""
    root = project_files
    for _ in served_variant(request.param, request.node, root, monkeypatch.setenv, _env):
        yield root


def _run_json(cwd: Path, customer: str) -> dict[str, Any]:
    result = agentgo("run", "lookup", "-i", f"customer={customer}", "-o", "json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_tool_beside_agentgo_yaml_runs_from_the_project_and_from_a_subfolder(
    project: Path,
) -> None:
    first = _run_json(project, "acme")
    assert (first["status"], first["outputs"]) == ("succeeded", {"here": "ACME", "apart": "ACME"})
    second = _run_json(project / "jobs" / "deeper", "initech")
    assert second["outputs"] == {"here": "INITECH", "apart": "INITECH"}
    valid = agentgo("validate", cwd=project / "jobs" / "deeper")
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_a_subfolder_sees_the_project_database_and_makes_none_of_its_own(project: Path) -> None:
    job_id = _run_json(project, "acme")["job_id"]
    listed = agentgo("jobs", "list", "-o", "json", cwd=project / "jobs" / "deeper")
    assert listed.returncode == 0, listed.stderr
    assert [job["job_id"] for job in json.loads(listed.stdout)] == [job_id]
    assert (project / ".agentgo" / "agentgo.db").is_file()
    assert not (project / "jobs" / ".agentgo").exists()
    assert not (project / "jobs" / "deeper" / ".agentgo").exists()


def test_validate_reports_an_entrypoint_that_does_not_import_at_its_line(project: Path) -> None:
    (project / "crm.py").unlink()
    result = agentgo("validate", cwd=project / "jobs")
    assert result.returncode == 1
    shown = project / "manifests" / "lookup.yaml"
    assert result.stdout.splitlines()[:2] == [
        f"{shown}:{line}:{col}: spec.runtime.entrypoint: cannot import 'crm:lookup': "
        f"no module named 'crm' in the project root {project} (the folder of agentgo.yaml) "
        "or on the Python path; put crm.py there, or fix the entrypoint"
        for line, col in ((6, 39), (13, 39))
    ]


def test_a_workflow_name_with_no_agentgo_yaml_anywhere_says_so(tmp_path: Path) -> None:
    result = agentgo("run", "lookup", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no workflow file 'lookup'; to run a workflow by name, agentgo needs an "
        f"agentgo.yaml, and there is no agentgo.yaml in {tmp_path} or any folder above it "
        "(run 'agentgo init' to create one)\n"
    )
    assert not (tmp_path / ".agentgo").exists()


def test_a_workflow_name_with_a_profile_without_manifests_says_so(tmp_path: Path) -> None:
    (tmp_path / "agentgo.yaml").write_text("profile: local\nprofiles:\n  local: {}\n")
    (tmp_path / "sub").mkdir()
    result = agentgo("run", "lookup", cwd=tmp_path / "sub")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: no workflow file 'lookup', and profile 'local' of {tmp_path / 'agentgo.yaml'} "
        "lists no 'manifests:' to look up a workflow by name\n"
    )
    missing = agentgo("run", "flows/lookup.yaml", cwd=tmp_path / "sub")
    assert (missing.returncode, missing.stderr) == (
        2,
        "error: no such workflow file: flows/lookup.yaml\n",
    )

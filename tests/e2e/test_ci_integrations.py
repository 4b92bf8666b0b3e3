"""What a repository drops into its CI: the pre-commit hook (.pre-commit-hooks.yaml) and the
GitHub Action (action.yml), both running `agentgo validate --output github`.

The hook is run by pre-commit itself in a temporary git repository. Tests stay offline, and
pre-commit's ``language: python`` installs the hook's repository from the package index
into a new virtualenv; so the hook definition is checked against pre-commit's own schema for
hook manifests, and then run exactly as defined (id, entry, files, pass_filenames...) as a
``repo: local`` hook of ``language: system`` with this environment's `agentgo` on PATH.

The Action's validate step is run by bash as GitHub runs a composite step: its inputs put in
its environment, in its working directory, with `agentgo` on PATH (the step before installs
it, from the package index).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_validate_cli import AGENT, BAD_WORKFLOW

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"
COMMAND = "agentgo validate --output github"
ANNOTATION = (
    "::error file=m/wf.yaml,line=7,col=14,title=agentgo validate::spec.steps[0].agent: "
    "unknown agent 'writter' (did you mean 'writer'?)"
)
CONFIG = "profile: p\nprofiles:\n  p: {manifests: [./m]}\n"

pytestmark = pytest.mark.skipif(
    not (BIN / "agentgo").exists() or not PRE_COMMIT.exists(),
    reason=f"agentgo and pre-commit are not installed next to {sys.executable}",
)


def hook() -> dict[str, Any]:
    (only,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(only, dict)
    return only


def action() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def environment(tmp_path: Path) -> dict[str, str]:
    """This environment's bin first on PATH, pre-commit's cache and git's config in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def git_repo(path: Path, files: dict[str, str], env: dict[str, str]) -> None:
    """A git repository at ``path`` holding ``files``, all staged."""
    path.mkdir()
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, timeout=60)


def local_config(definition: dict[str, Any]) -> str:
    """A .pre-commit-config.yaml running ``definition`` as a local hook of this environment."""
    local = {**definition, "language": "system"}
    local.pop("minimum_pre_commit_version", None)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}, sort_keys=False)


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), "run", "agentgo-validate", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_hook_manifest_passes_pre_commits_own_schema() -> None:
    from pre_commit.clientlib import load_manifest

    (loaded,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert (loaded["id"], loaded["entry"], loaded["language"]) == (
        "agentgo-validate",
        COMMAND,
        "python",
    )
    assert (loaded["files"], loaded["pass_filenames"]) == (r"\.ya?ml$", False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return environment(tmp_path)


def test_pre_commit_runs_the_hook_and_it_fails_on_a_bad_manifest(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    files = {
        "agentgo.yaml": CONFIG,
        "m/agent.yaml": AGENT,
        "m/wf.yaml": BAD_WORKFLOW,
        ".pre-commit-config.yaml": local_config(hook()),
    }
    git_repo(repo, files, env)
    result = pre_commit(repo, env, "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^agentgo validate\.+Failed$", result.stdout, re.MULTILINE), result.stdout
    assert "- exit code: 1" in result.stdout
    assert ANNOTATION in result.stdout.splitlines()


def test_pre_commit_passes_a_valid_set_and_skips_without_yaml(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    files = {
        "agentgo.yaml": CONFIG,
        "m/agent.yaml": AGENT,
        ".pre-commit-config.yaml": local_config(hook()),
    }
    git_repo(repo, files, env)
    result = pre_commit(repo, env, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^agentgo validate\.+Passed$", result.stdout, re.MULTILINE), result.stdout
    (repo / "notes.txt").write_text("no manifest here\n", encoding="utf-8")
    subprocess.run(["git", "add", "notes.txt"], cwd=repo, env=env, check=True, timeout=60)
    result = pre_commit(repo, env, "--files", "notes.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^agentgo validate\.+\(no files to check\)Skipped$", result.stdout, re.M)


def test_the_hook_validates_the_whole_set_not_only_the_changed_file(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Only the agent file is named, yet the workflow referring to it is checked too."""
    repo = tmp_path / "repo"
    files = {
        "agentgo.yaml": CONFIG,
        "m/agent.yaml": AGENT,
        "m/wf.yaml": BAD_WORKFLOW,
        ".pre-commit-config.yaml": local_config(hook()),
    }
    git_repo(repo, files, env)
    result = pre_commit(repo, env, "--files", "m/agent.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert ANNOTATION in result.stdout.splitlines()


def test_action_yml_is_a_composite_action_with_its_inputs() -> None:
    spec = action()
    assert spec["name"] == "agentgo validate"
    assert set(spec["inputs"]) == {"paths", "profile", "working-directory", "python-version"}
    for name, given in spec["inputs"].items():
        assert given["description"], name
        assert given["required"] is False, name
    assert spec["runs"]["using"] == "composite"
    setup, install, validate = spec["runs"]["steps"]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert '"$GITHUB_ACTION_PATH"' in install["run"]
    assert validate["working-directory"] == "${{ inputs.working-directory }}"
    assert "validate --output github" in validate["run"]
    assert "${{" not in validate["run"], "inputs go through env, not into the script"


def run_step(step: dict[str, Any], inputs: dict[str, str], workspace: Path) -> Any:
    """Run a composite step's bash script as GitHub does, its ${{ inputs.* }} filled in."""
    defaults = {name: str(i.get("default", "")) for name, i in action()["inputs"].items()}
    given = {**defaults, **inputs}

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: given[m.group(1)], text)

    env = environment(workspace)
    env.update({name: fill(value) for name, value in step.get("env", {}).items()})
    assert step["shell"] == "bash"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=workspace / fill(step.get("working-directory", ".")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for name, text in {
        "agentgo.yaml": CONFIG + "  other: {manifests: [./other]}\n",
        "m/agent.yaml": AGENT,
        "m/wf.yaml": BAD_WORKFLOW,
        "other/agent.yaml": AGENT,
        "more stuff/agent.yaml": AGENT.replace("writer", "second"),
    }.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def test_the_action_annotates_a_bad_manifest_and_fails(workspace: Path) -> None:
    validate = action()["runs"]["steps"][2]
    result = run_step(validate, {"working-directory": "project"}, workspace)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == ANNOTATION


def test_the_action_takes_paths_one_a_line_and_a_profile(workspace: Path) -> None:
    validate = action()["runs"]["steps"][2]
    inputs = {"working-directory": "project", "profile": "other"}
    result = run_step(validate, {**inputs, "paths": "  more stuff/agent.yaml \n\n"}, workspace)
    assert (result.returncode, result.stdout) == (0, "valid: 2 files, 2 Agent; 0 errors\n")
    result = run_step(validate, {**inputs, "paths": "m\nnope"}, workspace)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [
        ANNOTATION,
        "::error file=nope,line=1,col=1,title=agentgo validate::no such file or folder",
    ]

"""The installed `agentgo` command, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not AGENTGO.exists(), reason=f"agentgo is not installed next to {sys.executable}"
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENTGO), *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("validate", "init", "schema", "completion"):
        assert f"  {command} " in result.stdout


def test_version() -> None:
    from agentgo_cli import __version__

    result = run("--version")
    assert result.stdout == f"agentgo {__version__}\n"


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from agentgo_cli.cli.app import main\n"
        "sys.argv = ['agentgo', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "import json\n"
        "print(json.dumps(sorted(m for m in sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    loaded = set(json.loads(result.stderr.strip().splitlines()[-1]))
    heavy = {"pydantic", "jinja2", "jsonschema", "yaml", "openai", "anthropic", "httpx", "docker"}
    heavy |= {"rich", "asyncio", "ssl"}  # a command's coroutine imports them, not the help
    assert not heavy & loaded, f"imported on --help: {sorted(heavy & loaded)}"
    assert "google.genai" not in loaded


def test_garbage_gives_positioned_errors_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"\xff\xfe garbage: [\n")
    (tmp_path / "b.yaml").write_text("apiVersion: agentgo/v1\nkind: Agent\nspec: 3\n")
    (tmp_path / "c.yml").write_text("- just\n- a list\n")
    result = run("validate", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "a.yaml:1:1: not UTF-8 text: invalid start byte",
        "b.yaml:1:1: missing required field 'metadata'",
        "b.yaml:3:7: spec: expected a mapping, got integer",
        "c.yml:1:1: a manifest must be a mapping with apiVersion, kind, metadata and spec, "
        "got list",
        "invalid: 3 files, 1 Agent; 4 errors",
    ]


def test_examples_validate_through_the_entry_point() -> None:
    result = run("validate", "manifests/examples", "--output", "json", cwd=REPO)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["valid"] is True


@pytest.mark.parametrize(
    ("workflow", "extra"),
    [
        ("workflows/research-digest.yaml", ()),
        ("workflows/summarize-one.yaml", ("--scope", "research.read")),
    ],
)
def test_the_example_workflows_run(tmp_path: Path, workflow: str, extra: tuple[str, ...]) -> None:
    import shutil

    examples = tmp_path / "repo" / "manifests" / "examples"  # its store is at ../../.agentgo
    shutil.copytree(REPO / "manifests" / "examples", examples)
    result = run("run", workflow, "-q", "-o", "json", *extra, cwd=examples)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"

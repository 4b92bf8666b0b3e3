"""The import contracts in pyproject.toml ([tool.importlinter]): kept by the code, and able
to catch what they forbid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _lint_imports(root: Path, contract: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on the package under ``root`` with the repository's contracts
    (or only the one whose id is ``contract``)."""
    script = Path(sys.executable).parent / "lint-imports"
    args = [str(script), "--config", str(REPO / "pyproject.toml"), "--no-cache"]
    args += ["--contract", contract] if contract else []
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}  # PYTHONPATH: before
    # the editable install's finder, so that the copy is what gets read
    return subprocess.run(
        args,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    """A copy of the package to break on purpose; returns the folder that holds it."""
    shutil.copytree(
        REPO / "agentgo_cli",
        tmp_path / "agentgo_cli",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def test_the_package_keeps_its_import_contracts() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_importing_the_engine_breaks_a_contract(tmp_path: Path) -> None:
    root = _copy_package(tmp_path)
    (root / "agentgo_cli" / "cli" / "_bad.py").write_text("import agentgo_cli.engine\n")
    result = _lint_imports(root, "cli-via-backend")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "agentgo_cli.cli._bad -> agentgo_cli.engine" in result.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_a_contract(tmp_path: Path) -> None:
    root = _copy_package(tmp_path)
    (root / "agentgo_cli" / "store" / "_bad.py").write_text("import agentgo_cli.backend\n")
    result = _lint_imports(root, "layers")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "agentgo_cli.store._bad -> agentgo_cli.backend" in result.stdout


def test_the_checks_importing_the_manifest_set_again_breaks_a_contract(tmp_path: Path) -> None:
    """checks reads a set (``_set``); manifest_set runs checks. The other way round is a cycle."""
    root = _copy_package(tmp_path)
    checks = root / "agentgo_cli" / "manifests" / "checks.py"
    checks.write_text(checks.read_text() + "\nfrom agentgo_cli.manifests import manifest_set\n")
    result = _lint_imports(root, "manifests-acyclic")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "checks" in result.stdout and "manifest_set" in result.stdout

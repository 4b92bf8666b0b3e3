"""The README's team runs as the README says: its Team snippet and the agents and workflow of
its Teams section, copied into a project, print the output shown there.

tests/test_docs.py checks that the snippets validate; this runs them with the installed
``agentgo`` and compares what it prints with the README's ``$ agentgo run`` block (times
and the job id aside; the workers' lines in any order, since they run at once).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_project_root import AGENTGO, CONFIG

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

README = Path(__file__).resolve().parents[2] / "README.md"
_TIMES = re.compile(r"\b\d+\.\d+s\b")
_JOB = re.compile(r"\bj-[0-9a-z]+\b")


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {name}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"(?ms)^```{lang}\n(.*?)^```", text)


def _normal(line: str) -> str:
    return _JOB.sub("j-…", _TIMES.sub("…s", line))


def test_the_readme_team_runs_as_shown(tmp_path: Path) -> None:
    team = next(b for b in _blocks(_section("Manifests"), "yaml") if "kind: Team" in b)
    teams = _section("Teams")
    project = next(b for b in _blocks(teams, "yaml") if "kind: Workflow" in b)
    shown = next(b for b in _blocks(teams, "text") if b.startswith("$ agentgo run "))
    command, *printed = shown.splitlines()
    (tmp_path / "agentgo.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "newsroom.yaml").write_text(team + "---\n" + project, "utf-8")
    result = subprocess.run(
        [str(AGENTGO), *command.split()[2:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = [line for line in printed if not line.startswith(("✓", "✗", "job "))]
    assert result.stdout.splitlines() == outputs
    progress = [_normal(line) for line in printed if line not in outputs]
    assert sorted(_normal(line) for line in result.stderr.splitlines()) == sorted(progress)

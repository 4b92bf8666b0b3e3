"""The README's team runs as the README says: its Team snippet and the agents and workflow of
its Teams section, copied into a project, print the output shown there.

tests/test_docs.py checks that the snippets validate; this runs them with the installed
``agentgo`` and compares what it prints with the README's ``$ agentgo run`` block (times
and the job id aside; the workers' lines, and the rounds they name, in any order, since
they run at once).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_project_root import AGENTGO, CONFIG, agentgo

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

README = Path(__file__).resolve().parents[2] / "README.md"
_TIMES = re.compile(r"\b\d+\.\d+s\b")
_JOB = re.compile(r"\bj-[0-9a-z]+\b")
_ROUND = re.compile(r"\bround \d+")
_ROUND_N = re.compile(r"\bround (\d+)")


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {name}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"(?ms)^```{lang}\n(.*?)^```", text)


def _normal(line: str) -> str:
    return _ROUND.sub("round …", _JOB.sub("j-…", _TIMES.sub("…s", line)))


def _rounds(lines: list[str]) -> list[str]:
    """The round numbers the lines name: the same ones, whichever worker's turn began first."""
    return sorted(n for line in lines for n in _ROUND_N.findall(line))


def test_the_readme_team_runs_as_shown(tmp_path: Path) -> None:
    team = next(b for b in _blocks(_section("Manifests"), "yaml") if "kind: Team" in b)
    teams = _section("Teams")
    project = next(b for b in _blocks(teams, "yaml") if "kind: Workflow" in b)
    shown = next(b for b in _blocks(teams, "text") if b.startswith("$ agentgo run "))
    command, *printed = shown.splitlines()
    (tmp_path / "agentgo.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "newsroom.yaml").write_text(team + "---\n" + project, "utf-8")
    result = agentgo(*command.split()[2:], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = [line for line in printed if not line.startswith(("✓", "✗", "job "))]
    assert result.stdout.splitlines() == outputs
    progress = [line for line in printed if line not in outputs]
    shown_lines = result.stderr.splitlines()
    assert sorted(map(_normal, shown_lines)) == sorted(map(_normal, progress))
    assert _rounds(shown_lines) == _rounds(progress)

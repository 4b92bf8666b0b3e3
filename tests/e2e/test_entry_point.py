"""The installed `agentgo` command, run as a real process."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

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


EXAMPLES = REPO / "manifests" / "examples"

# Each example workflow, run as its comments say: its outputs and its steps (key, kind,
# status) exactly. A team's role turns are steps of the job, keyed under the team step.
EXAMPLE_RUNS: dict[str, tuple[tuple[str, ...], dict[str, Any], list[tuple[str, str, str]]]] = {
    "team-pipeline": (
        (),
        {"story": "A battery plant opened today with 500 jobs; a second line follows next year."},
        [
            ("desk", "team", "succeeded"),
            ("desk.outliner", "role", "succeeded"),
            ("desk.drafter", "role", "succeeded"),
            ("desk.copy_editor", "role", "succeeded"),
        ],
    ),
    "team-planner-workers": (
        (),
        {"published": "Digest ready for publication."},
        [
            ("desk", "team", "succeeded"),
            ("desk.plan", "role", "succeeded"),
            ("desk[0].task", "role", "succeeded"),
            ("desk[1].task", "role", "succeeded"),
            ("desk[2].task", "role", "succeeded"),
            ("desk.merge", "role", "succeeded"),
        ],
    ),
    "team-contract-net": (
        (),
        {"translation": "Bonjour, le monde."},
        [
            ("desk", "team", "succeeded"),
            ("desk.bid_french", "role", "succeeded"),
            ("desk.bid_german", "role", "succeeded"),
            ("desk.bid_generalist", "role", "succeeded"),
            ("desk.award_french", "role", "succeeded"),
        ],
    ),
    "team-contract-net (German)": (
        ("-i", "text=Say hello in German"),
        {"translation": "Hallo, Welt."},
        [
            ("desk", "team", "succeeded"),
            ("desk.bid_french", "role", "succeeded"),
            ("desk.bid_german", "role", "succeeded"),
            ("desk.bid_generalist", "role", "succeeded"),
            ("desk.award_german", "role", "succeeded"),
        ],
    ),
    "team-swarm": (
        (),
        {"answer": "Refund issued for the duplicate charge; it shows within 5 days."},
        [
            ("desk", "team", "succeeded"),
            ("desk#1.triage", "role", "succeeded"),
            ("desk#2.billing", "role", "succeeded"),
        ],
    ),
    "team-swarm (tech)": (
        ("-i", "request=The app crashes on start."),
        {"answer": "Fixed in version 2.1.1: update the app and it starts again."},
        [
            ("desk", "team", "succeeded"),
            ("desk#1.triage", "role", "succeeded"),
            ("desk#2.tech", "role", "succeeded"),
        ],
    ),
}


def _run_example(
    tmp_path: Path, workflow: str, *extra: str
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Run an example workflow in a copy of the examples (its store is at ../../.agentgo):
    the job view and its steps as (key, kind, status)."""
    import shutil

    examples = tmp_path / "repo" / "manifests" / "examples"
    shutil.copytree(EXAMPLES, examples)
    result = run("run", workflow, "-q", "-o", "json", *extra, cwd=examples)
    assert result.returncode == 0, result.stdout + result.stderr
    job: dict[str, Any] = json.loads(result.stdout)
    shown = run("jobs", "show", job["job_id"], "-o", "json", cwd=examples)
    assert shown.returncode == 0, shown.stderr
    steps = [(s["key"], s["kind"], s["status"]) for s in json.loads(shown.stdout)["steps"]]
    return job, steps


@pytest.mark.parametrize("name", sorted(EXAMPLE_RUNS))
def test_the_team_examples_run(tmp_path: Path, name: str) -> None:
    extra, outputs, steps = EXAMPLE_RUNS[name]
    job, ran = _run_example(tmp_path, name.split(" ")[0], *extra)
    assert (job["status"], job["outputs"]) == ("succeeded", outputs)
    assert ran == steps


def test_every_example_workflow_is_run_by_a_test() -> None:
    names = {path.stem for path in (EXAMPLES / "workflows").glob("*.yaml")}
    tested = {name.split(" ")[0] for name in EXAMPLE_RUNS} | {"research-digest", "summarize-one"}
    assert names == tested


def _demo_run() -> list[str]:
    """The arguments `make demo` gives `agentgo run` (read from the Makefile's recipe)."""
    recipe = (REPO / "Makefile").read_text(encoding="utf-8").split("\ndemo:", 1)[1]
    line = next(row for row in recipe.splitlines() if " run " in row)
    return shlex.split(line.split(" run ", 1)[1])


def test_the_demo_runs_every_step_of_the_research_digest(tmp_path: Path) -> None:
    """`make demo` runs the research digest with its newsroom team: no step is skipped."""
    args = _demo_run()
    assert args[0] == "workflows/research-digest.yaml"
    job, ran = _run_example(tmp_path, *args)
    assert [key for key, _, status in ran if status == "skipped"] == []
    assert job["status"] == "succeeded"
    assert job["outputs"]["published"] == "Digest ready for publication."
    assert [key for key, kind, _ in ran if kind in ("team", "role")] == [
        "desk",
        "desk.plan",
        "desk[0].task",
        "desk[1].task",
        "desk[2].task",
        "desk.merge",
    ]


def test_summarize_one_runs(tmp_path: Path) -> None:
    job, _ = _run_example(tmp_path, "workflows/summarize-one.yaml", "--scope", "research.read")
    assert job["status"] == "succeeded"


def test_a_team_example_answers_a_call(tmp_path: Path) -> None:
    """helpdesk.yaml's comment: a team with no card is called as <team>.run."""
    import shutil

    examples = tmp_path / "repo" / "manifests" / "examples"
    shutil.copytree(EXAMPLES, examples)
    result = run("call", "helpdesk.run", "--input", "I was charged twice", cwd=examples)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Refund issued for the duplicate charge; it shows within 5 days.\n"

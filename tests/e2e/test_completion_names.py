"""Shell completion of names, as the shell asks the installed `agentgo` for them: workflow
names for run and plan, intents for call and catalog show, job ids for the jobs commands and resume.
Completion never prints a traceback and never creates a store."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, _env, agentgo
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

QUICK = """
steps:
  - id: say
    tool: echo
    with: {text: "hello"}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, QUICK, name="digest")
    workflow(write, QUICK, name="daily-report")
    workflow(write, QUICK, name="weekly")
    return write


def complete(cwd: Path, line: str) -> tuple[int, list[str], str]:
    """What bash's completion function gets for the command line ``line`` (the cursor at
    its end): (exit code, candidates, stderr)."""
    words = line.split(" ")
    env = _env() | {
        "_AGENTGO_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    done = subprocess.run(
        [str(AGENTGO)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, [w for w in done.stdout.splitlines() if w], done.stderr


def test_run_completes_the_workflow_names_of_the_profile(project: Write, workdir: Path) -> None:
    assert complete(workdir, "agentgo run d") == (0, ["daily-report", "digest"], "")
    assert complete(workdir, "agentgo run ") == (0, ["daily-report", "digest", "weekly"], "")
    assert complete(workdir, "agentgo -p p run w") == (0, ["weekly"], "")
    assert complete(workdir, "agentgo plan d") == (0, ["daily-report", "digest"], "")
    assert not (workdir / "state").exists(), "completion must not create the store"


def test_call_and_catalog_show_complete_intents(project: Write, workdir: Path) -> None:
    assert complete(workdir, "agentgo call text.") == (0, ["text.ramble", "text.summarize"], "")
    assert complete(workdir, "agentgo catalog show s") == (0, ["slow.think"], "")


@pytest.mark.parametrize(
    "command", ["jobs show", "jobs logs", "jobs cancel", "jobs trace", "jobs watch", "resume"]
)
def test_job_commands_complete_job_ids(project: Write, workdir: Path, command: str) -> None:
    assert complete(workdir, f"agentgo {command} ") == (0, [], "")  # no store: none, quietly
    assert not (workdir / "state").exists(), "completion must not create the store"
    ids = []
    for _ in range(2):
        ran = agentgo(workdir, "run", "digest", "--quiet", "-o", "json")
        ids.append(json.loads(ran.stdout)["job_id"])
        time.sleep(0.01)
    code, listed, err = complete(workdir, f"agentgo {command} ")
    assert (code, err) == (0, "")
    assert listed == ids[::-1]  # newest first
    assert complete(workdir, f"agentgo {command} {ids[0][:-1]}") == (0, [ids[0]], "")


@pytest.mark.parametrize(
    "line", ["agentgo run ", "agentgo call ", "agentgo jobs show ", "agentgo resume j-"]
)
def test_completion_with_a_broken_config_offers_nothing_and_says_nothing(
    write: Write, workdir: Path, line: str
) -> None:
    write("agentgo.yaml", "profile: [not, a, name\n")
    assert complete(workdir, line) == (0, [], "")
    write("agentgo.yaml", "profile: missing\nprofiles: {p: {manifests: [./nowhere]}}\n")
    assert complete(workdir, line) == (0, [], "")


def test_serve_and_its_options_complete(workdir: Path) -> None:
    """The checked-in scripts ask the command itself, so `serve` completes like the rest."""
    assert complete(workdir, "agentgo se") == (0, ["serve"], "")
    code, options, err = complete(workdir, "agentgo serve --")
    assert (code, err) == (0, "")
    assert {"--host", "--port", "--workers", "--log-level"} <= set(options)

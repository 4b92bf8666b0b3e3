"""The installed `agentgo` against python tools that try to end, crash or hang the process:
the worker survives them, fails their jobs and goes on serving the others."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, agentgo, show
from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

POISON = "tests.tools.poison_tools"
TOOLS = {
    "exit": f'{{type: python, entrypoint: "{POISON}:exit_3"}}',
    "hard-exit": f'{{type: python, entrypoint: "{POISON}:hard_exit", isolation: process}}',
    "recurse": f'{{type: python, entrypoint: "{POISON}:recurse"}}',
    "segfault": f'{{type: python, entrypoint: "{POISON}:segfault", isolation: process}}',
}
ERRORS = {
    "exit": "tool 'exit' tried to exit the process (SystemExit 3)",
    "hard-exit": "tool 'hard-exit': its process exited with status 7 before answering",
    "recurse": "tool 'recurse' raised RecursionError: maximum recursion depth exceeded",
    "segfault": "tool 'segfault': its process was killed by signal SIGSEGV before answering",
}
GOOD = """
steps:
  - id: count
    tool: echo
    with: {text: "still serving"}
outputs:
  words: ${{ steps.count.output.words }}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write(
        "m/poison.yaml",
        "---\n".join(
            f"apiVersion: agentgo/v1\nkind: Tool\nmetadata: {{name: {name}}}\n"
            f"spec:\n  runtime: {runtime}\n"
            for name, runtime in TOOLS.items()
        ),
    )
    for name in TOOLS:
        workflow(write, f"steps:\n  - id: poisoned\n    tool: {name}\n", name=f"p-{name}")
    workflow(write, GOOD, name="good")
    return write


def test_the_worker_survives_poisoned_tools_and_serves_the_next_job(
    project: Write, workdir: Path
) -> None:
    poisoned = {name: seed_job(f"p-{name}", {}, status="queued") for name in TOOLS}
    good = seed_job("good", {}, status="queued")  # queued after them: runs after them

    result = agentgo(workdir, "worker", "--once", "--concurrency", "1", "--poll", "0.05")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines()[-1] == "worker ran 5 jobs"  # after a line per job
    for name, job_id in poisoned.items():
        job = show(workdir, job_id)
        error = job["steps"][0]["error"]
        assert error.startswith(ERRORS[name]), error
        assert (job["status"], job["error"]) == ("failed", f"step 'poisoned' failed: {error}")
    done = show(workdir, good)
    assert (done["status"], done["outputs"]) == ("succeeded", {"words": 2})


def test_run_reports_a_tool_that_tried_to_exit(project: Write, workdir: Path) -> None:
    result = agentgo(workdir, "run", "p-exit", "--quiet")
    error = f"step 'poisoned' failed: {ERRORS['exit']}"
    assert (result.returncode, result.stdout) == (1, "")
    assert re.fullmatch(
        rf"job \S+ failed in \d+\.\d\ds, 0 tokens: {re.escape(error)}\n", result.stderr
    )

"""What the benchmark scripts share: finding the installed command, a clean environment,
the engine benchmarks' pipeline manifests, and LangGraph's own environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def find_agentgo(script: str) -> Path:
    """The installed entry point: the project's .venv first, then next to this Python."""
    for candidate in (
        REPO / ".venv" / "bin" / "agentgo",
        Path(sys.executable).parent / "agentgo",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("agentgo")
    if found is None:
        sys.exit(f"bench/{script}: cannot find the agentgo command; run `make` first")
    return Path(found)


def clean_env(home: Path) -> dict[str, str]:
    """The environment for child processes: no AGENTGO_* settings, an empty config home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "100"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# -- the engine benchmarks' pipeline (engine_throughput.py, concurrent_jobs.py) --------------

PIPELINE = "pipeline"
"""The name of the benchmark Workflow written by ``write_pipeline``."""


def pipeline_reply(i: int) -> str:
    """What the scripted agent of step ``i`` (1-based) answers; LangGraph's node i too."""
    return f"stage {i} done"


def write_pipeline(folder: Path, *, steps: int, latency: str | None = None) -> Path:
    """Write the benchmark manifests into ``folder`` and return it.

    One scripted Agent per step (``stage-1`` … ``stage-N``, each replying a short text,
    with ``latency`` per model turn if given) and the Workflow ``pipeline``: N sequential
    agent steps ``s1`` … ``sN``; the prompt of each step after the first reads the previous
    step's output through ``${{ steps.<prev>.output }}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    agents = []
    for i in range(1, steps + 1):
        lines = [
            "apiVersion: agentgo/v1",
            "kind: Agent",
            "metadata:",
            f"  name: stage-{i}",
            "spec:",
            "  model: scripted:bench",
            "  script:",
            f'    - reply: "{pipeline_reply(i)}"',
        ]
        if latency:
            lines.append(f"  latency: {latency}")
        agents.append("\n".join(lines) + "\n")
    (folder / "agents.yaml").write_text("---\n".join(agents), encoding="utf-8")
    body = [
        "apiVersion: agentgo/v1",
        "kind: Workflow",
        "metadata:",
        f"  name: {PIPELINE}",
        "spec:",
        "  inputs:",
        "    topic: {type: string, default: bench}",
        "  steps:",
    ]
    for i in range(1, steps + 1):
        source = "inputs.topic" if i == 1 else f"steps.s{i - 1}.output"
        body += [f"    - id: s{i}", f"      agent: stage-{i}"]
        body.append(f'      prompt: "Go on from: ${{{{ {source} }}}}"')
    body += ["  outputs:", f"    result: ${{{{ steps.s{steps}.output }}}}"]
    (folder / "workflow.yaml").write_text("\n".join(body) + "\n", encoding="utf-8")
    return folder


# -- LangGraph, in its own environment, never the project's ------------------------------------

LANGGRAPH_VENV = REPO / "bench" / ".venv-langgraph"
LANGGRAPH_PACKAGES = ("langgraph", "langgraph-checkpoint-sqlite", "aiosqlite")
LANGGRAPH_PEER = REPO / "bench" / "_langgraph_peer.py"
_LANGGRAPH_IMPORTS = "import aiosqlite, langgraph.graph, langgraph.checkpoint.sqlite.aio"


def langgraph_python(venv: Path = LANGGRAPH_VENV) -> tuple[Path | None, str]:
    """The Python of the LangGraph environment, set up on first use: (path, "") or (None, why).

    The environment is ``bench/.venv-langgraph`` (git ignores it). When LangGraph does not
    import there, it is created with ``python -m venv`` and LangGraph is installed with pip:
    the only network access of the benchmarks. LangGraph never enters the project's own
    environment.
    """
    python = venv / "bin" / "python"

    def importable() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-I", "-c", _LANGGRAPH_IMPORTS],
            capture_output=True,
            text=True,
            check=False,
        )

    if python.is_file() and importable().returncode == 0:
        return python, ""
    where = venv.relative_to(REPO) if venv.is_relative_to(REPO) else venv
    print(f"setting up {where}: pip install {' '.join(LANGGRAPH_PACKAGES)} (once) ...")
    sys.stdout.flush()
    steps = []
    if not python.is_file():
        steps.append([sys.executable, "-m", "venv", str(venv)])
    steps.append(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *LANGGRAPH_PACKAGES,
        ]
    )
    for command in steps:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`{' '.join(command[:4])} ...` failed: {exc}"
        if done.returncode != 0:
            lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if "ERROR" in ln] or lines
            why = "\n    ".join(errors[-5:]) or "(no output)"
            return None, f"`{' '.join(command[:4])} ...` exited {done.returncode}:\n    {why}"
    check = importable()
    if check.returncode != 0:
        last = check.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return None, f"LangGraph was installed but does not import: {last[0]}"
    return python, ""


def run_langgraph_peer(
    python: Path, mode: str, args: list[str], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """Run bench/_langgraph_peer.py with LangGraph's Python: (its JSON answer, "") or
    (None, why). ``-I`` keeps the project's environment variables and paths out of it."""
    command = [str(python), "-I", str(LANGGRAPH_PEER), mode, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"the LangGraph run did not finish within {timeout:.0f} s"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n    ".join(done.stderr.strip().splitlines()[-8:]) or "(no output)"
        return None, f"the LangGraph run exited {done.returncode}:\n    {tail}"
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer, ""


def langgraph_versions(answer: dict[str, Any]) -> str:
    """'langgraph 1.2.3 (langgraph-checkpoint-sqlite 3.1.2, aiosqlite 0.22.1, Python 3.11.7)'."""
    found = answer.get("versions", {})
    return (
        f"langgraph {found.get('langgraph', '?')} (langgraph-checkpoint-sqlite "
        f"{found.get('langgraph-checkpoint-sqlite', '?')}, langgraph-checkpoint "
        f"{found.get('langgraph-checkpoint', '?')}, aiosqlite {found.get('aiosqlite', '?')}, "
        f"Python {found.get('python', '?')})"
    )


def machine_check(folder: Path) -> str:
    """'loop 54 ms, fsync 0.30 ms': the speed of the CPU and of the disk under ``folder``
    right now (both drift on a small VM; lower is faster)."""
    return f"loop {cpu_check():.0f} ms, fsync {fsync_check(folder):.2f} ms"


def fsync_check(folder: Path, rounds: int = 20) -> float:
    """Milliseconds one fsync of a 4 KiB append takes in ``folder`` (median of ``rounds``)."""
    path = folder / ".fsync-check"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(rounds):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return sorted(times)[len(times) // 2]


def cpu_check(rounds: int = 3) -> float:
    """Milliseconds a fixed pure-Python loop takes (median of ``rounds``): printed next to
    the figures, because a small VM's speed drifts from minute to minute."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]

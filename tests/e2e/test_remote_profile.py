"""The installed `agentgo` through a remote profile prints what it prints locally.

Two copies of one project: one run here (its profile has a store), the other served by
`agentgo serve`, a real child process on a loopback port, with a default profile that has
`server:` and `token:`. The same commands run in each (run with its progress, jobs list,
show, logs, trace, cancel and resume, catalog list and show, call, validate, plan, models
list, and a few mistakes), and each output and exit code must be the same but for job ids
and times.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, DIGEST, SLOW, _env, agentgo
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.remote import TOKEN_ENV, served_project

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

_JOB_ID = re.compile(r"\bj-[0-9a-z]{8,}\b")
_TIMES = [
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "TIME"),
    (re.compile(r"\b\d+\.\d+s\b"), "N.Ns"),  # 0.05s
    (re.compile(r"\b\d+ms\b"), "Nms"),  # 53ms
    (re.compile(r'"(created_at|updated_at|duration_s)": [0-9.eE+-]+'), r'"\1": N'),
    (re.compile(r"^(J\d+ .*?) +\d+\.\d+$", re.MULTILINE), r"\1 N"),  # jobs list's SECONDS
]


@dataclass(frozen=True)
class Output:
    """One command as the user saw it, job ids and times normalised."""

    command: str
    code: int
    stdout: str
    stderr: str


def _normalise(outputs: list[tuple[str, int, str, str]], root: Path) -> list[Output]:
    """Job ids become J1, J2, … in order of first appearance; times and durations N; the
    project's folder ROOT."""
    ids: dict[str, str] = {}

    def job(m: re.Match[str]) -> str:
        return ids.setdefault(m.group(0), f"J{len(ids) + 1}")

    def norm(text: str) -> str:
        text = _JOB_ID.sub(job, text.replace(str(root), "ROOT"))
        for pattern, replacement in _TIMES:
            text = pattern.sub(replacement, text)
        return text

    return [Output(norm(c), code, norm(out), norm(err)) for c, code, out, err in outputs]


def _project(root: Path) -> None:
    root.mkdir(parents=True)

    def write(rel: str, text: str) -> Path:
        import textwrap

        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, DIGEST, name="digest")
    workflow(write, SLOW, name="slow")
    write("inputs.yaml", "topic: batteries\n")
    write("broken/wf.yaml", "kind: Workflow\napiVersion: agentgo/v1\nmetadata: {name: bad}\n")


def _session(root: Path) -> list[Output]:
    """Every command of the comparison, in order, in the project at ``root``."""
    seen: list[tuple[str, int, str, str]] = []

    def do(*args: str, cwd: str = ".") -> subprocess.CompletedProcess[str]:
        done = agentgo(root / cwd, *args)
        seen.append((f"({cwd}) {' '.join(args)}", done.returncode, done.stdout, done.stderr))
        return done

    do("validate")
    do("validate", "m/digest.yaml", "nope.yaml")
    do("plan", "digest", "-i", "topic=chips")
    ran = do("run", "digest")  # with its progress on stderr
    job = _JOB_ID.findall(ran.stderr)[-1]
    do("run", "m/digest.yaml", "--input-file", "inputs.yaml", "-q", "-o", "json")
    do("jobs", "list")
    do("jobs", "show", job)
    do("jobs", "logs", job)
    do("jobs", "trace", job)
    queued = do("run", "slow", "--detach").stdout.strip()
    do("jobs", "cancel", queued)
    do("jobs", "cancel", queued)  # ended already: a usage error
    stopped = do("run", "digest", "--detach").stdout.strip()
    do("resume", stopped)
    do("jobs", "list", "--status", "cancelled", "-o", "json")
    do("catalog", "list")
    do("catalog", "show", "text.summarize")
    do("call", "text.summarize", "-i", "topic=chips")
    do("call", "text.summarize", "-i", "nope=1")  # invalid input: exit 5
    do("models", "list")
    do("jobs", "show", "j-00000000nope")
    do("run", "nope")
    # Files named from a subfolder, and in errors: as this shell names them.
    do("validate", cwd="m")
    do("plan", "digest", cwd="m")
    do("run", "broken/wf.yaml")
    do("run", "../broken/wf.yaml", cwd="m")
    do("validate", "../broken", cwd="m")
    return _normalise(seen, root)


def test_every_command_prints_through_a_remote_profile_what_it_prints_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _project(tmp_path / "here")
    shutil.copytree(tmp_path / "here", tmp_path / "served")
    monkeypatch.setenv(TOKEN_ENV, secrets.token_urlsafe(24))
    with (
        served_project(AGENTGO, tmp_path / "served", _env()) as server,
        ThreadPoolExecutor(1) as pool,
    ):
        here = pool.submit(_session, tmp_path / "here")  # at the same time: two cores
        remote = _session(tmp_path / "served")
        local = here.result()
        assert server.proc.poll() is None  # it served them all
        # They went to the server: with a token it does not know, it refuses them.
        monkeypatch.setenv(TOKEN_ENV, "not-the-token-" + secrets.token_urlsafe(8))
        refused = agentgo(tmp_path / "served", "jobs", "list")
    assert (refused.returncode, refused.stderr) == (
        4,
        "error: this token is not known to the server\n",
    )
    assert [o.command for o in remote] == [o.command for o in local]
    for there, here_ in zip(remote, local, strict=True):
        assert there == here_, here_.command
    codes = {o.command: o.code for o in local}
    assert (codes["(.) run digest"], codes["(.) call text.summarize -i nope=1"]) == (0, 5)
    assert not (tmp_path / "here" / "agentgo.yaml").read_text().count("server:")

"""The loader and the filesystem: only regular files are read, with a size cap, and what
cannot be read (a FIFO, a device, a socket, an unreadable folder, a symlink loop) is a
located error instead of a hang, an exhausted memory or a silent skip."""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from agentgo_cli.manifests.loader import MAX_FILE_BYTES, load_paths
from agentgo_cli.manifests.manifest_set import load_set
from tests.helpers import error_lines

Write = Callable[[str, str], Path]

AGENT = """\
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec:
  model: scripted:demo
"""

pytestmark = pytest.mark.timeout(20)  # before the fix, a FIFO hung the loader for ever


@pytest.fixture
def agent(write: Write) -> Path:
    return write("m/agent.yaml", AGENT)


def _lines(*paths: str | Path) -> tuple[list[str], list[str]]:
    mset = load_set(list(paths))
    return error_lines(mset), mset.files


def test_a_fifo_in_a_folder_is_reported_not_opened(agent: Path, workdir: Path) -> None:
    os.mkfifo(workdir / "m" / "pipe.yaml")
    assert _lines("m") == (
        ["m/pipe.yaml:1:1: not a regular file (a FIFO)"],
        ["m/agent.yaml"],
    )


def test_a_fifo_named_on_the_command_line(workdir: Path) -> None:
    os.mkfifo(workdir / "pipe.yaml")
    assert _lines("pipe.yaml") == (["pipe.yaml:1:1: not a regular file (a FIFO)"], [])


def test_a_symlink_to_a_device_is_not_read(agent: Path, workdir: Path) -> None:
    os.symlink("/dev/zero", workdir / "m" / "zero.yaml")
    assert _lines("m") == (
        ["m/zero.yaml:1:1: not a regular file (a character device)"],
        ["m/agent.yaml"],
    )


def test_a_socket_is_reported(agent: Path, workdir: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("m/sock.yaml")
        assert _lines("m") == (
            ["m/sock.yaml:1:1: not a regular file (a socket)"],
            ["m/agent.yaml"],
        )


def test_a_file_over_the_size_cap_is_refused_without_reading_it(workdir: Path) -> None:
    big = workdir / "m" / "big.yaml"
    big.parent.mkdir()
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space, and NUL bytes if it were read
    assert MAX_FILE_BYTES == 4 * 1024 * 1024
    assert _lines("m") == (
        ["m/big.yaml:1:1: too large: 4194305 bytes, more than the 4 MiB a manifest file may have"],
        [],
    )


def test_a_file_of_exactly_the_cap_is_read(workdir: Path) -> None:
    path = workdir / "m" / "agent.yaml"
    path.parent.mkdir()
    padding = MAX_FILE_BYTES - len(AGENT) - 1
    path.write_text(AGENT + "#" * padding + "\n", encoding="utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert _lines("m") == ([], ["m/agent.yaml"])


@pytest.fixture
def unreadable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """m/secret, a folder this process cannot list.

    chmod 000 does that for an ordinary user; root reads through any mode, so there the
    listing itself is made to fail as it would (EACCES from scandir).
    """
    secret = workdir / "m" / "secret"
    secret.mkdir(parents=True)
    (secret / "hidden.yaml").write_text(AGENT, encoding="utf-8")
    if os.geteuid() != 0:
        secret.chmod(0)
        yield secret
        secret.chmod(0o755)
        return
    print("running as root: EACCES on m/secret is simulated, chmod 000 stops no reads")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if os.path.realpath(os.fsdecode(path)) == str(secret.resolve()):  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    yield secret


def test_an_unreadable_folder_is_an_error_not_a_skip(
    agent: Path, unreadable: Path, workdir: Path
) -> None:
    assert _lines("m") == (["m/secret:1:1: cannot read: Permission denied"], ["m/agent.yaml"])


def test_validate_fails_on_an_unreadable_folder(agent: Path, unreadable: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "m"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "m/secret:1:1: cannot read: Permission denied"


def test_validate_fails_on_a_fifo(agent: Path, workdir: Path) -> None:
    os.mkfifo(workdir / "m" / "pipe.yaml")
    result = CliRunner().invoke(app, ["validate", "m"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "m/pipe.yaml:1:1: not a regular file (a FIFO)",
        "invalid: 1 file, 1 Agent; 1 error",
    ]


def test_a_symlink_loop_is_an_error(agent: Path, workdir: Path) -> None:
    os.symlink("loop.yaml", workdir / "m" / "loop.yaml")
    os.symlink("ping.yaml", workdir / "m" / "pong.yaml")
    os.symlink("pong.yaml", workdir / "m" / "ping.yaml")
    loop = os.strerror(errno.ELOOP)
    assert _lines("m") == (
        [
            f"m/loop.yaml:1:1: cannot read: {loop}",
            f"m/ping.yaml:1:1: cannot read: {loop}",
            f"m/pong.yaml:1:1: cannot read: {loop}",
        ],
        ["m/agent.yaml"],
    )


def test_a_folder_link_back_up_does_not_loop(agent: Path, workdir: Path) -> None:
    (workdir / "m" / "sub").mkdir()
    os.symlink("..", workdir / "m" / "sub" / "up")
    os.symlink(workdir / "m", workdir / "m" / "sub" / "again.yaml")
    assert _lines("m") == ([], ["m/agent.yaml"])


def test_symlinks_to_regular_files_are_read(agent: Path, workdir: Path, write: Write) -> None:
    other = write("elsewhere/tool.yaml", AGENT.replace("writer", "editor"))
    os.symlink(other, workdir / "m" / "editor.yaml")
    assert _lines("m") == ([], ["m/agent.yaml", "m/editor.yaml"])


def test_load_paths_reports_without_raising(workdir: Path) -> None:
    os.mkfifo(workdir / "pipe.yaml")
    result = load_paths(["pipe.yaml"])
    assert [(e.file, e.line, e.col, e.code) for e in result.errors] == [("pipe.yaml", 1, 1, "io")]
    assert result.files == []


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="FIFOs, sockets and /dev/zero as on Linux")

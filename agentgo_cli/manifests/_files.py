"""Reading manifest files without trusting the filesystem.

Only regular files are opened (after following symlinks): a FIFO would block the reader for
ever and a device such as /dev/zero never ends. A file larger than ``MAX_FILE_BYTES`` is
refused before it is read. Failures come back as ``Unreadable`` with the user's wording.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "Unreadable", "read_regular", "unreadable"]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest manifest file read: far above any hand-written set, far below a memory problem."""

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC


class Unreadable(Exception):
    """Why a manifest file or folder was not read, as the user reads it after its path."""


def unreadable(exc: OSError) -> Unreadable:
    """The error an OSError of opening, reading or listing becomes."""
    return Unreadable(f"cannot read: {exc.strerror or exc}")


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; Unreadable otherwise."""
    try:
        info = os.stat(path)
        _check(info, limit)
        fd = os.open(path, _OPEN_FLAGS)  # non-blocking: a FIFO swapped in since is not waited on
    except OSError as exc:
        raise unreadable(exc) from None
    try:
        with os.fdopen(fd, "rb") as file:
            _check(os.fstat(file.fileno()), limit)
            data = file.read(limit + 1)
    except OSError as exc:
        raise unreadable(exc) from None
    if len(data) > limit:  # it grew since it was looked at
        raise Unreadable(_too_large(len(data), limit))
    return data


def _check(info: os.stat_result, limit: int) -> None:
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")
        raise Unreadable(f"not a regular file ({kind})")
    if info.st_size > limit:
        raise Unreadable(_too_large(info.st_size, limit))


def _too_large(size: int, limit: int) -> str:
    cap = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
    return f"too large: {size} bytes, more than the {cap} a manifest file may have"

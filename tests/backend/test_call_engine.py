"""A long-lived LocalBackend (``agentgo serve``) answers calls with the engine it made of
the profile's manifests while no file of them changed, and loads them again as soon as one
is edited, added or removed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import CallRequest
from agentgo_cli.errors import CallError, ManifestSetError
from agentgo_cli.manifests.loader import SETTLE_NS, files_stamp

Write = Callable[[str, str], Path]

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
"""


def _card(name: str, reply: str) -> str:
    """An intent ``demo.<name>`` whose scripted agent replies ``reply``."""
    return f"""
apiVersion: agentgo/v1
kind: Agent
metadata: {{name: {name}-agent}}
spec:
  model: scripted:test
  script:
    - reply: "{reply}"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {{name: {name}-card}}
spec:
  target: agent:{name}-agent
  intents:
    - name: demo.{name}
      version: 1.0.0
      prompt: "Answer."
"""


def _age(folder: Path, seconds: float = 60) -> None:
    """Set the files' modification times back, as for files written a while ago."""
    past = time.time() - seconds
    for file in folder.rglob("*.yaml"):
        os.utime(file, (past, past))


async def _answer(backend: LocalBackend, name: str = "greet") -> object:
    return (await backend.call(CallRequest(intent=f"demo.{name}", input={}))).output


@pytest.fixture
def project(write: Write, workdir: Path) -> Path:
    write("agentgo.yaml", CONFIG)
    write("m/greet.yaml", _card("greet", "hello"))
    _age(workdir / "m")
    return workdir / "m"


async def test_calls_keep_the_engine_while_no_file_changed(
    project: Path, backend: LocalBackend
) -> None:
    assert await _answer(backend) == "hello"
    _, first = await backend.profile_engine()
    assert await _answer(backend) == "hello"
    _, second = await backend.profile_engine()
    assert second is first


async def test_an_edited_file_is_read_at_the_next_call(
    project: Path, backend: LocalBackend
) -> None:
    assert await _answer(backend) == "hello"
    (project / "greet.yaml").write_text(_card("greet", "howdy"), encoding="utf-8")
    assert await _answer(backend) == "howdy"  # just written: not trusted to its stamp
    # The same size, its modification time set back: the change time still tells.
    (project / "greet.yaml").write_text(_card("greet", "hallo"), encoding="utf-8")
    _age(project, 30)
    assert await _answer(backend) == "hallo"


async def test_added_and_removed_files_are_seen(project: Path, backend: LocalBackend) -> None:
    assert await _answer(backend) == "hello"
    (project / "more").mkdir()
    (project / "more" / "bye.yaml").write_text(_card("bye", "so long"), encoding="utf-8")
    _age(project)
    assert await _answer(backend, "bye") == "so long"
    (project / "more" / "bye.yaml").unlink()
    with pytest.raises(CallError, match="no intent 'demo.bye' in the catalog"):
        await _answer(backend, "bye")
    assert await _answer(backend) == "hello"


async def test_a_broken_edit_is_refused_until_mended(project: Path, backend: LocalBackend) -> None:
    assert await _answer(backend) == "hello"
    (project / "greet.yaml").write_text("kind: [\n", encoding="utf-8")
    _age(project)
    for _ in range(2):  # refused each time, not answered by the engine made before
        with pytest.raises(ManifestSetError):
            await _answer(backend)
    (project / "greet.yaml").write_text(_card("greet", "back"), encoding="utf-8")
    _age(project, 10)
    assert await _answer(backend) == "back"


def test_a_stamp_is_withheld_while_a_file_is_fresh(project: Path) -> None:
    aged = files_stamp([project])
    assert aged is not None and aged == files_stamp([project])
    assert files_stamp([project / "nothing-here.yaml"]) == (
        (str(project / "nothing-here.yaml"), None),
    )
    (project / "new.yaml").write_text("{}", encoding="utf-8")
    assert files_stamp([project]) is None
    recent = time.time_ns() - SETTLE_NS // 2
    os.utime(project / "new.yaml", ns=(recent, recent))
    assert files_stamp([project]) is None
    _age(project, 5)
    assert files_stamp([project]) not in (None, aged)

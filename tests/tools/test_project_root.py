"""Python tools import from their project's root, with no PYTHONPATH, in process and isolated.

The root is the folder of the project's agentgo.yaml (found upwards from the working folder),
else the folder of the manifest that declares the tool. Two projects in one process each get
their own module of the same name, whatever ran before.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentgo_cli.errors import StepError
from agentgo_cli.tools import ToolContext, ToolRegistry
from tests.tools.test_registry import load_tools

CTX = ToolContext(job_id="job-1", step_id="s", attempt=1, idempotency_key="job-1:s")

TOOLS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: lookup}
spec:
  runtime: {type: python, entrypoint: "crm:lookup"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: lookup-isolated}
spec:
  runtime: {type: python, entrypoint: "crm:lookup", isolation: process}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: helper}
spec:
  runtime: {type: python, entrypoint: "crmpkg.calls:who"}
"""


@pytest.fixture(autouse=True)
def _forget_project_modules() -> Iterator[None]:
    """Leave sys.path and sys.modules as they were: the modules written here are throwaway."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    for name in [n for n in sys.modules if n.split(".")[0] in ("crm", "crmpkg", "crmhelper")]:
        del sys.modules[name]


def _project(folder: Path, answer: str) -> Path:
    """A project folder with crm.py, a crmpkg package and the tools' manifest; its path."""
    folder.mkdir(parents=True)
    (folder / "crm.py").write_text(f"def lookup():\n    return {answer!r}\n")
    (folder / "crmpkg").mkdir()
    (folder / "crmpkg" / "__init__.py").write_text("")
    (folder / "crmpkg" / "calls.py").write_text(
        textwrap.dedent(
            """
            def who():
                import crmhelper  # imported at call time: the root stays on the path
                return "helper " + crmhelper.NAME
            """
        )
    )
    (folder / "crmhelper.py").write_text(f"NAME = {answer!r}\n")
    manifest = folder / "tools.yaml"
    manifest.write_text(TOOLS)
    return manifest


def _registry(manifest: Path) -> ToolRegistry:
    tools = load_tools(TOOLS)
    return ToolRegistry(tools, files=dict.fromkeys(tools, str(manifest)))


async def test_a_tool_beside_its_manifest_imports_without_pythonpath(workdir: Path) -> None:
    registry = _registry(_project(workdir / "a", "from a"))
    assert await registry.call("lookup", {}, CTX) == "from a"
    assert await registry.call("lookup-isolated", {}, CTX) == "from a"
    assert await registry.call("helper", {}, CTX) == "helper from a"


async def test_two_projects_in_one_process_each_get_their_own_module(workdir: Path) -> None:
    a = _project(workdir / "a", "from a")
    b = _project(workdir / "b", "from b")
    assert await _registry(a).call("lookup", {}, CTX) == "from a"
    assert await _registry(b).call("lookup", {}, CTX) == "from b"
    assert await _registry(b).call("helper", {}, CTX) == "helper from b"
    assert await _registry(a).call("lookup-isolated", {}, CTX) == "from a"
    assert await _registry(a).call("lookup", {}, CTX) == "from a"
    assert await _registry(a).call("helper", {}, CTX) == "helper from a"
    assert await _registry(b).call("lookup-isolated", {}, CTX) == "from b"


async def test_the_folder_of_agentgo_yaml_is_the_root(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "agentgo.yaml").write_text("profiles: {}\n")
    (workdir / "crm.py").write_text("def lookup():\n    return 'project'\n")
    (workdir / "m").mkdir()
    manifest = workdir / "m" / "tools.yaml"
    manifest.write_text(TOOLS)
    (workdir / "jobs").mkdir()
    monkeypatch.chdir(workdir / "jobs")
    registry = _registry(manifest)
    assert await registry.call("lookup", {}, CTX) == "project"
    assert await registry.call("lookup-isolated", {}, CTX) == "project"


async def test_a_module_missing_at_run_time_says_where_it_was_looked_for(workdir: Path) -> None:
    manifest = workdir / "tools.yaml"
    manifest.write_text(TOOLS)
    registry = _registry(manifest)
    for name in ("lookup", "lookup-isolated"):
        with pytest.raises(StepError) as exc:
            await registry.call(name, {}, CTX)
        assert str(exc.value) == (
            f"tool '{name}': cannot import entrypoint 'crm:lookup': ModuleNotFoundError: No "
            f"module named 'crm' (looked in the project root {workdir} and on the Python path)"
        )

"""Check that each python tool's entrypoint imports, for ``agentgo validate``.

The imports happen in a child process (the one the isolated runtime uses), so a module's
top-level code runs there: whatever it does (raise, exit, hang) cannot harm validate, and no
user module stays behind in this process. A problem is a ManifestError at the manifest's
``entrypoint:``, worded with the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agentgo_cli.manifests.models.tool import PythonRuntime, ToolManifest
from agentgo_cli.tools.isolation import check_imports

if TYPE_CHECKING:
    from agentgo_cli.errors import ManifestError
    from agentgo_cli.manifests.manifest_set import Entry, ManifestSet

__all__ = ["check_entrypoints"]

_AT = ("spec", "runtime", "entrypoint")


async def check_entrypoints(mset: ManifestSet, config: Path | None) -> list[ManifestError]:
    """An error for each python tool of the set whose entrypoint does not import or names no
    function; ``config`` is the active config file (its folder is the project root)."""
    from agentgo_cli.config import project_root

    by_root: dict[Path, list[tuple[Entry, str]]] = {}
    for entry in mset.of_kind("Tool").values():
        manifest = entry.manifest
        if isinstance(manifest, ToolManifest) and isinstance(manifest.spec.runtime, PythonRuntime):
            root = project_root(config, entry.doc.file)
            assert root is not None  # a manifest always has a file
            by_root.setdefault(root, []).append((entry, manifest.spec.runtime.entrypoint))
    errors: list[ManifestError] = []
    for root, tools in by_root.items():
        beside = config.name if config is not None and project_root(config, None) == root else None
        place = f"the project root {root} " + (
            f"(the folder of {beside})" if beside else "(the folder of the manifest)"
        )
        entrypoints = list(dict.fromkeys(entrypoint for _, entrypoint in tools))
        problems = await _problems(entrypoints, str(root), place)
        for entry, entrypoint in tools:
            problem = problems.get(entrypoint)
            if problem is not None:
                errors.append(entry.doc.error(_AT, problem, "entrypoint"))
    return errors


async def _problems(entrypoints: list[str], root: str, place: str) -> dict[str, str]:
    """Entrypoint → problem for those that fail; a child that dies or hangs while importing
    one blames that one, and a new child checks the rest."""
    problems: dict[str, str] = {}
    todo = list(entrypoints)
    while todo:
        answers, ended = await check_imports(todo, root, place)
        for entrypoint, problem in answers:
            if problem is not None:
                problems[entrypoint] = problem
        todo = todo[len(answers) :]
        if todo:
            module = todo[0].partition(":")[0]
            problems[todo[0]] = f"cannot import '{todo[0]}': importing '{module}' {ended}"
            todo = todo[1:]
    return problems

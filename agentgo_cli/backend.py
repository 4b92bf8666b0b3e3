"""The Backend protocol every command talks to, and the local implementation.

Commands parse arguments, call one Backend method and render the answer; they never touch
manifests, the store or the engine directly. ``LocalBackend`` does the work in process; a
``RemoteBackend`` (later) sends the same calls to ``agentgo serve``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agentgo_cli.errors import UsageError

if TYPE_CHECKING:
    from agentgo_cli.manifests.manifest_set import ManifestSet

__all__ = ["Backend", "LocalBackend"]


class Backend(Protocol):
    """What every command can ask for."""

    def validate(self, paths: Sequence[str]) -> ManifestSet:
        """Load, validate and cross-check a manifest set."""
        ...


class LocalBackend:
    """Does the work in this process."""

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile

    def validate(self, paths: Sequence[str]) -> ManifestSet:
        from agentgo_cli.config import load_config
        from agentgo_cli.manifests.manifest_set import load_set

        config = load_config(self.profile)
        # The manifest set is what was named plus the active profile's manifests (spec).
        targets: list[str | Path] = [*paths, *config.manifest_paths()]
        if not targets:
            raise UsageError(
                "nothing to validate: name files or folders, or list them under 'manifests:' "
                "in the active profile of agentgo.yaml"
            )
        mset = load_set(targets, config=config.data)
        if config.path is not None and config.errors:
            mset.errors.extend(config.errors)
            mset.config_files.append(str(config.path))
        return mset

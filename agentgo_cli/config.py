"""Find and read agentgo.yaml, pick the active profile, and resolve secret references.

agentgo.yaml is looked for in the working folder and then in each folder above it; its
relative paths (a sqlite store, ``manifests:``) are relative to its own folder, so every
subfolder of a project sees the same manifests and the same database.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import ConfigError, InvalidConfigError, ManifestError

if TYPE_CHECKING:
    from agentgo_cli.manifests.loader import Document
    from agentgo_cli.manifests.models import ConfigFile, Profile

__all__ = [
    "CONFIG_FILE_NAMES",
    "InvalidConfigError",
    "LoadedConfig",
    "Secret",
    "find_config_file",
    "find_project_config",
    "is_literal_key",
    "load_config",
    "no_config_here",
    "project_root",
    "resolve_secret",
]

CONFIG_FILE_NAMES = ("agentgo.yaml", "agentgo.yml")
"""The names of a project's config file, looked for in this order in each folder."""

_SECRET_RE = re.compile(r"\$\{(env|file):([^}]*)\}")


class Secret:
    """A secret that cannot be printed: str() and repr() name where it came from, never the
    value. ``reveal()`` gives the value, at the moment of use only."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source
        """Where the value came from, e.g. '${env:OPENAI_API_KEY}' (safe to show)."""

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:  # never pickled or copied into another process
        raise TypeError("a Secret cannot be pickled")


@dataclass
class LoadedConfig:
    """The parsed config file (None when there is none) and the active profile's name."""

    path: Path | None
    data: ConfigFile | None
    profile_name: str | None
    errors: list[ManifestError]
    warnings: list[str] = field(default_factory=list)
    """Located notes on a config that works but should change (a literal key)."""

    def check(self) -> LoadedConfig:
        """This config, or InvalidConfigError when the file has errors (nothing may run
        against a config that exists and is wrong)."""
        if self.errors:
            from agentgo_cli.manifests.loader import display_path

            shown = display_path(self.path) if self.path is not None else "agentgo.yaml"
            raise InvalidConfigError(shown, list(self.errors))
        return self

    def manifest_paths(self) -> list[Path]:
        """The active profile's ``manifests:`` paths, relative to the config file's folder."""
        profile = self.profile()
        if profile is None or self.path is None:
            return []
        base = self.path.parent
        return [(base / p) if not Path(p).is_absolute() else Path(p) for p in profile.manifests]

    def profile(self) -> Profile | None:
        if self.data is None or self.profile_name is None:
            return None
        return self.data.profiles.get(self.profile_name)


def find_project_config(cwd: Path | None = None) -> Path | None:
    """The nearest agentgo.yaml (or .yml): in the working folder or the first folder above it
    that has one, up to the filesystem root (as git finds its repository)."""
    folder = (cwd or Path.cwd()).absolute()
    for candidate in (folder, *folder.parents):
        for name in CONFIG_FILE_NAMES:
            if (candidate / name).is_file():
                return candidate / name
    return None


def find_config_file(cwd: Path | None = None) -> Path | None:
    """The project's agentgo.yaml (see ``find_project_config``), else the user's
    $XDG_CONFIG_HOME/agentgo/config.yaml, else None."""
    found = find_project_config(cwd)
    if found is not None:
        return found
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidate = Path(xdg) / "agentgo" / "config.yaml"
    return candidate if candidate.is_file() else None


def no_config_here(cwd: Path | None = None) -> str:
    """Where agentgo.yaml was looked for, for a message saying none was found."""
    return f"no agentgo.yaml in {(cwd or Path.cwd()).absolute()} or any folder above it"


def project_root(config: Path | None, manifest_file: str | Path | None) -> Path | None:
    """The folder python tools import from: the project's agentgo.yaml's folder, else the
    folder of the manifest that declares the tool (None when neither is known).

    The user's $XDG_CONFIG_HOME/agentgo/config.yaml belongs to no project, so it is no root.
    """
    if config is not None and config.name in CONFIG_FILE_NAMES:
        return config.absolute().parent
    if manifest_file is not None:
        return Path(manifest_file).absolute().parent
    return None


def load_config(profile: str | None = None, path: Path | None = None) -> LoadedConfig:
    """Read the config file; a missing file is fine, a broken one is reported in ``errors``.

    Raises ConfigError when a profile is asked for that the file does not define.
    """
    from agentgo_cli.manifests.loader import display_path, load_text
    from agentgo_cli.manifests.manifest_set import check_config

    path = path or find_config_file()
    wanted = profile or os.environ.get("AGENTGO_PROFILE") or None
    if path is None:
        if wanted:
            raise ConfigError(
                f"profile '{wanted}' asked for, but there is {no_config_here()} "
                "(run 'agentgo init' to create one)"
            )
        return LoadedConfig(None, None, None, [])
    shown = display_path(path)
    try:
        loaded = load_text(path.read_bytes(), shown)
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from None
    errors = list(loaded.errors)
    data = None
    warnings: list[str] = []
    if not errors and loaded.documents:
        data, errors = check_config(loaded.documents[0])
        if data is not None:
            warnings = _literal_key_warnings(loaded.documents[0])
    name = wanted or (data.profile if data is not None else None)
    if data is not None and name and name not in data.profiles:
        from agentgo_cli.manifests._text import did_you_mean

        raise ConfigError(
            f"unknown profile '{name}'{did_you_mean(name, data.profiles)} "
            f"(defined in {shown}: {', '.join(data.profiles) or 'none'})"
        )
    return LoadedConfig(path, data, name, errors, warnings)


def _literal_key_warnings(doc: Document) -> list[str]:
    """A warning for each ``api_key`` written as the key itself instead of a reference."""
    from agentgo_cli.manifests.loader import format_path

    data = doc.data if isinstance(doc.data, dict) else {}
    places: list[tuple[tuple[str | int, ...], Any]] = [(("providers",), data.get("providers"))]
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        for name, profile in profiles.items():
            if isinstance(profile, dict):
                places.append((("profiles", name, "providers"), profile.get("providers")))
    found = []
    for prefix, providers in places:
        if not isinstance(providers, dict):
            continue
        for provider, settings in providers.items():
            key = settings.get("api_key") if isinstance(settings, dict) else None
            if isinstance(key, str) and key and not _SECRET_RE.search(key):
                path = (*prefix, provider, "api_key")
                line, col = doc.at(path)
                variable = f"{str(provider).upper()}_API_KEY"
                found.append(
                    f"{doc.file}:{line}:{col}: {format_path(path)} is a literal key; use "
                    f"${{env:{variable}}} so it stays out of the file"
                )
    return found


def is_literal_key(value: str) -> bool:
    """True for a key written into the config itself (no ${env:…} or ${file:…} in it)."""
    return not _SECRET_RE.search(value)


def resolve_secret(value: str, base: Path | None = None) -> str:
    """Replace ${env:NAME} and ${file:/path} references; raise ConfigError if one is missing.

    A relative ${file:path} is read from ``base`` (the config file's folder), else from the
    working folder.
    """

    def _one(m: re.Match[str]) -> str:
        source, arg = m.group(1), m.group(2)
        if source == "env":
            if arg not in os.environ:
                raise ConfigError(f"environment variable {arg} is not set")
            return os.environ[arg]
        try:
            return (base / arg if base is not None else Path(arg)).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {arg}: {exc.strerror}") from None

    return _SECRET_RE.sub(_one, value)

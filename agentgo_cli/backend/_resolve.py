"""What a request names and gives, resolved for the engine: the workflow ``run`` and ``plan``
name (a file, or a name among the active profile's manifests), their inputs (``--input-file``
and ``-i`` pairs), a call's input, and the principal given with ``--as``.

Every mistake here is the user's: it is a ``UsageError`` or ``NotFoundError`` with what to do,
never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from agentgo_cli.backend import views as v
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.manifests.manifest_set import ManifestSet

__all__ = ["call_input", "given_inputs", "principal", "read_input_file", "workflow_set"]


def workflow_set(
    ref: str, config: LoadedConfig, load: Callable[[list[str]], ManifestSet]
) -> tuple[str, list[str], ManifestSet]:
    """Resolve ``run``'s argument to (workflow name, manifest paths, manifest set).

    ``ref`` is a file defining exactly one Workflow (loaded with its folder and the profile's
    manifests), or the name of a workflow in the profile's manifests; ``load`` gives a valid
    manifest set for paths (or raises ManifestSetError).
    """
    profile_paths = [str(p.resolve()) for p in config.manifest_paths()]
    path = Path(ref)
    if path.is_file():
        from agentgo_cli.backend._names import names_of

        names = names_of([path], "Workflow")
        if len(names) != 1:
            found = ", ".join(names) or "none"
            raise UsageError(f"{ref} must define exactly one Workflow (found: {found})")
        paths = [str(path.resolve().parent), *profile_paths]
        return names[0], paths, load(paths)
    if not profile_paths:
        raise UsageError(_no_workflow_set(ref, config))
    mset = load(profile_paths)
    if ref not in mset.of_kind("Workflow"):
        from agentgo_cli.manifests._text import did_you_mean

        hint = did_you_mean(ref, mset.of_kind("Workflow"))
        raise NotFoundError(f"no workflow file or workflow named '{ref}'{hint}")
    return ref, profile_paths, mset


def _no_workflow_set(ref: str, config: LoadedConfig) -> str:
    """Why ``run``'s argument names nothing: a missing file, or a name with no manifests
    (no agentgo.yaml found, or a profile without ``manifests:``) to look it up in."""
    if "/" in ref or ref.endswith((".yaml", ".yml")):
        return f"no such workflow file: {ref}"
    if config.path is None:
        from agentgo_cli.config import no_config_here

        return (
            f"no workflow file '{ref}'; to run a workflow by name, agentgo needs an "
            f"agentgo.yaml, and there is {no_config_here()} (run 'agentgo init' to create one)"
        )
    from agentgo_cli.manifests.loader import display_path

    shown = display_path(config.path)
    if config.profile_name is None:
        return f"no workflow file '{ref}', and {shown} sets no profile ('profile:') to use"
    return (
        f"no workflow file '{ref}', and profile '{config.profile_name}' of {shown} lists "
        "no 'manifests:' to look up a workflow by name"
    )


def principal(given: str | None) -> str | None:
    """A principal from --as, checked against the grammar and lowered (agentgo_cli.principal)."""
    if given is None:
        return None
    from agentgo_cli.principal import InvalidPrincipal, parse_principal

    try:
        return str(parse_principal(given))
    except InvalidPrincipal as exc:
        raise UsageError(f"--as: {exc}") from None


def call_input(request: v.CallRequest, schema: dict[str, Any]) -> Any:
    """The call's input: --input as given, or -i pairs parsed against the input schema."""
    from agentgo_cli.engine.inputs import parse_cli_value

    if request.pairs:
        if request.input is not None:
            raise UsageError("give the input with --input or with -i pairs, not both")
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        return {k: parse_cli_value(t, properties.get(k), name=k) for k, t in request.pairs.items()}
    return request.input


def given_inputs(
    pairs: dict[str, str],
    input_file: str | None,
    schemas: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The inputs given to run or plan: ``data`` (an input file a client read), then
    --input-file's, then -i pairs parsed against the inputs' schemas (defaults and checks
    come after: ``prepare_inputs``)."""
    from agentgo_cli.engine.inputs import parse_cli_value

    given: dict[str, Any] = dict(data or {})
    if input_file:
        given.update(read_input_file(input_file))
    for key, raw in pairs.items():
        given[key] = parse_cli_value(raw, schemas.get(key), name=key)
    return given


def read_input_file(path: str) -> dict[str, Any]:
    """The mapping of input names to values in a JSON (``.json``) or YAML file."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --input-file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read --input-file {path}: not UTF-8 text (byte {exc.start})"
        ) from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except RecursionError:
        raise UsageError(f"--input-file {path} is nested too deeply") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"--input-file {path} is not valid JSON or YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--input-file {path} must hold a mapping of input names to values")
    return data

"""A manifest set: every manifest one command sees, validated and cross-referenced."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentgo_cli.errors import ManifestError
from agentgo_cli.manifests._errors import errors_from_validation
from agentgo_cli.manifests._set import Entry, ManifestSet
from agentgo_cli.manifests._text import did_you_mean, quote_list, type_name
from agentgo_cli.manifests.checks import cross_check as run_checks
from agentgo_cli.manifests.loader import Document, load_paths
from agentgo_cli.manifests.models import API_VERSION, KINDS, ConfigFile, Manifest

__all__ = ["CONFIG_NAMES", "Entry", "ManifestSet", "check_config", "check_document", "load_set"]

CONFIG_NAMES = ("agentgo.yaml", "agentgo.yml")
"""File names read as the config file rather than as manifests."""


def check_document(doc: Document) -> tuple[Manifest | None, list[ManifestError]]:
    """Validate one document's envelope and spec against its kind's model."""
    data = doc.data
    if not isinstance(data, dict):
        return None, [
            doc.error(
                (),
                "a manifest must be a mapping with apiVersion, kind, metadata and spec, "
                f"got {type_name(data)}",
                "type",
            )
        ]
    errors: list[ManifestError] = []
    api = data.get("apiVersion")
    if "apiVersion" not in data:
        errors.append(
            doc.error(
                (),
                f"missing required field 'apiVersion' (expected '{API_VERSION}')"
                + _misspelt("apiVersion", data),
                "missing-field",
            )
        )
    elif api != API_VERSION:
        errors.append(
            doc.error(
                ("apiVersion",),
                f"unsupported apiVersion {api!r}; expected '{API_VERSION}'",
                "api-version",
            )
        )
    kind = data.get("kind")
    if "kind" not in data:
        errors.append(
            doc.error(
                (),
                f"missing required field 'kind' ({quote_list(KINDS)})" + _misspelt("kind", data),
                "missing-field",
            )
        )
    elif not isinstance(kind, str) or kind not in KINDS:
        errors.append(
            doc.error(
                ("kind",),
                f"unknown kind {kind!r}{did_you_mean(str(kind), KINDS)}; "
                f"expected {quote_list(KINDS)}",
                "enum",
            )
        )
    if errors:
        return None, errors
    assert isinstance(kind, str)
    model = KINDS[kind]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, errors_from_validation(doc, model, exc)


def _misspelt(field: str, data: dict[str, Any]) -> str:
    """'; is 'apiversion' a misspelling of it?' when a key of the mapping looks like ``field``."""
    keys = [str(k) for k in data if k != field]
    close = [k for k in keys if k.casefold() == field.casefold()]
    close = close or difflib.get_close_matches(field, keys, n=1, cutoff=0.75)
    return f"; is '{close[0]}' a misspelling of it?" if close else ""


def check_config(doc: Document) -> tuple[ConfigFile | None, list[ManifestError]]:
    """Validate a config file document."""
    if not isinstance(doc.data, dict):
        return None, [doc.error((), f"expected a mapping, got {type_name(doc.data)}", "type")]
    try:
        return ConfigFile.model_validate(doc.data), []
    except ValidationError as exc:
        return None, errors_from_validation(doc, ConfigFile, exc)


def load_set(
    paths: Iterable[str | Path],
    *,
    config: ConfigFile | None = None,
    cross_check: bool = True,
) -> ManifestSet:
    """Load, validate and cross-check a manifest set; nothing raises for bad input."""
    loaded = load_paths(paths)
    result = ManifestSet(errors=list(loaded.errors), files=loaded.files, config=config)
    for doc in loaded.documents:
        result.documents += 1
        if Path(doc.file).name in CONFIG_NAMES:
            parsed, errors = check_config(doc)
            result.config_files.append(doc.file)
            if parsed is not None and result.config is None:
                result.config = parsed
        else:
            manifest, errors = check_document(doc)
            kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
            if isinstance(kind, str) and kind in KINDS:
                result.kinds_read[kind] += 1
            if manifest is not None:
                result.entries.append(Entry(manifest, doc))
            else:
                _note_broken(result.broken, doc.data)
        result.errors.extend(errors)
    if cross_check:
        result.errors.extend(run_checks(result))
    return result


def _note_broken(broken: dict[str, set[str]], data: object) -> None:
    """Remember what an invalid manifest declares (its name, a card's intent names)."""
    if not isinstance(data, dict):
        return
    kind, metadata, spec = data.get("kind"), data.get("metadata"), data.get("spec")
    if isinstance(kind, str) and isinstance(metadata, dict):
        name = metadata.get("name")
        if isinstance(name, str):
            broken.setdefault(kind, set()).add(name)
    if kind == "Capability" and isinstance(spec, dict) and isinstance(spec.get("intents"), list):
        for intent in spec["intents"]:
            if isinstance(intent, dict) and isinstance(intent.get("name"), str):
                broken.setdefault("Intent", set()).add(intent["name"])

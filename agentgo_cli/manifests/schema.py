"""JSON Schemas (draft 2020-12) generated from the manifest models; one per kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentgo_cli.errors import NotFoundError
from agentgo_cli.manifests._text import did_you_mean, quote_list

__all__ = ["SCHEMA_BASE", "SCHEMA_NAMES", "export_schemas", "schema_for", "schema_text"]

SCHEMA_BASE = "https://agentgo.dev/schemas/v1/"
SCHEMA_NAMES = ("agent", "tool", "capability", "team", "workflow", "config")
"""File stems: schemas/<name>.schema.json."""


def _model(name: str) -> Any:
    from agentgo_cli.manifests.models import KINDS, ConfigFile

    if name == "config":
        return ConfigFile
    return KINDS[name.capitalize()]


def schema_for(kind: str) -> dict[str, Any]:
    """The JSON Schema of a kind (case-insensitive) or of the config file."""
    name = kind.lower()
    if name not in SCHEMA_NAMES:
        raise NotFoundError(
            f"no schema for '{kind}'{did_you_mean(name, SCHEMA_NAMES)}; "
            f"expected {quote_list(SCHEMA_NAMES)}"
        )
    model = _model(name)
    body = model.model_json_schema(by_alias=True)
    title = "agentgo.yaml config file" if name == "config" else f"AgentGo {name.capitalize()}"
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{name}.schema.json",
        "title": title,
    }
    out.update({k: v for k, v in body.items() if k != "title"})
    return out


def schema_text(kind: str) -> str:
    """A schema as the exact text written to schemas/ (stable key order, trailing newline)."""
    return json.dumps(schema_for(kind), indent=2, ensure_ascii=False) + "\n"


def export_schemas(folder: Path) -> list[Path]:
    """Write every schema into a folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMA_NAMES:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written

"""JSON Schemas (draft 2020-12) of the Backend's requests and views, for ``schemas/api/``.

Scripts that read ``agentgo ... --output json`` (and, later, clients of ``agentgo serve``)
can rely on these shapes; a test fails when the checked-in files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "API_SCHEMA_BASE",
    "api_schema",
    "api_schema_names",
    "api_schema_text",
    "write_api_schemas",
]

API_SCHEMA_BASE = "https://agentgo.dev/schemas/v1/api/"


def api_schema_names() -> list[str]:
    """File stems: schemas/api/<name>.schema.json."""
    from agentgo_cli.backend.views import API_VIEWS

    return sorted(API_VIEWS)


def api_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one request or view: what is sent (requests), what is printed
    and returned (views)."""
    from agentgo_cli.backend.views import API_VIEWS

    model = API_VIEWS[name]
    request = name.endswith(("-request", "-query"))
    body = model.model_json_schema(mode="validation" if request else "serialization")
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{API_SCHEMA_BASE}{name}.schema.json",
    }
    out.update(body)
    return out


def api_schema_text(name: str) -> str:
    """A schema as the exact text written to schemas/api/ (trailing newline)."""
    return json.dumps(api_schema(name), indent=2, ensure_ascii=False) + "\n"


def write_api_schemas(folder: Path) -> list[Path]:
    """Write every API schema into a folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in api_schema_names():
        path = folder / f"{name}.schema.json"
        path.write_text(api_schema_text(name), encoding="utf-8")
        written.append(path)
    return written

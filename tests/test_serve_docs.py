"""docs/serve.md names every route of the server's OpenAPI document, and no route it lacks:
the page's route table cannot drift from schemas/api/openapi.json (itself drift-tested
against the app)."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "serve.md"
OPENAPI = REPO / "schemas" / "api" / "openapi.json"

_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def _shape(path: str) -> str:
    """A route with its parameters unnamed: ``/v1/jobs/{job_id}`` and ``/v1/jobs/{id}``
    are one route."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _documented() -> set[str]:
    text = PAGE.read_text(encoding="utf-8")
    return {f"{m} {_shape(p)}" for m, p in _ROUTE.findall(text)}


def _served() -> set[str]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return {
        f"{method.upper()} {_shape(path)}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_route_of_the_openapi_document_is_in_the_page() -> None:
    assert sorted(_served() - _documented()) == []


def test_every_v1_route_the_page_names_is_served() -> None:
    named = {r for r in _documented() if r.split(" ", 1)[1].startswith("/v1/")}
    # The document itself is served at /v1/openapi.json but, as FastAPI makes it, not
    # listed in itself.
    assert sorted(named - _served() - {"GET /v1/openapi.json"}) == []

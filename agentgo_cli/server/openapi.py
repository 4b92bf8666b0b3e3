"""OpenAPI 3.1 documents: the server's own (generated from its routes, checked in as
``schemas/api/openapi.json``) and one per intent, whose call takes the intent's input
schema and answers its output schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    from agentgo_cli.backend.views import IntentView

__all__ = [
    "BEARER",
    "OPENAPI_FILE",
    "install",
    "intent_document",
    "operation_id",
    "server_document",
    "server_document_text",
]

OPENAPI_FILE = "openapi.json"
"""The server's document under ``schemas/api/`` (beside the views' JSON Schemas)."""

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token listed under `serve.tokens` of the server's agentgo.yaml; the "
    "request runs as the token's principal, with its scopes.",
}
"""The security scheme of every operation that needs a token."""


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its endpoint's name (``jobs_list``, ``catalog_show``), short
    and stable, where FastAPI's default would add the path and the method."""
    return route.name


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the finished document: FastAPI's, plus the bearer
    scheme required by every operation but those that read no token (``security: []``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _secure(build(), app)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _secure(doc: dict[str, Any], app: FastAPI) -> None:
    from fastapi.routing import APIRoute

    from agentgo_cli.server.v1 import caller

    doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER
    doc["security"] = [{"bearer": []}]
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if _depends_on(route.dependant, caller):
            continue
        for method in route.methods or ():
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = []


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def server_document() -> dict[str, Any]:
    """The OpenAPI document of ``agentgo serve``'s routes (no config needed to make it)."""
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.server.app import create_app

    app = create_app(LoadedConfig(None, None, None, []))
    return app.openapi()


def server_document_text() -> str:
    """The server's OpenAPI document as the exact text checked in (trailing newline)."""
    return json.dumps(server_document(), indent=2, ensure_ascii=False) + "\n"


def intent_document(view: IntentView, *, server_url: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document for calling one intent through ``POST /v1/calls``."""
    name = f"{view.name}@{view.version}"
    request_schema = {
        "type": "object",
        "required": ["intent", "input"],
        "additionalProperties": False,
        "properties": {
            "intent": {"const": name},
            "input": view.input if view.input is not None else {},
            "idempotency_key": {"type": ["string", "null"]},
            "traceparent": {"type": ["string", "null"]},
        },
    }
    response_schema = {
        "type": "object",
        "required": ["output"],
        "properties": {"output": view.output if view.output is not None else {}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": name, "version": view.version, "description": view.description},
        "servers": [{"url": server_url}],
        "paths": {
            "/v1/calls": {
                "post": {
                    "operationId": f"call_{view.name.replace('.', '_').replace('-', '_')}",
                    "summary": view.description or f"Call {name}",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request_schema}},
                    },
                    "responses": {
                        "200": {
                            "description": "The intent's output, with the call's record.",
                            "content": {"application/json": {"schema": response_schema}},
                        },
                        "401": {"description": "No bearer token, or an unknown one."},
                        "403": {"description": "The intent's ACL refused the caller."},
                        "422": {"description": "The input does not match the input schema."},
                        "429": {"description": "The intent's rate limit refused the call."},
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }

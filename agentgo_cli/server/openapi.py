"""OpenAPI 3.1 documents: the server's own (generated from its routes, checked in as
``schemas/api/openapi.json``) and one per intent, whose call takes the intent's input
schema and answers its output schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentgo_cli.backend.views import IntentView

__all__ = ["intent_document", "server_document", "server_document_text"]


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

"""OpenAPI 3.1 documents: the server's own (generated from its routes, checked in as
``schemas/api/openapi.json``) and one per intent, whose call takes the intent's input
schema and answers its output schema."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.routing import APIRoute
    from pydantic.json_schema import JsonSchemaMode

    from agentgo_cli.backend.views import IntentView

__all__ = [
    "AGENT_CARD_PATH",
    "BEARER",
    "OPEN",
    "Health",
    "OPENAPI_FILE",
    "TAGS",
    "TRACEPARENT_PATTERN",
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


AGENT_CARD_PATH = "/.well-known/agent-card.json"
"""Where the server's A2A agent card is read (A2A 1.0)."""

DESCRIPTION = (
    "The HTTP API of `agentgo serve`: every command of the `agentgo` CLI as a route of "
    "`/v1`, with the JSON views of `--output json` as bodies; a profile with `server:` "
    "sends its commands here. Every `/v1` route needs a bearer token (`serve.tokens`); "
    "an error is answered with an ErrorBody whose `exit_code` is the CLI's. The A2A 1.0 "
    "bindings are listed by the agent card's `supportedInterfaces`."
)
"""The document's ``info.description``."""

_AGENT_CARD: dict[str, Any] = {
    "tags": ["a2a"],
    "summary": "The A2A agent card: the server's intents as skills, and its A2A bindings.",
    "operationId": "a2a_agent_card",
    "security": [],
    "responses": {
        "200": {
            "description": "An A2A 1.0 AgentCard (read without a token).",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "skills"],
                        "properties": {
                            "name": {"type": "string"},
                            "skills": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                }
            },
        }
    },
}


TAGS = [
    {"name": "health", "description": "Liveness and readiness, read without a token."},
    {"name": "manifests", "description": "Validate manifests and plan workflows."},
    {"name": "jobs", "description": "Start, follow, steer and read jobs."},
    {"name": "catalog", "description": "The intents of the catalog and their documents."},
    {"name": "calls", "description": "Call intents through the call lifecycle."},
    {"name": "models", "description": "The models in use, and a tiny call to one."},
    {"name": "a2a", "description": "The A2A 1.0 protocol (its bindings are in the card)."},
]
"""The document's tags, in the order a reader meets them."""


class Health(BaseModel):
    """What ``/healthz`` and ``/readyz`` answer."""

    status: Literal["ok", "ready", "starting", "stopping"]


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its endpoint's name (``jobs_list``, ``catalog_show``), short
    and stable, where FastAPI's default would add the path and the method."""
    return route.name


OPEN: dict[str, Any] = {"security": []}
"""``openapi_extra`` of a route read without a token (the document requires the bearer
token of every other operation)."""


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the finished document: FastAPI's (made again when
    routes are added), plus the bearer scheme every operation needs but those marked
    ``OPEN``, the tags, and the A2A agent card's route."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        doc = build()
        if "security" not in doc:
            doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER
            doc["security"] = [{"bearer": []}]
            doc["info"]["description"] = DESCRIPTION
            doc["tags"] = TAGS
            doc["paths"][AGENT_CARD_PATH] = {"get": _AGENT_CARD}
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


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
    """An OpenAPI 3.1 document for calling one intent version through ``POST /v1/calls``:
    the request is ``/v1/calls``'s body (CallRequest) with ``intent`` fixed to this version
    and ``input`` its input schema; the answer is the call's record (CallResult) with
    ``output`` its output schema. The two schemas are components ``Input`` and ``Output``
    (their local ``$ref``s rewritten to point into them)."""
    from agentgo_cli.backend.views import CallRequest, CallResult
    from agentgo_cli.backend.wire import ErrorBody
    from agentgo_cli.principal import PRINCIPAL_PATTERN

    name = f"{view.name}@{view.version}"
    schemas: dict[str, Any] = {
        "Input": _embedded(view.input, "#/components/schemas/Input"),
        "Output": _embedded(view.output, "#/components/schemas/Output"),
    }
    request = _component(CallRequest, "validation", schemas)
    request["properties"]["intent"] = {
        "const": name,
        "title": "Intent",
        "description": "This intent version.",
    }
    request["properties"]["input"] = {"$ref": "#/components/schemas/Input"}
    request["properties"]["traceparent"] = {
        "type": "string",
        "pattern": TRACEPARENT_PATTERN,
        "description": "A W3C trace context the call joins.",
    }
    request["properties"]["principal"] = {
        "anyOf": [{"type": "string", "pattern": PRINCIPAL_PATTERN}, {"type": "null"}],
        "description": "Call as this principal instead of the token's (needs the token "
        "scope agentgo:impersonate).",
    }
    request["properties"]["scopes"]["description"] = (
        "ACL scopes the call carries: the token's, or (with agentgo:impersonate) these."
    )
    # The CLI's -i pairs (text parsed against the input schema) are for people; a client
    # of this document sends the input as a value.
    del request["properties"]["pairs"]
    request["required"] = ["intent", "input"]
    result = _component(CallResult, "serialization", schemas)
    result["properties"]["output"] = {"$ref": "#/components/schemas/Output"}
    _component(ErrorBody, "serialization", schemas)

    def error(description: str) -> dict[str, Any]:
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        return {"description": description, "content": {"application/json": {"schema": ref}}}

    operation_name = re.sub(r"[^A-Za-z0-9]+", "_", view.name)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": name,
            "version": view.version,
            "description": view.description or f"Call the intent {name}.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "tags": [{"name": "calls", "description": "Calls through the call lifecycle."}],
        "paths": {
            "/v1/calls": {
                "post": {
                    "operationId": f"call_{operation_name}",
                    "summary": f"Call {name}.",
                    "description": view.description,
                    "tags": ["calls"],
                    "parameters": [_TRACEPARENT],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CallRequest"},
                                **_examples(view, name),
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The call's record, with the intent's output.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CallResult"}
                                }
                            },
                        },
                        "400": error("A usage mistake (input and pairs both given)."),
                        "401": error("No bearer token, or one the server does not know."),
                        "403": error("The intent's ACL refused the caller."),
                        "404": error("The intent (or this version of it) is gone."),
                        "409": error("The idempotency key was used before with another input."),
                        "422": error("The input does not match the input schema."),
                        "429": error("The intent's rate limit refused the call."),
                        "502": error("The target failed or answered invalid output."),
                        "504": error("The call took longer than the server allows."),
                    },
                }
            }
        },
        "components": {"schemas": schemas, "securitySchemes": {"bearer": BEARER}},
    }


TRACEPARENT_PATTERN = "^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$"
"""A W3C ``traceparent`` the server takes: version (not ff), trace id and parent span id
(not all zeros), flags."""


def _examples(view: IntentView, name: str) -> dict[str, Any]:
    """The intent's examples as examples of the request (``{}`` when it has none)."""
    examples = {}
    for n, example in enumerate(view.examples, 1):
        shown: dict[str, Any] = {"value": {"intent": name, "input": example.get("input")}}
        if example.get("description"):
            shown["summary"] = example["description"]
        examples[f"example-{n}"] = shown
    return {"examples": examples} if examples else {}


_TRACEPARENT = {
    "name": "traceparent",
    "in": "header",
    "required": False,
    "description": "A W3C trace context the call joins; one that is not valid is ignored (a "
    "new trace starts), as W3C Trace Context asks. The body's traceparent, if given, wins.",
    "schema": {"type": "string"},
}

_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "example"})
"""Keywords whose values are data, not schemas: their keys are never rewritten."""


def _embedded(schema: Any, at: str) -> Any:
    """A user's JSON Schema placed at ``at`` of a document: its local references ("#",
    "#/$defs/...") made to point there. A schema with its own ``$id`` is left as it is
    (its references resolve against that id). No schema (None) is the empty schema."""
    if schema is None:
        return {}
    if not isinstance(schema, dict) or "$id" in schema:
        return schema

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                out[key] = at + value[1:]
            elif key in _DATA_KEYWORDS:
                out[key] = value
            else:
                out[key] = rewrite(value)
        return out

    return rewrite(schema)


def _component(model: type[BaseModel], mode: JsonSchemaMode, schemas: dict[str, Any]) -> Any:
    """Add a model's JSON Schema (and the models it refers to) to ``schemas``; return it."""
    body = model.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas[model.__name__] = body
    return body

"""The OpenAPI 3.1 documents of ``agentgo serve``: the server's (checked in as
schemas/api/openapi.json) says what the routes do, and each intent's says what a call of it
takes and answers; both are checked against a running server.

Structure is checked with the OpenAPI 3.1 meta-schema that schemathesis carries (there is
no openapi-spec-validator here) and every schema in them with JSON Schema 2020-12.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from schemathesis.specs.openapi.definitions import OPENAPI_31

from agentgo_cli.backend.views import CallRequest
from agentgo_cli.server.openapi import (
    AGENT_CARD_PATH,
    OPENAPI_FILE,
    intent_document,
    server_document,
)
from tests.conftest import REPO
from tests.server.openapi_project import Served, serving

DOC_URN = "urn:agentgo:openapi"

V1_OPERATIONS = {
    ("post", "/v1/validate"): "validate",
    ("post", "/v1/plan"): "plan",
    ("post", "/v1/jobs"): "jobs_submit",
    ("get", "/v1/jobs"): "jobs_list",
    ("get", "/v1/jobs/{job_id}"): "jobs_show",
    ("get", "/v1/jobs/{job_id}/wait"): "jobs_wait",
    ("post", "/v1/jobs/{job_id}/resume"): "jobs_resume",
    ("post", "/v1/jobs/{job_id}/cancel"): "jobs_cancel",
    ("post", "/v1/jobs/{job_id}/interrupt"): "jobs_interrupt",
    ("get", "/v1/jobs/{job_id}/logs"): "jobs_logs",
    ("get", "/v1/jobs/{job_id}/trace"): "jobs_trace",
    ("get", "/v1/jobs/{job_id}/events"): "jobs_events",
    ("get", "/v1/completions"): "completions",
    ("post", "/v1/catalog/list"): "catalog_list",
    ("post", "/v1/catalog/show"): "catalog_show",
    ("get", "/v1/catalog/intents/{name}/openapi.json"): "catalog_intent_openapi",
    ("post", "/v1/catalog/export"): "catalog_export",
    ("post", "/v1/calls"): "call",
    ("get", "/v1/models"): "models_list",
    ("post", "/v1/models/ping"): "models_ping",
}
"""Every /v1 operation and its operationId (a new route joins here)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("served")) as running:
        yield running


def get(served: Served, path: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("headers", served.headers)
    return httpx.get(served.url + path, timeout=30, trust_env=False, **kwargs)


def post(served: Served, path: str, body: Any, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("headers", served.headers)
    return httpx.post(served.url + path, json=body, timeout=30, trust_env=False, **kwargs)


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def validator(doc: dict[str, Any], component: str) -> jsonschema.Draft202012Validator:
    """A validator of one component schema of ``doc`` (its $refs resolved in ``doc``)."""
    registry: Registry[Any] = Registry().with_resource(DOC_URN, DRAFT202012.create_resource(doc))
    return jsonschema.Draft202012Validator(
        {"$ref": f"{DOC_URN}#/components/schemas/{component}"}, registry=registry
    )


def check_openapi_31(doc: dict[str, Any]) -> None:
    """``doc`` is an OpenAPI 3.1 document and each of its component schemas a valid JSON
    Schema (2020-12, OpenAPI's dialect)."""
    assert doc["openapi"].startswith("3.1.")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(doc)
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"components.schemas.{name}: {exc.message}") from None


# -- the server's document ------------------------------------------------------------------


def test_the_served_document_is_the_checked_in_one_and_valid(served: Served) -> None:
    answer = get(served, "/v1/openapi.json", headers={})
    assert answer.status_code == 200
    checked_in = (REPO / "schemas" / "api" / OPENAPI_FILE).read_text(encoding="utf-8")
    assert answer.json() == server_document()
    assert answer.json() == json.loads(checked_in)
    check_openapi_31(answer.json())


def test_every_operation_is_named_summarised_and_tagged() -> None:
    doc = server_document()
    found = {(m, p): op["operationId"] for m, p, op in operations(doc) if p.startswith("/v1/")}
    assert found == V1_OPERATIONS
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    declared = {tag["name"] for tag in doc["tags"]}
    for method, path, op in operations(doc):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op["operationId"]), (method, path)
        assert op.get("summary", "").strip(), (method, path)
        assert op.get("tags") and set(op["tags"]) <= declared, (method, path)
        for parameter in op.get("parameters", []):
            if parameter["in"] != "path":
                assert parameter.get("description"), (method, path, parameter["name"])


def test_bearer_is_required_everywhere_but_the_health_checks(served: Served) -> None:
    doc = server_document()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearer": []}]
    open_ops = {path for _, path, op in operations(doc) if op.get("security") == []}
    assert open_ops == {"/healthz", "/readyz", AGENT_CARD_PATH}
    for path in ("/healthz", "/readyz"):
        assert get(served, path, headers={}).status_code == 200
    for method, path, op in operations(doc):
        if path in open_ops:
            assert "401" not in op["responses"]
            continue
        assert "security" not in op, (method, path)
        assert "401" in op["responses"], (method, path)
    answer = get(served, "/v1/jobs", headers={})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_the_agent_card_is_read_without_a_token(served: Served) -> None:
    answer = get(served, AGENT_CARD_PATH, headers={})
    if answer.status_code == 404:
        pytest.skip("the A2A routes (server/a2a.py) are not mounted in this checkout yet")
    assert answer.status_code == 200
    card = server_document()["paths"][AGENT_CARD_PATH]["get"]["responses"]["200"]
    jsonschema.validate(answer.json(), card["content"]["application/json"]["schema"])


def test_every_error_answer_is_the_error_body() -> None:
    doc = server_document()
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and path.startswith("/v1/"):
                assert response["content"] == {"application/json": {"schema": error}}, (
                    method,
                    path,
                    status,
                )
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["type", "message", "exit_code"]


def test_the_stream_and_the_202_of_wait_are_described() -> None:
    paths = server_document()["paths"]
    events = paths["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]
    assert list(events["content"]) == ["text/event-stream"]
    assert "EventView" in events["description"]
    wait = paths["/v1/jobs/{job_id}/wait"]["get"]["responses"]
    assert wait["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobView"
    }
    assert wait["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobView"
    }


def test_the_views_are_components() -> None:
    schemas = server_document()["components"]["schemas"]
    for name in ("JobView", "JobDetailView", "CallRequest", "CallResult", "IntentView"):
        assert name in schemas


def test_unknown_routes_and_wrong_methods_answer_the_error_body(served: Served) -> None:
    doc = server_document()
    errors = validator(doc, "ErrorBody")
    answer = get(served, "/v1/nope")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {
            "type": "NotFoundError",
            "message": "GET /v1/nope: no such route (see /v1/openapi.json)",
            "exit_code": 3,
        }
    }
    errors.validate(answer.json())
    answer = httpx.delete(
        served.url + "/v1/jobs", headers=served.headers, timeout=30, trust_env=False
    )
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.json() == {
        "error": {
            "type": "UsageError",
            "message": "DELETE /v1/jobs: the route does not take DELETE; it takes GET, POST",
            "exit_code": 2,
        }
    }
    errors.validate(answer.json())
    answer = get(served, "/v1/calls")
    assert (answer.status_code, answer.json()["error"]["exit_code"]) == (405, 2)


# -- one intent's document ------------------------------------------------------------------


SHAPE_INPUT = {"shape": {"kind": "square", "size": 3}}


def intent_doc(served: Served, name: str = "shapes.area") -> dict[str, Any]:
    answer = get(served, f"/v1/catalog/intents/{name}/openapi.json")
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


def test_an_intent_document_is_valid_with_its_schemas_embedded(served: Served) -> None:
    doc = intent_doc(served)
    check_openapi_31(doc)
    assert doc["info"]["title"] == "shapes.area@2.0.0"
    assert doc["info"]["version"] == "2.0.0"
    assert doc["servers"] == [{"url": served.url}]
    schemas = doc["components"]["schemas"]
    assert schemas["Input"]["properties"]["shape"] == {
        "$ref": "#/components/schemas/Input/$defs/shape"
    }
    assert schemas["Input"]["$defs"]["shape"]["required"] == ["kind", "size"]
    assert schemas["Output"]["required"] == ["area"]
    request = schemas["CallRequest"]
    assert request["properties"]["intent"]["const"] == "shapes.area@2.0.0"
    assert request["properties"]["input"] == {"$ref": "#/components/schemas/Input"}
    assert set(request["properties"]) == set(CallRequest.model_fields) - {"pairs"}
    assert request["required"] == ["intent", "input"]
    assert request["additionalProperties"] is False
    result = schemas["CallResult"]
    assert result["properties"]["output"] == {"$ref": "#/components/schemas/Output"}
    (operation,) = (op for _, _, op in operations(doc))
    assert operation["operationId"] == "call_shapes_area"
    assert doc["security"] == [{"bearer": []}]
    assert set(operation["responses"]) >= {"200", "401", "403", "404", "422", "429"}
    assert operation["requestBody"]["content"]["application/json"]["examples"] == {
        "example-1": {
            "summary": "A square of side 2.",
            "value": {
                "intent": "shapes.area@2.0.0",
                "input": {"shape": {"kind": "square", "size": 2}},
            },
        },
        "example-2": {
            "value": {
                "intent": "shapes.area@2.0.0",
                "input": {"shape": {"kind": "circle", "size": 1}, "note": "unit"},
            }
        },
    }
    for example in operation["requestBody"]["content"]["application/json"]["examples"].values():
        validator(doc, "CallRequest").validate(example["value"])


VALID_INPUTS = [
    SHAPE_INPUT,
    {"shape": {"kind": "circle", "size": 0}, "note": "round"},
    {"shape": {"kind": "square", "size": 100}},
]
INVALID_INPUTS = [
    {"shape": {"kind": "hexagon", "size": 1}},
    {"shape": {"kind": "square"}},
    {"shape": {"kind": "square", "size": 101}},
    {"shape": {"kind": "square", "size": 1}, "colour": "red"},
    {"shape": {"kind": "square", "size": 1}, "note": "x" * 21},
    {},
]


def test_what_the_intent_document_allows_a_call_takes(served: Served) -> None:
    doc = intent_doc(served)
    requests, results = validator(doc, "CallRequest"), validator(doc, "CallResult")
    for given in VALID_INPUTS:
        body = {"intent": "shapes.area@2.0.0", "input": given}
        requests.validate(body)
        answer = post(served, "/v1/calls", body)
        assert answer.status_code == 200, answer.text
        results.validate(answer.json())
        assert answer.json()["output"] == {"area": 2.5, "unit": "m2"}


def test_what_the_intent_document_refuses_a_call_refuses(served: Served) -> None:
    doc = intent_doc(served)
    requests, errors = validator(doc, "CallRequest"), validator(doc, "ErrorBody")
    for given in INVALID_INPUTS:
        body = {"intent": "shapes.area@2.0.0", "input": given}
        assert not requests.is_valid(body), given
        answer = post(served, "/v1/calls", body)
        assert answer.status_code == 422, answer.text
        errors.validate(answer.json())
        error = answer.json()["error"]
        assert (error["type"], error["code"], error["exit_code"]) == (
            "CallError",
            "invalid_input",
            5,
        )
        assert error["message"].startswith("shapes.area@2.0.0: invalid input: ")


def test_an_unknown_intent_has_no_document(served: Served) -> None:
    answer = get(served, "/v1/catalog/intents/shapes.volume/openapi.json")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["exit_code"], error["code"]) == (3, "not_found")
    assert error["message"] == (
        "no intent 'shapes.volume' in the catalog (did you mean 'shapes.area'?)"
    )
    assert get(served, "/v1/catalog/intents/shapes.area/openapi.json", headers={}).status_code == (
        401
    )


def test_a_version_range_names_the_version_it_resolves_to(served: Served) -> None:
    doc = intent_doc(served, "research.summarize@^1")
    assert doc["info"]["title"] == "research.summarize@1.2.0"
    schemas = doc["components"]["schemas"]
    assert schemas["CallRequest"]["properties"]["intent"]["const"] == "research.summarize@1.2.0"
    assert schemas["Input"]["properties"]["topic"] == {"type": "string", "maxLength": 50}


def test_an_intent_without_schemas_takes_and_answers_anything(served: Served) -> None:
    doc = intent_doc(served, "research.digest")
    check_openapi_31(doc)
    assert doc["components"]["schemas"]["Output"] == {}


# -- embedding a user's schema --------------------------------------------------------------


def _view(input_schema: Any) -> Any:
    from agentgo_cli.backend.views import IntentView

    return IntentView(
        name="t.x",
        version="1.0.0",
        target="agent:a",
        card="c",
        synthetic=False,
        description="",
        tags=[],
        classification="internal",
        rate_limit=None,
        idempotency_ttl=None,
        timeout=None,
        input=input_schema,
        output=None,
        acl=None,
        examples=[],
        prompt=None,
        other_versions=[],
    )


def test_local_references_point_into_the_component_and_data_is_left_alone() -> None:
    tree = {
        "type": "object",
        "properties": {
            "child": {"$ref": "#"},
            "leaf": {"$ref": "#/definitions/leaf"},
            "fixed": {"const": {"$ref": "#/not/a/reference"}},
            "remote": {"$ref": "urn:elsewhere:schema"},
        },
        "definitions": {"leaf": {"enum": [{"$ref": "#"}]}},
    }
    doc = intent_document(_view(tree), server_url="http://127.0.0.1:1")
    embedded = doc["components"]["schemas"]["Input"]["properties"]
    assert embedded["child"] == {"$ref": "#/components/schemas/Input"}
    assert embedded["leaf"] == {"$ref": "#/components/schemas/Input/definitions/leaf"}
    assert embedded["fixed"] == {"const": {"$ref": "#/not/a/reference"}}
    assert embedded["remote"] == {"$ref": "urn:elsewhere:schema"}
    assert doc["components"]["schemas"]["Input"]["definitions"]["leaf"] == {"enum": [{"$ref": "#"}]}
    check_openapi_31(doc)


def test_a_schema_with_its_own_id_is_embedded_as_it_is() -> None:
    schema = {"$id": "urn:t:x", "properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {}}}
    doc = intent_document(_view(schema), server_url="http://127.0.0.1:1")
    assert doc["components"]["schemas"]["Input"] == schema


# -- what schemathesis found ----------------------------------------------------------------


def test_a_path_with_a_nul_is_a_usage_error_not_a_crash(served: Served) -> None:
    for route, body in (
        ("/v1/catalog/show", {"intent": "shapes.area", "paths": ["m/a\x00b"]}),
        ("/v1/validate", {"paths": ["\x00"]}),
        ("/v1/jobs", {"workflow": "m/\x00.yaml"}),
    ):
        answer = post(served, route, body)
        assert answer.status_code == 400, (route, answer.text)
        assert answer.json()["error"]["type"] == "UsageError"
        assert answer.json()["error"]["message"].endswith(": a path cannot hold a NUL character")


@pytest.mark.parametrize(
    ("route", "body", "problem"),
    [
        (
            "/v1/catalog/list",
            {"all_versions": 0},
            "body.all_versions: Input should be a valid boolean",
        ),
        (
            "/v1/jobs",
            {"workflow": "wf", "detach": "true"},
            "body.detach: Input should be a valid boolean",
        ),
        (
            "/v1/models/ping",
            {"ref": "scripted:demo", "within": "5"},
            "body.within: Input should be a valid number",
        ),
        (
            "/v1/calls",
            {"intent": "shapes.area", "pairs": {"a": 1}},
            "body.pairs.a: Input should be a valid string",
        ),
    ],
)
def test_a_body_value_of_another_type_is_refused_not_converted(
    served: Served, route: str, body: dict[str, Any], problem: str
) -> None:
    answer = post(served, route, body)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": {"type": "UsageError", "message": f"invalid request: {problem}", "exit_code": 2}
    }


def test_an_unexpected_failure_is_answered_with_the_error_body_and_no_detail() -> None:
    from starlette.testclient import TestClient

    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.server.app import create_app

    app = create_app(LoadedConfig(None, None, None, []))

    @app.get("/v1/broken-for-the-test")
    async def broken() -> None:
        raise RuntimeError("a secret detail")

    answer = TestClient(app, raise_server_exceptions=False).get("/v1/broken-for-the-test")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": {
            "type": "AgentGoError",
            "message": "the server failed (RuntimeError); its log has more",
            "exit_code": 1,
        }
    }


def test_a_traceparent_header_that_is_not_valid_is_ignored(served: Served) -> None:
    body = {"intent": "shapes.area", "input": SHAPE_INPUT}
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    joined = post(served, "/v1/calls", body, headers={**served.headers, "traceparent": parent})
    assert joined.status_code == 200
    assert joined.json()["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert joined.json()["parent_span_id"] == "b7ad6b7169203331"
    for bad in ("", ":o", "00-" + "0" * 32 + "-b7ad6b7169203331-01"):
        fresh = post(served, "/v1/calls", body, headers={**served.headers, "traceparent": bad})
        assert fresh.status_code == 200, (bad, fresh.text)
        assert fresh.json()["trace_id"] != "0af7651916cd43dd8448eb211c80319c"
        assert fresh.json()["parent_span_id"] != "b7ad6b7169203331"
    refused = post(served, "/v1/calls", {**body, "traceparent": ":o"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("--traceparent: a traceparent is ")


def test_a_route_added_later_is_in_the_finished_document() -> None:
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.server.app import create_app

    app = create_app(LoadedConfig(None, None, None, []))
    assert "/v1/later" not in app.openapi()["paths"]

    @app.get("/v1/later", summary="Added after the document was made.")
    async def later() -> dict[str, str]:
        return {}

    doc = app.openapi()
    assert doc["paths"]["/v1/later"]["get"]["operationId"] == "later"
    assert doc["security"] == [{"bearer": []}]
    assert AGENT_CARD_PATH in doc["paths"]
    assert doc["paths"]["/healthz"]["get"]["security"] == []


def test_a_query_parameter_the_route_does_not_take_is_refused(served: Served) -> None:
    answer = get(served, "/v1/jobs?stauts=failed")
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "type": "UsageError",
        "message": "invalid request: query.stauts: not a parameter of this route (it takes "
        "limit, principal, status)",
        "exit_code": 2,
    }
    assert get(served, "/v1/models?verbose=1").json()["error"]["message"] == (
        "invalid request: query.verbose: not a parameter of this route (it takes none)"
    )
    assert get(served, "/v1/jobs?stauts=failed", headers={}).status_code == 401
    assert get(served, "/v1/jobs?status=failed&limit=3").status_code == 200

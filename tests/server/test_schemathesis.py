"""schemathesis against a running ``agentgo serve`` app, over every operation of its
OpenAPI document (the /v1 routes, the health checks and the A2A agent card): requests
made from the document (valid and invalid ones), sent with a token, never get a 5xx, and
every answer matches the document (its status is listed, its content type and body are
the ones documented, a route that needs a token refuses a request without one, a wrong
method is 405 with Allow).

An intent's own document is checked the same way, with one thing more: a request it
allows (an input its input schema takes) is accepted, one it refuses is refused.

Bounded for the test run: a fixed number of examples per operation, derandomised.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agentgo_cli.server.openapi import server_document
from tests.server.openapi_project import IMPERSONATOR, TOKEN, Served, serving

EXAMPLES = 25


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("fuzzed")) as running:
        yield running


def _with_token(token: str) -> SchemathesisConfig:
    """schemathesis's configuration: requests carry ``token`` as the document's bearer
    scheme asks (so schemathesis knows they are authenticated, and tests leaving it out)."""
    return SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": token}}}})


schema = schemathesis.openapi.from_dict(server_document(), config=_with_token(TOKEN))


@pytest.fixture(scope="module")
def direct() -> Iterator[requests.Session]:
    """schemathesis's HTTP session, never sent through a proxy of the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: Any, served: Served, direct: requests.Session
) -> None:
    # Valid requests may still be refused (a job or intent that does not exist, a path
    # outside the project): the documented 4xx answers them, so positive data is not
    # required to succeed here.
    case.call_and_validate(
        base_url=served.url,
        session=direct,
        excluded_checks=[positive_data_acceptance],
        timeout=30,
    )


def answered(
    served: Served, session: requests.Session, method: str, path: str, **parts: Any
) -> Any:
    """Send one request of ours through its operation of the document; its answer, checked
    as the generated ones are (status, content type, body)."""
    case = schema[path][method].Case(**parts)
    return case.call_and_validate(
        base_url=served.url,
        session=session,
        headers=served.headers,  # a case made by hand gets no auth of the configuration
        excluded_checks=[positive_data_acceptance],
        timeout=30,
    )


def test_answers_about_real_jobs_and_calls_are_as_documented(
    served: Served, direct: requests.Session
) -> None:
    ask = functools.partial(answered, served, direct)

    ran = ask("POST", "/v1/jobs", body={"workflow": "wf", "inputs": {"topic": "a b"}})
    assert ran.status_code == 200
    job = {"job_id": ran.json()["job_id"]}
    done = ask("GET", "/v1/jobs/{job_id}/wait", path_parameters=job)
    assert (done.status_code, done.json()["status"]) == (200, "succeeded")
    queued = ask("POST", "/v1/jobs", body={"workflow": "wf", "detach": True})
    assert (queued.status_code, queued.json()["status"]) == (200, "queued")
    waiting = {"job_id": queued.json()["job_id"]}

    assert ask("GET", "/v1/jobs").status_code == 200
    for path in ("/v1/jobs/{job_id}", "/v1/jobs/{job_id}/logs", "/v1/jobs/{job_id}/trace"):
        assert ask("GET", path, path_parameters=job).status_code == 200
    queued_now = ask(
        "GET", "/v1/jobs/{job_id}/wait", path_parameters=waiting, query={"timeout": 0.2}
    )
    assert (queued_now.status_code, queued_now.json()["status"]) == (200, "queued")
    events = ask("GET", "/v1/jobs/{job_id}/events", path_parameters=job)
    assert events.status_code == 200
    assert events.text.endswith("event: end\ndata: {}\n\n")
    cancelled = ask("POST", "/v1/jobs/{job_id}/cancel", path_parameters=waiting)
    assert cancelled.status_code == 200

    slow = ask("POST", "/v1/jobs", body={"workflow": "slow"})
    napping = {"job_id": slow.json()["job_id"]}
    still = ask("GET", "/v1/jobs/{job_id}/wait", path_parameters=napping, query={"timeout": 0.2})
    assert (still.status_code, still.json()["status"]) == (202, "running")
    stopped = ask("POST", "/v1/jobs/{job_id}/interrupt", path_parameters=napping)
    assert stopped.status_code == 200
    resumed = ask("POST", "/v1/jobs/{job_id}/resume", path_parameters=napping)
    assert resumed.status_code == 200
    ended = ask("GET", "/v1/jobs/{job_id}/wait", path_parameters=napping)
    assert (ended.status_code, ended.json()["status"]) == (200, "succeeded")

    call = {"intent": "shapes.area", "input": {"shape": {"kind": "circle", "size": 1}}}
    assert ask("POST", "/v1/calls", body=call).json()["output"]["area"] == 2.5
    assert ask("POST", "/v1/plan", body={"workflow": "wf"}).status_code == 200
    assert ask("POST", "/v1/validate", body={}).json()["valid"] is True
    shown = ask("POST", "/v1/catalog/show", body={"intent": "shapes.area"})
    assert shown.json()["version"] == "2.0.0"
    document = ask(
        "GET",
        "/v1/catalog/intents/{name}/openapi.json",
        path_parameters={"name": "shapes.area"},
    )
    assert document.json()["openapi"] == "3.1.0"


def test_calls_made_from_an_intent_document_answer_as_it_says(
    served: Served, direct: requests.Session
) -> None:
    url = f"{served.url}/v1/catalog/intents/shapes.area/openapi.json"
    document = httpx.get(url, headers=served.headers, timeout=30, trust_env=False).json()
    # The token may act as anyone, so a principal and scopes the document allows are
    # taken as they are; the intent has no ACL.
    loaded = schemathesis.openapi.from_dict(document, config=_with_token(IMPERSONATOR))
    call = loaded["/v1/calls"]["POST"]
    seen: dict[int, int] = {}

    @settings(
        max_examples=2 * EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        call.as_strategy(generation_mode=GenerationMode.POSITIVE)
        | call.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )
    def one(case: Any) -> None:
        answer = case.call_and_validate(base_url=served.url, session=direct, timeout=30)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1

    one()
    assert seen.get(200, 0) > 0 and seen.get(422, 0) > 0, seen

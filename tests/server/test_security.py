"""Who may do what through ``agentgo serve``, against a real server on a loopback port: no
token or a wrong one is 401; a token sees and steers only its own principal's jobs; ``--as``
and scopes beyond the token's are 403; an ACL refusal is 403; bodies too large are 413;
garbage never gets a 5xx; paths outside the project are 400; no CORS unless configured;
a slow request is 504."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.serving import TOKENS, ThreadServer, write_project


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    root = tmp_path_factory.mktemp("secure")
    server = ThreadServer(write_project(root, "max_body_bytes: 4096"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bobs_job(served: ThreadServer) -> str:
    """A job bob ran to its end."""
    with served.client("bob") as http:
        job = http.post("/v1/jobs", json={"workflow": "quick"}).json()
        done = http.get(f"/v1/jobs/{job['job_id']}/wait", params={"timeout": 30})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"
    job_id: str = job["job_id"]
    return job_id


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# -- who you are ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token-of-this-server", f"Basic {TOKENS['alice']}", "Bearer", "Token x"],
    ids=["none", "unknown", "basic-scheme", "no-token", "other-scheme"],  # no token in an id
)
def test_no_known_token_is_401_with_a_bearer_challenge(
    served: ThreadServer, authorization: str | None
) -> None:
    sent = {} if authorization is None else {"Authorization": authorization}
    with served.client() as http:
        for response in (
            http.get("/v1/jobs", headers=sent),
            http.post("/v1/jobs", json={"workflow": "quick"}, headers=sent),
            http.post("/v1/calls", json={"intent": "research.summarize"}, headers=sent),
            http.get("/v1/models", headers=sent),
        ):
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == "Bearer"
            assert _error(response)["type"] == "Unauthenticated"


def test_a_token_configured_by_its_sha256_is_known(served: ThreadServer) -> None:
    with served.client("root") as http:
        assert http.get("/v1/jobs").status_code == 200


def test_health_needs_no_token(served: ThreadServer) -> None:
    with served.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"status": "ready"}


# -- whose jobs -----------------------------------------------------------------------------


def test_alice_cannot_read_or_steer_bobs_job(served: ThreadServer, bobs_job: str) -> None:
    with served.client("alice") as http:
        answers = {
            "show": http.get(f"/v1/jobs/{bobs_job}"),
            "logs": http.get(f"/v1/jobs/{bobs_job}/logs"),
            "trace": http.get(f"/v1/jobs/{bobs_job}/trace"),
            "events": http.get(f"/v1/jobs/{bobs_job}/events"),
            "wait": http.get(f"/v1/jobs/{bobs_job}/wait"),
            "cancel": http.post(f"/v1/jobs/{bobs_job}/cancel"),
            "resume": http.post(f"/v1/jobs/{bobs_job}/resume"),
            "interrupt": http.post(f"/v1/jobs/{bobs_job}/interrupt"),
        }
        missing = http.get("/v1/jobs/j-doesnotexist")
    for what, response in answers.items():
        assert response.status_code == 404, (what, response.text)
        # The same answer as for a job that does not exist: nothing tells it is there.
        assert _error(response)["message"] == f"no job '{bobs_job}'", what
    assert _error(missing)["message"] == "no job 'j-doesnotexist'"


def test_jobs_list_shows_only_the_callers_own(served: ThreadServer, bobs_job: str) -> None:
    with served.client("alice") as http:
        assert bobs_job not in [j["job_id"] for j in http.get("/v1/jobs").json()]
        assert http.get("/v1/jobs", params={"principal": "user:bob"}).json() == []
        assert http.get("/v1/completions", params={"what": "job"}).json() == []
    with served.client("bob") as http:
        listed = http.get("/v1/jobs").json()
        assert bobs_job in [j["job_id"] for j in listed]
        assert {j["principal"] for j in listed} == {"user:bob"}
        assert http.get(f"/v1/jobs/{bobs_job}").status_code == 200


def test_an_admin_token_sees_every_principals_jobs(served: ThreadServer, bobs_job: str) -> None:
    with served.client("root") as http:
        assert bobs_job in [j["job_id"] for j in http.get("/v1/jobs").json()]
        assert http.get(f"/v1/jobs/{bobs_job}/logs").status_code == 200


# -- acting as someone else -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/v1/jobs", {"workflow": "quick", "principal": "user:bob"}),
        (
            "/v1/calls",
            {"intent": "research.summarize", "input": {"topic": "x"}, "principal": "user:bob"},
        ),
    ],
)
def test_acting_as_another_principal_needs_impersonation(
    served: ThreadServer, route: str, body: dict[str, Any]
) -> None:
    with served.client("alice") as http:
        refused = http.post(route, json=body)
    assert refused.status_code == 403, refused.text
    assert _error(refused) == {
        "type": "Denied",
        "message": "this token runs as user:alice; acting as user:bob (--as) needs the scope "
        "'agentgo:impersonate'",
        "exit_code": 4,
    }


def test_a_principal_field_naming_the_token_itself_is_fine(served: ThreadServer) -> None:
    with served.client("alice") as http:
        job = http.post("/v1/jobs", json={"workflow": "quick", "principal": "user:alice"})
    assert job.status_code == 200, job.text
    assert job.json()["principal"] == "user:alice"


def test_an_impersonating_token_runs_as_whom_it_names(served: ThreadServer) -> None:
    with served.client("gate") as http:
        job = http.post("/v1/jobs", json={"workflow": "quick", "principal": "user:carol"}).json()
        assert job["principal"] == "user:carol"
        # It follows the job it started for carol; carol's own list has it too.
        assert http.get(f"/v1/jobs/{job['job_id']}/wait").json()["status"] == "succeeded"
    with served.client("alice") as http:
        assert http.get(f"/v1/jobs/{job['job_id']}").status_code == 404


def test_scopes_the_token_lacks_are_refused(served: ThreadServer) -> None:
    with served.client("alice") as http:
        refused = http.post("/v1/jobs", json={"workflow": "quick", "scopes": ["research.write"]})
        held = http.post("/v1/jobs", json={"workflow": "quick", "scopes": ["research.read"]})
    assert refused.status_code == 403
    assert _error(refused)["message"] == "this token does not hold the scope(s) research.write"
    assert held.status_code == 200, held.text


def test_a_call_the_acl_refuses_is_403(served: ThreadServer) -> None:
    call = {"intent": "research.summarize", "input": {"topic": "tea"}}
    with served.client("bob") as http:  # bob lacks the scope research.read
        refused = http.post("/v1/calls", json=call)
        # A scope asked for in the body does not help: it is not the token's.
        forged = http.post("/v1/calls", json={**call, "scopes": ["research.read"]})
    with served.client("alice") as http:
        allowed = http.post("/v1/calls", json=call)
    assert refused.status_code == 403, refused.text
    assert _error(refused)["type"] == "CallError"
    assert _error(refused)["code"] == "denied"
    assert forged.status_code == 403
    assert _error(forged)["message"] == "this token does not hold the scope(s) research.read"
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["output"] == "draft about Summarize tea."


# -- what you send --------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(served: ThreadServer) -> None:
    big = {"workflow": "quick", "inputs": {"text": "x" * 5000}}
    with served.client("alice") as http:
        declared = http.post("/v1/jobs", json=big)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            data = json.dumps(big).encode()
            for n in range(0, len(data), 1000):
                yield data[n : n + 1000]

        streamed = http.post(
            "/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"}
        )
        small = http.post("/v1/jobs", json={"workflow": "quick", "inputs": {"text": "x" * 100}})
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert _error(response)["message"] == "the request body is larger than 4096 bytes"
    assert small.status_code == 200


ROUTES = [
    ("POST", "/v1/jobs"),
    ("POST", "/v1/calls"),
    ("POST", "/v1/validate"),
    ("POST", "/v1/plan"),
    ("POST", "/v1/catalog/list"),
    ("POST", "/v1/catalog/show"),
    ("POST", "/v1/models/ping"),
    ("POST", "/v1/jobs/j-x/resume"),
]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
_fields = st.sampled_from(
    ["workflow", "intent", "input", "inputs", "paths", "principal", "scopes", "ref", "detach"]
)
_bodies = st.one_of(
    st.binary(max_size=200),  # not JSON at all
    _json.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_fields, _json, max_size=5).map(lambda v: json.dumps(v).encode()),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(ROUTES), body=_bodies)
def test_garbage_bodies_never_get_a_5xx(
    served: ThreadServer, route: tuple[str, str], body: bytes
) -> None:
    method, path = route
    with served.client("alice") as http:
        response = http.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code >= 400:
        assert set(_error(response)) >= {"type", "message", "exit_code"}


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/v1/validate", {"paths": ["../outside.yaml"]}),
        ("/v1/validate", {"paths": ["/etc/passwd"]}),
        ("/v1/jobs", {"workflow": "../../elsewhere/wf.yaml"}),
        ("/v1/plan", {"workflow": "/tmp/wf.yaml"}),
        ("/v1/catalog/list", {"paths": ["m/../../"]}),
    ],
)
def test_a_path_outside_the_project_is_400(
    served: ThreadServer, route: str, body: dict[str, Any]
) -> None:
    with served.client("alice") as http:
        refused = http.post(route, json=body)
    assert refused.status_code == 400, refused.text
    assert "the server reads only files of its project" in _error(refused)["message"]


# -- CORS and time limits -------------------------------------------------------------------

PREFLIGHT = {
    "Origin": "http://127.0.0.1:5173",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def test_no_cors_headers_by_default(served: ThreadServer) -> None:
    with served.client("alice") as http:
        preflight = http.options("/v1/jobs", headers=PREFLIGHT)
        simple = http.get("/v1/jobs", headers={"Origin": PREFLIGHT["Origin"]})
    for response in (preflight, simple):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """A server allowing one CORS origin, with a request time limit of 0.3 s."""
    root = tmp_path_factory.mktemp("tuned")
    serve = "cors_origins: ['http://127.0.0.1:5173']\nrequest_timeout: 0.3"
    server = ThreadServer(write_project(root, serve))
    try:
        yield server
    finally:
        server.stop()


def test_cors_for_a_configured_origin_only(tuned: ThreadServer) -> None:
    with tuned.client("alice") as http:
        preflight = http.options("/v1/jobs", headers=PREFLIGHT)
        other = http.options("/v1/jobs", headers={**PREFLIGHT, "Origin": "http://127.0.0.1:9"})
        simple = http.get("/v1/jobs", headers={"Origin": PREFLIGHT["Origin"]})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PREFLIGHT["Origin"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == PREFLIGHT["Origin"]


def test_a_request_over_the_time_limit_is_504(tuned: ThreadServer) -> None:
    with tuned.client("alice") as http:
        slow = http.post("/v1/calls", json={"intent": "slow.ponder", "input": {"topic": "x"}})
        quick = http.post(
            "/v1/calls", json={"intent": "research.summarize", "input": {"topic": "x"}}
        )
    assert slow.status_code == 504, slow.text
    assert _error(slow)["message"] == "the request took longer than 0.3s"
    assert quick.status_code == 200, quick.text

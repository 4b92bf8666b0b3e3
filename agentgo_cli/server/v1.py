"""The ``/v1`` HTTP API: every Backend method as an endpoint, the view models as bodies.

Each request is authenticated by its bearer token (``server.auth``); the principal of a
job or call is the token's. A job is seen and steered only by its own principal (or a token
with ``agentgo:admin``): another's job is answered 404, as if it did not exist.

Paths in requests (a workflow file, ``validate``'s files) name files of the server's
project: relative to the folder of its agentgo.yaml, never outside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from agentgo_cli.backend import views as v
from agentgo_cli.backend.wire import ErrorBody, dumps
from agentgo_cli.errors import NotFoundError, UsageError
from agentgo_cli.server.auth import Caller

if TYPE_CHECKING:
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.server.app import ServerState

__all__ = ["ERRORS", "router"]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorBody}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("A usage mistake: bad arguments, a path outside the project, a bad config."),
    401: _error("No bearer token, or one the server does not know."),
    403: _error("The token may not do this (ACL, --as without impersonation)."),
    404: _error("No such job, intent or workflow (or not the caller's)."),
    409: _error("The idempotency key was used before with another input."),
    413: _error("The request body is too large."),
    422: _error(
        "The request breaks this document (a body or query value of another type, a field "
        "or parameter the route does not take), invalid manifests, a call's input that "
        "breaks the intent's input schema (exit 5), or a failed step."
    ),
    429: _error("The intent's rate limit refused the call."),
    500: _error("The store failed, or the server did (its log has more)."),
    502: _error("A call's target failed or answered invalid output."),
    503: _error("The server is starting or stopping, or a model provider failed."),
    504: _error("The request took longer than the server allows."),
}
"""The error answers every /v1 route may give, each with the error body (``backend.wire``)."""


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.agentgo
    return state


async def caller(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    """The request's caller, from its bearer token (401 without a known one).

    This and ``_backend`` are ``async`` although they never wait: FastAPI runs a plain
    ``def`` dependency in a worker thread, and that hop cost a call about a tenth of its
    time in the server."""
    return _state(request).tokens.caller(authorization)


Authed = Annotated[Caller, Depends(caller)]


async def _known_query(request: Request, who: Authed) -> None:
    """Refuse a query parameter the route does not take (422), as a body's unknown field
    is: ``?stauts=failed`` would otherwise list every job. After the token (401 first)."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    known = _QUERY_NAMES.get(id(route))
    if known is None:
        from fastapi.dependencies.utils import get_flat_params

        dependant = getattr(route, "dependant", None)
        flat = get_flat_params(dependant) if dependant is not None else []
        known = _QUERY_NAMES[id(route)] = frozenset(
            f.alias for f in flat if isinstance(f.field_info, params.Query)
        )
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": f"not a parameter of this route (it takes {takes})"}
                for name in unknown
            ]
        )


_QUERY_NAMES: dict[int, frozenset[str]] = {}
"""The query parameters of each route (by the route's id), found once."""


class WireJSON(JSONResponse):
    """A JSON answer written by ``wire.dumps``: a text with a lone surrogate (a tool or a
    model may give one) is sent escaped, and reads back exactly, instead of failing."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


router = APIRouter(
    default_response_class=WireJSON, responses=ERRORS, dependencies=[Depends(_known_query)]
)


async def _backend(request: Request) -> LocalBackend:
    return _state(request).local()


Local = Annotated["LocalBackend", Depends(_backend)]


def _in_project(request: Request, given: str) -> str:
    """A path of a request as a file of the server's project (UsageError outside it).

    It is named relative to the server's working folder when inside it, as a command run
    there names it, so messages quoting it read as they do locally; a path that does not
    exist is left to the backend, which reports it as a local run does.
    """
    if "\0" in given:
        raise UsageError(f"{given!r}: a path cannot hold a NUL character")
    config = _state(request).config
    root = (config.path.parent if config.path else Path.cwd()).resolve()
    path = Path(given)
    full = (path if path.is_absolute() else root / path).resolve()
    if full != root and root not in full.parents:
        raise UsageError(f"{given}: the server reads only files of its project ({root.name}/)")
    here = Path.cwd().resolve()
    if full == here or here in full.parents:
        return full.relative_to(here).as_posix() or "."
    return str(full)


def _workflow_ref(request: Request, ref: str) -> str:
    """A workflow name as it is; a workflow file as a file of the server's project."""
    if "/" in ref or ref.endswith((".yaml", ".yml")):
        return _in_project(request, ref)
    return ref


async def _timed(request: Request, work: Any) -> Any:
    """Await ``work`` within the server's request timeout (UsageError-shaped 504 after)."""
    limit = _state(request).settings.request_timeout
    try:
        async with asyncio.timeout(limit):
            return await work
    except TimeoutError:
        raise _Timeout(f"the request took longer than {limit:g}s") from None


class _Timeout(UsageError):
    """The request ran out of time (HTTP 504)."""

    http_status = 504


async def _own_job(backend: LocalBackend, who: Caller, job_id: str) -> v.JobDetailView:
    """The job, if the caller may see it; NotFoundError otherwise (the same answer as for
    a job that does not exist)."""
    job = await backend.job(job_id)
    if not who.may_see(job.principal):
        raise NotFoundError(f"no job '{job_id}'")
    return job


# -- manifests ------------------------------------------------------------------------------


@router.post("/validate", tags=["manifests"], summary="Validate a manifest set.")
async def validate(
    body: v.ValidateRequest, request: Request, who: Authed, backend: Local
) -> v.ValidationReport:
    body.paths = [_in_project(request, p) for p in body.paths]
    report: v.ValidationReport = await _timed(request, backend.validate(body))
    return report


@router.post("/plan", tags=["manifests"], summary="A workflow's step graph, without running it.")
async def plan(body: v.PlanRequest, request: Request, who: Authed, backend: Local) -> v.PlanView:
    body.workflow = _workflow_ref(request, body.workflow)
    return await backend.plan(body)


# -- jobs -----------------------------------------------------------------------------------


@router.post("/jobs", tags=["jobs"], summary="Start a job (or only enqueue it: detach).")
async def jobs_submit(
    body: v.RunRequest, request: Request, who: Authed, backend: Local
) -> v.JobView:
    body.workflow = _workflow_ref(request, body.workflow)
    if body.input_file is not None:
        raise UsageError("send an input file's values as 'input_data', not its path")
    body.principal, body.scopes = who.bind(body.principal, body.scopes)
    return await backend.submit(body)


@router.get("/jobs", tags=["jobs"], summary="Jobs, newest first.")
async def jobs_list(
    who: Authed,
    backend: Local,
    status: Annotated[v.JobStatus | None, Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many jobs.")] = 50,
    principal: Annotated[
        str | None,
        Query(description="Only this principal's jobs (another's needs agentgo:admin)."),
    ] = None,
) -> list[v.JobView]:
    if not who.admin:
        if principal is not None and principal != who.principal:
            return []
        principal = who.principal
    return await backend.jobs(v.JobsQuery(status=status, limit=limit, principal=principal))


@router.get("/jobs/{job_id}", tags=["jobs"], summary="One job with its steps.")
async def jobs_show(job_id: str, who: Authed, backend: Local) -> v.JobDetailView:
    return await _own_job(backend, who, job_id)


@router.get(
    "/jobs/{job_id}/wait",
    tags=["jobs"],
    summary="Wait for a job to end (at most `timeout` seconds; 202 if it has not).",
    response_model=v.JobView,
    responses={
        200: {
            "description": "The job has ended; or it does not run in this server (queued "
            "for a worker, or run by another process): then it is as it is now."
        },
        202: {
            "description": "Still running in this server after `timeout` seconds: ask again.",
            "model": v.JobView,
        },
    },
)
async def jobs_wait(
    job_id: str,
    who: Authed,
    backend: Local,
    within: Annotated[
        float, Query(alias="timeout", gt=0, le=300, description="Seconds to wait at most.")
    ] = 30.0,
) -> JSONResponse:
    await _own_job(backend, who, job_id)
    try:
        async with asyncio.timeout(within):
            done = await asyncio.shield(backend.wait(job_id))
    except TimeoutError:
        now = await backend.job(job_id)
        return WireJSON(v.JobView(**_job_fields(now)).model_dump(mode="json"), 202)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # this request was cancelled, not only the job's run
        from agentgo_cli.server.app import Unavailable

        # The server stops: the job was given up at its last committed step.
        raise Unavailable(
            f"the server is stopping: job {job_id} was given up, to be resumed by the next "
            f"server or worker ('agentgo jobs watch {job_id}' follows it there)"
        ) from None
    return WireJSON(done.model_dump(mode="json"))


def _job_fields(detail: v.JobDetailView) -> dict[str, Any]:
    return {k: getattr(detail, k) for k in v.JobView.model_fields}


@router.post("/jobs/{job_id}/resume", tags=["jobs"], summary="Take over a stopped job.")
async def jobs_resume(
    job_id: str, who: Authed, backend: Local, body: v.ResumeRequest | None = None
) -> v.JobView:
    await _own_job(backend, who, job_id)
    request = body or v.ResumeRequest(job_id=job_id)
    request.job_id = job_id
    return await backend.resume(request)


@router.post("/jobs/{job_id}/cancel", tags=["jobs"], summary="Ask a job to stop.")
async def jobs_cancel(job_id: str, who: Authed, backend: Local) -> v.JobView:
    await _own_job(backend, who, job_id)
    return await backend.cancel(job_id)


@router.post(
    "/jobs/{job_id}/interrupt", tags=["jobs"], summary="Stop a job now, to be resumed later."
)
async def jobs_interrupt(job_id: str, who: Authed, backend: Local) -> v.JobDetailView:
    await _own_job(backend, who, job_id)
    return await backend.interrupt(job_id)


@router.get("/jobs/{job_id}/logs", tags=["jobs"], summary="A job's stored log.")
async def jobs_logs(
    job_id: str,
    who: Authed,
    backend: Local,
    after: Annotated[int, Query(ge=0, description="Only log lines after this seq.")] = 0,
) -> list[v.EventView]:
    await _own_job(backend, who, job_id)
    return await backend.logs(v.LogsRequest(job_id=job_id, after=after))


@router.get("/jobs/{job_id}/trace", tags=["jobs"], summary="A job's trace as a tree.")
async def jobs_trace(
    job_id: str,
    who: Authed,
    backend: Local,
    step: Annotated[
        str | None, Query(description="Only the subtree of this step (a trace path).")
    ] = None,
) -> v.TraceNode:
    await _own_job(backend, who, job_id)
    return await backend.trace(v.TraceRequest(job_id=job_id, step=step))


_SSE = {
    "description": "Server-sent events until the job ends: each event's `data:` is one "
    "EventView (JSON); a last `event: end` (data `{}`) says the job has ended.",
    "content": {
        "text/event-stream": {
            "schema": {
                "description": "One event of the stream (OpenAPI 3.1: the schema of each).",
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "event": {"const": "message"},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": {"$ref": "#/components/schemas/EventView"},
                            },
                        },
                    },
                    {
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {"event": {"const": "end"}, "data": {"const": "{}"}},
                    },
                ],
            },
            "example": 'data: {"seq": 1, "time": 1764680000.5, "kind": "job", "message": '
            '"started", "data": null, "job_id": "j-1", "step": null}\n\n'
            "event: end\ndata: {}\n\n",
        }
    },
}


@router.get(
    "/jobs/{job_id}/events",
    tags=["jobs"],
    summary="A job's events as they happen (server-sent events, one EventView each).",
    response_class=StreamingResponse,
    responses={200: _SSE},
)
async def jobs_events(job_id: str, who: Authed, backend: Local) -> StreamingResponse:
    await _own_job(backend, who, job_id)
    # An ended job reads as in a local watch from another shell, though it ran here.
    events = backend.watch(job_id, ended_from_store=True)
    return StreamingResponse(_sse(events), media_type="text/event-stream")


async def _sse(events: AsyncIterator[v.EventView]) -> AsyncIterator[bytes]:
    async for event in events:
        yield b"data: " + dumps(event.model_dump(mode="json")) + b"\n\n"
    yield b"event: end\ndata: {}\n\n"


@router.get("/completions", tags=["jobs"], summary="Candidates for shell completion.")
async def completions(
    who: Authed,
    backend: Local,
    what: Annotated[str, Query(pattern="^(workflow|intent|job)$", description="What to complete.")],
    incomplete: Annotated[str, Query(description="What has been typed so far.")] = "",
) -> list[str]:
    if what == "job":
        query = v.JobsQuery(limit=50, principal=None if who.admin else who.principal)
        return [j.job_id for j in await backend.jobs(query) if j.job_id.startswith(incomplete)]
    return await backend.completions(what, incomplete)


# -- catalog and calls ----------------------------------------------------------------------


@router.post("/catalog/list", tags=["catalog"], summary="The intents of a manifest set.")
async def catalog_list(
    body: v.CatalogRequest, request: Request, who: Authed, backend: Local
) -> list[v.CatalogEntryView]:
    body.paths = [_in_project(request, p) for p in body.paths]
    return await backend.catalog(body)


@router.post("/catalog/show", tags=["catalog"], summary="One intent version.")
async def catalog_show(
    body: v.IntentRequest, request: Request, who: Authed, backend: Local
) -> v.IntentView:
    body.paths = [_in_project(request, p) for p in body.paths]
    return await backend.intent(body)


_OPENAPI = {
    "description": "The intent's OpenAPI 3.1 document: POST /v1/calls with this intent "
    "version, its input schema (component Input) and output schema (component Output).",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["openapi", "info", "paths", "components"],
                "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}},
            }
        }
    },
}


@router.get(
    "/catalog/intents/{name}/openapi.json",
    tags=["catalog"],
    summary="An OpenAPI 3.1 document of one intent: its call, input and output schemas.",
    response_model=None,
    responses={200: _OPENAPI},
)
async def catalog_intent_openapi(
    name: str, request: Request, who: Authed, backend: Local
) -> dict[str, Any]:
    from agentgo_cli.server.openapi import intent_document

    view = await backend.intent(v.IntentRequest(intent=name))
    return intent_document(view, server_url=str(request.base_url).rstrip("/"))


@router.post("/catalog/export", tags=["catalog"], summary="The catalog as A2A AgentCards.")
async def catalog_export(
    body: v.ExportRequest, request: Request, who: Authed, backend: Local
) -> list[v.ExportedCard]:
    body.paths = [_in_project(request, p) for p in body.paths]
    return await backend.export_cards(body)


@router.post("/calls", tags=["calls"], summary="Call an intent through the call lifecycle.")
async def call(
    body: v.CallRequest,
    request: Request,
    who: Authed,
    backend: Local,
    traceparent: Annotated[
        str | None,
        Header(
            description="A W3C trace context the call joins; one that is not valid is "
            "ignored (a new trace starts), as W3C Trace Context asks. The body's "
            "traceparent, if given, wins (and must be valid)."
        ),
    ] = None,
) -> v.CallResult:
    from agentgo_cli.a2a.trace import parse_traceparent

    body.principal, body.scopes = who.bind(body.principal, body.scopes)
    if body.traceparent is None and traceparent is not None:
        with contextlib.suppress(ValueError):
            parse_traceparent(traceparent)
            body.traceparent = traceparent
    result: v.CallResult = await _timed(request, backend.call(body))
    return result


# -- models ---------------------------------------------------------------------------------


@router.get("/models", tags=["models"], summary="Providers, models in use, and prices.")
async def models_list(who: Authed, backend: Local) -> list[v.ModelView]:
    return await backend.models()


@router.post("/models/ping", tags=["models"], summary="One tiny call to a model.")
async def models_ping(
    body: v.PingRequest, request: Request, who: Authed, backend: Local
) -> v.PingResult:
    result: v.PingResult = await _timed(request, backend.ping_model(body))
    return result

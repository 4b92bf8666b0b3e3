"""The ``agentgo serve`` application: FastAPI over one long-lived LocalBackend.

``create_app`` builds the app for a loaded config; its lifespan opens the backend (store,
model hub, engines) once, starts the in-process workers that run queued jobs, and on
shutdown stops them (running jobs drain to their next committed step, the rest is given up
to be resumed) before the backend closes.

The ``/v1`` routes (``server.v1``) are the Backend's methods, one endpoint each, with the
view models as bodies: ``RemoteBackend`` is their client. Every AgentGoError becomes an
error body (``backend.wire``) with the HTTP status of its exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentgo_cli import __version__
from agentgo_cli.backend.wire import error_body, status_of
from agentgo_cli.errors import AgentGoError, NotFoundError, UsageError
from agentgo_cli.server.auth import Denied, TokenTable, Unauthenticated
from agentgo_cli.server.openapi import OPEN, Health, operation_id
from agentgo_cli.server.openapi import install as install_openapi
from agentgo_cli.server.v1 import WireJSON

if TYPE_CHECKING:
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.manifests.models.config import ServeSettings

__all__ = ["ServerState", "Unavailable", "create_app"]

_log = logging.getLogger("agentgo.serve")


@dataclass
class ServerState:
    """What the routes share: the backend, the tokens, the settings, and readiness."""

    config: LoadedConfig
    settings: ServeSettings
    tokens: TokenTable
    workers: int
    backend: LocalBackend | None = None
    ready: bool = False
    draining: bool = False
    worker_task: asyncio.Task[None] | None = None
    notices: list[str] = field(default_factory=list)
    worker_stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server stops: its workers take no new job."""
    hurry: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by a second SIGTERM or Ctrl-C: give the running jobs up without waiting."""
    _stopping: asyncio.Future[None] | None = None
    startup_error: AgentGoError | None = None
    """Why the backend could not be opened at start (the server serves no work then)."""

    def local(self) -> LocalBackend:
        if self.startup_error is not None:
            raise Unavailable(f"the server could not start: {self.startup_error}")
        if self.backend is None or self.draining:
            raise Unavailable("the server is starting or stopping; try again")
        return self.backend

    async def stop(self) -> None:
        """Stop taking requests and running jobs: the workers take no new job, running jobs
        stop at their next committed step (at most ``serve.drain`` seconds, or until ``hurry``) and
        are given up, to be resumed by the next server or worker. Safe to call again."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        self.ready = False
        self.draining = True
        self.worker_stop.set()
        if self.backend is not None:
            await self.backend.drain(self.settings.drain, self.hurry)
        await _stop_workers(self)


class Unavailable(AgentGoError):
    """The server is starting or stopping (HTTP 503)."""

    http_status = 503


def create_app(
    config: LoadedConfig,
    *,
    workers: int | None = None,
    settings: ServeSettings | None = None,
) -> FastAPI:
    """The app serving ``config``'s active profile. ``workers``: in-process workers for
    queued jobs (default ``serve.workers``); ``settings``: ``serve:`` of the config
    (default: as read from it). Raises ConfigError for tokens that cannot be read."""
    from agentgo_cli.manifests.models.config import ServeSettings

    settings = settings or (config.data.serve if config.data else None) or ServeSettings()
    base = config.path.parent if config.path else None
    state = ServerState(
        config,
        settings,
        TokenTable.from_config(settings.tokens, base),
        settings.workers if workers is None else workers,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from agentgo_cli.backend.local import LocalBackend

        async with LocalBackend(config) as backend:
            try:
                await backend.prepare()
            except AgentGoError as exc:  # the store cannot be opened: said by local()
                state.startup_error = exc  # (and by agentgo serve, which exits with it)
                yield
                return
            state.backend = backend
            if state.workers > 0:
                for job_id in await backend.adopt():
                    _log.info("took over job %s from a process of this host that is gone", job_id)
                state.worker_task = asyncio.ensure_future(_run_workers(state))
            state.ready = True
            try:
                yield
            finally:
                await state.stop()
        state.backend = None

    app = FastAPI(
        title="AgentGo",
        version=__version__,
        summary="Run, watch and call the agents, teams and workflows of an AgentGo project.",
        lifespan=lifespan,
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    install_openapi(app)
    app.state.agentgo = state

    @app.exception_handler(AgentGoError)
    async def _agentgo_error(request: Request, exc: AgentGoError) -> JSONResponse:
        if isinstance(exc, Unauthenticated):
            return WireJSON(
                error_body(exc), status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        status = 403 if isinstance(exc, Denied) else getattr(exc, "http_status", status_of(exc))
        return WireJSON(error_body(exc), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}"
            for err in exc.errors()[:5]
        )
        return WireJSON(error_body(UsageError(f"invalid request: {problems}")), 422)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug of ours: answered with the error body (the server's log keeps the
        # traceback, written by the server after this answer); never the exception's text.
        failed = AgentGoError(f"the server failed ({type(exc).__name__}); its log has more")
        return WireJSON(error_body(failed), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request)
        return WireJSON(
            error_body(_route_error(request, exc, headers)),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.get(
        "/healthz",
        tags=["health"],
        summary="The process is up.",
        response_model=Health,
        openapi_extra=OPEN,
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The store is open and the server takes requests.",
        response_model=Health,
        responses={503: {"description": "Starting or stopping.", "model": Health}},
        openapi_extra=OPEN,
    )
    async def readyz() -> JSONResponse:
        if state.ready and not state.draining:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "stopping" if state.draining else "starting"}, 503)

    from agentgo_cli.server.v1 import router

    app.include_router(router, prefix="/v1")
    from agentgo_cli.server.a2a import mount_a2a

    mount_a2a(app, state)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "traceparent"],
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _route_error(
    request: Request, exc: StarletteHTTPException, headers: dict[str, str]
) -> AgentGoError:
    """Starlette's own refusals (no such route, a method the route does not take) as our
    errors, so every error answer has the same body."""
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return NotFoundError(f"{where}: no such route (see /v1/openapi.json)")
    if exc.status_code == 405:
        allowed = headers["Allow"]
        return UsageError(f"{where}: the route does not take {request.method}; it takes {allowed}")
    return UsageError(f"{where}: {exc.detail}")


def _allowed(request: Request) -> str:
    """The methods of every route of the request's path (Starlette's 405 names only those
    of the first route it found: /v1/jobs takes GET and POST, from two routes)."""
    from starlette.routing import Match

    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _run_workers(state: ServerState) -> None:
    from agentgo_cli.backend.views import WorkRequest

    backend = state.local()
    request = WorkRequest(concurrency=state.workers, poll=0.5, drain=30.0)
    async for notice in backend.work(request, stop=state.worker_stop):
        _log.info("worker: %s", notice.message)


async def _stop_workers(state: ServerState) -> None:
    task = state.worker_task
    if task is None:
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413: by its Content-Length, or, for
    a body that does not say (chunked), by reading it here first, up to the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await _too_large(send, self.limit)
                    return
                await self.app(scope, receive, send)  # the server holds it to its length
                return
        # No length said: the app would see the excess only as a failed read (a 400), so
        # the body is read here, and passed on once it is known to be small enough.
        read: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return read.pop(0) if read else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    import json

    body = error_body(UsageError(f"the request body is larger than {limit} bytes"))
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})

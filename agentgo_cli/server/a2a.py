"""A2A 1.0 on ``agentgo serve``: the agent card and both HTTP bindings, from the a2a-sdk.

``mount_a2a`` adds to the app, with the official a2a-sdk's routes:

- ``GET /.well-known/agent-card.json``: one AgentCard for the whole server, read without a
  token, listing every intent of the profile's catalog as a skill (a2a_card.server_card),
  with both interfaces below; its URLs are the request's own base URL.
- ``POST /a2a/jsonrpc``: the JSON-RPC binding (SendMessage, SendStreamingMessage, GetTask,
  ListTasks, CancelTask, SubscribeToTask, …).
- ``/a2a/rest/…``: the HTTP+JSON binding (``POST /a2a/rest/message:send``,
  ``GET /a2a/rest/tasks/{id}``, …).
- ``POST /a2a/{agent|team}/{name}``: the JSON-RPC binding for one target's skills, where
  the per-target cards of ``agentgo catalog export --url <server>`` point (a message that
  names no skill goes to the target's only one), and that card at
  ``GET /a2a/{agent|team}/{name}/.well-known/agent-card.json``.

Each A2A request is authenticated by its bearer token like the ``/v1`` API, except that no
token at all is the ``anonymous`` caller, whom the ACL lets call ``public`` skills only;
an unknown token is refused with HTTP 401. The operations are ``a2a_tasks.JobTasks``: an
A2A task is a job. The routes are plain Starlette routes, not in the ``/v1`` OpenAPI
document: the A2A bindings are specified by A2A.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from a2a.client.card_resolver import parse_agent_card
from a2a.server.routes import (
    DefaultServerCallContextBuilder,
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.types.a2a_pb2 import AgentCard
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, TransportProtocol
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from agentgo_cli.server.a2a_tasks import CALLER, TARGET, JobTasks
from agentgo_cli.server.auth import Unauthenticated

if TYPE_CHECKING:
    from a2a.server.context import ServerCallContext
    from fastapi import FastAPI

    from agentgo_cli.server.app import ServerState

__all__ = ["CARD_PATH", "JSONRPC_PATH", "REST_PATH", "mount_a2a"]

CARD_PATH = AGENT_CARD_WELL_KNOWN_PATH
JSONRPC_PATH = "/a2a/jsonrpc"
REST_PATH = "/a2a/rest"
TARGET_PATH = "/a2a/{kind}/{name}"
"""One target's JSON-RPC endpoint (a2a_card.interface_url); after the two above, which win."""

_Endpoint = Callable[[Request], Awaitable[Response]]
_BASE_URL: ContextVar[str] = ContextVar("agentgo_a2a_base_url", default="")
"""The base URL of the request the card is being made for."""


def mount_a2a(app: FastAPI, state: ServerState) -> None:
    """Add the agent card and the A2A JSON-RPC and HTTP+JSON routes to ``app``."""
    handler = JobTasks(state)
    contexts = _Contexts()
    routes: list[BaseRoute] = []
    for path in (JSONRPC_PATH, JSONRPC_PATH + "/"):  # '<url>/' too: the A2A TCK posts there
        for rpc in create_jsonrpc_routes(handler, path, context_builder=contexts):
            routes.append(_authed(rpc, state, _jsonrpc_refusal))
    for rest in create_rest_routes(handler, context_builder=contexts, path_prefix=REST_PATH):
        if isinstance(rest, Route):  # tenants (the /{tenant}/… mount) are not served
            routes.append(_authed(rest, state, _rest_refusal))
    routes.append(_card_route(state))
    routes.append(Route(TARGET_PATH + CARD_PATH, _target_card(state), methods=["GET"]))
    for rpc in create_jsonrpc_routes(handler, TARGET_PATH, context_builder=contexts):
        routes.append(_authed(_targets_only(rpc), state, _jsonrpc_refusal))
    app.router.routes.extend(routes)


def _targets_only(route: Route) -> Route:
    """The route for agents' and teams' paths only (404 for any other /a2a/x/y)."""
    inner: _Endpoint = route.endpoint

    async def endpoint(request: Request) -> Response:
        from agentgo_cli.errors import NotFoundError

        if request.path_params.get("kind") not in ("agent", "team"):
            raise NotFoundError(f"no A2A endpoint at {request.url.path}")
        return await inner(request)

    return Route(route.path, endpoint, methods=list(route.methods or ()), name=route.name)


class _Contexts(DefaultServerCallContextBuilder):
    """The sdk's call context, with the request's Caller (set by ``_authed``) in its state."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state[CALLER] = request.scope.get(CALLER)
        context.state.get("headers", {}).pop("authorization", None)  # the caller is enough
        params = request.path_params
        if "kind" in params and "name" in params:
            context.state[TARGET] = f"{params['kind']}:{params['name']}"
        return context


def _authed(
    route: Route, state: ServerState, refusal: Callable[[Unauthenticated], Response]
) -> Route:
    """The route behind a check of its request's bearer token: none is ``anonymous``, an
    unknown or malformed one is refused (HTTP 401, in the binding's error shape)."""
    inner: _Endpoint = route.endpoint

    async def endpoint(request: Request) -> Response:
        header = request.headers.get("authorization")
        try:
            caller = state.tokens.caller(header, anonymous_ok=True)
        except Unauthenticated as exc:
            return refusal(exc)
        request.scope[CALLER] = caller
        return await inner(request)

    methods = sorted(m for m in route.methods or () if m != "HEAD")
    return Route(route.path, endpoint, methods=methods, name=route.name)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="agentgo"'}


_ERROR_INFO = {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    "reason": "UNAUTHENTICATED",
    "domain": "a2a-protocol.org",
    "metadata": {},
}
"""What an A2A error carries in its details (JSON-RPC: ``data``), as the sdk writes it."""


def _jsonrpc_refusal(exc: Unauthenticated) -> Response:
    error = {"code": -32040, "message": str(exc), "data": [_ERROR_INFO]}
    body = {"jsonrpc": "2.0", "id": None, "error": error}
    return JSONResponse(body, status_code=401, headers=_CHALLENGE)


def _rest_refusal(exc: Unauthenticated) -> Response:
    error = {"code": 401, "status": "UNAUTHENTICATED", "message": str(exc)}
    body = {"error": {**error, "details": [_ERROR_INFO]}}
    return JSONResponse(body, status_code=401, headers=_CHALLENGE)


def _card_route(state: ServerState) -> Route:
    """The sdk's agent card route (ETag, If-None-Match), its card made per request from
    the catalog as it is now, with the request's base URL."""

    async def current(_: AgentCard) -> AgentCard:
        return await server_card(state, _BASE_URL.get())

    placeholder = parse_agent_card(  # replaced per request; complete, so the sdk stays quiet
        {
            "name": "agentgo",
            "description": "AgentGo",
            "version": "0",
            "supportedInterfaces": [
                {"url": JSONRPC_PATH, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
            ],
            "capabilities": {"streaming": True},
            "defaultInputModes": ["application/json"],
            "defaultOutputModes": ["application/json"],
            "skills": [{"id": "-", "name": "-", "description": "-", "tags": ["-"]}],
        }
    )
    # no-cache: clients revalidate it by its ETag each time (the catalog may have changed)
    (route,) = create_agent_card_routes(
        placeholder, card_modifier=current, card_url=CARD_PATH, cache_control="no-cache"
    )
    inner: _Endpoint = route.endpoint

    async def endpoint(request: Request) -> Response:
        token = _BASE_URL.set(str(request.base_url).rstrip("/"))
        try:
            return await inner(request)
        finally:
            _BASE_URL.reset(token)

    return Route(CARD_PATH, endpoint, methods=["GET"], name="a2a_agent_card")


def _target_card(state: ServerState) -> _Endpoint:
    """The endpoint answering one target's card (as ``catalog export`` writes it), its
    interface URL made from the request's base URL; 404 for a target with no intents."""

    async def endpoint(request: Request) -> Response:
        from agentgo_cli import __version__
        from agentgo_cli.a2a.a2a_card import agent_cards
        from agentgo_cli.errors import NotFoundError

        target = f"{request.path_params['kind']}:{request.path_params['name']}"
        _, engine = await state.local().profile_engine()
        base = str(request.base_url).rstrip("/")
        for card in agent_cards(engine.catalog, base_url=base, agentgo_version=__version__):
            if _card_target(card) == target:
                return JSONResponse(card)
        raise NotFoundError(f"no agent or team '{target}' with intents on this server")

    return endpoint


def _card_target(card: dict[str, Any]) -> str:
    from agentgo_cli.a2a.a2a_card import EXTENSION_URI

    for extension in card["capabilities"]["extensions"]:
        if extension["uri"] == EXTENSION_URI:
            return str(extension["params"]["target"])
    return ""


async def server_card(state: ServerState, base_url: str) -> AgentCard:
    """The server's AgentCard for clients that reach it at ``base_url``."""
    from agentgo_cli import __version__
    from agentgo_cli.a2a.a2a_card import server_card as card_data

    _, engine = await state.local().profile_engine()
    config = state.config
    name = config.path.parent.name if config.path else "agentgo"
    data: dict[str, Any] = card_data(
        engine.catalog,
        name=name,
        interfaces=[
            (base_url + JSONRPC_PATH, TransportProtocol.JSONRPC.value),
            (base_url + REST_PATH, TransportProtocol.HTTP_JSON.value),
        ],
        agentgo_version=__version__,
    )
    return parse_agent_card(data)

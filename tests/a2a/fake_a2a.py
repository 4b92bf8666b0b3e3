"""A small A2A 1.0 agent made with the official a2a-sdk server (not AgentGo): the remote
side of the ``target: a2a:…`` tests, and a check that we interoperate with another vendor's
agent.

It serves its card at ``/.well-known/agent-card.json`` and both bindings (JSON-RPC at
``/jsonrpc``, HTTP+JSON under ``/rest``), on uvicorn in a thread, on a free loopback port.
Every request is recorded (path, ``traceparent``, ``Authorization``), so a test can count
what reached it. With ``token`` set, any request but the card's without that bearer token
gets 401.

Its skills (the message names one in its metadata, ``skill``):

- ``partner.echo``: a data artifact ``{"echo": <input>, "skill": <skill>}``;
- ``partner.text``: a text artifact, ``"echo: <input text>"``;
- ``partner.fail``: the task fails with the status message ``"the partner broke"``;
- ``partner.reject``: the task is rejected;
- ``partner.usage``: like echo, and the task reports usage in its metadata;
- ``partner.slow``: waits ``SLOW_SECONDS`` before it echoes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SKILLS = (
    "partner.echo",
    "partner.text",
    "partner.fail",
    "partner.reject",
    "partner.usage",
    "partner.slow",
)
SLOW_SECONDS = 5.0
USAGE = {"inputTokens": 7, "outputTokens": 5, "costUsd": 0.25}


@dataclass
class Seen:
    """One request that reached the fake agent."""

    method: str
    path: str
    traceparent: str | None
    authorization: str | None


@dataclass
class FakeAgent:
    """The running fake agent: its URL, and the requests and messages it saw."""

    url: str = ""
    token: str | None = None
    bindings: tuple[str, ...] = ("JSONRPC", "HTTP+JSON")
    requests: list[Seen] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Each message received: its skill and input (data or text)."""

    def calls(self) -> list[Seen]:
        """The requests other than fetching the card."""
        return [r for r in self.requests if not r.path.startswith("/.well-known/")]


def _card(agent: FakeAgent, url: str) -> Any:
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill

    paths = {"JSONRPC": "/jsonrpc", "HTTP+JSON": "/rest"}
    return AgentCard(
        name="partner",
        description="A non-AgentGo A2A agent for tests.",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=url + paths[b], protocol_binding=b, protocol_version="1.0")
            for b in agent.bindings
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["application/json", "text/plain"],
        default_output_modes=["application/json", "text/plain"],
        skills=[
            AgentSkill(id=s, name=s, description=f"The skill {s}.", tags=["test"]) for s in SKILLS
        ],
    )


def _executor(agent: FakeAgent) -> Any:
    from a2a.helpers.proto_helpers import (
        get_data_parts,
        get_text_parts,
        new_data_part,
        new_text_message,
        new_text_part,
    )
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.tasks import TaskUpdater
    from a2a.types.a2a_pb2 import Task, TaskState, TaskStatus

    class Echo(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            message = context.message
            assert message is not None
            skill = context.metadata.get("skill") or str(message.metadata["skill"])
            data = get_data_parts(message.parts)
            given = data[0] if data else "\n".join(get_text_parts(message.parts))
            agent.messages.append({"skill": skill, "input": given})
            task_id, context_id = context.task_id or "", context.context_id or ""
            await event_queue.enqueue_event(
                Task(
                    id=task_id,
                    context_id=context_id,
                    status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
                    history=[message],
                )
            )
            updater = TaskUpdater(event_queue, task_id, context_id)
            await updater.start_work()
            if skill == "partner.fail":
                await updater.failed(new_text_message("the partner broke"))
                return
            if skill == "partner.reject":
                await updater.reject(new_text_message("not for you"))
                return
            if skill == "partner.slow":
                await asyncio.sleep(SLOW_SECONDS)
            if skill == "partner.text":
                await updater.add_artifact([new_text_part(f"echo: {given}")])
            else:
                await updater.add_artifact([new_data_part({"echo": given, "skill": skill})])
            metadata = {"usage": USAGE} if skill == "partner.usage" else None
            await updater.update_status(TaskState.TASK_STATE_COMPLETED, metadata=metadata)

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise NotImplementedError

    return Echo()


def _app(agent: FakeAgent, url: str) -> Any:
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import (
        create_agent_card_routes,
        create_jsonrpc_routes,
        create_rest_routes,
    )
    from a2a.server.tasks import InMemoryTaskStore
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse

    card = _card(agent, url)
    handler = DefaultRequestHandler(
        agent_executor=_executor(agent), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = [
        *create_agent_card_routes(card),
        *create_jsonrpc_routes(handler, "/jsonrpc"),
        *create_rest_routes(handler, path_prefix="/rest"),
    ]
    inner = Starlette(routes=routes)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        seen = Seen(
            scope["method"], scope["path"], headers.get("traceparent"), headers.get("authorization")
        )
        agent.requests.append(seen)
        card_request = scope["path"].startswith("/.well-known/")
        wanted = None if agent.token is None or card_request else f"Bearer {agent.token}"
        if wanted is not None and seen.authorization != wanted:
            await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
            return
        await inner(scope, receive, send)

    return app


class RunningAgent:
    """The fake agent on uvicorn in a thread; ``stop()`` ends it."""

    def __init__(self, agent: FakeAgent) -> None:
        import socket

        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        agent.url = f"http://127.0.0.1:{port}"
        self.agent = agent
        self._server = uvicorn.Server(
            uvicorn.Config(
                _app(agent, agent.url), log_level="critical", access_log=False, lifespan="off"
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-a2a-agent"
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake A2A agent did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

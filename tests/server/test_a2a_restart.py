"""An A2A task is a job of the store, so it outlives its server: a task running when the
installed ``agentgo serve`` is SIGKILLed is finished by the next server. A message that
names no skill goes to ``serve.default_skill``; a task's calls continue the request's
``traceparent``; ``serve.anonymous_tasks`` shows callers without a token their tasks."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import new_text_part
from a2a.types.a2a_pb2 import (
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError

from tests.server.a2a_project import ALICE, Served, headers, write_project
from tests.server.serving import ServeChild


async def _client(http: httpx.AsyncClient, url: str, binding: str) -> Any:
    card = await A2ACardResolver(http, url).get_agent_card()
    config = ClientConfig(httpx_client=http, streaming=False, supported_protocol_bindings=[binding])
    return ClientFactory(config).create(card)


async def _send(client: Any, text: str, skill: str | None, *, immediately: bool = False) -> Task:
    message = Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[new_text_part(text)])
    if skill is not None:
        message.metadata.update({"skill": skill})
    request = SendMessageRequest(
        message=message, configuration=SendMessageConfiguration(return_immediately=immediately)
    )
    (response,) = [r async for r in client.send_message(request)]
    task: Task = response.task
    return task


def _state(task: Task) -> str:
    return TaskState.Name(task.status.state)


async def test_a_task_running_when_its_server_is_killed_is_finished_by_the_next(
    tmp_path: Path,
) -> None:
    write_project(tmp_path)
    first = ServeChild(tmp_path, "--workers", "1")
    try:
        async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
            client = await _client(http, str(first.url), "JSONRPC")
            task = await _send(client, "slowly", "plod.along", immediately=True)
            assert _state(task) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
            await asyncio.sleep(0.5)  # its step has started: the model's turn takes 2 s
    finally:
        first.kill()  # SIGKILL: no drain, the job stays running under a dead owner

    second = ServeChild(tmp_path, "--workers", "1")
    try:
        async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
            client = await _client(http, str(second.url), "HTTP+JSON")
            deadline = time.monotonic() + 30
            seen = await client.get_task(GetTaskRequest(id=task.id))
            while _state(seen) != "TASK_STATE_COMPLETED" and time.monotonic() < deadline:
                assert _state(seen) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
                await asyncio.sleep(0.2)
                seen = await client.get_task(GetTaskRequest(id=task.id))
    finally:
        second.stop()
    assert _state(seen) == "TASK_STATE_COMPLETED", second.stderr
    assert seen.status.message.parts[0].text == "done at last"


@pytest.fixture
def defaulted(tmp_path: Path) -> Any:
    served = Served(write_project(tmp_path, default_skill="greet.hello", anonymous_tasks=True))
    yield served
    served.stop()


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON"])
async def test_a_message_naming_no_skill_goes_to_the_default_skill(
    binding: str, defaulted: Served
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:  # anonymous: greet.hello is public
        client = await _client(http, defaulted.url, binding)
        task = await _send(client, "Ada", None)

    assert _state(task) == "TASK_STATE_COMPLETED"
    assert task.metadata["skill"] == "greet.hello"


async def test_a_tasks_calls_continue_the_requests_traceparent(defaulted: Served) -> None:
    trace_id = uuid.uuid4().hex
    parent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    headers_ = {**headers(ALICE), "traceparent": parent}
    async with httpx.AsyncClient(headers=headers_, timeout=30) as http:
        client = await _client(http, defaulted.url, "JSONRPC")
        task = await _send(client, "Ada", None)
        logs = await http.get(f"{defaulted.url}/v1/jobs/{task.id}/logs")

    calls = [e for e in logs.json() if e["kind"] == "call"]
    assert [c["data"]["trace_id"] for c in calls] == [trace_id]
    assert calls[0]["data"]["intent"] == "greet.hello@1.0.0"


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON"])
async def test_anonymous_tasks_lets_callers_without_a_token_see_anonymous_tasks(
    binding: str, defaulted: Served
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        anonymous = await _client(http, defaulted.url, binding)
        task = await _send(anonymous, "Ada", None)
        seen = await anonymous.get_task(GetTaskRequest(id=task.id))
        listed = await anonymous.list_tasks(ListTasksRequest())
    async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
        alice = await _client(http, defaulted.url, binding)
        hers = await _send(alice, "Alice", None)

    assert _state(seen) == "TASK_STATE_COMPLETED"
    assert task.id in [t.id for t in listed.tasks]
    assert hers.id not in [t.id for t in listed.tasks]
    with pytest.raises(A2AError, match="no task"):
        async with httpx.AsyncClient(timeout=30) as http:
            anonymous = await _client(http, defaulted.url, binding)
            await anonymous.get_task(GetTaskRequest(id=hers.id))


async def test_a_blocking_send_that_runs_out_of_time_leaves_its_task_running(
    tmp_path: Path,
) -> None:
    served = Served(write_project(tmp_path, request_timeout=0.5))
    try:
        async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
            client = await _client(http, served.url, "JSONRPC")
            task = await _send(client, "slowly", "plod.along")  # 2 s; the server waits 0.5 s
            assert _state(task) == "TASK_STATE_WORKING"
            deadline = time.monotonic() + 30
            seen = await client.get_task(GetTaskRequest(id=task.id))
            while _state(seen) == "TASK_STATE_WORKING" and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                seen = await client.get_task(GetTaskRequest(id=task.id))
    finally:
        served.stop()
    assert _state(seen) == "TASK_STATE_COMPLETED"  # the answer's timeout did not stop it


async def test_an_intent_added_while_the_server_runs_is_a_skill_at_once(tmp_path: Path) -> None:
    served = Served(write_project(tmp_path))
    try:
        async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
            before = await A2ACardResolver(http, served.url).get_agent_card()
            (tmp_path / "manifests" / "more.yaml").write_text(
                "apiVersion: agentgo/v1\n"
                "kind: Agent\n"
                "metadata: {name: newcomer}\n"
                "spec:\n"
                "  model: scripted:newcomer\n"
                "  script:\n"
                "    - reply: 'new here'\n"
            )
            after = await A2ACardResolver(http, served.url).get_agent_card()
            client = await _client(http, served.url, "HTTP+JSON")
            task = await _send(client, "hi", "newcomer.run")
    finally:
        served.stop()
    assert "newcomer.run" not in [s.id for s in before.skills]
    assert "newcomer.run" in [s.id for s in after.skills]
    assert _state(task) == "TASK_STATE_COMPLETED"
    assert task.status.message.parts[0].text == "new here"

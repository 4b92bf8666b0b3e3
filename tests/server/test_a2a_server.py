"""``agentgo serve`` speaks A2A 1.0: the official a2a-sdk client fetches the card, sends
messages to skills, streams, lists, gets and cancels tasks, over both HTTP bindings; an A2A
task is a job (``agentgo jobs show`` shows it); tokens, anonymous callers and other
principals are told apart."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import get_data_parts, new_data_part, new_text_part
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError

from tests.server.a2a_project import ALICE, BOB, Served, headers, write_project

BINDINGS = ["JSONRPC", "HTTP+JSON"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One served project for the module: (its folder, the server's URL)."""
    root = tmp_path_factory.mktemp("a2a")
    served = Served(write_project(root))
    try:
        yield root, served.url
    finally:
        served.stop()


@pytest.fixture
def url(project: tuple[Path, str]) -> str:
    return project[1]


async def _card(url: str, token: str | None = None) -> AgentCard:
    async with httpx.AsyncClient(headers=headers(token)) as http:
        return await A2ACardResolver(http, url).get_agent_card()


class _Client:
    """An sdk client, with the sends these tests make."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def send(
        self, message: Message, *, immediately: bool = False, history: int | None = None
    ) -> list[Any]:
        config = SendMessageConfiguration(return_immediately=immediately)
        if history is not None:
            config.history_length = history
        request = SendMessageRequest(message=message, configuration=config)
        return [r async for r in self.client.send_message(request)]

    async def task(self, message: Message, **kw: Any) -> Task:
        (response,) = await self.send(message, **kw)
        assert response.HasField("task"), response
        return response.task


@pytest.fixture
async def connect(url: str) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    async def make(binding: str, token: str | None, *, streaming: bool = False) -> _Client:
        card = await _card(url)
        http = httpx.AsyncClient(headers=headers(token), timeout=30)
        clients.append(http)
        config = ClientConfig(
            httpx_client=http, streaming=streaming, supported_protocol_bindings=[binding]
        )
        return _Client(ClientFactory(config).create(card))

    yield make
    for http in clients:
        await http.aclose()


def _message(skill: str | None, value: Any, message_id: str | None = None) -> Message:
    part = new_text_part(value) if isinstance(value, str) else new_data_part(value)
    message = Message(message_id=message_id or uuid.uuid4().hex, role=Role.ROLE_USER, parts=[part])
    if skill is not None:
        message.metadata.update({"skill": skill})
    return message


def _state(task: Task) -> str:
    return TaskState.Name(task.status.state)


def _output(task: Task) -> Any:
    (artifact,) = task.artifacts
    return get_data_parts(artifact.parts)[0]


async def test_the_card_lists_every_intent_as_a_skill_with_both_bindings(url: str) -> None:
    card = await _card(url)  # no token: the card is public

    skills = {s.id for s in card.skills}
    assert skills == {"greet.hello", "research.summarize", "slow.wait", "plod.along"}
    interfaces = {i.protocol_binding: i.url for i in card.supported_interfaces}
    assert interfaces == {"JSONRPC": f"{url}/a2a/jsonrpc", "HTTP+JSON": f"{url}/a2a/rest"}
    assert {i.protocol_version for i in card.supported_interfaces} == {"1.0"}
    assert card.capabilities.streaming
    assert not card.capabilities.push_notifications
    assert card.security_schemes["agentgo"].http_auth_security_scheme.scheme == "Bearer"
    research = next(s for s in card.skills if s.id == "research.summarize")
    assert research.description == "Summarize a topic from public sources."
    assert list(research.tags) == ["research"]
    assert list(research.output_modes) == ["application/json"]
    greet = next(s for s in card.skills if s.id == "greet.hello")
    assert list(greet.examples) == ["Ada"]

    async with httpx.AsyncClient() as http:  # revalidated by its ETag, never kept stale
        answer = await http.get(f"{url}/.well-known/agent-card.json")
        assert answer.headers["cache-control"] == "no-cache"
        again = await http.get(
            f"{url}/.well-known/agent-card.json", headers={"If-None-Match": answer.headers["etag"]}
        )
        assert again.status_code == 304


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_message_to_a_skill_is_a_call_whose_task_is_a_job(
    binding: str, connect: Any, project: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await connect(binding, ALICE)
    task = await alice.task(_message("research.summarize", {"topic": "batteries", "depth": 2}))

    assert _state(task) == "TASK_STATE_COMPLETED"
    assert _output(task) == {"summary": "Three sources agree."}
    assert task.metadata["skill"] == "research.summarize"
    assert dict(task.metadata["usage"]) == {"tokens": 160, "costUsd": 0}
    user, agent = task.history
    assert user.role == Role.ROLE_USER and get_data_parts(user.parts) == [
        {"topic": "batteries", "depth": 2.0}
    ]
    assert agent.role == Role.ROLE_AGENT

    # The task is a job of the project: `agentgo jobs show` reads it from the store.
    from typer.testing import CliRunner

    from agentgo_cli.cli.app import app

    monkeypatch.chdir(project[0])
    invoke = CliRunner().invoke
    result = await asyncio.to_thread(invoke, app, ["jobs", "show", task.id, "-o", "json"])
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["workflow"] == "a2a:research.summarize@1.2.0"
    assert job["status"] == "succeeded"
    assert job["principal"] == "user:alice"
    assert job["inputs"]["input"] == {"topic": "batteries", "depth": 2}
    assert job["outputs"] == {"output": {"summary": "Three sources agree."}}


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_text_message_to_a_text_skill(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE)
    task = await alice.task(_message("greet.hello", "Ada"))

    assert _state(task) == "TASK_STATE_COMPLETED"
    (artifact,) = task.artifacts
    assert [p.text for p in artifact.parts if p.HasField("text")] == ["Hello from AgentGo"]
    assert task.status.message.parts[0].text == "Hello from AgentGo"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_streamed_task_reports_working_then_its_artifact_then_completed(
    binding: str, connect: Any
) -> None:
    alice = await connect(binding, ALICE, streaming=True)
    events = await alice.send(_message("research.summarize", {"topic": "chips"}))

    first = events[0]
    assert first.HasField("task")
    assert _state(first.task) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
    kinds = [e.WhichOneof("payload") for e in events[1:]]
    assert kinds[-2:] == ["artifact_update", "status_update"]
    artifact = events[-2].artifact_update
    assert artifact.task_id == first.task.id
    assert get_data_parts(artifact.artifact.parts) == [{"summary": "Three sources agree."}]
    assert _state(events[-1].status_update) == "TASK_STATE_COMPLETED"
    states = [_state(e.status_update) for e in events[1:] if e.HasField("status_update")]
    assert states.count("TASK_STATE_COMPLETED") == 1  # the end is told once


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_slow_task_is_cancelled_while_it_runs(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE)
    task = await alice.task(_message("slow.wait", "take your time"), immediately=True)
    assert _state(task) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")

    cancelled = await alice.client.cancel_task(CancelTaskRequest(id=task.id))

    assert cancelled.id == task.id
    assert _state(cancelled) == "TASK_STATE_CANCELED"
    again = await alice.client.get_task(GetTaskRequest(id=task.id))
    assert _state(again) == "TASK_STATE_CANCELED"
    with pytest.raises(A2AError, match="has ended"):
        await alice.client.cancel_task(CancelTaskRequest(id=task.id))


@pytest.mark.parametrize("binding", BINDINGS)
async def test_subscribing_to_a_running_task_follows_it(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE, streaming=True)
    plain = await connect(binding, ALICE)
    task = await plain.task(_message("slow.wait", "subscribe"), immediately=True)

    stream = alice.client.subscribe(SubscribeToTaskRequest(id=task.id))
    first = await anext(stream)
    assert first.HasField("task") and first.task.id == task.id
    await plain.client.cancel_task(CancelTaskRequest(id=task.id))
    rest = [event async for event in stream]
    assert _state(rest[-1].status_update) == "TASK_STATE_CANCELED"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_tasks_are_listed_and_read_by_their_principal_only(
    binding: str, connect: Any
) -> None:
    alice = await connect(binding, ALICE)
    bob = await connect(binding, BOB)
    mine = [await alice.task(_message("greet.hello", f"A{n}")) for n in range(3)]
    theirs = await bob.task(_message("greet.hello", "Bob"))

    listed = await alice.client.list_tasks(ListTasksRequest(page_size=2))
    assert len(listed.tasks) == 2 and listed.next_page_token
    assert listed.total_size >= 3
    rest = await alice.client.list_tasks(
        ListTasksRequest(page_size=100, page_token=listed.next_page_token)
    )
    ids = [t.id for t in [*listed.tasks, *rest.tasks]]
    assert {t.id for t in mine} <= set(ids)
    assert theirs.id not in ids
    assert len(ids) == len(set(ids))  # no task on two pages
    assert not rest.next_page_token
    assert all(not t.artifacts for t in listed.tasks)  # includeArtifacts is false

    got = await alice.client.get_task(GetTaskRequest(id=mine[0].id, history_length=0))
    assert got.id == mine[0].id and not got.history
    with pytest.raises(A2AError, match="no task"):
        await bob.client.get_task(GetTaskRequest(id=mine[0].id))
    with pytest.raises(A2AError, match="no task"):
        await alice.client.cancel_task(CancelTaskRequest(id=theirs.id))


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_message_sent_again_answers_the_same_task(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE)
    message = _message("research.summarize", {"topic": "again"})

    first = await alice.task(message)
    second = await alice.task(message)

    assert second.id == first.id
    # Another message under the same id is a message of its own (as the A2A TCK sends).
    changed = _message("research.summarize", {"topic": "else"}, message_id=message.message_id)
    other = await alice.task(changed)
    assert other.id != first.id
    assert (await alice.task(changed)).id == other.id


@pytest.mark.parametrize("binding", BINDINGS)
async def test_anonymous_callers_reach_public_skills_only(binding: str, connect: Any) -> None:
    anonymous = await connect(binding, None)

    task = await anonymous.task(_message("greet.hello", "nobody"))
    assert _state(task) == "TASK_STATE_COMPLETED"
    with pytest.raises(A2AError, match="anonymous callers are not allowed; send a bearer token"):
        await anonymous.task(_message("research.summarize", {"topic": "x"}))
    with pytest.raises(A2AError, match="no task"):  # anonymous tasks are not looked up later
        await anonymous.client.get_task(GetTaskRequest(id=task.id))


@pytest.mark.parametrize("binding", BINDINGS)
async def test_bad_messages_are_invalid_params(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE)

    with pytest.raises(A2AError, match="no default skill"):
        await alice.task(_message(None, "hi"))
    with pytest.raises(A2AError, match="no intent 'research.sumarize'"):
        await alice.task(_message("research.sumarize", {"topic": "x"}))
    with pytest.raises(A2AError, match="invalid input"):
        await alice.task(_message("research.summarize", {"subject": "x"}))
    with pytest.raises(A2AError, match="no task"):
        message = _message("greet.hello", "x")
        message.task_id = "j-doesnotexist"
        await alice.task(message)


async def test_refusals_carry_the_http_status_and_error_code_of_the_binding(url: str) -> None:
    message = {
        "messageId": uuid.uuid4().hex,
        "role": "ROLE_USER",
        "parts": [{"data": {"topic": "x"}}],
        "metadata": {"skill": "research.summarize"},
    }
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    version = {"A2A-Version": "1.0"}
    async with httpx.AsyncClient(base_url=url) as http:
        wrong = await http.post(
            "/a2a/jsonrpc", json=rpc, headers={**version, "Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        assert wrong.json()["error"]["code"] == -32040
        assert wrong.json()["error"]["data"][0]["reason"] == "UNAUTHENTICATED"
        rest_wrong = await http.post(
            "/a2a/rest/message:send",
            json={"message": message},
            headers={**version, "Authorization": "Bearer nope"},
        )
        assert rest_wrong.status_code == 401
        assert rest_wrong.json()["error"]["status"] == "UNAUTHENTICATED"
        assert rest_wrong.json()["error"]["details"][0]["reason"] == "UNAUTHENTICATED"

        anonymous = await http.post("/a2a/jsonrpc", json=rpc, headers=version)
        assert anonymous.status_code == 200
        assert anonymous.json()["error"]["code"] == -32040
        rest_anonymous = await http.post(
            "/a2a/rest/message:send", json={"message": message}, headers=version
        )
        assert rest_anonymous.status_code == 401

        missing = {"jsonrpc": "2.0", "id": 2, "method": "GetTask", "params": {"id": "j-x"}}
        answer = await http.post(
            "/a2a/jsonrpc", json=missing, headers={**version, **headers(ALICE)}
        )
        assert answer.json()["error"]["code"] == -32001
        push = {"jsonrpc": "2.0", "id": 3, "method": "GetTaskPushNotificationConfig"}
        push["params"] = {"taskId": "j-x", "id": "p"}
        answer = await http.post("/a2a/jsonrpc", json=push, headers={**version, **headers(ALICE)})
        assert answer.json()["error"]["code"] == -32003
        bad_page = {"jsonrpc": "2.0", "id": 4, "method": "ListTasks"}
        bad_page["params"] = {"pageToken": "not a token of ours"}
        answer = await http.post(
            "/a2a/jsonrpc", json=bad_page, headers={**version, **headers(ALICE)}
        )
        assert answer.json()["error"]["code"] == -32602


async def test_a_targets_endpoint_serves_its_card_and_its_skills(url: str) -> None:
    async with httpx.AsyncClient(headers=headers(ALICE), timeout=30) as http:
        card = await A2ACardResolver(http, f"{url}/a2a/agent/researcher").get_agent_card()
        assert [s.id for s in card.skills] == ["research.summarize"]
        assert card.supported_interfaces[0].url == f"{url}/a2a/agent/researcher"
        config = ClientConfig(httpx_client=http, streaming=False)
        client = _Client(ClientFactory(config).create(card))

        task = await client.task(_message(None, {"topic": "one skill"}))  # its only skill
        assert _state(task) == "TASK_STATE_COMPLETED"
        assert _output(task) == {"summary": "Three sources agree."}
        with pytest.raises(A2AError, match="agent:researcher has no skill 'greet.hello'"):
            await client.task(_message("greet.hello", "Ada"))

        missing = await http.get(f"{url}/a2a/agent/nobody/.well-known/agent-card.json")
        assert missing.status_code == 404
        elsewhere = await http.post(f"{url}/a2a/rest/nothing", json={})
        assert elsewhere.status_code == 404


@pytest.mark.parametrize("binding", BINDINGS)
async def test_list_tasks_filters_by_context_and_state(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE)
    context = uuid.uuid4().hex
    first = _message("greet.hello", "one")
    first.context_id = context
    done = await alice.task(first)
    second = _message("slow.wait", "two")
    second.context_id = context
    running = await alice.task(second, immediately=True)
    try:
        assert done.context_id == running.context_id == context  # kept as the client sent it
        in_context = await alice.client.list_tasks(ListTasksRequest(context_id=context))
        assert [t.id for t in in_context.tasks] == [running.id, done.id]  # newest update first
        assert in_context.total_size == 2
        working = await alice.client.list_tasks(
            ListTasksRequest(context_id=context, status=TaskState.TASK_STATE_WORKING)
        )
        assert [t.id for t in working.tasks] == [running.id]
        with_artifacts = await alice.client.list_tasks(
            ListTasksRequest(
                context_id=context, status=TaskState.TASK_STATE_COMPLETED, include_artifacts=True
            )
        )
        (listed,) = with_artifacts.tasks
        assert listed.id == done.id and len(listed.artifacts) == 1
    finally:
        await alice.client.cancel_task(CancelTaskRequest(id=running.id))


@pytest.mark.parametrize("binding", BINDINGS)
async def test_every_stream_of_a_task_tells_the_same_events(binding: str, connect: Any) -> None:
    alice = await connect(binding, ALICE, streaming=True)
    plain = await connect(binding, ALICE)
    task = await plain.task(_message("plod.along", "together"), immediately=True)

    async def events() -> list[tuple[str | None, str]]:
        stream = alice.client.subscribe(SubscribeToTaskRequest(id=task.id))
        seen = [event async for event in stream][1:]  # after the task as it was
        return [
            (
                e.WhichOneof("payload"),
                _state(e.status_update) if e.HasField("status_update") else "",
            )
            for e in seen
        ]

    first, second = await asyncio.gather(events(), events())

    assert (
        first
        == second
        == [
            ("status_update", "TASK_STATE_WORKING"),
            ("artifact_update", ""),
            ("status_update", "TASK_STATE_COMPLETED"),
        ]
    )

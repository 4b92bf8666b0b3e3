"""Calls to remote A2A agents: an intent whose card says ``target: a2a:https://…``.

The catalog checks such a call like any other before it leaves (input schema, ACL, quota,
idempotency) and its output after; this module only carries it, with the official a2a-sdk
client (A2A protocol 1.0):

1. the remote agent card is fetched from ``<url>/.well-known/agent-card.json`` (or from the
   URL itself when it ends in ``.json``) and kept for ``CARD_TTL`` seconds per URL;
2. the client speaks JSON-RPC or HTTP+JSON, whichever the card's ``supportedInterfaces``
   list first;
3. one message goes to the skill named like the intent (its id in the message's metadata,
   ``SKILL_KEY``), the input as a data part (text as a text part), with the W3C
   ``traceparent`` of the call and the card's bearer token (``auth.token``, read from its
   secret at each call, never logged); the send blocks until the task ends, and a task
   still running after it is polled until it does, within the intent's timeout;
4. the output is the first data part of the task's artifacts (else their text, else the
   final status message's); failures become CallErrors (``REMOTE_FAILURES``).

A remote call costs 0 tokens and $0 here, unless the remote task reports usage in its
metadata: ``{"usage": {"tokens": …, "costUsd": …}}`` (what agentgo serve reports), or
``inputTokens``/``outputTokens`` (also snake_case) for the tokens.

Numbers cross A2A data parts as doubles (``google.protobuf.Value``): whole numbers come
back as integers here, so an output schema's ``integer`` holds for them.

Plain ``http://`` URLs are for loopback and development; use ``https://`` elsewhere.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.lifecycle import Dispatched
from agentgo_cli.errors import AgentGoError, CallError

if TYPE_CHECKING:
    from a2a.client import Client
    from a2a.types.a2a_pb2 import AgentCard, Message, Part, Task

    from agentgo_cli.a2a.catalog import CatalogEntry
    from agentgo_cli.a2a.lifecycle import CallContext

__all__ = [
    "CARD_TTL",
    "DEFAULT_TIMEOUT",
    "REMOTE_AGENTS",
    "SKILL_KEY",
    "RemoteAgents",
    "call_remote",
    "card_url",
]

CARD_TTL = 300.0
"""Seconds a fetched remote agent card is used before it is fetched again."""
DEFAULT_TIMEOUT = 300.0
"""Seconds a remote call may take when its intent names no ``timeout``."""
CARD_TIMEOUT = 10.0
"""Seconds to fetch a remote agent card."""
SKILL_KEY = "skill"
"""The message metadata key naming the skill a message is for (the intent's name)."""
_POLL = (0.05, 1.0)
"""First and longest wait between polls of a remote task still running after the send."""

_FINAL = {"TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"}
_STOPPED = {"TASK_STATE_INPUT_REQUIRED", "TASK_STATE_AUTH_REQUIRED"}
REMOTE_FAILURES = {
    "TASK_STATE_FAILED": ("failed", "failed"),
    "TASK_STATE_CANCELED": ("failed", "was canceled"),
    "TASK_STATE_REJECTED": ("denied", "rejected the task"),
    "TASK_STATE_AUTH_REQUIRED": ("denied", "needs authorization the call cannot give"),
    "TASK_STATE_INPUT_REQUIRED": ("failed", "asked for more input, which a call cannot give"),
}
"""A remote task's end state → (CallError code, what the message says the agent did)."""


@dataclass
class RemoteAgents:
    """The remote agents' cards, fetched once per URL and kept for ``ttl`` seconds.

    One per process (``REMOTE_AGENTS``): engines come and go with the manifest set, the
    remote agents do not. No lock: two calls racing a first fetch both fetch, harmlessly
    (and an asyncio lock would tie the cache to one event loop)."""

    ttl: float = CARD_TTL
    _cards: dict[str, tuple[float, AgentCard]] = field(default_factory=dict)

    async def card(self, url: str, fetch: Callable[[], Awaitable[AgentCard]]) -> AgentCard:
        """The card of the agent at ``url``, from the cache or ``await fetch()``."""
        kept = self._cards.get(url)
        if kept is not None and time.monotonic() - kept[0] < self.ttl:
            return kept[1]
        card = await fetch()
        self._cards[url] = (time.monotonic(), card)
        return card

    def forget(self, url: str) -> None:
        """Drop a URL's card (the agent refused the call as if the card were stale)."""
        self._cards.pop(url, None)


REMOTE_AGENTS = RemoteAgents()
"""The cards of the remote agents this process calls."""


def card_url(url: str) -> tuple[str, str]:
    """(base URL, card path) of the agent at ``url``: the URL itself when it ends in .json."""
    from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH

    if url.rsplit("?", 1)[0].endswith(".json"):
        return url, ""
    return url.rstrip("/"), AGENT_CARD_WELL_KNOWN_PATH


async def call_remote(
    entry: CatalogEntry,
    value: Any,
    ctx: CallContext,
    *,
    agents: RemoteAgents = REMOTE_AGENTS,
    seconds: float | None = None,
) -> Dispatched:
    """Call ``entry``'s remote A2A agent with ``value`` (already checked against the intent's
    input schema) for ``ctx`` within ``seconds`` (default ``DEFAULT_TIMEOUT``); the output is
    checked by the caller. CallError on failure."""
    import httpx
    from a2a.client import A2AClientError, ClientCallContext, ClientConfig, ClientFactory
    from a2a.utils.errors import A2AError

    url = entry.target_name
    token = _token(entry)
    limit = seconds if seconds is not None else DEFAULT_TIMEOUT
    headers = {"traceparent": ctx.trace.traceparent}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=limit, verify=_tls(), follow_redirects=False) as http:
        card = await agents.card(url, lambda: _fetch_card(http, entry, headers))
        _check_skill(entry, card)
        config = ClientConfig(
            httpx_client=http, streaming=False, supported_protocol_bindings=["JSONRPC", "HTTP+JSON"]
        )
        try:
            client = ClientFactory(config).create(card)
        except ValueError:
            offered = ", ".join(i.protocol_binding for i in card.supported_interfaces) or "none"
            raise CallError(
                "failed",
                f"{entry.ref}: the A2A agent at {url} offers no JSON-RPC or HTTP+JSON "
                f"interface (it offers {offered})",
            ) from None
        call = ClientCallContext(timeout=limit, service_parameters=dict(headers))
        try:
            result = await _send(client, _message(entry, value), call)
            if result[0] is not None:
                result = (await _finished(client, result[0], call), None)
        except (A2AError, A2AClientError, httpx.HTTPError) as exc:
            if _status(exc) in (401, 403):
                agents.forget(url)
            raise _call_error(entry, exc) from None
    task, message = result
    if message is not None:
        return Dispatched(_output_of(message.parts), 0, 0.0)
    assert task is not None
    return _outcome(entry, task)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every remote call, made once: loading the CA certificates takes
    tens of milliseconds, far more than a call on a near network."""
    import httpx

    return httpx.create_ssl_context()


def _token(entry: CatalogEntry) -> str | None:
    """The card's bearer token, read from its secret now (ConfigError names a missing one)."""
    if entry.auth_token is None:
        return None
    from agentgo_cli.config import resolve_secret

    try:
        return resolve_secret(entry.auth_token)
    except AgentGoError as exc:
        raise CallError("failed", f"{entry.ref}: its card's auth.token: {exc}") from None


async def _fetch_card(http: Any, entry: CatalogEntry, headers: dict[str, str]) -> AgentCard:
    from a2a.client import A2ACardResolver, AgentCardResolutionError

    url = entry.target_name
    base, path = card_url(url)
    resolver = A2ACardResolver(http, base, path)
    try:
        return await resolver.get_agent_card(
            relative_card_path=path or None,
            http_kwargs={
                "headers": {"traceparent": headers["traceparent"]},
                "timeout": CARD_TIMEOUT,
            },
        )
    except AgentCardResolutionError as exc:
        status = exc.status_code
        if status == 404:
            raise CallError("not_found", f"{entry.ref}: no A2A agent card at {url}") from None
        if status in (401, 403):
            raise CallError(
                "denied", f"{entry.ref}: the A2A agent at {url} refused to show its card ({status})"
            ) from None
        why = f"HTTP {status}" if status else _cause(exc)
        raise CallError(
            "failed", f"{entry.ref}: cannot read the A2A agent card at {url}: {why}"
        ) from None


def _check_skill(entry: CatalogEntry, card: AgentCard) -> None:
    """not_found when the remote card lists skills and none is the intent's."""
    skills = [skill.id for skill in card.skills]
    if skills and entry.name not in skills:
        from agentgo_cli.manifests._text import did_you_mean

        raise CallError(
            "not_found",
            f"{entry.ref}: the A2A agent at {entry.target_name} has no skill "
            f"'{entry.name}'{did_you_mean(entry.name, skills)}",
        )


def _message(entry: CatalogEntry, value: Any) -> Message:
    from a2a.helpers.proto_helpers import new_data_part, new_text_part
    from a2a.types.a2a_pb2 import Message, Role

    part = new_text_part(value) if isinstance(value, str) else new_data_part(value)
    return Message(
        message_id=str(uuid.uuid4()),
        role=Role.ROLE_USER,
        parts=[part],
        metadata={SKILL_KEY: entry.name},
    )


async def _send(client: Client, message: Message, call: Any) -> tuple[Task | None, Message | None]:
    """Send the message, blocking: the task as it stands when the send returns, or a reply."""
    from a2a.types.a2a_pb2 import SendMessageConfiguration, SendMessageRequest

    request = SendMessageRequest(
        message=message, configuration=SendMessageConfiguration(return_immediately=False)
    )
    task: Task | None = None
    async for response in client.send_message(request, context=call):
        if response.HasField("message"):
            return None, response.message
        if response.HasField("task"):
            task = response.task
    if task is None:
        from a2a.client import A2AClientError

        raise A2AClientError("the agent answered neither a task nor a message")
    return task, None


async def _finished(client: Client, task: Task, call: Any) -> Task:
    """The task once it is final or stopped (polled while it is still running)."""
    from a2a.types.a2a_pb2 import GetTaskRequest, TaskState

    wait = _POLL[0]
    while TaskState.Name(task.status.state) not in _FINAL | _STOPPED:
        await asyncio.sleep(wait)
        wait = min(wait * 2, _POLL[1])
        task = await client.get_task(GetTaskRequest(id=task.id), context=call)
    return task


def _outcome(entry: CatalogEntry, task: Task) -> Dispatched:
    """The output and reported usage of a finished task; CallError for any other end."""
    from a2a.types.a2a_pb2 import TaskState

    state = TaskState.Name(task.status.state)
    if state != "TASK_STATE_COMPLETED":
        code, did = REMOTE_FAILURES.get(state, ("failed", f"ended in state {state}"))
        why = _text(task.status.message.parts) if task.HasField("status") else ""
        raise CallError(
            code,
            f"{entry.ref}: the A2A agent at {entry.target_name} {did} (task {task.id})"
            + (f": {why}" if why else ""),
        )
    parts = [part for artifact in task.artifacts for part in artifact.parts]
    if not parts and task.status.HasField("message"):
        parts = list(task.status.message.parts)
    tokens, usd = _usage(task)
    return Dispatched(_output_of(parts), tokens, usd)


def _output_of(parts: list[Part] | Any) -> Any:
    """The first data part's value, else the text parts joined, else None."""
    from a2a.helpers.proto_helpers import get_data_parts

    data = get_data_parts(parts)
    if data:
        return _whole(data[0])
    texts = [part.text for part in parts if part.HasField("text")]
    return "\n".join(texts) if texts else None


def _text(parts: Any) -> str:
    return " ".join(part.text for part in parts if part.HasField("text")).strip()


def _whole(value: Any) -> Any:
    """Whole-number doubles back to integers, all through a JSON value."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_whole(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    return value


_TOKEN_KEYS = ("inputTokens", "outputTokens", "input_tokens", "output_tokens")


def _usage(task: Task) -> tuple[int, float]:
    """Tokens and dollars the remote reports in the task's metadata (``usage``), else 0."""
    from a2a.types.a2a_pb2 import Part

    if not task.HasField("metadata") or "usage" not in task.metadata:
        return 0, 0.0
    found = _output_of([Part(data={"struct_value": task.metadata["usage"]})])
    usage = found if isinstance(found, dict) else {}
    tokens = 0
    keys = ("tokens",) if "tokens" in usage else _TOKEN_KEYS
    for key in keys:
        number = usage.get(key)
        if isinstance(number, int | float) and number >= 0:
            tokens += int(number)
    cost = usage.get("costUsd", usage.get("cost_usd"))
    return tokens, float(cost) if isinstance(cost, int | float) and cost >= 0 else 0.0


def _status(exc: BaseException) -> int | None:
    """The HTTP status behind an a2a-sdk error, if one caused it."""
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
        seen = seen.__cause__ or seen.__context__
    return None


def _cause(exc: BaseException) -> str:
    """The deepest cause's message: what went wrong on the wire."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__


def _call_error(entry: CatalogEntry, exc: BaseException) -> CallError:
    """The CallError for an a2a-sdk or HTTP error of a remote call."""
    from a2a.client import A2AClientTimeoutError
    from a2a.utils import errors

    where = f"{entry.ref}: the A2A agent at {entry.target_name}"
    status = _status(exc)
    if status in (401, 403):
        said = "is not authorized" if status == 401 else "is denied"
        return CallError("denied", f"{where} refused the call ({status}): the caller {said}")
    if status == 404:
        return CallError("not_found", f"{where} has no endpoint for the call (404)")
    if isinstance(exc, A2AClientTimeoutError):
        return CallError("failed", f"{where} did not answer in time")
    if isinstance(exc, errors.TaskNotFoundError):
        return CallError("not_found", f"{where} lost the task: {exc}")
    if isinstance(exc, errors.InvalidParamsError):
        return CallError("invalid_input", f"{where} refused the input: {exc}")
    if isinstance(exc, errors.ContentTypeNotSupportedError | errors.UnsupportedOperationError):
        return CallError("failed", f"{where} does not support the call: {exc}")
    if status is not None:
        return CallError("failed", f"{where} answered HTTP {status}")
    return CallError("failed", f"{where} failed: {_cause(exc)}")

"""The A2A request handler of ``agentgo serve``: every A2A operation on jobs.

An A2A task is a job of the synthetic workflow ``a2a:<intent>@<version>``
(a2a/task_workflow.py), run for the caller's principal with its scopes: SendMessage starts
one (through the same call lifecycle as ``agentgo call``: input schema, ACL, quota,
principal binding, output schema), GetTask and ListTasks read jobs, CancelTask cancels
one, SendStreamingMessage and SubscribeToTask follow one's events. The message's
``messageId`` with the message's skill and input is its idempotency key: a message sent
again (same id, same content, same principal) answers the task the first one made, and makes
no second job; another message under a used id is a message of its own (the A2A TCK sends
several under one id, and A2A does not make an id a promise about content).

A caller sees only its own tasks; another's, and any job that is not an A2A task, is
TaskNotFound. A caller without a token (``anonymous``) may call public skills and gets
its task in SendMessage's answer or stream, but cannot look a task up later: every
anonymous caller is the same principal, and task ids are not secrets (unless
``serve.anonymous_tasks`` lets every anonymous caller see them all, as one principal).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from a2a.server.request_handlers.request_handler import RequestHandler, validate_request_params
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
)
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    ErrorMapping,
    InternalError,
    InvalidParamsError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from a2a.utils.task import apply_history_length, validate_history_length, validate_page_size

from agentgo_cli.a2a.task_workflow import PREFIX, check_call, workflow_name
from agentgo_cli.backend.convert import job_view
from agentgo_cli.errors import AgentGoError, CallError, NotFoundError, UsageError
from agentgo_cli.server.a2a_convert import (
    TERMINAL,
    artifact_event,
    message_input,
    status_event,
    task_of,
    working_event,
)

if TYPE_CHECKING:
    from a2a.server.context import ServerCallContext
    from a2a.server.events.event_queue import Event

    from agentgo_cli.a2a.catalog import Catalog, CatalogEntry
    from agentgo_cli.a2a.idempotency import Idempotency
    from agentgo_cli.backend import views as v
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.server.app import ServerState
    from agentgo_cli.server.auth import Caller

__all__ = [
    "CALLER",
    "TARGET",
    "AuthenticationRequired",
    "JobTasks",
    "PermissionDenied",
    "SKILL_KEYS",
]

CALLER = "agentgo.caller"
"""Where the request's Caller is: the ASGI scope, then the ServerCallContext's state."""
TARGET = "agentgo.target"
"""The target ('agent:<name>', 'team:<name>') whose endpoint a request came to, if one."""
SKILL_KEYS = ("skill", "skillId", "skill_id")
"""Metadata keys naming the skill a message is for (the request's, then the message's)."""
_TTL = 24 * 3600.0
"""How long a messageId names its task when the skill sets no ``idempotency_ttl``."""
_LIST_LIMIT = 10_000
"""The most jobs of one principal ListTasks reads."""
_CANCEL_WAIT = 5.0
"""Seconds CancelTask waits for the job to stop, to answer its canceled state."""


class AuthenticationRequired(A2AError):
    """A skill that needs a token was called without one (HTTP 401 / JSON-RPC -32040)."""

    message = "Authentication required"


class PermissionDenied(A2AError):
    """The caller's principal or scopes may not call the skill (HTTP 403 / JSON-RPC -32043)."""

    message = "Permission denied"


def _register_errors() -> None:
    """Teach the sdk's error tables our two authorization errors. A2A 1.0 names HTTP 401
    and 403 for them but no JSON-RPC code ('a custom error'); the sdk has no registration
    call, its bindings look errors up in these module tables."""
    from a2a.server.jsonrpc_models import JSONRPCError
    from a2a.server.request_handlers.response_helpers import EXCEPTION_MAP
    from a2a.utils import errors as sdk

    for cls, mapping, code in (
        (AuthenticationRequired, ErrorMapping(401, "UNAUTHENTICATED", "UNAUTHENTICATED"), -32040),
        (PermissionDenied, ErrorMapping(403, "PERMISSION_DENIED", "PERMISSION_DENIED"), -32043),
    ):
        sdk.A2A_ERROR_MAPPING[cls] = mapping
        sdk.A2A_ERROR_REASONS[cls] = mapping.reason
        sdk.A2A_REASON_TO_ERROR[mapping.reason] = cls
        sdk.JSON_RPC_ERROR_CODE_MAP[cls] = code
        EXCEPTION_MAP[cls] = JSONRPCError


_register_errors()

_T = TypeVar("_T")


def _a2a_error(exc: AgentGoError, caller: Caller) -> A2AError:
    """Our error as the A2A error a client understands (messages kept: they say what to do)."""
    text = str(exc)
    if isinstance(exc, CallError):
        if exc.code == "denied":
            if caller.anonymous:
                return AuthenticationRequired(message=f"{text}; send a bearer token")
            return PermissionDenied(message=text)
        if exc.code in ("not_found", "invalid_input", "idempotency_conflict"):
            return InvalidParamsError(message=text)
    if isinstance(exc, NotFoundError):
        return TaskNotFoundError(message=text)
    if isinstance(exc, UsageError):
        return InvalidParamsError(message=text)
    return InternalError(message=text)


class JobTasks(RequestHandler):
    """A2A operations over the jobs of the server's LocalBackend."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._idempotency: tuple[object, Idempotency] | None = None

    # -- helpers ---------------------------------------------------------------------------

    def _backend(self) -> LocalBackend:
        return self._state.local()

    async def _guarded(self, caller: Caller, work: Awaitable[_T]) -> _T:
        try:
            return await work
        except AgentGoError as exc:
            raise _a2a_error(exc, caller) from None

    def _idem(self, store: object) -> Idempotency:
        from agentgo_cli.a2a.idempotency import Idempotency

        held = self._idempotency
        if held is None or held[0] is not store:
            held = self._idempotency = (store, Idempotency(store))  # type: ignore[arg-type]
        return held[1]

    async def _own(self, task_id: str, caller: Caller) -> v.JobDetailView:
        """The caller's A2A task's job; TaskNotFoundError for anything else."""
        if not task_id or (caller.anonymous and not self._state.settings.anonymous_tasks):
            raise TaskNotFoundError(message=f"no task '{task_id}'")
        try:
            job = await self._backend().job(task_id)
        except NotFoundError:
            raise TaskNotFoundError(message=f"no task '{task_id}'") from None
        if not job.workflow.startswith(PREFIX) or not caller.may_see(job.principal):
            raise TaskNotFoundError(message=f"no task '{task_id}'")
        return job

    def _entry(
        self, params: SendMessageRequest, catalog: Catalog, target: str | None
    ) -> CatalogEntry:
        """The intent a message calls: its skill (``_skill``) in the catalog; at a target's
        endpoint, one of that target's (its only one when the message names none)."""
        try:
            if target is None:
                return catalog.lookup(self._skill(params))
            named = _named_skill(params)
            if named is None:
                names = sorted({e.name for e in catalog.entries() if e.target == target})
                if len(names) != 1:
                    raise InvalidParamsError(
                        message=f"{target} has {len(names)} skills ({', '.join(names) or 'none'})"
                        "; name one in the message's metadata ('skill': <skill id>)"
                    )
                named = names[0]
            entry = catalog.lookup(named)
        except CallError as exc:
            raise InvalidParamsError(message=f"{exc} (the agent card lists the skills)") from None
        if entry.target != target:
            raise InvalidParamsError(message=f"{target} has no skill '{named}'")
        return entry

    def _skill(self, params: SendMessageRequest) -> str:
        """The skill a message is for: named in the request's or the message's metadata, else
        the server's ``serve.default_skill``."""
        named = _named_skill(params)
        if named is not None:
            return named
        default = self._state.settings.default_skill
        if default:
            return default
        raise InvalidParamsError(
            message="name the skill to call in the message's metadata ('skill': <skill id "
            "from the agent card>); this server has no default skill (serve.default_skill)"
        )

    async def _start(
        self, params: SendMessageRequest, context: ServerCallContext, caller: Caller
    ) -> v.JobView:
        """Start (or find again, for a message sent before) the job a message makes."""
        message = params.message
        if not message.message_id:
            raise InvalidParamsError(message="message.messageId is required")
        if message.task_id:
            await self._continued(message.task_id, caller)
        backend = self._backend()
        paths, engine = await backend.profile_engine()
        entry = self._entry(params, engine.catalog, context.state.get(TARGET))
        value, kind = message_input(message, entry.intent.input)
        _check_output_modes(params, entry)
        scopes = caller.acl_scopes()
        check_call(entry, value, caller.principal, frozenset(scopes))
        engine.check_target(entry.target)
        ttl = entry.intent.idempotency_ttl.seconds if entry.intent.idempotency_ttl else _TTL
        idem = self._idem(engine.store)
        content = {"skill": entry.name, "input": value}
        begun = await idem.begin(
            f"a2a-task|{caller.principal}",
            f"{message.message_id}|{_digest(content)}",
            content,
            ttl,
        )
        if begun.action == "conflict":  # only if two contents' digests ever collide
            raise InvalidParamsError(
                message=f"messageId '{message.message_id}' was sent before with another "
                "message; a new message needs a new messageId"
            )
        if begun.action == "replay":
            return await backend.job(str(begun.result))
        headers = context.state.get("headers", {})
        inputs = {
            "input": value,
            "input_kind": kind,
            "message_id": message.message_id,
            "context_id": message.context_id or uuid.uuid4().hex,
            "traceparent": str(headers.get("traceparent", "")),
        }
        try:
            job = await engine.submit(
                workflow_name(entry),
                inputs,
                paths,
                run_here=True,
                principal=caller.principal,
                scopes=scopes,
            )
        except BaseException as exc:
            await asyncio.shield(idem.finish(begun, "failed", None, str(exc)))
            raise
        backend.run_here(job, engine)
        await idem.finish(begun, "succeeded", job.id)
        return job_view(job)  # as made: a stream starts from its first state

    async def _continued(self, task_id: str, caller: Caller) -> None:
        """Refuse a message to an existing task: our tasks take one message each."""
        job = await self._own(task_id, caller)
        if job.status in TERMINAL:
            raise UnsupportedOperationError(
                message=f"task {task_id} has ended ({job.status}); send a new message "
                "without a taskId to start a new task"
            )
        raise UnsupportedOperationError(
            message=f"task {task_id} takes no further messages: each task is one call; "
            "send a new message without a taskId"
        )

    async def _follow(self, job: v.JobView) -> AsyncIterator[Event]:
        """A running job's task events, the same for every stream of it: working when its
        first step starts, then its artifact (if it succeeded) and its final status."""
        backend = self._backend()
        job_id = job.job_id
        working = False
        async for event in backend.watch(job_id):
            if event.kind == "end":
                break
            if not working and event.kind == "step":
                working = True
                yield working_event(job, event.time)
        job = await backend.job(job_id)
        if job.status not in TERMINAL:  # the feed ended early (the server stops)
            yield status_event(job)
            return
        if job.status == "succeeded":
            yield artifact_event(job)
        yield status_event(job)

    # -- the operations --------------------------------------------------------------------

    @validate_request_params
    async def on_message_send(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> Task | Message:
        caller = _caller(context)
        config = params.configuration
        validate_history_length(config if params.HasField("configuration") else None)
        job = await self._guarded(caller, self._start(params, context, caller))
        if not config.return_immediately and job.status not in TERMINAL:
            limit = self._state.settings.request_timeout
            try:
                async with asyncio.timeout(limit):
                    # shielded: the answer running out of time (or its client leaving)
                    # must not cancel the job it waits for
                    await self._guarded(caller, asyncio.shield(self._backend().wait(job.job_id)))
            except TimeoutError:
                pass  # answered as it is now: working; GetTask tells the rest
            job = await self._guarded(caller, self._backend().job(job.job_id))
        history = config.history_length if config.HasField("history_length") else None
        return task_of(job, history_length=history)

    @validate_request_params
    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        caller = _caller(context)
        job = await self._guarded(caller, self._start(params, context, caller))
        yield task_of(job)
        if job.status in TERMINAL:  # a message sent again, for a task that has ended
            return
        async for event in _guarded_stream(caller, self._follow(job)):
            yield event

    @validate_request_params
    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        caller = _caller(context)
        job = await self._guarded(caller, self._own(params.id, caller))
        if job.status in TERMINAL:
            raise UnsupportedOperationError(
                message=f"task {params.id} has ended ({job.status}); GetTask shows it"
            )
        yield task_of(job)
        async for event in _guarded_stream(caller, self._follow(job)):
            yield event

    @validate_request_params
    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task | None:
        caller = _caller(context)
        validate_history_length(params)
        job = await self._guarded(caller, self._own(params.id, caller))
        history = params.history_length if params.HasField("history_length") else None
        return task_of(job, history_length=history)

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        caller = _caller(context)
        validate_history_length(params)
        if params.HasField("page_size"):
            validate_page_size(params.page_size)
        size = params.page_size if params.HasField("page_size") else DEFAULT_LIST_TASKS_PAGE_SIZE
        after = _cursor(params.page_token) if params.page_token else None
        hidden = caller.anonymous and not self._state.settings.anonymous_tasks
        jobs = [] if hidden else await self._guarded(caller, self._jobs(caller))
        tasks = [
            (job, task)
            for job in jobs
            if (task := task_of(job, artifacts=params.include_artifacts)) and _listed(task, params)
        ]
        tasks.sort(key=lambda pair: (pair[0].updated_at, pair[0].job_id), reverse=True)
        total = len(tasks)
        if after is not None:
            tasks = [p for p in tasks if (p[0].updated_at, p[0].job_id) < after]
        page, rest = tasks[:size], tasks[size:]
        response = ListTasksResponse(page_size=size, next_page_token="", total_size=total)
        for _, task in page:
            response.tasks.append(apply_history_length(task, params))
        if rest:
            last = page[-1][0]
            response.next_page_token = _token((last.updated_at, last.job_id))
        return response

    async def _jobs(self, caller: Caller) -> list[v.JobView]:
        from agentgo_cli.backend import views as v

        query = v.JobsQuery(limit=_LIST_LIMIT, principal=None if caller.admin else caller.principal)
        found = await self._backend().jobs(query)
        return [job for job in found if job.workflow.startswith(PREFIX)]

    @validate_request_params
    async def on_cancel_task(
        self, params: CancelTaskRequest, context: ServerCallContext
    ) -> Task | None:
        caller = _caller(context)
        backend = self._backend()
        job = await self._guarded(caller, self._own(params.id, caller))
        if job.status in TERMINAL:
            raise TaskNotCancelableError(message=f"task {params.id} has ended ({job.status})")
        try:
            await backend.cancel(params.id)
        except UsageError as exc:  # it ended meanwhile
            raise TaskNotCancelableError(message=str(exc)) from None
        except AgentGoError as exc:
            raise _a2a_error(exc, caller) from None
        try:
            async with asyncio.timeout(_CANCEL_WAIT):
                await asyncio.shield(backend.wait(params.id))
        except TimeoutError:
            pass
        return task_of(await self._guarded(caller, backend.job(params.id)))

    # -- not offered -----------------------------------------------------------------------

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise PushNotificationNotSupportedError

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        raise PushNotificationNotSupportedError

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        raise UnsupportedOperationError(
            message="this agent has no extended card: the public one lists every skill"
        )


def _named_skill(params: SendMessageRequest) -> str | None:
    """The skill named in the request's metadata, else in the message's, if any."""
    for metadata in (params.metadata, params.message.metadata):
        for key in SKILL_KEYS:
            if key in metadata.fields:
                value = metadata.fields[key]
                if value.WhichOneof("kind") != "string_value" or not value.string_value:
                    raise InvalidParamsError(message=f"metadata '{key}' must name a skill")
                return str(value.string_value)
    return None


def _caller(context: ServerCallContext) -> Caller:
    caller: Caller | None = context.state.get(CALLER)
    if caller is None:  # the routes are mounted without mount_a2a's authentication
        raise InternalError(message="the request was not authenticated")
    return caller


async def _guarded_stream(caller: Caller, events: AsyncIterator[_T]) -> AsyncIterator[_T]:
    try:
        async for event in events:
            yield event
    except AgentGoError as exc:
        raise _a2a_error(exc, caller) from None


def _check_output_modes(params: SendMessageRequest, entry: CatalogEntry) -> None:
    """ContentTypeNotSupportedError when the client accepts none of the media types the
    answer comes in (JSON always; text too for a text output)."""
    accepted = set(params.configuration.accepted_output_modes)
    if not accepted:
        return
    offered = {"application/json", "*/*", "application/*"}
    schema = entry.intent.output
    if schema is None or schema.get("type") == "string":
        offered |= {"text/plain", "text/*"}
    if not accepted & offered:
        raise ContentTypeNotSupportedError(
            message=f"skill {entry.name} answers application/json"
            + (" or text/plain" if "text/plain" in offered else "")
            + f", not {', '.join(sorted(accepted))}"
        )


def _listed(task: Task, params: ListTasksRequest) -> bool:
    """Whether a task passes ListTasks' filters (context, state, updated after)."""
    if params.context_id and task.context_id != params.context_id:
        return False
    if params.status and task.status.state != params.status:
        return False
    if params.HasField("status_timestamp_after"):
        after = params.status_timestamp_after.ToNanoseconds()
        if task.status.timestamp.ToNanoseconds() <= after:
            return False
    return True


def _token(position: tuple[float, str]) -> str:
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(token: str) -> tuple[float, str]:
    """The position a page token names; InvalidParamsError for one we did not make."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        updated, job_id = json.loads(raw)
        if not isinstance(job_id, str) or isinstance(updated, bool):
            raise ValueError(job_id)
        return float(updated), job_id
    except (binascii.Error, ValueError, TypeError):
        raise InvalidParamsError(
            message=f"pageToken '{token}' is not one this server made"
        ) from None


def _digest(content: dict[str, Any]) -> str:
    """A short digest of a message's skill and input, part of its idempotency key."""
    import hashlib

    text = json.dumps(content, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]

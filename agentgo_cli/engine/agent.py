"""The agent loop: model turns and tool calls until the agent answers, within its limits."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import ProviderError, StepError
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.llm.base import Client, Message, StreamingClient, TextDelta, Usage
from agentgo_cli.manifests.models.agent import AgentManifest, ModelSpec
from agentgo_cli.observer import ModelTurn, ReplyDelta
from agentgo_cli.tools.registry import ToolContext, ToolRegistry, schema_problem, validator_for

if TYPE_CHECKING:
    from agentgo_cli.llm.base import ModelResponse, ToolDef
    from agentgo_cli.observer import Observer, Redactor

__all__ = ["SCHEMA_MISS", "AgentResult", "run_agent"]

_FENCE_RE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n\s*```$", re.DOTALL)


@dataclass(frozen=True)
class AgentResult:
    """What one agent invocation produced and what it took."""

    output: Any
    """The final text, or the parsed object when the agent has an output_schema."""
    text: str
    usage: Usage
    turns: int
    tool_calls: int
    cost_usd: float = 0.0
    ended_by: str | None = None
    """The tool whose call ended the invocation (one of ``ends_on``), else None: the
    output is then that call's result."""


async def run_agent(
    agent: AgentManifest,
    *,
    prompt: str | None,
    input: Any,
    tools: ToolRegistry,
    ctx: ToolContext,
    client: Client,
    observer: Observer | None = None,
    redactor: Redactor | None = None,
    stream: bool = False,
    ends_on: frozenset[str] = frozenset(),
) -> AgentResult:
    """Run one agent invocation: ask the model, run the tools it asks for, until it answers.

    Raise StepError when the agent asks for a tool it was not given, needs more than
    ``max_turns`` model turns, exceeds its budget (tokens or usd, checked after every turn),
    or answers something that does not match its ``output_schema``. A tool that fails is
    reported to the model as the tool's answer (``error: ...``) so that it can recover.

    Each tool call gets its own idempotency key, ``<step key>:tool-<n>`` for the n-th call of
    the invocation, so two calls of the same tool in one step are not taken for one.

    With an ``observer``, every model turn is reported (``ModelTurn``), its messages passed
    through ``redactor``. With ``stream`` too, a client that can stream is asked to, and
    each piece of the reply is reported as it comes (``ReplyDelta``); the turn is the same.

    A successful call of a tool in ``ends_on`` (a swarm's ``handoff``) ends the invocation
    there: its result is the output, ``ended_by`` names the tool.
    """
    name, spec = agent.name, agent.spec
    messages = _opening(agent, prompt, input)
    definitions = [tools.definition(tool) for tool in spec.tools]
    params = dict(spec.model.params) if isinstance(spec.model, ModelSpec) else {}
    limit = spec.budget.tokens if spec.budget is not None else None
    usd_limit = spec.budget.usd if spec.budget is not None else None
    usage = Usage()
    cost = 0.0
    calls = 0
    try:
        for turn in range(1, spec.max_turns + 1):
            if observer is None:
                response = await client.complete(messages, tools=definitions, params=params)
            else:
                started = time.perf_counter()
                if stream and isinstance(client, StreamingClient):
                    response = await _streamed(
                        client, messages, definitions, params, observer, ctx, redactor
                    )
                else:
                    response = await client.complete(messages, tools=definitions, params=params)
                observer.emit(_turn(agent, ctx, messages, response, started, redactor))
            usage = usage + response.usage
            cost += response.cost_usd
            if limit is not None and usage.total > limit:
                raise StepError(
                    f"agent '{name}' exceeded its token budget ({usage.total} > {limit})"
                )
            if usd_limit is not None and cost > usd_limit:
                raise StepError(
                    f"agent '{name}' exceeded its budget of ${usd_limit:g} "
                    f"(spent ${cost:.6f} in {turn} model turn{'s' if turn > 1 else ''})"
                )
            reply = response.message
            if not reply.tool_calls:
                output = _output(agent, reply.content)
                return AgentResult(output, reply.content, usage, turn, calls, cost)
            for call in reply.tool_calls:
                if call.name not in spec.tools:
                    raise StepError(
                        f"agent '{name}' asked for tool '{call.name}', which is not one of its "
                        f"tools ({', '.join(spec.tools) or 'none'})"
                    )
            if turn == spec.max_turns and not any(c.name in ends_on for c in reply.tool_calls):
                break  # the model could never read these tools' answers (a handoff needs none)
            messages.append(reply)
            for call in reply.tool_calls:
                calls += 1
                call_ctx = dataclasses.replace(
                    ctx, idempotency_key=f"{ctx.idempotency_key}:tool-{calls}"
                )
                try:
                    result = await tools.call(call.name, call.arguments, call_ctx)
                    content = json.dumps(result, ensure_ascii=False, default=str)
                except StepError as exc:
                    content = f"error: {exc}"
                else:
                    if call.name in ends_on:
                        return AgentResult(
                            result, reply.content, usage, turn, calls, cost, ended_by=call.name
                        )
                messages.append(Message("tool", content, tool_call_id=call.id, name=call.name))
        raise StepError(f"agent '{name}' did not finish within max_turns={spec.max_turns}")
    except (StepError, ProviderError) as exc:
        exc.tokens = usage.total  # what the failed invocation used still counts
        exc.cost_usd = cost
        raise


async def _streamed(
    client: StreamingClient,
    messages: list[Message],
    tools: list[ToolDef],
    params: dict[str, Any],
    observer: Observer,
    ctx: ToolContext,
    redactor: Redactor | None,
) -> ModelResponse:
    """One model turn, streamed: each text delta is reported as it comes, the turn returned.

    With secrets to mask, text is held back to its last whitespace, so that a secret split
    across two deltas is still masked whole.
    """
    job_id, key = ctx.job_id or None, ctx.step_id
    final: ModelResponse | None = None
    held = ""
    events = client.stream(messages, tools=tools, params=params)
    try:
        async for event in events:
            if not isinstance(event, TextDelta):
                final = event
                continue
            text = event.text
            if redactor:
                held += text
                cut = max(held.rfind(" "), held.rfind("\n")) + 1
                text, held = redactor.text(held[:cut]), held[cut:]
            if text:
                observer.emit(ReplyDelta(job_id, key, text))
    finally:  # closed also when the step is cancelled: the provider's request ends
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    if held:
        observer.emit(ReplyDelta(job_id, key, redactor.text(held) if redactor else held))
    if final is None:
        raise ProviderError("the model's stream ended without a response", kind="bad_response")
    return final


def _turn(
    agent: AgentManifest,
    ctx: ToolContext,
    messages: list[Message],
    response: ModelResponse,
    started: float,
    redactor: Redactor | None,
) -> ModelTurn:
    """The event of one model turn, its payloads redacted."""
    latency = time.perf_counter() - started
    reply = response.message
    sent = [_message_dict(m) for m in messages]
    calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls]
    text = reply.content
    if redactor:
        sent, calls, text = redactor.value(sent), redactor.value(calls), redactor.text(text)
    # A reliable client names the model that answered; a bare one (scripted) only its name.
    ref = response.model if ":" in response.model else str(agent.spec.model_ref)
    return ModelTurn(
        ctx.job_id or None,
        ctx.step_id,
        ref,
        sent,
        text,
        calls,
        response.usage.input_tokens,
        response.usage.output_tokens,
        response.cost_usd,
        latency,
        span=ctx.span,
    )


def _message_dict(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        out["name"] = message.name
    return out


def _opening(agent: AgentManifest, prompt: str | None, input: Any) -> list[Message]:
    """The system message (instructions, with ``${{ input }}``) and the user message."""
    messages: list[Message] = []
    if agent.spec.instructions:
        try:
            instructions = render(agent.spec.instructions, {"input": input})
        except ExpressionError as exc:
            raise StepError(f"agent '{agent.name}': instructions: {exc}") from None
        messages.append(Message("system", str(instructions)))
    parts = [] if prompt is None else [prompt]
    if input is not None:
        parts.append(input if isinstance(input, str) else json.dumps(input, ensure_ascii=False))
    messages.append(Message("user", "\n\n".join(parts)))
    return messages


SCHEMA_MISS = "must answer JSON matching its output_schema: "
"""How an agent's failure to answer its output_schema reads, after its name and before why."""


def _output(agent: AgentManifest, text: str) -> Any:
    """The agent's output: its text, or the JSON object its output_schema asks for."""
    schema = agent.spec.output_schema
    if schema is None:
        return text
    fenced = _FENCE_RE.match(text.strip())
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as exc:
        reason = f"the answer is not JSON ({exc})"
    except RecursionError:
        reason = "the answer is nested too deeply"
    else:
        problem = schema_problem(validator_for(schema), value)
        if problem is None:
            return value
        reason = problem
    raise StepError(f"agent '{agent.name}' {SCHEMA_MISS}{reason}")

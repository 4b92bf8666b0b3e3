"""The call lifecycle stage by stage, as `agentgo call` runs it, with one refusal each, and
a workflow where agent A calls B through call_agent and B calls C.

The target agents count their runs through the `tally` tool, so a test can tell whether a
refused call reached its target.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.a2a.lifecycle import CallContext, Spend
from agentgo_cli.a2a.trace import TraceContext
from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import (
    CallRequest,
    JobView,
    LogsRequest,
    RunRequest,
    StepView,
    WorkRequest,
)
from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.errors import CallError
from agentgo_cli.manifests.manifest_set import load_set
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.helpers import Reason

Write = Callable[[str, str], Path]


CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
providers:
  scripted:
    prices: {demo: {input: 2.0, output: 4.0}}
"""
TURN_TOKENS = 15
TURN_USD = 10 * 2.0 / 1e6 + 5 * 4.0 / 1e6

TALLY_TOOL = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: tally}
spec:
  input: {type: object, required: [label], properties: {label: {type: string}}}
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:tally"}
"""
"""The `tally` python tool: it counts its calls by label (``engine_tools.calls``)."""

MANIFESTS = (
    TALLY_TOOL
    + """---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: summarizer}
spec:
  model: scripted:demo
  tools: [tally]
  script:
    - tool: {name: tally, args: {label: summarizer}}
    - reply: {summary: "Three sources agree."}
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: greeter}
spec:
  model: scripted:demo
  script:
    - reply: "hi ${{ input }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: rambler}
spec:
  model: scripted:demo
  script:
    - reply: "no JSON here"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: research-card}
spec:
  target: agent:summarizer
  intents:
    - name: research.summarize
      version: 1.2.0
      description: Summarize a topic.
      input:
        type: object
        required: [topic]
        properties: {topic: {type: string, maxLength: 50}}
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
      prompt: "Summarize ${{ input.topic }}."
      acl:
        allow:
          - principal: "user:*"
            scopes: [research.read]
        deny:
          - principal: "user:mallory"
      rate_limit: {requests: 2, per: 1h, burst: 2}
      idempotency_ttl: 1h
    - name: research.digest
      version: 1.0.0
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      prompt: "Digest ${{ input.topic }}."
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: ramble-card}
spec:
  target: agent:rambler
  intents:
    - name: text.ramble
      version: 1.0.0
      output: {type: object, required: [summary]}
"""
)


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", MANIFESTS)
    return write


async def call(intent: str = "research.summarize@^1", **kwargs: Any) -> Any:
    kwargs.setdefault("input", {"topic": "batteries"})
    kwargs.setdefault("principal", "user:alice")
    kwargs.setdefault("scopes", ["research.read"])
    async with LocalBackend() as backend:
        return await backend.call(CallRequest(intent=intent, **kwargs))


async def refused(intent: str = "research.summarize@^1", **kwargs: Any) -> CallError:
    with pytest.raises(CallError) as info:
        await call(intent, **kwargs)
    return info.value


# -- each stage ------------------------------------------------------------------------------


async def test_a_call_runs_the_target_and_returns_its_checked_output(project: Write) -> None:
    outcome = await call()
    assert outcome.output == {"summary": "Three sources agree."}
    assert (outcome.intent, outcome.target) == ("research.summarize@1.2.0", "agent:summarizer")
    assert outcome.principal == "user:alice"
    assert outcome.chain == ["user:alice", "agent:summarizer"]
    assert (outcome.tokens, outcome.cost_usd) == (2 * TURN_TOKENS, pytest.approx(2 * TURN_USD))
    assert len(outcome.trace_id) == 32 and len(outcome.span_id) == 16
    assert outcome.traceparent == f"00-{outcome.trace_id}-{outcome.span_id}-01"
    assert engine_tools.calls == {"summarizer": 1}


async def test_lookup_refuses_an_unknown_intent(project: Write) -> None:
    error = await refused("research.summarise")
    assert (error.code, error.exit_code) == ("not_found", 3)
    assert str(error) == (
        "no intent 'research.summarise' in the catalog (did you mean 'research.summarize'?)"
    )


async def test_lookup_refuses_a_version_range_nothing_matches(project: Write) -> None:
    error = await refused("research.summarize@^2")
    assert str(error) == "no version of 'research.summarize' matches '^2' (the catalog has 1.2.0)"


async def test_the_input_schema_refuses_a_bad_input(project: Write) -> None:
    error = await refused(input={"subject": "batteries"})
    assert (error.code, error.exit_code) == ("invalid_input", 5)
    assert str(error) == Reason("research.summarize@1.2.0: invalid input: ", "'topic'")
    assert engine_tools.calls == {}


async def test_a_denied_call_never_reaches_the_target(project: Write) -> None:
    error = await refused(principal="user:mallory")
    assert (error.code, error.exit_code) == ("denied", 4)
    assert str(error).startswith("research.summarize@1.2.0: user:mallory may not call it: ")
    error = await refused(scopes=[])
    assert error.code == "denied"
    assert engine_tools.calls == {}


async def test_the_quota_refuses_with_retry_after(project: Write) -> None:
    await call()
    await call()
    error = await refused()
    assert (error.code, error.exit_code) == ("quota_exceeded", 6)
    assert error.retry_after is not None and 0 < error.retry_after <= 1800
    assert "rate limit of 2 calls per 1h for user:alice reached; retry after" in str(error)
    assert engine_tools.calls == {"summarizer": 2}
    await call(principal="user:bob")  # a bucket per caller principal


async def test_idempotency_replays_the_stored_result_without_dispatching(project: Write) -> None:
    first = await call(idempotency_key="k-1")
    again = await call(idempotency_key="k-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.output == first.output
    assert engine_tools.calls == {"summarizer": 1}


async def test_idempotency_keys_belong_to_their_principal(project: Write) -> None:
    await call(idempotency_key="shared")
    other = await call(idempotency_key="shared", principal="user:bob")
    assert other.replayed is False  # bob's key 'shared' is not alice's
    assert engine_tools.calls == {"summarizer": 2}


async def test_the_same_idempotency_key_with_another_input_is_a_conflict(project: Write) -> None:
    await call(idempotency_key="k-2")
    error = await refused(idempotency_key="k-2", input={"topic": "chips"})
    assert (error.code, error.exit_code) == ("idempotency_conflict", 7)
    assert str(error) == (
        "research.summarize@1.2.0: idempotency key 'k-2' was used with a different input"
    )
    assert engine_tools.calls == {"summarizer": 1}


async def test_a_traceparent_is_continued(project: Write) -> None:
    trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    outcome = await call(traceparent=f"00-{trace}-{parent}-01")
    assert (outcome.trace_id, outcome.parent_span_id) == (trace, parent)
    assert outcome.span_id != parent


async def test_the_output_schema_refuses_a_bad_answer(project: Write) -> None:
    error = await refused("text.ramble", input={})
    assert (error.code, error.exit_code) == ("invalid_output", 8)
    assert str(error) == Reason("text.ramble@1.0.0: invalid output: ", "'no JSON here'")


async def test_many_callers_racing_one_idempotency_key_run_the_target_once(
    project: Write, workdir: Path, store_db: StoreDB
) -> None:
    mset = load_set([workdir / "m"])
    async with store_db.running() as store:
        engine = Engine(store, mset, principal="user:alice", scopes=frozenset({"research.read"}))
        trace = TraceContext.start()

        async def summarize() -> Any:
            root = CallContext("user:alice", engine.scopes, ("user:alice",), trace, Spend())
            return await engine.calls.call(
                "research.digest", {"topic": "x"}, parent=root, idempotency_key="same"
            )

        outcomes = await asyncio.gather(*(summarize() for _ in range(40)))
    assert engine_tools.calls == {"summarizer": 1}
    assert sum(not o.replayed for o in outcomes) == 1
    assert {json.dumps(o.output) for o in outcomes} == {json.dumps(outcomes[0].output)}
    assert "Three sources agree." in str(outcomes[0].output)


# -- A calls B, B calls C --------------------------------------------------------------------

CHAIN_AGENTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: alpha}
spec:
  model: scripted:demo
  tools: [call_agent]
  script:
    - tool: {name: call_agent, args: {intent: beta.work, input: {text: "${{ input }}"}}}
    - reply: "alpha heard: ${{ input }}"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: beta}
spec:
  model: scripted:demo
  tools: [call_agent]
  script:
    - tool: {name: call_agent, args: {intent: gamma.run, input: "from beta"}}
    - reply: "beta heard: ${{ input }}"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: gamma}
spec:
  model: scripted:demo
  script:
    - reply: "gamma done"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: beta-card}
spec:
  target: agent:beta
  intents:
    - name: beta.work
      version: 1.0.0
      input: {type: object, required: [text], properties: {text: {type: string}}}
      prompt: "Work on ${{ input.text }}"
"""
"""alpha calls beta.work, beta calls gamma.run: three agents and beta's card."""

CHAIN = (
    CHAIN_AGENTS
    + """---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: chain}
spec:
  steps:
    - id: go
      agent: alpha
      prompt: "start"
  outputs:
    answer: ${{ steps.go.output }}
"""
)


async def run_with_calls(workflow: str) -> tuple[JobView, list[StepView], list[dict[str, Any]]]:
    """Run a workflow here: the finished job, its steps and the data of its call events."""
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow=workflow))
        steps = (await backend.job(job.job_id)).steps
        events = await backend.logs(LogsRequest(job_id=job.job_id))
    return job, steps, [e.data for e in events if e.kind == "call"]


async def test_a_calls_b_calls_c_one_trace_a_principal_chain_and_cost_rolled_up(
    write: Write,
) -> None:
    write("agentgo.yaml", CONFIG)
    write("m/chain.yaml", CHAIN)
    job, (step,), calls = await run_with_calls("chain")
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs is not None
    assert "gamma done" in job.outputs["answer"] and "beta heard" in job.outputs["answer"]
    # Five model turns in all (alpha 2, beta 2, gamma 1), every one counted on alpha's job.
    assert job.tokens == 5 * TURN_TOKENS
    assert job.cost_usd == pytest.approx(5 * TURN_USD)
    assert (step.tokens, step.cost_usd) == (5 * TURN_TOKENS, pytest.approx(5 * TURN_USD))
    by_intent = {c["intent"]: c for c in calls}
    assert set(by_intent) == {"beta.work@1.0.0", "gamma.run@1.0.0"}
    beta, gamma = by_intent["beta.work@1.0.0"], by_intent["gamma.run@1.0.0"]
    root = beta["principal"]
    assert root.startswith("user:")
    assert beta["chain"] == [root, "agent:alpha", "agent:beta"]
    assert gamma["chain"] == [root, "agent:alpha", "agent:beta", "agent:gamma"]
    assert gamma["principal"] == root  # the callee runs as the caller's principal
    assert beta["trace_id"] == gamma["trace_id"]  # one trace across the three
    assert gamma["parent_span_id"] == beta["span_id"]
    assert (beta["tokens"], gamma["tokens"]) == (3 * TURN_TOKENS, TURN_TOKENS)


FINDER = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: finder}
spec:
  model: scripted:demo
  tools: [route_intent, discover_agents]
  script:
    - when: "^route"
      tool: {name: route_intent, args: {task: "summarize a research digest"}}
    - when: "^discover"
      tool: {name: discover_agents, args: {query: "research"}}
    - reply: "${{ input }}"
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: find}
spec:
  inputs:
    how: {type: string}
  steps:
    - id: look
      agent: finder
      prompt: "${{ inputs.how }}"
  outputs:
    found: ${{ steps.look.output }}
"""


async def test_an_agent_routes_and_discovers_with_the_builtin_tools(project: Write) -> None:
    project("m/finder.yaml", FINDER)
    async with LocalBackend() as backend:
        routed = await backend.run(RunRequest(workflow="find", inputs={"how": "route"}))
        found = await backend.run(RunRequest(workflow="find", inputs={"how": "discover"}))
    assert routed.status == "succeeded", routed.error
    assert routed.outputs is not None
    routes = json.loads(routed.outputs["found"])
    # research.summarize fits best, but it needs the research.read scope the job's
    # principal does not hold: the agent is only shown what it may call.
    assert [r["intent"] for r in routes] == ["research.digest@1.0.0"]
    assert routes[0]["target"] == "agent:summarizer"
    assert found.outputs is not None
    intents = [d["intent"] for d in json.loads(found.outputs["found"])]
    assert intents == ["research.digest@1.0.0"]


CALLER = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: ask}
spec:
  steps:
    - id: call
      call: research.summarize@^1
      input: {topic: batteries}
  outputs:
    summary: ${{ steps.call.output.summary }}
"""


async def test_a_queued_job_calls_as_its_submitter_wherever_it_runs(project: Write) -> None:
    project("m/ask.yaml", CALLER)
    async with LocalBackend() as backend:
        alice = await backend.run(
            RunRequest(
                workflow="ask", detach=True, principal="user:alice", scopes=["research.read"]
            )
        )
        mallory = await backend.run(
            RunRequest(
                workflow="ask", detach=True, principal="user:mallory", scopes=["research.read"]
            )
        )
        assert (alice.principal, alice.scopes) == ("user:alice", ["research.read"])
        notices = [n async for n in backend.work(WorkRequest(concurrency=2, once=True, poll=0.05))]
        assert notices[-1].jobs_run == 2
        done = await backend.job(alice.job_id)
        refused_job = await backend.job(mallory.job_id)
    assert (done.status, done.outputs) == ("succeeded", {"summary": "Three sources agree."})
    assert refused_job.status == "failed"
    assert refused_job.error is not None
    assert "user:mallory may not call it: denied by acl.deny[0]" in refused_job.error
    assert engine_tools.calls == {"summarizer": 1}

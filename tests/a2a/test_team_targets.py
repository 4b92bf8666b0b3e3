"""Teams as call targets: a Capability card with ``target: team:NAME`` through the whole call
lifecycle (`agentgo call`, a workflow `call:` step, the `call_agent` tool), and the synthetic
``<team>.run`` intent of a team no card targets.

The team's first role counts its runs through the `tally` tool (labelled with the task it
was given), so a test can tell whether a refused call reached any role.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.a2a.test_lifecycle import CONFIG, TALLY_TOOL, TURN_TOKENS, TURN_USD, run_with_calls
from tests.cli.test_call_cli import invoke
from tests.engine import engine_tools

Write = Callable[[str, str], Path]
ALICE = ("--as", "user:alice")

DESK = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: drafter}
spec:
  model: scripted:demo
  tools: [TOOL]
  script:
    - tool: {name: TOOL, args: {label: "${{ input }}"}}
    - reply: "draft"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: checker}
spec:
  model: scripted:demo
  script:
    - reply: {summary: "checked ${{ input }}"}
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: desk}
spec:
  protocol: pipeline
  roles:
    - {name: writer, agent: drafter}
    - {name: fact-checker, agent: checker}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: desk-card}
spec:
  target: team:desk
  intents:
    - name: desk.story
      version: 1.0.0
      description: Write a checked story on a topic.
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      output: {type: object, required: [summary], properties: {summary: {type: string}}}
      prompt: "Write about ${{ input.topic }}"
      acl:
        allow: [{principal: "user:*"}]
        deny: [{principal: "user:mallory"}]
      rate_limit: {requests: 1, per: 1h, burst: 1}
    - name: desk.count
      version: 1.0.0
      input: {type: string}
      output: {type: object, required: [words]}
"""


def desk_team(tool: str) -> str:
    """The pipeline team ``desk`` and its card (``desk.story``, ``desk.count``): its writer
    ``drafter`` first calls ``tool`` (a tool taking a ``label``) with its task, then drafts;
    its fact-checker ``checker`` answers a summary."""
    return DESK.replace("TOOL", tool)


TEAM = TALLY_TOOL + "---" + desk_team("tally")
DESK_TURNS = 3
"""drafter: the tally call and its reply; checker: its reply."""


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/team.yaml", TEAM)
    return write


# -- agentgo call ----------------------------------------------------------------------------


def test_calling_a_team_intent_runs_the_team(project: Write) -> None:
    code, out, err = invoke("call", "desk.story", "-i", "topic=cats", *ALICE)
    assert code == 0, err
    assert json.loads(out) == {"summary": "checked draft"}
    assert err.startswith("desk.story@1.0.0 in ")
    assert engine_tools.calls == {"Write about cats": 1}  # the intent's prompt is the task


def test_the_call_record_has_the_team_and_what_its_turns_spent(project: Write) -> None:
    code, out, err = invoke("call", "desk.story", "-i", "topic=cats", *ALICE, "-o", "json")
    assert code == 0, err
    record = json.loads(out)
    assert record["output"] == {"summary": "checked draft"}
    assert (record["intent"], record["target"]) == ("desk.story@1.0.0", "team:desk")
    assert record["chain"] == ["user:alice", "team:desk"]
    assert record["tokens"] == DESK_TURNS * TURN_TOKENS
    assert record["cost_usd"] == pytest.approx(DESK_TURNS * TURN_USD)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("desk.story", "-i", "topic=x", "--as", "user:mallory"), 4, "user:mallory may not"),
        (("desk.story", "-i", "topic=x", "--as", "agent:robot"), 4, "agent:robot may not"),
        (("desk.story", "--input", '{"subject": "x"}', *ALICE), 5, "invalid input"),
        (("desk.count", "--input", '{"words": 3}'), 5, "invalid input"),
    ],
)
def test_a_refused_call_runs_no_role(
    project: Write, args: tuple[str, ...], code: int, message: str
) -> None:
    got, out, err = invoke("call", *args)
    assert (got, out) == (code, "")
    assert message in err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert engine_tools.calls == {}  # the first role never ran: no model turn happened


def test_the_team_answer_is_checked_against_the_intent_output(project: Write) -> None:
    code, out, err = invoke("call", "desk.count", "--input", "some text")
    assert (code, out) == (8, "")
    assert err == "error: desk.count@1.0.0: invalid output: 'words' is a required property\n"
    assert engine_tools.calls == {"some text": 1}  # the team ran; its answer was refused


def test_the_rate_limit_applies_to_a_team_intent(project: Write) -> None:
    assert invoke("call", "desk.story", "-i", "topic=cats", *ALICE)[0] == 0
    code, out, err = invoke("call", "desk.story", "-i", "topic=dogs", *ALICE)
    assert (code, out) == (6, "")
    assert "rate limit of 1 calls per 1h for user:alice reached; retry after" in err
    assert engine_tools.calls == {"Write about cats": 1}


# -- from a job: a call step and an agent's call_agent ---------------------------------------

CALLERS = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: ask}
spec:
  steps:
    - id: ask
      call: desk.story
      input: {topic: dogs}
  outputs:
    story: ${{ steps.ask.output }}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: caller}
spec:
  model: scripted:demo
  tools: [call_agent]
  script:
    - tool: {name: call_agent, args: {intent: relay.fetch, input: "${{ input }}"}}
    - reply: "caller got ${{ input }}"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: fetcher}
spec:
  model: scripted:demo
  tools: [call_agent]
  script:
    - tool: {name: call_agent, args: {intent: gamma.run, input: "from fetcher"}}
    - reply: "fetched ${{ input }}"
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
kind: Team
metadata: {name: relay}
spec:
  protocol: pipeline
  roles:
    - {name: fetch, agent: fetcher}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: relay-card}
spec:
  target: team:relay
  intents:
    - {name: relay.fetch, version: 1.0.0, input: {type: string}}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: chain}
spec:
  steps:
    - id: go
      agent: caller
      prompt: "start"
  outputs:
    answer: ${{ steps.go.output }}
"""


async def test_a_call_step_to_a_team_costs_what_its_turns_cost(project: Write) -> None:
    project("m/callers.yaml", CALLERS)
    job, (step,), calls = await run_with_calls("ask")
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs == {"story": {"summary": "checked draft"}}
    assert (step.tokens, step.cost_usd) == (
        DESK_TURNS * TURN_TOKENS,
        pytest.approx(DESK_TURNS * TURN_USD),
    )
    assert (job.tokens, job.cost_usd) == (step.tokens, step.cost_usd)
    (call,) = calls
    assert call["intent"] == "desk.story@1.0.0"
    assert call["chain"] == [job.principal, "team:desk"]
    assert engine_tools.calls == {"Write about dogs": 1}


async def test_an_agent_calling_a_team_pays_for_it_and_the_chain_passes_the_team(
    project: Write,
) -> None:
    project("m/callers.yaml", CALLERS)
    job, (step,), calls = await run_with_calls("chain")
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs == {"answer": 'caller got "fetched \\"gamma done\\""'}
    # caller 2 turns, the team's fetcher 2, gamma (called by the fetcher) 1.
    assert (step.tokens, step.cost_usd) == (5 * TURN_TOKENS, pytest.approx(5 * TURN_USD))
    assert (job.tokens, job.cost_usd) == (step.tokens, step.cost_usd)
    by_intent = {c["intent"]: c for c in calls}
    assert set(by_intent) == {"relay.fetch@1.0.0", "gamma.run@1.0.0"}
    relay, gamma = by_intent["relay.fetch@1.0.0"], by_intent["gamma.run@1.0.0"]
    root = job.principal
    assert root is not None and root.startswith("user:")
    assert relay["chain"] == [root, "agent:caller", "team:relay"]
    assert gamma["chain"] == [root, "agent:caller", "team:relay", "agent:fetcher", "agent:gamma"]
    assert gamma["principal"] == root
    assert gamma["trace_id"] == relay["trace_id"]
    assert (relay["tokens"], gamma["tokens"]) == (3 * TURN_TOKENS, TURN_TOKENS)


PAID = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: paid}
spec: {model: "openai:gpt-4o-mini"}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: mixed}
spec:
  protocol: pipeline
  roles:
    - {name: writer, agent: drafter}
    - {name: polisher, agent: paid}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: mixed-card}
spec:
  target: team:mixed
  intents:
    - {name: mixed.story, version: 1.0.0, input: {type: string}}
"""


def test_a_team_whose_agent_has_no_key_is_refused_before_any_role_runs(
    project: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    project("m/paid.yaml", PAID)
    code, out, err = invoke("call", "mixed.story", "--input", "cats")
    assert (code, out) == (2, "")
    assert err == (
        "error: model openai:gpt-4o-mini: no API key for provider 'openai': set "
        "OPENAI_API_KEY, or set providers.openai.api_key in agentgo.yaml (e.g. "
        "'${env:OPENAI_API_KEY}')\n"
    )
    assert engine_tools.calls == {}  # not even the first role, which needs no key


# -- the synthetic <team>.run intent ---------------------------------------------------------

UNCARDED = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: greeter}
spec:
  model: scripted:demo
  script:
    - reply: "hi ${{ input }}"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: judge}
spec:
  model: scripted:demo
  output_schema: {type: object, required: [approved], properties: {approved: {type: boolean}}}
  script:
    - reply: {approved: true}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: crew, description: Greets twice.}
spec:
  protocol: pipeline
  roles:
    - {name: first, agent: greeter}
    - {name: second, agent: greeter}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: bench}
spec:
  protocol: pipeline
  roles:
    - {name: greet, agent: greeter}
    - {name: judge, agent: judge}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: twin}
spec:
  protocol: pipeline
  roles:
    - {name: greet, agent: greeter}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: twin}
spec:
  model: scripted:demo
  script:
    - reply: "the agent twin"
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: greet}
spec:
  steps:
    - id: ask
      call: crew.run
      input: "there"
  outputs:
    said: ${{ steps.ask.output }}
"""


@pytest.fixture
def uncarded(project: Write) -> Write:
    project("m/uncarded.yaml", UNCARDED)
    return project


def test_a_team_without_a_card_answers_its_run_intent_with_text(uncarded: Write) -> None:
    code, out, err = invoke("call", "crew.run", "--input", "there", "-o", "json")
    assert code == 0, err
    record = json.loads(out)
    assert record["output"] == "hi hi there"
    assert (record["intent"], record["target"]) == ("crew.run@1.0.0", "team:crew")
    assert record["chain"][1:] == ["team:crew"]
    assert record["tokens"] == 2 * TURN_TOKENS


def test_the_run_intent_of_a_team_takes_text_only(uncarded: Write) -> None:
    code, out, err = invoke("call", "crew.run", "--input", '{"topic": "x"}')
    assert (code, out) == (5, "")
    assert err.startswith("error: crew.run@1.0.0: invalid input: ")


def test_the_catalog_lists_the_run_intent_of_uncarded_teams_only(uncarded: Write) -> None:
    code, out, err = invoke("catalog", "list", "-o", "json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert {n for n, r in rows.items() if r["target"].startswith("team:")} == {
        "bench.run",
        "crew.run",
        "desk.count",
        "desk.story",
    }
    crew = rows["crew.run"]
    assert (crew["version"], crew["card"], crew["synthetic"]) == ("1.0.0", None, True)
    assert crew["description"] == "Greets twice."
    assert rows["bench.run"]["description"] == (
        "Run the team 'bench' (pipeline) on a task given as text."
    )
    assert "desk.run" not in rows  # desk has a card
    assert rows["twin.run"]["target"] == "agent:twin"  # an agent's own name comes first


def test_a_team_whose_agents_answer_objects_gives_any_json(uncarded: Write) -> None:
    code, out, err = invoke("catalog", "show", "bench.run", "-o", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["input"], shown["output"]) == ({"type": "string"}, None)
    assert json.loads(invoke("catalog", "show", "crew.run", "-o", "json")[1])["output"] == {
        "type": "string"
    }
    code, out, err = invoke("call", "bench.run", "--input", "there")
    assert code == 0, err
    assert json.loads(out) == {"approved": True}


def test_a_workflow_may_call_the_run_intent_of_a_team(uncarded: Write) -> None:
    code, out, err = invoke("validate")
    assert code == 0, out + err


async def test_a_call_step_reaches_the_run_intent_of_a_team(uncarded: Write) -> None:
    job, (step,), calls = await run_with_calls("greet")
    assert (job.status, job.outputs) == ("succeeded", {"said": "hi hi there"})
    assert step.tokens == 2 * TURN_TOKENS
    assert [c["intent"] for c in calls] == ["crew.run@1.0.0"]


def test_the_a2a_export_has_a_card_per_team_with_its_intents_as_skills(uncarded: Write) -> None:
    uncarded("m/callers.yaml", CALLERS)
    code, out, err = invoke("catalog", "export", "--format", "a2a")
    assert code == 0, err
    cards = {c["supportedInterfaces"][0]["url"]: c for c in json.loads(out)}
    relay = cards["http://localhost:8080/a2a/team/relay"]
    assert relay["name"] == "relay"
    assert relay["description"] == "The AgentGo team 'relay', serving 1 intent: relay.fetch."
    assert [s["id"] for s in relay["skills"]] == ["relay.fetch"]
    desk = cards["http://localhost:8080/a2a/team/desk"]
    assert [s["id"] for s in desk["skills"]] == ["desk.count", "desk.story"]
    story = desk["skills"][1]
    assert (story["description"], story["inputModes"], story["outputModes"]) == (
        "Write a checked story on a topic.",
        ["application/json"],
        ["application/json"],
    )
    crew = cards["http://localhost:8080/a2a/team/crew"]
    assert crew["description"] == "Greets twice."
    assert (crew["defaultInputModes"], crew["defaultOutputModes"]) == (
        ["text/plain"],
        ["text/plain"],
    )
    (params,) = [e["params"] for e in crew["capabilities"]["extensions"]]
    (version,) = params["skills"]["crew.run"]["versions"]
    assert (version["synthetic"], version["outputSchema"]) == (True, {"type": "string"})
    bench = cards["http://localhost:8080/a2a/team/bench"]
    assert bench["skills"][0]["outputModes"] == ["application/json", "text/plain"]


def test_an_idempotent_team_call_replays_without_running_the_team(project: Write) -> None:
    base = ("call", "desk.count", "--input", "same", "--idempotency-key", "k")
    assert invoke(*base)[0] == 8  # a failed call frees its key
    assert engine_tools.calls == {"same": 1}
    project("m/ok.yaml", OK_CARD)
    first = invoke("call", "desk.any", "--input", "same", "--idempotency-key", "k", "-o", "json")
    again = invoke("call", "desk.any", "--input", "same", "--idempotency-key", "k", "-o", "json")
    assert (first[0], again[0]) == (0, 0), first[2] + again[2]
    one, two = json.loads(first[1]), json.loads(again[1])
    assert (one["replayed"], two["replayed"]) == (False, True)
    assert one["output"] == two["output"] == '{"summary": "checked draft"}'
    assert engine_tools.calls == {"same": 2}


OK_CARD = """
apiVersion: agentgo/v1
kind: Capability
metadata: {name: desk-any}
spec:
  target: team:desk
  intents:
    - {name: desk.any, version: 1.0.0, input: {type: string}}
"""

DENY_TEAM = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: gamma}
spec:
  model: scripted:demo
  script:
    - reply: "gamma done"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: gamma-card}
spec:
  target: agent:gamma
  intents:
    - name: gamma.guarded
      version: 1.0.0
      input: {type: string}
      acl:
        allow: [{principal: "user:*"}]
        deny: [{principal: "team:relay"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: prober}
spec:
  model: scripted:demo
  tools: [call_agent]
  script:
    - tool: {name: call_agent, args: {intent: gamma.guarded, input: "from the team"}}
    - reply: "prober got ${{ input }}"
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: relay}
spec:
  protocol: pipeline
  roles:
    - {name: probe, agent: prober}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: guarded}
spec:
  steps:
    - id: direct
      call: gamma.guarded
      input: "from the job"
    - id: via
      team: relay
      input: "go"
  outputs:
    direct: ${{ steps.direct.output }}
    via: ${{ steps.via.output }}
"""


async def test_a_deny_rule_on_a_team_refuses_calls_its_roles_make(write: Write) -> None:
    """Deny rules match any principal of the chain: ``team:relay`` is in the chain of the
    calls its role agents make (the refusal is the call_agent tool's answer to the agent)."""
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", DENY_TEAM)
    job, _, calls = await run_with_calls("guarded")
    assert (job.status, job.error) == ("succeeded", None), job.error
    assert job.outputs == {
        "direct": "gamma done",
        "via": (
            "prober got error: call_agent: denied: gamma.guarded@1.0.0: user:root may not call "
            "it: denied by acl.deny[0] (principal 'team:relay' matches team:relay in the call "
            "chain)"
        ).replace("user:root", str(job.principal)),
    }
    (call,) = calls
    assert call["chain"] == [job.principal, "agent:gamma"]  # the job's own call was allowed


async def test_in_a_team_step_role_agents_call_as_the_job_through_the_team(
    project: Write,
) -> None:
    project("m/callers.yaml", CALLERS)
    project("m/step.yaml", TEAM_STEP)
    job, _, calls = await run_with_calls("stepped")
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs == {"got": 'fetched "gamma done"'}
    (call,) = calls
    assert call["chain"] == [job.principal, "team:relay", "agent:fetcher", "agent:gamma"]
    assert (job.tokens, job.cost_usd) == (3 * TURN_TOKENS, pytest.approx(3 * TURN_USD))


TEAM_STEP = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: stepped}
spec:
  steps:
    - id: desk
      team: relay
      input: "start"
  outputs:
    got: ${{ steps.desk.output }}
"""

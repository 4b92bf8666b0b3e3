"""One project with a team of every protocol and the scripted agents that play them, shared by
the protocol tests (tests/teams/test_protocols.py, test_team_failures.py).

Each team ``<name>`` has a workflow of the same name: one team step ``desk`` on the input
``task`` (default ``x``), its output the workflow's output ``out``. Agents answer
deterministically, so the tests assert exact outputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentgo_cli.cli.app import app

Write = Callable[[str, str], Path]

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
features: [contract-net, swarm]
providers: {scripted: {prices: {priced: {input: 1000, output: 1000}}}}
"""
"""Both feature protocols on; model ``scripted:priced`` costs $0.001 a token."""

AGENTS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: tally}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:tally"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: wrap-a}
spec:
  model: scripted:demo
  script: [{reply: "A(${{ input }})"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: wrap-b}
spec:
  model: scripted:demo
  script: [{reply: "B(${{ input }})"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: wrap-c}
spec:
  model: scripted:demo
  script: [{reply: "C(${{ input }})"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: broken}
spec:
  model: scripted:demo
  script: [{reply: "${{ input.nope }}"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: not-json}
spec:
  model: scripted:demo
  output_schema: {type: object, required: [x]}
  script: [{reply: "no JSON here"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: priced}
spec:
  model: scripted:priced
  usage: {input_tokens: 100, output_tokens: 50}
  script: [{reply: "P(${{ input }})"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: slow}
spec:
  model: scripted:demo
  latency: 150ms
  script: [{reply: "S(${{ input }})"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: chief}
spec:
  model: scripted:demo
  script:
    - when: "^Plan"
      reply: ["t1", "t2", "t3", "t4", "t5"]
    - when: "^Merge"
      reply: "chief merged ${{ input }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: vague-chief}
spec:
  model: scripted:demo
  script: [{when: "^Plan", reply: "just do it"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: deep-chief}
spec:
  model: scripted:demo
  script: [{when: "^(Plan|Bid)", reply: "${{ '[' * 50000 }}"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: nan-chief}
spec:
  model: scripted:demo
  script: [{when: "^Plan", reply: '["t1", NaN]'}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: doer}
spec:
  model: scripted:demo
  tools: [tally]
  script:
    - tool: {name: tally, args: {label: "${{ input.splitlines()[-1] }}"}}
    - reply: "done ${{ input }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: merger}
spec:
  model: scripted:demo
  script: [{reply: "merged ${{ input }}"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: bid-1}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 1, reason: "I can"}}
    - reply: "one did ${{ input.splitlines()[-1] }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: bid-3}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 3, reason: "I fit"}}
    - reply: "three did ${{ input.splitlines()[-1] }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: bid-3b}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 3.0, reason: "I fit too"}}
    - reply: "three-b did ${{ input.splitlines()[-1] }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: bid-9-fails}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 9, reason: "I am the best"}}
    - reply: "${{ input.nope }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: decliner}
spec:
  model: scripted:demo
  script: [{when: "^Bid", reply: {bid: null, reason: "not mine"}}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: triage}
spec:
  model: scripted:demo
  script:
    - tool: {name: handoff, args: {to: billing, message: "refund for ${{ input }}"}}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: lost-triage}
spec:
  model: scripted:demo
  script:
    - when: "no role"
      tool: {name: handoff, args: {to: billing, message: "after ${{ input }}"}}
    - tool: {name: handoff, args: {to: refunds, message: "refund"}}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: triage-again}
spec:
  model: scripted:demo
  script:
    - when: "could not take"
      reply: "triage answered: ${{ input }}"
    - tool: {name: handoff, args: {to: billing, message: "yours"}}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: picky}
spec:
  model: scripted:demo
  script:
    - when: "t3$"
      reply: "${{ input.nope }}"
    - reply: "ok ${{ input.splitlines()[-1] }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: biller}
spec:
  model: scripted:demo
  script: [{reply: "billing: ${{ input }}"}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: to-pong}
spec:
  model: scripted:demo
  script: [{tool: {name: handoff, args: {to: pong, message: "yours"}}}]
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: to-ping}
spec:
  model: scripted:demo
  script: [{tool: {name: handoff, args: {to: ping, message: "no, yours"}}}]
"""

TEAMS: dict[str, str] = {
    "relay": """
        protocol: pipeline
        roles:
          - {name: first, agent: wrap-a}
          - {name: second-pass, agent: wrap-b}
          - {name: third, agent: wrap-c}
    """,
    "newsroom": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: chief}
          - {name: writer, agent: doer, replicas: 2}
          - {name: fact-checker, agent: doer, replicas: 3}
          - {name: synthesizer, agent: merger}
    """,
    "small-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: chief}
          - {name: writer, agent: doer}
    """,
    "vague-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: vague-chief}
          - {name: writer, agent: doer}
    """,
    "deep-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: deep-chief}
          - {name: writer, agent: doer}
    """,
    "patchy-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: chief}
          - {name: writer, agent: picky, replicas: 2, on_failure: skip}
          - {name: synthesizer, agent: merger}
    """,
    "brittle-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: chief}
          - {name: writer, agent: picky}
    """,
    "nan-room": """
        protocol: planner-workers
        roles:
          - {name: planner, agent: nan-chief}
          - {name: writer, agent: doer}
    """,
    "market": """
        protocol: contract-net
        roles:
          - {name: low, agent: bid-1}
          - {name: high, agent: bid-3}
          - {name: shy, agent: decliner}
    """,
    "tie": """
        protocol: contract-net
        roles:
          - {name: one, agent: bid-1}
          - {name: first, agent: bid-3}
          - {name: second, agent: bid-3b}
    """,
    "silent-market": """
        protocol: contract-net
        roles:
          - {name: shy, agent: decliner}
          - {name: rambler, agent: wrap-a}
          - {name: crasher, agent: broken}
          - {name: nester, agent: deep-chief}
    """,
    "fallen-star": """
        protocol: contract-net
        roles:
          - {name: low, agent: bid-1}
          - {name: star, agent: bid-9-fails, on_failure: skip}
          - {name: high, agent: bid-3}
    """,
    "helpdesk": """
        protocol: swarm
        roles:
          - {name: triage, agent: triage}
          - {name: billing, agent: biller}
    """,
    "lost-desk": """
        protocol: swarm
        roles:
          - {name: triage, agent: lost-triage}
          - {name: billing, agent: biller}
    """,
    "fragile-desk": """
        protocol: swarm
        roles:
          - {name: triage, agent: triage-again}
          - {name: billing, agent: broken, on_failure: skip}
    """,
    "ping-pong": """
        protocol: swarm
        limits: {max_rounds: 5}
        roles:
          - {name: ping, agent: to-pong}
          - {name: pong, agent: to-ping}
    """,
    "endless": """
        protocol: swarm
        roles:
          - {name: ping, agent: to-pong}
          - {name: pong, agent: to-ping}
    """,
    "strict": """
        protocol: pipeline
        roles:
          - {name: first, agent: wrap-a}
          - {name: middle, agent: broken}
          - {name: last, agent: wrap-c}
    """,
    "understudies": """
        protocol: pipeline
        roles:
          - {name: first, agent: wrap-a}
          - {name: middle, agent: broken, on_failure: replace,
             fallback_agents: [not-json, wrap-b, wrap-c]}
    """,
    "no-understudy": """
        protocol: pipeline
        roles:
          - {name: middle, agent: broken, on_failure: replace, fallback_agents: [not-json]}
    """,
    "lenient": """
        protocol: pipeline
        roles:
          - {name: first, agent: wrap-a}
          - {name: middle, agent: broken, on_failure: skip}
          - {name: last, agent: wrap-c}
    """,
    "crowded-room": """
        protocol: planner-workers
        limits: {max_rounds: 4}
        roles:
          - {name: planner, agent: chief}
          - {name: writer, agent: doer}
    """,
    "thrifty": """
        protocol: pipeline
        limits: {cost_usd: 0.2}
        roles:
          - {name: first, agent: priced}
          - {name: second, agent: priced}
          - {name: third, agent: priced}
    """,
    "spendthrift": """
        protocol: pipeline
        limits: {cost_usd: 0.1}
        roles:
          - {name: only, agent: priced}
    """,
    "hasty": """
        protocol: pipeline
        limits: {wallclock: 200ms}
        roles:
          - {name: first, agent: slow}
          - {name: second, agent: slow}
          - {name: third, agent: slow}
    """,
}
"""Team name → spec body."""


def _indent(text: str, by: str) -> str:
    import textwrap

    return textwrap.indent(textwrap.dedent(text).strip("\n"), by)


def teams_yaml() -> str:
    """The Team manifests, and a workflow of each team's name running it as step ``desk``."""
    docs = []
    for name, spec in TEAMS.items():
        docs.append(
            f"apiVersion: agentgo/v1\nkind: Team\nmetadata: {{name: {name}}}\nspec:\n"
            + _indent(spec, "  ")
        )
        docs.append(
            f"apiVersion: agentgo/v1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n"
            "  inputs: {task: {type: string, default: x}}\n"
            f"  steps: [{{id: desk, team: {name}, input: '${{{{ inputs.task }}}}'}}]\n"
            "  outputs: {out: '${{ steps.desk.output }}'}"
        )
    return "\n---\n".join(docs) + "\n---\n" + NESTED


NESTED = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: nested}
spec:
  steps:
    - id: each
      foreach: ["a", "b"]
      as: item
      steps:
        - {id: desk, team: small-room, input: "${{ item }}"}
    - id: again
      loop:
        max_iterations: 2
        steps:
          - {id: help, team: helpdesk, input: "order ${{ loop.iteration }}"}
  outputs: {each: "${{ steps.each.output }}", again: "${{ steps.again.output }}"}
"""
"""Teams inside a foreach (two planner-workers runs at once) and a loop (a swarm twice)."""


def write_project(write: Write) -> None:
    """Write the project (config, agents, teams and workflows) into the working folder."""
    write("agentgo.yaml", CONFIG)
    write("m/agents.yaml", AGENTS)
    write("m/teams.yaml", teams_yaml())


runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``agentgo ARGS`` in process: exit code, stdout, stderr."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run(workflow: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run a workflow: its exit code and its job as ``jobs show -o json`` shows it."""
    code, out, err = invoke("run", workflow, "--quiet", "-o", "json", *args)
    assert out, err
    job_id = json.loads(out)["job_id"]
    shown, out, err = invoke("jobs", "show", job_id, "-o", "json")
    assert shown == 0, err
    job: dict[str, Any] = json.loads(out)
    return code, job


def run_failing(workflow: str, *args: str) -> dict[str, Any]:
    """Run a workflow that must fail (exit code 1, the job failed): its job, as ``run``."""
    code, job = run(workflow, *args)
    assert (code, job["status"]) == (1, "failed"), job["error"]
    return job


def turns(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The job's role turns in the order they started: (key, step id, status)."""
    rows = sorted((s for s in job["steps"] if s["kind"] == "role"), key=lambda s: s["started_at"])
    return [(s["key"], s["step_id"], s["status"]) for s in rows]


def notes(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What ``jobs show`` says each step of the job notes (a role turn's ``turn``, a team
    step's ``team``), by key, without the fields left empty."""
    return {
        s["key"]: {k: v for k, v in (s["turn"] or s["team"] or {}).items() if v not in (None, [])}
        for s in job["steps"]
    }

"""A support-triage project built the way a new user builds one, from the README alone.

The project is written in a temporary folder: ``agentgo.yaml``, a python tool beside it, an
agent with an ``output_schema``, a capability card, and a workflow with ``foreach``,
``parallel``, ``if``, ``value`` and a ``loop``. Then, with the installed ``agentgo`` and no
PYTHONPATH: ``validate`` and ``plan`` from the project folder, ``run`` (by name) from a
subfolder, ``call`` of the card's intent and of an agent's synthetic intent, ``jobs show`` and
``jobs trace`` of the run, and one database for all of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_project_root import AGENTGO
from tests.e2e.test_project_root import CONFIG as PROJECT_CONFIG

pytestmark = pytest.mark.skipif(
    not AGENTGO.exists(), reason=f"agentgo is not installed next to {sys.executable}"
)

CONFIG = PROJECT_CONFIG + "    trace: full\n"

CRM = """\
TIERS = {"acme": "gold", "globex": "silver"}


def lookup(customer: str) -> dict:
    return {"customer": customer, "tier": TIERS.get(customer, "bronze")}
"""

MANIFESTS = """\
apiVersion: agentgo/v1
kind: Tool
metadata: {name: crm-lookup}
spec:
  input: {type: object, required: [customer], properties: {customer: {type: string}}}
  runtime: {type: python, entrypoint: "crm:lookup", timeout: 10s}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: classifier, description: Sorts a ticket into a queue.}
spec:
  model: scripted:triage
  instructions: Classify the support ticket. Answer JSON.
  output_schema:
    type: object
    required: [queue, urgent]
    properties:
      queue: {type: string, enum: [billing, outage, other]}
      urgent: {type: boolean}
  script:
    - when: "(?i)down|outage"
      reply: {queue: outage, urgent: true}
    - when: "(?i)invoice|refund"
      reply: {queue: billing, urgent: false}
    - reply: {queue: other, urgent: false}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: editor}
spec:
  model: scripted:editor
  output_schema:
    type: object
    required: [approved]
    properties: {approved: {type: boolean}}
  script:
    - reply: {approved: true}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec:
  model: scripted:writer
  script:
    - reply: "Summary: ${{ input }}"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: triage-card}
spec:
  target: agent:classifier
  intents:
    - name: support.classify
      version: 1.0.0
      input: {type: object, required: [text], properties: {text: {type: string}}}
      prompt: "${{ input.text }}"
      output:
        type: object
        required: [queue]
        properties: {queue: {type: string}, urgent: {type: boolean}}
      acl: {allow: [{principal: "user:*"}]}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: triage}
spec:
  inputs:
    tickets: {type: array, items: {type: object}}
    escalate: {type: boolean, default: false}
  steps:
    - id: each
      foreach: ${{ inputs.tickets }}
      as: ticket
      steps:
        - id: account
          tool: crm-lookup
          with: {customer: "${{ ticket.customer }}"}
        - id: classify
          agent: classifier
          prompt: "${{ ticket.text }}"
        - id: row
          value:
            customer: ${{ ticket.customer }}
            tier: ${{ steps.account.output.tier }}
            queue: ${{ steps.classify.output.queue }}
            urgent: ${{ steps.classify.output.urgent }}
    - id: checks
      parallel:
        - id: urgent
          value: ${{ steps.each.output | selectattr('urgent') | map(attribute='customer') | list }}
        - id: summary
          agent: writer
          prompt: "${{ steps.each.output | length }} tickets"
    - id: page
      if: ${{ inputs.escalate and steps.urgent.output | length > 0 }}
      value: "paging on-call for ${{ steps.urgent.output | join(', ') }}"
    - id: review
      loop:
        max_iterations: 3
        until: ${{ steps.edit.output.approved }}
        steps:
          - id: edit
            agent: editor
            input: ${{ steps.summary.output }}
  outputs:
    rows: ${{ steps.each.output }}
    urgent: ${{ steps.urgent.output }}
    paged: ${{ steps.page.status }}
    approved: ${{ steps.edit.output.approved }}
"""

TICKETS = [
    {"customer": "acme", "text": "Our site is down since 9am"},
    {"customer": "globex", "text": "Please resend the March invoice"},
    {"customer": "initech", "text": "How do I change my avatar?"},
]


def _agentgo(
    *args: str, cwd: Path, ok: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTGO_", "PYTHONPATH"))}
    env["XDG_CONFIG_HOME"] = str(cwd / ".no-user-config")
    done = subprocess.run(
        [str(AGENTGO), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "support"
    (root / "manifests").mkdir(parents=True)
    (root / "agentgo.yaml").write_text(CONFIG)
    (root / "crm.py").write_text(CRM)
    (root / "manifests" / "triage.yaml").write_text(MANIFESTS)
    (root / "notes" / "today").mkdir(parents=True)
    return root


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node["children"]:
        found.extend(_nodes(child))
    return found


def test_a_project_from_the_readme_runs_from_a_subfolder_and_shows_its_trace(
    project: Path,
) -> None:
    checked = _agentgo("validate", cwd=project)
    assert "valid" in checked.stdout + checked.stderr

    sub = project / "notes" / "today"
    (sub / "in.json").write_text(json.dumps({"tickets": TICKETS, "escalate": True}))
    plan = _agentgo("plan", "triage", "--input-file", "in.json", "-o", "json", cwd=sub)
    assert [s["id"] for s in json.loads(plan.stdout)["steps"]] == [
        "each",
        "checks",
        "page",
        "review",
    ]
    assert not (project / ".agentgo").exists(), "plan must not open the store"

    ran = _agentgo("run", "triage", "--input-file", "in.json", "-o", "json", cwd=sub)
    job = json.loads(ran.stdout)
    assert job["status"] == "succeeded", job
    assert job["outputs"]["rows"] == [
        {"customer": "acme", "tier": "gold", "queue": "outage", "urgent": True},
        {"customer": "globex", "tier": "silver", "queue": "billing", "urgent": False},
        {"customer": "initech", "tier": "bronze", "queue": "other", "urgent": False},
    ]
    assert job["outputs"]["urgent"] == ["acme"]
    assert job["outputs"]["paged"] == "succeeded"
    assert job["outputs"]["approved"] is True
    assert not (sub / ".agentgo").exists(), "a subfolder must use the project's database"

    # The project folder sees the job the subfolder ran: one database.
    listed = json.loads(_agentgo("jobs", "list", "-o", "json", cwd=project).stdout)
    assert job["job_id"] in [j["job_id"] for j in listed]
    shown = json.loads(_agentgo("jobs", "show", job["job_id"], "-o", "json", cwd=project).stdout)
    review = next(s for s in shown["steps"] if s["key"] == "review")
    assert review["exhausted"] is False

    # The card's intent and the editor's synthetic intent answer typed objects.
    called = _agentgo(
        "call", "support.classify", "--input", '{"text": "Refund my invoice"}', cwd=sub
    )
    assert json.loads(called.stdout) == {"queue": "billing", "urgent": False}
    edited = _agentgo("call", "editor.run", "--input", "Review this.", cwd=sub)
    assert json.loads(edited.stdout) == {"approved": True}

    # The trace: every step, the classifier's turns with what was sent, the tool's result.
    tree = json.loads(_agentgo("jobs", "trace", job["job_id"], "-o", "json", cwd=sub).stdout)
    nodes = _nodes(tree)
    steps = {n["name"] for n in nodes if n["kind"] == "step"}
    assert {"each", "each[0].account", "each[2].classify", "checks", "page", "review"} <= steps
    tools = [n for n in nodes if n["kind"] == "tool" and n["name"] == "crm-lookup"]
    assert sorted(t["detail"]["result"]["tier"] for t in tools) == ["bronze", "gold", "silver"]
    turns = [n for n in nodes if n["kind"] == "turn" and n["path"].startswith("each[0].classify")]
    assert len(turns) == 1
    sent = json.dumps(turns[0]["detail"]["messages"])
    assert "Our site is down since 9am" in sent
    assert json.loads(turns[0]["detail"]["reply"]) == {"queue": "outage", "urgent": True}

    one = _agentgo("jobs", "trace", job["job_id"], "--step", turns[0]["path"], cwd=sub)
    assert "Our site is down since 9am" in one.stdout

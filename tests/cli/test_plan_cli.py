"""agentgo plan as the user runs it: the step graph as a tree, Mermaid, DOT and JSON, the
expressions each step reads, and the errors of validate and run, with nothing run."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agentgo_cli.backend.views import PlanView
from agentgo_cli.cli.app import app
from agentgo_cli.manifests.models.workflow import STEP_KINDS
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

runner = CliRunner()

EVERY_KIND = """
inputs:
  topics: {type: array, items: {type: string}}
  publish: {type: boolean, default: false}
steps:
  - id: research
    foreach: ${{ inputs.topics }}
    as: topic
    max_concurrency: 2
    on_item_error: continue
    steps:
      - id: summarize
        agent: writer
        prompt: "news on ${{ topic }}"
  - id: draft
    agent: writer
    prompt: "Digest of ${{ steps.research.output | join(' ') }}"
    retry: {max_attempts: 2, backoff: fixed, initial: 1s, max: 5s}
    timeout: 30s
  - id: polish
    loop:
      max_iterations: 3
      until: ${{ steps.review.output.approved }}
      on_exhausted: fail
      steps:
        - id: review
          agent: editor
          prompt: "round ${{ loop.iteration }}"
          input: ${{ steps.draft.output }}
  - id: checks
    parallel:
      - id: count
        tool: echo
        with: {text: "${{ steps.draft.output }}"}
        continue_on_error: true
      - id: summary
        call: text.summarize@^1
        input: {topic: "${{ steps.draft.output }}"}
  - id: desk
    if: ${{ inputs.publish }}
    team: desk
    input: ${{ steps.draft.output }}
  - id: size
    value: ${{ steps.draft.output | length }}
outputs:
  digest: ${{ steps.draft.output }}
  words: ${{ steps.count.output.words }}
"""

TREE = """\
workflow wf (m/wf.yaml)
inputs
├── topics = ["a", "b"]
└── publish = false  (default)
steps
├── research: foreach  as=topic  max_concurrency=2  on_item_error=continue  (line 9)
│   reads foreach: ${{ inputs.topics }}  <- inputs.topics
│   └── summarize: agent writer  (line 15)
│       reads prompt: ${{ topic }}  <- topic
├── draft: agent writer  retry 2x fixed 1s..5s  timeout 30s  (line 18)
│   reads prompt: ${{ steps.research.output | join(' ') }}  <- steps.research
├── polish: loop  loop.max_iterations=3  loop.on_exhausted=fail  (line 23)
│   reads loop.until: ${{ steps.review.output.approved }}  <- steps.review
│   └── review: agent editor  (line 29)
│       reads prompt: ${{ loop.iteration }}  <- loop
│       reads input: ${{ steps.draft.output }}  <- steps.draft
├── checks: parallel  (line 33)
│   ├── count: tool echo  continue_on_error  (line 35)
│   │   reads with.text: ${{ steps.draft.output }}  <- steps.draft
│   └── summary: call text.summarize@^1  (line 39)
│       reads input.topic: ${{ steps.draft.output }}  <- steps.draft
├── desk: team desk (pipeline: write sloppy)  (line 42)
│   reads if: ${{ inputs.publish }}  <- inputs.publish
│   reads input: ${{ steps.draft.output }}  <- steps.draft
└── size: value  (line 46)
    reads value: ${{ steps.draft.output | length }}  <- steps.draft
outputs
├── digest: ${{ steps.draft.output }}  <- steps.draft
└── words: ${{ steps.count.output.words }}  <- steps.count
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def project(write: Write, spec: str = EVERY_KIND) -> None:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, spec)


def test_the_text_tree_shows_every_step_its_settings_and_what_it_reads(write: Write) -> None:
    project(write)
    code, out, err = invoke("plan", "wf", "-i", 'topics=["a", "b"]')
    assert (code, err) == (0, "")
    assert out == TREE


def test_a_workflow_file_plans_like_its_name(write: Write) -> None:
    project(write)
    by_name = invoke("plan", "wf", "-i", "topics=[a]", "-o", "json")
    by_file = invoke("plan", "m/wf.yaml", "-i", "topics=[a]", "-o", "json")
    assert by_name == by_file
    assert by_name[0] == 0


def test_json_is_the_plan_view_with_nested_steps_and_reads(write: Write) -> None:
    project(write)
    code, out, _ = invoke("plan", "wf", "-i", "topics=[x]", "-o", "json")
    assert code == 0
    view = PlanView.model_validate_json(out)
    assert view.inputs == {"topics": ["x"], "publish": False}
    assert view.defaults == ["publish"]
    kinds = [(s.id, s.kind, s.target) for s in view.steps]
    assert kinds == [
        ("research", "foreach", None),
        ("draft", "agent", "writer"),
        ("polish", "loop", None),
        ("checks", "parallel", None),
        ("desk", "team", "desk"),
        ("size", "value", None),
    ]
    polish = view.steps[2]
    assert polish.needs == ["review"]
    assert [s.id for s in polish.steps] == ["review"]
    review = polish.steps[0]
    assert [(r.field, r.expression, r.steps, r.names) for r in review.reads] == [
        ("prompt", "loop.iteration", [], ["loop"]),
        ("input", "steps.draft.output", ["draft"], []),
    ]
    assert view.steps[1].retry == {
        "max_attempts": 2,
        "backoff": "fixed",
        "initial": "1s",
        "max": "5s",
    }
    assert view.steps[4].condition == "${{ inputs.publish }}"
    assert [(r.field, r.steps) for r in view.outputs] == [
        ("digest", ["draft"]),
        ("words", ["count"]),
    ]
    # Every step kind there is shows up (a new kind must reach this test's workflow).
    seen = {s.kind for s in view.steps} | {i.kind for s in view.steps for i in s.steps}
    assert seen == set(STEP_KINDS)


NEWSROOM = """
apiVersion: agentgo/v1
kind: Team
metadata: {name: newsroom}
spec:
  protocol: planner-workers
  roles:
    - {name: planner, agent: editor}
    - name: writer
      agent: writer
      replicas: 3
      on_failure: replace
      fallback_agents: [summarizer, rambler]
    - {name: checker, agent: sloppy, on_failure: skip}
    - {name: synthesizer, agent: editor}
  limits: {cost_usd: 2.5, wallclock: 10m, max_rounds: 20}
  blackboard: {scope: workflow}
"""
NEWSROOM_TITLE = (
    "desk: team newsroom (planner-workers: planner editor, writer writer ×3 or summarizer or "
    "rambler, checker sloppy or skip, synthesizer editor)"
)


def _team_project(write: Write) -> None:
    project(write, "steps:\n  - {id: desk, team: newsroom, input: news}\n")
    write("m/newsroom.yaml", NEWSROOM)


def test_a_team_step_shows_its_protocol_roles_and_limits(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one line per step, as in a wide terminal
    _team_project(write)
    code, out, err = invoke("plan", "wf")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        "steps",
        f"└── {NEWSROOM_TITLE}  input=news  limits cost_usd=2.5 wallclock=10m max_rounds=20  "
        "blackboard workflow  (line 6)",
    ]
    code, out, _ = invoke("plan", "wf", "--format", "mermaid")
    assert code == 0
    assert f'  n1["{NEWSROOM_TITLE}"]' in out.splitlines()
    code, out, _ = invoke("plan", "wf", "--format", "dot")
    assert code == 0
    assert f'  n1 [label="{NEWSROOM_TITLE}"];' in out.splitlines()


def test_a_team_step_in_json_has_its_team(write: Write) -> None:
    _team_project(write)
    code, out, err = invoke("plan", "wf", "-o", "json")
    assert (code, err) == (0, "")
    (step,) = json.loads(out)["steps"]
    assert (step["kind"], step["target"]) == ("team", "newsroom")
    assert step["team"] == {
        "protocol": "planner-workers",
        "roles": [
            {
                "name": "planner",
                "agent": "editor",
                "replicas": 1,
                "fallback_agents": [],
                "on_failure": "abort",
            },
            {
                "name": "writer",
                "agent": "writer",
                "replicas": 3,
                "fallback_agents": ["summarizer", "rambler"],
                "on_failure": "replace",
            },
            {
                "name": "checker",
                "agent": "sloppy",
                "replicas": 1,
                "fallback_agents": [],
                "on_failure": "skip",
            },
            {
                "name": "synthesizer",
                "agent": "editor",
                "replicas": 1,
                "fallback_agents": [],
                "on_failure": "abort",
            },
        ],
        "limits": {"cost_usd": 2.5, "wallclock": "10m", "max_rounds": 20},
        "blackboard": "workflow",
    }
    assert PlanView.model_validate_json(out).steps[0].team is not None


def _mermaid_nodes(text: str) -> set[str]:
    return set(re.findall(r"^\s*(\w+)\[", text, re.MULTILINE))


def test_mermaid_is_a_flowchart_whose_edges_join_declared_nodes(write: Write) -> None:
    project(write)
    code, out, _ = invoke("plan", "wf", "-i", "topics=[a]", "--format", "mermaid")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    nodes = _mermaid_nodes(out)
    assert len(nodes) == 12  # 10 steps, inputs and outputs
    edges = [re.match(r"^\s*(\w+) (-->|-\.->\|\"[^\"]*\"\|) (\w+)$", line) for line in lines]
    found = [(m.group(1), m.group(3)) for m in edges if m]
    assert found
    assert all(a in nodes and b in nodes for a, b in found)
    opened = sum(1 for line in lines if line.strip().startswith("subgraph "))
    assert opened == 3 == sum(1 for line in lines if line.strip() == "end")
    # The data edges: draft reads research, the outputs read draft and count.
    assert '  n1 -.->|"prompt"| n3' in lines
    assert '  inputs -.->|"foreach"| n1' in lines
    assert '  n7 -.->|"words"| outputs' in lines


def test_dot_is_a_digraph_with_balanced_braces_and_declared_nodes(write: Write) -> None:
    project(write)
    code, out, _ = invoke("plan", "wf", "-i", "topics=[a]", "--format", "dot")
    assert code == 0
    assert out.startswith('digraph "wf" {\n')
    assert out.count("{") == out.count("}")
    declared = set(re.findall(r"^\s*(\w+) \[label=", out, re.MULTILINE))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", out, re.MULTILINE)
    assert len(declared) == 12
    assert edges
    assert all(a in declared and b in declared for a, b in edges)
    assert '  n3 -> n5 [style=dashed, label="input"];' in out.splitlines()


def test_labels_are_escaped_in_mermaid_and_dot(write: Write) -> None:
    spec = """
    steps:
      - id: quote
        tool: echo
        with: {text: 'say "hi" <b> # \\\\'}
    """
    project(write, spec)
    _, mermaid, _ = invoke("plan", "wf", "--format", "mermaid")
    _, dot, _ = invoke("plan", "wf", "--format", "dot")
    assert 'n1["quote: tool echo"]' in mermaid
    assert dot.count('"') % 2 == 0


def test_an_invalid_set_fails_with_the_errors_validate_prints(write: Write) -> None:
    project(write, "steps:\n  - id: a\n    agent: nobody\n    prompt: ${{ steps.b.output }}")
    code, out, err = invoke("plan", "wf")
    v_code, v_out, _ = invoke("validate")
    assert code == v_code == 1
    assert out == ""
    errors = [line for line in v_out.splitlines() if line.startswith("m/")]
    assert len(errors) == 2
    assert err.splitlines() == [*errors, "error: the manifest set has 2 errors"]


def test_inputs_are_checked_as_run_checks_them(write: Write) -> None:
    project(write)
    cases = {
        ("-i", "topics=3"): "error: input 'topics': 3 is not of type 'array'",
        ("-i", "topics=[a]", "-i", "tpoics=[a]"): (
            "error: unknown input 'tpoics' (did you mean 'topics'?); this workflow takes: "
            "topics, publish"
        ),
        (): "error: missing required input 'topics' (pass -i topics=VALUE)",
        ("-i", "topics"): "error: -i takes name=value, got 'topics'",
        ("--input-file", "nope.yaml"): (
            "error: cannot read --input-file nope.yaml: No such file or directory"
        ),
    }
    for args, message in cases.items():
        code, out, err = invoke("plan", "wf", *args)
        assert (code, out, err.rstrip("\n")) == (2, "", message), args


def test_unknown_workflow_and_bad_options_are_clear(write: Write) -> None:
    project(write)
    assert invoke("plan", "wff") == (
        3,
        "",
        "error: no workflow file or workflow named 'wff' (did you mean 'wf'?)\n",
    )
    code, _, err = invoke("plan", "wf", "-o", "json", "--format", "dot")
    assert (code, err) == (
        2,
        "error: --output json prints the plan's data; leave out --format dot\n",
    )
    code, _, err = invoke("plan", "wf", "--format", "svg")
    assert code == 2
    assert "'svg' is not one of" in err


def test_nothing_runs_no_model_key_no_tool_no_store(write: Write, backend_kind: str) -> None:
    """A real provider without a key, and a tool that always fails: plan still succeeds,
    and no store (so no job) is made."""
    project(
        write,
        """
        steps:
          - id: ask
            agent: remote
          - id: fail
            tool: boom
            with: {reason: "${{ steps.ask.output }}"}
        """,
    )
    write(
        "m/remote.yaml",
        """
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: remote}
        spec: {model: openai:gpt-4o-mini}
        """,
    )
    code, out, err = invoke("plan", "wf")
    assert (code, err) == (0, "")
    assert "ask: agent remote" in out
    assert "fail: tool boom" in out
    if backend_kind == "local":  # a server opens its store as it starts; plan opens none
        assert not Path("state").exists()
    assert engine_tools.calls == {}
    assert invoke("jobs", "list") == (0, "no jobs\n", "")  # no job was made
    code, _, err = invoke("run", "wf", "-q")  # whereas run refuses at once
    assert code == 2
    assert "OPENAI_API_KEY" in err


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["topics", "publish", "x", ""]),
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
        ),
        max_size=4,
    )
)
def test_garbage_inputs_never_traceback(write: Write, pairs: list[tuple[str, str]]) -> None:
    if not Path("m/wf.yaml").exists():
        project(write)
    args = [a for name, text in pairs for a in ("-i", f"{name}={text}")]
    result = runner.invoke(app, ["plan", "wf", *args, "-o", "json"])
    assert result.exit_code in (0, 2), (args, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "internal error" not in result.stderr
    if result.exit_code == 0:
        assert json.loads(result.stdout)["workflow"] == "wf"
    else:
        assert result.stderr.startswith("error: ")

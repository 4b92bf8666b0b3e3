"""Cross-reference checks: names, step ids, expressions, intents, schemas and feature flags.

Workflows here are written with ``workflow()``, so that their first step is on line 7.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentgo_cli.manifests.checks import BUILTIN_TOOLS
from tests.helpers import Reason, error_lines, validate_files

NOT_YET = "has not run yet here: an expression can read only steps that finish before it"
JSON_TYPES = "string, number, integer, boolean, object, array, null"


def manifest(kind: str, spec: str, name: str) -> str:
    """A manifest whose spec body (dedented) starts on line 6."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return f"apiVersion: agentgo/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{body}\n"


def workflow(steps: str, *, before: str = "", after: str = "", name: str = "wf") -> str:
    """A workflow whose steps start on line 7 (plus the lines of ``before``)."""
    spec = textwrap.dedent(before).strip("\n")
    spec = (spec + "\n" if spec else "") + "steps:\n"
    spec += textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    if after:
        spec += "\n" + textwrap.dedent(after).strip("\n")
    return manifest("Workflow", spec, name)


BASE = {
    "agents.yaml": manifest("Agent", "model: scripted:demo", "writer")
    + "---\n"
    + manifest("Agent", "model: scripted:demo\ntools: [wordcount, http_get]", "editor"),
    "tool.yaml": manifest(
        "Tool",
        """
        input: {type: object, properties: {text: {type: string}}}
        runtime: {type: container, image: busybox, stdin: "${{ input.text }}"}
        """,
        "wordcount",
    ),
    "team.yaml": manifest("Team", "protocol: pipeline\nroles: [{name: w, agent: writer}]", "desk"),
    "card.yaml": manifest(
        "Capability",
        """
        target: agent:editor
        intents:
          - {name: research.summarize, version: 1.0.0, prompt: "Sum up ${{ input.topic }}"}
          - {name: research.summarize, version: 1.2.0}
          - {name: factcheck.verify, version: 2.0.0-rc.1}
        """,
        "editor-card",
    ),
}
"""Agents writer (no card) and editor (card), tool wordcount, team desk, three intents."""


def check(root: Path, **files: str) -> list[str]:
    """Validate BASE plus files (keyword names use '_' for '.') and return the errors."""
    named = {k.replace("_yaml", ".yaml").replace("__", "/"): v for k, v in files.items()}
    return error_lines(validate_files({**BASE, **named}, root))


def test_the_base_set_is_valid(workdir: Path) -> None:
    assert check(workdir) == []


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        pytest.param(
            "- id: s\n  agent: writr",
            "wf.yaml:8:14: spec.steps[0].agent: unknown agent 'writr' (did you mean 'writer'?)",
            id="agent",
        ),
        pytest.param(
            "- id: s\n  tool: wordcont",
            "wf.yaml:8:13: spec.steps[0].tool: unknown tool 'wordcont' (did you mean 'wordcount'?)",
            id="tool",
        ),
        pytest.param(
            "- id: s\n  tool: http_gte",
            "wf.yaml:8:13: spec.steps[0].tool: unknown tool 'http_gte' (did you mean 'http_get'?)",
            id="built-in-tool",
        ),
        pytest.param(
            "- id: s\n  team: dsk",
            "wf.yaml:8:13: spec.steps[0].team: unknown team 'dsk' (did you mean 'desk'?)",
            id="team",
        ),
        pytest.param(
            "- id: s\n  team: newsroom",
            "wf.yaml:8:13: spec.steps[0].team: unknown team 'newsroom'",
            id="team-without-suggestion",
        ),
        pytest.param(
            "- id: s\n  call: research.summarise@^1",
            "wf.yaml:8:13: spec.steps[0].call: unknown intent 'research.summarise' "
            "(did you mean 'research.summarize'?)",
            id="intent",
        ),
        pytest.param(
            "- id: p\n  parallel:\n    - id: s\n      agent: riter",
            "wf.yaml:10:18: spec.steps[0].parallel[0].agent: unknown agent 'riter' "
            "(did you mean 'writer'?)",
            id="nested-agent",
        ),
    ],
)
def test_unknown_names_in_steps(workdir: Path, step: str, expected: str) -> None:
    assert check(workdir, wf_yaml=workflow(step)) == [expected]


def test_unknown_agents_in_a_team(workdir: Path) -> None:
    team = manifest(
        "Team",
        """
        protocol: planner-workers
        roles:
          - {name: planner, agent: editr}
          - {name: worker, agent: writer, fallback_agents: [writer, wrtier], on_failure: replace}
        """,
        "newsroom",
    )
    assert check(workdir, newsroom_yaml=team) == [
        "newsroom.yaml:8:30: spec.roles[0].agent: unknown agent 'editr' (did you mean 'editor'?)",
        "newsroom.yaml:9:63: spec.roles[1].fallback_agents[1]: unknown agent 'wrtier' "
        "(did you mean 'writer'?)",
    ]


def test_unknown_targets_of_capabilities(workdir: Path) -> None:
    cards = (
        manifest("Capability", "target: agent:writr\nintents: [{name: a.b, version: 1.0.0}]", "c1")
        + "---\n"
        + manifest(
            "Capability", "target: team:newsroom\nintents: [{name: c.d, version: 1.0.0}]", "c2"
        )
    )
    assert check(workdir, cards_yaml=cards) == [
        "cards.yaml:6:11: spec.target: unknown agent 'writr' (did you mean 'writer'?)",
        "cards.yaml:14:11: spec.target: unknown team 'newsroom'",
    ]


def test_agent_tools_may_be_tools_or_built_ins(workdir: Path) -> None:
    tools = f"tools: [wordcount, {', '.join(BUILTIN_TOOLS)}, wordcont]"
    agent = manifest("Agent", f"model: scripted:demo\n{tools}", "bot")
    col, index = len("  ") + tools.index("wordcont]") + 1, len(BUILTIN_TOOLS) + 1
    assert check(workdir, bot_yaml=agent) == [
        f"bot.yaml:7:{col}: spec.tools[{index}]: unknown tool 'wordcont' "
        "(did you mean 'wordcount'?)"
    ]


@pytest.mark.parametrize("tool", BUILTIN_TOOLS)
def test_built_in_tools_are_accepted_in_tool_steps(workdir: Path, tool: str) -> None:
    assert check(workdir, wf_yaml=workflow(f"- id: s\n  tool: {tool}\n  with: {{x: 1}}")) == []


def test_built_in_tool_manifest(workdir: Path) -> None:
    tools = (
        manifest("Tool", "runtime: {type: builtin, name: http_get}", "fetch")
        + "---\n"
        + manifest("Tool", "runtime: {type: builtin, name: todo_clam}", "claim")
        + "---\n"
        + manifest("Tool", "runtime: {type: builtin}", "discover-agents")
        + "---\n"
        + manifest("Tool", "runtime: {type: builtin}", "call-agents")
    )
    assert check(workdir, builtins_yaml=tools) == [
        "builtins.yaml:13:34: spec.runtime.name: unknown built-in tool 'todo_clam' "
        "(did you mean 'todo_claim'?)",
        "builtins.yaml:25:9: metadata.name: unknown built-in tool 'call_agents' "
        "(did you mean 'call_agent'?)",
    ]


def test_duplicate_names_across_files_name_the_first_one(workdir: Path) -> None:
    again = manifest("Agent", "model: openai:gpt-4o-mini", "writer")
    assert check(workdir, z__writer_yaml=again, more_yaml="# more\n" + again) == [
        "more.yaml:5:9: metadata.name: duplicate Agent 'writer' (first defined at agents.yaml:4:9)",
        "z/writer.yaml:4:9: metadata.name: duplicate Agent 'writer' "
        "(first defined at agents.yaml:4:9)",
    ]


def test_duplicate_names_in_one_file(workdir: Path) -> None:
    tool = manifest("Tool", "runtime: {type: python, entrypoint: 'pkg.mod:fn'}", "fn")
    assert check(workdir, tools_yaml=tool + "---\n" + tool) == [
        "tools.yaml:11:9: metadata.name: duplicate Tool 'fn' (first defined at tools.yaml:4:9)"
    ]


def test_the_same_name_in_two_kinds_is_fine(workdir: Path) -> None:
    # 'desk' is a Team already; 'writer' an Agent.
    wf = workflow("- id: s\n  team: desk", name="desk")
    tool = manifest("Tool", "runtime: {type: python, entrypoint: 'pkg.mod:fn'}", "writer")
    assert check(workdir, wf_yaml=wf, tool2_yaml=tool) == []


def test_references_to_an_invalid_manifest_are_not_reported_again(workdir: Path) -> None:
    broken = manifest("Agent", "model: nope:x", "drafter")
    wf = workflow("- id: s\n  agent: drafter")
    assert check(workdir, drafter_yaml=broken, wf_yaml=wf) == [
        "drafter.yaml:6:10: spec.model: unknown model provider 'nope' (did you mean 'openai'?); "
        "known providers: openai, anthropic, gemini, litellm, ollama, scripted"
    ]


# -- step ids --------------------------------------------------------------------------------


def test_duplicate_step_ids(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: a
          agent: writer
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:9:11: spec.steps[1].id: duplicate step id 'a' (first used at line 7)"
    ]


def test_duplicate_step_ids_nested(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: l
          loop:
            max_iterations: 2
            steps:
              - id: a
                agent: writer
        - id: f
          foreach: [1]
          steps:
            - id: p
              parallel:
                - id: l
                  agent: writer
                - id: x
                  agent: writer
                - id: x
                  agent: writer
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:13:17: spec.steps[1].loop.steps[0].id: duplicate step id 'a' "
        "(first used at line 7)",
        "wf.yaml:20:19: spec.steps[2].steps[0].parallel[0].id: duplicate step id 'l' "
        "(first used at line 9)",
        "wf.yaml:24:19: spec.steps[2].steps[0].parallel[2].id: duplicate step id 'x' "
        "(first used at line 22)",
    ]


def test_the_same_step_id_in_two_workflows_is_fine(workdir: Path) -> None:
    one = workflow("- id: a\n  agent: writer", name="one")
    two = workflow("- id: a\n  agent: writer", name="two")
    assert check(workdir, one_yaml=one, two_yaml=two) == []


# -- which steps an expression may read ------------------------------------------------------


def test_a_step_reads_earlier_steps(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: b
          agent: writer
          prompt: "${{ steps.a.output }} ${{ steps.a.status }} ${{ steps.a.error }}"
          if: ${{ steps['a'].status == 'succeeded' }}
        """,
        after="outputs:\n  last: ${{ steps.b.output }}",
    )
    assert check(workdir, wf_yaml=wf) == []


def test_a_step_reading_a_later_step(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
          prompt: ${{ steps.b.output }}
        - id: b
          agent: writer
        """
    )
    assert check(workdir, wf_yaml=wf) == [f"wf.yaml:9:15: spec.steps[0].prompt: step 'b' {NOT_YET}"]


def test_a_step_reading_itself(workdir: Path) -> None:
    wf = workflow("- id: a\n  agent: writer\n  if: ${{ steps.a.status == 'failed' }}")
    assert check(workdir, wf_yaml=wf) == [f"wf.yaml:9:11: spec.steps[0].if: step 'a' {NOT_YET}"]


def test_a_step_reading_an_unknown_step(workdir: Path) -> None:
    wf = workflow(
        """
        - id: draft
          agent: writer
        - id: b
          agent: writer
          input: {text: "${{ steps.drat.output }}"}
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:11:21: spec.steps[1].input.text: unknown step 'drat' (did you mean 'draft'?)"
    ]


def test_parallel_branches_cannot_read_each_other(workdir: Path) -> None:
    wf = workflow(
        """
        - id: p
          parallel:
            - id: a
              agent: writer
            - id: b
              agent: writer
              input: ${{ steps.a.output }}
        - id: c
          agent: writer
          input: "${{ steps.a.output }} ${{ steps.b.output }} ${{ steps.p.output.a }}"
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:13:18: spec.steps[0].parallel[1].input: step 'a' {NOT_YET}"
    ]


def test_a_nested_branch_reads_steps_before_the_parallel(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: p
          parallel:
            - id: l
              loop:
                max_iterations: 2
                until: ${{ steps.r.output and steps.a.status == 'succeeded' }}
                steps:
                  - id: r
                    agent: writer
                    input: ${{ steps.a.output }}
            - id: b
              agent: writer
              input: ${{ steps.r.output }}
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:21:18: spec.steps[1].parallel[1].input: step 'r' {NOT_YET}"
    ]


def test_loop_until_may_read_the_loop_body(workdir: Path) -> None:
    wf = workflow(
        """
        - id: polish
          loop:
            max_iterations: 3
            until: ${{ steps.review.output.approved or loop.iteration >= 3 }}
            steps:
              - id: review
                agent: writer
                prompt: "Round ${{ loop.iteration }}: ${{ steps.review.output }}"
        - id: after
          agent: writer
          input: ${{ steps.review.output }}
        """
    )
    # Inside the body, a step reading itself reads the previous iteration: still reported.
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:14:21: spec.steps[0].loop.steps[0].prompt: step 'review' {NOT_YET}"
    ]


def test_loop_until_may_not_read_a_later_step(workdir: Path) -> None:
    wf = workflow(
        """
        - id: l
          loop:
            max_iterations: 3
            until: ${{ steps.later.output }}
            steps: [{id: body, agent: writer}]
        - id: later
          agent: writer
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:10:16: spec.steps[0].loop.until: step 'later' {NOT_YET}"
    ]


def test_loop_variable_only_inside_a_loop(workdir: Path) -> None:
    wf = workflow("- id: s\n  agent: writer\n  prompt: ${{ loop.iteration }}")
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:9:15: spec.steps[0].prompt: unknown name 'loop' in expression"
    ]


def test_foreach_body_reads_item_and_index(workdir: Path) -> None:
    wf = workflow(
        """
        - id: each
          foreach: ${{ inputs.topics }}
          steps:
            - id: one
              agent: writer
              prompt: "${{ index }}: ${{ item }}"
        - id: all
          agent: writer
          input: "${{ steps.each.output | length }} ${{ steps.one.output }}"
        """,
        before="inputs:\n  topics: {type: array, default: [a, b]}",
    )
    assert check(workdir, wf_yaml=wf) == []


def test_foreach_with_a_custom_name(workdir: Path) -> None:
    wf = workflow(
        """
        - id: each
          foreach: [a, b]
          as: topic
          steps:
            - id: one
              agent: writer
              prompt: "${{ topic }} ${{ index }} ${{ item }}"
        - id: after
          agent: writer
          prompt: ${{ topic }}
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:13:19: spec.steps[0].steps[0].prompt: unknown name 'item' in expression",
        "wf.yaml:16:15: spec.steps[1].prompt: unknown name 'topic' in expression",
    ]


def test_foreach_list_is_read_before_the_body(workdir: Path) -> None:
    wf = workflow(
        """
        - id: each
          foreach: ${{ steps.one.output + [item] }}
          steps: [{id: one, agent: writer}]
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:8:16: spec.steps[0].foreach: step 'one' {NOT_YET}",
        "wf.yaml:8:16: spec.steps[0].foreach: unknown name 'item' in expression",
    ]


def test_outputs_read_any_step(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: p
          parallel: [{id: b, agent: writer}]
        """,
        after="""
        outputs:
          all: ["${{ steps.a.output }}", "${{ steps.b.output }}"]
          bad: ${{ steps.c.output }}
        """,
    )
    assert check(workdir, wf_yaml=wf) == ["wf.yaml:13:10: spec.outputs.bad: unknown step 'c'"]


FIELDS = "output, status, error, exhausted (loop) or errors (foreach)"


def test_unknown_step_field(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          agent: writer
        - id: b
          agent: writer
          prompt: "${{ steps.a.outptu }} ${{ steps['a']['stauts'] }}"
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:11:15: spec.steps[1].prompt: unknown step field 'outptu' in steps.a.outptu "
        f"(did you mean 'output'?); expected {FIELDS}",
        "wf.yaml:11:15: spec.steps[1].prompt: unknown step field 'stauts' in steps.a.stauts "
        f"(did you mean 'status'?); expected {FIELDS}",
    ]


# -- what an expression may say --------------------------------------------------------------


def test_unknown_inputs(workdir: Path) -> None:
    wf = workflow(
        "- id: s\n  agent: writer\n  prompt: '${{ inputs.topik }} ${{ inputs[\"publish\"] }}'",
        before="inputs:\n  topic: {type: string}\n  publish: {type: boolean}",
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:12:15: spec.steps[0].prompt: unknown input 'topik' (did you mean 'topic'?)"
    ]


def test_unknown_names_in_workflow_expressions(workdir: Path) -> None:
    wf = workflow(
        "- id: s\n  agent: writer\n  prompt: '${{ input.topic }} ${{ jb.id }} ${{ job.workflow }}'"
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:9:15: spec.steps[0].prompt: unknown name 'input' in expression "
        "(did you mean 'inputs'?)",
        "wf.yaml:9:15: spec.steps[0].prompt: unknown name 'jb' in expression (did you mean 'job'?)",
    ]


def test_jinja_globals_are_known_names(workdir: Path) -> None:
    wf = workflow("- id: s\n  agent: writer\n  input: ${{ range(3) | list }}")
    assert check(workdir, wf_yaml=wf) == []


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        pytest.param("steps.", "expected name or number", id="dangling-dot"),
        pytest.param("1 +", "unexpected end of expression", id="dangling-operator"),
        pytest.param("a b", "unexpected 'b' after expression", id="two-expressions"),
        pytest.param(" ", "empty expression", id="empty"),
        pytest.param("inputs | lenght", "unknown filter 'lenght'", id="unknown-filter"),
        pytest.param("inputs is fooo", "unknown test 'fooo'", id="unknown-test"),
        pytest.param("inputs.__class__", "attribute '__class__' is not allowed", id="dunder"),
        pytest.param("inputs['_x']", "attribute '_x' is not allowed", id="private-item"),
        pytest.param(
            "steps.a.output._secret", "attribute '_secret' is not allowed", id="private-deep"
        ),
    ],
)
def test_invalid_expressions(workdir: Path, expr: str, problem: str) -> None:
    wf = workflow(
        f'- id: a\n  agent: writer\n- id: b\n  agent: writer\n  prompt: "${{{{{expr}}}}}"'
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:11:15: spec.steps[1].prompt: invalid expression '${{{{{expr}}}}}': {problem}"
    ]


def test_expressions_in_tools_cards_and_agents_read_input(workdir: Path) -> None:
    tool = manifest(
        "Tool",
        'runtime: {type: container, image: x, stdin: "${{ input.text }} ${{ inputs.x }}"}',
        "wc",
    )
    card = manifest(
        "Capability",
        "target: agent:writer\nintents:\n"
        '  - {name: w.sum, version: 1.0.0, prompt: "${{ input.topic }} ${{ job.id }}"}',
        "writer-card",
    )
    agent = manifest(
        "Agent",
        """
        model: scripted:demo
        instructions: "Answer ${{ input }}"
        script:
          - tool: {name: wc, args: {text: "${{ input }} ${{ steps.x.output }}"}}
        """,
        "bot",
    )
    assert check(workdir, wc_yaml=tool, card2_yaml=card, bot_yaml=agent) == [
        "bot.yaml:9:37: spec.script[0].tool.args.text: unknown name 'steps' in expression",
        "card2.yaml:8:45: spec.intents[0].prompt: unknown name 'job' in expression",
        "wc.yaml:6:47: spec.runtime.stdin: unknown name 'inputs' in expression "
        "(did you mean 'input'?)",
    ]


# -- intents ---------------------------------------------------------------------------------


def test_calls_with_versions(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          call: research.summarize
        - id: b
          call: research.summarize@^1
        - id: c
          call: research.summarize@~1.2
        - id: d
          call: research.summarize@>=1.1.0
        - id: e
          call: research.summarize@^2
        - id: f
          call: factcheck.verify@^1
        - id: g
          call: factcheck.verify@>=2.0.0-rc.0
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:16:13: spec.steps[4].call: no version of intent 'research.summarize' "
        "matches '^2' (have 1.0.0, 1.2.0)",
        "wf.yaml:18:13: spec.steps[5].call: no version of intent 'factcheck.verify' "
        "matches '^1' (have 2.0.0-rc.1)",
    ]


def test_an_agent_without_a_card_has_a_run_intent(workdir: Path) -> None:
    wf = workflow(
        """
        - id: a
          call: writer.run@^1
        - id: b
          call: writer.run@^2
        - id: c
          call: editor.run
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:10:13: spec.steps[1].call: no version of intent 'writer.run' matches '^2' "
        "(have 1.0.0)",
        "wf.yaml:12:13: spec.steps[2].call: unknown intent 'editor.run' "
        "(did you mean 'writer.run'?)",
    ]


def test_an_intent_declared_by_two_capabilities(workdir: Path) -> None:
    other = manifest(
        "Capability",
        "target: team:desk\nintents:\n  - {name: research.summarize, version: 2.0.0}",
        "desk-card",
    )
    assert check(workdir, other_yaml=other) == [
        "other.yaml:8:14: spec.intents[0].name: intent 'research.summarize' is already declared "
        "by capability 'editor-card' (card.yaml:8:14)"
    ]


def test_an_intent_version_declared_twice(workdir: Path) -> None:
    card = manifest(
        "Capability",
        """
        target: agent:writer
        intents:
          - {name: w.sum, version: 1.0.0}
          - {name: w.sum, version: 1.1.0}
          - {name: w.sum, version: 1.0.0, description: again}
        """,
        "writer-card",
    )
    assert check(workdir, writer_card_yaml=card) == [
        "writer_card.yaml:10:14: spec.intents[2].name: intent 'w.sum' version 1.0.0 is "
        "declared twice"
    ]


def test_an_agent_with_a_card_loses_its_run_intent(workdir: Path) -> None:
    card = manifest(
        "Capability", "target: agent:writer\nintents: [{name: w.sum, version: 1.0.0}]", "wc"
    )
    wf = workflow("- id: a\n  call: writer.run")
    assert check(workdir, wc_yaml=card, wf_yaml=wf) == [
        "wf.yaml:8:13: spec.steps[0].call: unknown intent 'writer.run'"
    ]


# -- feature flags ---------------------------------------------------------------------------

SWARM = manifest(
    "Team", "protocol: swarm\nroles: [{name: w, agent: writer}, {name: v, agent: writer}]", "hive"
)
CONTRACT_NET = manifest("Team", "protocol: contract-net\nroles: [{name: w, agent: writer}]", "bids")


def test_feature_protocols_need_the_feature(workdir: Path) -> None:
    assert check(workdir, hive_yaml=SWARM, bids_yaml=CONTRACT_NET) == [
        "bids.yaml:6:13: spec.protocol: team protocol 'contract-net' needs the 'contract-net' "
        "feature: add it to 'features:' in agentgo.yaml",
        "hive.yaml:6:13: spec.protocol: team protocol 'swarm' needs the 'swarm' feature: add it "
        "to 'features:' in agentgo.yaml",
    ]


def test_a_config_file_in_the_set_enables_features(workdir: Path) -> None:
    config = "features: [swarm]\n"
    assert check(workdir, hive_yaml=SWARM, bids_yaml=CONTRACT_NET, agentgo_yaml=config) == [
        "bids.yaml:6:13: spec.protocol: team protocol 'contract-net' needs the 'contract-net' "
        "feature: add it to 'features:' in agentgo.yaml",
    ]


def test_a_config_file_in_a_subfolder_is_read_as_config(workdir: Path) -> None:
    config = "features: [swarm, contract-net]\n"
    files = {"hive_yaml": SWARM, "bids_yaml": CONTRACT_NET, "conf__agentgo_yaml": config}
    assert check(workdir, **files) == []


def test_an_invalid_config_file_enables_nothing(workdir: Path) -> None:
    assert check(workdir, hive_yaml=SWARM, agentgo_yaml="features: [swarm, swarms]\n") == [
        "agentgo.yaml:1:19: features[1]: unknown feature 'swarms' (did you mean 'swarm'?); "
        "expected 'contract-net' or 'swarm'",
        "hive.yaml:6:13: spec.protocol: team protocol 'swarm' needs the 'swarm' feature: add it "
        "to 'features:' in agentgo.yaml",
    ]


# -- embedded JSON Schemas -------------------------------------------------------------------


def test_workflow_input_schemas(workdir: Path) -> None:
    wf = workflow(
        "- id: s\n  agent: writer",
        before="""
        inputs:
          n: {type: intger}
          tags: {type: array, items: {type: strng}}
          mode: {enum: 3}
        """,
    )
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:7:15: spec.inputs.n.type: invalid JSON Schema: unknown type 'intger' "
        f"(did you mean 'integer'?); expected one of {JSON_TYPES}",
        f"wf.yaml:8:39: spec.inputs.tags.items.type: invalid JSON Schema: unknown type 'strng' "
        f"(did you mean 'string'?); expected one of {JSON_TYPES}",
        Reason("wf.yaml:9:18: spec.inputs.mode.enum: invalid JSON Schema: ", "3"),
    ]


def test_schemas_of_agents_tools_and_intents(workdir: Path) -> None:
    agent = manifest(
        "Agent", "model: scripted:demo\noutput_schema: {type: object, required: summary}", "bot"
    )
    tool = manifest(
        "Tool",
        """
        input: {type: [string, intger]}
        output: {properties: {a: {type: strin}}}
        runtime: {type: python, entrypoint: 'pkg.mod:fn'}
        """,
        "fn",
    )
    card = manifest(
        "Capability",
        "target: agent:bot\nintents:\n  - {name: b.x, version: 1.0.0, input: {minLength: -1}}",
        "bot-card",
    )
    assert check(workdir, bot_yaml=agent, fn_yaml=tool, bot_card_yaml=card) == [
        Reason("bot.yaml:7:43: spec.output_schema.required: invalid JSON Schema: ", "'summary'"),
        Reason("bot_card.yaml:8:54: spec.intents[0].input.minLength: invalid JSON Schema: ", "-1"),
        Reason("fn.yaml:6:26: spec.input.type[1]: invalid JSON Schema: ", "'intger'"),
        f"fn.yaml:7:35: spec.output.properties.a.type: invalid JSON Schema: unknown type "
        f"'strin' (did you mean 'string'?); expected one of {JSON_TYPES}",
    ]


def test_input_defaults_must_match_their_schema(workdir: Path) -> None:
    wf = workflow(
        "- id: s\n  agent: writer",
        before="""
        inputs:
          n: {type: integer, default: 'x'}
          tags: {type: array, items: {type: string}, default: [a, 1]}
          ok: {type: boolean, default: false}
          opts: {type: object, properties: {k: {enum: [a, b]}}, default: {k: c}}
        """,
    )
    assert check(workdir, wf_yaml=wf) == [
        Reason("wf.yaml:7:33: spec.inputs.n.default: default does not match its schema: ", "'x'"),
        Reason(
            "wf.yaml:8:61: spec.inputs.tags.default[1]: default does not match its schema: ", "1"
        ),
        Reason(
            "wf.yaml:10:72: spec.inputs.opts.default.k: default does not match its schema: ", "'c'"
        ),
    ]


def test_a_default_is_not_checked_against_an_invalid_schema(workdir: Path) -> None:
    wf = workflow("- id: s\n  agent: writer", before="inputs:\n  n: {type: intger, default: 'x'}")
    assert check(workdir, wf_yaml=wf) == [
        f"wf.yaml:7:15: spec.inputs.n.type: invalid JSON Schema: unknown type 'intger' "
        f"(did you mean 'integer'?); expected one of {JSON_TYPES}",
    ]

"""What the models say about a wrong manifest or config file, and where they say it.

Every manifest here starts the same way, so that ``spec:`` is on line 5 and the first line
under it is line 6:

    apiVersion: agentgo/v1
    kind: <kind>
    metadata:
      name: <name>
    spec:
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import error_lines, validate_files

PROVIDERS = "openai, anthropic, gemini, litellm, ollama, scripted"
DURATION_HELP = "write a number and a unit, e.g. 250ms, 30s, 5m, 2h, 1d"
NAME_HELP = "use lower-case letters, digits and '-', starting with a letter (at most 63)"
ID_HELP = (
    "use letters, digits and '_', not starting with a digit, so that expressions can read it "
    "(steps.<id>, inputs.<name>)"
)
STEP_KINDS = "'agent', 'tool', 'call', 'team', 'foreach', 'loop', 'parallel' or 'value'"
KINDS = "'Agent', 'Tool', 'Capability', 'Team' or 'Workflow'"


def manifest(kind: str, spec: str, name: str = "x") -> str:
    """A manifest whose spec body (dedented) starts on line 6."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return f"apiVersion: agentgo/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{body}\n"


def check(root: Path, text: str, file: str = "m.yaml") -> list[str]:
    return error_lines(validate_files({file: text}, root))


def case(text: str, *expected: str, id: str) -> object:  # noqa: A002 - pytest's name
    return pytest.param(text, list(expected), id=id)


# -- envelope --------------------------------------------------------------------------------

ENVELOPE = [
    case(
        "foo: 1\n",
        "m.yaml:1:1: missing required field 'apiVersion' (expected 'agentgo/v1')",
        f"m.yaml:1:1: missing required field 'kind' ({KINDS})",
        id="missing-api-version-and-kind",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agent\nspec: {model: 'openai:x'}\n",
        "m.yaml:1:1: missing required field 'metadata'",
        id="missing-metadata",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata:\n  name: a\n",
        "m.yaml:1:1: missing required field 'spec'",
        id="missing-spec",
    ),
    case(
        "apiVersion: agentgo/v2\nkind: Agent\nmetadata: {name: a}\nspec: {model: 'openai:x'}\n",
        "m.yaml:1:13: apiVersion: unsupported apiVersion 'agentgo/v2'; expected 'agentgo/v1'",
        id="api-version",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agnet\nmetadata: {name: a}\nspec: {}\n",
        f"m.yaml:2:7: kind: unknown kind 'Agnet' (did you mean 'Agent'?); expected {KINDS}",
        id="kind-typo",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: 3\nmetadata: {name: a}\nspec: {}\n",
        f"m.yaml:2:7: kind: unknown kind 3; expected {KINDS}",
        id="kind-integer",
    ),
    case(
        manifest("Agent", "model: openai:x") + "metdata: {}\n",
        "m.yaml:7:1: metdata: unknown field 'metdata' (did you mean 'metadata'?)",
        id="unknown-top-level-field",
    ),
    case(
        manifest("Agent", "model: openai:x", name="My_Agent"),
        f"m.yaml:4:9: metadata.name: invalid value 'My_Agent': {NAME_HELP}",
        id="name-pattern",
    ),
    case(
        manifest("Agent", "model: openai:x", name="a" * 64),
        f"m.yaml:4:9: metadata.name: invalid value '{'a' * 64}': {NAME_HELP}",
        id="name-too-long",
    ),
    case(
        manifest("Agent", "model: openai:x", name="12"),
        "m.yaml:4:9: metadata.name: expected a string, got integer",
        id="name-integer",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: a, annotations: {}}\n"
        "spec: {model: 'openai:x'}\n",
        "m.yaml:3:21: metadata.annotations: unknown field 'annotations'",
        id="unknown-metadata-field",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: a, labels: {x: 1, any-key: y}}\n"
        "spec: {model: 'openai:x'}\n",
        "m.yaml:3:33: metadata.labels.x: expected a string, got integer",
        id="label-value",
    ),
    case(
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata:\nspec: {model: 'openai:x'}\n",
        "m.yaml:3:10: metadata: expected a mapping, got null",
        id="metadata-null",
    ),
    case(
        manifest("Agent", "- a"),
        "m.yaml:6:3: spec: expected a mapping, got list",
        id="spec-list",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ENVELOPE)
def test_envelope(workdir: Path, text: str, expected: list[str]) -> None:
    assert check(workdir, text) == expected


# -- Agent -----------------------------------------------------------------------------------

AGENT = [
    case(
        manifest("Agent", 'model: openai:x\nmax_turns: "8"'),
        "m.yaml:7:14: spec.max_turns: expected an integer, got string",
        id="max-turns-string",
    ),
    case(
        manifest("Agent", "model: openai:x\nmax_turns: 1.5"),
        "m.yaml:7:14: spec.max_turns: expected an integer, got number",
        id="max-turns-float",
    ),
    case(
        manifest("Agent", "model: openai:x\nmax_turns: true"),
        "m.yaml:7:14: spec.max_turns: expected an integer, got boolean",
        id="max-turns-bool",
    ),
    case(
        manifest("Agent", "model: openai:x\nmax_turns: 0"),
        "m.yaml:7:14: spec.max_turns: must be > 0, got 0",
        id="max-turns-zero",
    ),
    case(
        manifest("Agent", "model: openai:x\ninstruction: Be brief."),
        "m.yaml:7:3: spec.instruction: unknown field 'instruction' (did you mean 'instructions'?)",
        id="unknown-field",
    ),
    case(
        manifest("Agent", "instructions: Be brief."),
        "m.yaml:6:3: spec: missing required field 'model'",
        id="missing-model",
    ),
    case(
        manifest("Agent", "model: opnai:gpt-4o"),
        "m.yaml:6:10: spec.model: unknown model provider 'opnai' (did you mean 'openai'?); "
        f"known providers: {PROVIDERS}",
        id="provider-typo",
    ),
    case(
        manifest("Agent", "model: foo:gpt-4o"),
        f"m.yaml:6:10: spec.model: unknown model provider 'foo'; known providers: {PROVIDERS}",
        id="provider-unknown",
    ),
    case(
        manifest("Agent", "model: gpt-4o"),
        "m.yaml:6:10: spec.model: invalid model reference 'gpt-4o': write provider:name, "
        "e.g. openai:gpt-4o-mini",
        id="model-without-provider",
    ),
    case(
        manifest("Agent", "model: 'openai: gpt-4o'"),
        "m.yaml:6:10: spec.model: invalid model reference 'openai: gpt-4o': write provider:name, "
        "e.g. openai:gpt-4o-mini",
        id="model-with-space",
    ),
    case(
        manifest("Agent", "model: 3"),
        "m.yaml:6:10: spec.model: expected a model reference such as 'openai:gpt-4o-mini', "
        "or a mapping with 'ref'",
        id="model-integer",
    ),
    case(
        manifest(
            "Agent",
            """
            model:
              ref: openai:x
              fallbacks: [nope:y]
              shadow: {ref: 'gemini:z', sample: 2}
            """,
        ),
        "m.yaml:8:17: spec.model.fallbacks[0]: unknown model provider 'nope' "
        f"(did you mean 'openai'?); known providers: {PROVIDERS}",
        "m.yaml:9:39: spec.model.shadow.sample: must be <= 1.0, got 2",
        id="long-model-form",
    ),
    case(
        manifest("Agent", "model:\n  ref: openai:x\n  fallback: []"),
        "m.yaml:8:5: spec.model.fallback: unknown field 'fallback' (did you mean 'fallbacks'?)",
        id="long-model-form-typo",
    ),
    case(
        manifest("Agent", "model:\n  params: {}"),
        "m.yaml:7:5: spec.model: missing required field 'ref'",
        id="long-model-form-without-ref",
    ),
    case(
        manifest("Agent", "model: openai:x\nscript:\n  - reply: hi"),
        "m.yaml:6:3: spec: 'script' is only used by the scripted provider, and this agent's "
        "model is 'openai:x'",
        id="script-on-openai",
    ),
    case(
        manifest("Agent", "model: {ref: 'anthropic:y'}\nlatency: 5s"),
        "m.yaml:6:3: spec: 'latency' is only used by the scripted provider, and this agent's "
        "model is 'anthropic:y'",
        id="latency-on-anthropic",
    ),
    case(
        manifest("Agent", "model: ollama:z\nusage: {input_tokens: 1}"),
        "m.yaml:6:3: spec: 'usage' is only used by the scripted provider, and this agent's "
        "model is 'ollama:z'",
        id="usage-on-ollama",
    ),
    case(
        manifest("Agent", "model: scripted:x\nscript:\n  - reply: hi\n    tool: {name: t}"),
        "m.yaml:8:7: spec.script[0]: a script entry needs exactly one of 'reply' or 'tool'",
        id="script-entry-both",
    ),
    case(
        manifest("Agent", "model: scripted:x\nscript:\n  - reply: ok\n  - when: x"),
        "m.yaml:9:7: spec.script[1]: a script entry needs exactly one of 'reply' or 'tool'",
        id="script-entry-neither",
    ),
    case(
        manifest("Agent", "model: scripted:x\nscript:\n  - when: '(('\n    reply: x"),
        "m.yaml:8:13: spec.script[0].when: invalid regular expression: missing ), "
        "unterminated subpattern at position 1",
        id="script-regex",
    ),
    case(
        manifest("Agent", "model: scripted:x\nscript:\n  - tool: {args: {}}"),
        "m.yaml:8:13: spec.script[0].tool: missing required field 'name'",
        id="script-tool-without-name",
    ),
    case(
        manifest("Agent", "model: scripted:x\nlatency: 5 sec"),
        f"m.yaml:7:12: spec.latency: invalid duration '5 sec': {DURATION_HELP}",
        id="duration",
    ),
    case(
        manifest("Agent", "model: scripted:x\nlatency: 5"),
        "m.yaml:7:12: spec.latency: expected a duration such as '250ms', '30s', '5m', '2h' or "
        "'1d', got integer",
        id="duration-integer",
    ),
    case(
        manifest("Agent", "model: openai:x\nbudget: {usd: -1, tokens: 1.5}"),
        "m.yaml:7:17: spec.budget.usd: must be >= 0.0, got -1",
        "m.yaml:7:29: spec.budget.tokens: expected an integer, got number",
        id="budget",
    ),
    case(
        manifest("Agent", "model: openai:x\ntools: http_get"),
        "m.yaml:7:10: spec.tools: expected a list, got string",
        id="tools-string",
    ),
    case(
        manifest("Agent", "model: openai:x\ntools: [http_get, 3]"),
        "m.yaml:7:21: spec.tools[1]: expected a string, got integer",
        id="tools-item",
    ),
    case(
        manifest("Agent", "model: scripted:x\nusage: {input_tokens: -3}"),
        "m.yaml:7:25: spec.usage.input_tokens: must be >= 0, got -3",
        id="usage-negative",
    ),
    case(
        manifest("Agent", "model: openai:x\noutput_schema: [1]"),
        "m.yaml:7:18: spec.output_schema: expected a mapping, got list",
        id="output-schema-list",
    ),
]


@pytest.mark.parametrize(("text", "expected"), AGENT)
def test_agent(workdir: Path, text: str, expected: list[str]) -> None:
    assert check(workdir, text) == expected


# -- Tool ------------------------------------------------------------------------------------

RUNTIMES = "'container', 'python', 'http' or 'builtin'"

TOOL = [
    case(
        manifest("Tool", "description: x"),
        "m.yaml:6:3: spec: missing required field 'runtime'",
        id="missing-runtime",
    ),
    case(
        manifest("Tool", "runtime: {image: x}"),
        f"m.yaml:6:12: spec.runtime: missing required field 'type' ({RUNTIMES})",
        id="missing-runtime-type",
    ),
    case(
        manifest("Tool", "runtime: {type: containr, image: x}"),
        "m.yaml:6:12: spec.runtime: unknown runtime type 'containr' (did you mean 'container'?); "
        f"expected {RUNTIMES}",
        id="runtime-type-typo",
    ),
    case(
        manifest("Tool", "runtime: docker"),
        "m.yaml:6:12: spec.runtime: expected a mapping, got string",
        id="runtime-string",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, output: yaml}"),
        "m.yaml:6:48: spec.runtime.output: unknown output format 'yaml'; expected 'json' or 'text'",
        id="container-output",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, network: host}"),
        "m.yaml:6:49: spec.runtime.network: unknown network mode 'host'; expected 'none'",
        id="container-network",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, resources: {memory: 128MB}}"),
        "m.yaml:6:60: spec.runtime.resources.memory: invalid size '128MB': write a number and "
        "a unit, e.g. 128Mi, 1Gi",
        id="size",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, resources: {cpus: 0, pids: 1.5}}"),
        "m.yaml:6:58: spec.runtime.resources.cpus: must be > 0.0, got 0",
        "m.yaml:6:67: spec.runtime.resources.pids: expected an integer, got number",
        id="resources",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: ''}"),
        "m.yaml:6:37: spec.runtime.image: must not be empty",
        id="container-image-empty",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, entrypoint: 'a:b'}"),
        "m.yaml:6:40: spec.runtime.entrypoint: unknown field 'entrypoint'",
        id="field-of-another-runtime",
    ),
    case(
        manifest("Tool", "runtime: {type: container, image: x, timeout: 30m, comand: []}"),
        "m.yaml:6:54: spec.runtime.comand: unknown field 'comand' (did you mean 'command'?)",
        id="container-typo",
    ),
    case(
        manifest("Tool", "runtime: {type: python, entrypoint: mod.count}"),
        "m.yaml:6:39: spec.runtime.entrypoint: invalid value 'mod.count': write "
        "module.path:function, e.g. mypkg.tools:count_words",
        id="python-entrypoint",
    ),
    case(
        manifest("Tool", "runtime: {type: http, url: 'https://x', method: get}"),
        "m.yaml:6:51: spec.runtime.method: unknown HTTP method 'get' (did you mean 'GET'?); "
        "expected 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE'",
        id="http-method",
    ),
    case(
        manifest("Tool", "runtime: {type: http}"),
        "m.yaml:6:12: spec.runtime: missing required field 'url'",
        id="http-without-url",
    ),
    case(
        manifest("Tool", "input: string\nruntime: {type: builtin}", name="http-get"),
        "m.yaml:6:10: spec.input: expected a mapping, got string",
        id="input-schema-string",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TOOL)
def test_tool(workdir: Path, text: str, expected: list[str]) -> None:
    assert check(workdir, text) == expected


# -- Capability ------------------------------------------------------------------------------

CLASSES = "'public', 'internal', 'confidential' or 'restricted'"


def card(intent: str) -> str:
    """A capability card for agent 'writer' whose one intent starts on line 8."""
    intent = textwrap.indent(textwrap.dedent(intent).strip("\n"), "    ")
    return manifest("Capability", "target: agent:writer\nintents:\n  - " + intent.lstrip())


WRITER = manifest("Agent", "model: openai:x", name="writer")

CAPABILITY = [
    case(
        card("name: w.sum\nversion: 1.2"),
        "m.yaml:9:16: spec.intents[0].version: invalid version 1.2: YAML read it as a number; "
        'write MAJOR.MINOR.PATCH in quotes, e.g. "1.2.0"',
        id="version-float",
    ),
    case(
        card("name: w.sum\nversion: 1"),
        "m.yaml:9:16: spec.intents[0].version: invalid version 1: YAML read it as a number; "
        'write MAJOR.MINOR.PATCH in quotes, e.g. "1.2.0"',
        id="version-integer",
    ),
    case(
        card("name: w.sum\nversion: '1.2'"),
        "m.yaml:9:16: spec.intents[0].version: invalid version '1.2': write MAJOR.MINOR.PATCH, "
        "e.g. 1.2.0",
        id="version-two-parts",
    ),
    case(
        card("name: w.sum\nversion: v1.2.0"),
        "m.yaml:9:16: spec.intents[0].version: invalid version 'v1.2.0': write "
        "MAJOR.MINOR.PATCH, e.g. 1.2.0",
        id="version-with-v",
    ),
    case(
        card("name: w.sum\nversion: 01.2.0"),
        "m.yaml:9:16: spec.intents[0].version: invalid version '01.2.0': write "
        "MAJOR.MINOR.PATCH, e.g. 1.2.0",
        id="version-leading-zero",
    ),
    case(
        card("name: w.sum"),
        "m.yaml:8:7: spec.intents[0]: missing required field 'version'",
        id="version-missing",
    ),
    case(
        card("name: Research.Summarize\nversion: 1.0.0"),
        "m.yaml:8:13: spec.intents[0].name: invalid value 'Research.Summarize': use dotted "
        "lower-case words, e.g. research.summarize",
        id="intent-name-case",
    ),
    case(
        card("name: summarize\nversion: 1.0.0"),
        "m.yaml:8:13: spec.intents[0].name: invalid value 'summarize': use dotted lower-case "
        "words, e.g. research.summarize",
        id="intent-name-without-dot",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nclassification: secret"),
        f"m.yaml:10:23: spec.intents[0].classification: unknown classification 'secret'; "
        f"expected {CLASSES}",
        id="classification",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nclassification: publc"),
        "m.yaml:10:23: spec.intents[0].classification: unknown classification 'publc' "
        f"(did you mean 'public'?); expected {CLASSES}",
        id="classification-typo",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nclassification: 3"),
        f"m.yaml:10:23: spec.intents[0].classification: expected classification ({CLASSES}), "
        "got integer",
        id="classification-integer",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nclassification: restricted"),
        "m.yaml:8:7: spec.intents[0]: a 'restricted' intent needs an explicit acl.allow list",
        id="restricted-without-acl",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nrate_limit: {requests: 5, per: 0s}"),
        "m.yaml:10:19: spec.intents[0].rate_limit: rate_limit.per must be longer than 0s, e.g. 1m",
        id="rate-limit-per-zero",
    ),
    case(
        card(
            "name: w.sum\nversion: 1.0.0\nclassification: restricted\n"
            "acl: {deny: [{principal: 'user:x'}]}"
        ),
        "m.yaml:8:7: spec.intents[0]: a 'restricted' intent needs an explicit acl.allow list",
        id="restricted-with-deny-only",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nacl: {allow: [{principal: ''}], denny: []}"),
        "m.yaml:10:33: spec.intents[0].acl.allow[0].principal: must not be empty",
        "m.yaml:10:39: spec.intents[0].acl.denny: unknown field 'denny' (did you mean 'deny'?)",
        id="acl",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nrate_limit: {requests: 0, per: 1 minute}"),
        "m.yaml:10:30: spec.intents[0].rate_limit.requests: must be > 0, got 0",
        f"m.yaml:10:38: spec.intents[0].rate_limit.per: invalid duration '1 minute': "
        f"{DURATION_HELP}",
        id="rate-limit",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nidempotency_ttl: 24hours"),
        f"m.yaml:10:24: spec.intents[0].idempotency_ttl: invalid duration '24hours': "
        f"{DURATION_HELP}",
        id="idempotency-ttl",
    ),
    case(
        card("name: w.sum\nversion: 1.0.0\nexamples: [{output: x}]"),
        "m.yaml:10:18: spec.intents[0].examples[0]: missing required field 'input'",
        id="example-without-input",
    ),
    case(
        manifest("Capability", "target: agents:writer\nintents: [{name: w.sum, version: 1.0.0}]"),
        "m.yaml:6:11: spec.target: invalid value 'agents:writer': write agent:<name>, "
        "team:<name> or a2a:https://host/path",
        id="target",
    ),
    case(
        manifest("Capability", "target: agent:writer\nintents: []"),
        "m.yaml:7:12: spec.intents: must not be empty",
        id="no-intents",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CAPABILITY)
def test_capability(workdir: Path, text: str, expected: list[str]) -> None:
    assert error_lines(validate_files({"a.yaml": WRITER, "m.yaml": text}, workdir)) == expected


# -- Team ------------------------------------------------------------------------------------

TEAM = [
    case(
        manifest("Team", "protocol: pipline\nroles: [{name: w, agent: writer}]"),
        "m.yaml:6:13: spec.protocol: unknown team protocol 'pipline' (did you mean 'pipeline'?); "
        "expected 'pipeline', 'planner-workers', 'contract-net' or 'swarm'",
        id="protocol",
    ),
    case(
        manifest("Team", "protocol: planner-workers\nroles: [{name: worker, agent: writer}]"),
        "m.yaml:6:3: spec: protocol 'planner-workers' needs a role named 'planner'",
        id="planner-workers-without-planner",
    ),
    case(
        manifest(
            "Team", "protocol: pipeline\nroles: [{name: w, agent: writer}, {name: w, agent: b}]"
        ),
        "m.yaml:6:3: spec: duplicate role 'w'",
        id="duplicate-role",
    ),
    case(
        manifest(
            "Team", "protocol: pipeline\nroles:\n  - {name: w, agent: writer, on_failure: retry}"
        ),
        "m.yaml:8:44: spec.roles[0].on_failure: unknown on_failure action 'retry'; expected "
        "'skip', 'replace' or 'abort'",
        id="on-failure",
    ),
    case(
        manifest("Team", "protocol: pipeline\nroles:\n  - {name: w, agent: writer, replicas: 0}"),
        "m.yaml:8:42: spec.roles[0].replicas: must be > 0, got 0",
        id="replicas",
    ),
    case(
        manifest("Team", "protocol: pipeline\nroles:\n  - {name: Writer, agent: writer_1}"),
        f"m.yaml:8:14: spec.roles[0].name: invalid value 'Writer': {NAME_HELP}",
        f"m.yaml:8:29: spec.roles[0].agent: invalid value 'writer_1': {NAME_HELP}",
        id="role-names",
    ),
    case(
        manifest("Team", "protocol: pipeline\nroles:\n  - {name: w}"),
        "m.yaml:8:7: spec.roles[0]: missing required field 'agent'",
        id="role-without-agent",
    ),
    case(
        manifest(
            "Team",
            "protocol: pipeline\nroles: [{name: w, agent: writer}]\nblackboard: {scope: global}",
        ),
        "m.yaml:8:23: spec.blackboard.scope: unknown blackboard scope 'global'; expected "
        "'instance', 'session', 'team' or 'workflow'",
        id="blackboard-scope",
    ),
    case(
        manifest(
            "Team",
            "protocol: pipeline\nroles: [{name: w, agent: writer}]\n"
            "limits: {wallclock: 10 min, max_rounds: -1}",
        ),
        f"m.yaml:8:23: spec.limits.wallclock: invalid duration '10 min': {DURATION_HELP}",
        "m.yaml:8:43: spec.limits.max_rounds: must be > 0, got -1",
        id="limits",
    ),
    case(
        manifest("Team", "protocol: pipeline\nroles: []"),
        "m.yaml:7:10: spec.roles: must not be empty",
        id="no-roles",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TEAM)
def test_team(workdir: Path, text: str, expected: list[str]) -> None:
    assert check(workdir, text) == expected


# -- Workflow --------------------------------------------------------------------------------


def workflow(steps: str, before: str = "") -> str:
    """A workflow whose steps (dedented) start on line 7 after ``before`` lines."""
    steps = textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    return manifest("Workflow", textwrap.dedent(before) + "steps:\n" + steps)


WORKFLOW = [
    case(
        workflow("- id: s1\n  prompt: hi"),
        f"m.yaml:7:7: spec.steps[0]: a step needs one of {STEP_KINDS}",
        id="step-without-kind",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  tool: http_get"),
        f"m.yaml:7:7: spec.steps[0]: a step takes exactly one of {STEP_KINDS}, "
        "found 'agent' and 'tool'",
        id="step-with-two-kinds",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  call: a.b\n  team: t"),
        f"m.yaml:7:7: spec.steps[0]: a step takes exactly one of {STEP_KINDS}, "
        "found 'agent' and 'call' and 'team'",
        id="step-with-three-kinds",
    ),
    case(
        workflow("- s1"),
        "m.yaml:7:7: spec.steps[0]: expected a mapping, got string",
        id="step-string",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  if: yes please"),
        "m.yaml:9:11: spec.steps[0].if: expected one expression '${{ ... }}', got 'yes please'",
        id="if-text",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  if: 3"),
        "m.yaml:9:11: spec.steps[0].if: expected a boolean or an expression '${{ ... }}', "
        "got integer",
        id="if-integer",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  if: '${{ true }} and ${{ false }}'"),
        "m.yaml:9:11: spec.steps[0].if: expected one expression '${{ ... }}', "
        "got '${{ true }} and ${{ false }}'",
        id="if-two-expressions",
    ),
    case(
        workflow("- id: s1\n  agent: writer\n  iff: x"),
        "m.yaml:9:7: spec.steps[0].iff: unknown field 'iff' (did you mean 'if'?)",
        id="if-typo",
    ),
    case(
        workflow("- id: s1\n  tool: http_get\n  wiht: {}"),
        "m.yaml:9:7: spec.steps[0].wiht: unknown field 'wiht' (did you mean 'with'?)",
        id="with-typo",
    ),
    case(
        workflow("- id: s1\n  tool: http_get\n  with: [1]"),
        "m.yaml:9:13: spec.steps[0].with: expected a mapping, got list",
        id="with-list",
    ),
    case(
        workflow("- id: step-1\n  agent: writer"),
        f"m.yaml:7:11: spec.steps[0].id: invalid value 'step-1': {ID_HELP}",
        id="id-pattern",
    ),
    case(
        workflow("- id: 1\n  agent: writer"),
        "m.yaml:7:11: spec.steps[0].id: expected a string, got integer",
        id="id-integer",
    ),
    case(
        workflow("- agent: writer"),
        "m.yaml:7:7: spec.steps[0]: missing required field 'id'",
        id="id-missing",
    ),
    case(
        workflow("- id: s\n  agent: Writer"),
        f"m.yaml:8:14: spec.steps[0].agent: invalid value 'Writer': {NAME_HELP}",
        id="agent-name-pattern",
    ),
    case(
        workflow("- id: s\n  agent: writer\n  promt: x"),
        "m.yaml:9:7: spec.steps[0].promt: unknown field 'promt' (did you mean 'prompt'?)",
        id="prompt-typo",
    ),
    case(
        workflow("- id: s\n  tool: ''"),
        "m.yaml:8:13: spec.steps[0].tool: must not be empty",
        id="tool-empty",
    ),
    case(
        workflow("- id: s\n  call: Fact.Check@^1"),
        "m.yaml:8:13: spec.steps[0].call: invalid value 'Fact.Check@^1': write an intent and "
        "an optional version range, e.g. research.summarize@^1",
        id="call-pattern",
    ),
    case(
        workflow("- id: f\n  foreach: abc\n  steps: [{id: s, agent: writer}]"),
        "m.yaml:8:16: spec.steps[0].foreach: expected one expression '${{ ... }}', got 'abc'",
        id="foreach-text",
    ),
    case(
        workflow("- id: f\n  foreach: {a: 1}\n  steps: [{id: s, agent: writer}]"),
        "m.yaml:8:16: spec.steps[0].foreach: expected a list or an expression '${{ ... }}', "
        "got mapping",
        id="foreach-mapping",
    ),
    case(
        workflow("- id: f\n  foreach: [1]\n  as: my-item\n  steps: [{id: s, agent: writer}]"),
        f"m.yaml:9:11: spec.steps[0].as: invalid value 'my-item': {ID_HELP}",
        id="foreach-as-pattern",
    ),
    case(
        workflow("- id: f\n  foreach: [1]\n  steps: []"),
        "m.yaml:9:14: spec.steps[0].steps: must not be empty",
        id="foreach-without-steps",
    ),
    case(
        workflow("- id: l\n  loop:\n    steps: [{id: s, agent: writer}]"),
        "m.yaml:9:9: spec.steps[0].loop: missing required field 'max_iterations'",
        id="loop-without-max-iterations",
    ),
    case(
        workflow("- id: l\n  loop: {max_iterations: 0, until: done, steps: []}"),
        "m.yaml:8:30: spec.steps[0].loop.max_iterations: must be > 0, got 0",
        "m.yaml:8:40: spec.steps[0].loop.until: expected one expression '${{ ... }}', got 'done'",
        "m.yaml:8:53: spec.steps[0].loop.steps: must not be empty",
        id="loop-fields",
    ),
    case(
        workflow("- id: p\n  parallel: []"),
        "m.yaml:8:17: spec.steps[0].parallel: must not be empty",
        id="parallel-empty",
    ),
    case(
        workflow(
            """
            - id: l
              loop:
                max_iterations: 2
                steps:
                  - id: s
                    agnt: writer
            """
        ),
        f"m.yaml:11:13: spec.steps[0].loop.steps[0]: a step needs one of {STEP_KINDS}",
        id="nested-step-without-kind",
    ),
    case(
        workflow(
            """
            - id: f
              foreach: [1]
              steps:
                - id: l
                  loop:
                    max_iterations: 2
                    steps:
                      - id: p
                        parallel:
                          - id: s
                            team: t
                            timeout: soon
            """
        ),
        "m.yaml:18:30: spec.steps[0].steps[0].loop.steps[0].parallel[0].timeout: invalid "
        f"duration 'soon': {DURATION_HELP}",
        id="deeply-nested-step",
    ),
    case(
        workflow("- id: s\n  agent: writer\n  retry: {backoff: linear, max_attempts: 0}"),
        "m.yaml:9:24: spec.steps[0].retry.backoff: unknown backoff 'linear'; expected "
        "'exponential' or 'fixed'",
        "m.yaml:9:46: spec.steps[0].retry.max_attempts: must be > 0, got 0",
        id="retry",
    ),
    case(
        workflow("- id: s\n  agent: writer\n  timeout: 5min"),
        f"m.yaml:9:16: spec.steps[0].timeout: invalid duration '5min': {DURATION_HELP}",
        id="step-timeout",
    ),
    case(
        workflow("- id: s\n  agent: writer\n  continue_on_error: 'yes'"),
        "m.yaml:9:26: spec.steps[0].continue_on_error: expected a boolean, got string",
        id="continue-on-error",
    ),
    case(
        workflow("- id: s\n  agent: writer", before="inputs:\n  my-topic: {type: string}\n"),
        f"m.yaml:7:5: spec.inputs.my-topic: invalid value 'my-topic': {ID_HELP}",
        id="input-name-pattern",
    ),
    case(
        workflow("- id: s\n  agent: writer", before="inputs:\n  topic: string\n"),
        "m.yaml:7:12: spec.inputs.topic: expected a mapping, got string",
        id="input-schema-string",
    ),
    case(
        workflow(
            "- id: s\n  agent: writer",
            before="budget: {usd: 1, tokens: 1.5}\nmax_concurrency: 0\ntimeout: 1y\n",
        ),
        "m.yaml:6:28: spec.budget.tokens: expected an integer, got number",
        "m.yaml:7:20: spec.max_concurrency: must be > 0, got 0",
        f"m.yaml:8:12: spec.timeout: invalid duration '1y': {DURATION_HELP}",
        id="workflow-limits",
    ),
    case(
        workflow("- id: s\n  agent: writer") + "  outputs: [1]\n",
        "m.yaml:9:12: spec.outputs: expected a mapping, got list",
        id="outputs-list",
    ),
    case(
        manifest("Workflow", "steps:"),
        "m.yaml:6:9: spec.steps: expected a list, got null",
        id="steps-null",
    ),
]


@pytest.mark.parametrize(("text", "expected"), WORKFLOW)
def test_workflow(workdir: Path, text: str, expected: list[str]) -> None:
    assert check(workdir, text) == expected


# -- config file -----------------------------------------------------------------------------

CONFIG = [
    case(
        "features: [swarm]\nprofile: lcoal\nprofiles:\n  local: {store: 'sqlite:///x.db'}\n",
        "agentgo.yaml:2:10: profile: profile 'lcoal' is not defined under profiles "
        "(did you mean 'local'?)",
        id="unknown-profile",
    ),
    case(
        "profile: local\n",
        "agentgo.yaml:1:10: profile: profile 'local' is not defined under profiles",
        id="profile-without-profiles",
    ),
    case(
        "profiles:\n  p:\n    store: 'sqlite:///x.db'\n    server: https://x\n",
        "agentgo.yaml:3:5: profiles.p: a profile takes 'store' or 'server', not both",
        id="store-and-server",
    ),
    case(
        "profiles:\n  p: {store: 'mysql://x'}\n",
        "agentgo.yaml:2:14: profiles.p.store: invalid value 'mysql://x': write "
        "sqlite:///path/to/file.db or postgresql://user@host:5432/db",
        id="store-url",
    ),
    case(
        "profiles:\n  p: {synchronous: off}\n",
        "agentgo.yaml:2:20: profiles.p.synchronous: expected SQLite synchronous mode "
        "('normal' or 'full'), got boolean",
        id="synchronous",
    ),
    case(
        "features: [swarm]\nproviders:\n  openai: {}\n  opneai: {api_key: x}\n",
        "agentgo.yaml:4:3: providers.opneai: unknown provider 'opneai' (did you mean 'openai'?) "
        "under providers",
        id="unknown-provider",
    ),
    case(
        "profile: prod\nproviders:\n  azure: {}\n  ollama: {timeout: 0}\n",
        # The active profile is checked only once every field is valid.
        "agentgo.yaml:3:3: providers.azure: unknown provider 'azure' under providers",
        "agentgo.yaml:4:21: providers.ollama.timeout: must be > 0.0, got 0",
        id="unknown-provider-with-other-errors",
    ),
    case(
        "providers:\n  openai: {api_key: '${env:}'}\n",
        "agentgo.yaml:2:21: providers.openai.api_key: invalid secret reference '${env:}': "
        "${env:NAME} needs a variable name",
        id="secret-env-empty",
    ),
    case(
        "providers:\n  openai: {api_key: '${env:MY-KEY}'}\n",
        "agentgo.yaml:2:21: providers.openai.api_key: invalid secret reference "
        "'${env:MY-KEY}': ${env:NAME} needs a variable name",
        id="secret-env-name",
    ),
    case(
        "providers:\n  openai: {api_key: '${file:}'}\n",
        "agentgo.yaml:2:21: providers.openai.api_key: invalid secret reference '${file:}': "
        "${file:/path} needs a path",
        id="secret-file-empty",
    ),
    case(
        "providers:\n  openai: {api_key: 'x-${vault:x}'}\n",
        "agentgo.yaml:2:21: providers.openai.api_key: invalid secret reference in "
        "'x-${vault:x}': use ${env:NAME} or ${file:/path}",
        id="secret-unknown-source",
    ),
    case(
        "profiles:\n  p: {server: 'https://x', token: '${env:1X}'}\n",
        "agentgo.yaml:2:35: profiles.p.token: invalid secret reference '${env:1X}': "
        "${env:NAME} needs a variable name",
        id="profile-token",
    ),
    case(
        "providers:\n  ollama: {base_url: 'localhost:11434', timeout: 0, max_retries: 1.5}\n",
        "agentgo.yaml:2:22: providers.ollama.base_url: invalid value 'localhost:11434': write "
        "an http:// or https:// URL",
        "agentgo.yaml:2:50: providers.ollama.timeout: must be > 0.0, got 0",
        "agentgo.yaml:2:66: providers.ollama.max_retries: expected an integer, got number",
        id="provider-settings",
    ),
    case(
        "features: [swarms]\n",
        "agentgo.yaml:1:12: features[0]: unknown feature 'swarms' (did you mean 'swarm'?); "
        "expected 'contract-net' or 'swarm'",
        id="feature",
    ),
    case(
        "profils: {}\n",
        "agentgo.yaml:1:1: profils: unknown field 'profils' (did you mean 'profiles'?)",
        id="unknown-field",
    ),
    case(
        "- a\n",
        "agentgo.yaml:1:1: expected a mapping, got list",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CONFIG)
def test_config_file(workdir: Path, text: str, expected: list[str]) -> None:
    mset = validate_files({"agentgo.yaml": text}, workdir)
    assert error_lines(mset) == expected
    assert mset.config is None
    assert mset.config_files == ["agentgo.yaml"]


def test_valid_config_file_is_the_set_config(workdir: Path) -> None:
    text = """
    profile: local
    profiles:
      local: {store: 'sqlite:///.agentgo/agentgo.db', manifests: [./manifests]}
      prod: {server: 'https://agentgo.internal:8080', token: '${env:AGENTGO_TOKEN}'}
    features: [contract-net, swarm]
    providers:
      openai: {api_key: '${env:OPENAI_API_KEY}'}
      ollama: {base_url: 'http://localhost:11434/v1'}
    """
    mset = validate_files({"agentgo.yaml": text}, workdir)
    assert error_lines(mset) == []
    assert mset.config is not None
    assert mset.config.features == ["contract-net", "swarm"]
    assert sorted(mset.config.providers) == ["ollama", "openai"]
    assert mset.entries == []


# -- nothing to say --------------------------------------------------------------------------


def test_minimal_manifests_of_every_kind_are_valid(workdir: Path) -> None:
    files = {
        "agent.yaml": manifest("Agent", "model: scripted:demo", name="writer"),
        "tool.yaml": manifest("Tool", "runtime: {type: python, entrypoint: 'pkg.mod:fn'}"),
        "card.yaml": manifest(
            "Capability", "target: agent:writer\nintents: [{name: w.sum, version: 1.0.0}]"
        ),
        "team.yaml": manifest("Team", "protocol: pipeline\nroles: [{name: w, agent: writer}]"),
        "wf.yaml": workflow("- id: s\n  agent: writer"),
    }
    mset = validate_files(files, workdir)
    assert error_lines(mset) == []
    assert mset.counts() == {"Agent": 1, "Tool": 1, "Capability": 1, "Team": 1, "Workflow": 1}

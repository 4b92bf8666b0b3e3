"""Benchmark: `agentgo validate` of a realistic set of 1,000 manifests.

Budget (docs: ARCHITECTURE.md, performance budget): `agentgo validate` of 1,000 manifests
<= 1 s, cold process.

The script generates a valid manifest set (all five kinds, several documents per file,
cross-references and ``${{ }}`` expressions everywhere they are allowed), checks that
`agentgo validate` accepts it, times the command as a fresh process, then breaks the
in-process work down: YAML loading, model validation, cross-reference checks.

Run: .venv/bin/python bench/validate.py [--count 1000] [--runs 5] [--keep DIR]
Exit status: 0 when the set is valid and within budget, 1 otherwise.
Standard library plus agentgo_cli only; no network access.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import clean_env, find_agentgo  # bench/ is on sys.path

from agentgo_cli.manifests.checks import BUILTIN_TOOLS

BUDGET_MS = 1000.0
REPO = Path(__file__).resolve().parent.parent

# -- a tiny YAML writer (block style, the way people write manifests) ------------------------

_PLAIN = re.compile(r"^[A-Za-z](?:[\w .,/()'-]|:(?! ))*[\w.)]$|^[A-Za-z]$")
_PLAIN_FLOW = re.compile(r"^[A-Za-z_][\w.\-/]*$")
_PLAIN_UNIT = re.compile(r"^\d+(?:ms|s|m|h|d|Ki|Mi|Gi)$")
_PLAIN_EXPR = re.compile(r"^\$\{\{[^#:\"\n]*\}\}$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


def _scalar(value: Any, flow: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if text.lower() not in _RESERVED and (
        (_PLAIN_FLOW if flow else _PLAIN).match(text)
        or _PLAIN_UNIT.match(text)
        or (not flow and _PLAIN_EXPR.match(text))
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value, flow=True)


def _short(value: Any) -> bool:
    """Small, flat values are written in flow style: {name: x}, [a, b]."""
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return False
    return (
        0 < len(items) <= 4
        and all(_is_scalar(v) and (not isinstance(v, str) or "\n" not in v) for v in items)
        and len(_flow(value)) <= 60
    )


def to_yaml(value: Any, indent: int = 0) -> list[str]:
    """Lines of block-style YAML for a mapping or a list."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and "\n" in item:
                chomp = "|" if item.endswith("\n") and not item.endswith("\n\n") else "|-"
                lines.append(f"{pad}{key}: {chomp}")
                lines.extend(f"{pad}  {ln}" if ln else "" for ln in item.rstrip("\n").split("\n"))
            elif _is_scalar(item):
                lines.append(f"{pad}{key}: {_scalar(item)}")
            elif not item:
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}")
            elif _short(item):
                lines.append(f"{pad}{key}: {_flow(item)}")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(to_yaml(item, indent + 2))
    elif isinstance(value, list):
        for item in value:
            if _is_scalar(item) and not (isinstance(item, str) and "\n" in item):
                lines.append(f"{pad}- {_scalar(item)}")
            elif isinstance(item, dict) and item:
                inner = to_yaml(item, indent + 2)
                inner[0] = f"{pad}- {inner[0][indent + 2 :]}"
                lines.extend(inner)
            else:
                lines.append(f"{pad}- {_flow(item)}")
    return lines


# -- the generator -----------------------------------------------------------------------

DOMAINS = (
    "research",
    "billing",
    "support",
    "legal",
    "marketing",
    "ops",
    "security",
    "sales",
    "hr",
    "data",
)
ROLES = (
    "researcher",
    "writer",
    "editor",
    "reviewer",
    "planner",
    "summarizer",
    "classifier",
    "translator",
    "analyst",
    "triager",
)
VERBS = ("summarize", "classify", "translate", "extract", "review", "draft", "verify", "rank")
MODELS = (
    "openai:gpt-4o-mini",
    "anthropic:claude-haiku-4-5",
    "gemini:gemini-2.5-flash",
    "litellm:my-proxy-model",
    "ollama:llama3.2",
)
BUILTINS = BUILTIN_TOOLS
FILTERS = ("length", "lower", "tojson", "default('none')", "join(', ')", "upper", "trim")

SCHEMAS: tuple[dict[str, Any], ...] = (
    {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
    {
        "type": "object",
        "required": ["topic"],
        "properties": {
            "topic": {"type": "string", "maxLength": 500},
            "depth": {"type": "integer", "minimum": 1, "maximum": 5},
        },
    },
    {
        "type": "object",
        "properties": {
            "words": {"type": "integer", "minimum": 0},
            "lines": {"type": "integer"},
        },
        "additionalProperties": False,
    },
    {
        "type": "object",
        "required": ["summary"],
        "properties": {
            "summary": {"type": "string"},
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {"url": {"type": "string", "format": "uri"}},
                },
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
    },
    {
        "type": "object",
        "required": ["label"],
        "properties": {
            "label": {"enum": ["bug", "feature", "question", "spam"]},
            "score": {"type": "number"},
        },
    },
    {"type": "array", "items": {"type": "string"}, "minItems": 1},
    {
        "type": "object",
        "properties": {
            "customer": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^C[0-9]{6}$"},
                    "tier": {"type": "string", "enum": ["free", "pro", "enterprise"]},
                },
            },
            "amount": {"type": "number", "exclusiveMinimum": 0},
            "currency": {"type": "string", "default": "EUR"},
        },
        "required": ["customer", "amount"],
    },
    {
        "$defs": {"item": {"type": "object", "properties": {"id": {"type": "string"}}}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
        "oneOf": [{"required": ["items"]}, {"properties": {"empty": {"const": True}}}],
    },
)

WORKFLOW_INPUTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "topics",
        {"type": "array", "items": {"type": "string"}, "default": ["AI chips", "batteries"]},
    ),
    ("publish", {"type": "boolean", "default": False}),
    ("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}),
    ("query", {"type": "string", "minLength": 1}),
    ("language", {"type": "string", "enum": ["en", "fr", "de"], "default": "en"}),
    ("ticket", {"type": "object", "properties": {"id": {"type": "string"}}, "default": {}}),
)


@dataclass
class Generated:
    """The documents of each kind, and what workflows may reference."""

    agents: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    capabilities: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    """call targets: 'intent@range' or plain intent names that resolve."""


def _manifest(kind: str, name: str, spec: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if rnd.random() < 0.5:
        meta["description"] = f"{kind} {name}, generated for the validate benchmark."
    if rnd.random() < 0.4:
        meta["labels"] = {"team": rnd.choice(DOMAINS), "tier": rnd.choice(("gold", "silver"))}
    return {"apiVersion": "agentgo/v1", "kind": kind, "metadata": meta, "spec": spec}


def _agent(i: int, rnd: random.Random, tool_names: list[str]) -> dict[str, Any]:
    domain, role = DOMAINS[i % len(DOMAINS)], ROLES[(i // len(DOMAINS)) % len(ROLES)]
    name = f"{domain}-{role}-{i:03d}"
    spec: dict[str, Any] = {}
    scripted = rnd.random() < 0.3
    if scripted:
        spec["model"] = "scripted:demo"
    elif rnd.random() < 0.5:
        spec["model"] = rnd.choice(MODELS)
    else:
        ref = rnd.choice(MODELS)
        model: dict[str, Any] = {
            "ref": ref,
            "params": {"temperature": round(rnd.random(), 2), "max_tokens": 1024},
        }
        if rnd.random() < 0.6:
            model["fallbacks"] = rnd.sample([m for m in MODELS if m != ref], 2)
        if rnd.random() < 0.3:
            model["shadow"] = {"ref": rnd.choice(MODELS), "sample": 0.1}
        spec["model"] = model
    spec["instructions"] = (
        f"You are a careful {role} working for the {domain} team.\n"
        "Cite your sources and answer in at most five sentences.\n"
        + ("The request is: ${{ input }}\n" if rnd.random() < 0.3 else "")
    )
    tools = rnd.sample(tool_names, rnd.randint(0, 2)) + rnd.sample(BUILTINS, rnd.randint(0, 2))
    if tools:
        spec["tools"] = tools
    spec["max_turns"] = rnd.choice((4, 8, 12))
    if rnd.random() < 0.4:
        spec["output_schema"] = rnd.choice(SCHEMAS)
    if rnd.random() < 0.5:
        spec["budget"] = {"usd": rnd.choice((0.1, 0.5, 2.0)), "tokens": 200000}
    if scripted:
        script: list[dict[str, Any]] = [
            {"when": "(?i)weather", "reply": "Sunny, 21 °C."},
        ]
        if tools:
            script.append({"tool": {"name": tools[0], "args": {"text": "${{ input }}"}}})
        script.append({"reply": {"summary": "Three sources agree."}})
        spec["script"] = script
        spec["latency"] = rnd.choice(("0ms", "50ms", "1s"))
        spec["usage"] = {"input_tokens": 120, "output_tokens": 40}
    return _manifest("Agent", name, spec, rnd)


def _tool(i: int, rnd: random.Random) -> dict[str, Any]:
    kind = ("python", "container", "http", "builtin")[i % 4]
    verb = VERBS[i % len(VERBS)]
    name = f"{verb}-{kind}-{i:03d}"
    runtime: dict[str, Any]
    if kind == "python":
        runtime = {"type": "python", "entrypoint": f"acme.tools.{verb}:run_{i}", "timeout": "30s"}
    elif kind == "container":
        runtime = {
            "type": "container",
            "image": "busybox:latest",
            "command": ["sh", "-c", "wc -w"],
            "stdin": "${{ input.text }}",
            "output": rnd.choice(("json", "text")),
            "network": "none",
            "env": {"LANG": "C.UTF-8"},
            "timeout": "30s",
            "resources": {"memory": "128Mi", "cpus": 0.5, "pids": 64},
        }
    elif kind == "http":
        runtime = {
            "type": "http",
            "method": rnd.choice(("GET", "POST")),
            "url": f"https://api.example.com/v1/{verb}?q=${{{{ input.text | urlencode }}}}",
            "connector": "example",
            "headers": {"X-Job": "${{ job.id }}"},
            "timeout": "10s",
        }
    else:
        runtime = {"type": "builtin", "name": BUILTINS[i % len(BUILTINS)]}
    spec: dict[str, Any] = {
        "description": f"{verb.capitalize()} a text ({kind} runtime).",
        "input": SCHEMAS[0],  # workflow tool steps pass {text: ...}
        "output": rnd.choice(SCHEMAS),
        "runtime": runtime,
    }
    if kind == "http" or rnd.random() < 0.2:
        spec["scopes"] = ["docs:read"]
    return _manifest("Tool", name, spec, rnd)


def _capability(i: int, rnd: random.Random, target: str, intents_out: list[str]) -> dict[str, Any]:
    domain = DOMAINS[i % len(DOMAINS)]
    intents: list[dict[str, Any]] = []
    for verb in rnd.sample(VERBS, rnd.randint(1, 3)):
        name = f"{domain}.c{i:03d}.{verb}"
        minor = rnd.randint(0, 4)
        classification = rnd.choice(("public", "internal", "confidential", "restricted"))
        intent: dict[str, Any] = {
            "name": name,
            "version": f"1.{minor}.0",
            "description": f"{verb.capitalize()} a {domain} request.",
            "tags": [domain, verb],
            "input": SCHEMAS[1],
            "output": rnd.choice(SCHEMAS[2:]),
            "prompt": f"{verb.capitalize()} ${{{{ input.topic }}}} in five sentences.",
            "classification": classification,
        }
        if classification == "restricted" or rnd.random() < 0.6:
            intent["acl"] = {
                "allow": [
                    {"principal": f"team:{domain}/*"},
                    {"principal": "user:*", "scopes": [f"{domain}.read"]},
                ],
                "deny": [{"principal": "user:mallory"}],
            }
        if rnd.random() < 0.5:
            intent["rate_limit"] = {"requests": 60, "per": "1m", "burst": 10}
        intent["idempotency_ttl"] = "24h"
        intent["timeout"] = rnd.choice(("30s", "2m", "5m"))
        intent["examples"] = [{"input": {"topic": "solid-state batteries"}}]
        intents.append(intent)
        intents_out.extend((f"{name}@^1", f"{name}@~1.{minor}", name, f"{name}@>=1.0.0"))
    spec = {"target": target, "intents": intents}
    return _manifest("Capability", f"{domain}-card-{i:03d}", spec, rnd)


def _team(i: int, rnd: random.Random, agent_names: list[str]) -> dict[str, Any]:
    domain = DOMAINS[i % len(DOMAINS)]
    protocol = "planner-workers" if i % 2 else "pipeline"
    chosen = rnd.sample(agent_names, 4)
    if protocol == "planner-workers":
        roles: list[dict[str, Any]] = [
            {"name": "planner", "agent": chosen[0]},
            {
                "name": "worker",
                "agent": chosen[1],
                "replicas": rnd.randint(2, 5),
                "fallback_agents": [chosen[2]],
                "on_failure": "replace",
            },
            {"name": "synthesizer", "agent": chosen[0]},
        ]
    else:
        roles = [
            {"name": role, "agent": agent, "on_failure": rnd.choice(("skip", "abort"))}
            for role, agent in zip(("research", "draft", "review", "publish"), chosen, strict=True)
        ]
    spec = {
        "protocol": protocol,
        "roles": roles,
        "limits": {"cost_usd": 2.0, "wallclock": "10m", "max_rounds": 20},
        "blackboard": {"scope": rnd.choice(("instance", "session", "team", "workflow"))},
    }
    return _manifest("Team", f"{domain}-team-{i:03d}", spec, rnd)


class _Steps:
    """Builds the steps of one workflow, tracking which ids later steps may read."""

    def __init__(self, rnd: random.Random, gen: Generated, inputs: list[str]) -> None:
        self.rnd = rnd
        self.gen = gen
        self.inputs = inputs
        self.next_id = 0
        self.agent_names = [a["metadata"]["name"] for a in gen.agents]
        self.tool_names = [t["metadata"]["name"] for t in gen.tools] + list(BUILTINS)
        self.team_names = [t["metadata"]["name"] for t in gen.teams]

    def new_id(self, hint: str) -> str:
        self.next_id += 1
        return f"{hint}_{self.next_id}"

    def ref(self, done: list[str], extra: list[str]) -> str:
        """An expression body reading something available here."""
        rnd = self.rnd
        choices: list[str] = [f"steps.{s}.output" for s in done[-4:]] + extra
        choices += [f"inputs.{n}" for n in self.inputs]
        if not choices:
            return "job.id"
        base = rnd.choice(choices)
        roll = rnd.random()
        if roll < 0.3:
            return f"{base} | {rnd.choice(FILTERS)}"
        if roll < 0.4 and base.startswith("steps."):
            return f"{base}.summary | default('')"
        return base

    def leaf(self, done: list[str], extra: list[str]) -> dict[str, Any]:
        rnd = self.rnd
        kind = rnd.choices(("agent", "tool", "call", "team"), (45, 25, 20, 10))[0]
        step: dict[str, Any] = {"id": self.new_id(kind)}
        if kind == "agent":
            step["agent"] = rnd.choice(self.agent_names)
            step["prompt"] = f"Work on this: ${{{{ {self.ref(done, extra)} }}}}"
            if rnd.random() < 0.3:
                step["input"] = f"${{{{ {self.ref(done, extra)} }}}}"
        elif kind == "tool":
            step["tool"] = rnd.choice(self.tool_names)
            step["with"] = {"text": f"${{{{ {self.ref(done, extra)} }}}}"}
        elif kind == "call":
            step["call"] = rnd.choice(self.gen.intents)
            step["input"] = {"topic": f"${{{{ {self.ref(done, extra)} }}}}"}
        else:
            step["team"] = rnd.choice(self.team_names)
            step["input"] = f"${{{{ {self.ref(done, extra)} }}}}"
        if done and rnd.random() < 0.2:
            step["if"] = f"${{{{ steps.{done[-1]}.status == 'succeeded' }}}}"
        elif "publish" in self.inputs and rnd.random() < 0.1:
            step["if"] = "${{ inputs.publish }}"
        if rnd.random() < 0.2:
            step["retry"] = {
                "max_attempts": 3,
                "backoff": "exponential",
                "initial": "1s",
                "max": "30s",
            }
        if rnd.random() < 0.2:
            step["timeout"] = rnd.choice(("30s", "5m"))
        if rnd.random() < 0.1:
            step["continue_on_error"] = True
        return step

    def body(self, done: list[str], extra: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """1-3 sequential leaf steps; returns them and their ids."""
        inner_done = list(done)
        steps = []
        for _ in range(self.rnd.randint(1, 3)):
            step = self.leaf(inner_done, extra)
            steps.append(step)
            inner_done.append(step["id"])
        return steps, [s["id"] for s in steps]

    def top(self, done: list[str]) -> tuple[dict[str, Any], list[str]]:
        """One top-level step and the ids it makes available to later steps."""
        rnd = self.rnd
        kind = rnd.choices(("leaf", "foreach", "loop", "parallel"), (62, 14, 12, 12))[0]
        if kind == "leaf":
            step = self.leaf(done, [])
            return step, [step["id"]]
        if kind == "foreach":
            var = rnd.choice(("item", "topic", "doc"))
            sid = self.new_id("each")
            steps, ids = self.body(done, [var, "index"] if var != "item" else ["item"])
            source = "${{ inputs.topics }}" if "topics" in self.inputs else ["a", "b", "c"]
            step = {"id": sid, "foreach": source}
            if var != "item":
                step["as"] = var
            step["max_concurrency"] = 4
            step["steps"] = steps
            return step, [sid, *ids]
        if kind == "loop":
            sid = self.new_id("loop")
            steps, ids = self.body(done, ["loop.iteration"])
            step = {
                "id": sid,
                "loop": {
                    "max_iterations": rnd.randint(2, 5),
                    "until": f"${{{{ steps.{ids[-1]}.status == 'succeeded' }}}}",
                    "steps": steps,
                },
            }
            return step, [sid, *ids]
        sid = self.new_id("fanout")
        branches = [self.leaf(done, []) for _ in range(rnd.randint(2, 3))]
        step = {"id": sid, "parallel": branches, "max_concurrency": 2}
        return step, [sid, *(b["id"] for b in branches)]


def _workflow(i: int, rnd: random.Random, gen: Generated) -> dict[str, Any]:
    domain = DOMAINS[i % len(DOMAINS)]
    chosen = rnd.sample(WORKFLOW_INPUTS, rnd.randint(1, 4))
    inputs = {name: schema for name, schema in chosen}
    builder = _Steps(rnd, gen, list(inputs))
    steps: list[dict[str, Any]] = []
    done: list[str] = []
    for _ in range(rnd.randint(3, 8)):
        step, ids = builder.top(done)
        steps.append(step)
        done.extend(ids)
    spec: dict[str, Any] = {
        "inputs": inputs,
        "timeout": "30m",
        "max_concurrency": 16,
        "budget": {"usd": 1.0},
        "steps": steps,
        "outputs": {
            "result": f"${{{{ steps.{steps[-1]['id']}.output }}}}",
            "status": f"${{{{ steps.{steps[0]['id']}.status }}}}",
        },
    }
    return _manifest("Workflow", f"{domain}-flow-{i:03d}", spec, rnd)


def generate(count: int, seed: int = 1) -> Generated:
    """A valid manifest set of about ``count`` manifests: 40% agents, 20% tools, 10%
    capabilities, 10% teams, 20% workflows."""
    rnd = random.Random(seed)
    n_tools = max(4, count // 5)
    n_caps = max(1, count // 10)
    n_teams = max(1, count // 10)
    n_flows = max(1, count // 5)
    n_agents = max(4, count - n_tools - n_caps - n_teams - n_flows)
    gen = Generated()
    gen.tools = [_tool(i, rnd) for i in range(n_tools)]
    tool_names = [t["metadata"]["name"] for t in gen.tools]
    gen.agents = [_agent(i, rnd, tool_names) for i in range(n_agents)]
    agent_names = [a["metadata"]["name"] for a in gen.agents]
    gen.teams = [_team(i, rnd, agent_names) for i in range(n_teams)]
    team_names = [t["metadata"]["name"] for t in gen.teams]
    carded = rnd.sample(agent_names, min(len(agent_names) // 2, int(n_caps * 0.7)))
    targets = [f"agent:{a}" for a in carded]
    targets += [f"team:{rnd.choice(team_names)}" for _ in range(n_caps - len(targets))]
    gen.capabilities = [_capability(i, rnd, t, gen.intents) for i, t in enumerate(targets)]
    # Agents without a card are callable through their synthetic '<agent>.run' intent.
    uncarded = [a for a in agent_names if a not in set(carded)]
    gen.intents += [f"{a}.run@^1" for a in rnd.sample(uncarded, min(20, len(uncarded)))]
    gen.workflows = [_workflow(i, rnd, gen) for i in range(n_flows)]
    return gen


def write_set(gen: Generated, root: Path, seed: int = 1) -> int:
    """Write the documents, about ten per file, under one folder per kind; return files."""
    rnd = random.Random(seed)
    files = 0
    kinds = (
        ("agents", gen.agents),
        ("tools", gen.tools),
        ("capabilities", gen.capabilities),
        ("teams", gen.teams),
        ("workflows", gen.workflows),
    )
    for folder, docs in kinds:
        (root / folder).mkdir(parents=True, exist_ok=True)
        n_files = max(1, round(len(docs) / 10))
        for f in range(n_files):
            chunk = docs[f::n_files]
            kind = chunk[0]["kind"].lower()
            head = (
                f"# yaml-language-server: $schema=https://agentgo.dev/schemas/v1/{kind}.schema.json"
            )
            parts = [head]
            for j, doc in enumerate(chunk):
                if j or rnd.random() < 0.5:
                    parts.append("---")
                parts.extend(to_yaml(doc))
            text = "\n".join(parts) + "\n"
            (root / folder / f"{folder}-{f:02d}.yaml").write_text(text, encoding="utf-8")
            files += 1
    _write_tool_code(gen.tools, root / "tools")
    return files


def _write_tool_code(tools: list[dict[str, Any]], root: Path) -> None:
    """The python tools' modules, in the project root validate imports them from (with no
    agentgo.yaml, the folder of their manifests), one module per verb as a team would."""
    functions: dict[str, list[str]] = {}
    for tool in tools:
        runtime = tool["spec"]["runtime"]
        if runtime["type"] == "python":
            module, _, function = runtime["entrypoint"].partition(":")
            functions.setdefault(module, []).append(function)
    for module, names in functions.items():
        path = root.joinpath(*module.split("."))
        for package in (path.parent, *path.parent.parents):
            if package == root:
                break
            package.mkdir(parents=True, exist_ok=True)
            (package / "__init__.py").touch()
        body = "".join(f"\n\ndef {name}(text: str) -> dict:\n    return {{}}\n" for name in names)
        path.with_suffix(".py").write_text(f'"""Tools of the benchmark set."""{body}')


# -- timing ------------------------------------------------------------------------------


BREAKDOWN_CODE = r"""
import json, sys, time
from pathlib import Path
clock = time.perf_counter
t0 = clock()
from agentgo_cli.manifests import manifest_set as ms
from agentgo_cli.manifests.loader import load_paths
t1 = clock()
loaded = load_paths([sys.argv[1]])
t2 = clock()
mset = ms.ManifestSet(errors=list(loaded.errors), files=loaded.files)
for doc in loaded.documents:
    mset.documents += 1
    manifest, errors = ms.check_document(doc)
    if manifest is not None:
        mset.entries.append(ms.Entry(manifest, doc))
    mset.errors.extend(errors)
t3 = clock()
from agentgo_cli.manifests.checks import cross_check
import jinja2.sandbox, jsonschema
t4 = clock()
mset.errors.extend(cross_check(mset))
t5 = clock()
print(json.dumps({
    "import manifests (pydantic, models)": t1 - t0,
    "YAML load (load_paths)": t2 - t1,
    "model validation (check_document)": t3 - t2,
    "import checks, jinja2, jsonschema": t4 - t3,
    "cross-reference checks (cross_check)": t5 - t4,
    "errors": len(mset.errors),
}))
"""
"""Run in a fresh interpreter: the first, cold pass, as `agentgo validate` does it."""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def time_cli(agentgo: Path, target: Path, runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    times: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(agentgo), "validate", str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            check=False,
        )
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0:
            sys.exit(f"`agentgo validate` exited {proc.returncode} during timing")
        if i:  # the first run only warms the OS file cache
            times.append(elapsed)
    return times


def _timed(fn: Callable[..., Any], bucket: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket.append(time.perf_counter() - start)

    return wrapper


def in_process(target: Path, repeats: int) -> dict[str, list[float]]:
    """Warm, in this process: load_set, then its phases, ``repeats`` times each."""
    from agentgo_cli import expr
    from agentgo_cli.manifests import checks
    from agentgo_cli.manifests import manifest_set as mset_mod
    from agentgo_cli.manifests.loader import load_paths

    out: dict[str, list[float]] = {}

    def note(label: str, seconds: float) -> None:
        out.setdefault(label, []).append(seconds)

    mset_mod.load_set([target])  # imports, meta-schema and Jinja environment built once
    for _ in range(repeats):
        expr.analyze.cache_clear()  # a new process starts with an empty cache
        start = time.perf_counter()
        result = mset_mod.load_set([target])
        note("load_set (total)", time.perf_counter() - start)
        if result.errors:
            sys.exit(f"load_set found {len(result.errors)} errors: {result.errors[0]}")

    schema_t: list[float] = []
    default_t: list[float] = []
    expr_t: list[float] = []
    patched = {
        "_schema": (checks._Checker._schema, schema_t),
        "_default": (checks._Checker._default, default_t),
        "_expression": (checks._Checker._expression, expr_t),
    }
    for _ in range(repeats):
        expr.analyze.cache_clear()
        start = time.perf_counter()
        loaded = load_paths([target])
        t1 = time.perf_counter()
        result = mset_mod.ManifestSet(errors=list(loaded.errors), files=loaded.files)
        for doc in loaded.documents:
            result.documents += 1
            manifest, errors = mset_mod.check_document(doc)
            if manifest is not None:
                result.entries.append(mset_mod.Entry(manifest, doc))
            result.errors.extend(errors)
        t2 = time.perf_counter()
        del schema_t[:], default_t[:], expr_t[:]
        for name, (fn, bucket) in patched.items():
            setattr(checks._Checker, name, _timed(fn, bucket))
        try:
            checks.cross_check(result)
        finally:
            for name, (fn, _) in patched.items():
                setattr(checks._Checker, name, fn)
        t3 = time.perf_counter()
        note("YAML load (load_paths)", t1 - start)
        note("model validation (check_document)", t2 - t1)
        note("cross-reference checks (cross_check)", t3 - t2)
        note("  of which JSON Schema meta-validation (_schema)", sum(schema_t))
        note("  of which input defaults (_default)", sum(default_t))
        note("  of which expressions (_expression)", sum(expr_t))
        note(
            "  of which the rest (names, refs, scopes)",
            (t3 - t2) - sum(schema_t) - sum(default_t) - sum(expr_t),
        )
    out["_counts"] = [float(len(schema_t)), float(len(default_t)), float(len(expr_t))]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="manifests (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed CLI runs (default 5)")
    parser.add_argument("--repeats", type=int, default=5, help="in-process repeats (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--keep", metavar="DIR", help="write the set into DIR and keep it")
    args = parser.parse_args(argv)
    if args.count < 10:
        parser.error("--count must be at least 10")
    if args.runs < 1 or args.repeats < 1:
        parser.error("--runs and --repeats must be at least 1")

    agentgo = find_agentgo("validate.py")
    with tempfile.TemporaryDirectory(prefix="agentgo-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = clean_env(home)
        if args.keep:
            target = Path(args.keep).resolve()
            if target.exists() and any(target.iterdir()):
                parser.error(f"--keep {target}: the folder exists and is not empty")
        else:
            target = Path(tmp) / "manifests"
        target.mkdir(parents=True, exist_ok=True)

        gen = generate(args.count, args.seed)
        files = write_set(gen, target, args.seed)
        total = sum(
            len(x) for x in (gen.agents, gen.tools, gen.capabilities, gen.teams, gen.workflows)
        )
        size = sum(p.stat().st_size for p in target.rglob("*.yaml"))
        print(
            f"generated {total} manifests in {files} files ({size / 1024:.0f} KiB): "
            f"{len(gen.agents)} Agent, {len(gen.tools)} Tool, "
            f"{len(gen.capabilities)} Capability, {len(gen.teams)} Team, "
            f"{len(gen.workflows)} Workflow"
        )
        if args.keep:
            print(f"  kept in {target}")

        proc = subprocess.run(
            [str(agentgo), "validate", str(target)],
            capture_output=True,
            text=True,
            env=env,
            cwd=home,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        print(f"agentgo validate: exit {proc.returncode}: {lines[-1] if lines else '(no output)'}")
        if proc.returncode != 0:
            print("the generated set must be valid; first errors:")
            for line in lines[:20]:
                print(f"  {line}")
            if proc.stderr.strip():
                print(proc.stderr.strip())
            return 1

        print()
        print(f"agentgo validate DIR, cold process ({agentgo})")
        times = time_cli(agentgo, target, args.runs, env, home)
        med = statistics.median(times)
        verdict = "PASS" if med <= BUDGET_MS else "FAIL"
        print(
            f"  runs={len(times)} (after 1 warm-up)  min={min(times):.1f} ms  "
            f"median={med:.1f} ms  max={max(times):.1f} ms"
        )
        print(f"  budget: median <= {BUDGET_MS:.0f} ms  -> {verdict}")

        print()
        print("breakdown, cold (first pass in a fresh interpreter, as the CLI does it):")
        child = subprocess.run(
            [sys.executable, "-c", BREAKDOWN_CODE, str(target)],
            capture_output=True,
            text=True,
            env=env,
            cwd=home,
            check=False,
        )
        if child.returncode != 0:
            print(child.stderr)
            return 1
        cold = json.loads(child.stdout.strip().splitlines()[-1])
        errors = cold.pop("errors")
        for label, seconds in cold.items():
            print(f"  {label:<48} {ms(seconds)}")
        print(f"  {'sum':<48} {ms(sum(cold.values()))}   ({errors} errors)")

        print()
        print(f"breakdown, warm (in process, median of {args.repeats}; expression cache cleared):")
        warm = in_process(target, args.repeats)
        counts = warm.pop("_counts")
        for label, values in warm.items():
            print(f"  {label:<48} {ms(statistics.median(values))}")
        print(
            f"  calls per pass: {int(counts[0])} _schema, {int(counts[1])} _default, "
            f"{int(counts[2])} _expression"
        )

    print()
    print("validate: " + verdict)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())

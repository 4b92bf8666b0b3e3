"""Property tests: no text, bytes or manifest makes the loader or the validator raise, and
every error points inside the file it names."""

from __future__ import annotations

import re
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgo_cli.errors import ManifestError
from agentgo_cli.manifests.loader import load_text
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.manifests.models import KINDS

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Modest: the whole module runs in well under a minute on two cores."""

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
"""Line breaks as YAML counts them (and so as error positions do)."""

YAML_ALPHABET = st.sampled_from(
    list("abcxyz019 _-.:,?!&*|>'\"%@`#[]{}<=~$\\/\t\n\r")
    + ["\x00", "\x07", "\x85", "\ufeff", "\u2028", "\u00e9", "---", "...", "<<", "${{", "}}"]
)
yaml_text = st.lists(YAML_ALPHABET, max_size=80).map("".join)


def line_count(text: str) -> int:
    """How many lines a position may name: one more than the breaks, for a mark at the end."""
    return len(_LINE_BREAK.split(text))


def assert_positioned(errors: list[ManifestError], texts: dict[str, str]) -> None:
    """Every error is at line >= 1 and col >= 1, and inside its file when we know the file."""
    for error in errors:
        assert error.line >= 1, error
        assert error.col >= 1, error
        assert str(error).startswith(f"{error.file}:{error.line}:{error.col}: "), error
        name = Path(error.file).name
        if name in texts:
            assert error.line <= line_count(texts[name]), (error, texts[name])


def validate(texts: dict[str, str]) -> ManifestSet:
    """Write the texts into a fresh folder and validate it as one set."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in texts.items():
            (root / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        mset = load_set([root])
    assert_positioned(mset.errors, texts)
    return mset


# -- 1. any text or bytes --------------------------------------------------------------------


@FUZZ
@given(st.one_of(st.text(), yaml_text))
def test_load_text_never_raises_on_text(text: str) -> None:
    result = load_text(text, "f.yaml")
    assert_positioned(result.errors, {"f.yaml": text})
    assert all(doc.file == "f.yaml" for doc in result.documents)


@FUZZ
@given(st.one_of(st.binary(), yaml_text.map(lambda t: t.encode("utf-8"))))
def test_load_text_never_raises_on_bytes(raw: bytes) -> None:
    result = load_text(raw, "f.yaml")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert [e.code for e in result.errors] == ["encoding"]
        return
    assert_positioned(result.errors, {"f.yaml": text})


# -- 2. any YAML data ------------------------------------------------------------------------

FIELDS = [
    "apiVersion", "kind", "metadata", "name", "spec", "model", "ref", "fallbacks", "script",
    "reply", "when", "tool", "tools", "max_turns", "output_schema", "runtime", "type", "image",
    "entrypoint", "url", "method", "intents", "version", "target", "classification", "acl",
    "allow", "principal", "protocol", "roles", "agent", "steps", "id", "foreach", "as", "loop",
    "max_iterations", "until", "parallel", "call", "team", "if", "input", "inputs", "outputs",
    "prompt", "with", "default", "properties", "required", "items", "timeout", "retry",
    "features", "profile", "profiles", "providers", "store", "server", "<<", "value",
    "on_exhausted", "on_item_error", "continue_on_error",
]  # fmt: skip
WORDS = [
    "agentgo/v1", *KINDS, "openai:gpt-4o-mini", "scripted:demo", "nope:x", "writer", "a.b",
    "a.b@^1", "a.b@^9", "agent:writer", "team:desk", "1.0.0", "1.2", "5m", "soon", "128Mi",
    "pipeline", "planner-workers", "swarm", "container", "python", "builtin", "http_get",
    "restricted", "object", "string", "intger", "${{ inputs.x }}", "${{ steps.a.output }}",
    "${{ steps.b.outptu }}", "${{ item }}", "${{ }}", "${{ x | nope }}", "${{ x.__class__ }}",
    "a", "b", "", "fail", "succeed", "continue", "${{ steps.a.exhausted }}",
    "${{ steps.research.errors }}", "${{ steps.polish.exhausted }}",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)
manifests = st.fixed_dictionaries(
    {
        "apiVersion": st.one_of(st.just("agentgo/v1"), scalars),
        "kind": st.one_of(st.sampled_from(list(KINDS)), scalars),
        "metadata": st.one_of(
            st.fixed_dictionaries({"name": st.sampled_from(["writer", "desk", "a", "Bad"])}),
            values,
        ),
        "spec": st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6), values),
    }
)


@FUZZ
@given(
    docs=st.lists(st.one_of(manifests, values), min_size=1, max_size=4),
    config=st.one_of(st.none(), st.dictionaries(st.sampled_from(FIELDS), values, max_size=4)),
)
def test_any_yaml_data_validates_without_raising(docs: list[Any], config: Any) -> None:
    texts = {"m.yaml": yaml.safe_dump_all(docs, allow_unicode=True)}
    if config is not None:
        texts["agentgo.yaml"] = yaml.safe_dump(config, allow_unicode=True)
    validate(texts)


# -- 3. mutations of a valid set -------------------------------------------------------------

VALID = {
    "agents.yaml": """
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: writer, labels: {team: news}}
        spec:
          model:
            ref: openai:gpt-4o-mini
            params: {temperature: 0.2}
            fallbacks: [anthropic:claude-haiku-4-5]
          instructions: Write clearly.
          tools: [wordcount, http_get]
          output_schema: {type: object, required: [summary], properties: {summary: {type: string}}}
          budget: {usd: 0.5, tokens: 20000}
        ---
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: editor}
        spec:
          model: scripted:demo
          script:
            - when: "(?i)weather"
              reply: "Sunny."
            - tool: {name: wordcount, args: {text: "${{ input }}"}}
            - reply: {approved: true}
          latency: 50ms
        """,
    "tool.yaml": """
        apiVersion: agentgo/v1
        kind: Tool
        metadata: {name: wordcount}
        spec:
          description: Count the words of a text.
          input: {type: object, required: [text], properties: {text: {type: string}}}
          output: {type: object, properties: {words: {type: integer}}}
          runtime:
            type: container
            image: busybox:latest
            command: ["sh", "-c", "wc -w"]
            stdin: "${{ input.text }}"
            output: json
            timeout: 30s
            resources: {memory: 128Mi, cpus: 0.5, pids: 64}
        """,
    "card.yaml": """
        apiVersion: agentgo/v1
        kind: Capability
        metadata: {name: editor-card}
        spec:
          target: agent:editor
          intents:
            - name: factcheck.verify
              version: 1.2.0
              input: {type: object, required: [text], properties: {text: {type: string}}}
              prompt: "Check ${{ input.text }}"
              classification: restricted
              acl:
                allow: [{principal: "team:research/*", scopes: [research.read]}]
                deny: [{principal: "user:mallory"}]
              rate_limit: {requests: 60, per: 1m, burst: 10}
              timeout: 2m
              examples: [{input: {text: "x"}}]
        """,
    "team.yaml": """
        apiVersion: agentgo/v1
        kind: Team
        metadata: {name: newsroom}
        spec:
          protocol: planner-workers
          roles:
            - {name: planner, agent: editor}
            - {name: writer, agent: writer, replicas: 3, on_failure: replace}
          limits: {cost_usd: 2.0, wallclock: 10m, max_rounds: 20}
          blackboard: {scope: team}
        """,
    "wf.yaml": """
        apiVersion: agentgo/v1
        kind: Workflow
        metadata: {name: digest}
        spec:
          inputs:
            topics: {type: array, items: {type: string}, default: ["AI chips"]}
            publish: {type: boolean, default: false}
          timeout: 30m
          steps:
            - id: research
              foreach: ${{ inputs.topics }}
              as: topic
              on_item_error: continue
              steps:
                - id: summarize
                  agent: writer
                  prompt: "Summarize ${{ topic }} (${{ index }})."
            - id: draft
              agent: writer
              prompt: "Digest of ${{ steps.research.output }}"
            - id: polish
              loop:
                max_iterations: 3
                until: ${{ steps.review.output.approved }}
                on_exhausted: fail
                steps:
                  - {id: review, agent: editor, input: "${{ steps.draft.output }}"}
            - id: checks
              parallel:
                - {id: count, tool: wordcount, with: {text: "${{ steps.draft.output }}"}}
                - {id: facts, call: factcheck.verify@^1, input: {text: "x"}}
            - id: failed
              value: {items: "${{ steps.research.errors }}", ok: "${{ steps.polish.exhausted }}"}
            - id: desk
              if: ${{ inputs.publish }}
              team: newsroom
              input: ${{ steps.draft.output }}
              retry: {max_attempts: 3, backoff: exponential, initial: 1s, max: 30s}
          outputs:
            digest: ${{ steps.draft.output }}
            words: ${{ steps.count.output.words }}
        """,
    "agentgo.yaml": """
        profile: local
        profiles:
          local: {store: "sqlite:///.agentgo/agentgo.db", manifests: [./manifests]}
        features: [swarm]
        providers:
          openai: {api_key: "${env:OPENAI_API_KEY}"}
        """,
}
VALID = {name: textwrap.dedent(text).lstrip("\n") for name, text in VALID.items()}


def test_the_set_to_mutate_is_valid() -> None:
    mset = validate(VALID)
    assert [str(e) for e in mset.sorted_errors()] == []
    assert mset.counts() == {"Agent": 2, "Tool": 1, "Capability": 1, "Team": 1, "Workflow": 1}


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _mutate_data(data: st.DataObject, doc: Any) -> Any:
    """Delete a key, replace a value or rename a key somewhere in one document."""
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return data.draw(values)
    path = data.draw(st.sampled_from(paths), label="path")
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = data.draw(st.sampled_from(["delete", "replace", "rename"]), label="action")
    if action == "delete":
        del parent[last]
    elif action == "replace" or isinstance(parent, list):
        parent[last] = data.draw(values, label="value")
    else:
        new = data.draw(
            st.one_of(
                st.sampled_from(FIELDS),
                st.text(max_size=6),
                st.just(str(last)[:-1]),
                st.just(f"{last}s"),
            ),
            label="new key",
        )
        parent[new] = parent.pop(last)
    return doc


def _mutate_text(data: st.DataObject, text: str) -> str:
    """Duplicate a line (a duplicate key, most often) or insert characters somewhere."""
    lines = text.splitlines(keepends=True)
    if lines and data.draw(st.booleans(), label="duplicate a line"):
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        return "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    at = data.draw(st.integers(0, len(text)), label="at")
    inserted = data.draw(st.one_of(yaml_text, st.text(max_size=5)), label="inserted")
    return text[:at] + inserted + text[at:]


@FUZZ
@given(st.data())
def test_mutated_manifests_validate_without_raising(data: st.DataObject) -> None:
    texts = dict(VALID)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        name = data.draw(st.sampled_from(sorted(texts)), label="file")
        try:
            docs = list(yaml.safe_load_all(texts[name]))
        except yaml.YAMLError:
            docs = []  # an earlier mutation broke the text: go on with the text
        if docs and data.draw(st.booleans(), label="in the data"):
            i = data.draw(st.integers(0, len(docs) - 1), label="document")
            docs[i] = _mutate_data(data, docs[i])
            texts[name] = yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)
        else:
            texts[name] = _mutate_text(data, texts[name])
    validate(texts)

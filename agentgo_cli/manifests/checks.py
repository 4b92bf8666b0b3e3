"""Cross-reference checks across a manifest set.

Each check reads valid manifests (the models) and reports at the position of the raw YAML
node (the document marks): unknown or duplicate names, step ids, expressions and the step
ids they read, intents and their versions, embedded JSON Schemas, feature flags, and a
team's roles against its protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentgo_cli.errors import ManifestError
from agentgo_cli.expr import (
    STEP_FIELDS,
    ExpressionSyntaxError,
    analyze,
    environment,
    expression_strings,
    find_expressions,
    shown,
)
from agentgo_cli.manifests._schema_check import quick_instance_valid, quick_valid
from agentgo_cli.manifests._set import Entry, ManifestSet
from agentgo_cli.manifests._team_check import team_errors
from agentgo_cli.manifests._text import did_you_mean
from agentgo_cli.manifests.loader import Document, PathKey
from agentgo_cli.manifests.models import (
    AgentManifest,
    CapabilityManifest,
    TeamManifest,
    ToolManifest,
    WorkflowManifest,
)
from agentgo_cli.manifests.models.team import FEATURE_PROTOCOLS
from agentgo_cli.manifests.models.tool import BuiltinRuntime
from agentgo_cli.manifests.models.workflow import KIND_STEP_FIELDS, STEP_KINDS
from agentgo_cli.semver import InvalidRange, best_match, parse_version

__all__ = ["BUILTIN_TOOLS", "cross_check"]

BUILTIN_TOOLS = (
    "discover_agents",
    "route_intent",
    "call_agent",
    "http_get",
    "blackboard_get",
    "blackboard_put",
    "blackboard_list",
    "blackboard_read",
    "blackboard_write",
    "todo_add",
    "todo_claim",
    "todo_complete",
    "todo_list",
    "handoff",
)

_JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
_CONTAINER_KEYS = {"steps", "parallel", "loop"}
_WORKFLOW_NAMES = {"inputs", "steps", "job"}
_KIND_FIELDS = {name: kind for kind, fields in KIND_STEP_FIELDS.items() for name in fields}
"""Fields of steps.<id> that only one step kind has, and that kind."""
_ALL_FIELDS = (*STEP_FIELDS, *_KIND_FIELDS)
_EXPECTED_FIELDS = (
    ", ".join(STEP_FIELDS)
    + ", "
    + " or ".join(f"{name} ({kind})" for name, kind in _KIND_FIELDS.items())
)


def cross_check(mset: ManifestSet) -> list[ManifestError]:
    """Run every cross-reference check; return the errors found."""
    checker = _Checker(mset)
    checker.run()
    return checker.errors


@dataclass
class _Scope:
    """What an expression may read at one place in a workflow."""

    names: set[str]
    steps: dict[str, int]
    """Step ids visible here, with their definition order."""
    later: set[str] = field(default_factory=set)
    """Ids that exist but are not yet finished here (for a precise message)."""


class _Checker:
    def __init__(self, mset: ManifestSet) -> None:
        self.mset = mset
        self.errors: list[ManifestError] = []
        self.agents = mset.of_kind("Agent")
        self.tools = mset.of_kind("Tool")
        self.teams = mset.of_kind("Team")
        self.caps = mset.of_kind("Capability")
        self.workflows = mset.of_kind("Workflow")
        self.features = set(mset.config.features) if mset.config else set()
        self.intents: dict[str, dict[str, tuple[Entry, PathKey]]] = {}
        self.step_kinds: dict[str, str] = {}
        """The kind of each step id of the workflow being checked."""

    def err(
        self, doc: Document, path: PathKey, message: str, code: str, *, key: bool = False
    ) -> None:
        self.errors.append(doc.error(path, message, code, key=key))

    def run(self) -> None:
        self._duplicate_names()
        self._collect_intents()
        for entry in self.mset.entries:
            m = entry.manifest
            if isinstance(m, AgentManifest):
                self._agent(entry, m)
            elif isinstance(m, ToolManifest):
                self._tool(entry, m)
            elif isinstance(m, CapabilityManifest):
                self._capability(entry, m)
            elif isinstance(m, TeamManifest):
                self._team(entry, m)
            elif isinstance(m, WorkflowManifest):
                self._workflow(entry, m)

    # -- names ---------------------------------------------------------------------------

    def _duplicate_names(self) -> None:
        first: dict[tuple[str, str], Entry] = {}
        for entry in self.mset.entries:
            key = (entry.manifest.kind, entry.manifest.name)
            if key in first:
                prev = first[key]
                line, col = prev.doc.at(("metadata", "name"))
                self.err(
                    entry.doc,
                    ("metadata", "name"),
                    f"duplicate {key[0]} '{key[1]}' (first defined at "
                    f"{prev.doc.file}:{line}:{col})",
                    "duplicate-name",
                )
            else:
                first[key] = entry

    def _ref(
        self,
        doc: Document,
        path: PathKey,
        kind: str,
        name: str,
        known: dict[str, Any],
        extra: tuple[str, ...] = (),
    ) -> None:
        if name in known or name in extra:
            return
        if name in self.mset.broken.get(kind.capitalize(), ()):
            return  # declared, but invalid: its own errors are reported already
        self.err(
            doc,
            path,
            f"unknown {kind} '{name}'{did_you_mean(name, [*known, *extra])}",
            "unknown-ref",
        )

    # -- intents ---------------------------------------------------------------------------

    def _collect_intents(self) -> None:
        seen: dict[str, tuple[Entry, PathKey]] = {}
        for entry in self.caps.values():
            cap = entry.manifest
            assert isinstance(cap, CapabilityManifest)
            for i, intent in enumerate(cap.spec.intents):
                path = ("spec", "intents", i, "name")
                versions = self.intents.setdefault(intent.name, {})
                owner = seen.get(intent.name)
                if owner is not None and owner[0].manifest.name != cap.name:
                    line, col = owner[0].doc.at(owner[1])
                    self.err(
                        entry.doc,
                        path,
                        f"intent '{intent.name}' is already declared by capability "
                        f"'{owner[0].manifest.name}' ({owner[0].doc.file}:{line}:{col})",
                        "duplicate-intent",
                    )
                    continue
                if intent.version in versions:
                    self.err(
                        entry.doc,
                        path,
                        f"intent '{intent.name}' version {intent.version} is declared twice",
                        "duplicate-intent",
                    )
                    continue
                seen.setdefault(intent.name, (entry, path))
                versions[str(intent.version)] = (entry, path)
        carded = {
            e.manifest.spec.target_name
            for e in self.caps.values()
            if isinstance(e.manifest, CapabilityManifest) and e.manifest.spec.target_kind == "Agent"
        }
        for name, entry in self.agents.items():
            if name not in carded:
                self.intents.setdefault(f"{name}.run", {}).setdefault(
                    "1.0.0", (entry, ("metadata", "name"))
                )
        carded_teams = {
            e.manifest.spec.target_name
            for e in self.caps.values()
            if isinstance(e.manifest, CapabilityManifest) and e.manifest.spec.target_kind == "Team"
        }
        for name, entry in self.teams.items():  # as a2a/catalog.py: unless the name is taken
            if name not in carded_teams and f"{name}.run" not in self.intents:
                self.intents[f"{name}.run"] = {"1.0.0": (entry, ("metadata", "name"))}

    def _call(self, doc: Document, path: PathKey, ref: str) -> dict[str, Any] | None:
        """Check an intent reference; return the input schema of the version it resolves to."""
        name, _, wanted = ref.partition("@")
        versions = self.intents.get(name)
        if versions is None and name in self.mset.broken.get("Intent", ()):
            return None
        if versions is None:
            self.err(
                doc,
                path,
                f"unknown intent '{name}'{did_you_mean(name, self.intents)}",
                "unknown-ref",
            )
            return None
        try:
            found = best_match(versions, wanted or "*") or (
                None if wanted else max(versions, key=parse_version)
            )
        except InvalidRange as exc:
            self.err(doc, path, str(exc), "version-range")
            return None
        if found is None:
            have = ", ".join(sorted(versions))
            self.err(
                doc,
                path,
                f"no version of intent '{name}' matches '{wanted}' (have {have})",
                "version-range",
            )
            return None
        entry, where = versions[found]
        if isinstance(entry.manifest, CapabilityManifest) and isinstance(where[2], int):
            return entry.manifest.spec.intents[where[2]].input
        return None

    def _arguments(
        self, doc: Document, path: PathKey, given: Any, schema: dict[str, Any] | None, what: str
    ) -> None:
        """Report required arguments missing from a literal mapping (expressions are skipped)."""
        if not isinstance(schema, dict) or not isinstance(schema.get("required"), list):
            return
        if given is None:
            given = {}
        if not isinstance(given, dict):
            return
        for name in schema["required"]:
            if isinstance(name, str) and name not in given:
                noun, _, owner = what.partition(" of ")
                message = f"missing required {noun} '{name}' for {owner}"
                self.err(doc, path, message, "missing-argument")

    # -- kinds -----------------------------------------------------------------------------

    def _agent(self, entry: Entry, m: AgentManifest) -> None:
        doc = entry.doc
        for i, tool in enumerate(m.spec.tools):
            self._ref(doc, ("spec", "tools", i), "tool", tool, self.tools, BUILTIN_TOOLS)
        self._schema(doc, ("spec", "output_schema"), m.spec.output_schema)
        self._expressions(doc, ("spec", "script"), {"input"})
        self._expressions(doc, ("spec", "instructions"), {"input"})

    def _tool(self, entry: Entry, m: ToolManifest) -> None:
        doc = entry.doc
        if m.name in BUILTIN_TOOLS and not isinstance(m.spec.runtime, BuiltinRuntime):
            self.err(
                doc,
                ("metadata", "name"),
                f"'{m.name}' is a built-in tool; choose another name",
                "duplicate-name",
            )
        if isinstance(m.spec.runtime, BuiltinRuntime):
            name = m.spec.runtime.name or m.spec.runtime.builtin_for(m.name)
            path: PathKey = (
                ("spec", "runtime", "name") if m.spec.runtime.name else ("metadata", "name")
            )
            self._ref(doc, path, "built-in tool", name, {}, BUILTIN_TOOLS)
        self._schema(doc, ("spec", "input"), m.spec.input)
        self._schema(doc, ("spec", "output"), m.spec.output)
        self._expressions(doc, ("spec", "runtime"), {"input", "job"})

    def _capability(self, entry: Entry, m: CapabilityManifest) -> None:
        doc = entry.doc
        if m.spec.target_kind != "A2A":  # a remote agent is checked when it is called
            known = self.agents if m.spec.target_kind == "Agent" else self.teams
            kind = m.spec.target_kind.lower()
            self._ref(doc, ("spec", "target"), kind, m.spec.target_name, known)
        for i, intent in enumerate(m.spec.intents):
            base: PathKey = ("spec", "intents", i)
            self._schema(doc, (*base, "input"), intent.input)
            self._schema(doc, (*base, "output"), intent.output)
            self._expressions(doc, (*base, "prompt"), {"input"})

    def _team(self, entry: Entry, m: TeamManifest) -> None:
        doc = entry.doc
        if m.spec.protocol in FEATURE_PROTOCOLS and m.spec.protocol not in self.features:
            self.err(
                doc,
                ("spec", "protocol"),
                f"team protocol '{m.spec.protocol}' needs the '{m.spec.protocol}' feature: add "
                f"it to 'features:' in agentgo.yaml",
                "feature-flag",
            )
        for i, role in enumerate(m.spec.roles):
            self._ref(doc, ("spec", "roles", i, "agent"), "agent", role.agent, self.agents)
            for j, fb in enumerate(role.fallback_agents):
                self._ref(doc, ("spec", "roles", i, "fallback_agents", j), "agent", fb, self.agents)
        for path, message, code in team_errors(m):
            self.err(doc, path, message, code)

    # -- workflows -------------------------------------------------------------------------

    def _workflow(self, entry: Entry, m: WorkflowManifest) -> None:
        doc = entry.doc
        self.inputs = set(m.spec.inputs)
        for name, schema in m.spec.inputs.items():
            path: PathKey = ("spec", "inputs", name)
            if self._schema(doc, path, schema) and "default" in schema:
                self._default(doc, (*path, "default"), schema)
        ids: dict[str, PathKey] = {}
        self._collect_ids(doc, ("spec", "steps"), ids)
        self.step_kinds = {sid: _kind_of(_get(doc.data, path)) for sid, path in ids.items()}
        scope = _Scope(names=set(_WORKFLOW_NAMES), steps={}, later=set(ids))
        self._steps(doc, ("spec", "steps"), scope)
        final = _Scope(names=set(_WORKFLOW_NAMES), steps={k: 0 for k in ids})
        self._expressions(doc, ("spec", "outputs"), final.names, final)

    def _collect_ids(self, doc: Document, path: PathKey, ids: dict[str, PathKey]) -> None:
        steps = _get(doc.data, path)
        if not isinstance(steps, list):
            return
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            spath = (*path, i)
            sid = step.get("id")
            if isinstance(sid, str):
                if sid in ids:
                    line, col = doc.at((*ids[sid], "id"))
                    self.err(
                        doc,
                        (*spath, "id"),
                        f"duplicate step id '{sid}' (first used at line {line})",
                        "duplicate-step",
                    )
                else:
                    ids[sid] = spath
            for inner in _inner_lists(step, spath):
                self._collect_ids(doc, inner, ids)

    def _steps(
        self, doc: Document, path: PathKey, scope: _Scope, *, branches: bool = False
    ) -> set[str]:
        """Check a list of steps in order; return every id defined inside it."""
        steps = _get(doc.data, path)
        defined: set[str] = set()
        if not isinstance(steps, list):
            return defined
        start = dict(scope.steps)
        for i, step in enumerate(steps):
            spath = (*path, i)
            own = _Scope(scope.names, start if branches else scope.steps, scope.later)
            inner_ids = self._step(doc, spath, step, own)
            sid = step.get("id")
            new = {sid, *inner_ids} if isinstance(sid, str) else set(inner_ids)
            defined |= new
            if not branches:
                scope.steps = {**scope.steps, **{k: len(scope.steps) for k in new}}
        if branches:
            scope.steps = {**scope.steps, **{k: len(scope.steps) for k in defined}}
        return defined

    def _step(self, doc: Document, path: PathKey, step: dict[str, Any], scope: _Scope) -> set[str]:
        for key in ("agent", "team", "tool", "call"):
            if key not in step:
                continue
            value = step[key]
            if key == "agent":
                self._ref(doc, (*path, key), "agent", value, self.agents)
            elif key == "team":
                self._ref(doc, (*path, key), "team", value, self.teams)
            elif key == "tool":
                self._ref(doc, (*path, key), "tool", value, self.tools, BUILTIN_TOOLS)
                if value in self.tools:
                    tool = self.tools[value].manifest
                    assert isinstance(tool, ToolManifest)
                    where = (*path, "with") if "with" in step else (*path, key)
                    self._arguments(
                        doc, where, step.get("with"), tool.spec.input, f"argument of tool '{value}'"
                    )
            else:
                schema = self._call(doc, (*path, key), value)
                where = (*path, "input") if "input" in step else (*path, key)
                self._arguments(doc, where, step.get("input"), schema, f"input of intent '{value}'")
        for key, value in step.items():
            if key in _CONTAINER_KEYS:
                continue
            self._expressions(doc, (*path, key), scope.names, scope, value=value)
        inner: set[str] = set()
        if "foreach" in step:
            var = step.get("as", "item")
            body = _Scope(scope.names | {var, "index"}, dict(scope.steps), scope.later)
            inner = self._steps(doc, (*path, "steps"), body)
        elif "loop" in step and isinstance(step["loop"], dict):
            body = _Scope(scope.names | {"loop"}, dict(scope.steps), scope.later)
            inner = self._steps(doc, (*path, "loop", "steps"), body)
            for key, value in step["loop"].items():
                if key != "steps":
                    self._expressions(doc, (*path, "loop", key), body.names, body, value=value)
        elif "parallel" in step:
            body = _Scope(scope.names, dict(scope.steps), scope.later)
            inner = self._steps(doc, (*path, "parallel"), body, branches=True)
        return inner

    # -- expressions -----------------------------------------------------------------------

    def _expressions(
        self,
        doc: Document,
        path: PathKey,
        names: set[str],
        scope: _Scope | None = None,
        *,
        value: Any = None,
    ) -> None:
        if value is None:
            value = _get(doc.data, path)
        for spath, text in expression_strings(value, path):
            for source in find_expressions(text):
                self._expression(doc, spath, source, names, scope)

    def _expression(
        self, doc: Document, path: PathKey, source: str, names: set[str], scope: _Scope | None
    ) -> None:
        try:
            info = analyze(source)
        except ExpressionSyntaxError as exc:
            self.err(doc, path, f"invalid expression '{shown(source)}': {exc}", "expression")
            return
        allowed = names | set(environment().globals)
        for name in sorted(info.names - allowed):
            self.err(
                doc,
                path,
                f"unknown name '{name}' in expression{did_you_mean(name, names)}",
                "expression",
            )
        if scope is None:
            return
        for step, fld in info.steps:
            if step not in scope.steps:
                if step in scope.later:
                    self.err(
                        doc,
                        path,
                        f"step '{step}' has not run yet here: an expression can read only "
                        "steps that finish before it",
                        "step-order",
                    )
                else:
                    known = [*scope.steps, *scope.later]
                    self.err(
                        doc,
                        path,
                        f"unknown step '{step}'{did_you_mean(step, known)}",
                        "unknown-ref",
                    )
            elif fld is not None and fld not in STEP_FIELDS:
                self._step_field(doc, path, step, fld)
        if "inputs" in names:
            for name in sorted(info.inputs - self.inputs):
                self.err(
                    doc,
                    path,
                    f"unknown input '{name}'{did_you_mean(name, self.inputs)}",
                    "unknown-ref",
                )

    def _step_field(self, doc: Document, path: PathKey, step: str, fld: str) -> None:
        """Report ``steps.<step>.<fld>`` when no step has that field, or not this step's kind."""
        kind = _KIND_FIELDS.get(fld)
        if kind is None:
            self.err(
                doc,
                path,
                f"unknown step field '{fld}' in steps.{step}.{fld}"
                f"{did_you_mean(fld, _ALL_FIELDS)}; expected {_EXPECTED_FIELDS}",
                "expression",
            )
        elif self.step_kinds.get(step, kind) != kind:
            self.err(
                doc,
                path,
                f"steps.{step}.{fld} is a field of {kind} steps only; "
                f"'{step}' is {_a(self.step_kinds[step])} step",
                "expression",
            )

    # -- JSON Schemas ----------------------------------------------------------------------

    def _schema(self, doc: Document, path: PathKey, schema: Any) -> bool:
        if schema is None or quick_valid(schema):
            return True
        from jsonschema.exceptions import best_match

        error = best_match(_meta_validator().iter_errors(schema))
        if error is None:
            return True
        where = (*path, *error.absolute_path)
        message = error.message
        if where and where[-1] == "type" and isinstance(error.instance, str):
            hint = did_you_mean(error.instance, _JSON_TYPES)
            message = (
                f"unknown type '{error.instance}'{hint}; expected one of {', '.join(_JSON_TYPES)}"
            )
        self.err(doc, where, f"invalid JSON Schema: {message}", "json-schema")
        return False

    def _default(self, doc: Document, path: PathKey, schema: dict[str, Any]) -> None:
        if quick_instance_valid(schema, schema["default"]):
            return
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        error = best_match(Draft202012Validator(schema).iter_errors(schema["default"]))
        if error is not None:
            self.err(
                doc,
                (*path, *error.absolute_path),
                f"default does not match its schema: {error.message}",
                "json-schema",
            )


_META: Any = None


def _meta_validator() -> Any:
    global _META
    if _META is None:
        from jsonschema import Draft202012Validator

        _META = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return _META


def _get(data: Any, path: PathKey) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _kind_of(step: Any) -> str:
    """A step's kind (its first kind key), or '' when it has none."""
    if isinstance(step, dict):
        for kind in STEP_KINDS:
            if kind in step:
                return kind
    return ""


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in ("a", "e", "i", "o", "u") else f"a {word}"


def _inner_lists(step: dict[str, Any], path: PathKey) -> Iterator[PathKey]:
    if "foreach" in step:
        yield (*path, "steps")
    if isinstance(step.get("loop"), dict):
        yield (*path, "loop", "steps")
    if "parallel" in step:
        yield (*path, "parallel")

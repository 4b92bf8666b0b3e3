"""The plan of a workflow: its steps as a graph, and what each step's expressions read.

A pure function of a valid manifest set's workflow (and its teams, which a team step shows
with its protocol and roles): nothing runs, and no model, tool or store is touched. Step
kinds are read generically: a step's kind is its field named after one of ``STEP_KINDS``,
and inner steps are any field holding a list of steps (also inside a nested block such as
``loop:``), so a new kind shows up with its id, kind, settings and expressions without a
change here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agentgo_cli.expr import (
    ExpressionSyntaxError,
    analyze,
    environment,
    expression_strings,
    find_expressions,
)
from agentgo_cli.manifests._set import Entry
from agentgo_cli.manifests.loader import Document, PathKey
from agentgo_cli.manifests.models.team import TeamManifest
from agentgo_cli.manifests.models.workflow import STEP_KINDS, StepBase, WorkflowManifest

__all__ = ["TARGET_KINDS", "Plan", "PlanRole", "PlanStep", "PlanTeam", "Read", "plan_workflow"]

TARGET_KINDS = ("agent", "tool", "call", "team")
"""Kinds whose field names what the step runs: an agent, a tool, an intent or a team."""

_COMMON = ("id", "if_", "retry", "timeout", "continue_on_error")
"""StepBase's fields, shown apart from a kind's own settings."""
_READ_NAMES = frozenset({"steps", "inputs"})


@dataclass(frozen=True)
class Read:
    """One ``${{ }}`` expression, where it is written and what it reads."""

    field: str
    """Where in the step (or the outputs) it is written: ``prompt``, ``with.text``, ``if``,
    ``loop.until``; for the outputs, the output's name."""
    expression: str
    """Its source, without ``${{ }}``."""
    steps: list[str]
    """Step ids it reads (``steps.<id>``), in order of appearance."""
    inputs: list[str]
    """Workflow inputs it reads (``inputs.<name>``)."""
    names: list[str]
    """Other names it reads: ``item``, ``index``, ``loop``, ``job``, ``steps`` or ``inputs``
    read as a whole."""


@dataclass(frozen=True)
class PlanRole:
    """One role of a team, as written."""

    name: str
    agent: str
    replicas: int
    fallback_agents: list[str]
    on_failure: str


@dataclass(frozen=True)
class PlanTeam:
    """The team a team step runs: its protocol, roles and limits."""

    protocol: str
    roles: list[PlanRole]
    limits: dict[str, Any] | None = None
    """The limits written (``cost_usd``, ``wallclock``, ``max_rounds``); None: none."""
    blackboard: str | None = None
    """The blackboard's scope, when the team sets one."""


@dataclass(frozen=True)
class PlanStep:
    """One step of the plan, with its inner steps (foreach, loop, parallel)."""

    id: str
    kind: str
    line: int
    """Line of the step in its file."""
    target: str | None = None
    """The agent, tool, intent ('name@range') or team the step runs."""
    condition: Any = None
    """The step's ``if``, as written."""
    retry: dict[str, Any] | None = None
    timeout: str | None = None
    continue_on_error: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    """The kind's other plain settings as written (``as``, ``max_concurrency``,
    ``loop.max_iterations``, a literal ``prompt``), by field path."""
    reads: list[Read] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    """Every step id its expressions read, in order: where its data comes from."""
    steps: list[PlanStep] = field(default_factory=list)
    """Inner steps: a foreach or loop body, or parallel branches."""
    team: PlanTeam | None = None
    """A team step's team (given the set's teams)."""


@dataclass(frozen=True)
class Plan:
    """A workflow's step graph and the expressions of its outputs."""

    workflow: str
    file: str
    line: int
    steps: list[PlanStep]
    outputs: list[Read]


def plan_workflow(entry: Entry, teams: Mapping[str, Entry] | None = None) -> Plan:
    """The plan of the workflow of ``entry`` (a valid manifest of a validated set);
    ``teams``: the set's teams by name (``of_kind("Team")``), shown with the steps that
    run them."""
    wf = entry.manifest
    if not isinstance(wf, WorkflowManifest):
        raise TypeError(f"not a workflow: {wf.kind} '{wf.name}'")
    doc = entry.doc
    path: PathKey = ("spec", "steps")
    steps = [_step(doc, s, (*path, i)) for i, s in enumerate(wf.spec.steps)]
    if teams:
        steps = _with_teams(steps, teams)
    outputs = [r for key, text in _strings(wf.spec.outputs, "") for r in _reads(key, text)]
    return Plan(wf.name, doc.file, doc.at(("kind",))[0], steps, outputs)


def _with_teams(steps: list[PlanStep], teams: Mapping[str, Entry]) -> list[PlanStep]:
    """The steps with each team step's team filled in."""
    out: list[PlanStep] = []
    for step in steps:
        found = teams.get(step.target) if step.kind == "team" and step.target else None
        team = found.manifest if found is not None else None
        out.append(
            dataclasses.replace(
                step,
                steps=_with_teams(step.steps, teams),
                team=_team(team) if isinstance(team, TeamManifest) else None,
            )
        )
    return out


def _team(team: TeamManifest) -> PlanTeam:
    spec = team.spec
    roles = [
        PlanRole(r.name, r.agent, r.replicas, list(r.fallback_agents), r.on_failure)
        for r in spec.roles
    ]
    limits = spec.limits.model_dump(mode="json", exclude_none=True) if spec.limits else None
    scope = spec.blackboard.scope if spec.blackboard else None
    return PlanTeam(spec.protocol, roles, limits or None, scope)


def _step(doc: Document, step: StepBase, path: PathKey) -> PlanStep:
    kind = _kind_of(step)
    target: str | None = None
    settings: dict[str, Any] = {}
    reads: list[Read] = []
    inner: list[PlanStep] = []
    for name, key, value in _fields(step):
        if name in _COMMON:
            continue
        if key == kind and kind in TARGET_KINDS and isinstance(value, str):
            target = value
            continue
        _take(doc, step, path, key, (key,), value, settings, reads, inner)
    condition = step.if_
    if isinstance(condition, str):
        reads = [*_reads("if", condition), *reads]
    retry = step.retry.model_dump(mode="json") if step.retry is not None else None
    needs = list(dict.fromkeys(s for r in reads for s in r.steps))
    return PlanStep(
        id=step.id,
        kind=kind,
        line=doc.at(path)[0],
        target=target,
        condition=condition,
        retry=retry,
        timeout=None if step.timeout is None else str(step.timeout),
        continue_on_error=step.continue_on_error,
        settings=settings,
        reads=reads,
        needs=needs,
        steps=inner,
    )


def _take(
    doc: Document,
    step: StepBase,
    path: PathKey,
    key: str,
    parts: tuple[str, ...],
    value: Any,
    settings: dict[str, Any],
    reads: list[Read],
    inner: list[PlanStep],
) -> None:
    """Sort one field of a step into inner steps, expressions read or plain settings."""
    if isinstance(value, list) and value and all(isinstance(v, StepBase) for v in value):
        inner += [_step(doc, s, (*path, *parts, i)) for i, s in enumerate(value)]
    elif isinstance(value, BaseModel):  # a nested block (loop:): its own fields, by path
        for _attr, sub, inner_value in _fields(value):
            _take(
                doc, step, path, f"{key}.{sub}", (*parts, sub), inner_value, settings, reads, inner
            )
    else:
        found = [r for where, text in _strings(value, key) for r in _reads(where, text)]
        reads += found
        if not found and _plain(value) and _given(step, parts):
            settings[key] = value


def _kind_of(step: StepBase) -> str:
    """The step's kind: its field named after one of the step kinds."""
    names = {info.alias or name for name, info in type(step).model_fields.items()}
    return next((k for k in STEP_KINDS if k in names), type(step).__name__.lower())


def _fields(model: BaseModel) -> Iterator[tuple[str, str, Any]]:
    """(attribute, name as written, value) of each field of a model."""
    for name, info in type(model).model_fields.items():
        yield name, info.alias or name, getattr(model, name)


def _given(step: StepBase, parts: tuple[str, ...]) -> bool:
    """Whether a setting was written in the manifest (a default is not shown)."""
    model: Any = step
    for part in parts:
        names = {info.alias or n: n for n, info in type(model).model_fields.items()}
        attr = names.get(part)
        if attr is None or attr not in model.model_fields_set:
            return False
        model = getattr(model, attr)
        if not isinstance(model, BaseModel):
            return True
    return True


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) of each string holding an expression inside a value: ``with.text``,
    ``with.items[0]``."""
    for parts, text in expression_strings(value):
        where, node = path, value
        for part in parts:
            if isinstance(node, list | tuple):
                where = f"{where}[{part}]"
            else:
                where = f"{where}.{part}" if where else str(part)
            node = node[part]
        yield where, text


def _reads(where: str, text: str) -> Iterator[Read]:
    """The expressions of one string, each with what it reads."""
    known = set(environment().globals)
    for source in find_expressions(text):
        try:
            info = analyze(source)
        except ExpressionSyntaxError:  # not in a validated set; shown, reading nothing
            yield Read(where, source.strip(), [], [], [])
            continue
        steps = list(dict.fromkeys(s for s, _ in info.steps))
        read_whole = (
            {n for n in _READ_NAMES if n in info.names}
            - ({"steps"} if steps else set())
            - ({"inputs"} if info.inputs else set())
        )
        names = sorted((info.names - _READ_NAMES - known) | read_whole)
        yield Read(where, source.strip(), steps, sorted(info.inputs), names)

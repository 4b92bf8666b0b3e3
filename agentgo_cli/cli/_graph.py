"""A plan as a graph: Mermaid ``flowchart TD`` and Graphviz ``digraph`` text.

Both show one node per step (a container's body in a subgraph), solid edges for the order
steps run in, and dashed edges for data: from each step (or the inputs) an expression
reads to the step that reads it, labelled with the field it is written in. Node ids are
``n1``, ``n2``, … in the plan's order, ``inputs`` and ``outputs``; labels are escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.backend.views import PlanReadView, PlanStepView, PlanView

__all__ = ["to_dot", "to_mermaid"]


def step_title(step: PlanStepView) -> str:
    """``id`` and what the step is: ``draft: agent writer``, ``research: foreach``; a team
    step with its protocol and roles: ``desk: team newsroom (planner-workers: planner
    editor-in-chief, writer desk-writer ×3 or writer-lite, checker fact-bot or skip)``."""
    title = f"{step.id}: {step.kind}" + (f" {step.target}" if step.target else "")
    team = step.team
    if team is None:
        return title
    roles = []
    for role in team.roles:
        text = f"{role.name} {role.agent}" + (f" ×{role.replicas}" if role.replicas > 1 else "")
        if role.on_failure == "replace":
            text += "".join(f" or {agent}" for agent in role.fallback_agents)
        elif role.on_failure == "skip":
            text += " or skip"
        roles.append(text)
    return f"{title} ({team.protocol}: {', '.join(roles)})"


@dataclass
class _Graph:
    """The plan as nodes, clusters and edges, before it is written in either language."""

    nodes: dict[str, str] = field(default_factory=dict)
    """Node id → label, in order."""
    clusters: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(cluster id, label, node ids directly inside), outermost first."""
    order: list[tuple[str, str]] = field(default_factory=list)
    data: list[tuple[str, str, str]] = field(default_factory=list)
    """(from, to, label): what an expression reads."""
    ids: dict[str, str] = field(default_factory=dict)
    """Step id → node id."""


def _graph(plan: PlanView) -> _Graph:
    graph = _Graph()
    if plan.inputs:
        graph.nodes["inputs"] = "inputs: " + ", ".join(plan.inputs)
    _number(graph, plan.steps)
    _order(graph, plan.steps, None, sequential=True)
    for step in _walk(plan.steps):
        _data(graph, step.reads, graph.ids[step.id])
    if plan.outputs:
        graph.nodes["outputs"] = "outputs: " + ", ".join(
            dict.fromkeys(r.field.split(".")[0] for r in plan.outputs)
        )
        _data(graph, plan.outputs, "outputs")
    return graph


def _walk(steps: list[PlanStepView]) -> list[PlanStepView]:
    out: list[PlanStepView] = []
    for step in steps:
        out.append(step)
        out += _walk(step.steps)
    return out


def _number(graph: _Graph, steps: list[PlanStepView]) -> None:
    for step in _walk(steps):
        node = graph.ids[step.id] = f"n{len(graph.ids) + 1}"
        graph.nodes[node] = step_title(step)


def _order(
    graph: _Graph, steps: list[PlanStepView], parent: str | None, *, sequential: bool
) -> None:
    """Edges in the order steps run: one after another, or (parallel) all from the parent."""
    before = parent
    for step in steps:
        node = graph.ids[step.id]
        if before is not None:
            graph.order.append((before, node))
        if sequential:
            before = node
        if step.steps:
            graph.clusters.append(
                (f"{node}_body", f"{step.id} ({step.kind})", [graph.ids[s.id] for s in step.steps])
            )
            _order(graph, step.steps, node, sequential=step.kind != "parallel")


def _data(graph: _Graph, reads: list[PlanReadView], to: str) -> None:
    seen: set[tuple[str, str]] = set()
    for read in reads:
        sources = [graph.ids[s] for s in read.steps if s in graph.ids]
        if read.inputs and "inputs" in graph.nodes:
            sources.append("inputs")
        for source in sources:
            if (source, read.field) not in seen:
                seen.add((source, read.field))
                graph.data.append((source, to, read.field))


# -- Mermaid ---------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what would end or mark it up."""
    for raw, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, code)
    return " ".join(text.split())


def to_mermaid(plan: PlanView) -> str:
    """The plan as a Mermaid flowchart (``flowchart TD``)."""
    graph = _graph(plan)
    inside = {n for _, _, members in graph.clusters for n in members}
    lines = ["flowchart TD"]
    for node, label in graph.nodes.items():
        if node not in inside:
            lines.append(f"  {_mermaid_node(node, label)}")
    for cluster, label, members in graph.clusters:
        lines.append(f'  subgraph {cluster} ["{_mermaid_text(label)}"]')
        lines += [f"    {_mermaid_node(n, graph.nodes[n])}" for n in members]
        lines.append("  end")
    lines += [f"  {a} --> {b}" for a, b in graph.order]
    lines += [f'  {a} -.->|"{_mermaid_text(label)}"| {b}' for a, b, label in graph.data]
    return "\n".join(lines)


def _mermaid_node(node: str, label: str) -> str:
    text = _mermaid_text(label)
    if node in ("inputs", "outputs"):
        return f'{node}[/"{text}"/]'
    return f'{node}["{text}"]'


# -- Graphviz --------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    """A double-quoted DOT string."""
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_dot(plan: PlanView) -> str:
    """The plan as a Graphviz digraph."""
    graph = _graph(plan)
    lines = [f"digraph {_dot_text(plan.workflow)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for node, label in graph.nodes.items():
        shape = ", shape=parallelogram" if node in ("inputs", "outputs") else ""
        lines.append(f"  {node} [label={_dot_text(label)}{shape}];")
    for cluster, label, members in graph.clusters:
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(f"    label={_dot_text(label)};")
        lines.append("    " + " ".join(f"{n};" for n in members))
        lines.append("  }")
    lines += [f"  {a} -> {b};" for a, b in graph.order]
    lines += [
        f"  {a} -> {b} [style=dashed, label={_dot_text(label)}];" for a, b, label in graph.data
    ]
    lines.append("}")
    return "\n".join(lines)

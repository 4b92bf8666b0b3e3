"""A job's trace records as a tree of ``TraceNode`` views, and the paths that address them.

job → step instances (inner steps under their foreach, loop or parallel step, by key) →
attempts (in the order they began; one cut short by a crash is ``interrupted`` and the
resume's attempt follows it) → model turns, tool calls and calls between agents, in the
order they started. A call's callee turns and tool calls are below the call: they carry the
call's span, and a call made by a callee names its caller's span as its parent.

Paths: a step's key, then one ``/<kind>:<n>`` per level below it (``attempt``, ``turn``,
``tool``, ``call``; n counts from 1 among the parent's children of that kind). Below a step,
a turn, tool or call segment looks in its last attempt: ``draft/turn:1`` is
``draft/attempt:1/turn:1`` when ``draft`` ran once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from agentgo_cli.backend.views import TraceNode
from agentgo_cli.engine.state import inside
from agentgo_cli.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from agentgo_cli.store.base import JobRecord, StepRecord, TraceRecord

__all__ = ["SEGMENT_KINDS", "build_tree", "find_node", "parse_path"]

SEGMENT_KINDS = ("attempt", "turn", "tool", "call")
"""The kinds of node a path segment below a step names."""

_SEGMENT_RE = re.compile(r"^(attempt|turn|tool|call):([1-9][0-9]{0,8})$")
_KEY_RE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(?:(?:\[[0-9]+\]|#[0-9]+)?\.[A-Za-z_][A-Za-z0-9_]*)*$"
)
_PATH_FORM = "a step key, then /attempt:N, /turn:N, /tool:N or /call:N (e.g. draft/turn:1)"


def parse_path(path: str) -> tuple[str, list[tuple[str, int]]]:
    """A node's path as (step key, [(kind, n), …]); UsageError when it is not one."""
    key, *segments = path.strip().split("/")
    if not _KEY_RE.match(key):
        raise UsageError(f"--step: '{_shown(path)}' is not a node path: {_PATH_FORM}")
    parsed: list[tuple[str, int]] = []
    for segment in segments:
        m = _SEGMENT_RE.match(segment)
        if m is None:
            raise UsageError(
                f"--step: '{_shown(segment)}' in '{_shown(path)}' is not a segment: "
                "attempt:N, turn:N, tool:N or call:N"
            )
        parsed.append((m.group(1), int(m.group(2))))
    return key, parsed


def _shown(text: str, limit: int = 80) -> str:
    """Text quoted in a message: one line, not too long."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_node(root: TraceNode, path: str) -> TraceNode:
    """The node at ``path`` in a job's tree; NotFoundError naming the part that is missing."""
    key, segments = parse_path(path)
    node = _find_step(root, key)
    if node is None:
        raise NotFoundError(f"no step '{key}' in the trace of job {root.detail.get('job_id')}")
    for kind, n in segments:
        scope = node
        if node.kind == "step" and kind != "attempt":
            attempts = [c for c in node.children if c.kind == "attempt"]
            if attempts:
                scope = attempts[-1]
        found = [c for c in scope.children if c.kind == kind]
        if n > len(found):
            have = f"it has {len(found)}" if found else "it has none"
            raise NotFoundError(f"no {kind} {n} under '{scope.path}' ({have})")
        node = found[n - 1]
    return node


def _find_step(node: TraceNode, key: str) -> TraceNode | None:
    for child in node.children:
        if child.kind == "step":
            if child.name == key:
                return child
            if inside(key, child.name):
                return _find_step(child, key)
    return None


def build_tree(job: JobRecord, steps: list[StepRecord], records: list[TraceRecord]) -> TraceNode:
    """The job's tree from its step records and its trace records."""
    root = TraceNode(
        kind="job",
        path="",
        name=job.workflow,
        status=str(job.status),
        started_at=job.created_at,
        duration_s=round(job.updated_at - job.created_at, 6),
        tokens=job.tokens,
        cost_usd=job.cost_usd,
        detail={"job_id": job.id, **({"error": job.error} if job.error else {})},
    )
    step_nodes = _steps(steps)
    attempts: dict[str, _Attempts] = defaultdict(_Attempts)
    calls, orphans = _calls(records)
    for r in records:
        key = r.key or ""
        if r.kind == "retry":
            attempts[key].failed(r)
        elif r.kind == "interrupted":
            attempts[key].interrupted(r)
        elif r.kind in ("turn", "tool", "call"):
            node = calls[r.span] if r.kind == "call" and r.span else _leaf(r)
            if r.kind != "call" and r.span is not None:
                call = calls.get(r.span)
                (call.children if call is not None else orphans[r.span].children).append(node)
            elif r.kind == "call" and r.parent in calls:
                calls[r.parent].children.append(node)
            elif key in step_nodes:
                attempts[key].current().children.append(node)
            else:
                root.children.append(node)
    running = job.status in ("queued", "running")
    for key, step in step_nodes.items():
        step.children.extend(attempts[key].finish(step, running=running))
    for orphan in orphans.values():
        root.children.append(orphan)
    _nest_steps(root, step_nodes)
    _number(root)
    return root


_NOTED = frozenset({"team", "role"})
"""Step kinds whose record's notes are shown in full: a team's summary (protocol, rounds,
bids, who answered, ...) and a role turn's (role, agent, round, handoff, failed agents)."""


def _steps(steps: list[StepRecord]) -> dict[str, TraceNode]:
    """A node per step instance, from its step record (its latest attempt)."""
    nodes: dict[str, TraceNode] = {}
    for s in steps:
        detail: dict[str, Any] = {"step_id": s.step_id, "kind": s.kind, "attempt": s.attempt}
        if s.output is not None:
            detail["output"] = s.output
        if s.error is not None:
            detail["error"] = s.error
        if s.kind in _NOTED and s.extra:
            detail.update((k, v) for k, v in s.extra.items() if k not in detail)
        took = None if s.finished_at is None else round(s.finished_at - s.started_at, 6)
        nodes[s.key] = TraceNode(
            kind="step",
            path=s.key,
            name=s.key,
            status=str(s.status),
            started_at=s.started_at,
            duration_s=took,
            tokens=s.tokens,
            cost_usd=s.cost_usd,
            detail=detail,
        )
    return nodes


class _Attempts:
    """The attempts of one step instance, as its records come in order.

    An attempt is open from its first record on; a ``retry`` row ends it failed, an
    ``interrupted`` row (written at a resume) ends it cut short. The step record is the
    last attempt: it ends the open one, or is one more after the ended ones.
    """

    def __init__(self) -> None:
        self.nodes: list[TraceNode] = []
        self.open = False

    def current(self) -> TraceNode:
        """The attempt running now: the open one, or a new one after those that ended."""
        if not self.open:
            node = TraceNode(kind="attempt", path="", name="attempt", status="running")
            if self.nodes and self.nodes[-1].status == "interrupted":
                node.detail["resumed"] = True
            self.nodes.append(node)
            self.open = True
        return self.nodes[-1]

    def failed(self, r: TraceRecord) -> None:
        node = self.current()
        self.open = False
        node.status = "failed"
        node.detail["attempt"] = r.attempt
        data = r.data if isinstance(r.data, dict) else {}
        if "error" in data:
            node.detail["error"] = data["error"]
        if r.seconds is not None:
            node.started_at, node.duration_s = r.time - r.seconds, round(r.seconds, 6)

    def interrupted(self, r: TraceRecord) -> None:
        if not self.open and self.nodes:
            return  # stopped between two attempts (a retry's backoff): none was cut short
        node = self.current()
        self.open = False
        node.status = "interrupted"
        data = r.data if isinstance(r.data, dict) else {}
        if isinstance(data.get("started_at"), float | int):
            node.started_at = data["started_at"]

    def finish(self, step: TraceNode, *, running: bool) -> list[TraceNode]:
        """Every attempt, the last one as the step record says it is."""
        last = self.current()  # the open one, or the record's own after those that ended
        last.status = "interrupted" if step.status == "running" and not running else step.status
        last.started_at, last.duration_s = step.started_at, step.duration_s
        last.tokens, last.cost_usd = step.tokens, step.cost_usd
        last.detail["attempt"] = step.detail.get("attempt")
        if "error" in step.detail:
            last.detail["error"] = step.detail["error"]
        first = self.nodes[0].started_at
        if first is not None and step.started_at is not None and step.duration_s is not None:
            # The step's node spans every attempt; its record's, the last one only.
            step.duration_s = round(step.started_at + step.duration_s - first, 6)
            step.started_at = first
        return self.nodes


def _calls(records: list[TraceRecord]) -> tuple[dict[str, TraceNode], dict[str, TraceNode]]:
    """A node per call (by its span), and a factory of nodes for callee records whose call
    never ended (the process stopped during it)."""
    calls = {r.span: _leaf(r) for r in records if r.kind == "call" and r.span}

    class _Orphans(dict[str, TraceNode]):
        def __missing__(self, span: str) -> TraceNode:
            node = self[span] = TraceNode(
                kind="call", path="", name="call", status="unfinished", detail={"span": span}
            )
            return node

    return calls, _Orphans()


def _leaf(r: TraceRecord) -> TraceNode:
    data = r.data if isinstance(r.data, dict) else {}
    detail = dict(data)
    if r.kind == "turn":
        detail = {"model": r.name, **detail}
    elif r.kind == "call":
        detail = {**detail, "span": r.span}
        if r.parent is not None:
            detail["parent_span"] = r.parent
    seconds = r.seconds
    return TraceNode(
        kind=r.kind,
        path="",
        name=r.name or r.kind,
        status=r.status,
        started_at=r.time - (seconds or 0.0),
        duration_s=None if seconds is None else round(seconds, 6),
        tokens=r.tokens,
        cost_usd=r.cost_usd,
        detail=detail,
    )


def _nest_steps(root: TraceNode, steps: dict[str, TraceNode]) -> None:
    """Put each step under the innermost step whose key contains it (foreach, loop,
    parallel), or under the job."""
    keys = sorted(steps, key=len)
    for key in keys:
        outer = [k for k in keys if k != key and inside(key, k)]
        parent = steps[max(outer, key=len)] if outer else root
        parent.children.append(steps[key])


def _number(node: TraceNode) -> None:
    """Order every node's children by start (a step's attempts stay in the order they
    ran) and give each below a step its path."""
    inner = [c for c in node.children if c.kind == "step"]
    others = [c for c in node.children if c.kind != "step"]
    if node.kind != "step":
        others.sort(key=lambda c: c.started_at if c.started_at is not None else float("inf"))
    node.children = others + sorted(inner, key=lambda c: c.started_at or 0.0)
    if node.kind == "attempt" and any(c.kind in ("turn", "call") for c in node.children):
        spent = [c for c in node.children if c.kind in ("turn", "call")]
        node.tokens = sum(c.tokens for c in spent)
        node.cost_usd = sum(c.cost_usd for c in spent)
    counts: dict[str, int] = defaultdict(int)
    for child in node.children:
        if child.kind != "step":
            counts[child.kind] += 1
            child.path = f"{node.path}/{child.kind}:{counts[child.kind]}"
            if child.kind == "attempt":
                child.name = f"attempt {counts['attempt']}"
        _number(child)

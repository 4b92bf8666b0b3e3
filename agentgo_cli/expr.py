"""``${{ expr }}`` expressions: finding, parsing and checking them (Jinja2 sandbox).

Validation parses each expression once and reports syntax errors, unknown names, unknown
filters, private attributes and which ``steps.<id>`` and ``inputs.<name>`` it reads. The
engine evaluates the same parsed expressions at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["ExprInfo", "ExpressionSyntaxError", "analyze", "find_expressions"]

_FIND_RE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)

STEP_FIELDS = ("output", "status", "error")


class ExpressionSyntaxError(ValueError):
    """An expression that does not parse, or uses something the sandbox forbids."""


@dataclass
class ExprInfo:
    """What one expression reads."""

    names: set[str] = field(default_factory=set)
    steps: list[tuple[str, str | None]] = field(default_factory=list)
    """(step id, field) pairs, field None when the expression reads the whole step."""
    inputs: set[str] = field(default_factory=set)
    filters: set[str] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)


def find_expressions(text: str) -> Iterator[str]:
    """Yield the source of each ``${{ ... }}`` in a string."""
    for m in _FIND_RE.finditer(text):
        yield m.group(1)


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one sandboxed Jinja2 environment expressions are parsed and run in."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def parse(source: str) -> nodes.Expr:
    """Parse one expression; raise ExpressionSyntaxError with Jinja2's message."""
    from jinja2 import TemplateSyntaxError
    from jinja2.parser import Parser

    if not source.strip():
        raise ExpressionSyntaxError("empty expression")
    env = environment()
    try:
        parser = Parser(env, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise ExpressionSyntaxError(
                f"unexpected '{parser.stream.current.value}' after expression"
            )
    except TemplateSyntaxError as exc:
        raise ExpressionSyntaxError(
            str(exc.message)
            .replace("'end of template'", "end of expression")
            .replace("end of template", "end of expression")
        ) from None
    return expr


def _const_key(node: nodes.Node) -> str | None:
    from jinja2 import nodes as n

    if isinstance(node, n.Const) and isinstance(node.value, str):
        return node.value
    return None


@lru_cache(maxsize=4096)
def analyze(source: str) -> ExprInfo:
    """Parse one expression and report what it reads; raise ExpressionSyntaxError."""
    from jinja2 import nodes as n

    expr = parse(source)
    env = environment()
    info = ExprInfo()
    for node in [expr, *expr.find_all(n.Node)]:
        if isinstance(node, n.Name):
            info.names.add(node.name)
        elif isinstance(node, n.Getattr):
            if node.attr.startswith("_"):
                raise ExpressionSyntaxError(f"attribute '{node.attr}' is not allowed")
            _note_access(info, node.node, node.attr)
        elif isinstance(node, n.Getitem):
            key = _const_key(node.arg)
            if key is not None:
                if key.startswith("_"):
                    raise ExpressionSyntaxError(f"attribute '{key}' is not allowed")
                _note_access(info, node.node, key)
        elif isinstance(node, n.Filter):
            if node.name not in env.filters:
                raise ExpressionSyntaxError(f"unknown filter '{node.name}'")
            info.filters.add(node.name)
        elif isinstance(node, n.Test):
            if node.name not in env.tests:
                raise ExpressionSyntaxError(f"unknown test '{node.name}'")
            info.tests.add(node.name)
    _note_steps(info, expr)
    return info


def _note_access(info: ExprInfo, base: nodes.Node, key: str) -> None:
    from jinja2 import nodes as n

    if isinstance(base, n.Name) and base.name == "inputs":
        info.inputs.add(key)


def _note_steps(info: ExprInfo, expr: nodes.Node) -> None:
    """Record steps.<id>[.<field>] reads, with the field when one is named."""
    from jinja2 import nodes as n

    def key_of(node: nodes.Node) -> str | None:
        if isinstance(node, n.Getattr):
            return node.attr
        if isinstance(node, n.Getitem):
            return _const_key(node.arg)
        return None

    everything = [expr, *expr.find_all(n.Node)]
    parents: dict[int, nodes.Node] = {}
    for parent in everything:
        for child in parent.iter_child_nodes():
            parents[id(child)] = parent
    for node in everything:
        if not isinstance(node, n.Getattr | n.Getitem):
            continue
        base = node.node
        if not (isinstance(base, n.Name) and base.name == "steps"):
            continue
        step = key_of(node)
        if step is None:
            continue
        outer = parents.get(id(node))
        fld = key_of(outer) if outer is not None and getattr(outer, "node", None) is node else None
        info.steps.append((step, fld))

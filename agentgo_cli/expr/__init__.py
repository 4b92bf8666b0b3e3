"""``${{ expr }}`` expressions: finding, parsing, checking and evaluating them (Jinja2 sandbox).

Validation parses each expression once and reports syntax errors, unknown names, unknown
filters, private attributes and which ``steps.<id>`` and ``inputs.<name>`` it reads. The
engine evaluates expressions at run time with ``evaluate`` and ``render``; each source is
compiled once and the compiled callable is reused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "ExprInfo",
    "ExpressionError",
    "ExpressionSyntaxError",
    "analyze",
    "evaluate",
    "expression_strings",
    "find_expressions",
    "render",
    "shown",
]

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


def expression_strings(
    value: Any, path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield (path, text) for each string holding an expression inside a JSON-like value;
    the path is ``path`` followed by the keys and list indexes leading to the string."""
    if isinstance(value, str):
        if "${{" in value:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from expression_strings(v, (*path, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from expression_strings(v, (*path, i))


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one sandboxed Jinja2 environment expressions are parsed and run in, with the size,
    time and nesting budgets of ``_sandbox``."""
    from agentgo_cli.expr._sandbox import Sandbox

    return Sandbox()


def shown(source: str) -> str:
    """An expression as messages show it: ``${{ source }}``, cut short when it is long."""
    if len(source) > 100:
        source = f" {source.strip()[:80]} ... "
    return f"${{{{{source}}}}}"


def _too_deep() -> ExpressionSyntaxError:
    from agentgo_cli.expr._sandbox import MAX_DEPTH

    return ExpressionSyntaxError(f"nested too deeply (more than {MAX_DEPTH} levels)")


def _bracket_depth(source: str) -> int:
    """The deepest nesting of brackets, outside string literals (the parser recurses on
    each level, so this is measured before parsing)."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for ch in source:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _tree_depth(expr: nodes.Node) -> int:
    """How deep a parsed expression nests, without recursion."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def parse(source: str) -> nodes.Expr:
    """Parse one expression; raise ExpressionSyntaxError with Jinja2's message."""
    from jinja2 import TemplateSyntaxError
    from jinja2.parser import Parser

    if not source.strip():
        raise ExpressionSyntaxError("empty expression")
    from agentgo_cli.expr._sandbox import MAX_DEPTH

    opening = source.count("(") + source.count("[") + source.count("{")
    if opening > MAX_DEPTH and _bracket_depth(source) > MAX_DEPTH:
        raise _too_deep()
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
    except RecursionError:
        raise _too_deep() from None
    if len(source) > MAX_DEPTH and _tree_depth(expr) > MAX_DEPTH:  # a level takes a character
        raise _too_deep()
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
    if info.names <= set(env.globals):
        _check_constant(source)
    return info


def _check_constant(source: str) -> None:
    """Evaluate an expression that reads nothing (``'a' | center(2000000000)``) and raise
    ExpressionSyntaxError when it exceeds a budget: it would at every run."""
    from agentgo_cli.expr._sandbox import BudgetError

    try:
        evaluate(source, {})
    except ExpressionError as exc:
        if isinstance(exc.__cause__, BudgetError):
            raise ExpressionSyntaxError(exc.reason) from None


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


# -- evaluation ------------------------------------------------------------------------------


class ExpressionError(ValueError):
    """An expression that failed at run time: an undefined name, a forbidden access, a bad
    operation; its text names the expression and the reason on one line."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source.strip()
        self.reason = reason
        inner = f" {self.source} " if self.source else " "
        super().__init__(f"expression '{shown(inner)}' failed: {reason}")


_PLAIN_REASONS = (ArithmeticError, TypeError, ValueError)
"""Exceptions whose message reads well without the exception's name in front."""

_MISSING = object()


@dataclass(frozen=True)
class _Compiled:
    run: Callable[[Mapping[str, Any]], Any]
    deep: bool
    """Whether the result may hold an Undefined inside a container (literals, calls, filters
    can build one; a plain path such as steps.x.output can only yield scope data)."""
    path: tuple[str, tuple[str | int, ...]] | None
    """For a plain path, the name and keys, walked directly over dicts and lists: most
    expressions are paths, and Jinja's evaluation costs far more than the walk."""


@lru_cache(maxsize=8192)
def _compile(source: str) -> _Compiled:
    """Compile one source once."""
    from jinja2 import nodes as n

    from agentgo_cli.expr._sandbox import run as budgeted

    parsed = parse(source)  # first, for the same syntax messages as validation
    run = partial(budgeted, environment().compile_expression(source, undefined_to_none=False))
    plain = all(
        isinstance(node, n.Name | n.Getattr | n.Getitem | n.Const)
        for node in [parsed, *parsed.find_all(n.Node)]
    )
    return _Compiled(run, not plain, _path_of(parsed))


def _path_of(node: nodes.Node) -> tuple[str, tuple[str | int, ...]] | None:
    """('steps', ('a', 'output')) for steps.a.output or steps["a"].output, else None."""
    from jinja2 import nodes as n

    keys: list[str | int] = []
    while True:
        if isinstance(node, n.Getattr):
            keys.append(node.attr)
        elif (
            isinstance(node, n.Getitem)
            and isinstance(node.arg, n.Const)
            and type(node.arg.value) in (str, int)
        ):
            keys.append(node.arg.value)
        elif isinstance(node, n.Name):
            return node.name, tuple(reversed(keys))
        else:
            return None
        node = node.node


def _walk(path: tuple[str, tuple[str | int, ...]], scope: Mapping[str, Any]) -> Any:
    """The value at a plain path, or _MISSING when Jinja must decide (and word the error)."""
    name, keys = path
    value = scope.get(name, _MISSING)
    for key in keys:
        if type(value) is dict:
            if key not in value:
                return _MISSING
        elif type(value) is not list or type(key) is not int or not -len(value) <= key < len(value):
            return _MISSING
        value = value[key]
    return value


def evaluate(source: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one expression source (the text inside ``${{ }}``) to a native Python value.

    Raise ExpressionError for anything that goes wrong: a syntax error, an undefined name or
    attribute, an access the sandbox forbids, a failing operation.
    """
    try:
        compiled = _compile(source)
        if compiled.path is not None:
            value = _walk(compiled.path, scope)
            if value is not _MISSING:
                return value
        value = compiled.run(scope)
        _check_defined(value, compiled.deep)
    except Exception as exc:
        raise _failure(source, exc) from (exc if _keeps_cause(exc) else None)
    if isinstance(value, str) and type(value) is not str:
        return str(value)  # Markup from filters such as tojson
    if isinstance(value, tuple):
        return list(value)
    return value


def _failure(source: str, exc: Exception) -> ExpressionError:
    """The ExpressionError for an exception raised while evaluating ``source``."""
    from jinja2.exceptions import TemplateError, TemplateSyntaxError

    if isinstance(exc, ExpressionSyntaxError):
        return ExpressionError(source, str(exc))
    if isinstance(exc, TemplateSyntaxError | TemplateError):
        return ExpressionError(source, str(exc.message or type(exc).__name__))
    if isinstance(exc, RecursionError):
        return ExpressionError(source, "nested too deeply")
    text, kind = str(exc), type(exc).__name__
    reason = text if text and isinstance(exc, _PLAIN_REASONS) else f"{kind}: {text}"
    return ExpressionError(source, reason.removesuffix(": "))


def _keeps_cause(exc: Exception) -> bool:
    """Whether an evaluation failure keeps its exception as the cause (syntax errors and
    deep nesting do not: the message says all)."""
    from jinja2.exceptions import TemplateSyntaxError

    return not isinstance(exc, ExpressionSyntaxError | TemplateSyntaxError | RecursionError)


def _check_defined(value: Any, deep: bool) -> None:
    """Raise UndefinedError for an undefined value, ValueError for a method found where a
    key was meant (inside containers too when ``deep``)."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if callable(value):
        # `output.items` with no key "items" finds the dict's method: a value is meant.
        name = getattr(value, "__name__", type(value).__name__)
        if getattr(value, "__self__", None) is None:  # a global such as `range`
            raise ValueError("it gives a function, not a value (call it with ())")
        raise ValueError(
            f"'{name}' is not a key here but a method; an expression gives a value "
            f"(write {name}() to call it, or check the key's name)"
        )
    if deep:
        if isinstance(value, dict):
            for item in value.values():
                _check_defined(item, True)
        elif isinstance(value, list | tuple):
            for item in value:
                _check_defined(item, True)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate the expressions in a manifest value; raise ExpressionError.

    A string that is exactly one ``${{ expr }}`` takes the expression's native value; a
    string with expressions among text gets each value interpolated as text (objects and
    lists as JSON, booleans as ``true``/``false``, None as nothing); dicts and lists are
    rendered item by item; anything else is returned as is.
    """
    if isinstance(value, str):
        if "${{" not in value:
            return value
        plan = _PLANS.get(value)
        if plan is None:
            plan = _plan(value)
        if type(plan) is str:
            return evaluate(plan, scope)
        return "".join(
            part if i % 2 == 0 else _as_text(evaluate(part, scope)) for i, part in enumerate(plan)
        )
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


_PLANS: dict[str, str | list[str]] = {}
"""How each string with expressions renders: the source of its one whole expression, or its
text and expression sources in turn ([text, source, text, ..., text])."""


def _plan(value: str) -> str | list[str]:
    whole = _whole_source(value)
    plan: str | list[str] = whole if whole is not None else _FIND_RE.split(value)
    if len(_PLANS) < 10_000:  # manifest strings; a bound all the same
        _PLANS[value] = plan
    return plan


def _whole_source(text: str) -> str | None:
    """The source when ``text`` is exactly one ``${{ expr }}``, split as find_expressions
    splits it (so the engine runs what validation checked)."""
    text = text.strip()
    m = _FIND_RE.match(text)
    if m is None or m.end() != len(text) or "${{" in m.group(1):
        return None
    return m.group(1)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)

"""The sandbox expressions run in: Jinja2's immutable sandbox, with budgets.

Jinja2's sandbox stops escapes (private attributes, calls to arbitrary Python), not an
expression that builds gigabytes (``'a' | center(2000000000)``) or runs for minutes. Here
every string, list or object an expression builds, by a filter, a method, an operator,
``~`` or a literal, must fit MAX_TEXT and MAX_ITEMS: checked before it is built where a
width, count or the inputs say how big it will be, after otherwise; all it builds in one
evaluation must fit MAX_TOTAL; and the hooks stop it past MAX_SECONDS. A value read as it is
(``steps.fetch.output``) is never limited: it is in memory already.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import re
import time
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import Cycler, Joiner, Namespace, generate_lorem_ipsum, pass_environment
from markupsafe import Markup

MAX_TEXT = 1 << 20
"""Characters of a string an expression builds (1 MiB); lists and objects are counted as
their text (JSON-like) would be."""
MAX_ITEMS = 100_000
"""Items of a list or object an expression builds, nested ones included."""
MAX_TOTAL = 16 << 20
"""Characters of everything one evaluation builds, together (16 MiB)."""
MAX_SECONDS = 1.0
"""Time one evaluation may take (checked whenever a filter, call or operator runs)."""
MAX_DEPTH = 32
"""Levels of nesting of an expression: brackets, and operators inside operators."""

_INT_BITS = 3 * MAX_TEXT
"""Bits of an integer: about MAX_TEXT decimal digits."""


class BudgetError(SecurityError):
    """An expression that would build more than its size budget, or run past its time."""


def _too_big(what: str, chars: int) -> BudgetError:
    return BudgetError(f"exceeds the size budget ({what} would make {chars:,} characters > 1 MiB)")


def _too_many(what: str, items: int) -> BudgetError:
    return BudgetError(
        f"exceeds the size budget ({what} would make {items:,} items > {MAX_ITEMS:,})"
    )


class _Budget:
    __slots__ = ("deadline", "spent")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.spent = 0


_CURRENT: ContextVar[_Budget | None] = ContextVar("expression_budget", default=None)


def run(func: Callable[[Any], Any], scope: Any) -> Any:
    """Call a compiled expression with a fresh budget."""
    token = _CURRENT.set(_Budget(time.monotonic() + MAX_SECONDS))
    try:
        return func(scope)
    finally:
        _CURRENT.reset(token)


def _tick() -> None:
    budget = _CURRENT.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise BudgetError(f"exceeds the time budget ({MAX_SECONDS:g} s)")


def _spend(chars: int) -> None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.spent += chars
        if budget.spent > MAX_TOTAL:
            raise BudgetError(
                f"exceeds the size budget (all it builds together: {budget.spent:,} "
                "characters > 16 MiB)"
            )


# -- measuring -------------------------------------------------------------------------------

_SEQUENCES = (list, tuple, set, frozenset, KeysView, ValuesView, ItemsView)


def measure(value: Any) -> tuple[int, int]:
    """About how many characters a value makes as text, and how many items it holds; counted
    until one passes its budget (a list may hold one big string many times)."""
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value), 0
    chars = items = 0
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is str or isinstance(v, str | bytes | bytearray):
            chars += len(v)
        elif kind is int:
            chars += v.bit_length() // 3 + 1
        elif kind is list or kind is tuple or isinstance(v, _SEQUENCES):
            items += len(v)
            chars += 2 + 2 * len(v)
            if items > MAX_ITEMS:
                break
            stack.extend(v)
        elif kind is dict or isinstance(v, Mapping):
            items += len(v)
            chars += 2 + 4 * len(v)
            if items > MAX_ITEMS:
                break
            stack.extend(v.keys())
            stack.extend(v.values())
        elif kind is range:
            items += len(v)
            chars += 2 + len(v) * (2 + len(str(max(abs(v.start), abs(v.stop)))))
        elif isinstance(v, Namespace):
            stack.append(v._Namespace__attrs)
        elif isinstance(v, Cycler):
            stack.append(v.items)
        elif isinstance(v, Joiner):
            stack.append(v.sep)
        elif not isinstance(v, Undefined):
            chars += 8
        if chars > MAX_TEXT:
            break
    return chars, items


def _depth(value: Any, limit: int = 1000) -> int:
    """How deep containers nest in a value (up to ``limit``)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, str | bytes):
            continue
        if isinstance(v, Mapping):
            children: Any = v.values()
        elif isinstance(v, list | tuple | set | frozenset):
            children = v
        else:
            continue
        deepest = max(deepest, d)
        if deepest >= limit:
            return deepest
        stack.extend((c, d + 1) for c in children)
    return deepest


def check(value: Any, what: str) -> Any:
    """Return a value an expression built; raise BudgetError when it is over budget."""
    kind = type(value)
    if kind is str or kind is bytes:
        n = len(value)
        if n > MAX_TEXT:
            raise _too_big(what, n)
        _spend(n)
        return value
    if kind is int:
        if value.bit_length() > _INT_BITS:
            raise _too_big(what, value.bit_length() // 3)
        return value
    if kind is bool or kind is float or value is None:
        return value
    chars, items = measure(value)
    if items > MAX_ITEMS:
        raise _too_many(what, items)
    if chars > MAX_TEXT:
        raise _too_big(what, chars)
    _spend(chars)
    return value


def _text(value: Any, what: str) -> int:
    """The length of a value as text; BudgetError when it is over budget."""
    chars = len(value) if isinstance(value, str | bytes) else measure(value)[0]
    if chars > MAX_TEXT:
        raise _too_big(what, chars)
    return chars


def _room(what: str, chars: int) -> None:
    if chars > MAX_TEXT:
        raise _too_big(what, chars)


def _number(value: Any) -> int:
    """An argument used as a width or count (0 for anything that is not an integer)."""
    return value if type(value) is int else 0


_PLAIN = frozenset({str, int, float, bool, type(None), list, dict, tuple})


def _listed(value: Any, what: str) -> Any:
    """A lazy iterator's items as a list, counted as they come; anything else as it is."""
    if type(value) in _PLAIN or not isinstance(value, Iterator):
        return value
    out: list[Any] = []
    chars = 0
    for item in value:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise _too_many(what, len(out))
        chars += measure(item)[0] + 2
        if chars > MAX_TEXT:
            raise _too_big(what, chars)
    return out


# -- widths and formats ----------------------------------------------------------------------

_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?")
_DIGITS = re.compile(r"\d+")


def _width(digits: str, what: str) -> int:
    if len(digits) > 8 or int(digits) > MAX_TEXT:
        raise _too_big(what, int(digits) if len(digits) <= 4000 else 10**4000)
    return int(digits)


def _check_percent(fmt: Any, args: Any, what: str) -> None:
    """``fmt % args``: widths and precisions, and the text of the arguments."""
    if not isinstance(fmt, str | bytes):
        return
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    chars = len(text)
    star = False
    for m in _PERCENT.finditer(text):
        for part in m.groups():
            if part == "*":
                star = True
            elif part:
                chars += _width(part, what)
    if star:
        for arg in args if isinstance(args, tuple) else (args,):
            chars += abs(_number(arg))
    chars += _text(args, what)
    _room(what, chars)


class _FormatBudget:
    """str.format: every field's width and text, and the whole result, within budget."""

    _written = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._written = 0
        return super().vformat(format_string, args, kwargs)  # type: ignore[misc,no-any-return]

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        _text(value, "'format'")
        return super().convert_field(value, conversion)  # type: ignore[misc]

    def format_field(self, value: Any, format_spec: str) -> Any:
        for digits in _DIGITS.findall(format_spec):
            _width(digits, "'format'")
        _text(value, "'format'")
        result = super().format_field(value, format_spec)  # type: ignore[misc]
        self._written += len(result)
        _room("'format'", self._written)
        return result


class _Formatter(_FormatBudget, SandboxedFormatter):
    pass


class _EscapeFormatter(_FormatBudget, SandboxedEscapeFormatter):
    pass


# -- filters ---------------------------------------------------------------------------------

_REFERENCING = frozenset(
    {
        "attr", "batch", "count", "d", "default", "dictsort", "first", "groupby", "items",
        "last", "length", "list", "map", "max", "min", "random", "reject", "rejectattr",
        "reverse", "select", "selectattr", "slice", "sort", "sum", "unique",
    }
)  # fmt: skip
"""Filters that only count, pick or reorder what they are given: the value is not written
out as text, so it need not fit the budget (a large step output may be counted)."""

_PICKING = frozenset({"attr", "d", "default", "first", "last", "max", "min", "random"})
"""Filters that return (part of) what they are given: nothing new to check."""


def _pre_center(value: Any, width: Any = 80) -> None:
    _room("'center'", max(_text(value, "'center'"), _number(width)))


def _pre_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    chars = _text(value, "'indent'")
    lines = value.count("\n") + 1 if isinstance(value, str) else chars + 1
    pad = _number(width) if not isinstance(width, str) else len(width)
    _room("'indent'", pad)
    _room("'indent'", chars + lines * pad)


def _pre_wordwrap(
    value: Any,
    width: Any = 79,
    break_long_words: Any = True,
    wrapstring: Any = None,
    *_: Any,
    **__: Any,
) -> None:
    text = value if isinstance(value, str) else str(value)  # its size was checked before
    wrap = len(wrapstring) if isinstance(wrapstring, str) else 1
    if break_long_words:  # a line for every `width` characters: time, and a wrapstring each
        words = len(text) - text.count(" ") - text.count("\n")
        _room("'wordwrap'", words + words // builtins.max(_number(width), 1) * wrap)
    if wrap > 4:  # else at most 5 times the text: let it be
        _room("'wordwrap'", len(text) + (len(text) + 1) * wrap)


def _pre_replace(value: Any, old: Any = "", new: Any = "", count: Any = None) -> None:
    if not isinstance(value, str):
        value = str(value)  # as the filter does; its size was checked before
    old, new = str(old), str(new)
    found = value.count(old) if old else len(value) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    _room("'replace'", len(value) + found * max(0, len(new) - len(old)))


def _join_size(items: Any, sep: Any, what: str) -> None:
    if isinstance(items, str):
        n, chars = len(items), len(items)
    else:
        n = chars = 0
        for item in items:
            n += 1
            chars += len(item) if type(item) is str else measure(item)[0]
            _room(what, chars)
    _room(what, chars + max(0, n - 1) * len(str(sep)))


def _pre_join(value: Any, d: Any = "", attribute: Any = None) -> None:
    _join_size(value, d, "'join'")


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    fmt = value if isinstance(value, str | bytes) else str(value)  # as the filter does
    _check_percent(fmt, kwargs or args, "'format'")


def _pre_tojson(value: Any, indent: Any = None) -> None:
    chars, items = measure(value)
    _room("'tojson'", chars)
    pad = len(indent) if isinstance(indent, str) else _number(indent)
    if pad:
        _room("'tojson'", pad)  # json.dumps makes the indent string first
        _room("'tojson'", chars + (items + 1) * (1 + pad * _depth(value)))


def _pre_pprint(value: Any) -> None:
    chars, items = measure(value)
    _room("'pprint'", chars + (items + 1) * (1 + _depth(value)))


def _pre_count(what: str, param: str) -> Callable[..., None]:
    """The check of a filter whose first argument (``param``) is how many lists it makes,
    or how long each is: padded with ``fill_with``, one list can be that long."""

    def pre(value: Any, *args: Any, **kwargs: Any) -> None:
        n = _number(args[0] if args else kwargs.get(param))
        if n > MAX_ITEMS:
            raise _too_many(what, n)

    return pre


def _pre_list(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_ITEMS:
        raise _too_many("'list'", len(value))


_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center,
    "indent": _pre_indent,
    "wordwrap": _pre_wordwrap,
    "replace": _pre_replace,
    "join": _pre_join,
    "format": _pre_format,
    "tojson": _pre_tojson,
    "pprint": _pre_pprint,
    "batch": _pre_count("'batch'", "linecount"),
    "slice": _pre_count("'slice'", "slices"),
    "list": _pre_list,
}


@pass_environment
def _sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """The ``sum`` filter, joining lists in one pass (``sum`` adds them one by one)."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    items = _listed(iter(iterable), "'sum'")
    if isinstance(start, list | tuple) and all(type(i) is type(start) for i in items):
        n = len(start) + sum(len(i) for i in items)
        if n > MAX_ITEMS:
            raise _too_many("'sum'", n)
        return type(start)(itertools.chain(start, *items))
    return sum(items, start)


def _wrap_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    lead = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    pre = _PRECHECKS.get(name)
    writes = name not in _REFERENCING
    picks = name in _PICKING
    what = f"'{name}'"

    @functools.wraps(func)
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        _tick()
        if len(args) > lead:
            value = _listed(args[lead], what)
            if value is not args[lead]:
                args = (*args[:lead], value, *args[lead + 1 :])
            if writes and not isinstance(value, str | bytes):
                _text(value, what)
            if pre is not None:
                pre(*args[lead:], **kwargs)
        result = func(*args, **kwargs)
        return result if picks else check(result, what)

    return budgeted


# -- methods and globals ---------------------------------------------------------------------


def _pre_method(obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Widths and counts of str and bytes methods that can build much more than they get."""
    what = f"'{name}'"
    first = args[0] if args else next(iter(kwargs.values()), None)
    if name in ("center", "ljust", "rjust", "zfill"):
        _room(what, max(len(obj), _number(first)))
    elif name == "expandtabs":
        size = _number(first) if args or kwargs else 8
        _room(what, len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * size)
    elif name == "replace" and len(args) >= 2 and isinstance(obj, str):
        _pre_replace(obj, *args[:3])
    elif name == "join" and args:
        _join_size(args[0], obj, what)
    elif name == "translate" and isinstance(first, Mapping):
        longest = max((len(v) for v in first.values() if isinstance(v, str)), default=1)
        _room(what, len(obj) * longest)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    """Jinja2's lorem ipsum, within the budget (about 14 characters a word)."""
    words = _number(n) * builtins.max(_number(min), _number(max), 1)
    _room("'lipsum'", words * 14)
    return generate_lorem_ipsum(n, html, min, max)


_SELECTING_METHODS = frozenset({"get", "keys", "values", "items", "index", "count"})


class _CodeGenerator(CodeGenerator):
    """Jinja2's code generator, with ``~`` and literals going through the budget."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.budget_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.budget_built(")
        super().visit_List(node, frame)
        self.write(", 'a list')")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":
            super().visit_Tuple(node, frame)
            return
        self.write("environment.budget_built(")
        super().visit_Tuple(node, frame)
        self.write(", 'a list')")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.budget_built(")
        super().visit_Dict(node, frame)
        self.write(", 'an object')")


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the budgets of this module."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False)
        self.filters["sum"] = _sum
        self.filters = {name: _wrap_filter(name, f) for name, f in self.filters.items()}
        self.globals["lipsum"] = _lipsum

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Manifest data is JSON: `steps.items.output` means the step named "items",
        # not the dict method.
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def budget_built(self, value: Any, what: str) -> Any:
        """A list, tuple or object literal, once built."""
        _tick()
        return check(value, what)

    def budget_concat(self, parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``: the parts' text measured before it is joined."""
        _tick()
        chars = 0
        for part in parts:
            chars += len(part) if type(part) is str else measure(part)[0]
            _room("'~'", chars)
        return check("".join(map(str, parts)), "'~'")  # type: ignore[no-any-return]

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        what = f"'{operator}'"
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if type(n) is int and isinstance(seq, str | bytes | list | tuple):
                    chars, items = measure(seq)
                    if items * n > MAX_ITEMS:
                        raise _too_many(what, items * n)
                    _room(what, chars * n)
            if type(left) is int and type(right) is int:
                bits = left.bit_length() + right.bit_length()
                if bits > _INT_BITS:
                    raise _too_big(what, bits // 3)
        elif operator == "**":
            if type(left) is int and type(right) is int and abs(left) > 1 and right > 0:
                bits = left.bit_length() * right
                if bits > _INT_BITS:
                    raise _too_big(what, bits // 3)
        elif operator == "%":
            _check_percent(left, right, what)
        return check(self.binop_table[operator](left, right), what)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        if any(type(a) not in _PLAIN for a in args):
            args = tuple(_listed(a, "a call") for a in args)
        target = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(target, str | bytes | bytearray):
            _pre_method(target, name, args, kwargs)
        elif type(target) is int and name == "to_bytes":
            _room("'to_bytes'", _number(args[0] if args else kwargs.get("length", 1)))
        result = super().call(__context, __obj, *args, **kwargs)
        if name in _SELECTING_METHODS or result is target:
            return result
        return check(result, f"'{name}'" if name else "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja2's sandboxed ``str.format``, with a formatter that keeps the budget."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self = value.__self__
        formatter: SandboxedFormatter = (
            _EscapeFormatter(self, escape=f_self.escape)
            if isinstance(f_self, Markup)
            else _Formatter(self)
        )
        is_format_map = value.__name__ == "format_map"
        str_type: type[str] = type(f_self)

        def format_(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    return wrapped(*args, **kwargs)  # Jinja2's TypeError
                return str_type(formatter.vformat(f_self, (), args[0]))
            return str_type(formatter.vformat(f_self, args, kwargs))

        return functools.update_wrapper(format_, value)

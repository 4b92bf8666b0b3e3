"""Property test: no expression that passes validation makes the process run out of memory
or run for long. Hypothesis writes expressions from a grammar of the operators, filters,
methods and literals, with large numbers among them; each batch is evaluated in a child
process whose address space is capped (tests/expr_capped.py), and every expression must end
there, quickly, with a value or an ExpressionError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgo_cli.expr import ExpressionSyntaxError, analyze, environment
from tests.expr_capped import SCOPE, evaluate_capped

NUMBERS = st.sampled_from(
    ["0", "1", "2", "3", "-5", "80", "1000", "100000", "1000000", "1048577", "10000000",
     "2000000000", "2147483648"]
)  # fmt: skip
STRINGS = st.sampled_from(
    ["''", "'x'", "'ab c'", "'\\t'", "'\\n'", "'a,b'", "'%5d'", "'%s%s'", "'%*d'",
     "'%2000000000s'", "'%.999999f'", "'{}'", "'{0}{0}{0}'", "'{:>99999999}'",
     "'{:{}}'", "'x' * 1000000"]
)  # fmt: skip
NAMES = st.sampled_from(
    ["inputs.s", "inputs.n", "inputs.l", "inputs.t", "steps.a.output", "range(3)",
     "range(100000)", "lipsum(2)", "dict(a=1)"]
)  # fmt: skip
atoms = st.one_of(NUMBERS, STRINGS, NAMES)

PLAIN_FILTERS = st.sampled_from(
    ["list", "join", "length", "string", "tojson", "upper", "trim", "first", "last", "sum",
     "unique", "sort", "reverse", "pprint", "wordcount", "urlize", "escape", "items",
     "dictsort", "title", "int", "abs", "min", "max", "batch(2)", "map('string')",
     "map('upper')", "select('odd')", "sum(start=[])", "default('d')"]
)  # fmt: skip
SIZED_FILTERS = st.sampled_from(
    ["center({})", "indent({})", "wordwrap({})", "truncate({})", "batch({}, 'x')", "slice({})",
     "map('center', {})", "tojson(indent={})", "format({})", "join({})", "replace('', {})",
     "replace('a', {})", "wordwrap(1, wrapstring={})", "indent({})", "sum(start={})"]
)  # fmt: skip
METHODS = st.sampled_from(
    [".center({})", ".ljust({})", ".rjust({})", ".zfill({})", ".expandtabs({})",
     ".format({}, {})", ".replace('', {})", ".join({})", ".split()", ".upper()",
     ".encode()", ".to_bytes({}, 'big')", ".translate({{97: {}}})"]
)  # fmt: skip
OPERATORS = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "~", "in"])


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arg = st.one_of(NUMBERS, STRINGS, inner)
    return st.one_of(
        st.tuples(inner, OPERATORS, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, PLAIN_FILTERS).map(lambda t: f"({t[0]} | {t[1]})"),
        st.tuples(inner, SIZED_FILTERS, arg).map(lambda t: f"({t[0]} | {t[1].format(t[2])})"),
        st.tuples(inner, METHODS, arg).map(lambda t: f"({t[0]}){t[1].format(t[2], t[2])}"),
        st.tuples(inner, METHODS, arg).map(lambda t: f"({t[0]} ~ ''){t[1].format(t[2], t[2])}"),
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(inner, inner).map(lambda t: f"{{'k': {t[0]}, 'v': {t[1]}}}"),
    )


expressions = st.recursive(atoms, _extend, max_leaves=8)

KNOWN = set(SCOPE) | set(environment().globals)


def _valid(source: str) -> bool:
    """Whether ``agentgo validate`` accepts the expression (here: it parses, reads known
    names and filters)."""
    try:
        info = analyze(source)
    except ExpressionSyntaxError:
        return False
    return info.names <= KNOWN


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(expressions, min_size=30, max_size=30))
def test_valid_expressions_end_quickly_within_the_memory_cap(sources: list[str]) -> None:
    batch = [source for source in sources if _valid(source)]
    for source, result in zip(batch, evaluate_capped(batch), strict=True):
        assert result["kind"] in ("value", "error"), (source, result)
        reason = result.get("reason", "")
        assert "MemoryError" not in reason, (source, result)
        assert "RecursionError" not in reason, (source, result)
        assert result["seconds"] < 3, (source, result)

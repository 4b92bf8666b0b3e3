"""The size, time and nesting budgets of expressions: no expression makes the process
allocate gigabytes, run for long, or fail with an internal error."""

from __future__ import annotations

from typing import Any

import pytest

from agentgo_cli.expr import ExpressionError, ExpressionSyntaxError, analyze, evaluate, parse
from tests.expr_capped import evaluate_capped

G = 2_000_000_000

AMPLIFIERS = {
    "center": f"'a' | center({G})",
    "center-method": f"'a'.center({G})",
    "ljust-method": f"'a'.ljust({G})",
    "rjust-method": f"'a'.rjust({G})",
    "zfill-method": f"'a'.zfill({G})",
    "expandtabs": f"'\\tx'.expandtabs({G})",
    "percent-width": f"'%{G}d' % 1",
    "percent-precision": f"'%.{G}f' % 1",
    "percent-star": f"'%*d' % ({G}, 1)",
    "format-method": f"'{{:>{G}}}'.format('x')",
    "format-nested": f"'{{:>{{w}}}}'.format('x', w={G})",
    "format-filter": f"'%{G}s' | format('x')",
    "indent": f"'x' | indent({G})",
    "wordwrap-long-word": "('a' * 1000000) | wordwrap(1)",
    "wordwrap-wrapstring": "('a ' * 1000) | wordwrap(1, wrapstring='x' * 1000000)",
    "indent-lines": "('\\n' * 1000000) | indent('y' * 1000000)",
    "map-center": f"range(10) | map('center', {G}) | list",
    "replace-empty": "('x' * 1000000) | replace('', 'y' * 1000000)",
    "replace-method": "('x' * 1000000).replace('x', 'y' * 1000000)",
    "join-filter": "('x' * 1000000) | list | join('y' * 1000000)",
    "join-method": "('y' * 1000000).join('x' * 1000000)",
    "join-shared": "(['z' * 1000000] * 100000) | join",
    "concat-chain": " ~ ".join(["('x' * 1000000)"] * 1000),
    "literal-refs": "[" + ", ".join(["'x' * 1000000"] * 1000) + "] | tojson",
    "batch-fill": f"[1] | batch({G}, 'x') | list",
    "slice": f"[1] | slice({G}) | list | length",
    "batch-keywords": f"[1] | batch(linecount={G}, fill_with='x') | list",
    "tojson-indent": f"[[1, [2]]] | tojson(indent={G})",
    "tojson-indent-scalar": f"0 | tojson(indent={G})",
    "replace-not-a-string": "{'k': 'abc'} | replace('', 'x' * 1000000)",
    "format-not-a-string": f"['%{G}d'] | format(1)",
    "lipsum": f"lipsum({G})",
    "to-bytes": f"(1).to_bytes({G}, 'big')",
    "translate": "('a' * 1000000).translate({97: 'b' * 1000000})",
    "sum-lists": "([[0]] * 100000) | sum(start=[]) | length",
    "list-times": "(['x' * 1000] * 100000) | length",
    "power": "10 ** 10000000",
    "int-product": "(7 ** 3000000) * (7 ** 3000000) * (7 ** 3000000)",
}


@pytest.fixture(scope="module")
def capped() -> dict[str, dict[str, Any]]:
    """Every amplifier evaluated once, in one capped child process."""
    results = evaluate_capped(list(AMPLIFIERS.values()))
    return dict(zip(AMPLIFIERS, results, strict=True))


@pytest.mark.parametrize("name", list(AMPLIFIERS))
def test_an_expression_cannot_build_more_than_the_size_budget(
    capped: dict[str, dict[str, Any]], name: str
) -> None:
    result = capped[name]
    assert result["kind"] == "error", result
    assert "exceeds the size budget" in result["reason"], result
    assert result["seconds"] < 1, result


def test_a_slow_expression_stops_at_the_time_budget() -> None:
    maps = " | ".join(["map('string')", "map('trim')", "map('lower')", "map('upper')"] * 4)
    (result,) = evaluate_capped([f"'z' in (range(100000) | {maps})"])
    assert result["kind"] == "error", result
    assert result["reason"] == "exceeds the time budget (1 s)", result
    assert result["seconds"] < 2, result


def test_the_size_budget_is_named_in_the_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("'ab' * 1000000", {})
    assert str(caught.value) == (
        "expression '${{ 'ab' * 1000000 }}' failed: exceeds the size budget "
        "('*' would make 2,000,000 characters > 1 MiB)"
    )


@pytest.mark.parametrize(
    ("source", "value"),
    [
        pytest.param("('x' * 1000000) | length", 1_000_000, id="a-million-characters"),
        pytest.param("range(100000) | list | length", 100_000, id="a-hundred-thousand-items"),
        pytest.param("'a' | center(5)", "  a  ", id="center"),
        pytest.param("('a ' * 400000) | wordwrap(1) | length", 799_999, id="wordwrap"),
        pytest.param("'%5d|%.2f' % (3, 1.5)", "    3|1.50", id="percent"),
        pytest.param("'{:>4}'.format('x')", "   x", id="format"),
        pytest.param("['a', 'b'] | join(', ')", "a, b", id="join"),
        pytest.param("[[1], [2]] | sum(start=[])", [1, 2], id="sum-lists"),
        pytest.param("[1, 2, 3] | sum", 6, id="sum-numbers"),
        pytest.param("[1, 2, 3] | batch(2, 0) | list", [[1, 2], [3, 0]], id="batch"),
        pytest.param("'a b' | replace(' ', '--')", "a--b", id="replace"),
        pytest.param("range(3) | map('string') | join", "012", id="map-join"),
        pytest.param("2 ** 100", 2**100, id="power"),
        pytest.param("'a' ~ 1 ~ [2]", "a1[2]", id="concat"),
        pytest.param("steps.big.output | length", 3_000_000, id="large-input-read"),
        pytest.param("steps.big.output | default('')", "x" * 3_000_000, id="large-input-passed"),
    ],
)
def test_real_expressions_fit_the_budgets(source: str, value: Any) -> None:
    scope = {"steps": {"big": {"output": "x" * 3_000_000}}}
    assert evaluate(source, scope) == value


# -- nesting ---------------------------------------------------------------------------------

DEEP = {
    "parentheses": "(" * 3000 + "1" + ")" * 3000,
    "lists": "[" * 3000 + "]" * 3000,
    "not": "not " * 3000 + "x",
    "minus": "-" * 3000 + "1",
    "sums": "1" + " + 1" * 3000,
    "filters": "1" + " | abs" * 3000,
    "attributes": "x" + ".a" * 3000,
}


@pytest.mark.parametrize("source", list(DEEP.values()), ids=list(DEEP))
def test_deep_nesting_is_a_syntax_error(source: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"^nested too deeply \(more than 32 levels\)$"):
        parse(source)
    with pytest.raises(ExpressionSyntaxError, match="^nested too deeply"):
        analyze(source)
    with pytest.raises(ExpressionError, match="failed: nested too deeply"):
        evaluate(source, {"x": {}})


def test_moderate_nesting_is_fine() -> None:
    source = "(" * 30 + "1" + ")" * 30 + " + " + "[" * 10 + "2" + "]" * 10 + " | first" * 10
    assert evaluate(source, {}) == 3


# -- validation ------------------------------------------------------------------------------


def test_validation_evaluates_a_constant_and_reports_its_budget() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        analyze(f"'a' | center({G})")
    assert str(caught.value) == (
        "exceeds the size budget ('center' would make 2,000,000,000 characters > 1 MiB)"
    )
    assert analyze(f"inputs.s | center({G})").inputs == {"s"}  # known at run time only
    assert analyze("1 / 0").names == set()  # other failures are the run's to report

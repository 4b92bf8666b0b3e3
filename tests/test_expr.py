"""``${{ expr }}`` expressions: finding them, parsing them and what they read."""

from __future__ import annotations

import pytest

from agentgo_cli.expr import (
    STEP_FIELDS,
    ExpressionSyntaxError,
    ExprInfo,
    analyze,
    environment,
    find_expressions,
    parse,
)

# -- finding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("no expression", [], id="none"),
        pytest.param("${{ inputs.x }}", [" inputs.x "], id="whole"),
        pytest.param("a ${{x}} b ${{ y }}.", ["x", " y "], id="two"),
        pytest.param("${{ }}", [" "], id="empty"),
        pytest.param("${{ a\n and b }}", [" a\n and b "], id="multi-line"),
        pytest.param("${{ a }}}", [" a "], id="extra-brace"),
        pytest.param("${ x } {{ y }} $ {{ z }}", [], id="near-misses"),
        pytest.param('${{ "}}" }}', [' "'], id="closing-braces-in-a-string-end-it"),
    ],
)
def test_find_expressions(text: str, found: list[str]) -> None:
    assert list(find_expressions(text)) == found


# -- parsing ---------------------------------------------------------------------------------


def test_parse_returns_a_jinja_expression() -> None:
    from jinja2 import nodes

    expr = parse(" steps.a.output | length > 2 ")
    assert isinstance(expr, nodes.Compare)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("", "empty expression", id="empty"),
        pytest.param("   \n", "empty expression", id="blank"),
        pytest.param("x.", "expected name or number", id="dangling-dot"),
        pytest.param("x |", "unexpected end of expression, expected 'name'.", id="dangling-pipe"),
        pytest.param("x[", "unexpected end of expression", id="open-bracket"),
        pytest.param("(", "unexpected end of expression", id="open-paren"),
        pytest.param("1 2", "unexpected '2' after expression", id="two-values"),
        pytest.param("a = 1", "unexpected '=' after expression", id="assignment"),
        pytest.param('"open', "unexpected char '\"' at 0", id="unterminated-string"),
        pytest.param("{% if x %}", "unexpected '%'", id="statement"),
        pytest.param("{{ x }}", "expected token ':', got '}'", id="nested-braces"),
    ],
)
def test_parse_errors(source: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(source)
    assert str(info.value) == message


def test_syntax_error_is_a_value_error() -> None:
    assert issubclass(ExpressionSyntaxError, ValueError)


# -- analysis --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "names", "steps", "inputs"),
    [
        pytest.param("steps.a.output.x", {"steps"}, [("a", "output")], set(), id="attribute"),
        pytest.param('steps["a"]["status"]', {"steps"}, [("a", "status")], set(), id="item"),
        pytest.param("steps.a", {"steps"}, [("a", None)], set(), id="whole-step"),
        pytest.param("steps.a[0]", {"steps"}, [("a", None)], set(), id="index-after-step"),
        pytest.param("(steps.a).error", {"steps"}, [("a", "error")], set(), id="parenthesised"),
        pytest.param("steps", {"steps"}, [], set(), id="steps-alone"),
        pytest.param("steps[x]", {"steps", "x"}, [], set(), id="dynamic-step"),
        pytest.param(
            "steps.a.output.steps.b", {"steps"}, [("a", "output")], set(), id="steps-in-output"
        ),
        pytest.param(
            "steps.a.output ~ steps.b.status",
            {"steps"},
            [("a", "output"), ("b", "status")],
            set(),
            id="two-steps",
        ),
        pytest.param(
            'inputs.x + inputs["y"] + inputs[z]', {"inputs", "z"}, [], {"x", "y"}, id="inputs"
        ),
        pytest.param("inputs", {"inputs"}, [], set(), id="inputs-alone"),
        pytest.param("a if b else c", {"a", "b", "c"}, [], set(), id="conditional"),
        pytest.param('{"k": v, "l": [w]}', {"v", "w"}, [], set(), id="literals"),
        pytest.param("item.name ~ '-' ~ index", {"item", "index"}, [], set(), id="foreach"),
        pytest.param("loop.iteration > 2", {"loop"}, [], set(), id="loop"),
        pytest.param("1 + 2 * 3", set(), [], set(), id="constants"),
    ],
)
def test_analyze_reads(
    source: str, names: set[str], steps: list[tuple[str, str | None]], inputs: set[str]
) -> None:
    info = analyze(source)
    assert info.names == names
    assert sorted(info.steps, key=str) == sorted(steps, key=str)
    assert info.inputs == inputs


def test_analyze_filters_and_tests() -> None:
    info = analyze("x | default([]) | map('upper') | join(', ') if y is defined else z | length")
    assert info.filters == {"default", "map", "join", "length"}
    assert info.tests == {"defined"}
    assert info.names == {"x", "y", "z"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("x | lenght", "unknown filter 'lenght'", id="filter"),
        pytest.param("x is fooo", "unknown test 'fooo'", id="test"),
        pytest.param("x.__class__", "attribute '__class__' is not allowed", id="dunder"),
        pytest.param("x._private", "attribute '_private' is not allowed", id="private"),
        pytest.param("x['_private']", "attribute '_private' is not allowed", id="private-item"),
        pytest.param(
            "(x | first).__globals__", "attribute '__globals__' is not allowed", id="after-filter"
        ),
        pytest.param("x.y.", "expected name or number", id="syntax"),
    ],
)
def test_analyze_refuses(source: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        analyze(source)
    assert str(info.value) == message


def test_item_access_with_a_non_text_key_is_allowed() -> None:
    info = analyze("x[0] ~ x[-1] ~ inputs[0]")
    assert info.names == {"x", "inputs"}
    assert info.inputs == set()


def test_analyze_is_cached_and_returns_expr_info() -> None:
    first = analyze("inputs.topic")
    assert isinstance(first, ExprInfo)
    assert analyze("inputs.topic") is first


def test_step_fields() -> None:
    assert STEP_FIELDS == ("output", "status", "error")


# -- the environment -------------------------------------------------------------------------


def test_environment_is_one_sandbox() -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = environment()
    assert env is environment()
    assert isinstance(env, ImmutableSandboxedEnvironment)


def test_environment_evaluates_native_values() -> None:
    run = environment().compile_expression("steps.a.output | length + inputs.n")
    assert run(steps={"a": {"output": [1, 2, 3]}}, inputs={"n": 4}) == 7


def test_environment_refuses_unsafe_access_at_run_time() -> None:
    from jinja2.exceptions import SecurityError

    run = environment().compile_expression("x.append(1)")
    with pytest.raises(SecurityError):
        run(x=[])


def test_environment_undefined_is_strict() -> None:
    from jinja2.exceptions import UndefinedError

    run = environment().compile_expression("missing + 1")
    with pytest.raises(UndefinedError):
        run()

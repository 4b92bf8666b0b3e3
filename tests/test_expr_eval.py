"""Evaluating ``${{ expr }}`` at run time: native values, interpolation and errors."""

from __future__ import annotations

from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest

from agentgo_cli.expr import ExpressionError, evaluate, render

SCOPE: dict[str, Any] = {
    "inputs": {"topics": ["AI chips", "batteries"], "publish": False, "n": 3},
    "steps": {
        "draft": {"output": "A draft.", "status": "succeeded", "error": None},
        "count": {"output": {"words": 42}, "status": "succeeded", "error": None},
        "review": {"output": {"approved": True}, "status": "succeeded", "error": None},
        "broken": {"output": None, "status": "failed", "error": "tool 'x' raised"},
        "items": {"output": [1, 2], "status": "succeeded", "error": None},
    },
    "job": {"id": "job-1", "workflow": "weekly-digest"},
    "topic": "AI chips",
    "index": 0,
    "loop": {"iteration": 2},
    "input": {"text": "three little words"},
}


# -- evaluate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        pytest.param("inputs.topics", ["AI chips", "batteries"], id="list"),
        pytest.param("inputs.n", 3, id="int"),
        pytest.param("inputs.publish", False, id="bool"),
        pytest.param("steps.count.output", {"words": 42}, id="object"),
        pytest.param("steps.count.output.words", 42, id="attribute-on-dict"),
        pytest.param('steps["count"]["output"]["words"]', 42, id="item-access"),
        pytest.param("steps.review.output.approved", True, id="nested-bool"),
        pytest.param("steps.broken.status", "failed", id="status"),
        pytest.param("steps.broken.error", "tool 'x' raised", id="error"),
        pytest.param("steps.draft.error", None, id="none"),
        pytest.param("job.id ~ '/' ~ job.workflow", "job-1/weekly-digest", id="job"),
        pytest.param("topic ~ ' #' ~ index", "AI chips #0", id="foreach"),
        pytest.param("loop.iteration > 1", True, id="loop"),
        pytest.param("input.text", "three little words", id="input"),
        pytest.param("inputs.topics | length", 2, id="filter"),
        pytest.param("inputs.topics | join(', ') | lower", "ai chips, batteries", id="filters"),
        pytest.param("inputs.missing | default('x')", "x", id="default"),
        pytest.param("steps.count.output | tojson", '{"words": 42}', id="tojson"),
        pytest.param("inputs.n * 2 + 1", 7, id="arithmetic"),
        pytest.param("not inputs.publish and inputs.n >= 3", True, id="logic"),
        pytest.param("[inputs.n, {'k': topic}]", [3, {"k": "AI chips"}], id="literals"),
        pytest.param("(1, 2)", [1, 2], id="tuple-becomes-list"),
        pytest.param("steps.items.output", [1, 2], id="step-named-like-a-dict-method"),
    ],
)
def test_evaluate_native_values(source: str, value: Any) -> None:
    got = evaluate(source, SCOPE)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            " steps.count.output.y ",
            "expression '${{ steps.count.output.y }}' failed: 'dict object' has no attribute 'y'",
            id="missing-attribute",
        ),
        pytest.param(
            "nothing",
            "expression '${{ nothing }}' failed: 'nothing' is undefined",
            id="undefined-name",
        ),
        pytest.param(
            "[1, nothing]",
            "expression '${{ [1, nothing] }}' failed: 'nothing' is undefined",
            id="undefined-inside-a-list",
        ),
        pytest.param(
            "{'a': {'b': nothing}}",
            "expression '${{ {'a': {'b': nothing}} }}' failed: 'nothing' is undefined",
            id="undefined-inside-a-dict",
        ),
        pytest.param(
            "inputs.topics[5]",
            "expression '${{ inputs.topics[5] }}' failed: list object has no element 5",
            id="index-out-of-range",
        ),
        pytest.param(
            "inputs.n / 0",
            "expression '${{ inputs.n / 0 }}' failed: division by zero",
            id="zero-division",
        ),
        pytest.param(
            "inputs.n + topic",
            "expression '${{ inputs.n + topic }}' failed: "
            "unsupported operand type(s) for +: 'int' and 'str'",
            id="type-error",
        ),
        pytest.param(
            "inputs.__class__",
            "expression '${{ inputs.__class__ }}' failed: "
            "access to attribute '__class__' of 'dict' object is unsafe.",
            id="sandbox",
        ),
        pytest.param(
            "inputs.topics.append('x')",
            "expression '${{ inputs.topics.append('x') }}' failed: "
            "access to attribute 'append' of 'list' object is unsafe.",
            id="mutation",
        ),
        pytest.param(
            "'ab' * 1000000",
            "expression '${{ 'ab' * 1000000 }}' failed: exceeds the size budget "
            "('*' would make 2,000,000 characters > 1 MiB)",
            id="huge-string",
        ),
        pytest.param(
            "10 ** 10000000",
            "expression '${{ 10 ** 10000000 }}' failed: exceeds the size budget "
            "('**' would make 13,333,333 characters > 1 MiB)",
            id="huge-power",
        ),
        pytest.param(
            "1 2",
            "expression '${{ 1 2 }}' failed: unexpected '2' after expression",
            id="syntax",
        ),
        pytest.param("", "expression '${{ }}' failed: empty expression", id="empty"),
        pytest.param(
            "steps.count.output.items",
            "expression '${{ steps.count.output.items }}' failed: 'items' is not a key here "
            "but a method; an expression gives a value (write items() to call it, or check "
            "the key's name)",
            id="method-for-a-missing-key",
        ),
        pytest.param(
            "[input.text.upper]",
            "expression '${{ [input.text.upper] }}' failed: 'upper' is not a key here "
            "but a method; an expression gives a value (write upper() to call it, or check "
            "the key's name)",
            id="method-inside-a-list",
        ),
        pytest.param(
            "range",
            "expression '${{ range }}' failed: it gives a function, not a value (call it with ())",
            id="function",
        ),
    ],
)
def test_evaluate_errors(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(source, SCOPE)
    assert str(info.value) == message


def test_expression_error_is_a_value_error_with_its_parts() -> None:
    with pytest.raises(ValueError) as info:
        evaluate("steps.nope.output", SCOPE)
    assert isinstance(info.value, ExpressionError)
    assert info.value.source == "steps.nope.output"
    assert info.value.reason == "'dict object' has no attribute 'nope'"


def test_small_products_and_powers_still_work() -> None:
    assert evaluate("'ab' * 3", {}) == "ababab"
    assert evaluate("[0] * 2", {}) == [0, 0]
    assert evaluate("2 ** 10", {}) == 1024


@pytest.mark.parametrize(
    ("source", "value"),
    [
        pytest.param("inputs.topics[1]", "batteries", id="list-index"),
        pytest.param("inputs.topics.1", "batteries", id="list-index-dotted"),
        pytest.param("inputs.topics[-1]", "batteries", id="negative-index"),
        pytest.param("steps['draft'].output", "A draft.", id="mixed-access"),
        pytest.param("thing.name", "from an object", id="object-attribute"),
        pytest.param("thing.items[0]", "a", id="list-in-an-object"),
        pytest.param("steps.draft.output.upper()", "A DRAFT.", id="safe-method"),
    ],
)
def test_paths_over_data_and_objects(source: str, value: Any) -> None:
    thing = SimpleNamespace(name="from an object", items=["a"])
    assert evaluate(source, MappingProxyType({**SCOPE, "thing": thing})) == value


def test_evaluate_reads_the_scope_it_is_given_each_time() -> None:
    assert evaluate("x + 1", {"x": 1}) == 2
    assert evaluate("x + 1", {"x": 41}) == 42


# -- render ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        pytest.param("${{ inputs.topics }}", ["AI chips", "batteries"], id="whole-list"),
        pytest.param("  ${{ inputs.n }}\n", 3, id="whole-with-spaces"),
        pytest.param("${{ steps.draft.error }}", None, id="whole-none"),
        pytest.param("Summarize ${{ topic }}.", "Summarize AI chips.", id="interpolated"),
        pytest.param("n=${{ inputs.n }}", "n=3", id="number-as-text"),
        pytest.param("ok=${{ inputs.publish }}", "ok=false", id="bool-as-json"),
        pytest.param("e=${{ steps.draft.error }}.", "e=.", id="none-as-nothing"),
        pytest.param("From: ${{ steps.count.output }}", 'From: {"words": 42}', id="object-as-json"),
        pytest.param(
            "${{ inputs.topics }} and ${{ index }}",
            '["AI chips", "batteries"] and 0',
            id="two-expressions",
        ),
        pytest.param("no expression", "no expression", id="plain"),
        pytest.param("${ not one }", "${ not one }", id="near-miss"),
        pytest.param(42, 42, id="int"),
        pytest.param(None, None, id="none"),
        pytest.param(
            {"text": "${{ steps.draft.output }}", "n": "${{ inputs.n }}", "k": True},
            {"text": "A draft.", "n": 3, "k": True},
            id="dict",
        ),
        pytest.param(
            ["${{ topic }}", ["${{ index }}"], {"x": "${{ loop.iteration }}!"}],
            ["AI chips", [0], {"x": "2!"}],
            id="nested",
        ),
    ],
)
def test_render(value: Any, rendered: Any) -> None:
    assert render(value, SCOPE) == rendered


def test_render_returns_plain_text_unchanged() -> None:
    text = "a long prompt without expressions"
    assert render(text, SCOPE) is text


def test_render_keeps_unicode_in_json() -> None:
    assert render("${{ x }}!", {"x": {"t": "21 °C"}}) == '{"t": "21 °C"}!'


def test_render_error_names_the_failing_expression() -> None:
    with pytest.raises(ExpressionError) as info:
        render({"a": ["ok ${{ topic }}", "${{ steps.count.output.nope }}"]}, SCOPE)
    assert str(info.value) == (
        "expression '${{ steps.count.output.nope }}' failed: 'dict object' has no attribute 'nope'"
    )


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        pytest.param("${{ a }}", [1], id="whole"),
        pytest.param("\t${{ a }}\n", [1], id="whole-with-spaces"),
        pytest.param("${{ a }} ${{ b }}", "[1] 2", id="two"),
        pytest.param("${{ a }}${{ b }}", "[1]2", id="two-adjacent"),
        pytest.param("${{ a }}}", "[1]}", id="extra-brace-is-text"),
        pytest.param("${{ '${{' ~ b }}", "${{2", id="opening-braces-in-a-string"),
    ],
)
def test_render_splits_expressions_as_validation_finds_them(text: str, rendered: Any) -> None:
    assert render(text, {"a": [1], "b": 2}) == rendered

"""The fast meta-schema pre-check never calls an invalid schema valid."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agentgo_cli.manifests._schema_check import quick_instance_valid, quick_valid

META = Draft202012Validator(Draft202012Validator.META_SCHEMA)

KEYWORDS = [
    "type", "properties", "required", "items", "prefixItems", "enum", "const", "minimum",
    "maximum", "exclusiveMinimum", "multipleOf", "minLength", "maxItems", "pattern", "format",
    "additionalProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$defs",
    "$ref", "$id", "$anchor", "$schema", "dependentRequired", "dependentSchemas",
    "uniqueItems", "deprecated", "title", "description", "default", "examples", "x-custom",
    "contains", "minContains", "unevaluatedProperties", "$vocabulary", "dependencies",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["string", "integer", "object", "array", "x", "", "#a", "a b"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYWORDS + ["a", "b"]), inner, max_size=3),
    ),
    max_leaves=12,
)
schemas = st.recursive(
    st.one_of(st.booleans(), st.dictionaries(st.sampled_from(KEYWORDS), values, max_size=4)),
    lambda inner: st.dictionaries(
        st.sampled_from(KEYWORDS),
        st.one_of(
            inner,
            values,
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
        ),
        max_size=4,
    ),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(schemas)
def test_quick_valid_is_sound(schema: Any) -> None:
    if quick_valid(schema):
        assert META.is_valid(schema), schema


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        {"type": ["string", "null"], "maxLength": 5},
        {"items": {"enum": [1, 2]}, "minItems": 0, "uniqueItems": True},
        {"anyOf": [{"type": "integer", "minimum": 0}, {"const": "x"}], "x-ui": {"w": 1}},
        True,
    ],
)
def test_common_schemas_take_the_fast_path(schema: Any) -> None:
    assert quick_valid(schema)
    assert META.is_valid(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "strin"},
        {"required": ["a", "a"]},
        {"minLength": -1},
        {"properties": {"a": 3}},
        {"anyOf": []},
        {"minimum": True},
        "object",
    ],
)
def test_invalid_schemas_are_left_to_jsonschema(schema: Any) -> None:
    assert not quick_valid(schema)
    assert not META.is_valid(schema)


instances = st.recursive(
    scalars | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=8,
)
simple_schemas = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["string", "integer", "number", "boolean", "array", "null"])
        | st.lists(st.sampled_from(["string", "integer", "null"]), min_size=1, max_size=2),
        "enum": st.lists(scalars, max_size=3),
        "minimum": st.integers(-2, 2),
        "maximum": st.floats(-2, 2, allow_nan=False),
        "minLength": st.integers(0, 3),
        "maxItems": st.integers(0, 2),
        "items": st.fixed_dictionaries({"type": st.sampled_from(["string", "integer"])}),
        "properties": st.dictionaries(
            st.sampled_from(["", "a", "b"]),
            st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "array"])}),
            max_size=2,
        ),
        "required": st.lists(st.sampled_from(["", "a", "b"]), unique=True, max_size=2),
        "description": st.text(max_size=3),
    },
)


@settings(max_examples=500, deadline=None)
@given(simple_schemas, instances)
def test_quick_instance_valid_is_sound(schema: dict[str, Any], value: Any) -> None:
    if META.is_valid(schema) and quick_instance_valid(schema, value):
        assert Draft202012Validator(schema).is_valid(value), (schema, value)


@pytest.mark.parametrize(
    ("schema", "value", "fast"),
    [
        ({"type": "array", "items": {"type": "string"}}, ["a", "b"], True),
        ({"type": "boolean"}, False, True),
        ({"type": "integer", "minimum": 1}, 0, False),
        ({"type": "string", "enum": ["a"]}, "b", False),
        ({"type": "integer"}, True, False),
        ({"type": "string", "pattern": "^a"}, "a", False),
        ({"type": "object", "properties": {"id": {"type": "string"}}}, {"id": "x", "n": 1}, True),
        ({"type": "object", "required": ["id"]}, {}, False),
    ],
)
def test_quick_instance_valid_examples(schema: dict[str, Any], value: Any, fast: bool) -> None:
    assert quick_instance_valid(schema, value) is fast

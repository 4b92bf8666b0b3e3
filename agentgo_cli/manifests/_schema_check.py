"""A fast, sound pre-check of embedded JSON Schemas against the draft 2020-12 meta-schema.

jsonschema's meta-validation costs about 0.7 ms a schema (``$dynamicRef`` resolution), which
is most of ``agentgo validate`` on a large set. ``quick_valid`` checks the shapes of the
keywords the meta-schema constrains and answers True only when the schema is certainly
valid; anything it is unsure of returns False, and the caller asks jsonschema, which also
writes the error message. Unknown keywords are valid in 2020-12 (the meta-schema allows them).
"""

from __future__ import annotations

from typing import Any

__all__ = ["quick_instance_valid", "quick_valid"]

_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_SUBSCHEMA = frozenset(
    {
        "additionalProperties", "items", "contains", "not", "if", "then", "else",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    }
)  # fmt: skip
_SCHEMA_MAP = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_COUNT = frozenset(
    {
        "maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties",
        "maxContains", "minContains",
    }
)  # fmt: skip
_NUMBER = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_TEXT = frozenset(
    {
        "title", "description", "$comment", "$ref", "$dynamicRef", "pattern", "format",
        "contentEncoding", "contentMediaType",
    }
)  # fmt: skip
_FLAG = frozenset({"deprecated", "readOnly", "writeOnly", "uniqueItems"})
_UNSURE = frozenset(
    {
        "$id", "$schema", "$anchor", "$dynamicAnchor", "$vocabulary", "dependencies",
        "$recursiveAnchor", "$recursiveRef",
    }
)  # fmt: skip
_MAX_DEPTH = 64


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unique_strings(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == len(value)
    )


def quick_valid(schema: Any, depth: int = 0) -> bool:
    """True only if ``schema`` is certainly a valid draft 2020-12 schema."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return False
    for key, value in schema.items():
        if key in _SUBSCHEMA:
            ok = quick_valid(value, depth + 1)
        elif key in _SCHEMA_MAP:
            ok = isinstance(value, dict) and all(quick_valid(v, depth + 1) for v in value.values())
        elif key in _SCHEMA_LIST:
            ok = (
                isinstance(value, list)
                and len(value) > 0
                and all(quick_valid(v, depth + 1) for v in value)
            )
        elif key == "type":
            ok = (isinstance(value, str) and value in _TYPES) or (
                isinstance(value, list)
                and len(value) > 0
                and all(isinstance(v, str) and v in _TYPES for v in value)
                and len(set(value)) == len(value)
            )
        elif key == "required":
            ok = _unique_strings(value)
        elif key == "dependentRequired":
            ok = isinstance(value, dict) and all(_unique_strings(v) for v in value.values())
        elif key == "enum" or key == "examples":
            ok = isinstance(value, list)
        elif key in _COUNT:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif key in _NUMBER:
            ok = _is_number(value)
        elif key == "multipleOf":
            ok = _is_number(value) and value > 0
        elif key in _TEXT:
            ok = isinstance(value, str)
        elif key in _FLAG:
            ok = isinstance(value, bool)
        elif key in _UNSURE:
            ok = False
        else:
            ok = True  # default, const, and keywords the meta-schema does not constrain
        if not ok:
            return False
    return True


_INSTANCE_KEYS = frozenset(
    {
        "type", "description", "title", "default", "examples", "items", "enum", "minimum",
        "maximum", "minLength", "maxLength", "minItems", "maxItems", "format", "$comment",
        "deprecated", "readOnly", "writeOnly", "properties", "required",
    }
)  # fmt: skip


_LENGTHS: tuple[tuple[str, int, type[str] | type[list[Any]]], ...] = (
    ("minLength", 1, str),
    ("maxLength", -1, str),
    ("minItems", 1, list),
    ("maxItems", -1, list),
)


def _has_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if name == "number":
        return _is_number(value)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return name == "null" and value is None


def quick_instance_valid(schema: Any, value: Any) -> bool:
    """True only if ``value`` certainly validates against a simple, valid ``schema``.

    Used for workflow input defaults, which are mostly plain typed values; anything else
    (or any doubt) returns False and the caller asks jsonschema.
    """
    if schema is True:
        return True
    if not isinstance(schema, dict) or not schema.keys() <= _INSTANCE_KEYS:
        return False
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(k, str) and _has_type(value, k) for k in kinds):
            return False
    if "enum" in schema and not (
        isinstance(schema["enum"], list)
        and any(type(v) is type(value) and v == value for v in schema["enum"])
    ):
        return False
    bounds = (("minimum", 1), ("maximum", -1))
    for key, sign in bounds:
        if key in schema:
            limit = schema[key]
            if not (_is_number(value) and _is_number(limit)) or sign * (value - limit) < 0:
                return False
    for key, sign, typ in _LENGTHS:
        if key in schema:
            limit = schema[key]
            if not isinstance(value, typ) or not isinstance(limit, int):
                return False
            if sign * (len(value) - limit) < 0:
                return False
    if "items" in schema and isinstance(value, list):
        return all(quick_instance_valid(schema["items"], v) for v in value)
    if isinstance(value, dict):
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        if not isinstance(required, list) or not isinstance(properties, dict):
            return False
        if any(r not in value for r in required):
            return False
        return all(
            quick_instance_valid(properties[k], v) for k, v in value.items() if k in properties
        )
    return True

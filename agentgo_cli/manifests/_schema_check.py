"""A fast, sound pre-check of embedded JSON Schemas against the draft 2020-12 meta-schema.

jsonschema's meta-validation costs about 0.7 ms a schema (``$dynamicRef`` resolution), which
is most of ``agentgo validate`` on a large set. ``quick_valid`` checks the shapes of the
keywords the meta-schema constrains and answers True only when the schema is certainly
valid; anything it is unsure of returns False, and the caller asks jsonschema, which also
writes the error message. Unknown keywords are valid in 2020-12 (the meta-schema allows them).
"""

from __future__ import annotations

from typing import Any

__all__ = ["quick_valid"]

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

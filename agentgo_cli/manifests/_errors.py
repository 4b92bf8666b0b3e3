"""Turn pydantic validation errors into ManifestErrors at the right line and column."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from agentgo_cli.errors import ManifestError
from agentgo_cli.manifests._text import did_you_mean, type_name
from agentgo_cli.manifests.loader import Document, PathKey
from agentgo_cli.manifests.types import (
    CALL_PATTERN,
    ENTRYPOINT_PATTERN,
    IDENTIFIER_PATTERN,
    INTENT_PATTERN,
    NAME_PATTERN,
    STORE_PATTERN,
    TARGET_PATTERN,
    URL_PATTERN,
)

__all__ = ["errors_from_validation"]

_PATTERN_HELP = {
    NAME_PATTERN: "use lower-case letters, digits and '-', starting with a letter (at most 63)",
    IDENTIFIER_PATTERN: "use letters, digits and '_', not starting with a digit, so that "
    "expressions can read it (steps.<id>, inputs.<name>)",
    INTENT_PATTERN: "use dotted lower-case words, e.g. research.summarize",
    CALL_PATTERN: "write an intent and an optional version range, e.g. research.summarize@^1",
    TARGET_PATTERN: "write agent:<name>, team:<name> or a2a:https://host/path",
    ENTRYPOINT_PATTERN: "write module.path:function, e.g. mypkg.tools:count_words",
    STORE_PATTERN: "write sqlite:///path/to/file.db or postgresql://user@host:5432/db",
    URL_PATTERN: "write an http:// or https:// URL",
}

_TYPE_ERRORS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "step_mapping": "a mapping",
}


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so the walker sees the type that shapes the data."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _field(model: type[BaseModel], token: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == token:
            return info.annotation
    return None


def _walk(model: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[PathKey, type | None]:
    """Map a pydantic loc to a data path, dropping union tags; also return the last model."""
    path: list[str | int] = []
    tp: Any = model
    last_model: type[BaseModel] | None = model
    for token in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            last_model = tp
            path.append(token)
            tp = _field(tp, str(token))
            continue
        if origin in (typing.Union, types.UnionType):
            members = [_unwrap(a) for a in typing.get_args(tp)]
            chosen = next((m for m in members if getattr(m, "__name__", None) == token), None)
            if chosen is not None:
                tp = chosen
                continue
            if isinstance(token, str) and "[" in token:
                continue  # a pydantic branch label such as 'function-plain[...]'
            path.append(token)
            tp = None
            continue
        path.append(token)
        args = typing.get_args(tp)
        if origin is list and args:
            tp = args[0]
        elif origin is dict and len(args) == 2:
            tp = args[1]
        else:
            tp = None
    final = _unwrap(tp)
    if isinstance(final, type) and issubclass(final, BaseModel):
        last_model = final
    return tuple(path), last_model


def _field_names(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _message(err: Any, parent_model: type[BaseModel] | None) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind in _TYPE_ERRORS:
        return f"expected {_TYPE_ERRORS[kind]}, got {type_name(value)}", "type"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {value!r}", "enum"
    if kind == "string_pattern_mismatch":
        help_text = _PATTERN_HELP.get(ctx.get("pattern", ""), f"must match {ctx.get('pattern')}")
        return f"invalid value '{value}': {help_text}", "pattern"
    if kind in ("too_short", "string_too_short"):
        if ctx.get("min_length") == 1:
            return "must not be empty", "too-short"
        return f"needs at least {ctx.get('min_length')} items", "too-short"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {op} {limit}, got {value!r}", "range"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    return (msg[:1].lower() + msg[1:]), kind


def errors_from_validation(
    doc: Document, model: type[BaseModel], exc: ValidationError
) -> list[ManifestError]:
    """One ManifestError per pydantic error, positioned from the document's marks."""
    out: list[ManifestError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "missing":
            path, _ = _walk(model, loc)
            out.append(
                doc.error(path[:-1], f"missing required field '{path[-1]}'", "missing-field")
            )
            continue
        if kind == "extra_forbidden":
            path, _ = _walk(model, loc)
            parent_path, parent_model = _walk(model, loc[:-1])
            hint = did_you_mean(str(path[-1]), _field_names(parent_model))
            out.append(
                doc.error(path, f"unknown field '{path[-1]}'{hint}", "unknown-field", key=True)
            )
            continue
        is_key = bool(loc) and loc[-1] == "[key]"
        path, last = _walk(model, loc[:-1] if is_key else loc)
        message, code = _message(err, last)
        out.append(doc.error(path, message, code, key=is_key))
    return out

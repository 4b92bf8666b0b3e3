"""Workflow inputs: defaults, types and required values, checked before a job starts."""

from __future__ import annotations

import sys
from typing import Any

from agentgo_cli.errors import UsageError

__all__ = ["parse_cli_value", "prepare_inputs"]


def parse_cli_value(raw: str, schema: dict[str, Any] | None, *, name: str = "value") -> Any:
    """Turn ``-i name=value`` text into a value: kept as text for string inputs, else YAML.

    Text that is not YAML stays text; a number too long to convert or a value nested too
    deeply is a UsageError naming the input.
    """
    if schema is not None and schema.get("type") == "string":
        return raw
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    except RecursionError:
        raise UsageError(f"input '{name}': nested too deeply") from None
    except ValueError:  # an impossible date, or an integer past Python's digit limit
        limit = sys.get_int_max_str_digits()
        if limit and sum(c.isdigit() for c in raw) > limit:
            raise UsageError(
                f"input '{name}': a number with more than {limit} digits is too long"
            ) from None
        return raw


def prepare_inputs(schemas: dict[str, dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """Apply defaults, then check every given input against its schema; raise UsageError.

    Defaults are not checked again: validating the manifest set already did.
    """
    if not schemas and not given:
        return {}
    unknown = sorted(set(given) - set(schemas))
    if unknown:
        from agentgo_cli.manifests._text import did_you_mean

        name = unknown[0]
        raise UsageError(
            f"unknown input '{name}'{did_you_mean(name, schemas)}; "
            f"this workflow takes: {', '.join(schemas) or 'no inputs'}"
        )
    values: dict[str, Any] = {}
    for name, schema in schemas.items():
        if name in given:
            values[name] = given[name]
        elif "default" in schema:
            values[name] = schema["default"]
        else:
            raise UsageError(f"missing required input '{name}' (pass -i {name}=VALUE)")
    from agentgo_cli.manifests._schema_check import quick_instance_valid

    # Defaults were checked against their schemas when the manifests were validated.
    for name in given:
        schema = schemas[name]
        if quick_instance_valid(schema, values[name]):
            continue
        # Only a value the quick check cannot vouch for pays for importing jsonschema.
        from jsonschema.exceptions import best_match

        from agentgo_cli.tools.registry import validator_for

        error = best_match(validator_for(schema).iter_errors(values[name]))
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            raise UsageError(f"input '{name}{where}': {error.message}")
    return values

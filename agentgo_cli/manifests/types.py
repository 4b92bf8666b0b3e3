"""Scalar types used in manifests: names, durations, sizes, model references, semver, expressions.

Each is a ``str`` subclass so a manifest round-trips exactly as written, with the parsed
value on a property (``Duration("5m").seconds == 300``). Each declares its JSON Schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from agentgo_cli.manifests._text import did_you_mean, quote_list, type_name

__all__ = [
    "CALL_PATTERN",
    "ENTRYPOINT_PATTERN",
    "PROVIDERS",
    "STORE_PATTERN",
    "TARGET_PATTERN",
    "URL_PATTERN",
    "Duration",
    "Expression",
    "Identifier",
    "IntentName",
    "ModelRef",
    "Name",
    "SecretRef",
    "SemVer",
    "Size",
    "ExprOr",
    "OneOf",
    "is_expression",
]

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""A manifest name: lower-case letters, digits and '-', starting with a letter, at most 63."""

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""A name used inside expressions (step ids, foreach variables): letters, digits and '_'."""

INTENT_PATTERN = r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$"
CALL_PATTERN = r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+(@[^@\s]+)?$"
"""An intent and an optional version range: research.summarize, research.summarize@^1."""
TARGET_PATTERN = r"^((agent|team):[a-z][a-z0-9-]{0,62}|a2a:https?://[^\s/?#]+(/[^\s#]*)?)$"
"""A Capability's target: an agent or team of the set, or a remote A2A agent's URL."""
ENTRYPOINT_PATTERN = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$"
STORE_PATTERN = r"^(sqlite:///.+|postgres(ql)?://.+)$"
URL_PATTERN = r"^https?://.+$"
IntentName = Annotated[str, StringConstraints(pattern=INTENT_PATTERN)]
"""A dotted intent name such as research.summarize."""


class _CheckedStr(str):
    """A str subclass validated by ``_parse``; subclasses set the JSON Schema bits."""

    json_pattern: ClassVar[str | None] = None
    json_description: ClassVar[str] = ""
    json_examples: ClassVar[list[str]] = []
    invalid: ClassVar[tuple[str, str]] = ("", "")
    """(error code, message template with {value}) for text that does not match json_pattern."""

    @classmethod
    def _parse(cls, value: str) -> _CheckedStr:
        """Accept text matching ``json_pattern``; subclasses with more rules override this."""
        if cls.json_pattern is None or not re.match(cls.json_pattern, value):
            raise PydanticCustomError(cls.invalid[0], cls.invalid[1], {"value": value})
        return cls(value)

    @classmethod
    def _validate(cls, value: Any) -> _CheckedStr:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError(
                "checked_type",
                "expected {what}, got {got}",
                {"what": cls.json_description, "got": type_name(value)},
            )
        return cls._parse(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out: dict[str, Any] = {"type": "string", "description": cls.json_description}
        if cls.json_pattern:
            out["pattern"] = cls.json_pattern
        if cls.json_examples:
            out["examples"] = cls.json_examples
        return out


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class Duration(_CheckedStr):
    """A duration such as 250ms, 30s, 5m, 2h or 1d."""

    json_pattern = _DURATION_RE.pattern
    json_description = "a duration such as '250ms', '30s', '5m', '2h' or '1d'"
    json_examples = ["30s", "5m"]
    invalid = (
        "duration",
        "invalid duration '{value}': write a number and a unit, e.g. 250ms, 30s, 5m, 2h, 1d",
    )

    @property
    def seconds(self) -> float:
        m = _DURATION_RE.match(self)
        assert m is not None
        return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_SIZE_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


class Size(_CheckedStr):
    """A size in bytes such as 128Mi or 1Gi (Ki/Mi/Gi/Ti binary, k/M/G/T decimal)."""

    json_pattern = _SIZE_RE.pattern
    json_description = "a size such as '128Mi' or '1Gi'"
    json_examples = ["128Mi", "1Gi"]
    invalid = ("size", "invalid size '{value}': write a number and a unit, e.g. 128Mi, 1Gi")

    @property
    def bytes(self) -> int:
        m = _SIZE_RE.match(self)
        assert m is not None
        return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


PROVIDERS = ("openai", "anthropic", "gemini", "litellm", "ollama", "scripted")


class ModelRef(_CheckedStr):
    """A model reference 'provider:name', e.g. openai:gpt-4o-mini or scripted:demo."""

    json_pattern = r"^(" + "|".join(PROVIDERS) + r"):\S+$"
    json_description = "a model reference 'provider:name', e.g. 'openai:gpt-4o-mini'"
    json_examples = ["openai:gpt-4o-mini", "scripted:demo"]

    @property
    def provider(self) -> str:
        return self.split(":", 1)[0]

    @property
    def model(self) -> str:
        return self.split(":", 1)[1]

    @classmethod
    def _parse(cls, value: str) -> ModelRef:
        provider, sep, name = value.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in value):
            raise PydanticCustomError(
                "model_ref",
                "invalid model reference '{value}': write provider:name, e.g. openai:gpt-4o-mini",
                {"value": value},
            )
        if provider not in PROVIDERS:
            raise PydanticCustomError(
                "model_provider",
                "unknown model provider '{provider}'{hint}; known providers: {known}",
                {
                    "provider": provider,
                    "hint": did_you_mean(provider, PROVIDERS),
                    "known": ", ".join(PROVIDERS),
                },
            )
        return cls(value)


_SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class SemVer(_CheckedStr):
    """A semantic version such as 1.2.0 or 2.0.0-rc.1."""

    json_pattern = _SEMVER_RE.pattern
    json_description = "a semantic version such as '1.2.0'"
    json_examples = ["1.0.0", "1.2.0"]
    invalid = ("semver", "invalid version '{value}': write MAJOR.MINOR.PATCH, e.g. 1.2.0")

    @property
    def parts(self) -> tuple[int, int, int]:
        m = _SEMVER_RE.match(self)
        assert m is not None
        return int(m.group(1)), int(m.group(2)), int(m.group(3))

    @property
    def prerelease(self) -> str | None:
        m = _SEMVER_RE.match(self)
        assert m is not None
        return m.group(4)

    @classmethod
    def _validate(cls, value: Any) -> _CheckedStr:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise PydanticCustomError(
                "semver",
                "invalid version {value}: YAML read it as a number; write MAJOR.MINOR.PATCH "
                'in quotes, e.g. "1.2.0"',
                {"value": value},
            )
        return super()._validate(value)


_EXPR_RE = re.compile(r"^\$\{\{(.*)\}\}$", re.DOTALL)


def is_expression(value: object) -> bool:
    """Tell whether a value is exactly one ``${{ expr }}`` (and so takes the expression's type)."""
    if not isinstance(value, str):
        return False
    m = _EXPR_RE.match(value.strip())
    return m is not None and "}}" not in m.group(1) and "${{" not in m.group(1)


class Expression(_CheckedStr):
    """A value that is exactly one ``${{ expr }}``, evaluated at run time."""

    json_pattern = r"^\s*\$\{\{[\s\S]*\}\}\s*$"
    json_description = "an expression '${{ ... }}'"
    json_examples = ["${{ inputs.topics }}"]

    @property
    def source(self) -> str:
        m = _EXPR_RE.match(self.strip())
        assert m is not None
        return m.group(1).strip()

    @classmethod
    def _parse(cls, value: str) -> Expression:
        if not is_expression(value):
            raise PydanticCustomError(
                "expression",
                "expected one expression '${{ ... }}', got '{value}'",
                {"value": value},
            )
        return cls(value)


_SECRET_RE = re.compile(r"\$\{(env|file):([^}]*)\}")


class SecretRef(_CheckedStr):
    """A config value that may hold ${env:NAME} or ${file:/path} references, read at use time."""

    json_description = "a value, or a secret reference '${env:NAME}' / '${file:/path}'"
    json_examples = ["${env:OPENAI_API_KEY}"]

    @classmethod
    def _parse(cls, value: str) -> SecretRef:
        for m in _SECRET_RE.finditer(value):
            source, arg = m.group(1), m.group(2)
            if source == "env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg):
                raise PydanticCustomError(
                    "secret_ref",
                    "invalid secret reference '{ref}': ${env:NAME} needs a variable name",
                    {"ref": m.group(0)},
                )
            if source == "file" and not arg:
                raise PydanticCustomError(
                    "secret_ref",
                    "invalid secret reference '{ref}': ${file:/path} needs a path",
                    {"ref": m.group(0)},
                )
        if "${" in _SECRET_RE.sub("", value) and "${{" not in value:
            raise PydanticCustomError(
                "secret_ref",
                "invalid secret reference in '{value}': use ${env:NAME} or ${file:/path}",
                {"value": value},
            )
        return cls(value)

    def __repr__(self) -> str:
        return (
            "SecretRef('***')" if _SECRET_RE.search(self) is None else f"SecretRef({str(self)!r})"
        )


@dataclass(frozen=True)
class ExprOr:
    """Annotated marker: take one ``${{ expr }}`` or a value of the accepted types."""

    accepted: tuple[type, ...]
    what: str
    schema: dict[str, Any]

    def _validate(self, value: Any) -> Any:
        if isinstance(value, str):
            return Expression._parse(value)
        if isinstance(value, self.accepted) and not (
            isinstance(value, bool) and bool not in self.accepted
        ):
            return value
        raise PydanticCustomError(
            "expr_or",
            "expected {what} or an expression '${{ ... }}', got {got}",
            {"what": self.what, "got": type_name(value)},
        )

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        expr = {
            "type": "string",
            "pattern": Expression.json_pattern,
            "description": Expression.json_description,
        }
        return {"anyOf": [self.schema, expr]}

    def __hash__(self) -> int:
        return hash((self.accepted, self.what))


@dataclass(frozen=True)
class OneOf:
    """Annotated marker: one of a few strings, with a did-you-mean message."""

    values: tuple[str, ...]
    what: str

    def _validate(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.values:
            return value
        known = quote_list(self.values)
        if not isinstance(value, str):
            raise PydanticCustomError(
                "enum",
                "expected {what} ({known}), got {got}",
                {"what": self.what, "known": known, "got": type_name(value)},
            )
        raise PydanticCustomError(
            "enum",
            "unknown {what} '{value}'{hint}; expected {known}",
            {
                "what": self.what,
                "value": value,
                "hint": did_you_mean(value, self.values),
                "known": known,
            },
        )

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.values)}

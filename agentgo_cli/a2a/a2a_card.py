"""The catalog as A2A AgentCards (A2A protocol 1.0): one card per agent or team.

Follows ``specification/a2a.proto`` of the A2A project (a2aproject/A2A), the normative
definition of A2A 1.0, in its JSON form (camelCase names, ProtoJSON). Each target becomes a
card whose skills are its intents, one skill per intent name (the newest version). What
A2A cannot say (each version's JSON Schemas, classification, rate limit, ACL, timeout) goes
in an AgentCard extension, ``EXTENSION_URI``, whose params hold every version of every
skill, keyed by skill id.

ACL scopes are expressed with one HTTP Bearer security scheme: the card requires a token,
and a skill that differs lists its alternatives: none for a ``public`` intent (anonymous
callers may call those), and each allow rule's scopes. Principals, scope globs and deny
rules are in the extension's params (``agentgo_cli.a2a.acl`` is the contract).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.discovery import newest
from agentgo_cli.semver import parse_version

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog, CatalogEntry

__all__ = [
    "EXTENSION_URI",
    "PROTOCOL_BINDING",
    "PROTOCOL_VERSION",
    "SECURITY_SCHEME",
    "agent_cards",
    "card_file_name",
    "interface_url",
    "server_card",
]

PROTOCOL_VERSION = "1.0"
PROTOCOL_BINDING = "JSONRPC"
EXTENSION_URI = "https://agentgo.dev/a2a/ext/intent-schemas/v1"
SECURITY_SCHEME = "agentgo"
"""The name of the card's one security scheme (HTTP Bearer: an AgentGo principal token)."""

_JSON = "application/json"
_TEXT = "text/plain"


def agent_cards(catalog: Catalog, *, base_url: str, agentgo_version: str) -> list[dict[str, Any]]:
    """One A2A 1.0 AgentCard per target of the catalog, ordered by target. Intents served by
    a remote A2A agent (``a2a:`` targets) are that agent's to publish, not ours."""
    by_target: dict[str, dict[str, list[CatalogEntry]]] = {}
    for entry in catalog.entries():  # by name, then version (newest last)
        if entry.target_kind == "a2a":
            continue
        by_target.setdefault(entry.target, {}).setdefault(entry.name, []).append(entry)
    return [
        _card(target, intents, base_url=base_url, agentgo_version=agentgo_version)
        for target, intents in sorted(by_target.items())
    ]


def interface_url(base_url: str, target: str) -> str:
    """Where ``agentgo serve`` answers A2A calls for a target: <base>/a2a/<kind>/<name>."""
    kind, _, name = target.partition(":")
    return f"{base_url.rstrip('/')}/a2a/{kind}/{name}"


def server_card(
    catalog: Catalog,
    *,
    name: str,
    interfaces: list[tuple[str, str]],
    agentgo_version: str,
) -> dict[str, Any]:
    """The one AgentCard of ``agentgo serve`` (ProtoJSON): every intent of the catalog as a
    skill (its newest version; a remote agent's intents are its own to publish), served at
    ``interfaces`` ((url, protocol binding) pairs), streaming, with the same Bearer scheme
    and intent-schemas extension as the per-target cards."""
    intents: dict[str, list[CatalogEntry]] = {}
    for entry in catalog.entries():  # by name, then version (newest last)
        if entry.target_kind != "a2a":
            intents.setdefault(entry.name, []).append(entry)
    card = _card(f"server:{name}", intents, base_url="", agentgo_version=agentgo_version)
    card["description"] = (
        f"The AgentGo project '{name}': send a message to one of its "
        f"{len(intents)} skill{'s' * (len(intents) != 1)} (metadata 'skill': <skill id>)."
    )
    card["supportedInterfaces"] = [
        {"url": url, "protocolBinding": binding, "protocolVersion": PROTOCOL_VERSION}
        for url, binding in interfaces
    ]
    card["version"] = agentgo_version
    card["capabilities"]["streaming"] = True
    return card


def card_file_name(card: dict[str, Any]) -> str:
    """'<target-kind>-<name>.json', the file ``agentgo catalog export --out`` writes."""
    kind, _, name = _target_of(card).partition(":")
    return f"{kind}-{name}.json"


def _card(
    target: str,
    intents: dict[str, list[CatalogEntry]],
    *,
    base_url: str,
    agentgo_version: str,
) -> dict[str, Any]:
    kind, _, name = target.partition(":")
    latest = {intent: newest(versions) for intent, versions in intents.items()}
    skills = [_skill(entry) for entry in latest.values()]
    modes_in = _union(skill["inputModes"] for skill in skills)
    modes_out = _union(skill["outputModes"] for skill in skills)
    version = max((e.version for e in latest.values()), key=parse_version, default="0.0.0")
    extension = {
        "uri": EXTENSION_URI,
        "description": (
            "AgentGo typed intents: every version of each skill with its input and output "
            "JSON Schemas, classification, rate limit, ACL (null: the default rule of the "
            "classification), idempotency TTL and timeout. Send a skill's input as a data "
            "part that matches its inputSchema."
        ),
        "required": False,
        "params": {
            "target": target,
            "agentgoVersion": agentgo_version,
            "skills": {
                intent: {
                    "latest": latest[intent].version,
                    "versions": [_version_params(entry) for entry in versions],
                }
                for intent, versions in intents.items()
            },
        },
    }
    return {
        "name": name,
        "description": _card_description(kind, name, list(latest.values())),
        "supportedInterfaces": [
            {
                "url": interface_url(base_url, target),
                "protocolBinding": PROTOCOL_BINDING,
                "protocolVersion": PROTOCOL_VERSION,
            }
        ],
        "version": version,
        "capabilities": {"streaming": False, "pushNotifications": False, "extensions": [extension]},
        "securitySchemes": {
            SECURITY_SCHEME: {
                "httpAuthSecurityScheme": {
                    "scheme": "Bearer",
                    "description": "A token naming the calling AgentGo principal.",
                }
            }
        },
        "securityRequirements": [_requirement([])],
        "defaultInputModes": modes_in,
        "defaultOutputModes": modes_out,
        "skills": skills,
    }


def _skill(entry: CatalogEntry) -> dict[str, Any]:
    intent = entry.intent
    skill: dict[str, Any] = {
        "id": entry.name,
        "name": entry.name,
        "description": intent.description or f"The intent {entry.name}.",
        "tags": list(intent.tags) or _name_words(entry.name),
        "examples": [_example_text(example.input) for example in intent.examples],
        "inputModes": _modes(intent.input),
        "outputModes": _modes(intent.output),
    }
    if not skill["examples"]:
        del skill["examples"]
    requirements = _requirements(entry)
    if requirements != [_requirement([])]:  # the card's own: any authenticated principal
        skill["securityRequirements"] = requirements
    return skill


def _version_params(entry: CatalogEntry) -> dict[str, Any]:
    intent = entry.intent
    return {
        "version": entry.version,
        "intent": entry.ref,
        "card": entry.card,
        "synthetic": entry.synthetic,
        "description": intent.description,
        "inputSchema": intent.input,
        "outputSchema": intent.output,
        "classification": intent.classification,
        "rateLimit": intent.rate_limit.model_dump(mode="json") if intent.rate_limit else None,
        "idempotencyTtl": intent.idempotency_ttl,
        "timeout": intent.timeout,
        "acl": intent.acl.model_dump(mode="json") if intent.acl else None,
        "examples": [e.model_dump(mode="json", exclude_none=True) for e in intent.examples],
    }


def _requirement(scopes: list[str]) -> dict[str, Any]:
    """A SecurityRequirement in ProtoJSON: scheme name → StringList of scopes."""
    return {"schemes": {SECURITY_SCHEME: {"list": scopes}}}


def _requirements(entry: CatalogEntry) -> list[dict[str, Any]]:
    """The ways in, as alternatives: anonymous for a public intent, then one per distinct
    scope set of the allow rules (a token with no scope when there are no allow rules)."""
    intent = entry.intent
    allow = intent.acl.allow if intent.acl else []
    scope_sets = sorted({tuple(sorted(rule.scopes)) for rule in allow}) or [()]
    anonymous: list[dict[str, Any]] = [{"schemes": {}}] if intent.classification == "public" else []
    return anonymous + [_requirement(list(scopes)) for scopes in scope_sets]


def _modes(schema: dict[str, Any] | None) -> list[str]:
    """Media types of a value with this schema: text for a string, JSON otherwise."""
    if schema is None:
        return [_JSON, _TEXT]
    return [_TEXT] if schema.get("type") == "string" else [_JSON]


def _union(lists: Iterable[list[str]]) -> list[str]:
    """The media types any skill takes (or gives), JSON first; never empty (A2A needs one)."""
    seen = {mode for modes in lists for mode in modes}
    return [mode for mode in (_JSON, _TEXT) if mode in seen] or [_JSON]


def _name_words(name: str) -> list[str]:
    """Tags for an intent that has none: the parts of its dotted name."""
    return list(dict.fromkeys(name.split(".")))


def _example_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _card_description(kind: str, name: str, latest: list[CatalogEntry]) -> str:
    if len(latest) == 1 and latest[0].intent.description:
        return latest[0].intent.description
    names = ", ".join(entry.name for entry in latest)
    count = f"{len(latest)} intent" + ("s" if len(latest) != 1 else "")
    return f"The AgentGo {kind} '{name}', serving {count}: {names}."


def _target_of(card: dict[str, Any]) -> str:
    for extension in card["capabilities"]["extensions"]:
        if extension["uri"] == EXTENSION_URI:
            return str(extension["params"]["target"])
    raise ValueError("not an AgentGo AgentCard: no intent-schemas extension")

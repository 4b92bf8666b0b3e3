"""The catalog as A2A 1.0 AgentCards.

The field lists below are taken from the A2A project's normative definition of protocol
1.0, ``specification/a2a.proto`` (a2aproject/A2A): the fields marked
``(google.api.field_behavior) = REQUIRED``, in their JSON (camelCase) names. The
specification (section 5.7) adds that a required array must hold at least one element.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentgo_cli.a2a.a2a_card import (
    EXTENSION_URI,
    agent_cards,
    card_file_name,
    interface_url,
)
from agentgo_cli.a2a.catalog import Catalog, CatalogEntry
from agentgo_cli.manifests.models.capability import Intent

AGENT_CARD_REQUIRED = {
    "name",
    "description",
    "supportedInterfaces",
    "version",
    "capabilities",
    "defaultInputModes",
    "defaultOutputModes",
    "skills",
}
AGENT_CARD_FIELDS = AGENT_CARD_REQUIRED | {
    "provider",
    "documentationUrl",
    "securitySchemes",
    "securityRequirements",
    "signatures",
    "iconUrl",
}
AGENT_INTERFACE_REQUIRED = {"url", "protocolBinding", "protocolVersion"}
AGENT_INTERFACE_FIELDS = AGENT_INTERFACE_REQUIRED | {"tenant"}
AGENT_CAPABILITIES_FIELDS = {"streaming", "pushNotifications", "extensions", "extendedAgentCard"}
AGENT_EXTENSION_FIELDS = {"uri", "description", "required", "params"}
AGENT_SKILL_REQUIRED = {"id", "name", "description", "tags"}
AGENT_SKILL_FIELDS = AGENT_SKILL_REQUIRED | {
    "examples",
    "inputModes",
    "outputModes",
    "securityRequirements",
}
SECURITY_SCHEME_KINDS = {
    "apiKeySecurityScheme",
    "httpAuthSecurityScheme",
    "oauth2SecurityScheme",
    "openIdConnectSecurityScheme",
    "mtlsSecurityScheme",
}

BASE = "http://localhost:8080"


def entry(target: str, card: str | None = "card", **fields: Any) -> CatalogEntry:
    return CatalogEntry(Intent.model_validate(fields), target, card)


RESEARCH = [
    entry(
        "agent:researcher",
        "research-card",
        name="research.summarize",
        version="1.0.0",
        description="Summarize a topic.",
        input={"type": "object", "required": ["topic"]},
    ),
    entry(
        "agent:researcher",
        "research-card",
        name="research.summarize",
        version="1.2.0",
        description="Summarize a topic from public sources.",
        tags=["research", "news"],
        input={"type": "object", "required": ["topic"]},
        output={"type": "object", "required": ["summary"]},
        classification="internal",
        acl={
            "allow": [
                {"principal": "team:research/*"},
                {"principal": "user:*", "scopes": ["research.read"]},
            ],
            "deny": [{"principal": "user:mallory"}],
        },
        rate_limit={"requests": 60, "per": "1m", "burst": 10},
        idempotency_ttl="24h",
        timeout="2m",
        examples=[{"input": {"topic": "solid-state batteries"}}],
    ),
    entry(
        "agent:researcher",
        "research-card",
        name="research.summarize",
        version="2.0.0-rc.1",
        description="Summarize with citations.",
    ),
]
WRITER = entry(
    "agent:writer",
    None,
    name="writer.run",
    version="1.0.0",
    description="Turns research notes into an article.",
    input={"type": "string"},
    output={"type": "string"},
)
DESK = [
    entry(
        "team:desk",
        "desk-card",
        name="desk.publish",
        version="1.0.0",
        description="Publish a digest.",
        tags=["publishing"],
        classification="public",
    ),
    entry("team:desk", "desk-card", name="desk.plan", version="0.3.0"),
]


def cards(*entries: CatalogEntry) -> list[dict[str, Any]]:
    return agent_cards(Catalog(entries), base_url=BASE, agentgo_version="0.1.0")


def check_agent_card(card: dict[str, Any]) -> None:
    """Every required field of A2A 1.0 is there, required arrays are not empty, and no
    field is one A2A 1.0 does not know."""
    assert AGENT_CARD_REQUIRED <= card.keys() <= AGENT_CARD_FIELDS
    for key in ("supportedInterfaces", "defaultInputModes", "defaultOutputModes", "skills"):
        assert card[key], key
    for interface in card["supportedInterfaces"]:
        assert AGENT_INTERFACE_REQUIRED <= interface.keys() <= AGENT_INTERFACE_FIELDS
        assert interface["protocolVersion"] == "1.0"
    assert card["capabilities"].keys() <= AGENT_CAPABILITIES_FIELDS
    for extension in card["capabilities"].get("extensions", []):
        assert extension.keys() <= AGENT_EXTENSION_FIELDS
        assert extension["uri"]
    for scheme in card.get("securitySchemes", {}).values():
        assert len(scheme) == 1 and scheme.keys() <= SECURITY_SCHEME_KINDS
    for skill in card["skills"]:
        assert AGENT_SKILL_REQUIRED <= skill.keys() <= AGENT_SKILL_FIELDS
        assert skill["tags"], skill["id"]
        assert isinstance(skill["description"], str) and skill["description"]
        assert all(isinstance(e, str) for e in skill.get("examples", []))
    for requirement in [
        *card.get("securityRequirements", []),
        *(r for s in card["skills"] for r in s.get("securityRequirements", [])),
    ]:
        assert requirement.keys() == {"schemes"}
        for name, scopes in requirement["schemes"].items():
            assert name in card["securitySchemes"]
            assert scopes.keys() == {"list"}
    ids = [skill["id"] for skill in card["skills"]]
    assert len(ids) == len(set(ids)), "skill ids must be unique in a card"
    assert json.loads(json.dumps(card)) == card


def extension_params(card: dict[str, Any]) -> dict[str, Any]:
    (extension,) = card["capabilities"]["extensions"]
    assert extension["uri"] == EXTENSION_URI
    assert extension["required"] is False
    params: dict[str, Any] = extension["params"]
    return params


def test_a_synthetic_card_in_full() -> None:
    (card,) = cards(WRITER)
    check_agent_card(card)
    assert card == {
        "name": "writer",
        "description": "Turns research notes into an article.",
        "supportedInterfaces": [
            {
                "url": "http://localhost:8080/a2a/agent/writer",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "version": "1.0.0",
        "capabilities": {
            "streaming": False,
            "pushNotifications": False,
            "extensions": [
                {
                    "uri": "https://agentgo.dev/a2a/ext/intent-schemas/v1",
                    "description": card["capabilities"]["extensions"][0]["description"],
                    "required": False,
                    "params": {
                        "target": "agent:writer",
                        "agentgoVersion": "0.1.0",
                        "skills": {
                            "writer.run": {
                                "latest": "1.0.0",
                                "versions": [
                                    {
                                        "version": "1.0.0",
                                        "intent": "writer.run@1.0.0",
                                        "card": None,
                                        "synthetic": True,
                                        "description": "Turns research notes into an article.",
                                        "inputSchema": {"type": "string"},
                                        "outputSchema": {"type": "string"},
                                        "classification": "internal",
                                        "rateLimit": None,
                                        "idempotencyTtl": None,
                                        "timeout": None,
                                        "acl": None,
                                        "examples": [],
                                    }
                                ],
                            }
                        },
                    },
                }
            ],
        },
        "securitySchemes": {
            "agentgo": {
                "httpAuthSecurityScheme": {
                    "scheme": "Bearer",
                    "description": "A token naming the calling AgentGo principal.",
                }
            }
        },
        "securityRequirements": [{"schemes": {"agentgo": {"list": []}}}],
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": "writer.run",
                "name": "writer.run",
                "description": "Turns research notes into an article.",
                "tags": ["writer", "run"],
                "inputModes": ["text/plain"],
                "outputModes": ["text/plain"],
            }
        ],
    }


def test_one_card_per_target_ordered_by_target() -> None:
    result = cards(*DESK, WRITER, *RESEARCH)
    for card in result:
        check_agent_card(card)
    assert [card["name"] for card in result] == ["researcher", "writer", "desk"]
    assert [card["supportedInterfaces"][0]["url"] for card in result] == [
        "http://localhost:8080/a2a/agent/researcher",
        "http://localhost:8080/a2a/agent/writer",
        "http://localhost:8080/a2a/team/desk",
    ]
    assert [card_file_name(card) for card in result] == [
        "agent-researcher.json",
        "agent-writer.json",
        "team-desk.json",
    ]


def test_one_skill_per_intent_at_its_newest_release_all_versions_in_the_extension() -> None:
    (card,) = cards(*RESEARCH)
    (skill,) = card["skills"]
    assert skill["id"] == "research.summarize"
    assert skill["description"] == "Summarize a topic from public sources."  # 1.2.0, not the rc
    assert card["version"] == "1.2.0"
    params = extension_params(card)["skills"]["research.summarize"]
    assert params["latest"] == "1.2.0"
    assert [v["version"] for v in params["versions"]] == ["1.0.0", "1.2.0", "2.0.0-rc.1"]
    v12 = params["versions"][1]
    assert v12 == {
        "version": "1.2.0",
        "intent": "research.summarize@1.2.0",
        "card": "research-card",
        "synthetic": False,
        "description": "Summarize a topic from public sources.",
        "inputSchema": {"type": "object", "required": ["topic"]},
        "outputSchema": {"type": "object", "required": ["summary"]},
        "classification": "internal",
        "rateLimit": {"requests": 60, "per": "1m", "burst": 10},
        "idempotencyTtl": "24h",
        "timeout": "2m",
        "acl": {
            "allow": [
                {"principal": "team:research/*", "scopes": []},
                {"principal": "user:*", "scopes": ["research.read"]},
            ],
            "deny": [{"principal": "user:mallory", "scopes": []}],
        },
        "examples": [{"input": {"topic": "solid-state batteries"}}],
    }


def test_skill_fields_from_the_intent() -> None:
    (card,) = cards(*RESEARCH)
    (skill,) = card["skills"]
    assert skill["tags"] == ["research", "news"]
    assert skill["examples"] == ['{"topic": "solid-state batteries"}']
    assert skill["inputModes"] == skill["outputModes"] == ["application/json"]
    assert card["defaultInputModes"] == card["defaultOutputModes"] == ["application/json"]
    # Each allow rule's scopes are one way in: none (team:research/*), or research.read.
    assert skill["securityRequirements"] == [
        {"schemes": {"agentgo": {"list": []}}},
        {"schemes": {"agentgo": {"list": ["research.read"]}}},
    ]


def test_a_team_card_with_several_intents() -> None:
    (card,) = cards(*DESK)
    check_agent_card(card)
    assert (
        card["description"]
        == "The AgentGo team 'desk', serving 2 intents: desk.plan, desk.publish."
    )
    assert card["version"] == "1.0.0"  # the newest of its intents
    plan, publish = card["skills"]
    # No tags, no description: the name's parts and a plain sentence (A2A requires both).
    assert (plan["id"], plan["tags"], plan["description"]) == (
        "desk.plan",
        ["desk", "plan"],
        "The intent desk.plan.",
    )
    assert "examples" not in plan and "securityRequirements" not in plan  # the card's own
    assert publish["tags"] == ["publishing"]
    # A public intent with no allow rules: anonymous callers too, or any token.
    assert publish["securityRequirements"] == [
        {"schemes": {}},
        {"schemes": {"agentgo": {"list": []}}},
    ]
    # No output schema: any output, as JSON or text.
    assert plan["outputModes"] == ["application/json", "text/plain"]
    assert card["defaultOutputModes"] == ["application/json", "text/plain"]
    assert extension_params(card)["target"] == "team:desk"


def test_mixed_modes_and_string_examples() -> None:
    text_in = entry(
        "agent:mixer",
        name="mixer.text",
        version="1.0.0",
        input={"type": "string"},
        output={"type": "object"},
        examples=[{"input": "Hello"}],
    )
    json_in = entry("agent:mixer", name="mixer.json", version="1.0.0", output={"type": "string"})
    (card,) = cards(text_in, json_in)
    check_agent_card(card)
    assert card["defaultInputModes"] == ["application/json", "text/plain"]
    assert card["defaultOutputModes"] == ["application/json", "text/plain"]
    assert card["skills"][1]["examples"] == ["Hello"]


def test_an_intent_with_only_prereleases() -> None:
    (card,) = cards(entry("agent:lab", name="lab.try", version="0.1.0-beta.2"))
    check_agent_card(card)
    assert card["version"] == "0.1.0-beta.2"
    assert extension_params(card)["skills"]["lab.try"]["latest"] == "0.1.0-beta.2"


def test_an_empty_catalog_has_no_cards() -> None:
    assert cards() == []


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://localhost:8080", "http://localhost:8080/a2a/agent/writer"),
        ("https://agents.example.com/", "https://agents.example.com/a2a/agent/writer"),
        ("https://example.com/prefix", "https://example.com/prefix/a2a/agent/writer"),
    ],
)
def test_interface_url(base: str, url: str) -> None:
    assert interface_url(base, "agent:writer") == url
    (card,) = agent_cards(Catalog([WRITER]), base_url=base, agentgo_version="0.1.0")
    assert card["supportedInterfaces"][0]["url"] == url


def test_card_file_name_needs_the_extension() -> None:
    with pytest.raises(ValueError, match="not an AgentGo AgentCard"):
        card_file_name({"capabilities": {"extensions": []}})

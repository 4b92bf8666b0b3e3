"""Discovery and routing: which intents a caller may call, and which fit a task."""

from __future__ import annotations

import random
from typing import Any

import pytest

from agentgo_cli.a2a.catalog import Catalog, CatalogEntry
from agentgo_cli.a2a.discovery import (
    Route,
    discover,
    latest_entries,
    route_intent,
    tokenize,
)
from agentgo_cli.manifests.models.capability import Intent


def entry(target: str, card: str | None = "card", **fields: Any) -> CatalogEntry:
    return CatalogEntry(Intent.model_validate(fields), target, card)


ENTRIES = [
    entry(
        "agent:researcher",
        name="research.summarize",
        version="1.0.0",
        description="Summarize a topic.",
    ),
    entry(
        "agent:researcher",
        name="research.summarize",
        version="1.2.0",
        description="Summarize a topic from public sources.",
        tags=["research", "news", "summary"],
        input={"type": "object", "properties": {"topic": {"type": "string"}}},
        examples=[{"input": {"topic": "solid-state batteries"}, "output": {"summary": "..."}}],
    ),
    entry(
        "agent:translator",
        name="translate.text",
        version="2.0.0",
        description="Translate a text into another language.",
        tags=["translation", "language"],
        examples=[{"input": {"text": "Bonjour tout le monde", "to": "en"}}],
    ),
    entry(
        "agent:reviewer",
        name="code.review",
        version="1.0.0",
        description="Review a code change and point out bugs and risky patterns.",
        tags=["code", "review", "bugs"],
        examples=[{"input": {"diff": "--- a/app.py"}, "description": "a pull request"}],
    ),
    entry(
        "team:billing",
        name="billing.refund",
        version="1.1.0",
        description="Refund a customer's payment after checking the order.",
        tags=["billing", "payments"],
        classification="restricted",
        acl={"allow": [{"principal": "team:support/*"}]},
    ),
    entry(
        "agent:writer",
        None,
        name="writer.run",
        version="1.0.0",
        description="Turns research notes into an article.",
        input={"type": "string"},
        output={"type": "string"},
    ),
]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(ENTRIES)


# -- tokenize ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stems"),
    [
        ("Summarize the batteries", ["summariz", "battery"]),
        ("summarizing summarized summarizes", ["summariz", "summariz", "summariz"]),
        ("Reviewing reviewed reviews", ["review", "review", "review"]),
        ("running the processes", ["run", "process"]),
        ("string status analysis class", ["string", "status", "analysis", "class"]),
        ("Please translate this for me, a to z", ["translat"]),
        ("code.review@1.0.0 solid-state", ["cod", "review", "solid", "stat"]),
    ],
)
def test_tokenize_lowercases_stems_and_drops_stop_words(text: str, stems: list[str]) -> None:
    assert tokenize(text) == stems


# -- latest_entries and discover ---------------------------------------------------------


def test_latest_entries_takes_the_newest_version_by_name(catalog: Catalog) -> None:
    assert [e.ref for e in latest_entries(catalog)] == [
        "billing.refund@1.1.0",
        "code.review@1.0.0",
        "research.summarize@1.2.0",
        "translate.text@2.0.0",
        "writer.run@1.0.0",
    ]


def test_latest_entries_prefers_a_release_and_falls_back_to_a_prerelease() -> None:
    catalog = Catalog(
        [
            entry("agent:a", name="a.b", version="1.0.0"),
            entry("agent:a", name="a.b", version="2.0.0-rc.1"),
            entry("agent:c", name="c.d", version="0.1.0-alpha"),
            entry("agent:c", name="c.d", version="0.1.0-beta"),
        ]
    )
    assert [e.ref for e in latest_entries(catalog)] == ["a.b@1.0.0", "c.d@0.1.0-beta"]


def test_discover_answers_small_dicts_of_the_latest_versions(catalog: Catalog) -> None:
    found = discover(catalog)
    assert [d["intent"] for d in found] == [e.ref for e in latest_entries(catalog)]
    assert found[2] == {
        "intent": "research.summarize@1.2.0",
        "target": "agent:researcher",
        "description": "Summarize a topic from public sources.",
        "tags": ["research", "news", "summary"],
        "input": {"type": "object", "properties": {"topic": {"type": "string"}}},
        "examples": [{"topic": "solid-state batteries"}],
    }
    assert found[4]["input"] == {"type": "string"}
    assert found[4]["examples"] == []


@pytest.mark.parametrize(
    ("query", "intents"),
    [
        ("SUMMAR", ["research.summarize@1.2.0"]),  # name, any case
        ("language", ["translate.text@2.0.0"]),  # description
        ("payments", ["billing.refund@1.1.0"]),  # tag
        ("re", None),  # a short query matches many
        ("  ", None),  # blank: no filter
        ("quantum", []),
    ],
)
def test_discover_filters_by_query(catalog: Catalog, query: str, intents: list[str] | None) -> None:
    found = [d["intent"] for d in discover(catalog, query=query)]
    if intents is None:
        assert len(found) > 1
    else:
        assert found == intents


def test_discover_keeps_only_what_the_caller_may_call(catalog: Catalog) -> None:
    def allowed(e: CatalogEntry) -> bool:
        return e.target != "team:billing" and e.ref != "research.summarize@1.2.0"

    found = [d["intent"] for d in discover(catalog, allowed=allowed)]
    # The newest version the caller may call, not the newest there is.
    assert found == [
        "code.review@1.0.0",
        "research.summarize@1.0.0",
        "translate.text@2.0.0",
        "writer.run@1.0.0",
    ]


def test_discover_of_an_empty_catalog() -> None:
    assert discover(Catalog([])) == []
    assert discover(Catalog([]), query="x") == []


# -- route_intent --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "first"),
    [
        ("Summarize recent news about solid-state batteries", "research.summarize@1.2.0"),
        ("Please review my code changes and find bugs", "code.review@1.0.0"),
        ("Translate this text into French", "translate.text@2.0.0"),
        ("The customer wants a refund for order 1234", "billing.refund@1.1.0"),
        ("Turn my notes into an article", "writer.run@1.0.0"),
    ],
)
def test_route_picks_the_intent_that_fits(catalog: Catalog, task: str, first: str) -> None:
    routes = route_intent(catalog, task)
    assert routes[0].intent == first
    assert all(0 < r.score <= 1 for r in routes)
    assert [r.score for r in routes] == sorted((r.score for r in routes), reverse=True)


def test_route_says_why(catalog: Catalog) -> None:
    routes = route_intent(catalog, "Summarize recent news about solid-state batteries")
    assert routes == [
        Route(
            intent="research.summarize@1.2.0",
            target="agent:researcher",
            score=0.3754,  # 'recent' matches nothing, and the example words weigh little
            why="matched: summarize, news, solid, state, batteries "
            "(name, tags, description, example)",
        )
    ]
    assert routes[0].to_dict() == {
        "intent": "research.summarize@1.2.0",
        "target": "agent:researcher",
        "score": routes[0].score,
        "why": routes[0].why,
    }


def test_route_weighs_names_and_tags_above_descriptions_and_examples() -> None:
    catalog = Catalog(
        [
            entry("agent:a", name="alpha.tool", version="1.0.0", description="Parse invoices."),
            entry("agent:b", name="beta.tool", version="1.0.0", tags=["invoices"]),
            entry("agent:c", name="invoice.parse", version="1.0.0"),
            entry(
                "agent:d",
                name="delta.tool",
                version="1.0.0",
                examples=[{"input": "an invoice"}],
            ),
        ]
    )
    routes = route_intent(catalog, "invoices", limit=10)
    by_intent = {r.intent: r for r in routes}
    assert by_intent["beta.tool@1.0.0"].score == by_intent["invoice.parse@1.0.0"].score
    assert [r.intent for r in routes] == [
        "beta.tool@1.0.0",  # a tag, and ties go by name
        "invoice.parse@1.0.0",  # a name part
        "alpha.tool@1.0.0",  # the description
        "delta.tool@1.0.0",  # an example
    ]
    assert by_intent["delta.tool@1.0.0"].why == "matched: invoices (example)"


def test_route_breaks_ties_by_name() -> None:
    twins = [
        entry(f"agent:{n}", name=f"{n}.echo", version="1.0.0", description="Echo the input.")
        for n in ("beta", "alpha", "gamma")
    ]
    routes = route_intent(Catalog(twins), "echo")
    assert [r.intent for r in routes] == ["alpha.echo@1.0.0", "beta.echo@1.0.0", "gamma.echo@1.0.0"]
    assert len({r.score for r in routes}) == 1
    assert [r.intent for r in route_intent(Catalog(twins), "echo", limit=1)] == ["alpha.echo@1.0.0"]


def test_route_is_deterministic(catalog: Catalog) -> None:
    task = "review the research summary of the code and refund the language batteries"
    first = route_intent(catalog, task, limit=10)
    assert len(first) == 5
    assert route_intent(catalog, task, limit=10) == first
    shuffled = list(ENTRIES)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert route_intent(Catalog(shuffled), task, limit=10) == first


def test_route_leaves_out_intents_with_no_matching_word(catalog: Catalog) -> None:
    assert route_intent(catalog, "quantum chromodynamics") == []
    assert route_intent(catalog, "the and of please") == []  # stop words only
    assert route_intent(catalog, "") == []
    assert [r.intent for r in route_intent(catalog, "refund", limit=5)] == ["billing.refund@1.1.0"]


def test_route_respects_the_limit(catalog: Catalog) -> None:
    task = "review the research summary of the code and refund the language batteries"
    assert len(route_intent(catalog, task)) == 3
    assert len(route_intent(catalog, task, limit=1)) == 1
    assert route_intent(catalog, task, limit=0) == []


def test_route_only_offers_what_the_caller_may_call(catalog: Catalog) -> None:
    routes = route_intent(catalog, "refund a payment", allowed=lambda e: e.target != "team:billing")
    assert routes == []
    routes = route_intent(
        catalog, "summarize a topic", allowed=lambda e: e.ref != "research.summarize@1.2.0"
    )
    assert routes[0].intent == "research.summarize@1.0.0"


def test_route_on_an_empty_catalog() -> None:
    assert route_intent(Catalog([]), "summarize batteries") == []

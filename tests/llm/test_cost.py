"""Prices per model, the config's overrides, and a job's running cost totals."""

from __future__ import annotations

import pytest

from agentgo_cli.llm.base import Usage
from agentgo_cli.llm.cost import (
    DEFAULT_PRICES,
    CallRecord,
    CostTracker,
    Price,
    PriceRow,
    PriceTable,
)


def call(ref: str, tokens: tuple[int, int], usd: float, *, shadow: bool = False) -> CallRecord:
    return CallRecord(ref, Usage(*tokens), usd, shadow, True, None, 0.1, 1)


def test_price_cost_is_per_million_tokens_input_and_output_apart() -> None:
    price = Price(input_per_mtok=2.50, output_per_mtok=10.00)
    assert price.cost(Usage(1_000_000, 0)) == pytest.approx(2.50)
    assert price.cost(Usage(0, 1_000_000)) == pytest.approx(10.00)
    assert price.cost(Usage(1000, 200)) == pytest.approx(0.0025 + 0.002)
    assert price.cost(Usage()) == 0.0


@pytest.mark.parametrize(
    ("ref", "price"),
    [
        ("openai:gpt-4o-mini", Price(0.15, 0.60)),
        ("openai:gpt-4o", Price(2.50, 10.00)),
        ("openai:gpt-4.1", Price(2.00, 8.00)),
        ("openai:gpt-4.1-mini", Price(0.40, 1.60)),
        ("openai:gpt-4.1-nano", Price(0.10, 0.40)),
        ("anthropic:claude-haiku-4-5", Price(1.00, 5.00)),
        ("anthropic:claude-sonnet-4-5", Price(3.00, 15.00)),
        ("anthropic:claude-opus-4-1", Price(15.00, 75.00)),
        ("gemini:gemini-2.5-flash", Price(0.30, 2.50)),
        ("gemini:gemini-2.5-flash-lite", Price(0.10, 0.40)),
        ("gemini:gemini-2.5-pro", Price(1.25, 10.00)),
    ],
)
def test_default_prices(ref: str, price: Price) -> None:
    provider, _, model = ref.partition(":")
    assert PriceTable().price(provider, model) == price


def test_default_table_prices_nothing_else() -> None:
    assert sum(len(models) for models in DEFAULT_PRICES.values()) == 11


def test_dated_snapshots_are_priced_as_their_model() -> None:
    table = PriceTable()
    assert table.price("openai", "gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert table.price("anthropic", "claude-haiku-4-5-20251001") == Price(1.00, 5.00)
    assert table.price("openai", "gpt-4o-audio-preview") is None


def test_local_and_scripted_models_are_free_whatever_their_name() -> None:
    table = PriceTable()
    assert table.price("ollama", "llama3.2:3b") == Price(0.0, 0.0)
    assert table.price("scripted", "demo") == Price(0.0, 0.0)
    assert table.known("ollama:qwen2.5") is True
    assert table.cost("ollama:qwen2.5", Usage(10_000, 10_000)) == 0.0


def test_unknown_models_cost_nothing_and_are_not_known() -> None:
    table = PriceTable()
    assert table.price("openai", "gpt-9") is None
    assert table.price("litellm", "gpt-4o-mini") is None
    assert table.known("litellm:gpt-4o-mini") is False
    assert table.known("openai:gpt-4o-mini") is True
    assert table.cost("litellm:gpt-4o-mini", Usage(1000, 1000)) == 0.0
    assert table.cost("nonsense", Usage(1000, 1000)) == 0.0


def test_cost_by_reference() -> None:
    usage = Usage(1000, 200)
    assert PriceTable().cost("openai:gpt-4o-mini", usage) == pytest.approx(0.00027)


def test_config_overrides_a_default_and_prices_a_proxy_model() -> None:
    table = PriceTable(
        {
            "openai": {"gpt-4o-mini": {"input": 0.2, "output": 1}},
            "litellm": {"team-model": {"input": 1.5, "output": 3.0}},
            "ollama": {"llama3": {"input": 0.01, "output": 0.02}},
        }
    )
    assert table.price("openai", "gpt-4o-mini") == Price(0.2, 1.0)
    assert table.price("openai", "gpt-4o") == Price(2.50, 10.00)
    assert table.known("litellm:team-model") is True
    assert table.cost("litellm:team-model", Usage(2_000_000, 0)) == pytest.approx(3.0)
    assert table.price("ollama", "llama3") == Price(0.01, 0.02)
    assert table.price("ollama", "mistral") == Price(0.0, 0.0)


def test_overrides_leave_the_defaults_alone() -> None:
    PriceTable({"openai": {"gpt-4o-mini": {"input": 9.0, "output": 9.0}}})
    assert PriceTable().price("openai", "gpt-4o-mini") == Price(0.15, 0.60)


def test_rows_list_every_price_with_its_source() -> None:
    rows = PriceTable({"openai": {"gpt-4o-mini": {"input": 0.2, "output": 1.0}}}).rows()
    assert rows[0] == PriceRow("anthropic", "claude-haiku-4-5", Price(1.00, 5.00), "default")
    assert PriceRow("openai", "gpt-4o-mini", Price(0.2, 1.0), "config") in rows
    assert PriceRow("openai", "gpt-4o", Price(2.50, 10.00), "default") in rows
    assert PriceRow("ollama", "*", Price(0.0, 0.0), "default") in rows
    assert PriceRow("scripted", "*", Price(0.0, 0.0), "default") in rows
    assert len(rows) == 13
    assert rows == sorted(rows, key=lambda row: (row.provider, row.model))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"input": 0.15},
            "prices.openai.gpt-4o-mini: expected keys 'input' and 'output' "
            "(USD per million tokens), got input",
        ),
        (
            {"input": 0.15, "output": 0.6, "cached": 0.01},
            "prices.openai.gpt-4o-mini: expected keys 'input' and 'output' "
            "(USD per million tokens), got cached, input, output",
        ),
        (
            {},
            "prices.openai.gpt-4o-mini: expected keys 'input' and 'output' "
            "(USD per million tokens), got none",
        ),
        (
            0.15,
            "prices.openai.gpt-4o-mini: expected a mapping of 'input' and 'output' "
            "(USD per million tokens), got 0.15",
        ),
        (
            {"input": -1, "output": 0.6},
            "prices.openai.gpt-4o-mini.input: expected a number of USD, 0 or more, got -1",
        ),
        (
            {"input": 0.15, "output": "0.6"},
            "prices.openai.gpt-4o-mini.output: expected a number of USD, 0 or more, got '0.6'",
        ),
        (
            {"input": True, "output": 0.6},
            "prices.openai.gpt-4o-mini.input: expected a number of USD, 0 or more, got True",
        ),
    ],
)
def test_invalid_overrides_are_refused_with_the_entry_named(fields: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        PriceTable({"openai": {"gpt-4o-mini": fields}})
    assert str(caught.value) == message


def test_tracker_totals_keep_shadow_calls_apart() -> None:
    tracker = CostTracker()
    tracker.record(call("openai:gpt-4o-mini", (1000, 200), 0.5))
    tracker.record(call("openai:gpt-4o-mini", (500, 100), 0.25))
    tracker.record(call("anthropic:claude-haiku-4-5", (1000, 0), 1.0))
    tracker.record(call("gemini:gemini-2.5-flash", (1000, 200), 0.125, shadow=True))
    tracker.record(call("gemini:gemini-2.5-flash", (300, 0), 0.0625, shadow=True))

    assert (tracker.calls, tracker.tokens, tracker.usd) == (3, 2800, 1.75)
    assert (tracker.shadow_calls, tracker.shadow_tokens, tracker.shadow_usd) == (2, 1500, 0.1875)
    assert tracker.by_ref() == {
        "openai:gpt-4o-mini": (2, 1800, 0.75),
        "anthropic:claude-haiku-4-5": (1, 1000, 1.0),
    }


def test_tracker_counts_failed_calls_without_tokens() -> None:
    tracker = CostTracker()
    tracker.record(
        CallRecord("openai:gpt-4o-mini", Usage(), 0.0, False, False, "server error", 2.0, 3)
    )
    assert (tracker.calls, tracker.tokens, tracker.usd) == (1, 0, 0.0)


def test_tracker_as_dict() -> None:
    tracker = CostTracker()
    assert tracker.as_dict() == {
        "calls": 0,
        "tokens": 0,
        "usd": 0.0,
        "by_ref": {},
        "shadow": {"calls": 0, "tokens": 0, "usd": 0.0},
    }
    tracker.record(call("openai:gpt-4o-mini", (1000, 200), 0.5))
    tracker.record(call("gemini:gemini-2.5-flash", (10, 2), 0.25, shadow=True))
    assert tracker.as_dict() == {
        "calls": 1,
        "tokens": 1200,
        "usd": 0.5,
        "by_ref": {"openai:gpt-4o-mini": {"calls": 1, "tokens": 1200, "usd": 0.5}},
        "shadow": {"calls": 1, "tokens": 12, "usd": 0.25},
    }

"""What model calls cost: prices per model, and the running totals of one job.

The reliability layer prices every answer it returns (``ModelResponse.cost_usd``) and
reports every call, main and shadow, as a CallRecord; a job's CostTracker adds them up,
keeping shadow calls apart so that comparing models never hides in the job's own cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from agentgo_cli.llm.base import Usage

__all__ = [
    "DEFAULT_PRICES",
    "FREE_PROVIDERS",
    "CallRecord",
    "CostTracker",
    "Price",
    "PriceRow",
    "PriceTable",
]


@dataclass(frozen=True, slots=True)
class Price:
    """A model's list price in USD per million tokens, input and output apart."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, usage: Usage) -> float:
        """What ``usage`` costs at this price, in USD."""
        spent = usage.input_tokens * self.input_per_mtok
        spent += usage.output_tokens * self.output_per_mtok
        return spent / 1_000_000


_FREE = Price(0.0, 0.0)

# A snapshot of list prices when this table was written: prices change, so the config's
# `prices:` section overrides any entry and adds models missing here. litellm has no entry
# on purpose: a proxy's models are whatever it routes to, and must be priced in the config.
DEFAULT_PRICES: dict[str, dict[str, Price]] = {
    "openai": {
        "gpt-4o-mini": Price(0.15, 0.60),
        "gpt-4o": Price(2.50, 10.00),
        "gpt-4.1": Price(2.00, 8.00),
        "gpt-4.1-mini": Price(0.40, 1.60),
        "gpt-4.1-nano": Price(0.10, 0.40),
    },
    "anthropic": {
        "claude-haiku-4-5": Price(1.00, 5.00),
        "claude-sonnet-4-5": Price(3.00, 15.00),
        "claude-opus-4-1": Price(15.00, 75.00),
    },
    "gemini": {
        "gemini-2.5-flash": Price(0.30, 2.50),
        "gemini-2.5-flash-lite": Price(0.10, 0.40),
        "gemini-2.5-pro": Price(1.25, 10.00),
    },
}

FREE_PROVIDERS = frozenset({"ollama", "scripted"})
"""Providers whose every model is free: ollama runs locally, scripted is a simulation."""

_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
"""A snapshot suffix such as -2024-07-18 or -20251001, priced as the model it pins."""


class PriceRow(NamedTuple):
    """One line of a price listing; ``model`` is ``*`` for a provider that is free."""

    provider: str
    model: str
    price: Price
    source: str
    """'default' (this module's table) or 'config' (the config's prices section)."""


class PriceTable:
    """Prices by provider and model: the defaults above, overridden by the config.

    ``overrides`` is the config's ``prices`` section as written:
    ``{"openai": {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}}`` (USD per million tokens).
    """

    def __init__(self, overrides: Mapping[str, Mapping[str, object]] | None = None) -> None:
        self._prices = {provider: dict(models) for provider, models in DEFAULT_PRICES.items()}
        self._configured: set[tuple[str, str]] = set()
        for provider, models in (overrides or {}).items():
            if not isinstance(models, Mapping):
                raise ValueError(
                    f"prices of provider '{provider}' must map model names to prices, "
                    f"not {type(models).__name__}"
                )
            for model, fields in models.items():
                self._prices.setdefault(provider, {})[model] = _parse(provider, model, fields)
                self._configured.add((provider, model))

    def price(self, provider: str, model: str) -> Price | None:
        """The price of ``model``, or None when nobody priced it."""
        models = self._prices.get(provider, {})
        found = models.get(model)
        if found is None:
            found = models.get(_DATED.sub("", model))
        if found is not None:
            return found
        return _FREE if provider in FREE_PROVIDERS else None

    def known(self, ref: str) -> bool:
        """Whether ``ref`` ("provider:model") has a price; callers warn when it has not."""
        provider, _, model = ref.partition(":")
        return self.price(provider, model) is not None

    def cost(self, ref: str, usage: Usage) -> float:
        """What ``usage`` on ``ref`` cost in USD; 0.0 for a model without a price."""
        provider, _, model = ref.partition(":")
        price = self.price(provider, model)
        return price.cost(usage) if price is not None else 0.0

    def rows(self) -> list[PriceRow]:
        """Every priced model, sorted by provider and model, with where its price came from."""
        rows = [
            PriceRow(provider, model, price, _source((provider, model) in self._configured))
            for provider, models in self._prices.items()
            for model, price in models.items()
        ]
        rows += [PriceRow(provider, "*", _FREE, "default") for provider in FREE_PROVIDERS]
        return sorted(rows, key=lambda row: (row.provider, row.model))


def _source(configured: bool) -> str:
    return "config" if configured else "default"


def _parse(provider: str, model: str, fields: object) -> Price:
    """One price from the config, or a ValueError naming the entry and what is wrong."""
    where = f"prices.{provider}.{model}"
    expected = "'input' and 'output' (USD per million tokens)"
    if not isinstance(fields, Mapping):
        raise ValueError(f"{where}: expected a mapping of {expected}, got {fields!r}")
    if set(fields) != {"input", "output"}:
        got = ", ".join(sorted(map(str, fields))) or "none"
        raise ValueError(f"{where}: expected keys {expected}, got {got}")
    values = []
    for key in ("input", "output"):
        value = fields[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{where}.{key}: expected a number of USD, 0 or more, got {value!r}")
        values.append(float(value))
    return Price(*values)


@dataclass(slots=True)
class CallRecord:
    """One model call as the reliability layer saw it, from first attempt to outcome."""

    ref: str
    """The model that answered, or the agent's own model when every route failed."""
    usage: Usage
    cost_usd: float
    shadow: bool
    ok: bool
    error: str | None
    duration_s: float
    attempts: int
    """Attempts over all routes tried (0 when every route's circuit was open)."""


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    tokens: int = 0
    usd: float = 0.0

    def add(self, call: CallRecord) -> None:
        self.calls += 1
        self.tokens += call.usage.total
        self.usd += call.cost_usd

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "tokens": self.tokens, "usd": self.usd}


class CostTracker:
    """The calls, tokens and USD of one job, with shadow calls counted apart.

    Not thread-safe: a job's calls all end on one event loop.
    """

    def __init__(self) -> None:
        self._main = _Tally()
        self._shadow = _Tally()
        self._by_ref: dict[str, _Tally] = {}

    def record(self, call: CallRecord) -> None:
        """Count one call that ended (also a failed one: it has no tokens, but it was made)."""
        if call.shadow:
            self._shadow.add(call)
            return
        self._main.add(call)
        tally = self._by_ref.get(call.ref)
        if tally is None:
            tally = self._by_ref[call.ref] = _Tally()
        tally.add(call)

    @property
    def usd(self) -> float:
        return self._main.usd

    @property
    def tokens(self) -> int:
        return self._main.tokens

    @property
    def calls(self) -> int:
        return self._main.calls

    @property
    def shadow_usd(self) -> float:
        return self._shadow.usd

    @property
    def shadow_tokens(self) -> int:
        return self._shadow.tokens

    @property
    def shadow_calls(self) -> int:
        return self._shadow.calls

    def by_ref(self) -> dict[str, tuple[int, int, float]]:
        """Main calls per model: (calls, tokens, usd)."""
        return {ref: (t.calls, t.tokens, t.usd) for ref, t in self._by_ref.items()}

    def as_dict(self) -> dict[str, Any]:
        """The totals as JSON-ready data."""
        return {
            **self._main.as_dict(),
            "by_ref": {ref: tally.as_dict() for ref, tally in self._by_ref.items()},
            "shadow": self._shadow.as_dict(),
        }

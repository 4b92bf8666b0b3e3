"""Quotas: a token bucket per intent and caller principal, kept in the job store."""

from __future__ import annotations

from typing import Any

import pytest

from agentgo_cli.a2a.quota import Quotas, bucket_key
from agentgo_cli.manifests.models.capability import Intent
from agentgo_cli.store import JobStore
from tests.conftest import StoreDB


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def intent(name: str = "research.summarize", **rate_limit: Any) -> Intent:
    fields: dict[str, Any] = {"name": name, "version": "1.0.0"}
    if rate_limit:
        fields["rate_limit"] = rate_limit
    return Intent.model_validate(fields)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_no_rate_limit_means_no_bucket(store: JobStore) -> None:
    quotas = Quotas(store)
    assert [await quotas.take(intent(), "user:a") for _ in range(50)] == [None] * 50


async def test_a_burst_then_a_refusal_with_the_time_to_wait(store: JobStore, clock: Clock) -> None:
    quotas = Quotas(store, clock=clock)
    card = intent(requests=60, per="1m", burst=10)  # one a second, ten at once
    assert [await quotas.take(card, "user:a") for _ in range(10)] == [None] * 10
    assert await quotas.take(card, "user:a") == pytest.approx(1.0)
    clock.now += 0.25
    assert await quotas.take(card, "user:a") == pytest.approx(0.75)


async def test_the_burst_defaults_to_the_requests(store: JobStore, clock: Clock) -> None:
    quotas = Quotas(store, clock=clock)
    card = intent(requests=3, per="1h")
    assert [await quotas.take(card, "user:a") for _ in range(3)] == [None] * 3
    assert await quotas.take(card, "user:a") == pytest.approx(1200.0)


async def test_tokens_come_back_with_time(store: JobStore, clock: Clock) -> None:
    quotas = Quotas(store, clock=clock)
    card = intent(requests=2, per="1s", burst=2)
    for _ in range(2):
        await quotas.take(card, "user:a")
    assert await quotas.take(card, "user:a") is not None
    clock.now += 0.5
    assert await quotas.take(card, "user:a") is None
    assert await quotas.take(card, "user:a") is not None
    clock.now += 60  # refills up to the burst, no further
    assert [await quotas.take(card, "user:a") for _ in range(3)][2] == pytest.approx(0.5)


async def test_principals_and_intents_have_their_own_buckets(store: JobStore, clock: Clock) -> None:
    quotas = Quotas(store, clock=clock)
    card = intent(requests=1, per="1m")
    assert await quotas.take(card, "user:a") is None
    assert await quotas.take(card, "user:a") is not None
    assert await quotas.take(card, "user:b") is None
    assert await quotas.take(intent("research.other", requests=1, per="1m"), "user:a") is None


async def test_a_new_version_of_an_intent_shares_its_bucket(store: JobStore, clock: Clock) -> None:
    quotas = Quotas(store, clock=clock)
    card = intent(requests=1, per="1m")
    assert await quotas.take(card, "user:a") is None
    newer = card.model_copy(update={"version": "2.0.0"})
    assert await quotas.take(newer, "user:a") is not None
    assert bucket_key("research.summarize", "user:a") == "research.summarize|user:a"


async def test_two_stores_on_one_database_share_the_bucket(store_db: StoreDB, clock: Clock) -> None:
    card = intent(requests=5, per="1m")
    async with store_db.running() as one, store_db.running() as two:
        first, second = Quotas(one, clock=clock), Quotas(two, clock=clock)
        taken = [await quotas.take(card, "user:a") for quotas in [first, second] * 3]
    assert taken[:5] == [None] * 5
    assert taken[5] == pytest.approx(12.0)

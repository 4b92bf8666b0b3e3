"""Rate limits of typed calls: one token bucket per intent and caller principal.

``rate_limit: {requests: R, per: P, burst: B}`` refills R / P tokens a second into a bucket
that holds at most B tokens (R when no burst is given); a call takes one token. The buckets
live in the job store, so every process on one store (each ``agentgo call`` is one) draws
from the same bucket, and the store's write transaction makes each take atomic. A bucket
is keyed by the intent's name, not its version: a new version does not reset the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.manifests.models.capability import Intent
    from agentgo_cli.store.base import CallStore

__all__ = ["Quotas", "bucket_key"]


def bucket_key(intent: str, principal: str) -> str:
    """The store's name for the bucket of one principal calling one intent."""
    return f"{intent}|{principal}"


class Quotas:
    """Takes tokens from the store's buckets; raising on refusal is the caller's job."""

    def __init__(self, store: CallStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        """Wall-clock time, shared by every process on the store (tests inject their own)."""

    async def take(self, intent: Intent, principal: str) -> float | None:
        """Take a token for one call: None when granted (or the intent has no rate limit),
        else the seconds to wait before a token will be there (Retry-After)."""
        limit = intent.rate_limit
        if limit is None:
            return None
        wait = await self._store.take_token(
            bucket_key(intent.name, principal),
            limit.requests / limit.per.seconds,
            float(limit.burst or limit.requests),
            self._clock(),
        )
        return wait or None

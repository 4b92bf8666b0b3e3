"""Job ids: short, unique, and sorted by creation time."""

from __future__ import annotations

import random
import threading
import time

__all__ = ["new_job_id"]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
"""Crockford's base32 in lower case: no i, l, o or u, and in ASCII order, so ids sort like
the numbers they encode."""

_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
"""Every two-digit string, indexed by the 10 bits it encodes."""

_LOW_BITS = 18
_lock = threading.Lock()
_last = 0


def new_job_id() -> str:
    """``j-`` and 12 base32 digits (60 bits): 42 bits of milliseconds since 1970, then 18 bits.

    The low bits are random for the first id of a millisecond and count up from the previous
    id after it, so the ids of one process never repeat and sort in the order they were made,
    even when the clock steps back. Ids of two processes made in the same millisecond differ
    with high probability; the store still retries on a collision.
    """
    global _last
    fresh = (time.time_ns() // 1_000_000) << _LOW_BITS | random.getrandbits(_LOW_BITS - 1)
    with _lock:
        value = _last = max(fresh, _last + 1)
    pairs = _PAIRS
    return (
        "j-"
        + pairs[(value >> 50) & 1023]
        + pairs[(value >> 40) & 1023]
        + pairs[(value >> 30) & 1023]
        + pairs[(value >> 20) & 1023]
        + pairs[(value >> 10) & 1023]
        + pairs[value & 1023]
    )

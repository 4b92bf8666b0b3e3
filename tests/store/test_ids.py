"""Job ids: the format, uniqueness and order of new_job_id()."""

from __future__ import annotations

import re
import threading
import time

from agentgo_cli.store import _ids
from agentgo_cli.store._ids import new_job_id


def test_format() -> None:
    assert re.fullmatch(r"j-[0-9a-hjkmnp-tv-z]{12}", new_job_id())


def test_unique_and_sorted_in_a_tight_loop() -> None:
    ids = [new_job_id() for _ in range(100_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_unique_across_threads() -> None:
    found: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(new_job_id() for _ in range(20_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({i for out in found for i in out}) == 80_000
    assert all(out == sorted(out) for out in found)


def test_the_leading_digits_are_the_time() -> None:
    before = time.time_ns() // 1_000_000
    digits = new_job_id()[2:]
    value = 0
    for char in digits:
        value = value * 32 + _ids._ALPHABET.index(char)
    after = time.time_ns() // 1_000_000
    assert before <= value >> 18 <= after + 1


def test_later_ids_sort_after_earlier_ones() -> None:
    first = new_job_id()
    time.sleep(0.002)
    assert new_job_id() > first

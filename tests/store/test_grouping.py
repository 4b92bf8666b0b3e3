"""Regrouping a batch by phase keeps every job's own order."""

from __future__ import annotations

import sqlite3

from agentgo_cli.store.sqlite import ops
from agentgo_cli.store.sqlite.writer import Writer


def _writer() -> Writer:
    return Writer(
        lambda: sqlite3.connect(":memory:"), lambda e: e, many=ops.MANY, phases=ops.PHASES
    )


def test_interleaved_jobs_are_grouped_by_phase() -> None:
    batch = [
        (ops.step_finished, ("j1", "a"), None),
        (ops.step_started, ("j2", "a"), None),
        (ops.job_finished, ("j1",), None),
        (ops.insert_job, ("j3",), None),
        (ops.step_started, ("j1", "b"), None),
    ]
    grouped = _writer()._grouped(batch)  # type: ignore[arg-type]
    assert [(op.__name__, args) for op, args, _ in grouped] == [
        ("insert_job", ("j3",)),
        ("step_started", ("j2", "a")),
        ("step_started", ("j1", "b")),
        ("step_finished", ("j1", "a")),
        ("job_finished", ("j1",)),
    ]


def test_a_key_started_again_after_it_finished_keeps_the_batch_order() -> None:
    batch = [
        (ops.step_finished, ("j1", "a"), None),
        (ops.step_started, ("j1", "a"), None),
    ]
    assert _writer()._grouped(batch) == batch  # type: ignore[arg-type]


def test_other_operations_keep_the_batch_order() -> None:
    batch = [
        (ops.job_finished, ("j1",), None),
        (ops.renew_lease, ("j1",), None),
        (ops.step_started, ("j2", "a"), None),
    ]
    assert _writer()._grouped(batch) == batch  # type: ignore[arg-type]

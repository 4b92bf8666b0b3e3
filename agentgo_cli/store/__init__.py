"""Durable job store: the protocol every backend uses, and its implementations."""

from agentgo_cli.store.base import JobRecord, JobStore, StepRecord, open_store

__all__ = ["JobRecord", "JobStore", "StepRecord", "open_store"]

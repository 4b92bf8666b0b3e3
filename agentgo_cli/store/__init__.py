"""Durable job store: the protocol every implementation follows (``base``), and
``open_store``, which picks the implementation a ``store:`` URL names (``registry``).

Implementations live in subpackages (``sqlite``) and are imported only when opened.
"""

from agentgo_cli.store.base import (
    IDEM_LEASE_S,
    JOB_DONE,
    STEP_DONE,
    CallStore,
    EventRecord,
    IdemRecord,
    JobRecord,
    JobStatus,
    JobStore,
    Lease,
    StepRecord,
    StepStatus,
    open_store,
)
from agentgo_cli.store.registry import register_store

__all__ = [
    "IDEM_LEASE_S",
    "JOB_DONE",
    "STEP_DONE",
    "CallStore",
    "EventRecord",
    "IdemRecord",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "Lease",
    "StepRecord",
    "StepStatus",
    "open_store",
    "register_store",
]

"""The resume policy: when a job may be taken over, and taking it over."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from agentgo_cli.engine.owners import owner_is_dead
from agentgo_cli.errors import NotFoundError, UsageError
from agentgo_cli.store.base import JOB_DONE, JobStatus, Lease

if TYPE_CHECKING:
    from agentgo_cli.engine.engines import Engines
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.store.base import JobRecord, JobStore

__all__ = ["take_for_resume"]


async def take_for_resume(
    engines: Engines, store: JobStore, job_id: str, *, force: bool
) -> tuple[JobRecord, Engine | None]:
    """Take a job over to resume it here: (the taken job, the engine to run it with).

    (job, None) when the job already ended, or ended now: failed as poisoned, because it
    lost ``engines.poison_after`` owners. NotFoundError when there is no such job;
    UsageError while another live process holds its lease (unless ``force``), or when
    another process took it between our look and our take: the take is a compare-and-set
    on the lease we saw, so of two resumes started together exactly one runs the job. The
    models the workflow may call are checked (ConfigError for a missing key) before the
    job is taken, so a job is never taken only to fail.
    """
    job = await store.get_job(job_id)
    if job is None:
        raise NotFoundError(f"no job '{job_id}'")
    if job.status in JOB_DONE:
        return job, None
    live = job.lease_expires is not None and job.lease_expires > time.time()
    if (
        job.status == JobStatus.RUNNING
        and live
        and not force
        and not owner_is_dead(job.lease_owner)
    ):
        raise UsageError(
            f"job {job_id} is running under {job.lease_owner}; wait for its lease to "
            "expire, or pass --force if that process is gone"
        )
    engine = engines.get(job.manifests)
    engine.check_models(engine.workflow(job.workflow))
    seen = Lease(job.lease_owner or "", job.lease_epoch)
    taken = await store.take_over(
        job_id,
        engine.owner,
        engine.lease_seconds,
        expected=seen,
        poison_after=engines.poison_after,
    )
    if taken is None:
        raise UsageError(f"job {job_id} could not be taken over (it ended meanwhile)")
    if taken.status in JOB_DONE:
        return taken, None
    if taken.lease_owner != engine.owner or taken.lease_epoch == job.lease_epoch:
        raise UsageError(
            f"job {job_id} was taken by another process ({taken.lease_owner}) meanwhile"
        )
    return taken, engine

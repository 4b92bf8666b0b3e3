"""Lease race child: resume one job, or work queued and abandoned jobs once, through the
LocalBackend of the project in the working folder, starting at one instant with the others.

Run as ``python _race_child.py GO_FILE resume JOB`` or ``python _race_child.py GO_FILE
worker``. Everything is imported and the store opened first; then the child waits for
GO_FILE to exist, so that every child takes its job at the same moment. Exit status: 0, or
the exit code of the AgentGoError it met (its message on stderr), as the CLI would.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from agentgo_cli.backend import views as v
from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.errors import AgentGoError


def _ready_and_wait(go: str) -> None:
    """Say this child is ready, then wait (blocking: no task may run yet) for the start."""
    Path(f"{go}.ready.{os.getpid()}").touch()
    while not os.path.exists(go):
        time.sleep(0.001)


async def _main(go: str, mode: str, job_id: str | None) -> int:
    async with LocalBackend() as backend:
        await backend.jobs(v.JobsQuery(limit=1))  # open the store before the start
        _ready_and_wait(go)
        try:
            if mode == "resume":
                assert job_id is not None
                job = await backend.resume(v.ResumeRequest(job_id=job_id))
                job = await backend.wait(job.job_id)
                print(f"resumed {job.job_id} {job.status}", flush=True)
            else:
                async for notice in backend.work(v.WorkRequest(once=True, poll=0.05)):
                    print(f"worker {notice.message}", flush=True)
        except AgentGoError as exc:
            print(str(exc), file=sys.stderr, flush=True)
            return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1], sys.argv[2], (sys.argv[3:] or [None])[0])))

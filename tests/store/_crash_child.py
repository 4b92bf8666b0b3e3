"""Crash-test child: write to a store in a loop, printing each record once it is committed.

Run as ``python _crash_child.py URL PREFIX SYNCHRONOUS``; the parent kills it with SIGKILL.
Each stdout line is written (and flushed) only after the write it names has returned:

    job <id>      create_job returned
    step <key>    step_finished returned; step_started and add_event were queued before it
    done <id>     job_finished returned
"""

from __future__ import annotations

import asyncio
import sys

from agentgo_cli.store import open_store

WORKERS = 16
STEPS_PER_JOB = 25


def _say(kind: str, value: str) -> None:
    sys.stdout.write(f"{kind} {value}\n")
    sys.stdout.flush()


async def _main(url: str, prefix: str, synchronous: str) -> None:
    store = open_store(url, synchronous=synchronous)
    await store.start()

    async def worker(w: int) -> None:
        i = 0
        while True:
            job = await store.create_job("crash", {"prefix": prefix, "worker": w}, [])
            _say("job", job.id)
            for _ in range(STEPS_PER_JOB):
                key = f"{job.id}/{prefix}.{w}.{i}"
                await store.step_started(job.id, key, "s", "tool", 2)
                await store.add_event(job.id, "step", key)
                output = {"key": key, "text": "é" * 200}
                await store.step_finished(job.id, key, "succeeded", output=output, tokens=1)
                _say("step", key)
                i += 1
            await store.job_finished(job.id, "succeeded", outputs={"steps": i})
            _say("done", job.id)

    await asyncio.gather(*(worker(w) for w in range(WORKERS)))


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:4]))

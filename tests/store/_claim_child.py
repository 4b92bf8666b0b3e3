"""Claim-race child: work through a todo list from another process until every todo is done.

Run as ``python _claim_child.py STORE_URL LIST_ID NAME TTL_S``. It prints ``ready`` once its
store is open, then runs WORKERS coroutines, owners ``NAME/0`` … ``NAME/3``, that claim a
todo, work on it for a few milliseconds and complete it with their owner as the result.
Each ``won <seq>`` line is written (and flushed) only after ``todo_complete`` returned True
for it, so a child killed with SIGKILL may have completed up to WORKERS todos it did not
report. It exits once no todo of the list is open or claimed.
"""

from __future__ import annotations

import asyncio
import random
import sys

from agentgo_cli.store import open_store

WORKERS = 4
WORK_S = 0.004
"""How long a worker holds its claim before completing: most of the time, every worker of
a child holds a claim, so a child killed at any moment leaves claims to be stolen."""


async def _main(url: str, list_id: str, name: str, ttl_s: float) -> None:
    store = open_store(url)
    await store.start()
    print("ready", flush=True)

    async def worker(owner: str) -> None:
        rng = random.Random(owner)
        while True:
            todo = await store.todo_claim(list_id, owner, ttl_s)
            if todo is None:
                left = await store.todos(list_id, status="open")
                if not left and not await store.todos(list_id, status="claimed"):
                    return
                await asyncio.sleep(0.02)  # wait for a claim to expire
                continue
            assert todo.token is not None
            await asyncio.sleep(rng.uniform(0, 2 * WORK_S))
            if await store.todo_complete(list_id, todo.seq, todo.token, owner):
                sys.stdout.write(f"won {todo.seq}\n")
                sys.stdout.flush()

    try:
        await asyncio.gather(*(worker(f"{name}/{k}") for k in range(WORKERS)))
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))

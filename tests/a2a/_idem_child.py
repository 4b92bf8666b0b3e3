"""Idempotency race child: claim one key from another process.

Run as ``python _idem_child.py STORE_URL``. It prints ``ready`` once its store is open, waits
for a line on stdin (so that every racer starts together), races for the key, and prints
``[action, result]`` as JSON.

Run as ``python _idem_child.py STORE_URL hold``: it claims the key with the default lease,
prints ``held`` and keeps the call running until it is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from agentgo_cli.a2a.idempotency import Idempotency
from agentgo_cli.store import open_store

HOLD_S = 0.1
"""How long the winner runs its call: long enough for every racer to find it pending."""


async def race(idempotency: Idempotency, who: str) -> tuple[str, Any]:
    """Begin the shared key; the winner runs for HOLD_S and stores who it was."""
    begun = await idempotency.begin("race.intent", "k", {"n": 1, "text": "é"}, 60)
    if begun.action != "run":
        return begun.action, begun.result
    await asyncio.sleep(HOLD_S)
    await idempotency.finish(begun, "succeeded", {"by": who})
    return "run", {"by": who}


async def _main(url: str, mode: str) -> None:
    store = open_store(url)
    await store.start()
    try:
        if mode == "hold":
            begun = await Idempotency(store).begin("race.intent", "k", {"n": 1, "text": "é"}, 60)
            print("held" if begun.action == "run" else begun.action, flush=True)
            await asyncio.sleep(3600)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        action, result = await race(Idempotency(store), f"child {os.getpid()}")
        print(json.dumps([action, result]), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "race"))

"""Benchmark: an A2A SendMessage through `agentgo serve`, with the official a2a-sdk client,
on each binding, against the same call through `/v1/calls`.

Each A2A message is a task, and a task is a durable job (created, its one call step run and
recorded, its end written, its messageId claimed as an idempotency key), where `/v1/calls`
runs the call without a job: the difference is what a job costs a call. No budget is set
for it in ARCHITECTURE.md; the figures are for the record.

The server is the installed `agentgo serve --port 0 --workers 0`, a child process, on the
project of `serve_http.py` (a scripted agent with no latency, an intent with schemas, an ACL
and a rate limit); the client is one httpx.AsyncClient (keep-alive) in this process. Calls
are sent one after another (closed loop, one client) after a warm-up.

Run: .venv/bin/python bench/a2a_http.py [--calls 300] [--json]
Exit status: 0 when every answer was right, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import clean_env, find_agentgo, machine_check
from call_lifecycle import MANIFESTS
from serve_http import EXPECTED, TOKEN_ENV, Server, _config, _line, _summary

SKILL = "research.summarize"


async def _a2a(url: str, token: str, binding: str, calls: int, warm: int) -> list[float]:
    import httpx
    from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
    from a2a.helpers.proto_helpers import get_data_parts, new_data_part
    from a2a.types.a2a_pb2 import Message, Role, SendMessageRequest

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        config = ClientConfig(
            httpx_client=http, streaming=False, supported_protocol_bindings=[binding]
        )
        client = ClientFactory(config).create(card)
        times: list[float] = []
        for n in range(warm + calls):
            message = Message(
                message_id=uuid.uuid4().hex,
                role=Role.ROLE_USER,
                parts=[new_data_part({"topic": f"topic {n}"})],
            )
            message.metadata.update({"skill": SKILL})
            started = time.perf_counter()
            (response,) = [
                r async for r in client.send_message(SendMessageRequest(message=message))
            ]
            took = time.perf_counter() - started
            (artifact,) = response.task.artifacts
            if get_data_parts(artifact.parts)[0] != EXPECTED:
                raise SystemExit(f"a2a_http: wrong answer: {response}")
            if n >= warm:
                times.append(took)
        return times


async def _v1(url: str, token: str, calls: int, warm: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        times: list[float] = []
        for n in range(warm + calls):
            body = {"intent": SKILL, "input": {"topic": f"topic {n}"}}
            started = time.perf_counter()
            response = await http.post("/v1/calls", json=body)
            took = time.perf_counter() - started
            if response.status_code != 200 or response.json()["output"] != EXPECTED:
                raise SystemExit(f"a2a_http: /v1/calls answered {response.text[:200]}")
            if n >= warm:
                times.append(took)
        return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    agentgo = find_agentgo("a2a_http.py")
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="agentgo-a2a-bench-") as tmp:
        project = Path(tmp)
        (project / "manifests").mkdir()
        (project / "manifests" / "bench.yaml").write_text(MANIFESTS)
        (project / "agentgo.yaml").write_text(_config(0))
        machine = machine_check(project)
        env = {**clean_env(project), TOKEN_ENV: token}
        server = Server(agentgo, project, env)
        try:
            figures = {
                "v1_calls": _summary(asyncio.run(_v1(server.url, token, args.calls, args.warm))),
                "a2a_jsonrpc": _summary(
                    asyncio.run(_a2a(server.url, token, "JSONRPC", args.calls, args.warm))
                ),
                "a2a_http_json": _summary(
                    asyncio.run(_a2a(server.url, token, "HTTP+JSON", args.calls, args.warm))
                ),
            }
        finally:
            server.stop()
    if args.json:
        print(json.dumps({"calls": args.calls, "machine": machine, **figures}, indent=2))
        return 0
    print(
        f"a2a_http: {args.calls} calls each, one after another, after {args.warm} warm-up "
        f"({machine})"
    )
    print(_line("POST /v1/calls (no job)", figures["v1_calls"]))
    print(_line("A2A SendMessage, JSON-RPC", figures["a2a_jsonrpc"]))
    print(_line("A2A SendMessage, HTTP+JSON", figures["a2a_http_json"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

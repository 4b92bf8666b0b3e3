"""The JSON-RPC binding answers at its URL with a trailing slash too: the official A2A TCK's
client posts to '<interface url>/' (httpx joining '/' to it), which was a 307 redirect."""

from __future__ import annotations

import httpx

from tests.server.test_a2a_server import project, url  # noqa: F401  (the served project)


async def test_jsonrpc_answers_at_its_url_with_a_trailing_slash(url: str) -> None:  # noqa: F811
    missing = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "j-x"}}
    async with httpx.AsyncClient(base_url=url + "/a2a/jsonrpc") as http:
        answer = await http.post("/", json=missing, headers={"A2A-Version": "1.0"})
    assert answer.status_code == 200
    assert answer.json()["error"]["code"] == -32001

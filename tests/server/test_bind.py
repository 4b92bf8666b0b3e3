"""The socket ``agentgo serve`` listens on hands asyncio (and so uvicorn) connections with
Nagle's algorithm off: an answer written in pieces goes out at once."""

from __future__ import annotations

import asyncio
import socket

import pytest

from agentgo_cli.errors import ConfigError
from agentgo_cli.server.run import bind


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_accepted_connections_have_tcp_nodelay(host: str) -> None:
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")
    try:
        sock = bind(host, 0)
    except ConfigError as exc:  # no loopback IPv6 here: nothing to test
        pytest.skip(f"cannot listen on {host}: {exc}")
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(serve, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            assert await asyncio.wait_for(accepted, 10) != 0
        finally:
            writer.close()

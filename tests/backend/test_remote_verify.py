"""How RemoteBackend checks a server's certificate: a plain-HTTP server has none, so its
client loads no CA bundle; an https server is checked against the system's CAs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.remote import RemoteBackend
from agentgo_cli.config import load_config

Write = Callable[[str, str], Path]


@pytest.mark.parametrize(
    ("server", "checked"),
    [("http://127.0.0.1:9", False), ("https://127.0.0.1:9", True)],
)
async def test_only_an_https_server_has_its_certificate_checked(
    write: Write, server: str, checked: bool
) -> None:
    path = write("agentgo.yaml", f"profile: r\nprofiles:\n  r: {{server: '{server}'}}\n")
    backend = RemoteBackend(load_config(None, path).check())
    async with backend:
        context = backend._http()._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert (context.verify_mode != 0) is checked  # ssl.CERT_NONE is 0

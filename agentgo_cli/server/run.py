"""Run the app on uvicorn until SIGTERM or Ctrl-C, saying where it listens.

The listening socket is bound here, before uvicorn starts, so a port in use or an address
that cannot be had is a clear ConfigError rather than uvicorn's log line and exit 1.
uvicorn owns the process's signals (the in-process workers set none of their own: see
``ServerState.stop``). On the first SIGTERM or Ctrl-C the server closes its socket, answers
503 to the requests still arriving on open connections, lets the steps in flight finish
and gives the running jobs up; a second one gives them up at once. It then exits 0.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from agentgo_cli.errors import ConfigError

if TYPE_CHECKING:
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.manifests.models.config import ServeSettings
    from agentgo_cli.server.app import ServerState

__all__ = ["bind", "serve_forever"]


async def serve_forever(
    config: LoadedConfig, settings: ServeSettings, *, log_level: str = "info"
) -> None:
    """Serve until stopped. Raises ConfigError for tokens or TLS files that cannot be read,
    and for an address that cannot be listened on (a port in use)."""
    from agentgo_cli.server.app import create_app

    app = create_app(config, settings=settings)
    tls: dict[str, Any] = {}
    if settings.tls is not None:
        from agentgo_cli.config import resolve_secret

        base = config.path.parent if config.path else None
        tls = {
            "ssl_certfile": _in(base, settings.tls.certfile),
            "ssl_keyfile": _in(base, settings.tls.keyfile),
            "ssl_ca_certs": _in(base, settings.tls.ca_certs),
        }
        if settings.tls.keyfile_password is not None:
            tls["ssl_keyfile_password"] = resolve_secret(str(settings.tls.keyfile_password), base)
    uv_config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
        lifespan="on",
        server_header=False,
        **tls,
    )
    try:
        uv_config.load()
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConfigError(f"serve.tls: cannot load the certificate or its key: {exc}") from None
    sock = bind(settings.host, settings.port)
    server = _Server(uv_config)
    announce = asyncio.ensure_future(_announce(server, "https" if tls else "http"))
    try:
        await server.serve(sockets=[sock])
    finally:
        announce.cancel()
        sock.close()
    state = _state(server)
    if state is not None and state.startup_error is not None:
        raise state.startup_error


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` for uvicorn to serve on. Raises ConfigError when
    the address is in use or cannot be had, telling what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on connections whose
    # socket says TCP, and without it an answer written in two pieces (uvicorn's headers,
    # then its body) waits for the client's delayed ACK: 40 ms per keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        shown = f"[{host}]" if ":" in host else host
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ConfigError(
                f"cannot listen on {shown}:{port}: the port is in use (another agentgo serve?); "
                "stop that process or pick another port: --port N, or --port 0 for any free one"
            ) from None
        raise ConfigError(
            f"cannot listen on {shown}:{port}: {exc.strerror or exc}; check --host and --port "
            "(serve.host, serve.port)"
        ) from None
    sock.set_inheritable(True)
    return sock


def _in(base: Any, path: str | None) -> str | None:
    """A TLS file named in agentgo.yaml, relative to its folder."""
    if path is None or base is None:
        return path
    from pathlib import Path

    return str(Path(base) / path)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping the app's jobs before it waits for its connections: a
    request waiting for a job (``jobs wait``) ends when the job is given up, not later."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        agentgo = _state(self)
        if self.should_exit and agentgo is not None:
            agentgo.hurry.set()  # a second signal: give the jobs up now
        super().handle_exit(sig, frame)
        # Stopped by a signal is the normal end: exit 0, not by that signal raised again.
        getattr(self, "_captured_signals", []).clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        agentgo = _state(self)
        if agentgo is not None and agentgo.startup_error is not None:
            self.should_exit = True  # serve_forever raises it: one line, no traceback

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for listener in self.servers:
            listener.close()
        agentgo = _state(self)
        if agentgo is not None and agentgo.backend is not None:
            await agentgo.stop()
        await super().shutdown(sockets)


def _state(server: uvicorn.Server) -> ServerState | None:
    state: ServerState | None = getattr(getattr(server.config.app, "state", None), "agentgo", None)
    return state


async def _announce(server: Any, scheme: str) -> None:
    while not getattr(server, "started", False):  # noqa: ASYNC110 (uvicorn sets a flag)
        await asyncio.sleep(0.02)
    if server.should_exit:  # it could not start after all
        return
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(f"agentgo serve: listening on {scheme}://{shown}:{port}", file=sys.stderr)
            sys.stderr.flush()

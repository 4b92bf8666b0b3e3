"""Run the app on uvicorn until SIGTERM or Ctrl-C, saying where it listens."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.config import LoadedConfig
    from agentgo_cli.manifests.models.config import ServeSettings

__all__ = ["serve_forever"]


async def serve_forever(
    config: LoadedConfig, settings: ServeSettings, *, log_level: str = "info"
) -> None:
    """Serve until stopped. Raises ConfigError for tokens or TLS files that cannot be read."""
    import uvicorn

    from agentgo_cli.server.app import create_app

    app = create_app(config, settings=settings)
    tls: dict[str, object] = {}
    if settings.tls is not None:
        from agentgo_cli.config import resolve_secret

        base = config.path.parent if config.path else None
        tls = {
            "ssl_certfile": settings.tls.certfile,
            "ssl_keyfile": settings.tls.keyfile,
            "ssl_ca_certs": settings.tls.ca_certs,
        }
        if settings.tls.keyfile_password is not None:
            tls["ssl_keyfile_password"] = resolve_secret(str(settings.tls.keyfile_password), base)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            access_log=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=30,
            lifespan="on",
            server_header=False,
            **tls,  # type: ignore[arg-type]
        )
    )
    announce = asyncio.ensure_future(_announce(server, "https" if tls else "http"))
    try:
        await server.serve()
    finally:
        announce.cancel()


async def _announce(server: object, scheme: str) -> None:
    while not getattr(server, "started", False):  # noqa: ASYNC110 (uvicorn sets a flag)
        await asyncio.sleep(0.02)
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(f"agentgo serve: listening on {scheme}://{shown}:{port}", file=sys.stderr)
            sys.stderr.flush()

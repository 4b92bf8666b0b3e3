"""agentgo serve: the HTTP API, A2A and in-process workers over one store."""

from __future__ import annotations

import os

import typer

from agentgo_cli.cli._output import handle_errors, run_async

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the serve command to the root app."""

    @app.command()
    @handle_errors
    def serve(
        ctx: typer.Context,
        host: str = typer.Option(None, "--host", help="Address to listen on (serve.host)."),
        port: int = typer.Option(
            None, "--port", min=0, max=65535, help="Port (serve.port; 0: any free port)."
        ),
        workers: int = typer.Option(
            None,
            "--workers",
            "-w",
            min=0,
            help="Jobs run at once by in-process workers taking queued jobs (serve.workers; "
            "0: an API-only node).",
        ),
        log_level: str = typer.Option(
            "info",
            "--log-level",
            help="uvicorn's log level: critical, error, warning, info, debug.",
        ),
        hash_token: bool = typer.Option(
            False,
            "--hash-token",
            help="Read a token on stdin, print its 'sha256:' for serve.tokens, and exit.",
        ),
        new_token: bool = typer.Option(
            False,
            "--new-token",
            help="Print a new random token (stdout) and its 'sha256:' (stderr), and exit.",
        ),
    ) -> None:
        """Serve the active profile's project over HTTP: the /v1 API that profiles with
        'server:' send every command to, and the A2A protocol.

        Requests need a bearer token listed under 'serve.tokens' of agentgo.yaml; each
        token stands for a principal, whom its jobs and calls run as. The A2A agent card
        (/.well-known/agent-card.json) is public, and an A2A request without a token runs
        as 'anonymous', which reaches only public intents.

        Prints 'listening on URL' on stderr once it takes requests. On SIGTERM or Ctrl-C
        it stops taking requests, lets running jobs reach their next committed step, gives
        them up to be resumed by the next server or worker, and exits 0.

        A token can stay out of agentgo.yaml: '${env:NAME}' or '${file:path}' reads it at
        start, or 'sha256:' holds only its digest ('--hash-token' prints it).
        """
        if hash_token or new_token:
            _token_tool(new=new_token)
            return
        from agentgo_cli.config import load_config
        from agentgo_cli.errors import ConfigError, UsageError

        root = ctx.find_root()
        config = load_config((root.obj or {}).get("profile")).check()
        profile = config.profile()
        if profile is not None and profile.server:
            raise UsageError(
                f"profile '{config.profile_name}' sends commands to {profile.server}; serve a "
                "profile with 'store:' (or none)"
            )
        from agentgo_cli.manifests.models.config import ServeSettings

        settings = (config.data.serve if config.data else None) or ServeSettings()
        if not settings.tokens:
            raise ConfigError(
                "agentgo serve needs at least one token under 'serve.tokens' of agentgo.yaml "
                "(see docs/serve.md): without one, nobody could use its API"
            )
        changes: dict[str, object] = {}
        if host is not None:
            changes["host"] = host
        if port is not None:
            changes["port"] = port
        if workers is not None:
            changes["workers"] = workers
        settings = settings.model_copy(update=changes)

        if config.path is not None:
            # It works in its project's folder: the files its answers name are relative to
            # it, and a client shows them from its own working folder (RemoteBackend).
            os.chdir(config.path.parent)
        from agentgo_cli.server.run import serve_forever

        run_async(serve_forever(config, settings, log_level=log_level))


def _token_tool(*, new: bool) -> None:
    """Print a token's sha256 for serve.tokens: of a new random one, or of one on stdin."""
    import hashlib
    import secrets
    import sys

    from agentgo_cli.errors import UsageError
    from agentgo_cli.server.auth import MIN_LENGTH

    if new:
        token = secrets.token_urlsafe(32)
        typer.echo(token)
    else:
        token = sys.stdin.readline().strip()
        if len(token) < MIN_LENGTH:
            raise UsageError(
                f"--hash-token reads a token of at least {MIN_LENGTH} characters on stdin "
                '(e.g. printf %s "$AG_TOKEN" | agentgo serve --hash-token)'
            )
    hashed = hashlib.sha256(token.encode("utf-8")).hexdigest()
    line = f"sha256: '{hashed}'"  # quoted: a digest of digits and an 'e' reads as a number
    if new:
        typer.echo(f"{line}    (serve.tokens: keep this, give the token to its user)", err=True)
    else:
        typer.echo(line)

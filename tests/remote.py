"""The remote side of the CLI suite: a real ``agentgo serve`` app for a test's own project.

``ServedProjects`` backs the ``[remote]`` run of the in-process CLI tests: ``backend_for``
loads the config as a command would, starts (once, on first use) ``create_app`` for it on
uvicorn, on a free loopback port in a thread of this process, and answers a
``RemoteBackend`` pointed at it. The token stands for the principal a local run has
(``user:<login>``) with ``agentgo:impersonate`` (``--as`` works as it does locally), not
``agentgo:admin``: the server shows it only its own jobs, and the tests still see theirs.

``ServeProcess`` is the installed ``agentgo serve`` as a child process, for the tests that
drive the installed command.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.backend.remote import RemoteBackend

if TYPE_CHECKING:
    import uvicorn

    from agentgo_cli.backend import Backend
    from agentgo_cli.backend.views import WorkerNotice, WorkRequest
    from agentgo_cli.config import LoadedConfig

__all__ = [
    "TOKEN_ENV",
    "ServeProcess",
    "ServedProjects",
    "remote_config_text",
    "served_project",
    "served_variant",
]

TOKEN_ENV = "AG_REMOTE_TEST_TOKEN"
"""The variable the remote profile's token is read from (not AGENTGO_*: those are cleared)."""
REMOTE_PROFILE = "remote"
START_SECONDS = 30.0


def _principal() -> str:
    from agentgo_cli.engine.owners import local_principal

    return local_principal()


def _settings(token: str) -> Any:
    from agentgo_cli.manifests.models.config import ServeSettings, ServeToken
    from agentgo_cli.server.auth import IMPERSONATE

    entry = ServeToken(
        sha256=hashlib.sha256(token.encode()).hexdigest(),
        principal=_principal(),
        scopes=[IMPERSONATE],
    )
    # drain=0: a test's server, stopped at the test's end, gives a job still running up at
    # once instead of waiting (up to 30 s) for its step in flight, as a local run's does.
    return ServeSettings(host="127.0.0.1", port=0, workers=0, tokens=[entry], drain=0)


def _quick_server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, made to stop at once: by the time a test ends its commands have
    ended and closed their connections, so uvicorn's 0.1 s ticks and pause on the way out
    (a fifth of a second per test) buy nothing here."""
    import asyncio

    import uvicorn

    class QuickServer(uvicorn.Server):
        _wake: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        async def main_loop(self) -> None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            if not self.should_exit:
                await self._wake.wait()

        def stop_soon(self) -> None:
            self.should_exit = True
            if self._loop is not None and self._wake is not None:
                self._loop.call_soon_threadsafe(self._wake.set)

        async def shutdown(self, sockets: list[Any] | None = None) -> None:
            for server in self.servers:
                server.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()
            for _ in range(1000):  # at most 5 s for the last responses to go out
                if not self.server_state.connections and not self.server_state.tasks:
                    break
                await asyncio.sleep(0.005)
            for server in self.servers:
                await server.wait_closed()
            await self.lifespan.shutdown()

    return QuickServer(config)


class _ThreadServer:
    """``create_app(config)`` on uvicorn in a thread of its own, on a free loopback port."""

    def __init__(self, config: LoadedConfig, token: str) -> None:
        import uvicorn

        from agentgo_cli.server.app import create_app

        app = create_app(config, settings=_settings(token))
        self._server = _quick_server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_level="critical",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="agentgo-serve-test")
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the test's agentgo serve app did not start")
            time.sleep(0.005)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop_soon()  # type: ignore[attr-defined]
        self._thread.join(timeout=30)
        if self._thread.is_alive():
            raise RuntimeError("the test's agentgo serve app did not stop")


def _key(config: LoadedConfig) -> tuple[object, ...]:
    """What a server was built from: a rewritten agentgo.yaml needs a new server."""
    text = config.path.read_bytes() if config.path is not None and config.path.exists() else b""
    return (config.path, config.profile_name, text, None if config.path else Path.cwd())


def client_config(config: LoadedConfig, url: str) -> LoadedConfig:
    """``config`` with its active profile sending commands to ``url`` (a profile of that
    name with ``server:`` and ``token: ${env:TOKEN_ENV}``; ``remote`` when none is active)."""
    import dataclasses

    from agentgo_cli.manifests.models.config import ConfigFile, Profile
    from agentgo_cli.manifests.types import SecretRef

    data = config.data or ConfigFile()
    name = config.profile_name or REMOTE_PROFILE
    base = config.profile() or Profile()
    profile = base.model_copy(
        update={"store": None, "server": url, "token": SecretRef(f"${{env:{TOKEN_ENV}}}")}
    )
    data = data.model_copy(update={"profiles": {**data.profiles, name: profile}})
    return dataclasses.replace(config, data=data, profile_name=name)


class _Remote(RemoteBackend):
    """The remote backend, except ``work``: ``agentgo worker`` is refused remotely by design
    (it runs beside a store), so a test's worker runs beside the server's store, as it
    would on the server's machine."""

    def __init__(self, config: LoadedConfig, served: LoadedConfig) -> None:
        super().__init__(config)
        self._served = served

    async def work(self, request: WorkRequest) -> AsyncIterator[WorkerNotice]:
        from agentgo_cli.backend.local import LocalBackend

        async with LocalBackend(self._served) as local:
            async for notice in local.work(request):
                yield notice


@dataclass
class ServedProjects:
    """The servers of one test, by the config each serves; ``backend_for`` replaces the
    product's factory for the test (``install``)."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _servers: dict[tuple[object, ...], _ThreadServer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url_for(self, config: LoadedConfig) -> str:
        key = _key(config)
        with self._lock:
            server = self._servers.get(key)
            if server is None:
                for old in [k for k in self._servers if k[:2] == key[:2]]:
                    self._servers.pop(old).stop()  # the same project, rewritten
                server = self._servers[key] = _ThreadServer(config, self.token)
            return server.url

    def backend_for(
        self,
        original: Callable[..., Backend],
    ) -> Callable[..., Backend]:
        """A ``backend_for`` that answers a RemoteBackend to this test's server for the
        config a command loads; a config that exists and is broken gets what the product
        gives it (a profile cannot be read from it, so the command runs locally), and so
        does a profile that already has ``server:``."""

        def remote_backend_for(
            profile: str | None = None,
            *,
            lenient: bool = False,
            warn: Callable[[str], None] | None = None,
        ) -> Backend:
            from agentgo_cli.config import load_config

            config = load_config(profile)
            active = config.profile()
            if config.errors or (active is not None and active.server):
                return original(profile, lenient=lenient, warn=warn)
            if warn is not None:
                for warning in config.warnings:
                    warn(warning)
            return _Remote(client_config(config, self.url_for(config)), config)

        return remote_backend_for

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()


def remote_config_text(config_text: str, url: str | None) -> str:
    """``config_text`` (an agentgo.yaml whose profiles a server serves) with a ``serve:``
    token for the local principal and, given ``url``, a ``remote`` profile that sends
    commands there, made the default."""
    import yaml

    from agentgo_cli.server.auth import IMPERSONATE

    data = yaml.safe_load(config_text) or {}
    token = {
        "token": f"${{env:{TOKEN_ENV}}}",
        "principal": _principal(),
        "scopes": [IMPERSONATE],
    }
    data["serve"] = {"tokens": [token]}
    if url is not None:
        data.setdefault("profiles", {})[REMOTE_PROFILE] = {
            "server": url,
            "token": f"${{env:{TOKEN_ENV}}}",
        }
        data["profile"] = REMOTE_PROFILE
    return yaml.safe_dump(data, sort_keys=False)


class ServeProcess:
    """``agentgo [-p PROFILE] serve --port 0 --workers 0`` as a child process; ``url`` once
    it listens, ``log`` what it printed on stderr. ``stop``: SIGTERM (SIGKILL if it hangs)."""

    def __init__(
        self, agentgo: Path, cwd: Path, env: dict[str, str], profile: str | None, *args: str
    ) -> None:
        chosen = ["-p", profile] if profile else []
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [str(agentgo), *chosen, "serve", "--port", "0", "--workers", "0", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, name="agentgo-serve-stderr")
        self.url = self._listening()

    def _listening(self) -> str:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            if "listening on " in line:
                self._reader.start()
                return line.rsplit("listening on ", 1)[1].strip()
        self.stop()
        raise RuntimeError("agentgo serve did not start:\n" + "".join(self.log))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self._reader.is_alive():
            self._reader.join(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@contextlib.contextmanager
def served_project(agentgo: Path, root: Path, env: dict[str, str]) -> Iterator[ServeProcess]:
    """The project at ``root`` served by the installed ``agentgo serve`` (its default
    profile), and its agentgo.yaml made to send every command there (the default profile
    becomes ``remote``); ``env`` holds the token (TOKEN_ENV). After the block the server
    is stopped and the file put back."""
    import yaml

    path = root / "agentgo.yaml"
    original = path.read_text(encoding="utf-8")
    served = (yaml.safe_load(original) or {}).get("profile")
    path.write_text(remote_config_text(original, None), encoding="utf-8")
    server = ServeProcess(agentgo, root, env, served)
    try:
        path.write_text(remote_config_text(original, server.url), encoding="utf-8")
        yield server
    finally:
        server.stop()
        path.write_text(original, encoding="utf-8")


def served_variant(
    kind: str,
    node: Any,
    root: Path,
    setenv: Callable[[str, str], None],
    env: Callable[[], dict[str, str]] | None = None,
) -> Iterator[str]:
    """The body of a module's ``backend_kind`` fixture for tests of the installed command:
    for ``remote``, the project at ``root`` (its agentgo.yaml written) is served by a real
    ``agentgo serve`` for the test and its default profile sends every command there. A
    test marked ``local_only("why")`` is skipped remotely, saying why. ``env``: the
    server's environment (default: tests.e2e.test_worker's, with PYTHONPATH)."""
    import pytest

    if kind == "local":
        yield kind
        return
    marker = node.get_closest_marker("local_only")
    if marker is not None:
        pytest.skip(f"local only: {marker.args[0] if marker.args else 'no reason given'}")
    from tests.e2e.test_worker import AGENTGO, _env

    setenv(TOKEN_ENV, secrets.token_urlsafe(24))
    with served_project(AGENTGO, root, (env or _env)()):
        yield kind

"""Every CLI test runs twice, with the same assertions: ``[local]`` (the embedded engine, as
by default) and ``[remote]``, where each command the test runs goes through RemoteBackend
to a real ``agentgo serve`` app of the test's own project (``tests.remote``).

A test that cannot run remotely by design is marked ``@pytest.mark.local_only("why")``:
its ``[remote]`` run is skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import agentgo_cli.backend
from tests.remote import TOKEN_ENV, ServedProjects


@pytest.fixture(params=["local", "remote"], autouse=True)
def backend_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which backend the test's commands use: ``local``, or ``remote`` (a server of the
    test's project, started on first use and stopped at the test's end)."""
    if request.param == "local":
        yield "local"
        return
    marker = request.node.get_closest_marker("local_only")
    if marker is not None:
        pytest.skip(f"local only: {marker.args[0] if marker.args else 'no reason given'}")
    served = ServedProjects()
    monkeypatch.setenv(TOKEN_ENV, served.token)
    monkeypatch.setattr(
        agentgo_cli.backend, "backend_for", served.backend_for(agentgo_cli.backend.backend_for)
    )
    try:
        yield "remote"
    finally:
        served.close()

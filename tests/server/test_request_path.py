"""What every /v1 request runs stays on the event loop: FastAPI runs a plain ``def``
endpoint or dependency in a worker thread, a hop that cost a call a tenth of its time."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.routing import APIRoute

from agentgo_cli.server.v1 import router


def _calls(dependant: Any) -> list[Any]:
    found = [dependant.call] if dependant.call is not None else []
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def test_no_v1_endpoint_or_dependency_runs_in_a_thread() -> None:
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 10
    blocking = sorted(
        {
            f"{route.path}: {call.__name__}"
            for route in routes
            for call in _calls(route.dependant)
            if not inspect.iscoroutinefunction(call)
        }
    )
    assert blocking == []

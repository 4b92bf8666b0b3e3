"""Who a request runs as: a token's caller binding the principal a job or call asks for."""

from __future__ import annotations

import pytest

from agentgo_cli.server.auth import Caller, Denied


def test_as_ones_own_principal_in_another_case_is_not_impersonation() -> None:
    """Principals are case-insensitive (a local --as User:Alice runs as user:alice), so
    alice's token may name herself in any case, and the job runs as user:alice."""
    alice = Caller("user:alice")
    assert alice.bind("User:Alice", []) == ("user:alice", [])
    assert alice.bind("user:alice", []) == ("user:alice", [])


def test_as_another_principal_is_still_refused_in_any_case() -> None:
    with pytest.raises(Denied, match="acting as User:Bob"):
        Caller("user:alice").bind("User:Bob", [])

"""What the coordinator gives each turn on the path every turn takes: the numbered copy of a
protocol's Turn (built field by field, not with dataclasses.replace) and the role names."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from agentgo_cli.store.base import TeamStore
from agentgo_cli.teams.coordinator import TeamRun, Turn, TurnRunner
from tests.teams.test_protocol_fuzz import team


def test_a_numbered_turn_keeps_every_other_field_of_the_turn() -> None:
    role = team("pipeline", ["writer"]).spec.roles[0]
    given: dict[str, Any] = {
        "suffix": "[3].task",
        "stage": "task",
        "role": role,
        "input": {"task": "t"},
        "prompt": "Do it",
        "mode": "bid",
        "note": {"todo": 3},
        "round": 2,
    }
    missing = {f.name for f in dataclasses.fields(Turn)} - set(given)
    assert not missing, f"give the new fields a value here too: {missing}"
    turn = Turn(**given)
    numbered = turn.numbered(7)
    assert numbered == dataclasses.replace(turn, round=7)
    assert (numbered.round, turn.round) == (7, 2)
    assert numbered.note is turn.note  # as replace gives it: the protocol's own dict


def test_a_team_runs_role_names_are_its_roles_in_order_read_once() -> None:
    desk = team("pipeline", ["writer", "fact-checker", "editor"])
    run = TeamRun(desk, cast(TurnRunner, None), cast(TeamStore, None), "j:desk", "b", "p", "o")
    assert run.role_names == ("writer", "fact-checker", "editor")
    assert run.role_names is run.role_names

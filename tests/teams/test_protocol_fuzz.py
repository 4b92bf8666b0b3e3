"""Garbage from the models into the protocols that read their answers: whatever a planner
answers, planner-workers gets a list of tasks it can store or one StepError saying why not;
whatever the bidders answer, contract-net awards the best real bid or fails with one
StepError, never another exception."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, cast

from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentgo_cli.errors import StepError
from agentgo_cli.manifests.models.team import TeamManifest
from agentgo_cli.store.base import TeamStore, to_json
from agentgo_cli.teams import contract_net
from agentgo_cli.teams.coordinator import TeamRun, Turn, TurnResult
from agentgo_cli.teams.planner_workers import _tasks

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
)
texts = st.one_of(
    st.text(max_size=40),
    values.map(lambda v: json.dumps(v)),
    values.map(lambda v: f"```json\n{json.dumps(v)}\n```"),
    st.integers(1, 3_000).map(lambda n: "[" * n),
    st.integers(1, 3_000).map(lambda n: '{"tasks": ' * n),
    st.sampled_from(['{"tasks": "t1"}', "```\n[1]\n```", "``` [1] ```", "NaN", "[NaN]"]),
)


def team(protocol: str, roles: list[str]) -> TeamManifest:
    """A team ``desk`` of the protocol whose roles are each played by the agent of its name."""
    return TeamManifest.model_validate(
        {
            "apiVersion": "agentgo/v1",
            "kind": "Team",
            "metadata": {"name": "desk"},
            "spec": {"protocol": protocol, "roles": [{"name": r, "agent": r} for r in roles]},
        }
    )


PLANNERS = team("planner-workers", ["planner", "writer"])


@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, values))
def test_a_planners_answer_is_a_list_of_tasks_or_one_step_error(answer: Any) -> None:
    run = cast(TeamRun, type("Run", (), {"name": "desk"})())
    try:
        tasks = _tasks(run, answer)
    except StepError as exc:
        assert str(exc).startswith(
            (
                "team 'desk': the planner must answer a JSON list of tasks "
                '(or {"tasks": [...]}); it answered: ',
                "team 'desk': cannot store task ",
            )
        )
        assert len(str(exc)) < 220
    else:
        assert isinstance(tasks, list)
        to_json(tasks)  # each can be a todo


ROLES = ["first", "second", "third"]


def _finite(bid: Any) -> float | None:
    """The bids a sane reading ranks: numbers (not booleans) that a float holds, not NaN."""
    if type(bid) not in (int, float):
        return None
    try:
        number = float(bid)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


BIDS = st.one_of(
    values,
    st.fixed_dictionaries({"bid": st.one_of(st.floats(), st.integers(-5, 5), values)}),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), BIDS), min_size=3, max_size=3), st.booleans())
@example([(True, {"bid": math.inf}), (True, {"bid": 1}), (True, {"bid": math.nan})], True)
@example([(True, {"bid": math.nan}), (True, {"bid": -math.inf}), (True, {"bid": True})], True)
@example([(True, {"bid": 10**400}), (True, {"bid": 2}), (False, None)], True)
def test_contract_net_awards_the_best_real_bid_or_fails_with_a_step_error(
    answers: list[tuple[bool, Any]], winner_ok: bool
) -> None:
    awarded: list[str] = []

    async def play(_: TeamRun, turn: Turn) -> TurnResult:
        if turn.mode == "bid":
            ok, output = answers[ROLES.index(turn.role.name)]
            return TurnResult(ok, output if ok else None, turn.role.agent, None if ok else "no")
        awarded.append(turn.role.name)
        return TurnResult(winner_ok, "done" if winner_ok else None, turn.role.agent, "failed")

    run = TeamRun(team("contract-net", ROLES), play, cast(TeamStore, None), "r", "b", "p", "o")
    real = {
        name: number
        for name, (ok, output) in zip(ROLES, answers, strict=True)
        if ok and isinstance(output, dict) and (number := _finite(output.get("bid"))) is not None
    }
    try:
        output = asyncio.run(contract_net.run(run, "task"))
    except StepError as exc:
        assert not winner_ok or not real, exc
        assert awarded == sorted(real, key=lambda r: (-real[r], ROLES.index(r)))
    else:
        assert output == "done" and winner_ok
        best = max(real.values())
        assert awarded == [next(r for r in ROLES if real.get(r) == best)]

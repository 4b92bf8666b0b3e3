"""The four team protocols as `agentgo run` runs them: exact outputs, the role turns each
records (keys, kinds, what their records note), and how each protocol treats a role's answer.

The project (tests/teams/protocol_project.py) has one team of every case and a workflow of
the same name that runs it as step ``desk``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine import engine_tools
from tests.teams.protocol_project import Write, notes, run, run_failing, turns, write_project


@pytest.fixture(autouse=True)
def project(write: Write) -> None:
    engine_tools.reset()
    write_project(write)


# -- pipeline ---------------------------------------------------------------------------------


def test_pipeline_hands_each_output_to_the_next_role(workdir: Path) -> None:
    code, job = run("relay")
    assert (code, job["status"], job["outputs"]) == (0, "succeeded", {"out": "C(B(A(x)))"})
    assert turns(job) == [
        ("desk.first", "first", "succeeded"),
        ("desk.second_pass", "second_pass", "succeeded"),
        ("desk.third", "third", "succeeded"),
    ]
    kinds = {s["key"]: (s["kind"], s["output"]) for s in job["steps"]}
    assert kinds["desk"] == ("team", "C(B(A(x)))")
    assert kinds["desk.second_pass"] == ("role", "B(A(x))")
    noted = notes(job)
    assert noted["desk.first"] == {"role": "first", "agent": "wrap-a", "round": 1}
    assert noted["desk.second_pass"] == {"role": "second-pass", "agent": "wrap-b", "round": 2}
    assert noted["desk.third"] == {"role": "third", "agent": "wrap-c", "round": 3}
    assert noted["desk"] == {"protocol": "pipeline", "rounds": 3, "tokens": 0, "cost_usd": 0.0}


# -- planner-workers --------------------------------------------------------------------------


def merged(output: str, prefix: str) -> dict[str, object]:
    """The merge input a merging agent repeated after ``prefix``."""
    head = f"{prefix}Merge the workers' results into one answer.\n\n"
    assert output.startswith(head), output
    value: dict[str, object] = json.loads(output.removeprefix(head))
    return value


def test_planner_workers_play_each_task_once_and_merge_in_task_order(workdir: Path) -> None:
    code, job = run("newsroom", "-i", "task=the week")
    assert (code, job["status"]) == (0, "succeeded"), job["error"]
    tasks = [f"t{n}" for n in range(1, 6)]
    results = [{"task": t, "result": f'done {{"label": "{t}", "count": 1}}'} for t in tasks]
    assert merged(job["outputs"]["out"], "merged ") == {"task": "the week", "results": results}
    assert engine_tools.calls == {t: 1 for t in tasks}  # each task played exactly once
    keys = [key for key, _, _ in turns(job)]
    assert keys[0] == "desk.plan" and keys[-1] == "desk.merge"
    assert sorted(keys[1:-1]) == [f"desk[{n}].task" for n in range(5)]
    assert {status for _, _, status in turns(job)} == {"succeeded"}
    noted = notes(job)
    assert noted["desk.plan"]["role"] == "planner"
    assert noted["desk"]["todos"].startswith(f"{job['job_id']}:desk@")  # the run's own list
    assert noted["desk.merge"] == {"role": "synthesizer", "agent": "merger", "round": 7}
    workers = [noted[f"desk[{n}].task"] for n in range(5)]
    assert {w["agent"] for w in workers} == {"doer"}
    assert {w["role"] for w in workers} <= {"writer", "fact-checker"}
    assert noted["desk"]["tasks"] == 5 and noted["desk"]["rounds"] == 7


def test_without_a_synthesizer_the_planner_merges(workdir: Path) -> None:
    code, job = run("small-room")
    assert code == 0, job["error"]
    results = [
        {"task": f"t{n}", "result": f'done {{"label": "t{n}", "count": 1}}'} for n in range(1, 6)
    ]
    assert merged(job["outputs"]["out"], "chief merged ") == {"task": "x", "results": results}
    assert notes(job)["desk.merge"]["role"] == "planner"


def test_a_planner_that_answers_no_list_fails_the_team(workdir: Path) -> None:
    job = run_failing("vague-room")
    assert job["error"] == (
        "step 'desk' failed: team 'vague-room': the planner must answer a JSON list of tasks "
        '(or {"tasks": [...]}); it answered: just do it'
    )
    assert turns(job) == [("desk.plan", "plan", "succeeded")]
    assert engine_tools.calls == {}


def test_a_plan_nested_too_deeply_is_no_list_of_tasks(workdir: Path) -> None:
    job = run_failing("deep-room")
    assert job["error"] == (
        "step 'desk' failed: team 'deep-room': the planner must answer a JSON list of tasks "
        '(or {"tasks": [...]}); it answered: ' + "[" * 77 + "..."
    )


def test_a_plan_with_a_task_that_is_not_json_fails_the_step(workdir: Path) -> None:
    job = run_failing("nan-room")
    error = (
        "team 'nan-room': cannot store task 2 of the plan as JSON: Out of range float values "
        "are not JSON compliant"
    )
    assert job["error"] == f"step 'desk' failed: {error}"
    desk = next(s for s in job["steps"] if s["key"] == "desk")
    assert (desk["status"], desk["error"]) == ("failed", error)
    assert engine_tools.calls == {}


# -- contract-net -----------------------------------------------------------------------------


def test_the_highest_bid_wins_the_contract(workdir: Path) -> None:
    code, job = run("market", "-i", "task=the report")
    assert (code, job["outputs"]) == (0, {"out": "three did the report"})
    assert turns(job)[-1] == ("desk.award_high", "award_high", "succeeded")
    assert sorted(turns(job)[:3]) == [
        ("desk.bid_high", "bid_high", "succeeded"),
        ("desk.bid_low", "bid_low", "succeeded"),
        ("desk.bid_shy", "bid_shy", "succeeded"),
    ]
    bids = {s["key"]: s["output"] for s in job["steps"] if s["step_id"].startswith("bid_")}
    assert bids == {
        "desk.bid_low": {"bid": 1, "reason": "I can"},
        "desk.bid_high": {"bid": 3, "reason": "I fit"},
        "desk.bid_shy": {"bid": None, "reason": "not mine"},
    }
    summary = notes(job)["desk"]
    assert summary["bids"] == {"low": 1, "high": 3, "shy": None}
    assert summary["awarded"] == "high"


def test_a_tie_goes_to_the_role_listed_first(workdir: Path) -> None:
    code, job = run("tie")
    assert (code, job["outputs"]) == (0, {"out": "three did x"})
    assert turns(job)[-1] == ("desk.award_first", "award_first", "succeeded")


def test_no_bid_at_all_fails_the_team_saying_why_each_role_did_not_bid(workdir: Path) -> None:
    job = run_failing("silent-market")
    assert job["error"] == (
        "step 'desk' failed: team 'silent-market': no role bid for the task (shy: declined, "
        "rambler: agent 'wrap-a' answered no bid: the answer is not JSON (Expecting value: line "
        "1 column 1 (char 0)), crasher: scripted model 'demo': script entry 1: expression "
        "'${{ input.nope }}' failed: 'str object' has no attribute 'nope', nester: agent "
        "'deep-chief' answered no bid: the answer is nested too deeply)"
    )
    assert not any(key.startswith("desk.award") for key, _, _ in turns(job))
    rambler = next(s for s in job["steps"] if s["key"] == "desk.bid_rambler")
    assert rambler["error"] == (
        "agent 'wrap-a' answered no bid: the answer is not JSON (Expecting value: line 1 column "
        "1 (char 0))"
    )


def test_a_winner_that_fails_and_may_be_skipped_passes_the_task_on(workdir: Path) -> None:
    code, job = run("fallen-star")
    assert (code, job["outputs"]) == (0, {"out": "three did x"})
    assert turns(job)[3:] == [
        ("desk.award_star", "award_star", "failed"),
        ("desk.award_high", "award_high", "succeeded"),
    ]
    assert notes(job)["desk"]["awarded"] == "high"


# -- swarm ------------------------------------------------------------------------------------


def test_swarm_triage_hands_off_to_billing_who_answers(workdir: Path) -> None:
    code, job = run("helpdesk", "-i", "task=order 7")
    assert (code, job["outputs"]) == (
        0,
        {"out": "billing: triage handed the task to you: refund for order 7\n\norder 7"},
    )
    assert turns(job) == [
        ("desk#1.triage", "triage", "succeeded"),
        ("desk#2.billing", "billing", "succeeded"),
    ]
    noted = notes(job)
    assert noted["desk#1.triage"] == {
        "role": "triage",
        "agent": "triage",
        "round": 1,
        "handoff": {"to": "billing", "message": "refund for order 7"},
    }
    assert noted["desk#2.billing"] == {"role": "billing", "agent": "biller", "round": 2}
    assert noted["desk"] == {
        "protocol": "swarm",
        "answered_by": "billing",
        "handoffs": 1,
        "rounds": 2,
        "tokens": 0,
        "cost_usd": 0.0,
    }


def test_a_handoff_to_an_unknown_role_is_told_to_the_model_which_recovers(workdir: Path) -> None:
    code, job = run("lost-desk")
    assert (code, job["outputs"]) == (
        0,
        {
            "out": "billing: triage handed the task to you: after error: handoff: 'refunds' is "
            "no role of team 'lost-desk'; hand off to one of: billing\n\nx"
        },
    )
    assert [key for key, _, _ in turns(job)] == ["desk#1.triage", "desk#2.billing"]


def test_swarm_ping_pong_stops_at_max_rounds(workdir: Path) -> None:
    job = run_failing("ping-pong")
    assert job["error"] == (
        "step 'desk' failed: team 'ping-pong' reached its max_rounds (5 role turns) before "
        "the turn of role 'pong'"
    )
    assert [key for key, _, _ in turns(job)] == [
        "desk#1.ping",
        "desk#2.pong",
        "desk#3.ping",
        "desk#4.pong",
        "desk#5.ping",
    ]


def test_swarm_without_max_rounds_stops_at_20(workdir: Path) -> None:
    job = run_failing("endless")
    assert job["error"] == (
        "step 'desk' failed: team 'endless' reached its max_rounds (20 role turns) before "
        "the turn of role 'ping'"
    )
    assert len(turns(job)) == 20
    assert turns(job)[-1] == ("desk#20.pong", "pong", "succeeded")


# -- teams inside containers ------------------------------------------------------------------


def test_teams_run_in_each_item_and_iteration_with_their_own_keys(workdir: Path) -> None:
    code, job = run("nested")
    assert code == 0, job["error"]
    each = job["outputs"]["each"]
    for item, output in zip("ab", each, strict=True):
        value = merged(output, "chief merged ")
        assert value["task"] == item
        results = value["results"]
        assert isinstance(results, list)
        assert [r["task"] for r in results] == [f"t{n}" for n in range(1, 6)]  # in task order
        for r in results:  # the tally counts each task's label across both items
            assert r["result"] in (f'done {{"label": "{r["task"]}", "count": {n}}}' for n in (1, 2))
    assert engine_tools.calls == {f"t{n}": 2 for n in range(1, 6)}  # once per item
    assert job["outputs"]["again"] == (
        "billing: triage handed the task to you: refund for order 2\n\norder 2"
    )
    keys = {key for key, _, _ in turns(job)}
    assert {f"each[{i}].desk[{n}].task" for i in (0, 1) for n in range(5)} <= keys
    assert {f"again#{i}.help#1.triage" for i in (1, 2)} | {"again#2.help#2.billing"} <= keys

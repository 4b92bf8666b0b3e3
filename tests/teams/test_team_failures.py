"""When a team's roles fail or its limits are reached, as `agentgo run` reports it: each role's
``on_failure`` (abort, replace with fallback agents, skip), the limits (max_rounds,
cost_usd, wallclock), and a protocol whose feature is off.

The project is tests/teams/protocol_project.py: each team runs as step ``desk`` of the
workflow of its name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.engine import engine_tools
from tests.teams.protocol_project import (
    CONFIG,
    Write,
    invoke,
    notes,
    run,
    run_failing,
    turns,
    write_project,
)

BROKEN = (
    "scripted model 'demo': script entry 1: expression '${{ input.nope }}' failed: "
    "'str object' has no attribute 'nope'"
)
NOT_JSON = (
    "agent 'not-json' must answer JSON matching its output_schema: the answer is not JSON "
    "(Expecting value: line 1 column 1 (char 0))"
)


@pytest.fixture(autouse=True)
def project(write: Write) -> None:
    engine_tools.reset()
    write_project(write)


# -- on_failure -------------------------------------------------------------------------------


def test_a_role_that_must_not_fail_fails_the_team_with_its_agents_error(workdir: Path) -> None:
    code, job = run("strict")
    assert (code, job["status"], job["outputs"]) == (1, "failed", None)
    assert job["error"] == f"step 'desk.middle' failed: {BROKEN}"
    assert turns(job) == [
        ("desk.first", "first", "succeeded"),
        ("desk.middle", "middle", "failed"),
    ]
    desk = next(s for s in job["steps"] if s["key"] == "desk")
    assert (desk["status"], desk["error"]) == ("failed", f"step 'desk.middle' failed: {BROKEN}")
    assert notes(job)["desk.middle"] == {
        "role": "middle",
        "round": 2,
        "failed_agents": [{"agent": "broken", "error": BROKEN}],
    }


def test_replace_tries_the_fallback_agents_in_order_until_one_answers(workdir: Path) -> None:
    code, job = run("understudies")
    assert (code, job["outputs"]) == (0, {"out": "B(A(x))"})
    assert notes(job)["desk.middle"] == {
        "role": "middle",
        "round": 2,
        "agent": "wrap-b",
        "failed_agents": [
            {"agent": "broken", "error": BROKEN},
            {"agent": "not-json", "error": NOT_JSON},
        ],
    }


def test_replace_with_every_agent_failing_names_each_failure(workdir: Path) -> None:
    job = run_failing("no-understudy")
    assert job["error"] == (
        f"step 'desk.middle' failed: role 'middle': every agent failed (broken: {BROKEN}; "
        f"not-json: {NOT_JSON})"
    )


def test_skip_passes_the_previous_output_on_in_a_pipeline(workdir: Path) -> None:
    code, job = run("lenient")
    assert (code, job["status"], job["outputs"]) == (0, "succeeded", {"out": "C(A(x))"})
    assert turns(job) == [
        ("desk.first", "first", "succeeded"),
        ("desk.middle", "middle", "failed"),
        ("desk.last", "last", "succeeded"),
    ]
    middle = next(s for s in job["steps"] if s["key"] == "desk.middle")
    assert middle["error"] == BROKEN


def test_skip_in_planner_workers_merges_the_tasks_error(workdir: Path) -> None:
    code, job = run("patchy-room")
    assert (code, job["status"]) == (0, "succeeded")
    head = "merged Merge the workers' results into one answer.\n\n"
    results = [{"task": f"t{n}", "result": f"ok t{n}"} for n in (1, 2)]
    results += [{"task": "t3", "result": None, "error": BROKEN}]
    results += [{"task": f"t{n}", "result": f"ok t{n}"} for n in (4, 5)]
    assert job["outputs"]["out"] == head + json.dumps({"task": "x", "results": results})
    assert ("desk[2].task", "task", "failed") in turns(job)


def test_abort_in_planner_workers_fails_the_team_at_the_task(workdir: Path) -> None:
    job = run_failing("brittle-room")
    assert job["error"] == f"step 'desk[2].task' failed: {BROKEN}"
    assert "desk.merge" not in [key for key, _, _ in turns(job)]


def test_skip_in_a_swarm_gives_control_back_to_who_handed_off(workdir: Path) -> None:
    code, job = run("fragile-desk")
    assert (code, job["outputs"]) == (
        0,
        {
            "out": f"triage answered: billing could not take the task ({BROKEN}); it is yours "
            "again.\n\nx"
        },
    )
    assert turns(job) == [
        ("desk#1.triage", "triage", "succeeded"),
        ("desk#2.billing", "billing", "failed"),
        ("desk#3.triage", "triage", "succeeded"),
    ]


# -- limits -----------------------------------------------------------------------------------


def test_max_rounds_stops_the_team_before_the_turn_past_it(workdir: Path) -> None:
    job = run_failing("crowded-room")  # a plan of 5 tasks: 7 turns
    assert job["error"] == (
        "step 'desk' failed: team 'crowded-room' reached its max_rounds (4 role turns) before "
        "the task turn of role 'writer'"
    )
    assert [key for key, _, _ in turns(job)] == [
        "desk.plan",
        "desk[0].task",
        "desk[1].task",
        "desk[2].task",
    ]


def test_cost_usd_stops_the_team_once_its_turns_spent_more(workdir: Path) -> None:
    job = run_failing("thrifty")
    # 150 tokens a turn at $1000 per million: $0.15 a turn; over $0.2 after the second.
    assert job["error"] == (
        "step 'desk' failed: team 'thrifty' spent $0.300000, over its cost_usd limit of $0.2, "
        "before the turn of role 'third'"
    )
    assert (job["tokens"], job["cost_usd"]) == (300, pytest.approx(0.3))
    summary = notes(job)["desk"]
    assert (summary["rounds"], summary["tokens"]) == (2, 300)


def test_cost_usd_is_checked_after_the_last_turn_too(workdir: Path) -> None:
    code, job = run("spendthrift")
    assert (code, job["status"], job["outputs"]) == (1, "failed", None)
    assert job["error"] == (
        "step 'desk' failed: team 'spendthrift' spent $0.150000, over its cost_usd limit of $0.1"
    )
    assert turns(job) == [("desk.only", "only", "succeeded")]


def test_wallclock_stops_the_team_between_turns(workdir: Path) -> None:
    job = run_failing("hasty")
    pattern = (
        r"step 'desk' failed: team 'hasty' ran (\d+\.\d)s, over its wallclock limit of 200ms, "
        r"before the turn of role '(second|third)'"
    )
    found = re.fullmatch(pattern, job["error"])
    assert found, job["error"]
    assert float(found[1]) >= 0.2
    assert len(turns(job)) in (1, 2)


# -- a protocol whose feature is off ----------------------------------------------------------


def test_a_disabled_protocol_is_refused_naming_the_feature(write: Write) -> None:
    write("agentgo.yaml", CONFIG.replace("features: [contract-net, swarm]", "features: [swarm]"))
    code, out, err = invoke("validate")
    assert code == 1
    needs = "spec.protocol: team protocol 'contract-net' needs the 'contract-net' feature: add it"
    lines = [line for line in out.splitlines() if needs in line]
    assert len(lines) == 4, out  # market, tie, silent-market, fallen-star
    assert all(re.match(r"m/teams\.yaml:\d+:13: ", line) for line in lines), lines
    # Running any workflow of the set, the team's or another, is refused the same way.
    for workflow in ("market", "relay"):
        code, out, err = invoke("run", workflow)
        assert (code, out) == (1, "")
        assert needs in err and err.endswith("error: the manifest set has 4 errors\n"), err


def test_a_queued_job_whose_protocol_was_turned_off_is_not_run(write: Write) -> None:
    code, out, err = invoke("run", "helpdesk", "--detach")
    assert code == 0, err
    job_id = out.strip()
    write("agentgo.yaml", CONFIG.replace("features: [contract-net, swarm]", "features: []"))
    code, out, err = invoke("resume", job_id)
    assert (code, out) == (1, "")
    assert "team protocol 'swarm' needs the 'swarm' feature: add it to 'features:'" in err
    code, out, err = invoke("jobs", "show", job_id, "-o", "json")
    assert json.loads(out)["status"] == "queued"  # nothing ran: it waits for the feature
    code, out, err = invoke("worker", "--once")
    assert (code, out) == (1, "")
    assert "team protocol 'swarm' needs the 'swarm' feature: add it to 'features:'" in err

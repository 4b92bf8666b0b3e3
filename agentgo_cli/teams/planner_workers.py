"""planner-workers: the planner splits the task, workers claim the parts, one merges.

1. The ``planner`` role answers a list of tasks (turn ``<team key>.plan``): a JSON list, or
   an object with a ``tasks`` list.
2. The tasks become todos of a list of this run's own; every role other than ``planner``
   and ``synthesizer`` is a worker role, and ``replicas`` workers of each claim todos one at
   a time (exactly one claim holds a todo: ``TeamStore.todo_claim``) and play them (turn
   ``<team key>[<todo number>].task``, whoever plays it). A worker that runs out of todos
   waits while others still work, since their agents may add todos (``todo_add``).
3. The ``synthesizer`` role, else the planner, merges ``{task, results: [{task, result}]}``
   (turn ``<team key>.merge``); its answer is the team's output.

A resumed run replays the plan and every finished task from their records; the todo list
is the one the plan made (its id is recorded with the plan), and the claims the stopped
process held are freed first, so nothing waits for a claim to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from typing import Any

from agentgo_cli.errors import StepError, ValueNotStorable
from agentgo_cli.store.base import to_json
from agentgo_cli.teams.coordinator import TeamRun, Turn, gather

__all__ = ["CLAIM_TTL", "MERGE_PROMPT", "PLAN_PROMPT", "WORK_PROMPT", "run"]

PLAN_PROMPT = "Plan the work: answer a JSON list of tasks, one item per task for the workers."
WORK_PROMPT = "Do this task."
MERGE_PROMPT = "Merge the workers' results into one answer."
CLAIM_TTL = 60.0
"""Seconds a worker's claim holds without renewal; a worker renews it every third."""

_FENCE_RE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n\s*```$", re.DOTALL)


async def run(team: TeamRun, task: Any) -> Any:
    spec = team.team.spec
    planner = team.role("planner")
    synthesizer = next((r for r in spec.roles if r.name == "synthesizer"), planner)
    workers = [r for r in spec.roles if r.name not in ("planner", "synthesizer")]
    if not workers:
        raise StepError(f"team '{team.name}' has no worker role (a role besides the planner)")
    note = {"todos": f"{team.run_id}@{uuid.uuid4().hex[:12]}"}
    plan = await team.turn(Turn(".plan", "plan", planner, task, PLAN_PROMPT, note=note))
    if not plan.ok:
        raise StepError(f"team '{team.name}': the planner gave no plan: {plan.error}")
    tasks = _tasks(team, plan.output)
    list_id = str(plan.note.get("todos") or note["todos"])
    store = team.store
    await store.todo_add(list_id, tasks, first_seq=0)
    await store.todo_release(list_id)  # claims of a process that stopped mid-run
    team.summary["todos"] = list_id
    state = _Workers(team, list_id)
    await gather(state.worker(role, n) for role in workers for n in range(1, role.replicas + 1))
    results = [
        {"task": t.task, "result": (t.result or {}).get("output")}
        | ({"error": t.result["error"]} if (t.result or {}).get("error") else {})
        for t in await store.todos(list_id)
    ]
    team.summary["tasks"] = len(results)
    merged = await team.turn(
        Turn(".merge", "merge", synthesizer, {"task": task, "results": results}, MERGE_PROMPT)
    )
    return merged.output if merged.ok else results


class _Workers:
    """The workers of one run: they claim and play todos until none is left."""

    def __init__(self, team: TeamRun, list_id: str) -> None:
        self.team = team
        self.list_id = list_id
        self.busy = 0
        """Todos claimed by this run's workers and not yet completed."""
        self.changed = asyncio.Event()

    async def worker(self, role: Any, n: int) -> None:
        team, store = self.team, self.team.store
        owner = f"{team.owner}/{team.run_id}/{role.name}#{n}"
        while True:
            todo = await store.todo_claim(self.list_id, owner, CLAIM_TTL)
            if todo is None:
                if self.busy == 0:
                    self.changed.set()  # wake the others: nothing is left for anyone
                    return
                self.changed.clear()
                await self.changed.wait()
                continue
            self.busy += 1
            renew = asyncio.ensure_future(self._renew(todo.seq, str(todo.token)))
            try:
                result = await team.turn(
                    Turn(f"[{todo.seq}].task", "task", role, todo.task, WORK_PROMPT)
                )
            finally:
                renew.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renew
                self.busy -= 1
            done = {"output": result.output if result.ok else None, "role": role.name}
            if not result.ok:
                done["error"] = result.error
            await store.todo_complete(self.list_id, todo.seq, str(todo.token), done)
            self.changed.set()

    async def _renew(self, seq: int, token: str) -> None:
        while True:
            await asyncio.sleep(CLAIM_TTL / 3)
            await self.team.store.todo_renew(self.list_id, seq, token, CLAIM_TTL)


def _tasks(team: TeamRun, output: Any) -> list[Any]:
    """The planner's answer as a list of tasks; StepError when it is not one."""
    value = output
    if isinstance(value, str):
        text = value.strip()
        fenced = _FENCE_RE.match(text)
        with contextlib.suppress(ValueError, RecursionError):  # no JSON: no list
            value = json.loads(fenced.group(1) if fenced else text)
    if isinstance(value, dict) and isinstance(value.get("tasks"), list):
        value = value["tasks"]
    if not isinstance(value, list):
        shown = output if isinstance(output, str) else json.dumps(output, default=str)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise StepError(
            f"team '{team.name}': the planner must answer a JSON list of tasks "
            f'(or {{"tasks": [...]}}); it answered: {shown}'
        )
    for n, item in enumerate(value, 1):  # a todo holds JSON: no NaN, not nested too deeply
        try:
            to_json(item, f"task {n} of the plan")
        except ValueNotStorable as exc:
            raise StepError(f"team '{team.name}': {exc}") from None
    return value

"""contract-net: the task is announced, every role bids, the best bid is awarded.

1. Every role gets the task with ``BID_PROMPT`` at once (turns ``<team key>.bid_<role id>``)
   and answers ``{"bid": number, "reason": text}``: the higher the bid, the better the
   role says it fits; ``"bid": null`` declines. An answer that is not a bid (or whose bid
   is not a finite number), or a bidder that fails, is no bid.
2. The highest bid wins; on a tie, the role listed first in ``roles`` wins. With no bid at
   all the team fails ("no role bid for the task").
3. The winner does the task (turn ``<team key>.award_<role id>``); its answer is the team's
   output. A winner that fails with ``on_failure: skip`` passes the task to the next-best
   bidder; ``replace`` tries its fallback agents first; ``abort`` fails the team.
"""

from __future__ import annotations

import math
from typing import Any

from agentgo_cli.errors import StepError
from agentgo_cli.teams.coordinator import TeamRun, Turn, gather, role_id

__all__ = ["AWARD_PROMPT", "BID_PROMPT", "BID_SCHEMA", "run"]

BID_PROMPT = (
    "Bid for this task: answer only JSON "
    '{"bid": <a number, higher means you fit it better; null to decline>, "reason": "<why>"}.'
)
AWARD_PROMPT = "You won the contract for this task: do it now."
BID_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["bid"],
    "properties": {"bid": {"type": ["number", "null"]}, "reason": {"type": "string"}},
}
"""What a bid turn must answer."""


async def run(team: TeamRun, task: Any) -> Any:
    roles = team.team.spec.roles
    answers = await gather(
        team.turn(
            Turn(f".bid_{role_id(r.name)}", f"bid_{role_id(r.name)}", r, task, BID_PROMPT, "bid")
        )
        for r in roles
    )
    bids: dict[str, Any] = {}
    ranking: list[tuple[float, int, Any]] = []
    why: list[str] = []
    for index, (role, answer) in enumerate(zip(roles, answers, strict=True)):
        value = answer.output.get("bid") if answer.ok and isinstance(answer.output, dict) else None
        number = _number(value)
        bids[role.name] = value if number is not None else None
        if number is not None:
            ranking.append((-number, index, role))
        elif not answer.ok:
            why.append(f"{role.name}: {answer.error}")
        else:
            why.append(f"{role.name}: " + ("declined" if value is None else "no finite number"))
    team.summary["bids"] = bids
    if not ranking:
        raise StepError(f"team '{team.name}': no role bid for the task ({', '.join(why)})")
    ranking.sort(key=lambda entry: entry[:2])  # the highest bid; on a tie, the first role
    failures: list[str] = []
    for _, _, role in ranking:
        rid = role_id(role.name)
        result = await team.turn(Turn(f".award_{rid}", f"award_{rid}", role, task, AWARD_PROMPT))
        if result.ok:
            team.summary["awarded"] = role.name
            return result.output
        failures.append(f"{role.name}: {result.error}")
    raise StepError(f"team '{team.name}': every bidder failed the task ({'; '.join(failures)})")


def _number(bid: Any) -> float | None:
    """A bid as a number to rank; None for no bid: null, not a number (a boolean is none),
    NaN, an infinity, or past what a float holds."""
    if not isinstance(bid, int | float) or isinstance(bid, bool):
        return None
    try:
        number = float(bid)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None

"""The catalog: every intent of a manifest set, callable by name and semver range.

Cards come from Capability manifests. A card may target a remote A2A agent
(``target: a2a:https://…``): its intents are ordinary entries, checked here like any other
(input, ACL, quota, idempotency before the call, output after), and dispatched to
``a2a.remote.call_remote``. An agent that no card targets still gets a synthetic
card with one intent, ``<agent>.run`` (version 1.0.0, internal), so that manifests written
before capability cards keep working. Its input is the task as text (``SYNTHETIC_INPUT``,
enforced like any intent's input); its output is what the agent answers: the object of its
``output_schema`` when it has one, else text.

A team that no card targets gets ``<team>.run`` the same way, unless an intent of that name
exists already (an uncarded agent of the same name keeps its own). Its output is text when
no agent whose answer can be the team's has an ``output_schema`` (and the protocol cannot
answer anything else), else any JSON (no output schema): ``_team_output``.

A long-running worker reloads by building a new catalog from a set that validated
completely (``LocalBackend._reload``); a broken set is refused and the old one stays in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import CallError
from agentgo_cli.semver import best_match

if TYPE_CHECKING:
    from agentgo_cli.manifests.manifest_set import ManifestSet
    from agentgo_cli.manifests.models.capability import Intent
    from agentgo_cli.manifests.models.team import TeamManifest

__all__ = ["SYNTHETIC_INPUT", "SYNTHETIC_VERSION", "Catalog", "CatalogEntry", "split_ref"]

SYNTHETIC_VERSION = "1.0.0"
SYNTHETIC_INPUT: dict[str, Any] = {"type": "string"}
"""The input schema of every ``<agent>.run`` intent: the task, as text."""


@dataclass(frozen=True)
class CatalogEntry:
    """One version of one intent, and who serves it."""

    intent: Intent
    target: str
    """'agent:<name>', 'team:<name>' or 'a2a:<url>' (a remote A2A agent)."""
    card: str | None
    """The Capability manifest's name; None for a synthetic card."""
    auth_token: str | None = None
    """A remote target's bearer token as the card writes it (``${env:NAME}``): resolved at
    each call, never here."""

    @property
    def name(self) -> str:
        return str(self.intent.name)

    @property
    def version(self) -> str:
        return str(self.intent.version)

    @property
    def ref(self) -> str:
        """'name@version', the exact intent version."""
        return f"{self.name}@{self.version}"

    @property
    def synthetic(self) -> bool:
        return self.card is None

    @property
    def target_kind(self) -> str:
        return self.target.partition(":")[0]

    @property
    def target_name(self) -> str:
        return self.target.partition(":")[2]


def split_ref(ref: str) -> tuple[str, str]:
    """'research.summarize@^1' → ('research.summarize', '^1'); no range → '*'."""
    name, _, wanted = ref.partition("@")
    return name.strip(), (wanted.strip() or "*")


class Catalog:
    """The intents of one manifest set; immutable once made."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._by_name: dict[str, dict[str, CatalogEntry]] = {}
        for entry in entries:
            self._by_name.setdefault(entry.name, {})[entry.version] = entry

    @classmethod
    def from_set(cls, mset: ManifestSet) -> Catalog:
        """The cards of a valid manifest set, plus a synthetic card per uncarded agent."""
        from agentgo_cli.manifests.models import AgentManifest, CapabilityManifest, TeamManifest

        entries: list[CatalogEntry] = []
        carded: set[str] = set()
        for name, entry in sorted(mset.of_kind("Capability").items()):
            card = entry.manifest
            if isinstance(card, CapabilityManifest):
                carded.add(card.spec.target)
                token = card.spec.auth.token if card.spec.auth else None
                entries += [
                    CatalogEntry(i, card.spec.target, name, token) for i in card.spec.intents
                ]
        for name, entry in sorted(mset.of_kind("Agent").items()):
            agent = entry.manifest
            if isinstance(agent, AgentManifest) and f"agent:{name}" not in carded:
                output = agent.spec.output_schema
                entries.append(
                    _synthetic(
                        f"agent:{name}",
                        agent.metadata.description
                        or f"Run the agent '{name}' on a task given as text.",
                        dict(output) if output is not None else {"type": "string"},
                    )
                )
        taken = {entry.name for entry in entries}
        agents = {name: entry.manifest for name, entry in mset.of_kind("Agent").items()}
        for name, entry in sorted(mset.of_kind("Team").items()):
            team = entry.manifest
            if (
                isinstance(team, TeamManifest)
                and f"team:{name}" not in carded
                and f"{name}.run" not in taken
            ):
                protocol = team.spec.protocol
                entries.append(
                    _synthetic(
                        f"team:{name}",
                        team.metadata.description
                        or f"Run the team '{name}' ({protocol}) on a task given as text.",
                        _team_output(team, agents),
                    )
                )
        return cls(entries)

    def entries(self) -> list[CatalogEntry]:
        """Every intent version, by name then version (newest last)."""
        from agentgo_cli.semver import parse_version

        return [
            self._by_name[name][version]
            for name in sorted(self._by_name)
            for version in sorted(self._by_name[name], key=parse_version)
        ]

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def lookup(self, ref: str) -> CatalogEntry:
        """The highest version matching 'name[@range]'; CallError 'not_found' otherwise."""
        name, wanted = split_ref(ref)
        versions = self._by_name.get(name)
        if not versions:
            from agentgo_cli.manifests._text import did_you_mean

            raise CallError(
                "not_found", f"no intent '{name}' in the catalog{did_you_mean(name, self.names())}"
            )
        try:
            version = best_match(versions, wanted)
        except ValueError as exc:
            raise CallError("not_found", f"'{ref}': bad version range: {exc}") from None
        if version is None:
            known = ", ".join(sorted(versions))
            raise CallError(
                "not_found", f"no version of '{name}' matches '{wanted}' (the catalog has {known})"
            )
        return versions[version]


def _synthetic(target: str, description: str, output: dict[str, Any] | None) -> CatalogEntry:
    """The ``<name>.run`` intent of an uncarded agent or team: text in, ``output`` out."""
    from agentgo_cli.manifests.models.capability import Intent
    from agentgo_cli.manifests.types import SemVer

    intent = Intent.model_construct(
        name=f"{target.partition(':')[2]}.run",
        version=SemVer(SYNTHETIC_VERSION),
        description=description,
        tags=[],
        input=dict(SYNTHETIC_INPUT),
        output=output,
        prompt=None,
        classification="internal",
        acl=None,
        rate_limit=None,
        idempotency_ttl=None,
        timeout=None,
        examples=[],
    )
    return CatalogEntry(intent, target, None)


def _team_output(team: TeamManifest, agents: dict[str, Any]) -> dict[str, Any] | None:
    """The output schema of a team's ``<team>.run``: text when none of the agents whose
    answer can be the team's has an ``output_schema``; None (any JSON) otherwise, and when
    the team may answer the workers' results (a planner-workers merger that skips)."""
    from agentgo_cli.manifests.models import AgentManifest

    roles = team.spec.roles
    if team.spec.protocol == "planner-workers":
        planner = next(r for r in roles if r.name == "planner")
        answering = [next((r for r in roles if r.name == "synthesizer"), planner)]
        if answering[0].on_failure == "skip":
            return None
    elif team.spec.protocol == "pipeline":
        answering = []  # the last role, and those before it while the later ones may skip
        for role in reversed(roles):
            answering.append(role)
            if role.on_failure != "skip":
                break
    else:  # contract-net: the winning bidder; swarm: whoever answers
        answering = list(roles)
    for role in answering:
        for name in (role.agent, *role.fallback_agents):
            agent = agents.get(name)
            if isinstance(agent, AgentManifest) and agent.spec.output_schema is not None:
                return None
    return {"type": "string"}

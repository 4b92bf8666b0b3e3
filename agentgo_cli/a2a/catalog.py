"""The catalog: every intent of a manifest set, callable by name and semver range.

Cards come from Capability manifests. An agent that no card targets still gets a synthetic
card with one intent, ``<agent>.run`` (version 1.0.0, internal), so that manifests written
before capability cards keep working. Its input is the task as text (``SYNTHETIC_INPUT``,
enforced like any intent's input); its output is what the agent answers: the object of its
``output_schema`` when it has one, else text.

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
    from agentgo_cli.manifests.models.agent import AgentManifest
    from agentgo_cli.manifests.models.capability import Intent

__all__ = ["SYNTHETIC_INPUT", "SYNTHETIC_VERSION", "Catalog", "CatalogEntry", "split_ref"]

SYNTHETIC_VERSION = "1.0.0"
SYNTHETIC_INPUT: dict[str, Any] = {"type": "string"}
"""The input schema of every ``<agent>.run`` intent: the task, as text."""


@dataclass(frozen=True)
class CatalogEntry:
    """One version of one intent, and who serves it."""

    intent: Intent
    target: str
    """'agent:<name>' or 'team:<name>'."""
    card: str | None
    """The Capability manifest's name; None for a synthetic card."""

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
        from agentgo_cli.manifests.models import AgentManifest, CapabilityManifest

        entries: list[CatalogEntry] = []
        carded: set[str] = set()
        for name, entry in sorted(mset.of_kind("Capability").items()):
            card = entry.manifest
            if isinstance(card, CapabilityManifest):
                carded.add(card.spec.target)
                entries += [CatalogEntry(i, card.spec.target, name) for i in card.spec.intents]
        for name, entry in sorted(mset.of_kind("Agent").items()):
            agent = entry.manifest
            if isinstance(agent, AgentManifest) and f"agent:{name}" not in carded:
                entries.append(_synthetic(name, agent))
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


def _synthetic(name: str, agent: AgentManifest) -> CatalogEntry:
    """The ``<agent>.run`` intent: text in; out, the agent's output_schema or text."""
    from agentgo_cli.manifests.models.capability import Intent
    from agentgo_cli.manifests.types import SemVer

    output = agent.spec.output_schema
    intent = Intent.model_construct(
        name=f"{name}.run",
        version=SemVer(SYNTHETIC_VERSION),
        description=agent.metadata.description
        or f"Run the agent '{name}' on a task given as text.",
        tags=[],
        input=dict(SYNTHETIC_INPUT),
        output=dict(output) if output is not None else {"type": "string"},
        prompt=None,
        classification="internal",
        acl=None,
        rate_limit=None,
        idempotency_ttl=None,
        timeout=None,
        examples=[],
    )
    return CatalogEntry(intent, f"agent:{name}", None)

"""Pydantic models of the five manifest kinds and of the config file."""

from __future__ import annotations

from agentgo_cli.manifests.models.agent import AgentManifest, AgentSpec
from agentgo_cli.manifests.models.capability import CapabilityManifest, CapabilitySpec, Intent
from agentgo_cli.manifests.models.common import API_VERSION, Manifest, Metadata
from agentgo_cli.manifests.models.config import ConfigFile, Profile
from agentgo_cli.manifests.models.team import TeamManifest, TeamSpec
from agentgo_cli.manifests.models.tool import ToolManifest, ToolSpec
from agentgo_cli.manifests.models.workflow import Step, WorkflowManifest, WorkflowSpec

__all__ = [
    "API_VERSION",
    "KINDS",
    "AgentManifest",
    "AgentSpec",
    "CapabilityManifest",
    "CapabilitySpec",
    "ConfigFile",
    "Intent",
    "Manifest",
    "Metadata",
    "Profile",
    "Step",
    "TeamManifest",
    "TeamSpec",
    "ToolManifest",
    "ToolSpec",
    "WorkflowManifest",
    "WorkflowSpec",
]

KINDS: dict[str, type[Manifest]] = {
    "Agent": AgentManifest,
    "Tool": ToolManifest,
    "Capability": CapabilityManifest,
    "Team": TeamManifest,
    "Workflow": WorkflowManifest,
}
"""Every manifest kind, by the name written in ``kind:``."""

"""The small working project ``agentgo init`` writes."""

from __future__ import annotations

from pathlib import Path

from agentgo_cli.errors import UsageError

__all__ = ["FILES", "init_project"]

_CONFIG = """\
# AgentGo configuration. The active profile comes from --profile, AGENTGO_PROFILE or `profile:`.
profile: local
profiles:
  local:
    store: sqlite:///.agentgo/agentgo.db   # the embedded durable job store
    manifests: [./manifests]               # what `agentgo validate` and `agentgo run` load
    trace: full                            # `agentgo jobs trace` shows model turns and tool calls
# providers:                              # real models; check them with `agentgo models list`
#   openai:
#     api_key: "${env:OPENAI_API_KEY}"      # quote ${...}; without it OPENAI_API_KEY is read
#     max_retries: 2
#     breaker: {failures: 5, reset_after: 30s}
#   ollama: {base_url: "http://localhost:11434/v1"}
"""

_AGENT = """\
# yaml-language-server: $schema=https://agentgo.dev/schemas/v1/agent.schema.json
apiVersion: agentgo/v1
kind: Agent
metadata:
  name: greeter
  description: Greets people. Runs offline on the scripted model.
spec:
  model: scripted:demo        # swap for openai:gpt-4o-mini once a key is configured
  instructions: You greet people warmly and briefly.
  script:                     # what the offline scripted model answers, turn by turn
    - when: "(?i)hello"
      reply: "Hello! Nice to meet you."
    - reply: "Hi there!"
"""

_WORKFLOW = """\
# yaml-language-server: $schema=https://agentgo.dev/schemas/v1/workflow.schema.json
apiVersion: agentgo/v1
kind: Workflow
metadata:
  name: hello
  description: Greet someone, then summarize the greeting.
spec:
  inputs:
    who: {type: string, default: world}
  steps:
    - id: greet
      agent: greeter
      prompt: "Say hello to ${{ inputs.who }}."
  outputs:
    greeting: ${{ steps.greet.output }}
"""

FILES = {
    "agentgo.yaml": _CONFIG,
    "manifests/greeter.yaml": _AGENT,
    "manifests/hello.yaml": _WORKFLOW,
}
"""Relative path → content of every file init writes."""


def init_project(folder: Path, *, force: bool = False) -> list[Path]:
    """Write the starter project; refuse to overwrite files unless ``force``."""
    targets = [folder / rel for rel in FILES]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise UsageError(f"would overwrite {names}; pass --force to replace")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    for rel, text in FILES.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return targets

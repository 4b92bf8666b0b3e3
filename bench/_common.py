"""What the benchmark scripts share: finding the installed command, a clean environment."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def find_agentgo(script: str) -> Path:
    """The installed entry point: the project's .venv first, then next to this Python."""
    for candidate in (
        REPO / ".venv" / "bin" / "agentgo",
        Path(sys.executable).parent / "agentgo",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("agentgo")
    if found is None:
        sys.exit(f"bench/{script}: cannot find the agentgo command; run `make` first")
    return Path(found)


def clean_env(home: Path) -> dict[str, str]:
    """The environment for child processes: no AGENTGO_* settings, an empty config home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "100"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env

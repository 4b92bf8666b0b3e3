"""The one exception tree of AgentGo.

AgentGoError                       anything AgentGo reports to a user; carries an exit code
 ├── UsageError                    bad arguments or options on the command line (exit 2)
 ├── ConfigError                   agentgo.yaml or a profile is missing or wrong (exit 2)
 │    └── InvalidConfigError       the config file is wrong, each problem located (exit 2)
 ├── NotFoundError                 a named thing (job, intent, kind) does not exist (exit 3)
 ├── ManifestError(file, line, col, path)
 │                                 one problem in one manifest, with its position (exit 1)
 │    └── ManifestSetError         a manifest set holds one or more ManifestErrors (exit 1)
 ├── StoreError                    the job store failed or holds inconsistent records (exit 1)
 │    ├── LeaseLost                a job's write carried a lease it no longer holds (exit 1)
 │    └── ValueNotStorable         a value cannot be stored as standard JSON (exit 1)
 ├── StepError                     a workflow step failed (exit 1)
 ├── CallError(code)               an A2A call was refused or failed (exit by code)
 ├── ProviderError                 an LLM provider failed after the reliability layer (exit 1)
 └── SandboxError                  a tool container could not be run (exit 1)

Errors become exit codes only at the CLI boundary (agentgo_cli/cli/_output.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXIT_CONFLICT",
    "EXIT_DENIED",
    "EXIT_FAILED",
    "EXIT_INVALID_INPUT",
    "EXIT_INVALID_OUTPUT",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_QUOTA",
    "EXIT_USAGE",
    "AgentGoError",
    "CallError",
    "ConfigError",
    "InvalidConfigError",
    "LeaseLost",
    "ManifestError",
    "ManifestSetError",
    "NotFoundError",
    "ProviderError",
    "SandboxError",
    "StepError",
    "StoreError",
    "UsageError",
    "ValueNotStorable",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DENIED = 4
EXIT_INVALID_INPUT = 5
"""A call's input does not match the intent's input schema."""
EXIT_QUOTA = 6
"""A call was refused by the intent's rate limit (retry later)."""
EXIT_CONFLICT = 7
"""An idempotency key was used again with a different input."""
EXIT_INVALID_OUTPUT = 8
"""A call's target answered something that does not match the intent's output schema."""


class AgentGoError(Exception):
    """Base of every error AgentGo reports to a user."""

    exit_code: int = EXIT_FAILED


class UsageError(AgentGoError):
    """Raised when command-line arguments or options are wrong."""

    exit_code = EXIT_USAGE


class ConfigError(AgentGoError):
    """Raised when agentgo.yaml, a profile or a secret reference is missing or invalid."""

    exit_code = EXIT_USAGE


class NotFoundError(AgentGoError):
    """Raised when a named thing (job, intent, schema kind) does not exist."""

    exit_code = EXIT_NOT_FOUND


@dataclass(eq=True)
class ManifestError(AgentGoError):
    """Raised for one problem in one manifest, located by file, line, column and field path."""

    file: str
    line: int
    col: int
    path: str
    message: str
    code: str = "invalid"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.col, self.path, self.message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
            "code": self.code,
        }


class ManifestSetError(AgentGoError):
    """Raised when a manifest set cannot be used because some of its manifests are invalid."""

    def __init__(self, errors: list[ManifestError]) -> None:
        self.errors = errors
        first = str(errors[0]) if errors else "invalid manifest set"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class InvalidConfigError(ConfigError):
    """Raised when the config file exists but is wrong: ``errors`` locates each problem."""

    def __init__(self, shown: str, errors: list[ManifestError]) -> None:
        self.errors = errors
        n = len(errors)
        them = "them" if n != 1 else "it"
        super().__init__(
            f"{shown} has {n} error{'s' * (n != 1)}; fix {them} (see 'agentgo validate')"
        )


class StoreError(AgentGoError):
    """Raised when the job store fails or holds records that contradict each other."""


class LeaseLost(StoreError):
    """Raised when a write of a job's records carries a fencing token (owner and lease
    epoch) that no longer holds the job: another process took it over, or it ended."""


class ValueNotStorable(StoreError):
    """Raised when a value to be stored is not standard JSON: not JSON at all, NaN or
    infinity, or nested too deeply. Nothing is written; the caller fails what made it."""


class StepError(AgentGoError):
    """Raised when a workflow step fails; the job records the same message."""

    tokens: int = 0
    """Tokens the step used before it failed (counted on the step and the job)."""
    cost_usd: float = 0.0
    """What the step's model calls cost before it failed (counted likewise)."""


class CallError(AgentGoError):
    """Raised when an A2A call is refused (not found, invalid input, denied, quota, ...) or
    its target fails (code ``failed``)."""

    _EXIT_BY_CODE = {
        "not_found": EXIT_NOT_FOUND,
        "denied": EXIT_DENIED,
        "invalid_input": EXIT_INVALID_INPUT,
        "quota_exceeded": EXIT_QUOTA,
        "idempotency_conflict": EXIT_CONFLICT,
        "invalid_output": EXIT_INVALID_OUTPUT,
    }
    retry_after: float | None = None
    """For ``quota_exceeded``: seconds until the caller may try again."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.exit_code = self._EXIT_BY_CODE.get(code, EXIT_FAILED)
        super().__init__(message)


class ProviderError(AgentGoError):
    """Raised when an LLM provider call fails (after retries, breaker and failover, once it
    reaches a user).

    ``kind`` says what went wrong, for the reliability layer and for messages:
    ``rate_limited`` (429), ``server`` (5xx), ``connection``, ``timeout``, ``stalled`` (a
    stream went quiet), ``bad_response`` (a body that does not parse), ``auth`` (401/403),
    ``bad_request`` (other 4xx), ``circuit_open``, ``budget`` or ``error``. ``retryable`` is
    true for the kinds worth another try; ``retry_after`` is the server's Retry-After in
    seconds, when it sent one. The message never holds a key.
    """

    RETRYABLE = frozenset({"rate_limited", "server", "connection", "timeout", "stalled"})
    tokens: int = 0
    """Tokens the agent invocation used before the provider failed (counted on the step)."""
    cost_usd: float = 0.0

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


class SandboxError(AgentGoError):
    """Raised when a sandboxed tool container cannot be created, run or cleaned up."""

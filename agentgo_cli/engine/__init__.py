"""The durable workflow engine: scheduler, step executors, recovery and the worker loop."""

from agentgo_cli.engine.engines import Engines
from agentgo_cli.engine.inputs import parse_cli_value, prepare_inputs
from agentgo_cli.engine.recovery import take_for_resume
from agentgo_cli.engine.scheduler import LEASE_SECONDS, Engine
from agentgo_cli.engine.worker import Worker

__all__ = [
    "LEASE_SECONDS",
    "Engine",
    "Engines",
    "Worker",
    "parse_cli_value",
    "prepare_inputs",
    "take_for_resume",
]

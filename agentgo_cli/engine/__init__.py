"""The durable workflow engine: scheduler, step executors and recovery."""

from agentgo_cli.engine.scheduler import Engine, JobEvents, prepare_inputs

__all__ = ["Engine", "JobEvents", "prepare_inputs"]

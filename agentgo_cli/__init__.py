"""AgentGo: run teams of AI agents from declarative YAML manifests, durably."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""Agent to agent: the capability catalog, the typed call lifecycle, access control, quotas,
idempotency, discovery and the A2A AgentCard format."""

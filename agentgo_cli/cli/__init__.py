"""The agentgo command line: one module per command group; parse, call a Backend, render."""

"""Manifests: loading YAML with positions (``loader``), the pydantic models (``models``),
validating and cross-checking a set (``manifest_set``, ``checks``) and the JSON Schemas
(``schema``).

A regular package, not a namespace one, so that tools that walk the package (import-linter)
see it. Nothing is re-exported here: importing ``agentgo_cli.manifests.loader`` stays cheap.
"""

"""``agentgo serve``: the HTTP API (``/v1``) and the A2A protocol over one LocalBackend.

``app.create_app`` builds the FastAPI app; ``v1`` holds the routes that ``RemoteBackend``
calls; ``auth`` maps bearer tokens to principals; ``run.serve_forever`` runs it on uvicorn.
"""

"""The SQLite job store: the embedded default, one database file, written with group commit.

``store`` holds the JobStore itself, ``writer`` its single writer (group commit), ``ops`` the
SQL and the functions that run it, ``schema`` the named migrations and the connections.
"""

from agentgo_cli.store.sqlite.store import SQLiteJobStore, from_url

__all__ = ["SQLiteJobStore", "from_url"]

"""Where events live and how they become money: the DuckDB store with its migrations
(:mod:`.database`), the ledger's counting rules — the only place they live (:mod:`.ledger`) —, the
SQL that turns a JSONL file into events (:mod:`.eventsql`) and export (:mod:`.export`).
"""

from liveworth.store.database import DEFAULT_DB, Store, resolve_db_path

__all__ = ["DEFAULT_DB", "Store", "resolve_db_path"]

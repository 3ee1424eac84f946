"""The store's schema: the events table's columns and the migrations that build every table.

:data:`MIGRATIONS` are applied in order, each once, in a transaction
(:meth:`liveworth.store.database.Store.migrate`); a migration is never edited once released —
a change is a new one.
"""

from __future__ import annotations

import pyarrow as pa

#: Columns of the events table as migration 1 created it (never changed: later columns are added
#: by later migrations, at the end of the table).
_FIRST_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("room_id", pa.string(), "VARCHAR NOT NULL"),
    ("msg_id", pa.string(), "VARCHAR NOT NULL"),
    ("type", pa.string(), "VARCHAR NOT NULL"),
    ("ts", pa.int64(), "BIGINT NOT NULL"),
    ("user_id", pa.string(), "VARCHAR"),
    ("user", pa.string(), "VARCHAR"),
    ("nickname", pa.string(), "VARCHAR"),
    ("gift_id", pa.int64(), "BIGINT"),
    ("gift_name", pa.string(), "VARCHAR"),
    ("coins", pa.int64(), "BIGINT"),
    ("gift_type", pa.int64(), "BIGINT"),
    ("repeat_count", pa.int64(), "BIGINT"),
    ("repeat_end", pa.bool_(), "BOOLEAN"),
    ("group_id", pa.string(), "VARCHAR"),
    ("to_user_id", pa.string(), "VARCHAR"),
    ("text", pa.string(), "VARCHAR"),
    ("count", pa.int64(), "BIGINT"),
    ("total", pa.int64(), "BIGINT"),
    ("current", pa.int64(), "BIGINT"),
    ("host_id", pa.string(), "VARCHAR"),
    ("host", pa.string(), "VARCHAR"),
    ("followers", pa.int64(), "BIGINT"),
    ("battle_id", pa.string(), "VARCHAR"),
    ("extra", pa.string(), "VARCHAR"),
)
#: The ``subscribe`` event's own fields (migration 5).
_SUBSCRIPTION_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("months", pa.int64(), "BIGINT"),
    ("price_usd", pa.string(), "VARCHAR"),  # exact decimal text, as event format v1 gives it
    ("tier", pa.string(), "VARCHAR"),
)
#: Columns of the events table: one wide row per event, unused fields NULL.
EVENT_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = _FIRST_COLUMNS + _SUBSCRIPTION_COLUMNS
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "events, credits, rooms and imports",
        f"""
        CREATE TABLE events (
            {", ".join(f'"{n}" {sql}' for n, _, sql in _FIRST_COLUMNS)}
        );
        CREATE TABLE rooms (
            room_id VARCHAR PRIMARY KEY,
            host VARCHAR,
            host_id VARCHAR,
            source VARCHAR
        );
        CREATE TABLE credits (
            room_id VARCHAR NOT NULL,
            msg_id VARCHAR NOT NULL,
            ts BIGINT NOT NULL,
            user_id VARCHAR,
            "user" VARCHAR,
            nickname VARCHAR,
            gift_id BIGINT,
            gift_name VARCHAR,
            coins_each BIGINT NOT NULL,
            repeat_count BIGINT NOT NULL,
            coins BIGINT NOT NULL,
            confirmed BOOLEAN NOT NULL,
            guest BOOLEAN NOT NULL,
            to_user_id VARCHAR,
            frames BIGINT NOT NULL,
            closed_by VARCHAR NOT NULL
        );
        CREATE TABLE imports (
            imported_at TIMESTAMP DEFAULT current_timestamp,
            path VARCHAR,
            format VARCHAR,
            accepted BIGINT,
            duplicates BIGINT,
            rejected BIGINT
        );
        """,
    ),
    (
        2,
        "recorder: connection gaps and journal checkpoints",
        """
        CREATE TABLE recorder_gaps (
            room_id VARCHAR,
            host VARCHAR,
            from_ms BIGINT NOT NULL,
            to_ms BIGINT NOT NULL,
            reason VARCHAR
        );
        CREATE TABLE journal_files (
            path VARCHAR PRIMARY KEY,
            bytes_done BIGINT NOT NULL
        );
        """,
    ),
    (
        3,
        "rooms whose credits lag their events; journals known by their content",
        # Every room counts as pending once: a database written before this migration may hold
        # credits a killed recorder left behind (issue #14); the next writer settles them.
        """
        CREATE TABLE ledger_pending (room_id VARCHAR PRIMARY KEY);
        INSERT INTO ledger_pending SELECT DISTINCT room_id FROM events;
        ALTER TABLE journal_files ADD COLUMN head_bytes BIGINT;
        ALTER TABLE journal_files ADD COLUMN head_sha256 VARCHAR;
        """,
    ),
    (
        4,
        "alerts, the gifter CRM and manual adjustments",
        # alerts: one row per firing, keyed by what fired it (rule + trigger), so that evaluating
        # a room again (a restarted recorder, a replay) stores and delivers nothing twice.
        # Hosts are stored as rooms.host is (no leading @); gifters by user_id.
        """
        CREATE TABLE alerts (
            room_id VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            "key" VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            ts BIGINT NOT NULL,
            host VARCHAR,
            text VARCHAR NOT NULL,
            user_id VARCHAR,
            who VARCHAR,
            detail VARCHAR,
            PRIMARY KEY (room_id, rule, "key")
        );
        CREATE TABLE gifter_tags (
            host VARCHAR NOT NULL,
            user_id VARCHAR NOT NULL,
            tag VARCHAR NOT NULL,
            added_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (host, user_id, tag)
        );
        CREATE TABLE gifter_notes (
            host VARCHAR NOT NULL,
            user_id VARCHAR NOT NULL,
            note VARCHAR NOT NULL,
            added_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE gifter_forgotten (
            user_id VARCHAR PRIMARY KEY,
            pseudonym VARCHAR NOT NULL,
            forgotten_at TIMESTAMP DEFAULT current_timestamp
        );
        CREATE TABLE adjustments (
            id BIGINT PRIMARY KEY,
            room_id VARCHAR NOT NULL,
            coins BIGINT NOT NULL,
            reason VARCHAR NOT NULL,
            user_id VARCHAR,
            made_by VARCHAR,
            made_at TIMESTAMP DEFAULT current_timestamp,
            undone_at TIMESTAMP,
            undone_by VARCHAR
        );
        """,
    ),
    (
        5,
        "LIVE subscriptions: the subscribe event's months, price and tier",
        # Spelled out, not built from _SUBSCRIPTION_COLUMNS: a released migration never changes.
        """
        ALTER TABLE events ADD COLUMN months BIGINT;
        ALTER TABLE events ADD COLUMN price_usd VARCHAR;
        ALTER TABLE events ADD COLUMN tier VARCHAR;
        """,
    ),
)

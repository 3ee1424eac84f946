"""The sessions' metadata a lake keeps beside its events (:mod:`.lake`), and how the parts of
many writers are merged into one store.

The read commands read, besides events, what the store keeps in these tables; a lake holds each
as parts of whole-table snapshots under ``meta/<table>/``, and reading merges them:

- ``rooms`` (the host of rooms whose events do not say it): per room, the smallest host, host id
  and source of any part (one store has one of each);
- ``recorder_gaps`` (the recorder's connection gaps, in a report) and ``gifter_notes``: every
  distinct row;
- ``adjustments`` (manual corrections): per id, an undone copy before an active one (an undo is
  final), then the earliest; ids are a store's own, so adjust in one store per lake;
- ``alerts`` (the brief, the creator pages): per (room, rule, key), the earliest;
- ``gifter_tags``: per (host, user, tag), the earliest — a tag removed in the store after an
  export stays in the lake;
- ``gifter_forgotten``: per user, the earliest; loaded before the events, so that a forgotten
  gifter's events are pseudonymized as a store would (``Store.stage_flush``) even in parts
  written before the forget, and :func:`~liveworth.store.lake.compact` rewrites them so.

The ledger's ``credits`` are not kept: they are recomputed from the events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from liveworth.store.database import Store, run

#: Table → (the key of one row, the order that picks the row kept of a key); an empty key keeps
#: every distinct row.
META_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "gifter_forgotten": (("user_id",), "forgotten_at, pseudonym"),
    "rooms": (("room_id",), ""),  # merged column by column (module docstring)
    "recorder_gaps": ((), ""),
    "adjustments": (("id",), "undone_at IS NULL, undone_at, made_at, room_id, coins"),
    "alerts": (("room_id", "rule", "key"), "ts, text"),
    "gifter_tags": (("host", "user_id", "tag"), "added_at"),
    "gifter_notes": ((), ""),
}


def _columns(store: Store, table: str) -> list[str]:
    rows = run(store.con, "SELECT column_name FROM information_schema.columns WHERE "
               "table_name = $1 ORDER BY ordinal_position", [table])
    return [str(r[0]) for r in rows]


def meta_tables(store: Store, only: Sequence[str] | None = None) -> Iterator[tuple[str, pa.Table]]:
    """Each metadata table's rows in a fixed order (so that the same rows make the same part)."""
    for name in only or META_TABLES:
        cols = ", ".join(f'"{c}"' for c in _columns(store, name))
        yield name, store.con.sql(f"SELECT {cols} FROM {name} ORDER BY ALL").to_arrow_table()


def _select(name: str, cols: list[str], files: str) -> str:
    key, order = META_TABLES[name]
    quoted = ", ".join(f'"{c}"' for c in cols)
    source = f"read_parquet([{files}], union_by_name = true)"
    if name == "rooms":
        rest = ", ".join(f'min("{c}")' for c in cols if c != "room_id")
        return f"SELECT room_id, {rest} FROM {source} GROUP BY room_id"
    if not key:
        return f"SELECT DISTINCT {quoted} FROM {source}"
    by = ", ".join(f'"{c}"' for c in key)
    return (f"SELECT {quoted} FROM {source} "
            f"QUALIFY row_number() OVER (PARTITION BY {by} ORDER BY {order}) = 1")


def load_meta(store: Store, meta: Path, only: Sequence[str] | None = None) -> None:
    """Merge the metadata parts under ``meta`` into ``store``'s (empty) tables."""
    from liveworth.store.lake import check_part

    for name in only or META_TABLES:
        directory = meta / name
        parts = sorted(directory.glob("part-*.parquet")) if directory.is_dir() else []
        if not parts:
            continue
        for p in parts:
            check_part(p)
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
        cols = _columns(store, name)
        quoted = ", ".join(f'"{c}"' for c in cols)
        run(store.con, f"INSERT INTO {name} ({quoted}) {_select(name, cols, files)}")

"""Export stored events: event format v1 JSONL (round-trips through import), Parquet or CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from liveworth.decode.events import FORMAT_VERSION, field_specs
from liveworth.decode.formats import EXPORT_FORMATS as EXPORT_FORMATS
from liveworth.economy.csvsafe import FORMULA_START_RE
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.database import EVENT_COLUMNS, Store

_NAMES = [name for name, _, _ in EVENT_COLUMNS]


def row_to_event_dict(row: tuple[Any, ...], room_host: str | None = None) -> dict[str, Any]:
    """One stored events row as an event-format-v1 object (only the type's own fields).

    ``room_host`` (the host's unique id when only the raw source named it) is written as the
    optional ``host`` field, so that a re-import knows the host too.
    """
    rec = dict(zip(_NAMES, row[: len(_NAMES)], strict=True))
    etype = rec["type"]
    out: dict[str, Any] = {"v": FORMAT_VERSION, "type": etype, "room_id": rec["room_id"],
                           "ts": rec["ts"], "msg_id": rec["msg_id"]}
    for name, _, _ in field_specs(etype):
        # The events table stores like.count/viewers.current etc. under their own names.
        value = rec.get(name)
        if value is not None:
            out[name] = value
    if rec["extra"]:
        for k, v in json.loads(rec["extra"]).items():
            out.setdefault(k, v)
    if room_host and etype != "live_start":
        out.setdefault("host", room_host)
    return out


def _csv_columns() -> str:
    """The events' columns for CSV: a text cell that a spreadsheet would read as a formula
    (``=HYPERLINK(...)`` as a nickname) gets a leading ``'``, which spreadsheets show as text."""
    out = []
    for name, _, sql in EVENT_COLUMNS:
        col = f'"{name}"'
        if sql.split()[0].upper() == "VARCHAR":
            col = (f"CASE WHEN regexp_matches({col}, '{FORMULA_START_RE}') "
                   f"THEN chr(39) || {col} ELSE {col} END AS {col}")
        out.append(col)
    return ", ".join(out)


def export_events(store: Store, room_id: str | None, fmt: str, out: Path) -> int:
    """Write the events of ``room_id`` (or all, if None) to ``out``; returns the count."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    if not out.parent.exists():
        raise UsageError(f"{out}: directory {out.parent} does not exist")
    where, params = ("WHERE room_id = ?", [room_id]) if room_id is not None else ("", [])
    n_row = store.query(f"SELECT count(*) FROM events {where}", params)
    n = int(n_row[0][0]) if n_row else 0
    if room_id is not None and n == 0:
        raise NotFoundError(f"no session {room_id!r} in the database (see `liveworth sessions`)")
    cols = ", ".join(f'"{c}"' for c in _NAMES)
    select = f"SELECT {cols} FROM events {where} ORDER BY room_id, ts, msg_id"
    if fmt == "jsonl":
        hosts = dict(store.query("SELECT room_id, host FROM rooms WHERE host IS NOT NULL"))
        cur = store.con.execute(select, params)
        with out.open("w", encoding="utf-8") as f:
            while batch := cur.fetchmany(50_000):
                for row in batch:
                    f.write(json.dumps(row_to_event_dict(row, hosts.get(row[0])),
                                       ensure_ascii=False,
                                       separators=(",", ":")))
                    f.write("\n")
        return n
    if fmt == "csv":
        select = f"SELECT {_csv_columns()} FROM events {where} ORDER BY room_id, ts, msg_id"
    target = str(out).replace("'", "''")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    # COPY cannot bind parameters: the room id is inlined only after being quoted the same way.
    inlined = select.replace("?", "'" + str(room_id).replace("'", "''") + "'") if params \
        else select
    store.con.execute(f"COPY ({inlined}) TO '{target}' ({options})").fetchall()
    return n

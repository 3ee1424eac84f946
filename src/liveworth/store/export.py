"""Export stored events: event format v1 JSONL (round-trips through import), Parquet or CSV.

JSONL lines are built by DuckDB in SQL, byte for byte what :func:`row_to_event_dict` and
``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` write, and streamed to the file in
batches; the few rows SQL cannot write the same way (unknown fields kept in ``extra``, a control
character, which DuckDB escapes in upper case and Python in lower) are written by Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from liveworth.decode.events import EVENT_TYPES, FORMAT_VERSION, field_specs
from liveworth.decode.formats import EXPORT_FORMATS as EXPORT_FORMATS
from liveworth.economy.csvsafe import FORMULA_START_RE
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.database import EVENT_COLUMNS, Store

_NAMES = [name for name, _, _ in EVENT_COLUMNS]
_TEXTS = [name for name, _, sql in EVENT_COLUMNS if sql.startswith("VARCHAR")] + ["room_host"]
#: A row with more text than this (bytes, all its columns) is written by Python: DuckDB would
#: hold a vector of 2,048 such lines several times over (TikTok's texts are far shorter).
SQL_TEXT_BYTES = 4096
#: Rows a JSONL batch holds (one progress step).
BATCH_ROWS = 100_000
#: Told the rows written so far and the rows in all (the count :func:`export_events` returns).
Progress = Callable[[int, int], None]


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


def event_line(row: tuple[Any, ...], room_host: str | None = None) -> str:
    """One stored events row as its JSONL line (newline included): the export's definition."""
    return json.dumps(row_to_event_dict(row, room_host), ensure_ascii=False,
                      separators=(",", ":")) + "\n"


def _line_sql() -> str:
    """SQL of each row's JSONL line without its newline, or NULL where Python writes it: a row
    with extra fields, of a type this version does not know or with long texts."""
    head = (f"""'{{"v":{FORMAT_VERSION},"type":', to_json(e."type"), """
            """',"room_id":', to_json(e.room_id), ',"ts":', e.ts, """
            """',"msg_id":', to_json(e.msg_id)""")
    cases = []
    for etype in EVENT_TYPES:
        parts = [head]
        parts += [f"""',"{name}":' || to_json(e."{name}")""" for name, _, _ in field_specs(etype)
                  if name in _NAMES]  # a NULL value: the key is left out, as Python does
        if etype != "live_start":
            parts.append("""',"host":' || to_json(nullif(e.room_host, ''))""")
        parts.append("'}'")
        cases.append(f"WHEN '{etype}' THEN concat({', '.join(parts)})")
    text = " + ".join(f'coalesce(strlen(e."{name}"), 0)' for name in _TEXTS)
    return (f"""CASE WHEN coalesce(e.extra, '') = '' AND {text} <= {SQL_TEXT_BYTES} """
            f"""THEN CASE e."type" {" ".join(cases)} END END""")


def _text_bytes(lines: Any) -> bytes | memoryview:
    """The concatenated values of an Arrow string array: a view of its data buffer (no copy,
    so that a batch cut around many rows Python writes stays linear)."""
    import numpy as np
    import pyarrow as pa

    if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
        lines = lines.cast(pa.large_string())
    if len(lines) == 0:
        return b""
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[start:end] if end > start else b""


def _write_batch(f: IO[bytes], lines: Any, rows: Any) -> None:
    """Write one batch: SQL's lines as they are, Python's where SQL gave NULL."""
    import numpy as np

    if lines.null_count == 0:
        f.write(_text_bytes(lines))
        return
    start = 0
    at = np.flatnonzero(~lines.is_valid().to_numpy(zero_copy_only=False))
    for i, rec in zip(at.tolist(), rows.take(at).to_pylist(), strict=True):
        f.write(_text_bytes(lines.slice(start, i - start)))
        f.write(event_line(tuple(rec[n] for n in _NAMES), rec["room_host"]).encode("utf-8"))
        start = i + 1
    f.write(_text_bytes(lines.slice(start)))


def _export_jsonl(store: Store, room_id: str | None, out: Path,
                  progress: Callable[[int], None]) -> None:
    where, params = ("WHERE e.room_id = ?", [room_id]) if room_id is not None else ("", [])
    cols = ", ".join(f'"{c}" := "{c}"' for c in _NAMES)
    # The rows are sorted first and their lines made after, as they stream out (the sort holds
    # the columns, not the lines too). A line holding "\u00" (a control character, which DuckDB
    # escapes in upper case and Python in lower; rarely a false alarm) is written by Python.
    select = f"""
        SELECT CASE WHEN NOT contains(line, '\\u00') THEN line || chr(10) END,
               CASE WHEN line IS NULL OR contains(line, '\\u00')
                    THEN struct_pack({cols}, room_host := room_host) END
        FROM (SELECT *, {_line_sql()} AS line
              FROM (SELECT e.*, r.host AS room_host
                    FROM events e LEFT JOIN rooms r ON r.room_id = e.room_id
                                                   AND r.host IS NOT NULL
                    {where} ORDER BY e.room_id, e.ts, e.msg_id) e)"""
    reader = store.con.sql(select, params=params).to_arrow_reader(BATCH_ROWS)
    done = 0
    with out.open("wb") as f:
        for batch in reader:
            _write_batch(f, batch.column(0), batch.column(1))
            done += batch.num_rows
            progress(done)


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


def export_events(store: Store, room_id: str | None, fmt: str, out: Path,
                  progress: Progress | None = None) -> int:
    """Write the events of ``room_id`` (or all, if None) to ``out``; returns the count.

    ``progress``, if given, is told the rows written so far and their total: at the start,
    after each JSONL batch of :data:`BATCH_ROWS`, and at the end (CSV and Parquet are one
    DuckDB ``COPY``: the start and the end only).
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    if not out.parent.exists():
        raise UsageError(f"{out}: directory {out.parent} does not exist")
    where, params = ("WHERE room_id = ?", [room_id]) if room_id is not None else ("", [])
    n_row = store.query(f"SELECT count(*) FROM events {where}", params)
    n = int(n_row[0][0]) if n_row else 0
    if room_id is not None and n == 0:
        raise NotFoundError(f"no session {room_id!r} in the database (see `liveworth sessions`)")
    def told(done: int) -> None:
        if progress is not None:
            progress(done, n)

    told(0)
    if fmt == "jsonl":
        _export_jsonl(store, room_id, out, told)
        return n
    cols = ", ".join(f'"{c}"' for c in _NAMES)
    select = f"SELECT {cols} FROM events {where} ORDER BY room_id, ts, msg_id"
    if fmt == "csv":
        select = f"SELECT {_csv_columns()} FROM events {where} ORDER BY room_id, ts, msg_id"
    target = str(out).replace("'", "''")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    # COPY cannot bind parameters: the room id is inlined only after being quoted the same way.
    inlined = select.replace("?", "'" + str(room_id).replace("'", "''") + "'") if params \
        else select
    store.con.execute(f"COPY ({inlined}) TO '{target}' ({options})").fetchall()
    told(n)
    return n

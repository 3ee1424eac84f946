"""Event format v1 read at columnar speed: JSONL lines parsed and validated in DuckDB.

The rules of the format live in :mod:`liveworth.events` (``field_specs``); this module turns them
into SQL so that a large JSONL file is parsed once by DuckDB's JSON reader instead of line by line
in Python. It is a fast path, never a second authority: a line the SQL does not accept as plainly
valid (malformed, a field of the wrong type, unknown extra keys to keep...) is handed to
:func:`liveworth.events.event_from_dict`, which accepts it or names its problem exactly.

Lines reach DuckDB as an Arrow table ``(line_no, line)`` built straight from the file's bytes
(:func:`line_blocks`), so line numbers are exact and memory stays bounded by the block size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import IO

import numpy as np
import pyarrow as pa

from liveworth.events import EVENT_TYPES, FORMAT_VERSION, MAX_INT, field_specs
from liveworth.store import EVENT_COLUMNS

BLOCK_BYTES = 16 << 20
_COMMON = (("room_id", "str"), ("ts", "int"), ("msg_id", "str"))


def line_blocks(
    f: IO[bytes], max_line: int, block: int = BLOCK_BYTES,
    cut_short: Callable[[], bool] | None = None,
) -> Iterator[tuple[pa.Table, list[tuple[int, int]], int]]:
    """Split a binary stream into tables of ``(line_no, line)``.

    Yields ``(table, too_long, nbytes)``: ``too_long`` lists ``(line_no, length)`` of lines longer
    than ``max_line`` (left out of the table, never held whole in memory); ``nbytes`` is how much of
    the file the block consumed. When ``cut_short()`` says the stream ended early (damaged gzip),
    a last line without its newline is the damage's, not a line: it is left out. Lines keep their
    newline; invalid UTF-8 is replaced with U+FFFD (outside a JSON string that makes the line
    fail on its own; inside one, e.g. a Latin-1 nickname, the replacement character is what gets
    stored).
    """
    line_no = 0
    carry = b""
    skipping = 0  # > 0 while inside a too-long line: its length so far
    while True:
        data = f.read(block)
        if not data and not carry and not skipping:
            return
        too_long: list[tuple[int, int]] = []
        consumed = len(data)
        if skipping:
            nl = data.find(b"\n")
            if nl < 0 and data:
                skipping += len(data)
                yield _table([], line_no), too_long, consumed
                continue
            too_long.append((line_no, skipping + (nl + 1 if nl >= 0 else 0)))
            data = data[nl + 1:] if nl >= 0 else b""
            skipping = 0
        buf = carry + data
        final = not data and not skipping
        if final and carry and cut_short is not None and cut_short():
            buf = buf[:len(buf) - len(carry)]
            carry = b""
        cut = len(buf) if final else buf.rfind(b"\n") + 1
        body, carry = buf[:cut], buf[cut:]
        if len(carry) > max_line:  # a line longer than the limit: skip to its end
            line_no += 1
            skipping, carry = len(carry), b""
        lines: list[bytes] = []
        if body:
            arr = np.frombuffer(body, dtype=np.uint8)
            ends = np.flatnonzero(arr == 10) + 1
            if not len(ends) or ends[-1] != len(body):
                ends = np.append(ends, len(body))
            starts = np.concatenate(([0], ends[:-1]))
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                if e - s > max_line:
                    too_long.append((line_no + len(lines) + 1, e - s))
                    lines.append(b"")
                else:
                    lines.append(body[s:e])
        table = _table(lines, line_no)
        line_no += len(lines)
        yield table, too_long, consumed
        if final:
            return


def _table(lines: list[bytes], first: int) -> pa.Table:
    data = pa.array(lines, type=pa.binary())
    try:
        text = data.cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        text = pa.array([b.decode("utf-8", "replace") for b in lines], type=pa.string())
    nos = pa.array(np.arange(first + 1, first + 1 + len(lines), dtype=np.int64))
    return pa.table({"line_no": nos, "line": text})


# Each field is read twice by one JSON parse each: ``r`` keeps its raw JSON text, ``t`` its typed
# value (lenient: DuckDB turns 12.5 into 12). A field is plainly valid when the two agree, which
# plain string comparisons tell — no per-field re-parsing.
_SQL_TYPE = {"int": "BIGINT", "str": "VARCHAR", "bool": "BOOLEAN"}


def _present(name: str) -> str:
    return f'(r."{name}" IS NOT NULL AND r."{name}" <> \'null\')'


def _valid(name: str, kind: str) -> str:
    """SQL: the raw JSON of field ``name`` is plainly acceptable for ``kind``."""
    raw, typed = f'r."{name}"', f't."{name}"'
    if kind == "int":
        return (f"({typed} BETWEEN {-MAX_INT} AND {MAX_INT} AND "
                f"({raw} = {typed}::VARCHAR OR {raw} = '\"' || {typed}::VARCHAR || '\"'))")
    if kind == "bool":
        return f"({raw} IN ('true', 'false'))"
    return (f"(starts_with({raw}, '\"') OR "
            f"regexp_full_match({raw}, '-?[0-9]{{1,29}}'))")


@cache
def _all_fields() -> dict[str, str]:
    out = {name: kind for name, kind in _COMMON}
    for etype in EVENT_TYPES:
        for name, kind, _ in field_specs(etype):
            out.setdefault(name, kind)
    return out


@cache
def staging_sql() -> str:
    """SQL over ``_lines(line_no, line)``: one row per non-blank line with ``ok`` and the typed
    event columns (meaningful only where ``ok``)."""
    fields = _all_fields()
    names = ["v", "type", *fields]
    raw_struct = "{" + ", ".join(f'"{n}": "JSON"' for n in names) + "}"
    typed_struct = "{" + ", ".join(
        f'"{n}": "{_SQL_TYPE[fields.get(n, "str")] if n != "v" else "BIGINT"}"' for n in names
    ) + "}"
    known_by_type = {
        etype: ["v", "type", *(n for n, _ in _COMMON), *(n for n, _, _ in field_specs(etype))]
        for etype in EVENT_TYPES
    }
    checks = [_present("type"), "starts_with(r.type, '\"')",
              f"(NOT {_present('v')} OR r.v = '{FORMAT_VERSION}')"]
    for name, kind in _COMMON:
        checks.append(f"{_present(name)} AND {_valid(name, kind)}")
    checks.append("t.room_id <> '' AND t.msg_id <> '' AND t.ts >= 0")
    # A key given twice is read differently by DuckDB (first) and Python (last): format v1
    # rejects the line, so it goes to Python, which names the key.
    checks.append("len(json_keys(line)) = len(list_distinct(json_keys(line)))")
    per_type = []
    for etype, cls in EVENT_TYPES.items():
        conds = [f"list_filter(json_keys(line), lambda k: NOT list_contains("
                 f"{known_by_type[etype]!r}, k)) = []"]
        for name, kind, required in field_specs(etype):
            if required:
                conds.append(f"{_present(name)} AND {_valid(name, kind)}")
            else:
                conds.append(f"(NOT {_present(name)} OR {_valid(name, kind)})")
        if etype == "gift":
            conds.append("t.coins >= 0 AND t.repeat_count >= 1")
        for name in ("count", "current", "total"):
            if any(n == name for n, _, _ in field_specs(etype)):
                conds.append(f'coalesce(t."{name}", 0) >= 0')
        per_type.append(f"WHEN '{cls.TYPE}' THEN ({' AND '.join(conds)})")
    checks.append(f"(CASE t.type {' '.join(per_type)} ELSE false END)")
    ok = " AND ".join(f"coalesce({c}, false)" for c in checks)
    columns = []
    for name, _, _ in EVENT_COLUMNS:
        if name == "extra":
            columns.append("NULL::VARCHAR AS extra")
        else:
            columns.append(f'CASE WHEN ok AND {_present(name)} THEN t."{name}" END AS "{name}"')
    return f"""
        WITH p AS (
            SELECT line_no, line,
                   json_transform(line, '{raw_struct}') AS r,
                   json_transform(line, '{typed_struct}') AS t
            FROM _lines
            WHERE trim(line, ' \t\r\n') <> '' AND json_valid(line)
              AND starts_with(ltrim(line), '{{')),
        c AS (SELECT line_no, line, r, t, {ok} AS ok FROM p),
        bad AS (SELECT line_no, line, NULL AS r, NULL AS t, false AS ok FROM _lines
                WHERE trim(line, ' \t\r\n') <> '' AND NOT (json_valid(line)
                                                AND starts_with(ltrim(line), '{{')))
        SELECT line_no, line, ok, {", ".join(columns)} FROM c
        UNION ALL
        SELECT line_no, line, false, {", ".join(f"NULL AS {chr(34)}{n}{chr(34)}"
                                                for n, _, _ in EVENT_COLUMNS)} FROM bad
    """

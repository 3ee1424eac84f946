"""Event format v1 read at columnar speed: JSONL lines parsed and validated in DuckDB.

The rules of the format live in :mod:`liveworth.decode.events` (``field_specs``); this module turns
them into SQL so that a large JSONL file is parsed once by DuckDB's JSON reader instead of line by
line in Python. It is a fast path, never a second authority: a line the SQL does not accept as
plainly valid (malformed, a field of the wrong type, unknown extra keys to keep...) is handed to
:func:`liveworth.decode.events.event_from_dict`, which accepts it or names its problem exactly.

Lines reach DuckDB as an Arrow table ``(line_no, line)`` built straight from the file's bytes
(:func:`line_blocks`), so line numbers are exact and memory stays bounded by the block size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import IO

import numpy as np
import pyarrow as pa

from liveworth.decode.events import (
    EVENT_TYPES,
    FORMAT_VERSION,
    MAX_DIGITS,
    MAX_INT,
    MAX_TS,
    PRICE_TEXT,
    field_specs,
)
from liveworth.decode.formats import MAX_HOST, MAX_ROOM_ID
from liveworth.store.database import EVENT_COLUMNS

BLOCK_BYTES = 32 << 20
_COMMON = (("room_id", "str"), ("ts", "int"), ("msg_id", "str"))


#: A UTF-8 byte order mark, which some editors write at the start of a file.
_BOM = b"\xef\xbb\xbf"


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
    bom = 0
    while True:
        data = f.read(block)
        if line_no == 0 and not carry and not skipping and data.startswith(_BOM):
            bom, data = len(_BOM), data[len(_BOM):]  # a byte order mark is no part of a line
        if not data and not carry and not skipping:
            return
        too_long: list[tuple[int, int]] = []
        consumed, bom = len(data) + bom, 0
        if skipping:
            nl = data.find(b"\n")
            if nl < 0 and data:
                skipping += len(data)
                yield _empty(line_no), too_long, consumed
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
        table = _body_table(body, line_no, max_line, too_long) if body else _empty(line_no)
        line_no += table.num_rows
        yield table, too_long, consumed
        if final:
            return


def _body_table(body: bytes, first: int, max_line: int,
                too_long: list[tuple[int, int]]) -> pa.Table:
    """The lines of ``body`` (whole lines, the first numbered ``first + 1``) as a table; a line
    longer than ``max_line`` is noted in ``too_long`` and stands in the table as an empty line."""
    arr = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10) + 1
    if not len(ends) or ends[-1] != len(body):
        ends = np.append(ends, len(body))
    starts = np.concatenate(([0], ends[:-1]))
    sizes = ends - starts
    if len(body) < 2**31 and not (sizes > max_line).any():
        return _table_of_buffer(body, ends, first)
    return _table_blanking_long(body, starts, ends, first, max_line, too_long)


def _table_blanking_long(body: bytes, starts: np.ndarray, ends: np.ndarray, first: int,
                         max_line: int, too_long: list[tuple[int, int]]) -> pa.Table:
    """The slow path of :func:`_body_table`: lines copied one by one, too-long ones blanked."""
    lines: list[bytes] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e - s > max_line:
            too_long.append((first + len(lines) + 1, e - s))
            lines.append(b"")
        else:
            lines.append(body[s:e])
    return _table(lines, first)


def _empty(first: int) -> pa.Table:
    return _table([], first)


def _table_of_buffer(body: bytes, ends: np.ndarray, first: int) -> pa.Table:
    """The lines of ``body`` (ending at ``ends``) as a table, without copying them one by one."""
    offsets = np.concatenate(([0], ends)).astype(np.int32)
    data = pa.Array.from_buffers(pa.binary(), len(ends),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(body)])
    try:
        text = data.cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):  # invalid UTF-8 somewhere: line by line
        return _table(data.to_pylist(), first)
    nos = pa.array(np.arange(first + 1, first + 1 + len(ends), dtype=np.int64))
    return pa.table({"line_no": nos, "line": text})


def _table(lines: list[bytes], first: int) -> pa.Table:
    data = pa.array(lines, type=pa.binary())
    try:
        text = data.cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        text = pa.array([b.decode("utf-8", "replace") for b in lines], type=pa.string())
    nos = pa.array(np.arange(first + 1, first + 1 + len(lines), dtype=np.int64))
    return pa.table({"line_no": nos, "line": text})


# One JSON parse reads every known field as raw JSON text (``r``); plain string operations then
# tell whether each is plainly valid and give its value. A field's raw text is NULL when the key
# is missing or its value is null. ``nkeys`` (the line's top-level keys, repeats included) must
# equal the number of known keys of the line's type that have a value: that proves at once that
# there is no unknown key (kept in ``extra`` by Python), no key given twice and no null value.


def _value(name: str, kind: str) -> str:
    """SQL: the value of field ``name`` when its raw JSON text ``"r_{name}"`` is plainly
    acceptable, else NULL. (Quoted integers and the like are left to Python.)"""
    raw = f'"r_{name}"'
    if kind == "int":  # canonical integer text only
        return (f"(CASE WHEN TRY_CAST({raw} AS BIGINT)::VARCHAR = {raw} AND "
                f"TRY_CAST({raw} AS BIGINT) BETWEEN {-MAX_INT} AND {MAX_INT} THEN "
                f"TRY_CAST({raw} AS BIGINT) END)")
    if kind == "bool":
        return f"(CASE {raw} WHEN 'true' THEN true WHEN 'false' THEN false END)"
    # A JSON string; or an integer of at most MAX_DIGITS digits, which Python reads as its text
    # (a longer one Python refuses: it is left to Python).
    return (f"(CASE WHEN starts_with({raw}, '\"') THEN (CASE WHEN contains({raw}, '\\') "
            f"THEN json_extract_string({raw}, '$') ELSE {raw}[2:-2] END) "
            f"WHEN length({raw}) <= {MAX_DIGITS} AND TRY_CAST({raw} AS HUGEINT)::VARCHAR = {raw} "
            f"THEN {raw} END)")


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
    return _sql(only_valid=False)


@cache
def valid_sql() -> str:
    """SQL over ``_lines(line_no, line)``: ``line_no`` and the event columns of the lines that
    are plainly valid (the rows of :func:`staging_sql` where ``ok``)."""
    return _sql(only_valid=True)


def _sql(only_valid: bool) -> str:
    fields = _all_fields()
    names = ["v", "type", *fields]
    raw_struct = "{" + ", ".join(f'"{n}": "JSON"' for n in names) + "}"
    ok = _ok_condition()
    raws = ", ".join(f'r."{n}"::VARCHAR AS "r_{n}"' for n in names)
    values = ", ".join(f'{_value(n, k)} AS "{n}"' for n, k in fields.items())
    columns = _output_columns()
    if only_valid:
        return _valid_query(raw_struct, raws, values, ok, columns)
    return _staging_query(raw_struct, raws, values, ok, columns)


def _type_condition(etype: str, type_name: str) -> str:
    """SQL: the ``CASE r_type`` branch telling whether a line of type ``etype`` is plainly valid
    (exactly its known keys, required fields present, optional ones valid where given, counts
    and amounts in range)."""
    specs = field_specs(etype)
    known = ["v", "type", *(n for n, _ in _COMMON), *(n for n, _, _ in specs)]
    given = " + ".join(f'("r_{n}" IS NOT NULL)::INT' for n in known)
    conds = [f"nkeys = {given}"]
    for name, _, required in specs:
        conds.append(f'"{name}" IS NOT NULL' if required
                     else f'("r_{name}" IS NULL OR "{name}" IS NOT NULL)')
    if etype == "gift":
        conds.append(f"coins >= 0 AND repeat_count >= 1 AND "
                     f"coins::HUGEINT * repeat_count <= {MAX_INT}")
    if etype == "subscribe":  # as event_from_dict checks them
        conds.append(f"months >= 1 AND (price_usd IS NULL OR "
                     f"regexp_full_match(price_usd, '{PRICE_TEXT.pattern}'))")
    for name in ("count", "current", "total"):
        if any(n == name for n, _, _ in specs):
            conds.append(f'coalesce("{name}", 0) >= 0')
    return f"WHEN '\"{type_name}\"' THEN ({' AND '.join(conds)})"


def _ok_condition() -> str:
    """SQL: whether a parsed line is a plainly valid event (never NULL)."""
    per_type = [_type_condition(etype, cls.TYPE) for etype, cls in EVENT_TYPES.items()]
    checks = [f"(r_v IS NULL OR r_v = '{FORMAT_VERSION}')",
              f"ts BETWEEN 0 AND {MAX_TS} AND room_id <> '' AND msg_id <> ''",
              f"length(room_id) <= {MAX_ROOM_ID} AND coalesce(length(host), 0) <= {MAX_HOST}",
              f"(CASE r_type {' '.join(per_type)} ELSE false END)"]
    return " AND ".join(f"coalesce({c}, false)" for c in checks)


def _output_columns() -> str:
    """SQL: the event columns, in store order, as selected from the typed values."""
    columns = []
    for name, _, _ in EVENT_COLUMNS:
        if name == "extra":
            columns.append("NULL::VARCHAR AS extra")
        elif name == "type":
            columns.append('r_type[2:-2] AS "type"')
        else:
            columns.append(f'"{name}"')
    return ", ".join(columns)


#: SQL: the line is one JSON object as Python's ``json`` reads it. DuckDB's JSON functions also
#: take a trailing comma (``{"a":1,}``), which Python refuses: after the object's last value
#: only closing braces and white space may follow (a trailing comma deeper in is in a value no
#: event field takes as plainly valid, or in an unknown key's: Python judges those lines).
_PLAIN_OBJECT = ("json_valid(line) AND starts_with(ltrim(line), '{') "
                 "AND regexp_matches(right(line, 4), '[^,\\s]}\\r?\\n?$')")


def _valid_query(raw_struct: str, raws: str, values: str, ok: str, columns: str) -> str:
    """SQL: ``line_no`` and the event columns of the plainly valid lines."""
    parsed = (f"SELECT line_no, line, json_transform(line, '{raw_struct}') AS r, "
              "len(json_keys(line)) AS nkeys FROM _lines "
              f"WHERE {_PLAIN_OBJECT}")
    return f"""
            WITH p AS ({parsed}),
            w AS (SELECT line_no, nkeys, {raws} FROM p),
            v AS (SELECT *, {values} FROM w)
            SELECT line_no, {columns} FROM v WHERE {ok}
        """


def _staging_query(raw_struct: str, raws: str, values: str, ok: str, columns: str) -> str:
    """SQL: every non-blank line with ``ok`` and the event columns (NULL where not JSON)."""
    return f"""
        WITH p AS (
            SELECT line_no, line, json_transform(line, '{raw_struct}') AS r,
                   len(json_keys(line)) AS nkeys
            FROM _lines
            WHERE trim(line, ' \t\r\n') <> '' AND {_PLAIN_OBJECT}),
        w AS (SELECT line_no, line, nkeys, {raws} FROM p),
        v AS (SELECT *, {values} FROM w),
        c AS (SELECT *, {ok} AS ok FROM v),
        bad AS (SELECT line_no, line FROM _lines
                WHERE trim(line, ' \t\r\n') <> '' AND NOT ({_PLAIN_OBJECT}))
        SELECT line_no, line, ok, {columns} FROM c
        UNION ALL
        SELECT line_no, line, false, {", ".join(f"NULL AS {chr(34)}{n}{chr(34)}"
                                                for n, _, _ in EVENT_COLUMNS)} FROM bad
    """

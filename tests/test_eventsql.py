"""The SQL fast path for event JSONL never accepts what events.event_from_dict rejects, and reads
what it accepts to the very same values."""

from __future__ import annotations

import io
import json
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.decode.events import EVENT_TYPES, event_from_dict, field_specs, loads_line
from liveworth.errors import InputFormatError
from liveworth.store.database import EVENT_COLUMNS, events_table
from liveworth.store.eventsql import line_blocks, staging_sql, valid_sql

NAMES = [n for n, _, _ in EVENT_COLUMNS]

values = st.one_of(
    st.integers(-(2**63), 2**64),
    st.integers(0, 10**6),
    st.text(max_size=8),
    st.sampled_from(["12", "007", "-3", "1.5", "true", "", "9" * 30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.just({"a": 1}),
    st.just([1, 2]),
)


@st.composite
def event_objects(draw: st.DrawFn) -> dict[str, Any]:
    etype = draw(st.sampled_from([*EVENT_TYPES, "teleport"]))
    good = {"int": st.integers(0, 10**12), "str": st.text(min_size=1, max_size=6),
            "bool": st.booleans()}
    obj: dict[str, Any] = {"v": draw(st.sampled_from([1, 1, 1, 2, "1"])), "type": etype,
                           "room_id": draw(st.text(min_size=1, max_size=4)),
                           "ts": draw(st.integers(0, 2**40)), "msg_id": draw(st.text(max_size=4))}
    specs = field_specs(etype) if etype in EVENT_TYPES else []
    for name, kind, required in specs:
        if draw(st.booleans()) or required:
            obj[name] = draw(good[kind])
    for _ in range(draw(st.integers(0, 3))):  # corrupt some fields, add unknown ones
        key = draw(st.sampled_from([*obj, "extra_key", "ts", "coins", "repeat_end"]))
        obj[key] = draw(values)
    if draw(st.booleans()):
        obj.pop(draw(st.sampled_from(sorted(obj))), None)
    return obj


def _run_sql(lines: list[str], sql: str) -> list[tuple[Any, ...]]:
    """``sql`` (over ``_lines``) on the blocks of ``lines``, in line order."""
    blob = "".join(line + "\n" for line in lines).encode()
    con = duckdb.connect()
    rows: list[tuple[Any, ...]] = []
    for table, _, _ in line_blocks(io.BytesIO(blob), 1 << 20):
        con.register("_lines", table)
        rows.extend(con.execute(f"SELECT * FROM ({sql}) ORDER BY line_no").fetchall())
        con.unregister("_lines")
    con.close()
    return rows


def _stage(lines: list[str]) -> list[tuple[Any, ...]]:
    return _run_sql(lines, staging_sql())


def _valid(lines: list[str]) -> list[tuple[Any, ...]]:
    return _run_sql(lines, valid_sql())


@settings(max_examples=300, deadline=None)
@given(objs=st.lists(event_objects(), min_size=1, max_size=20))
def test_sql_accepts_only_what_python_accepts(objs: list[dict[str, Any]]) -> None:
    lines = [json.dumps(o) for o in objs]
    staged = _stage(lines)
    assert _valid(lines) == [(r[0], *r[3:]) for r in staged if r[2]]  # the importer's SQL
    for row in staged:
        line_no, line, ok = row[0], row[1], row[2]
        if not ok:
            continue
        try:
            ev = event_from_dict(json.loads(line), f"x:{line_no}")
        except InputFormatError as exc:
            raise AssertionError(f"SQL accepted a line Python rejects ({exc}): {line}") from None
        expected = events_table([ev]).to_pylist()[0]
        got = dict(zip(NAMES, row[3:], strict=True))
        assert got == expected, line


def test_valid_lines_take_the_fast_path() -> None:
    lines = [
        '{"v":1,"type":"gift","room_id":"r","ts":5,"msg_id":"a","user_id":"1","user":"u",'
        '"nickname":"n","gift_id":5655,"gift_name":"Rose","coins":1,"gift_type":1,'
        '"repeat_count":3,"repeat_end":false,"group_id":"g"}',
        '{"type":"viewers","room_id":"r","ts":6,"msg_id":"b","current":10}',
        '{"v":1,"type":"comment","room_id":"r","ts":7,"msg_id":"c","user_id":"1","user":"u",'
        '"nickname":"n","text":"hi \\u00e9"}',
    ]
    rows = _stage(lines)
    assert [r[2] for r in rows] == [True, True, True]


def test_blank_invalid_and_odd_lines() -> None:
    rows = _stage(["", "   ", "{not json", "[1,2]", '"str"', '{"type":"like"}'])
    assert [(r[0], r[2]) for r in rows] == [(3, False), (4, False), (5, False), (6, False)]


def test_line_blocks_number_lines_across_blocks_and_skip_huge_ones() -> None:
    text = b"".join(f'{{"n":{i}}}\n'.encode() for i in range(1000))
    text += b"x" * 5000 + b"\n" + b'{"n":"last"}'  # a huge line, then a final line with no \n
    seen: list[int] = []
    too_long: list[tuple[int, int]] = []
    for table, long_lines, _ in line_blocks(io.BytesIO(text), 1000, block=777):
        seen.extend(table.column("line_no").to_pylist())
        too_long.extend(long_lines)
        assert isinstance(table, pa.Table)
    assert too_long == [(1001, 5001)]
    assert [n for n in seen if n != 1001] == [*range(1, 1001), 1002]


def test_a_key_given_twice_is_left_to_python_which_rejects_it() -> None:
    line = ('{"v":1,"type":"viewers","room_id":"r","ts":6,"msg_id":"b","current":10,'
            '"current":-3}')
    assert [r[2] for r in _stage([line])] == [False]
    with pytest.raises(InputFormatError, match="field 'current': key given twice"):
        loads_line(line, "x:1")
    with pytest.raises(InputFormatError, match="key given twice"):
        loads_line('{"a": {"b": 1, "b": 1}}')
    assert loads_line('{"a": {"b": 1}, "b": 2}') == {"a": {"b": 1}, "b": 2}


def test_line_blocks_leave_out_the_line_a_damaged_gzip_cut() -> None:
    text = b'{"n":1}\n{"n":2}\n{"n":'
    for damaged, last in ((True, 2), (False, 3)):
        blocks = line_blocks(io.BytesIO(text), 1000, cut_short=lambda d=damaged: d)
        nos = [n for table, _, _ in blocks for n in table.column("line_no").to_pylist()]
        assert nos[-1] == last

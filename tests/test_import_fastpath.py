"""The importer's SQL fast path and the exact path (every line judged by the reference Python
reader) give the very same store, counts and rejects, on hostile files as on clean ones."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.ingest.importer import import_paths
from liveworth.store import eventsql
from liveworth.store.database import Store

BASE: dict[str, dict[str, Any]] = {
    "gift": {"type": "gift", "user_id": "1", "user": "a", "nickname": "A", "gift_id": 5655,
             "gift_name": "Rose", "coins": 1, "gift_type": 1, "repeat_count": 2,
             "repeat_end": False, "group_id": "g1"},
    "comment": {"type": "comment", "user_id": "2", "user": "b", "nickname": "B", "text": "hi"},
    "like": {"type": "like", "user_id": "3", "count": 5, "total": 10},
    "viewers": {"type": "viewers", "current": 100},
    "subscribe": {"type": "subscribe", "user_id": "4", "user": "c", "nickname": "C",
                  "months": 1, "price_usd": "4.99"},
    "live_start": {"type": "live_start", "host_id": "9", "host": "h", "followers": 7},
}
#: Values a field may be given instead of its own: wrong types, out of range, huge, odd text.
ODD = [0, -1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63, 10**30, 10**33, 1.0, 1.5, True, False, None,
       "7", "007", "-3", "", "x", "ünï 🎁", "9" * 40, [1], {"a": 1}]
#: Lines written by hand: JSON Python refuses that DuckDB's JSON functions take, and the like.
RAW = [
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t1","current":1,}',
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t2","current":1 , }',
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t3","current":NaN}',
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t4","current":Infinity}',
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t5","current":1,"current":2}',
    '{"v":1,"type":"viewers","room_id":"r","ts":5,"msg_id":"t6","current":-0}',
    '{"v":1,"type":"viewers","room_id":"r","ts":5e0,"msg_id":"t7","current":1}',
    '{"v":1,"type":"comment","room_id":"r","ts":5,"msg_id":"t8","user_id":"\\ud800","user":"u",'
    '"nickname":"n","text":"\\u00e9\\n\\"q\\""}',
    '{"v":1,"type":"join","room_id":"r","ts":5,"msg_id":"t9","user_id":'
    '123456789012345678901234567890123,"user":"u","nickname":"n"}',
    '{"v":1,"type":"join","room_id":"r","ts":5,"msg_id":"t10","user_id":'
    '12345678901234567890123456789012,"user":"u","nickname":"n"}',
    '  {"v":1,"type":"live_end","room_id":"r","ts":5,"msg_id":"t11"}  ',
    '{"v":1,"type":"live_end","room_id":"r","ts":5,"msg_id":"t12"}{"v":1}',
    '{"v":1,"type":"live_end","room_id":"r","ts":5,"msg_id":"t13","extra":{"a":[1,]}}',
    '[1,2]', '"text"', '{not json', '', '   ', '\t', '\ufeff{"v":1}',
]


@st.composite
def event_line(draw: st.DrawFn) -> str:
    obj: dict[str, Any] = {"v": 1, **draw(st.sampled_from(list(BASE.values())))}
    obj["room_id"] = draw(st.sampled_from(["r", "r2", "ü"]))
    obj["ts"] = draw(st.integers(0, 2**41))
    obj["msg_id"] = draw(st.sampled_from(["m1", "m2", "m3", "m4", "m5", "m6", "m7"]))
    for _ in range(draw(st.integers(0, 2))):  # spoil a field, or add an unknown one
        key = draw(st.sampled_from([*obj, "note"]))
        obj[key] = draw(st.sampled_from(ODD))
    sep = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    return json.dumps(obj, separators=sep, ensure_ascii=draw(st.booleans()))


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(event_line(), event_line(), st.sampled_from(RAW)),
                          min_size=1, max_size=14))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from([newline, ""]))  # maybe no last newline
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data  # a byte order mark
    if draw(st.integers(0, 5)) == 0:
        data = data.replace(b'"A"', b'"\xff\xfe"')  # invalid UTF-8 inside a string
    return data


def _import(path: Path) -> tuple[dict[str, Any], list[tuple[str, str, str | None]],
                                  list[tuple[Any, ...]]]:
    with Store.open(":memory:") as store:
        rejects: list[Any] = []
        result = import_paths(store, [path], "events", on_reject=rejects.append).as_dict()
        stored = store.query("SELECT * FROM events ORDER BY room_id, msg_id")
        stored += store.query("SELECT * FROM credits ORDER BY room_id, msg_id")
    return result, [(r.where, r.reason, r.raw) for r in rejects], stored


def _exact(path: Path) -> tuple[dict[str, Any], list[tuple[str, str, str | None]],
                                 list[tuple[Any, ...]]]:
    """The import with no line taken by the SQL: every one judged by Python."""
    fast = eventsql.valid_sql()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eventsql, "valid_sql", lambda: f"SELECT * FROM ({fast}) WHERE false")
        return _import(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files(), compress=st.booleans())
def test_fast_and_exact_paths_agree(tmp_path_factory: pytest.TempPathFactory, data: bytes,
                                    compress: bool) -> None:
    path = tmp_path_factory.mktemp("f") / "e.jsonl"
    path.write_bytes(gzip.compress(data) if compress else data)
    assert _import(path) == _exact(path)


def test_hand_written_hostile_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(RAW) + "\n", encoding="utf-8", errors="surrogatepass")
    fast = _import(path)
    assert fast == _exact(path)
    # t6 (-0 is 0), t8 (a lone surrogate becomes U+FFFD), t10 (32 digits), t11 (white space)
    assert [row[1] for row in fast[2]] == ["t10", "t11", "t6", "t8"]
    reasons = {where.rsplit(":", 1)[1]: why for where, why, _ in fast[1]}
    assert reasons["1"] == reasons["2"] == "not JSON (JSONDecodeError)"  # trailing commas
    assert reasons["3"] == "field 'current': expected an integer, got NaN"
    assert reasons["9"] == "a number of 33 digits (at most 32)"

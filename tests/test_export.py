"""``export --format jsonl`` (issue 21, row 9): DuckDB writes the lines, byte for byte what the
per-row Python writer wrote (:func:`liveworth.store.export.event_line` over every row, the
definition), on the real dumps and on hostile rows; the export imports back to the same events;
the progress bar shows only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from liveworth.decode.formats import MAX_INT
from liveworth.ingest.importer import import_paths
from liveworth.store import export
from liveworth.store.database import EVENT_COLUMNS, EVENT_SCHEMA, Store, registered
from liveworth.store.export import event_line, export_events

from conftest import DUMPS, Result

Run = Callable[..., Result]
NAMES = [n for n, _, _ in EVENT_COLUMNS]
COLS = ", ".join(f'"{n}"' for n in NAMES)
#: Every character DuckDB can hold (all of Unicode but the surrogates), controls and U+2028 too;
#: and all of them but the controls (the lines DuckDB writes itself).
ALL_CHARS = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
NO_CONTROLS = ALL_CHARS[0x20:]
HOSTILE = ["", " ", "\n", "\r\n", "\t\"quoted\"\\", "\\u000B", "\\\\u00e9", "\x0b\x1f\x7f\x00",
           "=HYPERLINK(\"http://x\",\"click\")", "@SUM(A1)", "+1", "-1", "é😀\u2028\u2029\u202e",
           "'; DROP TABLE events; --", "{\"v\":2}", "null"]


def python_export(store: Store, room_id: str | None = None) -> bytes:
    """What export wrote before DuckDB built the lines: one event_line per row, in order."""
    hosts = dict(store.query("SELECT room_id, host FROM rooms WHERE host IS NOT NULL"))
    where, params = ("WHERE room_id = ?", [room_id]) if room_id else ("", [])
    rows = store.query(f"SELECT {COLS} FROM events {where} ORDER BY room_id, ts, msg_id",
                       params)
    return "".join(event_line(r, hosts.get(r[0])) for r in rows).encode("utf-8")


def exported(store: Store, path: Path, room_id: str | None = None) -> bytes:
    export_events(store, room_id, "jsonl", path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("real") / "real.duckdb")
    with Store.open(db) as store:
        import_paths(store, sorted(str(p) for p in DUMPS.glob("*.json.gz")))
    return db


def _row(i: int, etype: str, value: str, big: int, **kw: Any) -> dict[str, Any]:
    """One events row of ``etype`` with ``value`` in every text column it has."""
    row: dict[str, Any] = {"room_id": f"room-{i % 3}", "msg_id": f"m{i}", "type": etype,
                           "ts": 1_700_000_000_000 + i}
    if etype in ("gift", "comment", "join", "follow", "share", "subscribe", "like"):
        row |= {"user_id": value, "user": value, "nickname": value}
    if etype == "gift":
        row |= {"gift_id": big, "gift_name": value, "coins": big // 4096, "gift_type": 0,
                "repeat_count": i + 1, "repeat_end": i % 2 == 0, "group_id": value,
                "to_user_id": value if i % 2 else None}
    return row | {"text": value if etype == "comment" else None} | kw


def hostile_rows(importable: bool) -> list[dict[str, Any]]:
    """Every event type, every hostile string in every text column, extreme integers, NULLs,
    extras (nested, floats, unicode, a "host"), all of Unicode in comments of 1,000 characters,
    a long text; ``importable``: within what import accepts (integers to 2**53, a line under
    1 MiB), else the table's own limits (a comment of all of Unicode at once)."""
    big = MAX_INT if importable else 2**63 - 1
    rows = []
    for i, text in enumerate(HOSTILE):
        rows += [_row(4 * i, "gift", text, big), _row(4 * i + 1, "comment", text, big),
                 _row(4 * i + 2, "like", text, big, count=big, total=None),
                 _row(4 * i + 3, "viewers", text, big, current=0, total=big)]
    n = len(rows)
    rows += [
        _row(n, "live_start", "x", big, host_id="é\n", host="\"h\"", followers=big),
        _row(n + 1, "live_end", "x", big), _row(n + 2, "battle", "x", big, battle_id="b\\"),
        _row(n + 3, "subscribe", "s", big, months=3, price_usd="4.99", tier="\x1f"),
        _row(n + 4, "follow", "f", big, extra=json.dumps({"z": 1.5e300, "a": [1, None, "é"],
                                                          "host": "from-extra"})),
        _row(n + 5, "share", "s", big, extra=""),
        _row(n + 6, "join", "j", big, extra=json.dumps({"user": "shadowed", "n": {"k": -0.0}})),
        _row(n + 7, "gift", NO_CONTROLS[:30_000], big),
        _row(n + 10, "comment", "u", big, text=NO_CONTROLS[:1000]),  # U+0020-U+0407 by SQL
        *([] if importable else [_row(n + 8, "gift", "-", big, coins=-big - 1, gift_id=-big),
                                 _row(n + 9, "comment", "u", big, text=ALL_CHARS)])]
    n = len(rows) + 10
    return rows + [_row(n + k, "comment", "u", big, text=ALL_CHARS[at:at + 1000])
                   for k, at in enumerate(range(0, len(ALL_CHARS), 1000))]


def python_rows(rows: list[dict[str, Any]], host: str) -> int:
    """How many of ``rows`` Python writes: extras, a control character DuckDB would escape as
    \\u00XX (\\b \\t \\n \\f \\r are not), "\\u00" itself, more than SQL_TEXT_BYTES of text."""
    def texts(r: dict[str, Any]) -> list[str]:
        return [v for k, v in r.items() if isinstance(v, str) and k not in ("type", "extra")] + \
            ([host] if r["room_id"] == "room-0" else [])
    controls = {chr(c) for c in range(0x20)} - set("\b\t\n\f\r")
    return sum(1 for r in rows if r.get("extra")
               or any(controls & set(t) or "\\u00" in t for t in texts(r))
               or sum(len(t.encode()) for t in texts(r)) > export.SQL_TEXT_BYTES)


def hostile_store(db: str, importable: bool = False) -> str:
    """The rows written straight into the table, and rooms with a hostile host, an empty host
    and none."""
    with Store.open(db) as store:
        rows = hostile_rows(importable)
        table = pa.Table.from_pylist([{n: r.get(n) for n in NAMES} for r in rows],
                                     schema=EVENT_SCHEMA)
        with registered(store.con, "_rows", table):
            store.con.execute("INSERT INTO events SELECT * FROM _rows")
        store.con.execute("INSERT INTO rooms (room_id, host) VALUES ('room-0', ?), "
                          "('room-1', '')", [hostile_host(importable)])
    return db


def hostile_host(importable: bool) -> str:
    return NO_CONTROLS[200:300] if importable else ALL_CHARS[:300]


@pytest.fixture()
def hostile_db(tmp_path: Path) -> str:
    return hostile_store(str(tmp_path / "hostile.duckdb"))


def test_real_dumps_export_as_before(real_db: str, tmp_path: Path) -> None:
    with Store.open(real_db, read_only=True) as store:
        want = python_export(store)
        assert exported(store, tmp_path / "all.jsonl") == want
        assert len(want.splitlines()) == store.query("SELECT count(*) FROM events")[0][0]
        for room in store.rooms()[:5]:
            assert exported(store, tmp_path / "one.jsonl", room) == python_export(store, room)


@pytest.mark.parametrize("batch", [1, 3, 7, 100_000])
def test_hostile_rows_export_as_before(hostile_db: str, tmp_path: Path, batch: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of every size: rows Python writes (extras, control characters) fall at the start,
    middle and end of a batch."""
    monkeypatch.setattr(export, "BATCH_ROWS", batch)
    by_python: list[object] = []
    monkeypatch.setattr(export, "event_line",
                        lambda *a: by_python.append(a) or event_line(*a))  # type: ignore[func-returns-value]
    told: list[tuple[int, int]] = []
    with Store.open(hostile_db, read_only=True) as store:
        want = python_export(store)
        export_events(store, None, "jsonl", tmp_path / "h.jsonl",
                      progress=lambda done, total: told.append((done, total)))
        n = store.query("SELECT count(*) FROM events")[0][0]
    assert (tmp_path / "h.jsonl").read_bytes() == want
    assert len(by_python) == python_rows(hostile_rows(False), hostile_host(False)) < n // 2
    assert told[0] == (0, n) and told[-1] == (n, n)
    assert [d for d, _ in told] == sorted(d for d, _ in told)
    assert len(told) == 2 + (n - 1) // batch


def test_hostile_export_imports_back_to_the_same_events(tmp_path: Path) -> None:
    """export → import → export: the same events (extras kept), every line accepted, and the
    second export is what Python writes for the second store."""
    db = hostile_store(str(tmp_path / "importable.duckdb"), importable=True)
    first = tmp_path / "first.jsonl"
    with Store.open(db, read_only=True) as store:
        assert exported(store, first) == python_export(store)
    with Store.open(str(tmp_path / "again.duckdb")) as store:
        result = import_paths(store, [str(first)])
        second = exported(store, tmp_path / "second.jsonl")
        assert second == python_export(store)
    before = [json.loads(line) for line in first.read_bytes().splitlines()]
    after = [json.loads(line) for line in second.splitlines()]
    assert (result.accepted, result.rejected) == (len(before), 0)
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):  # room-2's host is now known (the
        assert {k: v for k, v in new.items() if k != "host" or "host" in old} == old  # extra)


def test_real_export_round_trips(real_db: str, tmp_path: Path) -> None:
    """The same events back; a battle's extras (kept sorted by key) take the exported "host"
    in among them, as before: the same objects, not always the same key order."""
    with Store.open(real_db, read_only=True) as store:
        first = exported(store, tmp_path / "a.jsonl")
    with Store.open(str(tmp_path / "b.duckdb")) as store:
        import_paths(store, [str(tmp_path / "a.jsonl")])
        second = exported(store, tmp_path / "b.jsonl")
    assert [json.loads(line) for line in second.splitlines()] == \
        [json.loads(line) for line in first.splitlines()]
    moved = [a for a, b in zip(first.splitlines(), second.splitlines(), strict=True) if a != b]
    assert moved and all(b'"type":"battle"' in line for line in moved)


def test_progress_bar_only_on_a_terminal(real_db: str, tmp_path: Path, cli: Run) -> None:
    out = tmp_path / "p.jsonl"
    r = cli("export", "--all", "--db", real_db, "--out", str(out))
    assert r.code == 0 and r.err == ""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.run([sys.executable, "-m", "liveworth", "export", "--all", "--db",
                           real_db, "--out", str(tmp_path / "t.jsonl")], stderr=follower,
                          stdout=subprocess.PIPE, env=env, check=True)
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:  # the terminal's other end is closed: all is read
        pass
    os.close(leader)
    with Store.open(real_db, read_only=True) as store:
        n = store.query("SELECT count(*) FROM events")[0][0]
    assert b"exporting" in shown and f"{n}/{n}".encode() in shown
    assert proc.stdout.decode() == r.out.replace("p.jsonl", "t.jsonl")
    assert (tmp_path / "t.jsonl").read_bytes() == out.read_bytes()

"""Values at the edge of event format v1's ranges (issue #14, item 4): the range is decided once,
at the door, and everything after it works with every value inside — a time of 9999-12-31 09:59:59
in every output, and sums of many maximal gifts exact beyond 64 bits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveworth.web.app import create_app

from conftest import Result

Run = Callable[..., Result]
#: The rule (event format v1): times up to 9999-12-31 09:59:59.999 UTC (a date in every time
#: zone), a gift worth at most 2^53.
MAX_TS = 253_402_250_399_999
MAX_INT = 2**53

GIFT = {"v": 1, "type": "gift", "user_id": "1", "user": "a", "nickname": "a", "gift_id": 5655,
        "gift_name": "Rose", "gift_type": 2, "repeat_end": True, "group_id": "g"}


def _line(extra: bool, **fields: Any) -> str:
    """A gift line; with ``extra`` an unknown key sends it to the exact Python judge instead of
    the SQL fast path, so that both readers are tried."""
    obj = {**GIFT, **fields}
    if extra:
        obj["note"] = "judged in Python"
    return json.dumps(obj)


@pytest.fixture(params=[False, True], ids=["sql-fast-path", "python-judge"])
def edge_db(request: pytest.FixtureRequest, tmp_path: Path, cli: Run) -> str:
    extra = request.param
    lines = [_line(extra, room_id="big", ts=1_700_000_000_000 + i, msg_id=f"m{i}",
                   coins=2**43, repeat_count=2**10) for i in range(2000)]  # each 2^53 coins
    lines += [
        _line(extra, room_id="edge", ts=MAX_TS, msg_id="last", coins=1, repeat_count=1),
        _line(extra, room_id="late", ts=MAX_TS + 1, msg_id="late", coins=1, repeat_count=1),
        _line(extra, room_id="big", ts=1, msg_id="over", coins=2**43, repeat_count=2**11),
        _line(extra, room_id="huge", ts=1, msg_id="h", coins=MAX_INT, repeat_count=MAX_INT),
    ]
    path = tmp_path / "edge.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = str(tmp_path / "edge.duckdb")
    r = cli("import", "--db", db, str(path), "--json")
    assert r.code == 0, r.err
    assert (r.json()["accepted"], r.json()["rejected"]) == (2001, 3)
    assert ("field 'ts': must lie between 0 and 253402250399999 (9999-12-31 09:59:59.999 UTC)"
            in r.err)
    assert r.err.count("coins × repeat_count is above 2^53") == 2
    return db


def test_the_latest_time_works_in_every_output(edge_db: str, cli: Run, tmp_path: Path) -> None:
    listed = cli("sessions", "--db", edge_db, "--json")
    assert listed.code == 0, listed.err
    assert {r["room_id"] for r in listed.json()} == {"big", "edge"}
    for argv in (["sessions"], ["report", "edge"], ["report", "edge", "--json"],
                 ["report", "edge", "--html", str(tmp_path / "e.html")], ["gifters"],
                 ["roster", "--as-of", "9999-12-31"], ["analyze", "--host", "nobody"]):
        r = cli(*argv, "--db", edge_db)
        assert r.code in (0, 2), (argv, r.err)  # analyze of nobody: a clear usage error
        assert "internal error" not in r.err, (argv, r.err)
    assert "9999-12-31 09:59:59 UTC" in cli("report", "edge", "--db", edge_db).out
    export = tmp_path / "e.jsonl"
    assert cli("export", "edge", "--db", edge_db, "--out", str(export)).code == 0
    assert json.loads(export.read_text().splitlines()[0])["ts"] == MAX_TS


def test_the_dashboard_lists_the_latest_time(edge_db: str) -> None:
    from starlette.testclient import TestClient

    with TestClient(create_app(edge_db), base_url="http://127.0.0.1:8000") as c:
        for url in ("/sessions", "/api/sessions", "/sessions/edge", "/api/sessions/edge",
                    "/gifters", "/roster?as_of=9999-12-31"):
            assert c.get(url).status_code == 200, url


def test_the_rule_is_the_formats_own() -> None:
    from liveworth.decode import formats

    assert (formats.MAX_TS, formats.MAX_INT) == (MAX_TS, MAX_INT)


def test_sums_beyond_64_bits_are_exact(edge_db: str, cli: Run) -> None:
    rep = cli("report", "big", "--db", edge_db, "--json").json()
    assert rep["coins"] == 2000 * 2**53 > 2**63
    rows = {r["room_id"]: r for r in cli("sessions", "--db", edge_db, "--json").json()}
    assert rows["big"]["coins"] == 2000 * 2**53
    assert rows["big"]["creator_usd"] == str(2000 * 2**53 * 5 // 1000)  # $0.005 a coin


# ------------------------------------------------------------------ ids, versions, extras (item 13)

LONG_ROOM, LONG_HOST = "r" * 201, "h" * 101
ROOM_200, HOST_100 = "R" * 200, "H" * 100


@pytest.mark.parametrize("extra", [False, True], ids=["sql-fast-path", "python-judge"])
def test_one_limit_for_ids_at_the_door(extra: bool, tmp_path: Path, cli: Run) -> None:
    """Room ids longer than 200 characters and hosts longer than 100 are refused at import,
    with their field; the longest accepted have working pages (one limit, not two)."""
    start = {"v": 1, "type": "live_start", "ts": 1_700_000_000_000, "host_id": "9",
             **({"note": "x"} if extra else {})}
    lines = [json.dumps({**start, "room_id": LONG_ROOM, "msg_id": "a", "host": "ok"}),
             json.dumps({**start, "room_id": "r1", "msg_id": "b", "host": LONG_HOST}),
             _line(extra, room_id="r3", ts=1, msg_id="d", coins=1, repeat_count=1,
                   host=LONG_HOST),
             json.dumps({**start, "room_id": ROOM_200, "msg_id": "e", "host": HOST_100}),
             _line(extra, room_id=ROOM_200, ts=2, msg_id="f", coins=5, repeat_count=1)]
    path = tmp_path / "ids.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = str(tmp_path / "ids.duckdb")
    r = cli("import", "--db", db, str(path), "--json")
    assert r.code == 0, r.err
    assert (r.json()["accepted"], r.json()["rejected"]) == (2, 3), r.err
    assert "ids.jsonl:1: field 'room_id': longer than 200 characters (201)" in r.err
    assert "ids.jsonl:2: field 'host': longer than 100 characters (101)" in r.err
    assert "ids.jsonl:3: field 'host': longer than 100 characters (101)" in r.err
    from starlette.testclient import TestClient

    with TestClient(create_app(db), base_url="http://127.0.0.1:8000") as c:
        for url in (f"/sessions/{ROOM_200}", f"/api/sessions/{ROOM_200}",
                    f"/creators/{HOST_100}/analysis", f"/api/creators/{HOST_100}/analysis",
                    f"/live/{HOST_100}", f"/overlay/{HOST_100}"):
            assert c.get(url).status_code == 200, url


@pytest.mark.parametrize("v", ["true", "1.0", '"1"', "false", "0", "2"])
def test_only_the_integer_1_is_version_1(v: str, tmp_path: Path, cli: Run) -> None:
    line = _line(False, room_id="r", ts=1, msg_id="m", coins=1, repeat_count=1)
    path = tmp_path / "v.jsonl"
    path.write_text(line.replace('"v": 1', f'"v": {v}') + "\n" + line.replace('"m"', '"n"'))
    r = cli("import", "--db", str(tmp_path / "v.duckdb"), str(path), "--json")
    assert (r.code, r.json()["accepted"], r.json()["rejected"]) == (0, 1, 1), r.err
    assert "v.jsonl:1: field 'v': unsupported format version" in r.err


def test_an_input_key_named_extra_is_kept(tmp_path: Path, cli: Run) -> None:
    """Unknown keys are kept and written back, says docs/EVENTS.md — one named ``extra`` too."""
    obj = {**GIFT, "room_id": "r", "ts": 1, "msg_id": "m", "coins": 1, "repeat_count": 1,
           "extra": {"campaign": "x"}, "note": 3}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(obj) + "\n")
    db = str(tmp_path / "x.duckdb")
    assert cli("import", "--db", db, str(path)).code == 0
    out = tmp_path / "out.jsonl"
    assert cli("export", "r", "--db", db, "--out", str(out)).code == 0
    back = json.loads(out.read_text())
    assert (back["extra"], back["note"]) == ({"campaign": "x"}, 3)


def test_raw_inputs_keep_to_the_same_limits(tmp_path: Path, cli: Run) -> None:
    """A journal line naming a room id or host beyond the limits, or a version that is not the
    integer 1, is one reject; the lines beside it are kept."""
    from liveworth.decode.rawsources import JournalWriter, RawMessage, iter_dump

    path = tmp_path / "j.jsonl"
    real = Path(__file__).parent / "data/real/webcast_dumps/ab.json.gz"

    msgs = [m for m in iter_dump(real) if isinstance(m, RawMessage)][:4]
    with JournalWriter(path) as w:
        for m in msgs:
            w.append(m)
    lines = path.read_text().splitlines()
    good = json.loads(lines[0])
    lines += [json.dumps({**good, "room_id": LONG_ROOM}), json.dumps({**good, "host": LONG_HOST}),
              json.dumps({**good, "v": True})]
    path.write_text("\n".join(lines) + "\n")
    r = cli("import", "--db", str(tmp_path / "j.duckdb"), str(path), "--json")
    assert r.code == 0, r.err
    assert r.json()["rejected"] == 3, r.err
    assert "j.jsonl:5: room_id longer than 200 characters" in r.err
    assert "j.jsonl:6: host longer than 100 characters" in r.err
    assert "j.jsonl:7: unsupported journal version True" in r.err

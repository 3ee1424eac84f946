"""Import → store → ledger → report, end to end, on the real dumps and on hostile input."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.analysis.report import session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.ingest.importer import import_paths
from liveworth.store.database import MIGRATIONS, Store

from conftest import DUMPS, Result

Run = Callable[..., Result]
ALL_DUMPS = sorted(str(p) for p in DUMPS.glob("*.json.gz"))
BIG_ROOM = "7309128470994258694"  # the longest recording in the dumps (33 min, 378 events)
CARD = load_rate_card()


def reports(db: str) -> dict[str, Any]:
    with Store.open(db, read_only=True) as store:
        return {room: session_report(store, room, CARD).as_dict() for room in store.rooms()}


def import_(db: Path | str, *paths: str | Path, **kw: Any) -> Any:
    with Store.open(db) as store:
        return import_paths(store, [str(p) for p in paths], **kw)


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("real") / "real.duckdb")
    result = import_(db, *ALL_DUMPS)
    assert result.rejected == 0
    return db


@pytest.fixture(scope="module")
def real_jsonl(real_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from liveworth.store.export import export_events

    out = tmp_path_factory.mktemp("exp") / "all.jsonl"
    with Store.open(real_db, read_only=True) as store:
        export_events(store, None, "jsonl", out)
    return out


def test_real_dumps_import(real_db: str) -> None:
    with Store.open(real_db, read_only=True) as store:
        assert store.schema_version() == len(MIGRATIONS)
        n = store.query("SELECT count(*), count(DISTINCT room_id) FROM events")[0]
        assert n[0] > 800 and n[1] > 30
        types = {r[0] for r in store.query("SELECT DISTINCT type FROM events")}
        assert {"gift", "comment", "like", "join", "viewers"} <= types
        rep = session_report(store, BIG_ROOM, CARD)
    assert rep.host == "crecee.saraa"
    assert rep.coins == rep.coins_confirmed + rep.coins_unconfirmed > 0
    assert rep.money.viewer_usd == rep.money.creator_usd + rep.money.platform_usd
    assert rep.peak_viewers and rep.peak_viewers > 1000
    flags = {f["flag"] for f in rep.flags}
    assert {"observed_counts", "partial_recording"} <= flags


def test_import_twice_changes_nothing(real_db: str, tmp_path: Path) -> None:
    db = tmp_path / "twice.duckdb"
    first = import_(db, *ALL_DUMPS)
    second = import_(db, *ALL_DUMPS)
    assert second.accepted == 0
    assert second.duplicates == first.accepted + first.duplicates
    assert reports(str(db)) == reports(real_db)


def test_overlapping_dumps_count_each_event_once(real_db: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy.json.gz"
    shutil.copy(ALL_DUMPS[0], copy)
    db = tmp_path / "overlap.duckdb"
    import_(db, *ALL_DUMPS, copy)
    assert reports(str(db)) == reports(real_db)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_shuffled_lines_give_identical_reports(
    seed: int, real_db: str, real_jsonl: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines = real_jsonl.read_text().splitlines()
    random.Random(seed).shuffle(lines)
    d = tmp_path_factory.mktemp("shuf")
    shuffled = d / "shuffled.jsonl"
    shuffled.write_text("\n".join(lines) + "\n")
    db = d / "s.duckdb"
    import_(db, shuffled)
    assert reports(str(db)) == reports(real_db)


def test_export_import_round_trip(real_db: str, real_jsonl: Path, tmp_path: Path) -> None:
    db = tmp_path / "rt.duckdb"
    import_(db, real_jsonl)
    assert reports(str(db)) == reports(real_db)


def test_bad_lines_are_rejected_and_the_rest_imported(tmp_path: Path, cli: Run) -> None:
    good = {"v": 1, "type": "comment", "room_id": "r", "ts": 1000, "msg_id": "m1",
            "user_id": "u", "user": "u", "nickname": "n", "text": "hi"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "msg_id": "m2", "ts": "soon"}),
        json.dumps({**good, "msg_id": "m3", "type": "teleport"}),
        json.dumps({k: v for k, v in good.items() if k != "room_id"}),
        json.dumps({**good, "msg_id": "m4", "type": "gift"}),
        json.dumps({**good, "msg_id": "m5"}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "m.duckdb"
    r = cli("import", str(path), "--db", str(db), "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert (data["accepted"], data["rejected"]) == (2, 5)
    for lineno, field in ((2, ""), (3, "'ts'"), (4, "'type'"), (5, "'room_id'"), (6, "'gift_id'")):
        assert f"{path}:{lineno}" in r.err
        if field:
            assert any(f"{path}:{lineno}" in ln and field in ln for ln in r.err.splitlines())
    kept = [json.loads(x) for x in Path(str(db) + ".rejects.jsonl").read_text().splitlines()]
    assert len(kept) == 5 and kept[0]["raw"] == "{not json"
    strict_db = tmp_path / "strict.duckdb"
    r = cli("import", str(path), "--db", str(strict_db), "--strict")
    assert r.code == 1
    con = duckdb.connect(str(strict_db), read_only=True)
    assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0
    con.close()


def test_truncated_gzip_is_a_clear_error(tmp_path: Path, cli: Run) -> None:
    data = Path(ALL_DUMPS[0]).read_bytes()
    bad = tmp_path / "cut.json.gz"
    bad.write_bytes(data[: len(data) // 2])
    r = cli("import", str(bad), "--db", str(tmp_path / "x.duckdb"))
    assert r.code == 2
    assert str(bad) in r.err and "Traceback" not in r.err


def test_cli_sessions_and_report(real_db: str, cli: Run, tmp_path: Path) -> None:
    rows = cli("sessions", "--db", real_db, "--json").json()
    assert all({"room_id", "host", "start_ts", "duration_s", "coins", "creator_usd"} <= set(r)
               for r in rows)
    html = tmp_path / "r.html"
    r = cli("report", BIG_ROOM, "--db", real_db, "--json", "--html", str(html))
    assert r.code == 0, r.err
    rep = r.json()
    for key in ("room_id", "host", "start_ts", "end_ts", "duration_s", "coins",
                "coins_confirmed", "coins_unconfirmed", "diamonds", "viewer_usd", "creator_usd",
                "gift_count", "unique_gifters", "top_gifters", "tiers", "peak_viewers",
                "avg_viewers", "guest_coins", "flags"):
        assert key in rep
    assert isinstance(rep["creator_usd"], str)
    text = html.read_text()
    assert "<script" not in text and "Content-Security-Policy" in text
    assert cli("report", "nope", "--db", real_db).code == 2
    assert cli("sessions", "--db", str(tmp_path / "missing.duckdb")).code == 2


XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>"]


def test_hostile_names_are_escaped_in_html(tmp_path: Path, cli: Run) -> None:
    lines = [{"v": 1, "type": "live_start", "room_id": "x", "ts": 0, "msg_id": "s",
              "host_id": "h", "host": XSS[0]}]
    for i, name in enumerate(XSS):
        lines.append({"v": 1, "type": "gift", "room_id": "x", "ts": 1000 + i, "msg_id": f"g{i}",
                      "user_id": f"u{i}", "user": name, "nickname": name, "gift_id": 1,
                      "gift_name": name, "coins": 10 + i, "gift_type": 2, "repeat_count": 1,
                      "repeat_end": True, "group_id": "", "to_user_id": "h"})
    path = tmp_path / "xss.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    db = tmp_path / "x.duckdb"
    assert cli("import", str(path), "--db", str(db)).code == 0
    html = tmp_path / "x.html"
    assert cli("report", "x", "--db", str(db), "--html", str(html)).code == 0
    text = html.read_text()
    for bad in ("<script>", "<img", "<svg onload"):
        assert bad not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_progress_reports_bytes(tmp_path: Path, real_jsonl: Path) -> None:
    seen: list[int] = []
    import_(tmp_path / "p.duckdb", real_jsonl, progress=seen.append)
    assert sum(seen) == real_jsonl.stat().st_size

"""The agency's daily brief (``liveworth brief``) on a simulated history of three creators, one of
whom went dark: every figure against what the simulator says it wrote (its truth file and the
events themselves), computed here without the library's code."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liveworth.store.database import Store
from websupport import EVIL_HOST, TestClient, hostile_events, write_jsonl

from conftest import Result, run_cli

Cli = Callable[..., Result]
#: The creator's USD per coin under the default rate card (1 diamond a coin, $0.01 a diamond,
#: 50 % reward rate: economy/data/ratecard.toml).
PER_COIN = Decimal("0.005")
#: (host, seed, sessions, per week, first day): ana and ben keep going, cyd stops early.
CREATORS = (("ana", 11, 16, "4", "2026-10-08"), ("ben", 12, 10, "3", "2026-10-20"),
            ("cyd", 13, 3, "3", "2026-10-12"))
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Sim:
    """One simulated session as the simulator wrote it."""

    host: str
    room_id: str
    start_ts: int
    end_ts: int
    coins: int


_run = run_cli  # module-scoped fixtures cannot take the function-scoped `cli`


def _simulate(folder: Path) -> list[Sim]:
    sims = []
    for host, seed, n, per_week, start in CREATORS:
        out, truth = folder / host, folder / f"{host}.json"
        got = _run("simulate", "--followers", "8000", "--sessions", str(n), "--per-week",
                   per_week, "--start", start, "--host", host, "--seed", str(seed), "--out",
                   f"{out}/", "--truth", str(truth))
        assert got.code == 0, got.err
        for s in json.loads(truth.read_text())["sessions"]:
            lines = (out / f"{s['room_id']}.jsonl").read_text().splitlines()
            end = next(json.loads(x)["ts"] for x in reversed(lines) if '"live_end"' in x)
            sims.append(Sim(host, s["room_id"], s["start_ts"], end, s["coins"]))
    return sims


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[Sim]]:
    folder = tmp_path_factory.mktemp("brief")
    sims = _simulate(folder)
    db = str(folder / "brief.duckdb")
    files = sorted(str(p) for p in folder.glob("*/*.jsonl"))
    got = _run("import", *files, "--db", db)
    assert got.code == 0, got.err
    return db, sims


def _local_day(ts: int, tz: str) -> dt.date:
    return dt.datetime.fromtimestamp(ts / 1000, ZoneInfo(tz)).date()


def _expected(sims: list[Sim], as_of: dt.date, tz: str) -> dict[str, dict[str, Any]]:
    """Each creator's row, straight from the simulation."""
    day = as_of - dt.timedelta(days=1)
    out: dict[str, dict[str, Any]] = {}
    for host in sorted({s.host for s in sims}):
        mine = [s for s in sims if s.host == host and _local_day(s.start_ts, tz) <= day]
        if not mine:
            continue
        today = [s for s in mine if _local_day(s.start_ts, tz) == day]
        usd = PER_COIN * sum(s.coins for s in today)

        def window(n: int, mine: list[Sim] = mine) -> Decimal:
            return PER_COIN * sum(s.coins for s in mine
                                  if 1 <= (day - _local_day(s.start_ts, tz)).days <= n)

        w7, w28 = window(7), window(28)
        last = max(mine, key=lambda s: s.start_ts)
        out[host] = {
            "sessions": len(today), "coins": sum(s.coins for s in today),
            "hours": round(sum(s.end_ts - s.start_ts for s in today) / 3_600_000, 3),
            "usd": usd, "avg7": (w7 / 7).quantize(MICRO, ROUND_HALF_EVEN),
            "avg28": (w28 / 28).quantize(MICRO, ROUND_HALF_EVEN),
            "pct7": None if w7 == 0 else
            float(((usd * 7 - w7) * 100 / w7).quantize(Decimal("0.01"), ROUND_HALF_EVEN)),
            "days_dark": (day - _local_day(last.start_ts, tz)).days,
            "last_live": dt.datetime.fromtimestamp(last.start_ts / 1000, ZoneInfo(tz))
            .isoformat(timespec="seconds"),
        }
    return out


def _dates(sims: list[Sim]) -> list[str]:
    """Every D from before the first session to a week after the last, in steps of 3 days."""
    first = min(_local_day(s.start_ts, "UTC") for s in sims)
    last = max(_local_day(s.start_ts, "UTC") for s in sims)
    days = (last - first).days + 10
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(0, days, 3)]


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_every_figure_against_the_simulation(history: tuple[str, list[Sim]], tz: str) -> None:
    db, sims = history
    for date in _dates(sims):
        got = _run("brief", "--db", db, "--date", date, "--tz", tz, "--json")
        assert got.code == 0, got.err
        b = got.json()
        as_of = dt.date.fromisoformat(date)
        assert (b["date"], b["as_of"], b["tz"]) == (str(as_of - dt.timedelta(days=1)), date,
                                                    tz)
        want = _expected(sims, as_of, tz)
        rows = {r["host"]: r for r in b["creators"]}
        assert sorted(rows) == sorted(want), date
        for host, w in want.items():
            r = rows[host]
            assert (r["sessions"], r["coins"], r["hours"], r["adjusted_coins"]) == \
                (w["sessions"], w["coins"], w["hours"], 0), (date, host)
            assert Decimal(r["creator_usd"]) == w["usd"] == Decimal(r["total_creator_usd"])
            assert Decimal(r["avg_7d_usd"]) == w["avg7"], (date, host)
            assert Decimal(r["avg_28d_usd"]) == w["avg28"], (date, host)
            assert r["change_7d_pct"] == w["pct7"], (date, host)
            assert (r["days_dark"], r["last_live"]) == (w["days_dark"], w["last_live"])
        dark = [(d["host"], d["days_dark"]) for d in b["went_dark"]]
        assert dark == sorted(((h, w["days_dark"]) for h, w in want.items()
                               if w["days_dark"] >= 3), key=lambda x: (x[1], x[0]))
        _check_movers(b, want)
        assert b["totals"]["coins"] == sum(w["coins"] for w in want.values())


def _check_movers(b: dict[str, Any], want: dict[str, dict[str, Any]]) -> None:
    change = {h: w["usd"] - w["avg7"] for h, w in want.items()}  # avg exact to a millionth
    rises = sorted((h for h in change if change[h] > 0), key=lambda h: (-change[h], h))[:3]
    falls = sorted((h for h in change if change[h] < 0), key=lambda h: (change[h], h))[:3]
    assert [m["host"] for m in b["movers"]["rises"]] == rises
    assert [m["host"] for m in b["movers"]["falls"]] == falls
    for m in b["movers"]["rises"] + b["movers"]["falls"]:
        assert Decimal(m["change_usd"]) == change[m["host"]].quantize(MICRO, ROUND_HALF_EVEN)


def test_cyd_went_dark_and_zero_average_is_null(history: tuple[str, list[Sim]]) -> None:
    db, sims = history
    cyd_last = max(s.start_ts for s in sims if s.host == "cyd")
    as_of = _local_day(cyd_last, "UTC") + dt.timedelta(days=20)
    b = _run("brief", "--db", db, "--date", as_of.isoformat(), "--json").json()
    dark = {d["host"]: d for d in b["went_dark"]}
    assert dark["cyd"]["days_dark"] == 19
    assert dark["cyd"]["last_live"] == dt.datetime.fromtimestamp(
        cyd_last / 1000, dt.UTC).isoformat(timespec="seconds")
    cyd = next(r for r in b["creators"] if r["host"] == "cyd")
    assert (cyd["avg_7d_usd"], cyd["change_7d_pct"], cyd["tier_pace"]) == ("0", None, None)
    text = _run("brief", "--db", db, "--date", as_of.isoformat()).out
    assert "went dark" in text and "@cyd" in text and "19" in text


def test_what_happened_later_changes_nothing(history: tuple[str, list[Sim]],
                                             tmp_path: Path) -> None:
    """The brief (tier pace included) sees only what had happened by the end of its day."""
    db, sims = history
    as_of = dt.date(2026, 11, 1)
    cut = int(dt.datetime(2026, 10, 31, tzinfo=dt.UTC).timestamp() * 1000) + 86_400_000
    early = tmp_path / "early.duckdb"
    with Store.open(db, read_only=True) as src:
        rows = src.query("SELECT * FROM events")
        names = [c[0] for c in src.con.execute("SELECT * FROM events LIMIT 0").description]
    later = {s.room_id for s in sims if s.start_ts >= cut}
    assert later and len(later) < len(sims)
    kept = [dict(zip(names, r, strict=True)) for r in rows if r[0] not in later]
    from liveworth.decode.events import event_from_dict
    from liveworth.store import ledger
    from liveworth.store.database import events_table

    with Store.open(early) as store:
        store.insert_events(events_table(
            [event_from_dict({"v": 1, **{k: v for k, v in e.items() if v is not None}
                              | json.loads(e.get("extra") or "{}")}) for e in kept]))
        ledger.recompute(store.con, sorted({e["room_id"] for e in kept}))
    full = _run("brief", "--db", db, "--date", str(as_of), "--json").json()
    part = _run("brief", "--db", str(early), "--date", str(as_of), "--json").json()
    assert full == part
    assert any(r["tier_pace"] for r in full["creators"])


def test_tier_pace_is_the_rosters_as_of_the_day(history: tuple[str, list[Sim]]) -> None:
    db, _ = history
    b = _run("brief", "--db", db, "--date", "2026-11-10", "--json", "--tier",
             "small:5000:3:2").json()
    r = _run("roster", "--db", db, "--as-of", "2026-11-09", "--json", "--tier",
             "small:5000:3:2").json()
    paces = {row["host"]: row["pace"] for row in r["creators"] if row["period"] == "2026-11"}
    assert {c["host"]: c["tier_pace"] for c in b["creators"]} == \
        {h: paces.get(h) for h in ("ana", "ben", "cyd")}
    assert paces["ben"]["days_elapsed"] == 9 and "ana" not in paces  # ana: dark since October


def test_adjustments_count_in_the_totals_shown_apart(cli: Cli, tmp_path: Path,
                                                     history: tuple[str, list[Sim]]) -> None:
    db, sims = history
    copy = tmp_path / "adj.duckdb"
    copy.write_bytes(Path(db).read_bytes())
    room = max((s for s in sims if s.host == "ben"), key=lambda s: s.start_ts)
    day = _local_day(room.start_ts, "UTC")
    as_of = str(day + dt.timedelta(days=1))
    plain = _run("brief", "--db", str(copy), "--date", as_of, "--json").json()
    assert cli("adjust", room.room_id, "--coins", "2,000", "--reason", "off-stream",
               "--db", str(copy)).code == 0
    b = _run("brief", "--db", str(copy), "--date", as_of, "--json").json()
    before = next(r for r in plain["creators"] if r["host"] == "ben")
    ben = next(r for r in b["creators"] if r["host"] == "ben")
    assert (ben["coins"], ben["adjusted_coins"], ben["total_coins"]) == \
        (room.coins, 2000, room.coins + 2000)
    assert Decimal(ben["total_creator_usd"]) == PER_COIN * (room.coins + 2000)
    assert Decimal(ben["creator_usd"]) == PER_COIN * room.coins
    assert ben["avg_7d_usd"] == before["avg_7d_usd"]
    assert b["totals"]["adjusted_coins"] == 2000
    text = " ".join(_run("brief", "--db", str(copy), "--date", as_of).out.split())
    assert f"{room.coins:,} (+2,000)" in text


def _insert_alerts(db: str, rows: list[tuple[Any, ...]]) -> None:
    with Store.open(db) as store:
        for r in rows:
            store.query('INSERT INTO alerts (room_id, rule, "key", kind, ts, host, text, '
                        "user_id, who, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                        "$10)", list(r))


HOSTILE_ALERT = "<script>alert(1)</script> \x1b[2J big gift [bold]x[/bold]"


def test_the_days_alerts(tmp_path: Path) -> None:
    db = str(tmp_path / "alerts.duckdb")
    assert _run("import", str(write_jsonl(tmp_path / "h.jsonl", hostile_events())), "--db",
                db).code == 0
    tokyo = ZoneInfo("Asia/Tokyo")
    midnight = int(dt.datetime(2026, 11, 5, tzinfo=tokyo).timestamp() * 1000)
    _insert_alerts(db, [
        ("r1", "whale", "k1", "gift", midnight - 1, "ana", "before the day", "u1", "w", None),
        ("r1", "whale", "k2", "gift", midnight, "ana", HOSTILE_ALERT, "u2", "fan", '{"c": 1}'),
        ("r2", "spike", "k3", "gift_spike", midnight + 86_399_999, None, "last ms", None, None,
         None),
        ("r2", "spike", "k4", "gift_spike", midnight + 86_400_000, "ben", "next day", None,
         None, None),
    ])
    b = _run("brief", "--db", db, "--date", "2026-11-06", "--tz", "Asia/Tokyo", "--json").json()
    assert [(a["ts"], a["text"], a["rule"], a["kind"], a["who"], a["detail"])
            for a in b["alerts"]] == [
        (midnight, HOSTILE_ALERT, "whale", "gift", "fan", '{"c": 1}'),
        (midnight + 86_399_999, "last ms", "spike", "gift_spike", None, None)]
    assert b["alerts"][0]["time"] == "2026-11-05T00:00:00+09:00"
    utc = _run("brief", "--db", db, "--date", "2026-11-05", "--json").json()
    assert [a["text"] for a in utc["alerts"]] == ["before the day", HOSTILE_ALERT]
    text = _run("brief", "--db", db, "--date", "2026-11-06", "--tz", "Asia/Tokyo").out
    assert "\x1b" not in text and "\\x1b" in text and "[bold]x[/bold]" in text
    html = tmp_path / "brief.html"
    assert _run("brief", "--db", db, "--date", "2026-11-06", "--tz", "Asia/Tokyo", "--html",
                str(html)).code == 0
    page = html.read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page


@pytest.mark.parametrize(("args", "says"), [
    (("--date", "2026-02-30"), "not a date"),
    (("--date", "yesterday"), "not a date"),
    (("--date", "0001-01-01"), "a brief covers a day from"),
    (("--tz", "Mars/Olympus"), "unknown time zone"),
    (("--json", "--html", "x.html"), "not both"),
])
def test_bad_dates_and_zones(history: tuple[str, list[Sim]], args: tuple[str, ...],
                             says: str) -> None:
    got = _run("brief", "--db", history[0], *args)
    assert got.code == 2 and says in got.err and got.err.count("\n") == 1, got


def test_html_is_one_self_contained_page(history: tuple[str, list[Sim]], tmp_path: Path) -> None:
    out = tmp_path / "b.html"
    assert _run("brief", "--db", history[0], "--date", "2026-11-10", "--html", str(out)).code == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<style>" in page
    for outside in ("http://", "https://", "<script", " src=", "<link", "url("):
        assert outside not in page
    assert page.count("<td class='host'>@ana</td>") == 2  # a creator, and went dark


@pytest.fixture
def evil_db(tmp_path: Path) -> Iterator[str]:
    db = str(tmp_path / "evil.duckdb")
    assert _run("import", str(write_jsonl(tmp_path / "h.jsonl", hostile_events())), "--db",
                db).code == 0
    _insert_alerts(db, [("xss-room", "r<b>", "k", "gift", 1_700_000_000_500, EVIL_HOST,
                         HOSTILE_ALERT, None, None, None)])
    yield db


def test_json_twin_is_the_cli_json(evil_db: str, history: tuple[str, list[Sim]]) -> None:
    from liveworth.web import create_app

    for db, date, tz in ((history[0], "2026-11-10", "Asia/Tokyo"),
                         (evil_db, "2023-11-15", "UTC")):
        cli_json = _run("brief", "--db", db, "--date", date, "--tz", tz, "--json").json()
        with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
            assert client.get("/api/brief", params={"date": date, "tz": tz}).json() == cli_json
            page = client.get("/brief", params={"date": date, "tz": tz})
            assert page.status_code == 200
            assert client.get("/api/brief", params={"date": "2023-02-30"}).status_code == 400
            assert client.get("/brief", params={"tz": "No/Where"}).status_code == 400
    assert [a["host"] for a in cli_json["alerts"]] == [EVIL_HOST]
    assert "<img src=x onerror=alert(1)>" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text

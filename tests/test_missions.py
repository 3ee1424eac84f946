"""The US Scaled LIVE rewards missions (preset ``us-scaled``): a LIVE's reward rate from that LIVE.

Expected values are computed here from the schedule as the sources give it (ECONOMICS.md "2026
update") and liveworth's documented interpolation, independently of economy/missions.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.economy.missions import is_weekly_live, live_missions, pct, progress_line
from liveworth.economy.ratecard import load_rate_card

SCALED = load_rate_card("us-scaled")
assert SCALED.missions is not None
SCHEDULE = SCALED.missions
#: (from minutes, rate): the sources' 20 % and 38 %, liveworth's steps between.
STEPS = [(0, "0.20"), (5, "0.22"), (10, "0.26"), (15, "0.30"), (20, "0.34"), (25, "0.38")]
MIN = 60_000
CENT_PER_COIN = Decimal("0.01")  # diamonds per coin 1 × $0.01 per diamond


def expected_rate(duration_ms: int, followers: int, cut: Decimal = Decimal(0)) -> Decimal:
    step = max(Decimal(r) for m, r in STEPS if duration_ms >= m * MIN)
    bonus = Decimal("0.02") if followers >= 5 else Decimal(0)
    return max(Decimal(0), step + bonus - cut)


def weekly_bonus(lives_over_25: int) -> Decimal:
    return Decimal("0.08") if lives_over_25 >= 2 else Decimal("0.06") if lives_over_25 else \
        Decimal(0)


# ---------------------------------------------------------------------------- the schedule


def test_the_schedule_is_rate_card_data_with_sources_and_grades() -> None:
    assert [(s.at, str(s.rate)) for s in SCHEDULE.duration] == STEPS
    grades = [s.provenance.confidence for s in SCHEDULE.duration]
    assert grades == ["C", "assumption", "assumption", "assumption", "assumption", "C"]
    assert all(s.provenance.source and s.provenance.date for s in SCHEDULE.duration)
    assert (SCHEDULE.new_followers.at, SCHEDULE.new_followers.rate) == (5, Decimal("0.02"))
    assert [(s.at, s.rate) for s in SCHEDULE.weekly] == [(1, Decimal("0.06")),
                                                          (2, Decimal("0.08"))]
    assert SCHEDULE.weekly_minutes == 25
    assert "Creator Academy" in SCHEDULE.provenance.source


def test_the_us_scaled_range_is_0_to_53_percent() -> None:
    assert SCALED.reward_rate_range == (Decimal("0"), Decimal("0.53"))


def test_no_other_preset_and_no_rate_of_your_own_has_missions() -> None:
    assert load_rate_card().missions is None
    assert load_rate_card("us-scaled", {"reward_rate": "0.45"}).missions is None
    assert load_rate_card("us-scaled", {"agency_cut": "0.1"}).missions == SCHEDULE


@pytest.mark.parametrize(("minutes", "followers", "rate"), [
    (4, 0, "0.20"), (4.99, 9, "0.22"), (5, 0, "0.22"), (16, 3, "0.30"), (24.99, 5, "0.36"),
    (25, 4, "0.38"), (30, 6, "0.40"), (300, 500, "0.40")])
def test_per_live_rate(minutes: float, followers: int, rate: str) -> None:
    got = live_missions(SCHEDULE, round(minutes * MIN), followers)
    assert got.reward_rate == Decimal(rate)
    assert got.weekly_rate == 0


def test_a_weekly_live_is_one_over_25_minutes() -> None:
    assert not is_weekly_live(SCHEDULE, 25 * MIN)
    assert is_weekly_live(SCHEDULE, 25 * MIN + 1)


def test_what_is_missing_is_said_in_words() -> None:
    m = {x.name: x for x in live_missions(SCHEDULE, 16 * MIN + 1, 3, 1).missions}
    assert m["duration"].missing == "4 more minutes for 34 %, 9 more for 38 %"
    assert m["duration"].progress == "LIVE for 16 min: 30 %" and not m["duration"].met
    assert m["new_followers"].progress == "3 of 5 new followers"
    assert m["new_followers"].missing == "2 more new followers for +2 %"
    assert m["weekly"].missing == "1 more LIVE over 25 min this week for +8 %"
    m = {x.name: x for x in live_missions(SCHEDULE, 21 * MIN, 5, 2).missions}
    assert m["duration"].missing == "4 more minutes for 38 %"
    assert m["new_followers"].met and m["new_followers"].missing is None
    assert m["weekly"].met and m["weekly"].contribution == Decimal("0.08")
    assert pct(Decimal("0.025")) == "2.5 %"


def test_the_violation_cut_comes_off_and_stops_at_zero() -> None:
    got = live_missions(SCHEDULE, 30 * MIN, 6, 2, Decimal("0.10"))
    assert (got.reward_rate, got.weekly_rate) == (Decimal("0.30"), Decimal("0.08"))
    worst = live_missions(SCHEDULE, 3 * MIN, 0, 0, Decimal("0.20"))
    assert (worst.reward_rate, worst.weekly_rate) == (0, 0)
    cut = {x.name: x for x in worst.missions}["no_violations"]
    assert not cut.met and cut.contribution == Decimal("-0.20")


@settings(max_examples=300, deadline=None)
@given(duration=st.integers(0, 48 * 60 * MIN), followers=st.integers(0, 10**6),
       lives=st.integers(0, 50), cut=st.decimals(0, 1, places=4))
def test_the_mission_rate_never_leaves_0_to_53_percent(duration: int, followers: int,
                                                       lives: int, cut: Decimal) -> None:
    got = live_missions(SCHEDULE, duration, followers, lives, cut)
    assert Decimal(0) <= got.reward_rate <= got.full_rate <= Decimal("0.53")
    assert got.weekly_rate >= 0
    assert got.reward_rate == expected_rate(duration, followers, cut)
    assert got.full_rate == max(Decimal(0), expected_rate(duration, followers)
                                + weekly_bonus(lives) - cut)
    if cut == 0:
        assert Decimal("0.20") <= got.full_rate
    per_live = [x for x in got.missions if x.kind in ("per-LIVE", "violation")]
    assert sum(x.contribution for x in per_live) == got.reward_rate


# ---------------------------------------------------------------------------- the report


def _one_live(tmp_path: Path, cli: Callable[..., Any], minutes: float, follows: int,
              seed: int = 1, start: str = "1700000000000") -> tuple[Path, dict[str, Any]]:
    """A simulated LIVE of ``minutes`` with exactly ``follows`` new followers, imported."""
    raw = tmp_path / f"s{seed}.jsonl"
    assert cli("simulate", "--followers", "3000", "--minutes", str(minutes), "--seed",
               str(seed), "--start-ts", start, "--out", str(raw)).code == 0
    events = [json.loads(line) for line in raw.read_text().splitlines()]
    kept = [e for e in events if e["type"] != "follow"]
    room, start_ts = events[0]["room_id"], int(events[0]["ts"])
    kept += [{"v": 1, "type": "follow", "room_id": room, "ts": start_ts + 1000 * (i + 1),
              "msg_id": f"f{i}", "user_id": f"fan{i}", "user": f"fan{i}", "nickname": "f"}
             for i in range(follows)]
    raw.write_text("".join(json.dumps(e) + "\n" for e in kept))
    db = tmp_path / "m.duckdb"
    assert cli("import", str(raw), "--db", str(db), "--json").code == 0
    return db, cli("report", room, "--db", str(db), "--preset", "us-scaled", "--json").json()


def test_a_30_minute_live_with_6_new_followers_earns_40_percent(
        tmp_path: Path, cli: Callable[..., Any]) -> None:
    _, rep = _one_live(tmp_path, cli, 30, 6)
    assert rep["duration_s"] >= 30 * 60 and rep["new_followers"] == 6
    assert rep["reward_rate"] == "0.4"
    assert rep["coins"] > 0
    assert Decimal(rep["creator_usd"]) == rep["coins"] * CENT_PER_COIN * Decimal("0.40")
    assert Decimal(rep["viewer_usd"]) == Decimal(rep["creator_usd"]) + Decimal(
        rep["platform_usd"])
    missions = {m["mission"]: m for m in rep["missions"]}
    assert missions["duration"]["met"] and missions["duration"]["contribution"] == "0.38"
    assert missions["new_followers"]["met"] and missions["new_followers"]["contribution"] == \
        "0.02"
    # the LIVE itself is the week's one LIVE over 25 minutes: +6 %, credited Monday, apart
    assert rep["weekly"]["lives_over_minutes"] == 1 and rep["weekly"]["rate"] == "0.06"
    assert Decimal(rep["weekly"]["creator_usd"]) == rep["coins"] * CENT_PER_COIN * Decimal(
        "0.06")
    assert rep["weekly"]["week"] == "2023-11-13"  # 1700000000000 = Tue 2023-11-14 22:13 UTC


def test_a_4_minute_live_earns_20_percent(tmp_path: Path, cli: Callable[..., Any]) -> None:
    _, rep = _one_live(tmp_path, cli, 4, 2)
    assert rep["reward_rate"] == "0.2"
    assert Decimal(rep["creator_usd"]) == rep["coins"] * CENT_PER_COIN * Decimal("0.20")
    duration = {m["mission"]: m for m in rep["missions"]}["duration"]
    assert duration["missing"] == "1 more minute for 22 %, 21 more for 38 %"
    assert rep["weekly"]["rate"] == "0"


def test_the_violation_cut_is_set_per_live_and_other_presets_are_unchanged(
        tmp_path: Path, cli: Callable[..., Any]) -> None:
    db, rep = _one_live(tmp_path, cli, 30, 6)
    room = rep["room_id"]
    cut = cli("report", room, "--db", str(db), "--preset", "us-scaled", "--violation-cut",
              "0.15", "--json").json()
    assert cut["reward_rate"] == "0.25"
    assert Decimal(cut["creator_usd"]) == rep["coins"] * CENT_PER_COIN * Decimal("0.25")
    plain = cli("report", room, "--db", str(db), "--json").json()
    assert "reward_rate" not in plain and "missions" not in plain
    assert Decimal(plain["creator_usd"]) == rep["coins"] * Decimal("0.005")
    own = cli("report", room, "--db", str(db), "--preset", "us-scaled", "--reward-rate",
              "0.45", "--json").json()
    assert "missions" not in own
    assert Decimal(own["creator_usd"]) == rep["coins"] * CENT_PER_COIN * Decimal("0.45")
    bad = cli("report", room, "--db", str(db), "--preset", "us-scaled", "--violation-cut",
              "1.5")
    assert bad.code == 2 and "--violation-cut must be a share from 0 to 1" in bad.err
    assert "Traceback" not in bad.err
    text = cli("report", room, "--db", str(db), "--preset", "us-scaled").out
    assert "this LIVE's reward rate 40 %" in text and "6 of 5 new followers" in text


# ---------------------------------------------------------------------------- the week


History = tuple[Path, dict[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A simulated creator's 12 LIVEs over four weeks, imported once for the module's tests
    (which only read it): (database, per room its start, end, follows and coins)."""
    from liveworth.cli import main

    from conftest import Result

    def cli(*argv: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
        return Result(code, out.getvalue(), err.getvalue())

    tmp = tmp_path_factory.mktemp("history")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIVEWORTH_CONFIG", str(tmp / "no-config.toml"))
        yield _history(tmp, cli)


def _history(tmp_path: Path, cli: Callable[..., Any]) -> History:
    out = tmp_path / "hist"
    out.mkdir()
    assert cli("simulate", "--followers", "2000", "--sessions", "12", "--minutes", "22",
               "--per-week", "3", "--start", "2026-10-05", "--seed", "1",
               "--out", str(out) + "/").code == 0
    db = tmp_path / "h.duckdb"
    files = sorted(str(p) for p in out.glob("*.jsonl"))
    assert cli("import", *files, "--db", str(db), "--json").code == 0
    lives: dict[str, dict[str, Any]] = {}
    for f in files:
        for line in Path(f).read_text().splitlines():
            e = json.loads(line)
            live = lives.setdefault(e["room_id"], {"follows": set(), "ts": []})
            live["ts"].append(e["ts"])
            if e["type"] == "live_start":
                live["start"] = e["ts"]
            if e["type"] == "live_end":
                live["end"] = e["ts"]
            if e["type"] == "follow":
                live["follows"].add(e["user_id"])
    for row in cli("sessions", "--db", str(db), "--json").json():
        lives[row["room_id"]]["coins"] = row["coins"]
    return db, lives


def test_the_weekly_missions_change_the_weeks_total_in_roster(
        history: History, cli: Callable[..., Any]) -> None:
    db, lives = history
    weeks: dict[dt.date, list[dict[str, Any]]] = {}
    for live in lives.values():
        start = live.get("start", min(live["ts"]))
        end = max(live.get("end", max(live["ts"])), start)
        live["ms"] = end - start
        day = dt.datetime.fromtimestamp(start / 1000, dt.UTC).date()
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(live)
    over = {w: sum(x["ms"] > 25 * MIN for x in ls) for w, ls in weeks.items()}
    assert set(over.values()) == {0, 1, 2}  # weeks below, at and at the top step
    got = cli("roster", "--db", str(db), "--preset", "us-scaled", "--period", "week",
              "--as-of", "2027-01-01", "--json").json()
    flat = cli("roster", "--db", str(db), "--period", "week", "--as-of", "2027-01-01",
               "--json").json()
    by_week = {t["period_start"]: t for t in got["totals"]}
    assert len(by_week) == len(weeks)
    for week, ls in weeks.items():
        total = by_week[week.isoformat()]
        own = sum(x["coins"] * CENT_PER_COIN * expected_rate(x["ms"], len(x["follows"]))
                  for x in ls)
        weekly = sum(x["coins"] for x in ls) * CENT_PER_COIN * weekly_bonus(over[week])
        assert Decimal(total["creator_usd"]) == own
        assert Decimal(total["weekly_creator_usd"]) == weekly
        assert Decimal(total["total_creator_usd"]) == own + weekly
    for t in flat["totals"]:
        assert Decimal(t["weekly_creator_usd"]) == 0
        assert Decimal(t["total_creator_usd"]) == t["coins"] * Decimal("0.005")
    # the per-session reports add up to the roster's weeks
    week0 = min(weeks)
    reports = [cli("report", room, "--db", str(db), "--preset", "us-scaled", "--json").json()
               for room, x in lives.items() if x in weeks[week0]]
    assert sum(Decimal(r["creator_usd"]) + Decimal(r["weekly"]["creator_usd"])
               for r in reports) == Decimal(by_week[week0.isoformat()]["total_creator_usd"])


def test_sessions_list_each_live_at_its_own_rate(history: History,
                                                 cli: Callable[..., Any]) -> None:
    db, lives = history
    rows = cli("sessions", "--db", str(db), "--preset", "us-scaled", "--json").json()
    assert len(rows) == len(lives)
    rates = set()
    for row in rows:
        rep = cli("report", row["room_id"], "--db", str(db), "--preset", "us-scaled",
                  "--json").json()
        assert row["creator_usd"] == rep["creator_usd"]
        assert Decimal(row["creator_usd"]) == row["coins"] * CENT_PER_COIN * Decimal(
            rep["reward_rate"])
        rates.add(rep["reward_rate"])
    assert len(rates) > 1  # the LIVEs' rates differ


def test_roster_violation_cuts_are_per_live(history: History, cli: Callable[..., Any]) -> None:
    db, lives = history
    room = max(lives, key=lambda r: lives[r]["coins"])
    base = cli("roster", "--db", str(db), "--preset", "us-scaled", "--as-of", "2027-01-01",
               "--json").json()
    cut = cli("roster", "--db", str(db), "--preset", "us-scaled", "--as-of", "2027-01-01",
              "--violation-cut", f"{room}=0.05", "--json").json()
    drop = sum(Decimal(t["total_creator_usd"]) for t in base["totals"]) - sum(
        Decimal(t["total_creator_usd"]) for t in cut["totals"])
    assert drop == lives[room]["coins"] * CENT_PER_COIN * Decimal("0.05")
    bad = cli("roster", "--db", str(db), "--preset", "us-scaled", "--violation-cut", "0.05")
    assert bad.code == 2 and "ROOM_ID=SHARE" in bad.err


# ---------------------------------------------------------------------------- the live page


def test_progress_line() -> None:
    assert progress_line(SCHEDULE, 18 * MIN, 3) == \
        "LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new followers"
    assert progress_line(SCHEDULE, 25 * MIN, 5) == \
        "LIVE for 25 min: the 38 % rate reached; 5 of 5 new followers: +2 %"


def test_the_live_page_shows_mission_progress(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from liveworth.analysis.report import session_report
    from liveworth.ingest.importer import import_paths
    from liveworth.store.database import Store
    from liveworth.web import create_app
    from websupport import gift, write_jsonl

    t0, room, host = 1_700_000_000_000, "live-m", "missions_host"
    events = [{"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": t0,
               "host_id": "42", "host": host},
              gift(room, "g1", t0 + 60_000, "u1", "<b>fan</b>", 999),
              gift(room, "g2", t0 + 90_000, "u2", "two", 30),
              *({"v": 1, "type": "follow", "room_id": room, "msg_id": f"f{i}",
                 "ts": t0 + 1000 * i, "user_id": f"fan{i}", "user": "f", "nickname": "f"}
                for i in (1, 2, 3, 3)),  # fan3 twice: one new follower
              {"v": 1, "type": "follow", "room_id": room, "msg_id": "f4", "ts": t0 + 5000,
               "user_id": "fan1", "user": "f", "nickname": "f"},
              {"v": 1, "type": "comment", "room_id": room, "msg_id": "c", "ts": t0 + 18 * MIN,
               "user_id": "u", "user": "u", "nickname": "u", "text": "hi"}]
    events[6]["msg_id"] = "f3b"
    db = tmp_path / "live.duckdb"
    with Store.open(db) as store:
        assert import_paths(store, [write_jsonl(tmp_path / "l.jsonl", events)]).rejected == 0
    with TestClient(create_app(str(db), card=SCALED), base_url="http://127.0.0.1") as c:
        s = c.get(f"/api/live/{host}").json()
        page = c.get(f"/live/{host}").text
        session = c.get(f"/api/sessions/{room}").json()
        with Store.open(db, read_only=True) as store:
            assert session == session_report(store, room, SCALED).as_dict()
        assert session["reward_rate"] == "0.3" and session["new_followers"] == 3
        plain = TestClient(create_app(str(db)), base_url="http://127.0.0.1").get(
            f"/api/live/{host}").json()
    assert s["display"]["missions"] == \
        "LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new followers"
    assert s["reward_rate"] == "0.3" and s["display"]["reward_rate"] == "30 %"
    assert Decimal(s["creator_usd"]) == 1029 * CENT_PER_COIN * Decimal("0.30")
    assert {m["mission"] for m in s["missions"]} == {"duration", "new_followers", "weekly",
                                                      "no_violations"}
    assert "LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new followers" in page
    assert plain["missions"] is None and plain["display"]["missions"] == ""
    assert Decimal(plain["creator_usd"]) == 1029 * Decimal("0.005")


def test_forecast_applies_the_missions_per_session_and_per_week(
        history: History, cli: Callable[..., Any]) -> None:
    db, _ = history
    host = ("--host", "sim_creator")
    roster = cli("roster", "--db", str(db), "--preset", "us-scaled", "--as-of", "2026-11-30",
                 "--json").json()
    october = next(t for t in roster["totals"] if t["period"] == "2026-10")
    done = cli("forecast", *host, "--db", str(db), "--preset", "us-scaled", "--month",
               "2026-10", "--as-of", "2026-11-30", "--seed", "1", "--sessions", "500",
               "--json").json()
    mtd = done["month_to_date"]
    assert Decimal(mtd["creator_usd"]) == Decimal(october["creator_usd"])
    assert Decimal(mtd["weekly_creator_usd"]) == Decimal(october["weekly_creator_usd"]) > 0
    assert {Decimal(v) for v in done["projection"]["creator_usd"].values()} == {
        Decimal(october["total_creator_usd"])}  # a month that is over is itself
    flat = cli("forecast", *host, "--db", str(db), "--month", "2026-10", "--as-of",
               "2026-11-30", "--seed", "1", "--sessions", "500", "--json").json()
    assert "rest_reward_rate" not in flat
    assert Decimal(flat["month_to_date"]["creator_usd"]) == mtd["coins"] * Decimal("0.005")
    # mid-month: the rest earns the recorded sessions' coin-weighted full rate
    mid = cli("forecast", *host, "--db", str(db), "--preset", "us-scaled", "--month",
              "2026-10", "--as-of", "2026-10-14", "--seed", "1", "--sessions", "500",
              "--json").json()
    rate = Decimal(mid["rest_reward_rate"])
    assert Decimal("0.20") <= rate <= Decimal("0.53")
    m = mid["month_to_date"]
    base = Decimal(m["creator_usd"]) + Decimal(m["weekly_creator_usd"])
    for q, coins in mid["projection"]["coins"].items():
        assert Decimal(mid["projection"]["creator_usd"][q]) == base + (
            coins - m["coins"]) * CENT_PER_COIN * rate


def test_the_html_report_and_the_session_page_show_the_missions(
        tmp_path: Path, cli: Callable[..., Any]) -> None:
    """report --html and /sessions/{room}?… under us-scaled: the LIVE's rate, each mission
    with what it adds and what is missing; under the default card no missions section."""
    from fastapi.testclient import TestClient

    from liveworth.web import create_app

    db, rep = _one_live(tmp_path, cli, 18, 3)
    room = rep["room_id"]
    page = tmp_path / "r.html"
    assert cli("report", room, "--db", str(db), "--preset", "us-scaled", "--html",
               str(page)).code == 0
    html = " ".join(page.read_text(encoding="utf-8").split())
    assert rep["reward_rate"] == "0.3"  # 18 minutes: the 15-minute step; 3 followers: no +2 %
    assert "This LIVE's reward rate: <b>30 %</b>" in html
    for m in rep["missions"]:
        assert (m["missing"] or "–") in html and m["progress"] in html
    assert "3 of 5 new followers" in html
    plain = tmp_path / "plain.html"
    assert cli("report", room, "--db", str(db), "--html", str(plain)).code == 0
    assert "Scaled LIVE rewards missions" not in plain.read_text(encoding="utf-8")
    from liveworth.economy.ratecard import load_rate_card

    card = load_rate_card("us-scaled")
    with TestClient(create_app(str(db), card=card), base_url="http://127.0.0.1") as client:
        web = " ".join(client.get(f"/sessions/{room}").text.split())
    assert "Scaled LIVE rewards missions" in web and "3 of 5 new followers" in web

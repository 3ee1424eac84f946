"""Tiers and ``--as-of``: one tier system for ``roster`` and ``forecast``, and a roster as of a day
that counts only what had happened by the end of that day, in every column.

The rule (docs/ANALYTICS.md, "Tiers"): a session counts whole, on the day it starts (in the
roster's time zone); an active day has at least ``active_day_minutes`` of LIVE (default 60).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.analysis.roster import Tier, roster
from liveworth.economy.ratecard import load_rate_card
from liveworth.ingest.importer import import_paths
from liveworth.store.database import Store
from liveworth.web import create_app

from conftest import Result

Run = Callable[..., Result]
CARD = load_rate_card()
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
JUNE_1 = 1_717_200_000_000  # 2024-06-01 00:00 UTC
AS_OF = "2024-06-10"


def _session(room: str, host: str, start: int, minutes: int, coins: int,
             gift_at: int | None = None) -> list[dict[str, Any]]:
    """A session with one gift of ``coins`` (at ``gift_at`` ms after the start; default halfway)."""
    end = start + minutes * MINUTE
    events: list[dict[str, Any]] = [
        {"type": "live_start", "room_id": room, "msg_id": "start", "ts": start,
         "host_id": f"id-{host}", "host": host, "followers": 1000},
        {"type": "viewers", "room_id": room, "msg_id": "v", "ts": start + 1, "current": 30}]
    if coins:
        events.append({"type": "gift", "room_id": room, "msg_id": "g",
                       "ts": start + (minutes * MINUTE // 2 if gift_at is None else gift_at),
                       "user_id": "u1", "user": "fan", "nickname": "fan", "gift_id": 1,
                       "gift_name": "gift1", "coins": coins, "gift_type": 2,
                       "repeat_count": 1, "repeat_end": True, "group_id": "g"})
    events.append({"type": "live_end", "room_id": room, "msg_id": "end", "ts": end})
    return events


def _store(path: Path, sessions: Sequence[list[dict[str, Any]]], db: str | Path) -> None:
    path.write_text("".join(json.dumps({"v": 1, **e}) + "\n" for s in sessions for e in s),
                    encoding="utf-8")
    with Store.open(db) as store:
        assert import_paths(store, [path]).rejected == 0


#: @ann in June 2024, up to the end of the 10th: 9 h in 5 sessions on 4 days (one of 40 min),
#: 5,000 coins; on the 12th, 6 h more and 7,000 coins. @bob LIVE from 23:00 on the 10th to 01:00
#: on the 11th, his gift after midnight.
ANN = [(0, 19, 120, 1000), (2, 13, 40, 1000), (2, 19, 20, 1000), (4, 19, 40, 1000),
       (7, 18, 320, 1000), (11, 18, 360, 7000)]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("tiers")
    sessions = [_session(f"ann-{i}", "ann", JUNE_1 + d * DAY + h * HOUR, m, c)
                for i, (d, h, m, c) in enumerate(ANN)]
    sessions.append(_session("bob-0", "bob", JUNE_1 + 9 * DAY + 23 * HOUR, 120, 500,
                             gift_at=90 * MINUTE))
    out = folder / "tiers.duckdb"
    _store(folder / "tiers.jsonl", sessions, out)
    return str(out)


def _row(out: dict[str, Any], host: str, period: str = "2024-06") -> dict[str, Any]:
    return next(r for r in out["creators"] if r["host"] == host and r["period"] == period)


# ---------------------------------------------------------------------------- roster --as-of


def test_roster_as_of_counts_only_sessions_up_to_that_day(cli: Run, db: str) -> None:
    """The row and its pace agree: 9 h so far, 6 h still needed for a 15 h tier (not "15.0 h …
    needs 6.0 h")."""
    r = cli("roster", "--db", db, "--as-of", AS_OF, "--tier", "T:100000:2:15", "--json")
    assert r.code == 0, r.err
    ann = _row(r.json(), "ann")
    assert (ann["sessions"], ann["hours"], ann["coins"]) == (5, 9.0, 5000)
    assert (ann["active_days"], ann["live_days"]) == (3, 4)  # the 40-minute day is no active day
    assert ann["pace"]["hours_to_next"] == 6.0 and ann["pace"]["next_tier"] == "T"
    assert ann["hours"] + ann["pace"]["hours_to_next"] == 15
    assert ann["pace"]["diamonds_to_next"] == str(100_000 - 5000)
    later = cli("roster", "--db", db, "--as-of", "2024-06-30", "--json")
    assert (_row(later.json(), "ann")["sessions"], _row(later.json(), "ann")["hours"]) == (6, 15.0)


def test_a_session_across_midnight_counts_whole_on_its_start_day(cli: Run, db: str) -> None:
    on = cli("roster", "--db", db, "--as-of", AS_OF, "--json").json()
    bob = _row(on, "bob")
    assert (bob["sessions"], bob["hours"], bob["coins"], bob["active_days"]) == (1, 2.0, 500, 1)
    before = cli("roster", "--db", db, "--as-of", "2024-06-09", "--json").json()
    assert "bob" not in {r["host"] for r in before["creators"]}
    # in Berlin it starts at 01:00 on the 11th: not yet, as of the end of the 10th there
    berlin = cli("roster", "--db", db, "--as-of", AS_OF, "--tz", "Europe/Berlin", "--json")
    assert "bob" not in {r["host"] for r in berlin.json()["creators"]}
    total = next(t for t in on["totals"] if t["period"] == "2024-06")
    assert (total["sessions"], total["coins"]) == (6, 5500)
    assert (total["active_days"], total["live_days"]) == (4, 5)  # the creators' days, summed


def test_roster_terminal_and_web_agree_with_the_json(cli: Run, db: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    args = ["--as-of", AS_OF, "--tier", "T:100000:2:15"]
    text = cli("roster", "--db", db, *args)
    assert text.code == 0, text.err
    line = next(ln for ln in text.out.splitlines() if "@ann" in ln)
    assert " 5 " in line and " 9.0 " in line and "5,000" in line and "6.0 h" in line
    assert "an active day has ≥ 60 min of LIVE" in text.out
    with TestClient(create_app(db), base_url="http://127.0.0.1") as api:
        got = api.get(f"/api/roster?as_of={AS_OF}&tier=T:100000:2:15")
        assert got.status_code == 200, got.text
        assert got.json() == cli("roster", "--db", db, "--json", *args).json()
        page = api.get(f"/roster?as_of={AS_OF}&tier=T:100000:2:15").text
    ann = page[page.index("@ann"):]
    ann = ann[:ann.index("</tr>")]
    assert ">5<" in ann and ">9.0<" in ann and "6.0 h" in ann
    assert "at least 60 min of LIVE" in page


_ZONES = ("UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo")
_SESSIONS = st.lists(st.tuples(st.sampled_from(("ann", "bob", "cy")),
                               st.integers(0, 70),          # day after 2024-01-20
                               st.integers(0, 24 * 60 - 1),  # start minute of the day (UTC)
                               st.integers(1, 300),          # minutes
                               st.integers(0, 5000)),        # coins
                     min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions=_SESSIONS, as_of=st.integers(-3, 75), tz=st.sampled_from(_ZONES),
       period=st.sampled_from(("month", "week")),
       tiers=st.lists(st.tuples(st.integers(0, 8000), st.integers(0, 3), st.integers(0, 8)),
                      min_size=1, max_size=3))
def test_the_roster_as_of_a_day_is_the_roster_of_the_history_up_to_its_end(
        tmp_path_factory: pytest.TempPathFactory, sessions: list[tuple[str, int, int, int, int]],
        as_of: int, tz: str, period: str, tiers: list[tuple[int, int, int]]) -> None:
    """Every column of ``roster(as_of=D)`` equals the roster of the history truncated at the end
    of D (in ``tz``): the sessions that started by then, whole."""
    base = 1_705_708_800_000  # 2024-01-20 00:00 UTC
    day = dt.date(2024, 1, 20) + dt.timedelta(days=as_of)
    events = [_session(f"r{i}", host, base + d * DAY + m * MINUTE, length, coins)
              for i, (host, d, m, length, coins) in enumerate(sessions)]
    kept = [e for e, (_, d, m, _, _) in zip(events, sessions, strict=True)
            if dt.datetime.fromtimestamp((base + d * DAY + m * MINUTE) / 1000,
                                         ZoneInfo(tz)).date() <= day]
    folder = tmp_path_factory.mktemp("prop")
    ladder = [Tier(f"t{i}", d, a, float(h)) for i, (d, a, h) in enumerate(tiers)]
    out = []
    for name, chosen in (("all", events), ("kept", kept)):
        path = folder / f"{name}.duckdb"
        if chosen:
            _store(folder / f"{name}.jsonl", chosen, path)
        with Store.open(path) as store:
            out.append(roster(store, CARD, period=period, tiers=ladder, as_of=day,
                              tz=tz).as_dict())
    assert out[0] == out[1]


# ---------------------------------------------------------------------------- one tier system


TIERS = """\
active_day_minutes = 30

[[tier]]
name = "bronze"
diamonds = 1000
active_days = 2
hours = 5

[[tier]]
name = "silver"
diamonds = 5000
active_days = 4
hours = 9

[[tier]]
name = "gold"
diamonds = 5000
active_days = 5
hours = 9
"""


def _forecast(cli: Run, db: str, *tier_args: str) -> Result:
    f = cli("forecast", "--db", db, "--host", "@ann", "--month", "2024-06", "--as-of", AS_OF,
            "--seed", "1", "--sessions", "300", "--json", *tier_args)
    assert f.code == 0, f.err
    return f


def _both(cli: Run, db: str, *tier_args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    r = cli("roster", "--db", db, "--as-of", AS_OF, "--json", *tier_args)
    assert r.code == 0, r.err
    return _row(r.json(), "ann"), _forecast(cli, db, *tier_args).json()


@pytest.mark.parametrize(("file", "expect"), [
    (TIERS, {"active_days": 4, "tier": "silver", "minutes": 30}),
    ("", {"active_days": 3, "tier": None, "minutes": 60}),  # no file: the defaults, both
])
def test_the_same_tiers_file_gives_the_same_figures_in_roster_and_forecast(
        cli: Run, db: str, tmp_path: Path, file: str, expect: dict[str, Any]) -> None:
    args: list[str] = []
    if file:
        (tmp_path / "tiers.toml").write_text(file, encoding="utf-8")
        args = ["--tiers", str(tmp_path / "tiers.toml")]
    row, fc = _both(cli, db, *args)
    mtd = fc["month_to_date"]
    for key in ("sessions", "coins", "diamonds", "active_days", "live_days"):
        assert row[key] == mtd[key], key
    assert row["hours"] == pytest.approx(mtd["hours"]) == 9.0
    assert row["active_days"] == expect["active_days"]
    assert row["pace"]["tier"] == fc["tier_reached"] == expect["tier"]
    assert fc["active_day_minutes"] == expect["minutes"]
    strip = [{k: t[k] for k in ("name", "diamonds", "active_days", "hours")} for t in fc["tiers"]]
    assert strip == cli("roster", "--db", db, "--as-of", AS_OF, "--json",
                        *args).json()["tiers"]
    reached = {t["name"] for t in fc["tiers"] if t["reached"]}
    assert all(t["odds"] == 1.0 for t in fc["tiers"] if t["name"] in reached)


def test_forecast_odds_of_a_tier_need_every_threshold(cli: Run, db: str, tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text('[[tier]]\nname = "days"\nactive_days = 8\n[[tier]]\nname = "both"\n'
                 'active_days = 8\ndiamonds = 1000000000\n', encoding="utf-8")
    _, fc = _both(cli, db, "--tiers", str(p))
    odds = {t["name"]: t["odds"] for t in fc["tiers"]}
    assert odds["days"] > 0 and odds["both"] == 0.0


def test_tier_spec_and_file_combine_on_both_commands(cli: Run, db: str, tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(TIERS, encoding="utf-8")
    row, fc = _both(cli, db, "--tiers", str(p), "--tier", "x:1")
    assert [t["name"] for t in fc["tiers"]] == ["x", "bronze", "silver", "gold"]
    assert row["pace"]["tier"] == fc["tier_reached"] == "silver"


def test_the_old_thresholds_file_still_works_with_a_note(cli: Run, db: str,
                                                         tmp_path: Path) -> None:
    p = tmp_path / "old.toml"
    p.write_text('active_day_minutes = 30\n[[tier]]\nmetric = "airtime_hours"\nthreshold = 5\n'
                 '[[tier]]\nname = "big"\nmetric = "diamonds"\nthreshold = 1e6\n'
                 '[[tier]]\nmetric = "active_days"\nthreshold = 4\n', encoding="utf-8")
    f = _forecast(cli, db, "--thresholds", str(p))
    fc = f.json()
    assert f.err.count("\n") == 1 and "--thresholds is deprecated" in f.err and "--tiers" in f.err
    tiers = {t["name"]: t for t in fc["tiers"]}
    assert (tiers["airtime_hours 5"]["hours"], tiers["airtime_hours 5"]["reached"]) == (5, True)
    assert (tiers["active_days 4"]["active_days"], tiers["active_days 4"]["reached"]) == (4, True)
    assert (tiers["big"]["diamonds"], tiers["big"]["reached"]) == (1_000_000, False)
    assert fc["active_day_minutes"] == 30
    new = tmp_path / "new.toml"
    new.write_text(TIERS, encoding="utf-8")
    f = _forecast(cli, db, "--thresholds", str(new))  # the new format too
    assert f.json()["tier_reached"] == "silver" and "deprecated" in f.err
    plain = cli("roster", "--db", db, "--as-of", AS_OF, "--tiers", str(p))
    assert plain.code == 2 and plain.err.count("\n") == 1
    assert f"{p}: tier 1: metric: unknown key" in plain.err and "--thresholds" in plain.err


def _bad_files() -> Iterator[tuple[str, str]]:
    yield '[[tier]]\nname = "gold"\ndiamonds = -5\n', ": tier 1 (gold): diamonds: "
    yield '[[tier]]\nname = "gold"\ndiamonds = 5\ncolour = "red"\n', ": tier 1 (gold): colour: "
    yield '[[tier]]\nname = "a"\ndiamonds = 5\n[[tier]]\nname = "b"\nhours = "many"\n', \
        ": tier 2 (b): hours: "
    yield '[[tier]]\nname = "a"\ndiamonds = 5\n[[tier]]\nname = "a"\nhours = 3\n', \
        ": tier 2 (a): name: "
    yield '[[tier]]\ndiamonds = 5\n', ": tier 1: name: "
    yield '[[tier]]\nname = "a"\nactive_days = 2.5\n', ": tier 1 (a): active_days: "
    yield '[[tier]]\nname = "a"\n', ": tier 1 (a): diamonds: "
    yield "active_day_minutes = 2000\n", ": active_day_minutes: "
    yield "tiers = 3\n", ": tiers: unknown setting"
    yield "not toml [", ": not a readable TOML file"


@pytest.mark.parametrize("command", [
    ("roster", "--as-of", AS_OF, "--tiers"),
    ("forecast", "--host", "@ann", "--as-of", AS_OF, "--tiers"),
    ("forecast", "--host", "@ann", "--as-of", AS_OF, "--thresholds"),
])
@pytest.mark.parametrize(("text", "where"), list(_bad_files()))
def test_a_bad_tiers_file_is_one_line_naming_file_tier_and_key(
        cli: Run, db: str, tmp_path: Path, command: tuple[str, ...], text: str,
        where: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    r = cli(*command, str(p), "--db", db)
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and f"{p}{where}" in r.err, r.err


def test_tiers_and_thresholds_together_are_refused(cli: Run, db: str, tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(TIERS, encoding="utf-8")
    r = cli("forecast", "--db", db, "--host", "@ann", "--tiers", str(p), "--thresholds", str(p))
    assert r.code == 2 and "not allowed" in r.err

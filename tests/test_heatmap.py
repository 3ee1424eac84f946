"""The when-to-go-live heatmap (issue #17): weekday × local hour cells of live time and coins.

- A hand-made two-session history in Europe/Berlin, one across midnight and one across the night
  clocks go forward, with every cell written out by hand (and the same history in UTC).
- The night clocks go back (the repeated hour gets both passes) and a zone of +05:45, by hand.
- A property test: for random sessions in zones with odd offsets and DST, the cut pieces add up
  to the session exactly and every minute lands in the cell a minute-by-minute count gives.
- A simulated history (``liveworth simulate --sessions``): the cells add up to the analysis's
  coins and hours exactly, and equal a computation of their own (UTC hour boundaries).
- The JSON twin through TestClient equals ``analyze --json``; the page shows the table; in
  Chromium every cell's text has a contrast of at least 4.5:1 and an accessible name.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.analysis.heatmap import HOURS, HourCell, live_pieces
from liveworth.render.analysis_sections import HEAT_CSS, HEAT_STEPS, short
from liveworth.store.database import Store
from websupport import TestClient, gift, write_jsonl

from conftest import REPO, Result

BERLIN = "Europe/Berlin"
HOST = "night_owl"
MIN = 60_000
SAT, SUN = 5, 6


def utc(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


def session(room: str, start: str, end: str, gifts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"v": 1, "type": "live_start", "room_id": room, "msg_id": "start", "ts": utc(start),
         "host_id": "42", "host": HOST},
        {"v": 1, "type": "live_end", "room_id": room, "msg_id": "end", "ts": utc(end)}]
    out += [gift(room, f"g{i}", utc(ts), f"u{i}", f"fan{i}", coins)
            for i, (ts, coins) in enumerate(gifts)]
    return out


#: Saturday 9 March 2024 22:30 to Sunday 01:15 in Berlin (CET, UTC+1), and Sunday 31 March
#: 01:30 CET to 03:30 CEST: one hour of real time across the skipped 02:00.
HISTORY = [
    *session("night-sat", "2024-03-09T21:30:00", "2024-03-10T00:15:00",
             [("2024-03-09T21:45:00", 100), ("2024-03-09T22:59:59.999", 7),
              ("2024-03-09T23:10:00", 500)]),
    *session("dst-sun", "2024-03-31T00:30:00", "2024-03-31T01:30:00",
             [("2024-03-31T00:59:59.999", 3), ("2024-03-31T01:10:00", 50)]),
]
#: (weekday, hour) → (minutes live, coins), by hand; every other cell is (0, 0).
BERLIN_CELLS = {(SAT, 22): (30, 100), (SAT, 23): (60, 7), (SUN, 0): (60, 500),
                (SUN, 1): (15 + 30, 3), (SUN, 3): (30, 50)}
UTC_CELLS = {(SAT, 21): (30, 100), (SAT, 22): (60, 7), (SAT, 23): (60, 500),
             (SUN, 0): (15 + 30, 3), (SUN, 1): (30, 50)}


@pytest.fixture
def db(tmp_path: Path, cli: Callable[..., Result]) -> str:
    path = str(tmp_path / "heat.duckdb")
    done = cli("import", "--db", path, str(write_jsonl(tmp_path / "h.jsonl", HISTORY)))
    assert done.code == 0, done.err
    return path


def grid(cells: dict[tuple[int, int], tuple[int, int]]) -> list[list[dict[str, Any]]]:
    """The JSON grid these (minutes, coins) cells make."""
    out = []
    for d in range(7):
        row = []
        for h in range(HOURS):
            minutes, coins = cells.get((d, h), (0, 0))
            row.append({"hours_live": minutes / 60, "coins": coins,
                        "coins_per_hour": round(coins * 60 / minutes, 3) if minutes else None})
        out.append(row)
    return out


@pytest.mark.parametrize(("tz", "cells"), [(BERLIN, BERLIN_CELLS), ("UTC", UTC_CELLS)])
def test_hand_made_history_cell_by_cell(db: str, cli: Callable[..., Result], tz: str,
                                        cells: dict[tuple[int, int], tuple[int, int]]) -> None:
    got = cli("analyze", "--db", db, "--tz", tz, "--json")
    assert got.code == 0, got.err
    a = got.json()
    assert a["heatmap"] == grid(cells)
    assert a["heatmap_axes"]["rows"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert a["heatmap_axes"]["tz"] == tz
    assert a["totals"]["coins"] == 660 and a["totals"]["hours"] == 3.75


def test_the_clock_going_back_and_a_quarter_hour_zone() -> None:
    # 27 Oct 2024, Berlin: 03:00 CEST becomes 02:00 CET at 01:00 UTC. 02:30 CEST to 02:45 CET.
    back = live_pieces(utc("2024-10-27T00:30:00"), utc("2024-10-27T01:45:00"), ZoneInfo(BERLIN))
    assert [(hi - lo) // MIN for lo, hi, _ in back] == [30, 45]
    assert {cell for _, _, cell in back} == {SUN * 24 + 2}
    # Asia/Kathmandu is UTC+05:45: 10:00-11:30 UTC is 15:45-17:15 local.
    ktm = live_pieces(utc("2024-05-06T10:00:00"), utc("2024-05-06T11:30:00"),
                      ZoneInfo("Asia/Kathmandu"))
    assert [((hi - lo) // MIN, cell) for lo, hi, cell in ktm] == [(15, 15), (60, 16), (15, 17)]


def test_an_offset_change_inside_a_local_hour() -> None:
    """Caracas, 1 May 2016: 02:30 at -04:30 became 03:00 at -04:00 (07:00 UTC), half-way
    through the local hour 02: 02:10-02:30 is hour 2, then 03:00-03:30 hour 3."""
    got = live_pieces(utc("2016-05-01T06:40:00"), utc("2016-05-01T07:30:00"),
                      ZoneInfo("America/Caracas"))
    assert [((hi - lo) // MIN, cell % 24) for lo, hi, cell in got] == [(20, 2), (30, 3)]


ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
         "America/St_Johns", "Pacific/Chatham", "America/Caracas", "Pacific/Apia", "UTC")


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES),
       start_min=st.integers(utc("2007-01-01T00:00:00") // MIN, utc("2026-01-01T00:00:00") // MIN),
       minutes=st.integers(0, 36 * 60))
def test_pieces_match_a_minute_by_minute_count(zone: str, start_min: int, minutes: int) -> None:
    """Every real zone changes offset on a whole minute, so a minute never straddles two cells:
    counting minute by minute is an independent, exact reference."""
    tz = ZoneInfo(zone)
    start, end = start_min * MIN, (start_min + minutes) * MIN
    pieces = live_pieces(start, end, tz)
    assert sum(hi - lo for lo, hi, _ in pieces) == end - start
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    got: dict[int, int] = {}
    for lo, hi, cell in pieces:
        got[cell] = got.get(cell, 0) + hi - lo
    want: dict[int, int] = {}
    for m in range(start_min, start_min + minutes):
        local = dt.datetime.fromtimestamp(m * 60, tz)
        key = local.weekday() * 24 + local.hour
        want[key] = want.get(key, 0) + MIN
    assert got == want


@settings(max_examples=40, deadline=None)
@given(zone=st.sampled_from(ZONES), start=st.integers(utc("2023-01-01T00:00:00"),
                                                      utc("2026-01-01T00:00:00")),
       length=st.integers(0, 30 * 3_600_000))
def test_pieces_cover_any_span_to_the_millisecond(zone: str, start: int, length: int) -> None:
    tz = ZoneInfo(zone)
    pieces = live_pieces(start, start + length, tz)
    assert sum(hi - lo for lo, hi, _ in pieces) == length
    for lo, hi, cell in pieces:  # the first and last millisecond of a piece share its cell
        for t in (lo, hi - 1):
            local = dt.datetime.fromtimestamp(t / 1000, tz)
            assert local.weekday() * 24 + local.hour == cell


# ---------------------------------------------------------------------------- simulated


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> str:
    from liveworth.cli import main

    tmp = tmp_path_factory.mktemp("simheat")
    jsonl, path = tmp / "history.jsonl", str(tmp / "sim.duckdb")
    assert main(["simulate", "--followers", "3000", "--sessions", "14", "--per-week", "5",
                 "--minutes", "150", "--seed", "17", "--out", str(jsonl)]) == 0
    assert main(["import", "--db", path, str(jsonl)]) == 0
    return path


def reference(db: str, tz: str, sessions: list[dict[str, Any]]) -> dict[tuple[int, int],
                                                                        list[int]]:
    """(weekday, hour) → [live ms, coins], cut at UTC hour boundaries (exact for a zone whose
    offsets and changes are whole hours) and with each credit placed by its own local time."""
    zone = ZoneInfo(tz)
    out: dict[tuple[int, int], list[int]] = {}

    def cell(ms: int) -> list[int]:
        local = dt.datetime.fromtimestamp(ms / 1000, zone)
        return out.setdefault((local.weekday(), local.hour), [0, 0])

    for s in sessions:
        t = s["start_ts"]
        while t < s["end_ts"]:
            cut = min((t // 3_600_000 + 1) * 3_600_000, s["end_ts"])
            cell(t)[0] += cut - t
            t = cut
    rooms = [s["room_id"] for s in sessions]
    with Store.open(db, read_only=True) as store:
        for ts, coins in store.query(
                "SELECT ts, coins FROM credits WHERE NOT guest AND room_id IN "
                f"({', '.join('?' * len(rooms))})", rooms):
            cell(int(ts))[1] += int(coins)
    return out


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo"])
def test_simulated_history_adds_up_and_matches(simulated: str, cli: Callable[..., Result],
                                               tz: str) -> None:
    got = cli("analyze", "--db", simulated, "--tz", tz, "--json")
    assert got.code == 0, got.err
    a = got.json()
    cells = [c for row in a["heatmap"] for c in row]
    assert len(a["heatmap"]) == 7 and all(len(row) == 24 for row in a["heatmap"])
    assert sum(c["coins"] for c in cells) == a["totals"]["coins"] > 0
    live_ms = sum(s["end_ts"] - s["start_ts"] for s in a["sessions"])
    assert sum(round(c["hours_live"] * 3_600_000) for c in cells) == live_ms
    assert round(sum(c["hours_live"] for c in cells), 3) == a["totals"]["hours"]
    want = reference(simulated, tz, a["sessions"])
    for d, row in enumerate(a["heatmap"]):
        for h, c in enumerate(row):
            ms, coins = want.get((d, h), [0, 0])
            assert (round(c["hours_live"] * 3_600_000), c["coins"]) == (ms, coins), (d, h)
            assert (c["coins_per_hour"] is None) == (ms == 0)


def test_library_sums_are_exact(simulated: str) -> None:
    from liveworth.analysis.analytics import analyze
    from liveworth.economy.ratecard import load_rate_card

    with Store.open(simulated, read_only=True) as store:
        a = analyze(store, load_rate_card(), tz="Australia/Lord_Howe")
    assert a.heatmap is not None
    assert a.heatmap.coins == a.coins
    assert a.heatmap.live_ms == sum(s.end_ts - s.start_ts for s in a.sessions)


def test_a_bad_time_zone_is_one_line_and_exit_2(db: str, cli: Callable[..., Result]) -> None:
    got = cli("analyze", "--db", db, "--tz", "Mars/Olympus_Mons")
    assert got.code == 2
    assert got.err.strip().count("\n") == 0 and "Mars/Olympus_Mons" in got.err
    assert "Traceback" not in got.err


# ---------------------------------------------------------------------------- pages


def test_json_twin_and_page(db: str, cli: Callable[..., Result]) -> None:
    from liveworth.web import create_app

    want = cli("analyze", "--db", db, "--tz", BERLIN, "--json").json()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/creators/{HOST}/analysis", params={"tz": BERLIN})
        assert api.status_code == 200
        assert api.json()["heatmap"] == want["heatmap"] == grid(BERLIN_CELLS)
        page = client.get(f"/creators/{HOST}/analysis", params={"tz": BERLIN})
    assert page.status_code == 200
    html = page.text
    assert "title='Sun 03:00–03:59: 0.50 h live, 50 coins, 100 coins per hour'" in html
    assert "title='Sun 02:00–02:59: never live'" in html
    assert "Monday first, and hour of day in Europe/Berlin" in html
    assert html.count("<th scope='row'>") == 7


def test_offline_page_has_the_grid(db: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    assert cli("analyze", "--db", db, "--tz", BERLIN, "--html", str(out)).code == 0
    html = out.read_text(encoding="utf-8")
    # Sun 00:00 Berlin, 500 coins in one hour: the largest rate, the darkest step.
    assert "<td class='q5' title='Sun 00:00–00:59: 1.00 h live, 500 coins, 500 coins per hour'" \
        in html
    assert HEAT_CSS in html
    assert "Best hours with at least one hour live: Sun 00:00 (500 coins/h over 1.0 h); " \
        "Sat 23:00 (7 coins/h over 1.0 h)." in html


def test_css_of_the_web_page_is_the_same() -> None:
    css = (REPO / "src" / "liveworth" / "web" / "static" / "liveworth.css").read_text()
    assert HEAT_CSS in css


def test_short_numbers_and_cells() -> None:
    assert [short(x) for x in (0, 7, 950, 999.4, 999.6, 1234, 9949, 9951, 35_400, 4.1e6)] == \
        ["0", "7", "950", "999", "1.0k", "1.2k", "9.9k", "10k", "35k", "4.1M"]
    assert HourCell(0, 5).coins_per_hour is None
    assert HourCell(1_800_000, 5).coins_per_hour == 10.0


def _luminance(rgb: tuple[float, ...]) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_colour_step_reads_at_aa_contrast() -> None:
    def rgb(text: str) -> tuple[float, ...]:
        return tuple(int(text[i:i + 2], 16) / 255 for i in (1, 3, 5))

    assert [round(contrast(rgb(bg), rgb(fg)), 1) for bg, fg in HEAT_STEPS] == \
        [7.0, 14.5, 11.3, 7.5, 5.6, 10.9]


def test_page_in_chromium_is_readable(db: str) -> None:
    """The web page in a real browser: 168 cells with an accessible name each, every cell's
    computed text and background at 4.5:1 or more, no console error (the CSP forbids inline
    styles: the colours must come from the stylesheet)."""
    browser_tests = pytest.importorskip("test_web_browser")
    from liveworth.web import create_app

    sync_api = browser_tests.sync_api
    with browser_tests.Server(create_app(db)) as server, sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(browser_tests.CHROMIUM),
                              args=browser_tests.CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server.url}/creators/{HOST}/analysis?tz={BERLIN}")
        cells = page.evaluate("""() => [...document.querySelectorAll('table.heat td')].map(td => {
            const s = getComputedStyle(td);
            return {name: td.getAttribute('aria-label'), fg: s.color, bg: s.backgroundColor,
                    text: td.textContent}; })""")
        legend = page.locator("ul.heat-legend li").all_text_contents()
        page.screenshot(path=str(_shot_dir() / "analysis-heatmap.png"), full_page=True)
        b.close()
    assert not errors, errors
    assert len(cells) == 7 * 24
    assert all(c["name"] for c in cells)

    def rgb(css: str) -> tuple[float, ...]:
        return tuple(int(x) / 255 for x in css[css.index("(") + 1:css.index(")")].split(",")[:3])

    worst = min(contrast(rgb(c["fg"]), rgb(c["bg"])) for c in cells)
    assert worst >= 4.5
    assert {c["bg"] for c in cells} >= {"rgb(255, 255, 255)", "rgb(122, 15, 44)"}
    assert legend == ["never live", "0–100", "100–200", "200–300", "300–400", "400–500"]
    dark = next(c for c in cells if c["name"].startswith("Sun 00:00"))
    assert (dark["text"], dark["bg"], dark["fg"]) == ("500", "rgb(122, 15, 44)",
                                                     "rgb(255, 255, 255)")


def _shot_dir() -> Path:
    out = REPO / "out" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_json_is_plain(db: str, cli: Callable[..., Result]) -> None:
    """Every cell is exactly the three keys, and the axes say Monday first."""
    a = json.loads(cli("analyze", "--db", db, "--json").out)
    assert {tuple(sorted(c)) for row in a["heatmap"] for c in row} == \
        {("coins", "coins_per_hour", "hours_live")}
    assert a["heatmap_axes"]["first_row"] == "Monday"


def test_real_recordings(cli: Callable[..., Result], tmp_path: Path) -> None:
    """The real dumps' longest recording (crecee.saraa, 2023-12-05): its cells equal the
    independent count and add up to the analysis's coins and live time."""
    from conftest import DUMPS

    db = str(tmp_path / "real.duckdb")
    assert cli("import", "--db", db, *map(str, sorted(DUMPS.glob("*.json.gz")))).code == 0
    a = cli("analyze", "--db", db, "--host", "crecee.saraa", "--tz", "America/Sao_Paulo",
            "--json").json()
    cells = [c for row in a["heatmap"] for c in row]
    assert sum(c["coins"] for c in cells) == a["totals"]["coins"] > 0
    want = reference(db, "America/Sao_Paulo", a["sessions"])
    got = {(d, h): [round(c["hours_live"] * 3_600_000), c["coins"]]
           for d, row in enumerate(a["heatmap"]) for h, c in enumerate(row)
           if c["hours_live"] or c["coins"]}
    assert got == want


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/Caracas",
                        "Australia/Lord_Howe", "Etc/GMT+12", "America/Sao_Paulo"]),
       st.integers(0, 2_000_000_000_000), st.integers(22 * 86_400_000, 60 * 86_400_000))
def test_a_long_session_counted_by_offset_stretches_equals_the_hour_by_hour_cut(
        name: str, start: int, length: int) -> None:
    """A session longer than three weeks is counted arithmetically per stretch of constant
    offset (no hour-by-hour walk): exactly the cells of the walk, DST and odd offsets included."""
    from liveworth.analysis import heatmap as hm
    from liveworth.analysis.sessionstats import zone

    tz = zone(name)
    want = [0] * 168
    for lo, hi, cell in hm.live_pieces(start, start + length, tz):
        want[cell] += hi - lo
    got = [0] * 168
    hm._add_long(got, start, start + length, tz)
    assert got == want


def test_a_session_over_every_event_time_is_counted_whole() -> None:
    """From 1970 to the last accepted instant (the fault suite's extreme session): counted in
    seconds, not an hour-by-hour walk of 70 million hours."""
    from liveworth.analysis import heatmap as hm
    from liveworth.analysis.sessionstats import zone
    from liveworth.decode.formats import MAX_TS

    got = [0] * 168
    hm._add_long(got, 0, MAX_TS, zone("Europe/Berlin"))
    assert sum(got) == MAX_TS
    assert max(got) - min(got) < 2 * 3_600_000 * 400  # every weekday-hour about equal

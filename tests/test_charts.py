"""The charts (issue 18, item 2): Vega-Lite specs rendered to SVG by vl-convert, one definition for
the web pages and the static reports — honest axes on the real dumps, the viewers chart's top equal
to the report's peak, no chart (a short text) for an empty or all-zero series, a native tooltip
(``<title>``) on every mark, hostile text escaped, no script anywhere."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liveworth.analysis.report import SessionReport, session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.render import charts, pagecharts
from liveworth.render.report_html import CSP, render_html
from liveworth.store.database import Store
from websupport import HOSTILE, REAL_ROOM, STEADY_HOST, TestClient, build_db

from conftest import run_cli

SVG = "{http://www.w3.org/2000/svg}"
TIERS = ["1–9", "10–99", "100–999", "1,000–9,999", "10,000+"]
CARD = load_rate_card()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("charts") / "charts.duckdb")


@pytest.fixture(scope="module")
def reps(db: str) -> dict[str, SessionReport]:
    with Store.open(db, read_only=True) as store:
        rooms = [r[0] for r in store.query("SELECT DISTINCT room_id FROM events")]
        return {room: session_report(store, room, CARD) for room in rooms}


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    from liveworth.web import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        yield c


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


def marks(svg_text: str) -> list[ET.Element]:
    """Every element of the SVG (well-formed XML) with ``role="graphics-symbol"``."""
    root = ET.fromstring(svg_text)
    return [e for e in root.iter() if e.get("role") == "graphics-symbol"]


def titles(svg_text: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg_text).iter(f"{SVG}title")]


def test_every_mark_has_its_label_as_a_title(reps: dict[str, SessionReport]) -> None:
    rep = reps[REAL_ROOM]
    for html in pagecharts.session_figures(rep).values():
        (one,) = svgs(html)
        root = ET.fromstring(one)
        assert root.get("role") == "img" and root.get("aria-label")
        found = marks(one)
        assert found
        for m in found:
            title = m.find(f"{SVG}title")
            assert title is not None and title.text == m.get("aria-label")


def test_session_charts_on_the_real_dumps(reps: dict[str, SessionReport]) -> None:
    rep = reps[REAL_ROOM]
    coins = pagecharts.coins_spec(rep)
    assert coins is not None and coins["encoding"]["x"]["type"] == "temporal"
    assert coins["encoding"]["x"]["scale"] == {"type": "utc"}
    assert coins["encoding"]["x"]["title"] == "time (UTC), session of 2023-12-05"
    first = coins["data"]["values"][0]
    start = dt.datetime.fromtimestamp(rep.start_ts / 1000, dt.UTC)
    assert first["label"] == f"{start:%H:%M} UTC: {rep.coins_per_minute[0][1]:,} coins"
    assert first["t2"] - first["t"] == 60_000  # a bar is a minute wide
    tiers = pagecharts.tiers_spec(rep)
    assert tiers is not None and tiers["encoding"]["x"]["sort"] == TIERS
    assert [v["tier"] for v in tiers["data"]["values"]] == TIERS
    (tier_svg,) = svgs(pagecharts.tiers_figure(rep))
    assert all(f">{t}</text>" in tier_svg for t in TIERS)  # the axis names the tiers
    assert "coins" in tier_svg and "price of one gift (coins)" in tier_svg


def test_the_viewers_chart_tops_at_the_reports_peak(reps: dict[str, SessionReport]) -> None:
    checked = 0
    for rep in reps.values():
        spec = pagecharts.viewers_spec(rep)
        if rep.peak_viewers is None:
            assert spec is None
            continue
        assert spec is not None
        line = spec["layer"][0]["data"]["values"]
        assert max(v["viewers"] for v in line) == rep.peak_viewers
        checked += 1
    assert checked >= 20
    html = pagecharts.viewers_figure(reps[REAL_ROOM])
    assert "peak 1,736 at" in html and reps[REAL_ROOM].peak_viewers == 1736


def test_empty_and_all_zero_series_give_text_not_a_chart(reps: dict[str, SessionReport]) -> None:
    silent = next(r for r in reps.values() if not r.coins_per_minute and r.peak_viewers is None)
    for html in pagecharts.session_figures(silent).values():
        assert "<svg" not in html and "class='nochart'" in html
    assert "No gifts to the host" in pagecharts.coins_figure(silent)
    rep = reps[REAL_ROOM]
    zero = SessionReport(**{**{f: getattr(rep, f) for f in rep.__dataclass_fields__},
                            "coins_per_minute": ((0, 0), (1, 0)),
                            "tiers": tuple((t, 0, 0) for t, _, _ in rep.tiers)})
    assert pagecharts.coins_spec(zero) is None and pagecharts.tiers_spec(zero) is None
    assert "0 coins" in pagecharts.coins_figure(zero) and "max" not in pagecharts.coins_figure(zero)
    assert charts.trend_chart([], "t") == "<p class='nochart'>No sessions yet for t.</p>"


def test_small_money_is_not_rounded_to_a_zero_maximum() -> None:
    """The $0.38 session: the axis ticks are in cents, the tooltip exact to the cent."""
    html = charts.trend_chart([(1_700_000_000_000, Decimal("0.385"), None),
                               (1_700_086_400_000, Decimal("0.12"), Decimal("0.40"))], "small")
    (one,) = svgs(html)
    assert "$0.1" in one and "max" not in one
    assert "2023-11-14: creator $0.38 this session" in titles(one)  # half-even, as the cards


def test_trend_chart_dates_per_hour_and_time_zone() -> None:
    jan = int(dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC).timestamp() * 1000)
    points: list[tuple[int, Decimal | float, Decimal | float | None]] = [
        (jan, Decimal("1.50"), Decimal("3")), (jan + 86_400_000, 2.0, None)]
    spec = charts.trend_spec(points, "trend", "Europe/Berlin")
    assert spec is not None
    values = spec["data"]["values"]
    assert values[0]["t"] == jan + 3_600_000  # Berlin's wall clock, drawn on a UTC scale
    assert values[0]["usd_label"] == "2026-02-01: creator $1.50 this session"
    assert values[1]["per_hour"] is None  # left out of the line, not drawn at 0
    html = charts.trend_chart(points, "trend")
    assert "<td>2026-01-31</td><td>$1.50</td><td>$3.00</td>" in html
    assert "<td>2026-02-01</td><td>$2.00</td><td>–</td>" in html
    (one,) = svgs(html)
    assert [t for t in titles(one) if t.startswith("2026")] == [
        "2026-01-31: creator $1.50 this session", "2026-02-01: creator $2.00 this session",
        "2026-01-31: creator $3.00 per hour live"]  # a tooltip per bar and point, none on a line


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_text_stays_text(bad: str) -> None:
    spec: dict[str, Any] = {
        "title": bad, "data": {"values": [{"x": 1, "y": 2, "label": bad}]}, "mark": "bar",
        "encoding": {"x": {"field": "x", "type": "ordinal", "title": bad},
                     "y": {"field": "y", "type": "quantitative"},
                     "description": {"field": "label"}}}
    html = charts.figure(spec, bad, [(bad, 1)], (bad, "n"))
    for raw in ("<script", "<img", "<svg onload"):
        assert raw not in html
    (one,) = svgs(html)
    for e in ET.fromstring(one).iter():  # no attribute a browser would run
        assert not [k for k in e.attrib if k.startswith("on")] and e.tag != f"{SVG}script"
    assert bad in titles(one)  # the tooltip: the text as it was, escaped once in the markup
    assert ET.fromstring(one).get("aria-label") == bad
    trend = charts.trend_chart([(1_700_000_000_000, 1, 1)], bad)
    assert "<script" not in trend and "<img" not in trend and "<svg onload" not in trend


def test_ids_are_unique_and_specs_cached(reps: dict[str, SessionReport]) -> None:
    def clipped(i: int) -> str:  # a clipped mark: vl-convert numbers its clip path from 1
        return charts.svg({"data": {"values": [{"x": i, "y": 2}]},
                           "mark": {"type": "line", "clip": True},
                           "encoding": {"x": {"field": "x", "type": "quantitative"},
                                        "y": {"field": "y", "type": "quantitative"}}})

    page = "".join(pagecharts.session_figures(reps[REAL_ROOM]).values()) + clipped(1) + clipped(2)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert ids and len(ids) == len(set(ids))
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids
    before = charts._convert.cache_info().hits
    assert pagecharts.coins_figure(reps[REAL_ROOM]) == pagecharts.coins_figure(reps[REAL_ROOM])
    assert charts._convert.cache_info().hits >= before + 2


def test_histogram_on_a_log_axis_in_creator_usd() -> None:
    import numpy as np

    from liveworth.web.estimator import Bin, histogram

    coins = np.array([0, 0, 5, 50, 60, 500, 2_000, 20_000], dtype=np.int64)
    bins = [b.as_dict(CARD) for b in histogram(coins)]
    assert all(isinstance(b, Bin) for b in histogram(coins))
    spec = pagecharts.histogram_spec(bins, [("p50", 55, "0.275")])
    assert spec is not None
    x = spec["layer"][0]["encoding"]["x"]
    assert x["scale"]["type"] == "symlog" and x["axis"]["values"][:3] == [0, 1, 10]
    html = pagecharts.histogram_figure(bins, [("p10", 0, "0"), ("p50", 55, "0.275"),
                                              ("p90", 2_000, "10")])
    (one,) = svgs(html)
    assert "p50 $0.28" in one and "p90 $10.00" in one and ">$0.05</text>" in one
    assert "creator USD per session (log scale)" in one
    assert pagecharts.histogram_figure([], []) == "<p class='nochart'>No distribution to draw.</p>"


def test_usd_ticks() -> None:
    assert pagecharts.usd_tick(Decimal("0.005")) == "$0.005"
    assert pagecharts.usd_tick(Decimal("0.05")) == "$0.05"
    assert pagecharts.usd_tick(Decimal(0)) == "$0.00"


def test_report_html_has_charts_and_no_script(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run_cli("report", REAL_ROOM, "--db", db, "--html", str(out))
    assert res.code == 0, res.err
    html = out.read_text(encoding="utf-8")
    assert f'content="{CSP}"' in html and "script-src" not in CSP and "default-src 'none'" in CSP
    assert "<script" not in html.lower() and "javascript:" not in html
    assert html.count("<figure class='chart'>") == 3 and charts.CSS in html
    assert "<tr><td>1–9</td>" in html and "<tr><td>10,000+</td>" in html  # the chart's names
    assert not re.search(r"""(?:src|href)=["']https?:""", html)  # nothing to fetch
    for one in svgs(html):
        ET.fromstring(one)  # well-formed
    assert html == render_html(session_report_of(db, REAL_ROOM))


def session_report_of(db: str, room: str) -> SessionReport:
    with Store.open(db, read_only=True) as store:
        return session_report(store, room, CARD)


def test_web_pages_render_the_same_charts(api: TestClient, reps: dict[str, SessionReport]) -> None:
    page = api.get(f"/sessions/{REAL_ROOM}")
    assert page.status_code == 200
    text = page.text
    assert text.count("<figure class='chart'>") == 3 and "peak 1,736 at" in text
    assert "<tr><td>1,000–9,999</td>" in text
    assert ' style="' not in text.split("<main", 1)[-1]  # the CSP forbids inline style attributes
    for html in pagecharts.session_figures(reps[REAL_ROOM]).values():
        assert html in text  # one definition: the report's very figure
    analysis = api.get(f"/creators/{STEADY_HOST}/analysis").text
    assert analysis.count("<figure class='chart'>") == 3 and 'class="marks ci"' in analysis
    assert "week starting (UTC)" in analysis
    css = api.get("/static/liveworth.css").text
    assert charts.CSS in css


def test_the_drivers_interval_chart() -> None:
    from liveworth.analysis.drivers import Driver

    d = Driver("avg_viewers", "viewers <b>", 0.5, -0.2, 1.1, "elasticity", 12, (), "")
    html = pagecharts.ci_svg(d)
    root = ET.fromstring(html)  # well-formed: one class attribute
    assert root.get("class") == "marks ci" and root.get("role") == "img"
    assert all(e.get("aria-label") for e in root.iter() if e.get("role") == "graphics-symbol")
    assert "viewers &lt;b&gt;: +0.50 (95% interval -0.20 to +1.10), elasticity" in html
    assert pagecharts.ci_svg(Driver("x", "x", None, None, None, "elasticity", 3, (), "few")) == ""


def test_report_charts_in_chromium(db: str, tmp_path: Path) -> None:
    """The static report in a real browser under its own CSP: no console error (a blocked
    script or style is one), the charts fit a phone's width, each bar has its tooltip."""
    from test_web_browser import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    out = tmp_path / "r.html"
    assert run_cli("report", REAL_ROOM, "--db", db, "--html", str(out)).code == 0
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 800})
                errors: list[str] = []

                def console(m: Any, errors: list[str] = errors) -> None:
                    if m.type == "error":
                        errors.append(m.text)

                page.on("console", console)
                page.goto(out.as_uri())
                widths = page.evaluate("[...document.querySelectorAll('figure.chart svg')]"
                                       ".map(s => s.getBoundingClientRect().right)")
                assert len(widths) == 3 and max(widths) <= width, widths
                tips = page.evaluate("[...document.querySelectorAll('figure.chart "
                                     "[role=graphics-symbol] > title')].map(t => t.textContent)")
                assert "16:05 UTC: 37 coins" in tips
                assert errors == []
                page.close()
        finally:
            browser.close()

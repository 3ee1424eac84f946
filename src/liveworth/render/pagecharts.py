"""The charts of the session report, the analysis and the estimator (:mod:`.charts` renders).

Each ``*_spec`` builds a Vega-Lite spec from the report or analysis (None when there is nothing
to draw); each ``*_figure`` gives the HTML ``<figure>`` with its data table, or the short text
that stands in for it. The same functions serve ``report --html`` / ``analyze --html`` and the
web pages, so both show the same chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from liveworth.economy.money import usd
from liveworth.render.charts import (
    HEIGHT,
    PINK,
    TEAL,
    WIDTH,
    Spec,
    day_label,
    figure,
    money_axis,
    svg,
    time_axis,
    trend_chart,
    wall_ms,
)

if TYPE_CHECKING:  # the analysis's modules load numpy: only the analysis page needs them
    from liveworth.analysis.analytics import Analysis
    from liveworth.analysis.drivers import Driver
    from liveworth.analysis.report import SessionReport

MINUTE, WEEK = 60_000, 7 * 86_400_000


def report_tz(rep: SessionReport) -> str:
    """The report's time zone: its missions week's when it has one, else UTC."""
    return rep.rewards.tz if rep.rewards is not None else "UTC"


def _clock(wall: int) -> str:
    """``14:03`` of a wall-clock ms (:func:`.charts.wall_ms`)."""
    return f"{wall // 3_600_000 % 24:02d}:{wall // MINUTE % 60:02d}"


def _minute_axis(rep: SessionReport) -> Spec:
    tz = report_tz(rep)
    return time_axis(f"time ({tz}), session of {day_label(rep.start_ts, tz)}", clock=True)


def _all_zero(values: Sequence[float]) -> bool:
    return all(v == 0 for v in values)


def coins_spec(rep: SessionReport) -> Spec | None:
    """Coins to the host per minute of the session: one bar per minute, on a clock axis."""
    tz = report_tz(rep)
    if not rep.coins_per_minute or _all_zero([c for _, c in rep.coins_per_minute]):
        return None
    values = []
    for m, c in rep.coins_per_minute:
        t = wall_ms(rep.start_ts + m * MINUTE, tz)
        values.append({"t": t, "t2": t + MINUTE, "coins": c,
                       "label": f"{_clock(t)} {tz}: {c:,} coins"})
    return {"title": "coins per minute", "width": WIDTH, "height": HEIGHT,
            "data": {"values": values}, "mark": {"type": "bar", "color": PINK},
            "encoding": {"x": _minute_axis(rep), "x2": {"field": "t2"},
                         "y": {"field": "coins", "type": "quantitative", "title": "coins",
                               "axis": {"format": ",d", "tickMinStep": 1}}, "y2": {"datum": 0},
                         "description": {"field": "label"}}}


def coins_figure(rep: SessionReport) -> str:
    tz = report_tz(rep)
    rows = [(_clock(wall_ms(rep.start_ts + m * MINUTE, tz)), f"{c:,}")
            for m, c in rep.coins_per_minute]
    empty = ("No gifts to the host in this session." if not rep.coins_per_minute
             else "Every minute with a gift came to 0 coins.")
    return figure(coins_spec(rep), "Coins to the host per minute", rows,
                  (f"minute ({tz})", "coins"), empty=empty)


def viewers_spec(rep: SessionReport) -> Spec | None:
    """Viewers per minute: the peak count of each minute (so the chart's top is the report's
    peak, marked with its figure), the minute's mean in each tooltip."""
    peaks = rep.viewers_peak_per_minute
    if not peaks:
        return None
    tz, means = report_tz(rep), dict(rep.viewers_per_minute)
    values: list[dict[str, Any]] = []
    for m, p in peaks:
        t = wall_ms(rep.start_ts + m * MINUTE, tz)
        mean = means.get(m)
        values.append({"t": t, "viewers": p, "label": f"{_clock(t)} {tz}: peak {p:,} viewers"
                       + ("" if mean is None else f" (mean {mean:,.0f})")})
    at, most = max(((v["t"], v["viewers"]) for v in values), key=lambda v: v[1])
    peak = [{"t": at, "viewers": most, "text": f"peak {most:,} at {_clock(at)}"}]
    first, last = values[0]["t"], values[-1]["t"]
    side = "right" if at > (first + last) / 2 else "left"  # the label stays inside the plot
    y = {"field": "viewers", "type": "quantitative", "title": "viewers (peak of each minute)",
         "axis": {"format": ",d", "tickMinStep": 1}}
    return {"title": "concurrent viewers", "width": WIDTH, "height": HEIGHT,
            "encoding": {"x": _minute_axis(rep), "y": y}, "layer": [
                {"data": {"values": values}, "mark": {"type": "line", "color": TEAL,
                                                      "aria": False,  # its points: tooltips
                                                      "point": {"size": 12, "color": TEAL}},
                 "encoding": {"description": {"field": "label"}}},
                {"data": {"values": peak}, "mark": {"type": "point", "filled": True,
                                                    "color": PINK, "size": 60},
                 "encoding": {"description": {"field": "text"}}},
                {"data": {"values": peak}, "mark": {"type": "text", "dy": -10, "align": side,
                                                    "fontWeight": "bold"},
                 "encoding": {"text": {"field": "text"}}}]}


def viewers_figure(rep: SessionReport) -> str:
    tz, means = report_tz(rep), dict(rep.viewers_per_minute)
    rows = [(_clock(wall_ms(rep.start_ts + m * MINUTE, tz)), f"{p:,}",
             "–" if m not in means else f"{means[m]:,.1f}") for m, p in rep.viewers_peak_per_minute]
    return figure(viewers_spec(rep), "Concurrent viewers per minute (the minute's peak)", rows,
                  (f"minute ({tz})", "peak viewers", "mean viewers"),
                  empty="No viewer counts were recorded in this session.")


def tier_label(label: str) -> str:
    """``1-9`` → ``1–9`` (an en dash for a range), ``10000+`` → ``10,000+``."""
    if label.endswith("+"):
        return f"{int(label[:-1]):,}+"
    lo, _, hi = label.partition("-")
    return f"{int(lo):,}–{int(hi):,}" if hi else label


def tiers_spec(rep: SessionReport) -> Spec | None:
    """Coins by gift price tier (coins per gift): one bar per tier, labelled by the tier."""
    if not rep.tiers or _all_zero([c for _, _, c in rep.tiers]):
        return None
    order = [tier_label(t) for t, _, _ in rep.tiers]
    values = [{"tier": tier_label(t), "coins": c,
               "label": f"gifts of {tier_label(t)} coins: {n:,} gifts, {c:,} coins"
               f" ({c / rep.coins if rep.coins else 0:.1%})"} for t, n, c in rep.tiers]
    return {"title": "coins by gift price tier", "width": WIDTH // 2, "height": HEIGHT,
            "data": {"values": values}, "mark": {"type": "bar", "color": PINK},
            "encoding": {
                "x": {"field": "tier", "type": "ordinal", "sort": order,
                      "title": "price of one gift (coins)", "axis": {"labelAngle": 0}},
                "y": {"field": "coins", "type": "quantitative", "title": "coins",
                      "axis": {"format": ",d", "tickMinStep": 1}},
                "description": {"field": "label"}}}


def tiers_figure(rep: SessionReport) -> str:
    rows = [(tier_label(t), f"{n:,}", f"{c:,}") for t, n, c in rep.tiers]
    return figure(tiers_spec(rep), "Coins by gift price tier", rows,
                  ("price of one gift (coins)", "gifts", "coins"),
                  empty="No gifts to the host in this session.")


def session_figures(rep: SessionReport) -> dict[str, str]:
    """The session report's three charts as HTML: ``coins``, ``viewers``, ``tiers``."""
    return {"coins": coins_figure(rep), "viewers": viewers_figure(rep),
            "tiers": tiers_figure(rep)}


# --- the analysis ---------------------------------------------------------------------------

def sessions_figure(a: Analysis) -> str:
    """Creator USD per session and per hour live, on the sessions' start dates (in ``a.tz``)."""
    points = [(s.start_ts, s.creator_usd,
               s.creator_usd * 60 / Decimal(str(s.minutes)) if s.minutes > 0 else None)
              for s in a.sessions]
    return trend_chart(points, "Creator USD per session and per hour live", tz=a.tz)


def _weeks(a: Analysis) -> list[dict[str, Any]]:
    from datetime import UTC, datetime

    out = []
    for w in a.trend:
        t = int(datetime(w.week.year, w.week.month, w.week.day, tzinfo=UTC).timestamp() * 1000)
        out.append({"t": t, "t2": t + WEEK, "week": w.week.isoformat(),
                    "per_hour": None if w.usd_per_hour is None else float(w.usd_per_hour),
                    "per_hour_text": "–" if w.usd_per_hour is None else usd(w.usd_per_hour),
                    "top5": w.top5_share, "sessions": w.sessions})
    return out


def _week_axis(a: Analysis, weeks: Sequence[dict[str, Any]]) -> Spec:
    """A date axis with a tick at each week's start (Mondays, in ``a.tz``)."""
    axis = time_axis(f"week starting ({a.tz})")
    axis["axis"] = {"values": [w["t"] for w in weeks], "format": "%b %d", "labelOverlap": True}
    return axis


def weekly_figure(a: Analysis) -> str:
    """Creator USD per hour live, one bar per week (Monday to Sunday in ``a.tz``)."""
    weeks = [w for w in _weeks(a) if w["per_hour"] is not None]
    rows = [(w["week"], w["sessions"], w["per_hour_text"]) for w in _weeks(a)]
    spec = None if not weeks or _all_zero([w["per_hour"] for w in weeks]) else {
        "title": "creator USD per hour live, by week", "width": WIDTH, "height": HEIGHT,
        "data": {"values": [{**w, "label": f"week of {w['week']}: creator {w['per_hour_text']}"
                             f" per hour live ({w['sessions']} sessions)"} for w in weeks]},
        "mark": {"type": "bar", "color": PINK, "stroke": "transparent", "strokeWidth": 2},
        "encoding": {"x": _week_axis(a, weeks), "x2": {"field": "t2"},
                     "y": {**money_axis("creator USD per hour live"), "field": "per_hour"},
                     "y2": {"datum": 0},
                     "description": {"field": "label"}}}
    return figure(spec, "Creator USD per hour live, week by week", rows,
                  (f"week starting ({a.tz})", "sessions", "creator USD per hour"),
                  empty="No week with time live to draw.")


def top5_figure(a: Analysis) -> str:
    """The top-5 gifters' share of each week's coins."""
    weeks = _weeks(a)
    rows = [(w["week"], f"{w['top5']:.1%}") for w in weeks]
    spec = None if not weeks else {
        "title": "top-5 gifters' share of the week's coins", "width": WIDTH, "height": HEIGHT,
        "data": {"values": [{**w, "label": f"week of {w['week']}: top 5 gave {w['top5']:.1%}"}
                            for w in weeks]},
        "mark": {"type": "line", "point": True, "color": TEAL, "aria": False},
        "encoding": {"x": _week_axis(a, weeks),
                     "y": {"field": "top5", "type": "quantitative", "title": "share of coins",
                           "scale": {"domain": [0, 1]}, "axis": {"format": ".0%"}},
                     "description": {"field": "label"}}}
    return figure(spec, "Top-5 gifters' share of each week's coins", rows,
                  (f"week starting ({a.tz})", "top-5 share"), empty="No weeks to draw.")


def ci_svg(d: Driver) -> str:
    """A driver's interval against zero as a small chart (a rule from low to high, a dot at the
    effect, a grey line at 0); '' when the driver has no number. About 5–10 ms a row."""
    from liveworth.analysis.drivers import LEVEL

    if d.effect is None or d.ci_low is None or d.ci_high is None:
        return ""
    colour = PINK if d.significant else "#888888"
    text = (f"{d.label}: {d.effect:+.2f} ({LEVEL:.0%} interval {d.ci_low:+.2f} to "
            f"{d.ci_high:+.2f}), {d.unit}")
    row = {"lo": d.ci_low, "hi": d.ci_high, "e": d.effect, "label": text}
    spec = {"width": 150, "height": 14, "padding": 1, "data": {"values": [row]},
            "encoding": {"x": {"type": "quantitative", "axis": None,
                               "scale": {"domain": [min(d.ci_low, 0.0), max(d.ci_high, 0.0)],
                                         "nice": False}}},
            "layer": [
                {"mark": {"type": "rule", "color": "#888888", "opacity": 0.6, "aria": False},
                 "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
                {"mark": {"type": "rule", "strokeWidth": 3, "color": colour},
                 "encoding": {"x": {"field": "lo"}, "x2": {"field": "hi"},
                              "description": {"field": "label"}}},
                {"mark": {"type": "point", "filled": True, "size": 50, "color": colour,
                          "opacity": 1}, "encoding": {"x": {"field": "e"},
                                                      "description": {"field": "label"}}}]}
    return svg(spec, text, "ci")


# --- the estimator ----------------------------------------------------------------------------

def usd_tick(value: Decimal) -> str:
    """Dollars for an axis label: cents, or a tenth of a cent below one cent (``$0.005``)."""
    return usd(value) if value == 0 or abs(value) >= Decimal("0.01") else f"${value:.3f}"


def _decade_labels(top: int, per_coin: Decimal) -> tuple[list[int], str]:
    """The coin amounts 0, 1, 10, 100 … up to ``top`` and a Vega expression that labels each
    with its creator USD (computed here, exactly, not by the chart's own arithmetic)."""
    ticks = [0] + [10**k for k in range(19) if 10**k <= top]
    expr = "''"
    for t in reversed(ticks):
        expr = f"datum.value === {t} ? '{usd_tick(per_coin * t)}' : {expr}"
    return ticks, expr


def histogram_spec(bins: Sequence[dict[str, Any]],
                   marks: Sequence[tuple[str, int, str]]) -> Spec | None:
    """The estimator's simulated sessions by what the creator receives: bars of the share of
    sessions in each log-spaced bin of coins, on a log axis labelled in creator USD, with a rule
    at each of ``marks`` ((label, coins, creator USD as a decimal string): p10, p50, p90)."""
    if not bins:
        return None
    last = bins[-1]
    per_coin = Decimal(str(last["creator_usd_to"])) / int(last["coins_to"])
    ticks, expr = _decade_labels(int(last["coins_to"]), per_coin)
    top = max(float(b["share"]) for b in bins) or 1.0
    values = [{"lo": int(b["coins_from"]), "hi": int(b["coins_to"]), "share": float(b["share"]),
               "label": f"{usd_tick(Decimal(str(b['creator_usd_from'])))}–"
               f"{usd_tick(Decimal(str(b['creator_usd_to'])))} ({int(b['coins_from']):,}–"
               f"{int(b['coins_to']):,} coins): {float(b['share']):.1%} of sessions"}
              for b in bins]
    rules = [{"coins": c, "text": f"{name} {usd(Decimal(str(u)))}", "y": 8 + 13 * i}
             for i, (name, c, u) in enumerate(marks)]
    x = {"field": "lo", "type": "quantitative", "title": "creator USD per session (log scale)",
         "scale": {"type": "symlog", "constant": 1, "domain": [0, int(last["coins_to"])]},
         "axis": {"values": ticks, "labelExpr": expr}}
    return {"title": "simulated sessions by creator USD", "width": WIDTH, "height": HEIGHT,
            "layer": [
                {"data": {"values": values}, "mark": {"type": "bar", "color": PINK},
                 "encoding": {"x": x, "x2": {"field": "hi"},
                              "y": {"field": "share", "type": "quantitative",
                                    "title": "share of sessions", "axis": {"format": ".0%"},
                                    "scale": {"domain": [0, top * 1.35]}},  # room for labels
                              "y2": {"datum": 0}, "description": {"field": "label"}}},
                {"data": {"values": rules}, "mark": {"type": "rule", "strokeDash": [4, 3],
                                                     "color": TEAL, "strokeWidth": 1.5},
                 "encoding": {"x": {"field": "coins", "type": "quantitative"},
                              "description": {"field": "text"}}},
                {"data": {"values": rules}, "mark": {"type": "text", "align": "left", "dx": 3,
                                                     "fontWeight": "bold"},
                 "encoding": {"x": {"field": "coins", "type": "quantitative"},
                              "y": {"field": "y", "type": "quantitative", "scale": None},
                              "text": {"field": "text"}}}]}


def histogram_figure(bins: Sequence[dict[str, Any]],
                     marks: Sequence[tuple[str, int, str]]) -> str:
    rows = [(f"{usd_tick(Decimal(str(b['creator_usd_from'])))}–"
             f"{usd_tick(Decimal(str(b['creator_usd_to'])))}",
             f"{int(b['coins_from']):,}–{int(b['coins_to']):,}", f"{float(b['share']):.1%}")
            for b in bins]
    return figure(histogram_spec(bins, marks), "Simulated sessions by what the creator receives",
                  rows, ("creator USD", "coins", "share of sessions"),
                  empty="No distribution to draw.")

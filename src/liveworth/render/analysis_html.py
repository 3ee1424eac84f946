"""The HTML page of ``liveworth analyze``: one self-contained file that opens offline.

Like the session report (:mod:`liveworth.render.report_html`; the charts are
:mod:`liveworth.render.pagecharts`', the same as the web analysis page's) the
page has no script at all and nothing to fetch, a Content-Security-Policy forbids scripts outright,
and every string that comes from the stream or the user (host, nicknames, user names) goes through
:func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from liveworth.analysis.advice import Recommendation, signed_usd
from liveworth.analysis.analytics import Analysis
from liveworth.analysis.drivers import LEVEL, Driver
from liveworth.economy.money import usd
from liveworth.economy.numbers import count
from liveworth.render.analysis_sections import HEAT_CSS, battles_html, heatmap_html
from liveworth.render.charts import CSS as CHART_CSS
from liveworth.render.pagecharts import ci_svg, sessions_figure, top5_figure, weekly_figure
from liveworth.render.report_html import CSP, card_row

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1000px;color:#1c1c1e;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.sub{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:10px;padding:.8rem 1rem;min-width:150px}
.card b{display:block;font-size:1.3rem}.card span{color:#666;font-size:.85rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.rec{border-left:4px solid #25f4ee;padding:.4rem .8rem;margin:.6rem 0;background:#f6feff}
.rec.few{border-color:#ccc;background:#fafafa}.note{color:#666;font-size:.9rem}
.rec.risk{border-color:#fe2c55;background:#fff6f8}
svg.ci{width:160px;height:auto;max-width:100%}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _ci_bar(d: Driver) -> str:
    """The interval as a small chart against zero (same scale within the row)."""
    return ci_svg(d)


def _cards(a: Analysis) -> str:
    """The headline figures as a row of cards."""
    e = a.elasticity_viewers
    per_hour = a.usd_per_hour
    cards = [
        (f"{len(a.sessions):,}", "sessions"),
        (f"{a.hours:,.1f}", "hours live"),
        (usd(a.creator_usd), "creator received"),
        (usd(a.usd_per_session), "per session"),
        ("–" if per_hour is None else usd(per_hour), "per hour live"),
        ("too few" if e.effect is None else f"{e.effect:.2f}", "elasticity to viewers"),
    ]
    if not a.adjusted_coins:
        return card_row(cards)
    counted, adjusted, total = a.creator_usd_shown()
    return card_row(cards) + (
        f'<p class="note" data-testid="adjusted">Creator received, counted {usd(counted)} '
        f"+ adjusted {signed_usd(adjusted)} = {usd(total)} (coins: counted "
        f"{a.coins:,} + adjusted {a.adjusted_coins:+,} = {a.coins + a.adjusted_coins:,}; manual "
        "adjustments, <code>liveworth adjust --list</code>). Everything else on this page is "
        "counted.</p>")


def _driver_rows(a: Analysis) -> str:
    """One table row per driver of coins."""
    return "".join(
        f"<tr><td>{_e(d.label)}<div class='note'>{_e(d.name)}</div></td>"
        f"<td class='n'>{_e(_num(d.effect))}</td>"
        f"<td class='n'>{'–' if d.ci_low is None else f'{d.ci_low:+.2f} … {d.ci_high:+.2f}'}"
        "</td>"
        f"<td>{_e(d.unit)}</td><td class='n'>{d.n:,}</td><td>{_ci_bar(d)}</td>"
        f"<td class='note'>{_e(d.note)}</td></tr>" for d in a.drivers)


def _recommendations(a: Analysis) -> str:
    """One box per recommendation, with its expected effect when there is one."""
    return "".join(
        f"<div class='rec{'' if r.status == 'measured' else ' few'}'><b>{_e(r.strategy)}</b> "
        f"<span class='note'>({_e(r.status)}; lever {_e(r.lever)})</span><br>{_e(r.advice)}"
        f"<div class='note'>Evidence: {_e(r.evidence)}</div>"
        + _expected(r) + "</div>" for r in a.recommendations)


def _expected(r: Recommendation) -> str:
    """What following a recommendation is expected to make ('' when nothing is measured)."""
    x = r.expected
    if x is None:
        return ""
    return (f"<div>Expected if you follow it: {_e(x.change)} → {x.pct:+.1f} % "
            f"({x.pct_low:+.1f} to {x.pct_high:+.1f} %), about "
            f"{_e(signed_usd(x.usd_per_session))} of creator USD per session "
            f"({_e(signed_usd(x.usd_low))} to {_e(signed_usd(x.usd_high))})</div>")


def _risks(a: Analysis) -> str:
    """One box per risk (what the money rests on)."""
    boxes = "".join(
        f"<div class='rec risk'><b>{_e(k.level)}</b> <span class='note'>({_e(k.name)})</span>"
        f"<br>{_e(k.what)}<div class='note'>Evidence: {_e(k.evidence)}</div></div>"
        for k in a.risks)
    return f"<h2>Risks</h2>{boxes}" if boxes else ""


def _gifter_rows(a: Analysis) -> str:
    """One table row per top gifter."""
    return "".join(
        f"<tr><td class='n'>{g.rank}</td><td>{_e(g.user or g.user_id or '?')}</td>"
        f"<td>{_e(g.nickname)}</td><td class='n'>{g.coins:,}</td>"
        f"<td class='n'>{g.share:.1%}</td><td class='n'>{g.sessions:,}</td></tr>"
        for g in a.top_gifters)


def _session_rows(a: Analysis) -> str:
    """One table row per session, the latest first."""
    return "".join(
        f"<tr><td>{_e(s.local_start)}</td><td>{_e(s.room_id)}</td>"
        f"<td class='n'>{s.minutes:,.0f}</td><td class='n'>{s.coins:,}</td>"
        f"<td class='n'>{_e(usd(s.creator_usd))}</td>"
        f"<td class='n'>{'–' if s.avg_viewers is None else f'{s.avg_viewers:,.0f}'}</td>"
        f"<td class='n'>{s.gifters:,} ({s.new_gifters:,} new)</td></tr>"
        for s in reversed(a.sessions))


def _whale_trend(a: Analysis) -> str:
    """The sentence on how the top-5 share moves over time ('' without an interval)."""
    w = a.whales
    if w.trend_top5 is None or w.trend_ci_low is None or w.trend_ci_high is None:
        return ""
    return (f" A session's top-5 share changes {w.trend_top5:+.1%} per 30 days "
            f"({LEVEL:.0%} CI {w.trend_ci_low:+.1%} to {w.trend_ci_high:+.1%}).")


def _head(who: str) -> str:
    """The document up to and including ``<body>``."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>liveworth — {_e(who)} across sessions</title><style>{_STYLE}{HEAT_CSS}{CHART_CSS}</style>
</head>
<body>
"""


def _summary(a: Analysis, who: str) -> str:
    """Title, scope line, cards and the two money charts."""
    since = f" since {a.since.isoformat()}" if a.since else ""
    return f"""<h1>{_e(who)}: what drives the money</h1>
<div class="sub">{count(len(a.sessions), "session")}{_e(since)} · times in {_e(a.tz)} · rate card
{_e(a.rate_card)} · effects with {LEVEL:.0%} intervals</div>
<div class="cards">{_cards(a)}</div>
<h2>Creator USD per session</h2>{sessions_figure(a)}
<h2>Creator USD per hour live, week by week</h2>
{weekly_figure(a)}
"""


def _drivers_section(a: Analysis) -> str:
    """The recommendations, the risks and the table of drivers."""
    return f"""<h2>Recommendations</h2>{_recommendations(a)}
{_risks(a)}
<h2>Drivers of coins</h2>
<p class="note">Each row: the lever's effect on a session's expected coins with its interval and
the number of sessions behind it. Elasticity: % coins per 1 % more of the lever.</p>
<table><tr><th>lever</th><th class='n'>effect</th><th class='n'>{LEVEL:.0%} interval</th>
<th>unit</th><th class='n'>n</th><th>interval vs 0</th><th>note</th></tr>{_driver_rows(a)}</table>
"""


def _gifters_section(a: Analysis) -> str:
    """Whale dependence, the top gifters and loyalty."""
    w = a.whales
    return f"""<h2>Whale dependence</h2>
<p>The top gifter gave {w.top1_share:.1%} of all coins, the top 5 gave {w.top5_share:.1%}
({count(w.gifters, "gifter")}). {_e(w.note)}{_e(_whale_trend(a))}</p>
{top5_figure(a)}
<h2>Top gifters</h2>
<table><tr><th class='n'>#</th><th>gifter</th><th>nickname</th><th class='n'>coins</th>
<th class='n'>share</th><th class='n'>sessions</th></tr>{_gifter_rows(a)}</table>
<p>{a.loyalty.returning:,} of {count(a.loyalty.gifters, "gifter")} came back; returning gifters gave
{a.loyalty.returning_coin_share:.1%} of coins; {a.loyalty.new_per_session:.1f} new gifters per
session.</p>
"""


def _sessions_section(a: Analysis) -> str:
    """The table of sessions, the notes and the footer that closes the document."""
    notes = "".join(f"<li>{_e(n)}</li>" for n in a.notes)
    return f"""<h2>Sessions</h2>
<table><tr><th>start</th><th>room</th><th class='n'>minutes</th><th class='n'>coins</th>
<th class='n'>creator USD</th><th class='n'>avg viewers</th><th class='n'>gifters</th></tr>
{_session_rows(a)}</table>
<h2>Notes</h2><ul>{notes}</ul>
<p class="sub">Made by liveworth. Money is exact; figures say whose money they are.</p>
</body></html>
"""


def render_analysis_html(a: Analysis) -> str:
    """The whole analysis as one HTML document."""
    who = f"@{a.host}" if a.host else "unknown creator"
    return (_head(who) + _summary(a, who) + _when_section(a) + _battles_section(a)
            + _drivers_section(a) + _gifters_section(a) + _sessions_section(a))


def _when_section(a: Analysis) -> str:
    """The weekday × hour heatmap ('' when the analysis has none)."""
    if a.heatmap is None:
        return ""
    return f"<h2>When to go live: coins per hour by weekday and hour</h2>{heatmap_html(a.heatmap)}"


def _battles_section(a: Analysis) -> str:
    """Coins during battles against outside them ('' when the analysis has none)."""
    return "" if a.battles is None else f"<h2>Battles</h2>{battles_html(a.battles)}"

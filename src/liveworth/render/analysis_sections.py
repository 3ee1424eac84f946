"""Two sections of the analysis page, as HTML: the when-to-go-live heatmap and the battles.

One source for both pages that show them: the offline ``analyze --html`` file
(:mod:`liveworth.render.analysis_html`) and the web page ``/creators/{host}/analysis``
(``web/templates/analysis.html`` through :mod:`liveworth.web.charts`). Neither page may run a
script and the web page may not carry inline styles (its Content-Security-Policy), so colours are
CSS classes: :data:`HEAT_CSS` is in the offline page's style and in ``web/static/liveworth.css``.

The heatmap is a real ``<table>`` (a caption, weekday row headers and hour column headers with
``scope``), so a screen reader reads every cell with its weekday and hour. Each cell shows its
coins per hour LIVE, in short (``1.2k``), with the whole figure in its ``title`` (on hover) and
accessible name; the colour is one of five steps of the largest coins per hour, each step's text
colour chosen for a contrast of at least 4.5:1 (WCAG AA), and a legend spells the steps out.
Every string from the stream goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from liveworth.analysis.battles import Battles, Span
from liveworth.analysis.heatmap import Heatmap, HourCell
from liveworth.analysis.sessionstats import WEEKDAYS

#: Opponents listed on the page (the JSON has them all).
OPPONENTS_SHOWN = 20

#: Background and text of each step: 0 = never live, 1..5 = up to 20 %, 40 % … of the largest
#: coins per hour (tests/test_heatmap.py checks each pair's contrast in Chromium).
HEAT_STEPS: tuple[tuple[str, str], ...] = (
    ("#ffffff", "#595959"), ("#fde8ec", "#1c1c1e"), ("#fbc4cf", "#1c1c1e"),
    ("#f78da1", "#1c1c1e"), ("#c42650", "#ffffff"), ("#7a0f2c", "#ffffff"))
HEAT_CSS = (
    "table.heat{width:auto;border-collapse:separate;border-spacing:2px;font-size:.72rem}"
    "table.heat th,table.heat td{padding:.15rem .1rem;border:0;text-align:center;min-width:1.9rem}"
    "table.heat td{font-variant-numeric:tabular-nums}table.heat caption{text-align:left;"
    "color:#595959;font-size:.85rem;padding-bottom:.3rem}.heat-wrap{overflow-x:auto}"
    "ul.heat-legend{list-style:none;display:flex;flex-wrap:wrap;gap:.4rem;padding:0;"
    "font-size:.8rem}ul.heat-legend li{padding:.1rem .5rem;border-radius:4px}"
    "table.heat td.q0,ul.heat-legend .q0{border:1px solid #ddd}"
    + "".join(f".q{i}{{background:{bg};color:{fg}}}" for i, (bg, fg) in enumerate(HEAT_STEPS))
)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def short(value: float) -> str:
    """A number in at most four characters: ``950``, ``1.2k``, ``35k``, ``4.1M``."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= div * 0.9995:
            x = value / div
            return f"{x:.1f}{suffix}" if x < 9.95 else f"{x:.0f}{suffix}"
    return f"{value:.0f}"


def step(cell: HourCell, top: float) -> int:
    """The colour step of ``cell``: 0 when never live, else 1..5 by its share of ``top``."""
    per_hour = cell.coins_per_hour
    if per_hour is None:
        return 0
    if top <= 0:
        return 1
    return 1 + min(4, int(5 * per_hour / top))


def edges(top: float) -> list[str]:
    return [f"{top * k / 5:,.0f}" for k in range(6)]


def _legend(top: float) -> str:
    bounds = edges(top)
    items = ["<li class='q0'>never live</li>"] + [
        f"<li class='q{k}'>{bounds[k - 1]}–{bounds[k]}</li>" for k in range(1, 6)]
    return (f"<ul class='heat-legend' aria-label='colour scale, coins per hour live'>"
            f"{''.join(items)}</ul>")


def _cell_html(day: int, hour: int, cell: HourCell, top: float) -> str:
    per_hour = cell.coins_per_hour
    span = f"{WEEKDAYS[day]} {hour:02d}:00–{hour:02d}:59"
    if per_hour is None:
        tip = f"{span}: never live" + (f"; {cell.coins:,} coins" if cell.coins else "")
        return f"<td class='q0' title='{_e(tip)}' aria-label='{_e(tip)}'>–</td>"
    tip = (f"{span}: {cell.hours_live:,.2f} h live, {cell.coins:,} coins, "
           f"{per_hour:,.0f} coins per hour")
    return (f"<td class='q{step(cell, top)}' title='{_e(tip)}' aria-label='{_e(tip)}' "
            f"data-coins='{cell.coins}' data-ms='{cell.live_ms}'>{_e(short(per_hour))}</td>")


def _best(h: Heatmap) -> str:
    best = h.best(3)
    if not best:
        return ("<p class='note'>No hour has a full hour of LIVE yet: the best hours are named "
                "once one has.</p>")
    named = "; ".join(f"{WEEKDAYS[d]} {hr:02d}:00 ({c.coins_per_hour or 0:,.0f} coins/h over "
                      f"{c.hours_live:,.1f} h)" for d, hr, c in best)
    return (f"<p data-testid='heat-best'>Best hours with at least one hour live: {_e(named)}. "
            "Few hours live make a cell's rate noisy: hover a cell for its hours.</p>")


def heatmap_html(h: Heatmap) -> str:
    """The grid as an accessible table with its legend and the best hours."""
    rates = [c.coins_per_hour for row in h.rows for c in row if c.coins_per_hour is not None]
    top = max(rates, default=0.0)
    head = "".join(f"<th scope='col' abbr='{hr:02d}:00'>{hr:02d}</th>" for hr in range(24))
    body = "".join(
        f"<tr><th scope='row'>{WEEKDAYS[d]}</th>"
        + "".join(_cell_html(d, hr, c, top) for hr, c in enumerate(row)) + "</tr>"
        for d, row in enumerate(h.rows))
    return (f"<div class='heat-wrap' tabindex='0' role='region' aria-label='when to go live'>"
            f"<table class='heat' data-testid='heatmap'>"
            f"<caption>Coins per hour LIVE (coins given to the host ÷ hours live) by weekday, "
            f"Monday first, and hour of day in {_e(h.tz)}</caption>"
            f"<thead><tr><th scope='col'>day</th>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table></div>{_legend(top)}{_best(h)}")


# ---------------------------------------------------------------------------- battles


_OPPONENT_HEADS = ("battles", "won", "lost", "drawn", "no result", "minutes", "coins",
                   "coins/min")


def _heads(names: tuple[str, ...]) -> str:
    return "".join(f"<th scope='col' class='n'>{n}</th>" for n in names)


def _rate(x: float | None) -> str:
    return "–" if x is None else f"{x:,.1f}"


def _span_row(name: str, x: Span) -> str:
    return (f"<tr><th scope='row'>{name}</th><td class='n'>{x.minutes:,.1f}</td>"
            f"<td class='n'>{x.coins:,}</td><td class='n'>{_rate(x.coins_per_minute)}</td></tr>")


def _opponent_rows(b: Battles) -> str:
    return "".join(
        f"<tr><td>{_e(o.opponent)}<div class='note'>"
        f"{_e(' + '.join(x.nickname for x in o.opponents))}</div></td>"
        f"<td class='n'>{o.battles:,}</td><td class='n'>{o.wins:,}</td>"
        f"<td class='n'>{o.losses:,}</td><td class='n'>{o.draws:,}</td>"
        f"<td class='n'>{o.unknown_result:,}</td><td class='n'>{o.span.minutes:,.1f}</td>"
        f"<td class='n'>{o.span.coins:,}</td><td class='n'>{_rate(o.span.coins_per_minute)}</td>"
        "</tr>" for o in b.opponents[:OPPONENTS_SHOWN])


def battles_html(b: Battles) -> str:
    """Coins per minute during battles against outside them, the results and the opponents."""
    if not b.count:
        return "<p data-testid='battles'>No battle in these sessions.</p>"
    r = b.results()
    ratio = "" if b.ratio is None else f" During battles the rate is {b.ratio:.2f}× the rest."
    more = (f" The first {OPPONENTS_SHOWN} of {len(b.opponents):,} are listed; the JSON has "
            "them all." if len(b.opponents) > OPPONENTS_SHOWN else "")
    return f"""<p data-testid='battles'>{b.count:,} battles in {b.sessions_with_battles:,} of
{b.sessions:,} sessions: {r['wins']:,} won, {r['losses']:,} lost, {r['draws']:,} drawn,
{r['unknown_result']:,} with no result from TikTok.{ratio}</p>
<div class='table-scroll' tabindex='0' role='region' aria-label='battles'>
<table class='battle-split'><caption>Coins given to the host during battles and outside them
(together: every coin and minute live)</caption>
<thead><tr><th scope='col'></th><th scope='col' class='n'>minutes</th>
<th scope='col' class='n'>coins</th><th scope='col' class='n'>coins per minute</th></tr></thead>
<tbody>{_span_row("during battles", b.during)}{_span_row("outside battles", b.outside)}</tbody>
</table></div>
<h3>Per opponent</h3>
<div class='table-scroll' tabindex='0' role='region' aria-label='per opponent'>
<table class='opponents'><thead><tr><th scope='col'>opponent</th>{_heads(_OPPONENT_HEADS)}
</tr></thead>
<tbody>{_opponent_rows(b)}</tbody></table></div>
<p class='note'>From TikTok's battle messages: when a battle starts and finishes, the hosts in
it and each host's result and score. Inferred here: a battle without a finishing message ends at its
planned length; the opponent is the other host (in a team battle, the hosts with the other
result); "unknown" where TikTok sent no names or no result (simulated sessions send
neither).{more}</p>"""

"""The daily brief as one self-contained HTML page an agency can mail: inline CSS, no script, no
image or font to fetch (a Content-Security-Policy forbids scripts outright). Every string from
the stream or the store (hosts, alert texts, rule names) goes through :func:`html.escape`."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from liveworth.analysis.brief import AVERAGES_NOTE, DARK_DAYS, Brief, CreatorDay
from liveworth.economy.money import usd
from liveworth.economy.numbers import count
from liveworth.render.report_html import CSP

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1000px;color:#1c1c1e;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.sub{color:#666}table{border-collapse:collapse;width:100%}
td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#0a7d32}.down{color:#c4122f}.note{color:#666;font-size:.9rem}
tr.total td{font-weight:600;border-top:2px solid #ccc}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    cls = "up" if value > 0 else "down" if value < 0 else ""
    return f"<span class='{cls}'>{value:+.1f} %</span>"


def _signed(value: Decimal) -> str:
    return "-" + usd(-value) if value < 0 else "+" + usd(value)


def _who(host: str | None) -> str:
    return "@" + _e(host) if host else "?"


def _pace(c: CreatorDay) -> str:
    p = c.tier_pace
    if p is None:
        return "–"
    return _e(f"{p.tier or 'none'} → on pace for {p.projected_tier or 'none'}")


def _creator_rows(b: Brief) -> str:
    rows = []
    for c, cents in zip(b.creators, b.creator_usd_shown(), strict=True):  # rows add up
        adj = f" <span class='sub'>({c.adjusted_coins:+,} adjusted)</span>" \
            if c.adjusted_coins else ""
        rows.append(
            f"<tr><td class='host'>{_who(c.host)}</td><td class='n'>{c.sessions:,}</td>"
            f"<td class='n'>{c.hours:.1f}</td><td class='n'>{c.coins:,}{adj}</td>"
            f"<td class='n'>{usd(cents)}</td><td class='n'>{usd(c.avg_7d_usd)}</td>"
            f"<td class='n'>{usd(c.avg_28d_usd)}</td><td class='n'>{_pct(c.change_7d_pct)}</td>"
            f"<td>{_pace(c)}</td></tr>")
    t = b.totals()
    rows.append(f"<tr class='total'><td>all</td><td class='n'>{t['sessions']:,}</td>"
                f"<td class='n'>{t['hours']:.1f}</td><td class='n'>{t['coins']:,}"
                + (f" ({t['adjusted_coins']:+,} adjusted)" if t["adjusted_coins"] else "")
                + f"</td><td class='n'>{usd(Decimal(t['total_creator_usd']))}</td>"
                "<td></td><td></td><td></td><td></td></tr>")
    return "".join(rows)


def _movers(b: Brief) -> str:
    def line(c: CreatorDay) -> str:
        return (f"<li>{_who(c.host)}: {usd(c.total_creator_usd)} ({_e(_signed(c.change_usd))} "
                f"vs the 7-day average {usd(c.avg_7d_usd)}, {_pct(c.change_7d_pct)})</li>")

    parts = []
    for title, movers in (("Rises", b.rises), ("Falls", b.falls)):
        items = "".join(line(c) for c in movers) or "<li class='sub'>none</li>"
        parts.append(f"<h3>{title}</h3><ul class='movers'>{items}</ul>")
    return "".join(parts)


#: A wide table scrolls inside its own box on a phone; the box takes the keyboard's focus.
_SCROLL = "<div class='table-scroll' tabindex='0' role='region' aria-label='%s'>"


def _dark(b: Brief) -> str:
    if not b.dark:
        return "<p class='sub'>Every creator was LIVE in the last days.</p>"
    rows = "".join(f"<tr><td class='host'>{_who(c.host)}</td><td>{_e(c.last_live or '?')}</td>"
                   f"<td class='n'>{c.days_dark:,}</td></tr>" for c in b.dark)
    return (f"{_SCROLL % 'went dark'}<table id='went-dark'><tr><th>creator</th>"
            f"<th>last LIVE</th><th class='n'>days dark</th></tr>{rows}</table></div>")


def _alerts(b: Brief) -> str:
    if not b.alerts:
        return f"<p class='sub'>No alerts on {_e(b.date)}.</p>"
    rows = "".join(f"<tr><td>{_e(a.time[11:19])}</td><td>{_who(a.host)}</td><td>{_e(a.rule)}</td>"
                   f"<td>{_e(a.kind)}</td><td class='alert'>{_e(a.text)}</td></tr>"
                   for a in b.alerts)
    return (f"{_SCROLL % 'alerts'}<table id='alerts'><tr><th>time</th>"
            f"<th>creator</th><th>rule</th><th>kind</th><th>alert</th></tr>{rows}</table></div>")


def brief_body(b: Brief) -> str:
    """The brief's sections (no document around them)."""
    return f"""<h1>Daily brief for {_e(b.date)}</h1>
<div class="sub">made for {_e(b.as_of)} · times in {_e(b.tz)} · rate card {_e(b.rate_card)} ·
creator USD is what the creator receives (counted + adjusted)</div>
<h2>Per creator</h2>
{_SCROLL % 'per creator'}
<table id="creators"><tr><th>creator</th><th class='n'>sessions</th><th class='n'>hours</th>
<th class='n'>coins</th><th class='n'>creator USD</th><th class='n'>7-day avg</th>
<th class='n'>28-day avg</th><th class='n'>vs 7 days</th><th>tier pace</th></tr>
{_creator_rows(b)}</table></div>
<h2>Movers</h2>{_movers(b)}
<h2>Went dark (no LIVE for {count(DARK_DAYS, "day")} or more)</h2>{_dark(b)}
<h2>Alerts</h2>{_alerts(b)}
<p class="note">{_e(AVERAGES_NOTE)}. {_e(b.tiers_note)}</p>
"""


def render_brief_html(b: Brief) -> str:
    """The whole brief as one HTML document."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>liveworth — daily brief {_e(b.date)}</title><style>{_STYLE}</style></head>
<body>
{brief_body(b)}<p class="sub">Made by liveworth. Money is exact; figures say whose money they
are.</p>
</body></html>
"""

"""The HTML session report: one self-contained file that opens offline.

Charts are inline SVG made on the server (:mod:`liveworth.render.pagecharts`, the same as the web
session page's), so there is no script at all, no CDN and nothing to fetch; a
Content-Security-Policy forbids scripts outright. Every string that comes from the stream
(nicknames, user names, gift names, host) is hostile input and goes through :func:`html.escape`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape

from liveworth.analysis.report import SessionReport
from liveworth.economy.money import fmt, split_cents, usd
from liveworth.economy.numbers import count
from liveworth.render.charts import CSS as CHART_CSS

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:980px;color:#1c1c1e;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.sub{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:10px;padding:.8rem 1rem;min-width:170px}
.card b{display:block;font-size:1.4rem}.card span{color:#666;font-size:.85rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;
text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.flag{background:#fff6db;border-left:4px solid #e0a800;padding:.4rem .7rem;margin:.4rem 0}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def card_row(cards: list[tuple[str, str]]) -> str:
    """Headline figures as a row of cards: (value, label) pairs, escaped."""
    return "".join(f"<div class='card'><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                   for v, k in cards)


def _cards(rep: SessionReport) -> str:
    """The headline figures as a row of cards."""
    m, s = rep.money, rep.money.shown()  # s: in cents, the parts adding up to the whole
    cards = [
        (usd(s.creator_usd), "creator receives"),
        (usd(s.viewer_usd), f"viewers paid ({m.channel} coins)"),
        (usd(s.platform_usd), "TikTok & stores kept"),
        (f"{rep.coins:,}", f"coins ({rep.coins_unconfirmed:,} unconfirmed)"),
        (f"{rep.unique_gifters:,}", "gifters"),
        ("-" if rep.peak_viewers is None else f"{rep.peak_viewers:,}", "peak viewers"),
    ]
    return card_row(cards)


def _gifter_rows(rep: SessionReport) -> str:
    """One table row per top gifter."""
    return "".join(
        f"<tr><td class='n'>{i}</td><td>{_e(g.user or g.user_id)}</td><td>{_e(g.nickname)}</td>"
        f"<td class='n'>{g.coins:,}</td><td class='n'>{g.gifts:,}</td></tr>"
        for i, g in enumerate(rep.top_gifters, 1)
    )


def _credits(rep: SessionReport) -> str:
    """The still credits: every gifter of the session with their coins, biggest first."""
    rows = "".join(f"<li><span class='who'>{_e(g.nickname or g.user or g.user_id or '?')}</span> "
                   f"<span class='n'>{g.coins:,}</span></li>" for g in rep.credits)
    return (f"<h2>Credits</h2><p class='sub'>Every gifter of the session, biggest first "
            f"(coins to the host).</p><ol class='credits'>{rows}</ol>") if rows else ""


def _tier_rows(rep: SessionReport) -> str:
    """One table row per gift price tier, named as on the chart (``1–9``, ``10,000+``)."""
    from liveworth.render.pagecharts import tier_label

    return "".join(
        f"<tr><td>{_e(tier_label(label))}</td><td class='n'>{n:,}</td><td class='n'>{c:,}</td>"
        f"<td class='n'>{(c / rep.coins if rep.coins else 0):.1%}</td></tr>"
        for label, n, c in rep.tiers
    )


def _engagement_rows(rep: SessionReport) -> str:
    """One table row per kind of engagement, with its rate per minute."""
    return "".join(
        f"<tr><td>{_e(k)}</td><td class='n'>{v:,}</td><td class='n'>{rep.per_minute(k):.2f}</td>"
        "</tr>" for k, v in rep.engagement.items()
    )


def _flags(rep: SessionReport) -> str:
    """The data-quality flags, or a line saying there are none."""
    flags = "".join(f"<div class='flag'><b>{_e(f['flag'])}</b>: {_e(f['message'])}</div>"
                    for f in rep.flags)
    return flags or "<p>No flags.</p>"


def _head(rep: SessionReport) -> str:
    """The document up to and including ``<body>``."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>liveworth — session {_e(rep.room_id)}</title><style>{_STYLE}{CHART_CSS}</style></head>
<body>
"""


def _summary(rep: SessionReport) -> str:
    """Title, time span, cards and the paragraph on where the money went."""
    m = rep.money
    return f"""<h1>Session {_e(rep.room_id)} — {_e(rep.host or "unknown host")}</h1>
<div class="sub">{_e(_when(rep.start_ts))} → {_e(_when(rep.end_ts))}
({rep.duration_s / 60:,.1f} min, {count(rep.events, "event")}) · rate card {_e(m.rate_card)}
</div>
<div class="cards">{_cards(rep)}</div>
<p>{count(rep.coins, "coin")} = {count(m.diamonds, "diamond")}: {rep.coins_confirmed:,} confirmed,
{rep.coins_unconfirmed:,} unconfirmed. Exact: creator {_e(fmt(m.creator_usd))} USD, viewers
{_e(fmt(m.viewer_usd))} USD, platform {_e(fmt(m.platform_usd))} USD. Guest gifts (not the host's):
{count(rep.guest_coins, "coin")}. {count(rep.gift_count, "gift")} in
{count(rep.gift_sends, "send")}; the top gifter gave {rep.top_gifter_share:.0%} of coins, the top
10 % of gifters {rep.top_10pct_share:.0%}.</p>
"""


def signed_usd(value: Decimal) -> str:
    """``$0.50`` or ``-$0.50``."""
    return "-" + usd(-value) if value < 0 else usd(value)


def _adjustments(rep: SessionReport) -> str:
    """The manual adjustments, apart from the counted coins, and the total they make; nothing
    for a session without any."""
    if not rep.adjustments:
        return ""
    counted, adjusted = split_cents(rep.money.creator_usd, rep.adjusted_creator_usd)
    rows = "".join(
        f"<tr><td class='n'>{a.id}</td><td class='n'>{a.coins:+,}</td><td>{_e(a.reason)}</td>"
        f"<td>{_e(a.user_id or '–')}</td><td>{_e(a.made_by or '?')}</td>"
        f"<td>{a.made_at:%Y-%m-%d %H:%M} UTC</td>"
        f"<td>{'counted in' if a.active else _e(f'undone {a.undone_at:%Y-%m-%d %H:%M} UTC')}"
        "</td></tr>" for a in rep.adjustments)
    return f"""<h2>Manual adjustments</h2>
<p id="adjusted-total">Coins gifted to the host: counted {rep.coins:,} + adjusted
{rep.adjusted_coins:,} = {count(rep.total_coins, "coin")}. The creator receives counted
{usd(counted)} + adjusted {signed_usd(adjusted)} = {usd(counted + adjusted)} (exact:
{_e(fmt(rep.total_creator_usd))} USD). The other figures of this report are the counted ones.</p>
<table id="adjustments"><tr><th class='n'>id</th><th class='n'>coins</th><th>reason</th>
<th>gifter</th><th>by</th><th>made</th><th>status</th></tr>{rows}</table>
"""


def _subscriptions(rep: SessionReport) -> str:
    """The LIVE's subscriptions apart from its gifts: whose money, and the creator's total."""
    from liveworth.analysis.subscriptions import summary_line

    subs = rep.subscriptions
    if subs is None:
        return ""
    viewer, store, tiktok, creator = subs.viewer_usd, subs.store_usd, subs.tiktok_usd, \
        subs.creator_usd
    shown = subs.split_shown()
    return f"""<h2>LIVE subscriptions</h2>
<p id="subscriptions">{_e(summary_line(rep.total_creator_usd, subs))}</p>
<table><tr><th>whose money</th><th>figure</th><th class='n'>amount</th><th>exact USD</th></tr>
<tr><td>viewers</td><td>paid ({subs.count:,} subscriptions)</td><td class='n'>{usd(viewer)}</td>
<td>{_e(fmt(viewer))}</td></tr>
<tr><td>creator</td><td>receives</td><td class='n'>{usd(shown[0])}</td><td>{_e(fmt(creator))}</td>
</tr><tr><td>TikTok</td><td>keeps</td><td class='n'>{usd(shown[1])}</td><td>{_e(fmt(tiktok))}</td>
</tr><tr><td>app store</td><td>fee</td><td class='n'>{usd(shown[2])}</td><td>{_e(fmt(store))}</td>
</tr></table>
"""


def missions_html(rep: SessionReport) -> str:
    """The Scaled LIVE rewards missions (``us-scaled``): the LIVE's rate and each mission."""
    from liveworth.economy.missions import pct

    r = rep.rewards
    if r is None:
        return ""
    m = r.missions
    rows = "".join(
        f"<tr><td>{_e(x.name)}</td><td>{'yes' if x.met else 'no'}</td>"
        f"<td class='n'>{_e(pct(x.contribution))}</td><td>{_e(x.progress)}</td>"
        f"<td>{_e(x.missing or '–')}</td></tr>" for x in m.missions)
    return f"""<h2>Scaled LIVE rewards missions</h2>
<p id="missions">This LIVE's reward rate: <b>{_e(pct(m.reward_rate))}</b> (the creator's money
above is at it). The week of {_e(r.week.isoformat())} ({_e(r.tz)}) adds {_e(pct(m.weekly_rate))}:
{usd(rep.weekly_creator_usd)} credited on the Monday after, apart from the figure above.</p>
<table class="missions"><tr><th>mission</th><th>met</th><th class='n'>adds</th>
<th>where it stands</th><th>missing</th></tr>{rows}</table>
"""


def _details(rep: SessionReport) -> str:
    """Charts and tables from coins over time to the data-quality flags, and the footer."""
    from liveworth.render.pagecharts import session_figures

    figs = session_figures(rep)
    per_1000 = rep.coins_per_1000_viewer_minutes
    engagement = _engagement_rows(rep)
    return f"""<h2>Coins over time</h2>{figs["coins"]}
<h2>Viewers over time</h2>{figs["viewers"]}
<h2>Top gifters</h2>
<table><tr><th class='n'>#</th><th>gifter</th><th>nickname</th><th class='n'>coins</th>
<th class='n'>gifts</th></tr>{_gifter_rows(rep)}</table>{_credits(rep)}
<h2>Gift price tiers</h2>{figs["tiers"]}
<table><tr><th>tier (coins)</th><th class='n'>gifts</th><th class='n'>coins</th>
<th class='n'>share</th></tr>{_tier_rows(rep)}</table>
<h2>Engagement</h2>
<table><tr><th>what</th><th class='n'>total</th><th class='n'>per minute</th></tr>{engagement}
</table>
<p>Coins per 1,000 viewer-minutes: {"-" if per_1000 is None else f"{per_1000:,.1f}"}.</p>
<h2>Data quality</h2>{_flags(rep)}
<p class="sub">Made by liveworth. Money is exact; figures say whose money they are.</p>
</body></html>
"""


def render_html(rep: SessionReport) -> str:
    """The whole report as one HTML document."""
    return (_head(rep) + _summary(rep) + missions_html(rep) + _adjustments(rep)
            + _subscriptions(rep) + _details(rep))

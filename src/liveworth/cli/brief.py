"""``liveworth brief``: the agency's daily brief (:mod:`liveworth.analysis.brief`,
docs/BRIEF.md) as a table, JSON or one self-contained HTML page to mail."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    open_read,
    print_json,
    writable_file,
)
from liveworth.cli.tiers import add_tier_options
from liveworth.economy.money import usd
from liveworth.economy.numbers import count
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.analysis.brief import Brief, CreatorDay
    from liveworth.analysis.roster import Pace


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f} %"


def _signed(value: Decimal) -> str:
    return "-" + usd(-value) if value < 0 else "+" + usd(value)


def _who(c: CreatorDay) -> str:
    return "@" + term(c.host) if c.host else "?"


def pace_text(p: Pace | None) -> str:
    """``gold → on pace for diamond`` (or ``–`` without a LIVE this month)."""
    if p is None:
        return "–"
    return f"{p.tier or 'none'} → on pace for {p.projected_tier or 'none'}"


def _creators(b: Brief, console: Console) -> None:
    from rich.table import Table

    adjusted = any(c.adjusted_coins for c in b.creators)
    t = Table("creator", "sessions", "hours", "coins" + (" (+ adjusted)" if adjusted else ""),
              "creator USD", "7-day avg", "28-day avg", "vs 7 days", "tier pace",
              title=f"{b.date} per creator (creator USD: what the creator receives"
              + (", counted + adjusted" if adjusted else "") + ")", title_justify="left")
    for c, cents in zip(b.creators, b.creator_usd_shown(), strict=True):  # rows add up
        coins = f"{c.coins:,}" + (f" ({c.adjusted_coins:+,})" if c.adjusted_coins else "")
        t.add_row(_who(c), f"{c.sessions:,}", f"{c.hours:.1f}", coins,
                  usd(cents), usd(c.avg_7d_usd), usd(c.avg_28d_usd),
                  _pct(c.change_7d_pct), pace_text(c.tier_pace))
    total = b.totals()
    t.add_row("[bold]all[/bold]", f"{total['sessions']:,}", f"{total['hours']:.1f}",
              f"{total['coins']:,}" + (f" ({total['adjusted_coins']:+,})" if adjusted else ""),
              usd(Decimal(total["total_creator_usd"])), "", "", "", "")
    console.print(t)


def render_brief(b: Brief, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]Daily brief for {b.date}[/bold] (made for {b.as_of}; times in "
                  f"{term(b.tz)}; rate card {b.rate_card})")
    if not b.creators:
        console.print(f"no LIVE by the end of {b.date}")
    else:
        _creators(b, console)
    for title, movers in (("rises", b.rises), ("falls", b.falls)):
        if movers:
            console.print(f"[bold]{title}[/bold]: " + "; ".join(
                f"{_who(c)} {usd(c.total_creator_usd)} ({_signed(c.change_usd)} vs the "
                f"7-day average {usd(c.avg_7d_usd)}, {_pct(c.change_7d_pct)})" for c in movers))
    if b.dark:
        t = Table("creator", "last LIVE", "days dark",
                  title=f"went dark (no LIVE for {count(3, 'day')} or more)",
                  title_justify="left")
        for c in b.dark:
            t.add_row(_who(c), term(c.last_live or "?"), f"{c.days_dark:,}")
        console.print(t)
    if b.alerts:
        t = Table("time", "creator", "rule", "kind", "alert", title=count(len(b.alerts), "alert"),
                  title_justify="left")
        for a in b.alerts:
            t.add_row(a.time[11:19], "@" + term(a.host) if a.host else term(a.room_id),
                      term(a.rule), term(a.kind), term(a.text))
        console.print(t)
    else:
        console.print(f"no alerts on {b.date}")
    console.print("averages: the 7 / 28 days before the day, days without LIVE as 0; sessions "
                  "count on the day they start")
    console.print(f"[yellow]note[/yellow] {b.tiers_note}")


def cmd_brief(args: argparse.Namespace, console: Console) -> int:
    from liveworth.analysis.brief import brief, brief_day
    from liveworth.analysis.sessionstats import zone
    from liveworth.cli.sessions import not_the_database
    from liveworth.cli.tiers import tier_settings

    if args.json and args.html:
        raise UsageError("give --json or --html FILE, not both")
    zone(args.tz)
    brief_day(args.date, args.tz)  # a bad date or zone says so before the database is opened
    not_the_database(args.html, args.db, "--html")
    card = card_from_args(args)
    tiers = tier_settings(args)
    with open_read(args, collect=False) as store:
        b = brief(store, card, date=args.date, tz=args.tz, tiers=tiers.tiers,
                  active_day_minutes=tiers.active_day_minutes)
    if args.json:
        print_json(console, b.as_dict())
        return 0
    if args.html:
        from liveworth.render.brief_html import render_brief_html

        Path(args.html).write_text(render_brief_html(b), encoding="utf-8")
        console.print(f"brief for {b.date} written to {term(args.html)}")
        return 0
    render_brief(b, console)
    return 0


def register(command: CommandFactory) -> None:
    p = command("brief", cmd_brief, "the agency's daily brief: yesterday per creator, movers, "
                "who went dark, tier pace, alerts",
                "For the day before --date (default: today in --tz): per creator, the day's "
                "sessions, hours, coins and creator USD against their 7-day and 28-day daily "
                "averages (the days before, days without LIVE as 0), the largest rises and "
                "falls, the creators without a LIVE for 3 days or more, each one's tier pace "
                "for the month as of that day, and the day's stored alerts. Manual "
                "adjustments are shown apart and counted in the totals (docs/BRIEF.md).")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="the brief covers the day before this one (default: today)")
    p.add_argument("--tz", default="UTC", help="time zone of days (default UTC)")
    p.add_argument("--html", type=writable_file, metavar="FILE",
                   help="write the brief as one self-contained HTML page (to mail)")
    add_db(p, lake=True)
    add_tier_options(p)
    add_card_options(p, channel=False)
    add_json(p)

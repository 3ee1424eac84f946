"""Commands across sessions: ``analyze``, ``gifters``, ``roster``."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from liveworth.analysis.settings import DEFAULT_SEED, LEVEL, MIN_SESSIONS, PERIODS
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    duration,
    open_read,
    print_json,
    when,
)
from liveworth.cli.tiers import add_tier_options
from liveworth.economy.money import usd
from liveworth.economy.numbers import count, grouped
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.analysis.analytics import Analysis
    from liveworth.analysis.boards import Board, BoardRow
    from liveworth.analysis.roster import Roster

GIFTERS_SHOWN = 25
BATTLE_OPPONENTS_SHOWN = 10
#: Heatmap blocks: never live, then the five colour steps of the analysis page.
_BLOCKS = ("·", "▁", "▃", "▅", "▇", "█")
WEEKS_SHOWN = 12


def _add_scope(p: argparse.ArgumentParser, host_help: str) -> None:
    add_db(p, lake=True)
    p.add_argument("--host", metavar="@USER", help=host_help)
    p.add_argument("--since", metavar="DATE", help="only sessions starting on or after this "
                   "date (YYYY-MM-DD, local to --tz)")
    p.add_argument("--tz", default="UTC", help="time zone for start hours, weekdays, weeks and "
                   "months (IANA name, default UTC)")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


# ---------------------------------------------------------------------------- analyze


def _effect(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f}" if unit == "elasticity" else f"{value:+.0f} %"


def _print_headline(a: Analysis, console: Console) -> None:
    """Who, how many sessions and hours, and what the creator received."""
    who = f"@{term(a.host)}" if a.host else "unknown creator"
    since = f" since {a.since}" if a.since else ""
    console.print(f"[bold]{who}[/bold]: {count(len(a.sessions), 'session')}{since}, "
                  f"{duration(a.hours * 3600)} live, {count(a.coins, 'coin')}")
    per_hour = a.usd_per_hour
    console.print(f"[bold]The creator received {usd(a.creator_usd)}[/bold]: "
                  f"{usd(a.usd_per_session)} per session"
                  + ("" if per_hour is None else f", {usd(per_hour)} per hour live")
                  + f" (rate card {a.rate_card})")
    if a.adjusted_coins:
        console.print(adjusted_total(a.coins, a.adjusted_coins, a.creator_usd,
                                     a.adjusted_creator_usd)
                      + "; everything else here is the counted coins")


def _print_weeks(a: Analysis, console: Console) -> None:
    """The last :data:`WEEKS_SHOWN` weeks as a table."""
    from rich.table import Table

    t = Table("week of", "sessions", "hours", "creator USD", "per session", "per hour",
              "top-5 share", title="week by week", title_justify="left")
    for week in a.trend[-WEEKS_SHOWN:]:
        t.add_row(week.week.isoformat(), str(week.sessions), f"{week.hours:.1f}",
                  usd(week.creator_usd), usd(week.usd_per_session),
                  "–" if week.usd_per_hour is None else usd(week.usd_per_hour),
                  f"{week.top5_share:.0%}")
    console.print(t)


def _print_drivers(a: Analysis, console: Console) -> None:
    """The drivers of coins as a table, significant effects starred."""
    from rich.table import Table

    t = Table("lever", "effect", f"{LEVEL:.0%} interval", "unit", "n", "",
              title="what drives your coins (each at equal length; engagement, battles and "
              "viewers also at equal audience)", title_justify="left")
    for d in a.drivers:
        mark = "[bold]*[/bold]" if d.significant else ""
        interval = "–" if d.ci_low is None or d.ci_high is None else \
            f"{_effect(d.ci_low, d.unit)} … {_effect(d.ci_high, d.unit)}"
        t.add_row(d.label, _effect(d.effect, d.unit) + mark, interval, d.unit, str(d.n),
                  d.note)
    console.print(t)


def _print_elasticity_and_whales(a: Analysis, console: Console) -> None:
    """The elasticity of coins to viewers and the dependence on the biggest gifters."""
    e = a.elasticity_viewers
    console.print("elasticity of coins to viewers: " + (
        e.note if e.effect is None else
        f"{e.effect:.2f} ({LEVEL:.0%} CI {e.ci_low:.2f} to {e.ci_high:.2f}, "
        f"{count(e.n, 'session')}): 1 % more viewers, {e.effect:.2f} % more coins"))
    w = a.whales
    console.print(f"whale dependence: top gifter {w.top1_share:.0%} of coins, top 5 "
                  f"{w.top5_share:.0%} ({count(w.gifters, 'gifter')})" + (
                      "" if w.trend_top5 is None or w.trend_ci_low is None
                      or w.trend_ci_high is None else
                      f"; a session's top-5 share changes {w.trend_top5:+.1%} per 30 days "
                      f"(CI {w.trend_ci_low:+.1%} to {w.trend_ci_high:+.1%})"))


def _print_recommendations(a: Analysis, console: Console) -> None:
    """Each recommendation with its expected effect (when measured) and its evidence."""
    from liveworth.analysis.advice import signed_usd

    console.print("[bold]Recommendations[/bold]")
    for r in a.recommendations:
        console.print(f"• [bold]{r.strategy}[/bold] ({r.status}): {r.advice}")
        if r.expected is not None:
            x = r.expected
            console.print(f"    expected if you follow it: {x.change} → {x.pct:+.1f} % "
                          f"({x.pct_low:+.1f} to {x.pct_high:+.1f} %), about "
                          f"{signed_usd(x.usd_per_session)} of creator USD per session "
                          f"({signed_usd(x.usd_low)} to {signed_usd(x.usd_high)})")
        console.print(f"    evidence: {r.evidence}")


def _print_risks(a: Analysis, console: Console) -> None:
    """What the money rests on (nothing without gifts)."""
    if a.risks:
        console.print("[bold]Risks[/bold]")
    for k in a.risks:
        console.print(f"• [bold]{k.level}[/bold]: {k.what}")
        console.print(f"    evidence: {k.evidence}")


def _print_top_gifters(a: Analysis, console: Console) -> None:
    """The top gifters as a table (nothing when there are none)."""
    from rich.table import Table

    if a.top_gifters:
        t = Table("#", "gifter", "coins", "share", "sessions", title="top gifters",
                  title_justify="left")
        for g in a.top_gifters:
            t.add_row(str(g.rank), term(g.user or g.user_id or "?"), f"{g.coins:,}",
                      f"{g.share:.1%}",
                      f"{g.sessions:,}")
        console.print(t)


def _print_when(a: Analysis, console: Console) -> None:
    """The weekday × hour heatmap as blocks (darker: more coins per hour LIVE), best hours."""
    from liveworth.analysis.sessionstats import WEEKDAYS
    from liveworth.render.analysis_sections import edges, step

    h = a.heatmap
    if h is None:
        return
    rates = [c.coins_per_hour for row in h.rows for c in row if c.coins_per_hour is not None]
    top = max(rates, default=0.0)
    console.print(f"[bold]when to go live[/bold]: coins per hour LIVE by weekday and hour "
                  f"({term(a.tz)})")
    console.print("     " + "".join(f"{hr:<6d}" for hr in range(0, 24, 3)))
    for d, row in enumerate(h.rows):
        console.print(f"{WEEKDAYS[d]}  " + "".join(_BLOCKS[step(c, top)] * 2 for c in row))
    e = edges(top)
    console.print("  ".join([f"{_BLOCKS[0]} never live"] + [
        f"{_BLOCKS[k]} {e[k - 1]}–{e[k]}" for k in range(1, 6)]) + " coins/h")
    best = h.best(3)
    if best:
        console.print("best hours (≥ 1 h live): " + "; ".join(
            f"{WEEKDAYS[d]} {hr:02d}:00 {c.coins_per_hour or 0:,.0f} coins/h over "
            f"{c.hours_live:.1f} h" for d, hr, c in best))


def _print_battles(a: Analysis, console: Console) -> None:
    """Coins per minute during battles against outside them, results, opponents."""
    from rich.table import Table

    b = a.battles
    if b is None or not b.count:
        if b is not None:
            console.print("battles: none in these sessions")
        return
    d, o, r = b.during, b.outside, b.results()

    def rate(x: float | None) -> str:
        return "–" if x is None else f"{x:,.1f}"

    console.print(
        f"[bold]battles[/bold]: {count(b.count, 'battle')} in {b.sessions_with_battles:,} of "
        f"{count(b.sessions, 'session')}; during battles {rate(d.coins_per_minute)} coins/min "
        f"({d.coins:,} coins in {d.minutes:,.1f} min), outside {rate(o.coins_per_minute)} "
        f"coins/min ({o.coins:,} coins in {o.minutes:,.1f} min)"
        + ("" if b.ratio is None else f": {b.ratio:.2f}× the rate"))
    console.print(f"results: {r['wins']:,} won, {r['losses']:,} lost, {r['draws']:,} drawn, "
                  f"{r['unknown_result']:,} unknown (TikTok sends a result only when a battle "
                  "finishes on stream)")
    t = Table("opponent", "battles", "won", "lost", "drawn", "unknown", "minutes", "coins",
              "coins/min", title="per opponent", title_justify="left")
    for x in b.opponents[:BATTLE_OPPONENTS_SHOWN]:
        t.add_row(term(x.opponent), f"{x.battles:,}", f"{x.wins:,}", f"{x.losses:,}",
                  f"{x.draws:,}", f"{x.unknown_result:,}", f"{x.span.minutes:,.1f}",
                  f"{x.span.coins:,}", rate(x.span.coins_per_minute))
    console.print(t)


def render_analysis(a: Analysis, console: Console) -> None:
    _print_headline(a, console)
    _print_weeks(a, console)
    _print_drivers(a, console)
    _print_elasticity_and_whales(a, console)
    _print_recommendations(a, console)
    _print_risks(a, console)
    _print_top_gifters(a, console)
    _print_when(a, console)
    _print_battles(a, console)
    for n in a.notes:
        console.print(f"[yellow]note[/yellow] {n}")


def cmd_analyze(args: argparse.Namespace, console: Console) -> int:
    import numpy as np

    from liveworth.analysis.analytics import analyze

    card = card_from_args(args)
    with open_read(args, collect=False) as store:
        a = analyze(store, card, host=args.host, since=args.since, tz=args.tz,
                    rng=np.random.default_rng(args.seed))
    if args.html:
        from liveworth.render.analysis_html import render_analysis_html

        try:
            Path(args.html).write_text(render_analysis_html(a), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.html}: cannot write: {exc.strerror}") from None
    if args.json:
        print_json(console, a.as_dict())
        return 0
    render_analysis(a, console)
    if args.html:
        console.print(f"HTML analysis written to {args.html}")
    return 0


# ---------------------------------------------------------------------------- gifters


def cmd_gifters(args: argparse.Namespace, console: Console) -> int:
    from liveworth.analysis.boards import board
    from liveworth.analysis.gifters import loyalty

    card = card_from_args(args)
    with open_read(args, collect=False) as store:
        b = board(store, card, host=args.host, since=args.since, tz=args.tz, window=args.window,
                  as_of=args.as_of, overdue=args.overdue)
    rows = list(b.rows)
    shown = rows if args.top is None and args.json else rows[:args.top or GIFTERS_SHOWN]
    if args.json:
        print_json(console, [r.as_dict() for r in shown])
        return 0
    _print_board(b, shown, console)
    if not args.overdue:
        loyal = loyalty([r.stats for r in rows], b.sessions)
        console.print(f"returning gifters (a gift in more than one session): {loyal.returning:,} "
                      f"of {loyal.gifters:,}, giving {loyal.returning_coin_share:.0%} of coins; "
                      f"{loyal.new_per_session:.1f} new and {loyal.returning_per_session:.1f} "
                      "returning gifters per session")
    return 0


def _print_board(b: Board, shown: list[BoardRow], console: Console) -> None:
    from rich.table import Table

    what = {"live": "the latest session", "7d": "the 7 days", "30d": "the 30 days",
            "lifetime": "every session"}[b.window]
    title = (f"{count(len(b.rows), 'overdue regular')} (the churn watch list)" if b.overdue_only
             else f"{count(len(b.rows), 'gifter')} over {count(len(b.sessions), 'session')}")
    t = Table("#", "gifter", "nickname", "coins", "creator USD", "share", "sessions", "first",
              "last", "usual gap", "tags", title=f"{title}; {what} up to {when(b.as_of_ms)}",
              title_justify="left")
    for r in shown:
        g, h = r.stats, r.habit
        gap = "–" if h is None or h.usual_gap_days is None else f"{h.usual_gap_days:.1f} d"
        t.add_row(str(g.rank), term(g.user or g.user_id or "?"), term(g.nickname), f"{g.coins:,}",
                  usd(g.creator_usd), f"{g.share:.1%}", f"{g.sessions:,}", when(g.first_ts)[:10],
                  when(g.last_ts)[:10], gap + (" overdue" if h is not None and h.overdue else ""),
                  term(", ".join(r.tags)))
    console.print(t)


# ---------------------------------------------------------------------------- roster


def adjusted_total(coins: int, adjusted: int, money: Decimal, adjusted_money: Decimal) -> str:
    """``with manual adjustments: counted 12,400 + adjusted 300 = 12,700 coins; the creator
    receives counted $62.00 + adjusted $1.50 = $63.50`` (the parts shown add up)."""
    from liveworth.economy.money import split_cents

    counted, extra = split_cents(money, adjusted_money)
    sign = "-" + usd(-extra) if extra < 0 else usd(extra)
    return (f"with manual adjustments: counted {coins:,} + adjusted {adjusted:,} = "
            f"{count(coins + adjusted, 'coin')}; the creator receives counted {usd(counted)} + "
            f"adjusted {sign} = {usd(counted + extra)}")


def render_roster(r: Roster, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]Roster by {r.period}[/bold] (as of {r.as_of}, times in {r.tz}, rate "
                  f"card {r.rate_card})")
    shown = r.creator_usd_shown()  # in cents, the rows adding up to the total
    for total in r.totals:
        t = Table("creator", "sessions", "hours",
                  "coins (adjusted)" if total.adjusted_coins else "coins", "diamonds",
                  "creator USD",
                  "active days", "tier now", "on pace for", "next tier needs",
                  title=f"{total.period}", title_justify="left")
        for row in (x for x in r.rows if x.period == total.period):
            p = row.pace
            needs = "–"
            if p is not None and p.next_tier is not None:
                parts = [count(p.diamonds_to_next or Decimal(0), "diamond")]
                if p.active_days_to_next:
                    parts.append(count(p.active_days_to_next, "day"))
                if p.hours_to_next:
                    parts.append(f"{p.hours_to_next:.1f} h")
                needs = f"{p.next_tier}: " + ", ".join(parts)
            coins = f"{row.coins:,}" + (f" ({row.adjusted_coins:+,})" if row.adjusted_coins
                                        else "")
            t.add_row("@" + term(row.host) if row.host else "?", f"{row.sessions:,}",
                      f"{row.hours:.1f}", coins, grouped(row.diamonds),
                      usd(shown[(row.period, row.host)]), f"{row.active_days:,}",
                      "–" if p is None else p.tier or "none",
                      "–" if p is None else p.projected_tier or "none", needs)
        t.add_row(f"[bold]all {total.creators:,}[/bold]", f"{total.sessions:,}",
                  f"{total.hours:.1f}", f"{total.coins:,}", grouped(total.diamonds),
                  usd(total.creator_usd), f"{total.active_days:,}", "", "", "")
        console.print(t)
    for total in (t for t in r.totals if t.weekly_creator_usd):
        console.print(f"{total.period} Scaled LIVE rewards weekly missions: + "
                      f"{usd(total.weekly_creator_usd)} credited on Mondays (not in the creator "
                      "USD column; each week's LIVEs over 25 min, in the roster's time zone)")
    for total in (t for t in r.totals if t.adjusted_coins):
        console.print(f"{total.period} " + adjusted_total(
            total.coins, total.adjusted_coins, total.creator_usd, total.adjusted_creator_usd)
            + " (the pace counts them; the columns are counted)")
    if not r.totals:
        console.print("no sessions")
    console.print("tiers: " + "; ".join(t.describe() for t in r.tiers))
    console.print(f"sessions up to the end of {r.as_of} ({r.tz}), each counted whole on the day "
                  f"it starts; an active day has ≥ {r.active_day_minutes:g} min of LIVE")
    console.print(f"[yellow]note[/yellow] {r.note}")


def violation_cuts(specs: list[str]) -> dict[str, Decimal]:
    """``ROOM_ID=SHARE`` options as room id → violation cut (a UsageError naming a bad one)."""
    from liveworth.economy.missions import check_cut

    out = {}
    for spec in specs:
        room, sep, cut = spec.rpartition("=")
        if not sep or not room.strip():
            raise UsageError(f"--violation-cut needs ROOM_ID=SHARE (e.g. 7301=0.10), got "
                             f"{term(spec)!r}")
        out[room.strip()] = check_cut(cut)
    return out


def cmd_roster(args: argparse.Namespace, console: Console) -> int:
    from liveworth.analysis.roster import roster as build_roster
    from liveworth.cli.tiers import tier_settings

    card = card_from_args(args)
    tiers = tier_settings(args)
    with open_read(args, collect=False) as store:
        r = build_roster(store, card, period=args.period, tiers=tiers.tiers,
                         as_of=args.as_of, tz=args.tz, since=args.since,
                         active_day_minutes=tiers.active_day_minutes,
                         violation_cuts=violation_cuts(args.violation_cut))
    if args.json:
        print_json(console, r.as_dict())
        return 0
    render_roster(r, console)
    return 0


def register(command: CommandFactory) -> None:
    p = command("analyze", cmd_analyze, "what drives a creator's earnings across sessions",
                "Across one creator's recorded sessions: creator USD per session and per hour "
                "week by week; the drivers of coins (session length, start time and weekday, "
                "average viewers as an elasticity, engagement, follows and shares, battles, "
                "days since the previous LIVE, returning gifters), each with a "
                f"{LEVEL:.0%} interval and its number of sessions; whale dependence; top "
                "gifters; recommendations tying the five classic strategies to the "
                "creator's own levers, each priced in the direction the data measured; and "
                "risks (a top gifter stopping, whale dependence); when to go live (coins per "
                "hour LIVE by weekday, Monday first, and hour of day in --tz); battles (coins "
                "per minute during battles against outside them, per opponent, wins and "
                "losses). Below "
                f"{MIN_SESSIONS} sessions it says 'too few sessions' instead of inventing "
                "numbers.")
    _add_scope(p, "the creator to analyse (needed when the database holds several)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a report")
    out.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page")
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"seed of the bootstrap (default {DEFAULT_SEED}): same seed, same output")
    add_card_options(p)

    p = command("gifters", cmd_gifters, "the gifter leaderboard across sessions",
                "Every gifter across sessions, biggest first: lifetime coins, creator USD, "
                "share, sessions with a gift, first and last gift; returning (loyal) gifters "
                "and new gifters per session. Gifts to guests are left out. --window picks "
                "the span (live, 7d, 30d, lifetime); every row has the gifter's CRM tags and "
                "notes, names, usual gap between gifting sessions and whether they are "
                "overdue (--overdue: only those, the churn watch list; docs/CRM.md).")
    _add_scope(p, "only this creator's sessions (default: every creator)")
    p.add_argument("--top", type=_seed, help=f"show only the top N (default: {GIFTERS_SHOWN} "
                   "in the table, everyone with --json)")
    p.add_argument("--window", choices=("live", "7d", "30d", "lifetime"), default="lifetime",
                   help="live: the host's current or latest session; 7d, 30d: gifts in the days "
                   "up to the as-of time; lifetime (default): every selected session")
    p.add_argument("--as-of", metavar="DATE", help="measure windows, gaps and overdue at the "
                   "end of this day (in --tz; default: the latest event in the store)")
    p.add_argument("--overdue", action="store_true", help="only regulars (3+ gifting sessions) "
                   "overdue: days since their last gift > max(2 x usual gap, usual gap + 7)")
    add_card_options(p)
    add_json(p)

    p = command("roster", cmd_roster, "agency roll-up per creator and month, with tier pace",
                "Per creator and in total, per month (or week): sessions, hours live, coins, "
                "diamonds, creator USD, active days, and each creator's pace towards monthly "
                "tier thresholds. The default thresholds are liveworth's placeholders (an "
                "assumption): set your agency's with --tiers FILE or --tier.")
    add_db(p, lake=True)
    p.add_argument("--period", choices=PERIODS, default="month", help="roll-up period")
    p.add_argument("--since", metavar="DATE", help="only sessions on or after this date")
    p.add_argument("--as-of", metavar="DATE", help="as of the end of this day (in --tz): "
                   "sessions that start later count nowhere (default: today)")
    p.add_argument("--tz", default="UTC", help="time zone of days and months (default UTC)")
    p.add_argument("--violation-cut", action="append", default=[], metavar="ROOM_ID=SHARE",
                   help="--preset us-scaled: points TikTok cut from a LIVE's reward rate for "
                        "violations, 0-1 (repeatable; liveworth cannot see them)")
    add_tier_options(p)
    add_card_options(p)
    add_json(p)

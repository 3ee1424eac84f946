"""``liveworth forecast``: the month so far (exact), where it is heading and the tier odds.

It opens the store read-only, loads the creator's history (:mod:`liveworth.model.history`), calls
:func:`liveworth.model.forecast.forecast` and renders a table or ``--json`` (money as decimal
strings). The option values are read as ``estimate`` reads them (:mod:`liveworth.cli.estimate`).
Bad values raise :class:`UsageError` (one line, exit status 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from liveworth.cli.estimate import followers_option, optional_number, seeded_rng, simulations_option
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    print_json,
)
from liveworth.cli.tiers import add_tier_options
from liveworth.economy.money import usd
from liveworth.economy.numbers import count, grouped
from liveworth.errors import UsageError
from liveworth.model.inputs import DEFAULT_SESSIONS
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.model.forecast import Forecast

# ---------------------------------------------------------------------------- forecast


#: The last month a forecast can cover (its end must be a date Python can hold).
LAST_MONTH = "9999-11"


def _as_of(text: str | None) -> dt.date:


    from liveworth.model.forecast import today_utc

    if text is None:
        return today_utc()
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--as-of: expected a date as YYYY-MM-DD, got {text!r}") from None
    if f"{day.year:04d}-{day.month:02d}" > LAST_MONTH:
        raise UsageError(f"--as-of: forecasts end in {LAST_MONTH}, got {text!r}")
    return day


def cmd_forecast(args: argparse.Namespace, console: Console) -> int:


    from liveworth.analysis.rewards import new_followers
    from liveworth.cli.tiers import tier_settings
    from liveworth.model.calibrate import load_history
    from liveworth.model.forecast import forecast
    from liveworth.store.database import Store

    card = card_from_args(args)
    as_of = _as_of(args.as_of)
    month = args.month or f"{as_of.year:04d}-{as_of.month:02d}"
    if month.strip().startswith("9999-12"):
        raise UsageError(f"--month: forecasts end in {LAST_MONTH}, got {month!r}")
    settings = tier_settings(args)
    sims = simulations_option(args)
    rng, seed = seeded_rng(args.seed)
    followers = followers_option(args)
    with Store.open(args.db, read_only=True) as store:
        history = load_history(store, args.host, card)
        follows = None if card.missions is None else new_followers(store)  # us-scaled
    result = forecast(history, month=month, as_of=as_of, rng=rng, card=card, settings=settings,
                      simulations=sims, viewers=optional_number(args.viewers, "--viewers"),
                      followers=followers, new_followers=follows)
    if args.json:
        print_json(console, {**result.as_dict(), "seed": seed})
        return 0
    _print_forecast(console, result)
    console.print(f"seed {seed} (repeat with --seed {seed})")
    return 0


def _print_forecast(console: Console, f: Forecast) -> None:


    from rich.table import Table

    who = f"@{term(f.host)}" if f.host else "this creator"
    m = f.month_to_date
    console.print(f"[bold]Forecast for {f.month}[/bold] — {who}, as of the end of "
                  f"{f.as_of.isoformat()} (UTC): {f.days_in_month - f.days_remaining} of "
                  f"{count(f.days_in_month, 'day')} done, {f.days_remaining} to go")
    console.print(f"[bold]Month to date[/bold]: {usd(m.creator_usd)} to the creator from "
                  f"{count(m.sessions, 'session')}, {count(m.coins, 'coin')} "
                  f"({count(m.diamonds, 'diamond')}), {m.hours:,.1f} h LIVE, "
                  f"{count(m.active_days, 'active day')} (≥ {f.active_day_minutes:g} min), "
                  f"LIVE on {count(m.live_days, 'day')}")
    if f.rest_reward_rate is not None:
        from liveworth.economy.missions import pct

        console.print(f"Scaled LIVE rewards: each session at its own missions rate, weekly "
                      f"missions + {usd(m.weekly_creator_usd)} (credited Mondays, in the "
                      f"projection); the rest of the month at {pct(f.rest_reward_rate)}, the "
                      "recorded sessions' rate")
    t = Table("whole month", "p10", "p50", "p90", title_justify="left",
              title=f"Projection ({f.simulations:,} simulated months; rate card {f.rate_card})")
    t.add_row("creator receives", *(usd(v) for v in f.creator_usd.values), style="bold")
    t.add_row("coins", *(f"{v:,}" for v in f.coins.values))
    t.add_row("diamonds", *(f"{v:,}" for v in f.diamonds.values))
    t.add_row("LIVE hours", *(f"{v:,.1f}" for v in f.hours.values))
    t.add_row("active days", *(str(v) for v in f.active_days.values))
    t.add_row("sessions", *(str(v) for v in f.sessions.values))
    console.print(t)
    t = Table("tier", "diamonds", "active days", "LIVE hours", "odds", title_justify="left",
              title=f"Agency tiers ({f.tier_source}; set yours with --tiers FILE)")
    t.add_row("so far", grouped(m.diamonds), f"{m.active_days:,}", f"{m.hours:,.1f}",
              f"tier now: {f.tier_reached or 'none'}", style="italic")
    for o in f.tiers:
        odds = "reached" if o.reached else f"{o.odds:.0%}"
        t.add_row(o.tier.name, f"{o.tier.diamonds:,}", f"{o.tier.active_days:,}",
                  f"{o.tier.hours:,.10g}", odds)
    console.print(t)
    console.print(f"[bold]Calibration[/bold]: {f.calibration.note}")


def register(command: CommandFactory) -> None:
    """Add ``forecast``."""
    p = command("forecast", cmd_forecast, "this month so far, where it is heading, tier odds",
                "Month-to-date earnings from your recorded sessions (exact) and a projection "
                "of the whole month with p10 / p50 / p90 — Monte Carlo over the remaining days "
                "with your LIVE frequency and your calibrated per-session earnings — and the "
                "odds of reaching agency tiers (diamonds, active days and LIVE hours in the "
                "month, as roster counts them; the defaults are assumptions, set yours with "
                "--tiers FILE.toml or --tier).")
    add_db(p)
    p.add_argument("--host", metavar="@USER",
                   help="whose sessions (default: the only host in the database)")
    p.add_argument("--month", metavar="YYYY-MM", help="the month (default: the --as-of month)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="forecast as at the end of this UTC day; later sessions are ignored "
                   "(default: today)")
    add_tier_options(p, thresholds=True)
    p.add_argument("--viewers", metavar="V",
                   help="typical concurrent viewers, if your sessions have no viewer counts")
    p.add_argument("--followers", metavar="N",
                   help="followers (default: the latest recorded)")
    p.add_argument("--seed", metavar="S", help="random seed (default: a fresh one, printed)")
    p.add_argument("--sessions", default=str(DEFAULT_SESSIONS), metavar="N",
                   help=f"simulated months (default {DEFAULT_SESSIONS:,})")
    add_card_options(p)
    add_json(p)

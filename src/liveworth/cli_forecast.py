"""Commands over a creator's own history: ``forecast`` and ``estimate --from-history``.

``forecast`` is registered here; ``estimate`` lives in :mod:`liveworth.cli_model` and hands over to
:func:`cmd_estimate_from_history` when ``--from-history`` is given. Both open the store read-only,
call :mod:`liveworth.calibrate` / :mod:`liveworth.forecast` and render a table or ``--json``
(money as decimal strings). Bad values raise :class:`UsageError` (one line, exit status 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from liveworth.calibrate import (
    PRIOR_SESSIONS,
    Calibration,
    calibrate,
    estimate_from_history,
    load_history,
)
from liveworth.cli import CommandFactory, add_card_options, add_json, card_from_args, print_json
from liveworth.cli_model import (
    _changes,
    _number,
    _optional,
    _print_estimate,
    _print_what_ifs,
    _rng,
    _sessions,
)
from liveworth.cli_sessions import add_db, when
from liveworth.errors import UsageError
from liveworth.estimate import (
    DEFAULT_SESSIONS,
    Estimate,
    Inputs,
    WhatIf,
    apply_changes,
    parse_change,
)
from liveworth.forecast import Forecast, TierSettings, forecast, load_tiers, today_utc
from liveworth.model import engagement_value
from liveworth.money import usd
from liveworth.store import Store

# ---------------------------------------------------------------------------- calibration


def print_calibration(console: Console, cal: Calibration) -> None:
    """The calibration in a few lines: sessions used, fitted against prior, LOO coverage."""
    who = f"@{cal.host}" if cal.host else "this creator"
    console.print(f"[bold]Calibrated to {cal.sessions} recorded session(s)[/bold] of {who} "
                  f"({when(cal.first_ts)[:10]} … {when(cal.last_ts)[:10]})")
    t = Table("", "public prior", "fitted to you", title_justify="left",
              title=f"prior strength {PRIOR_SESSIONS:g} pseudo-sessions; your history weighs "
              f"{cal.weight:.0%}")
    t.add_row("median coins a session (typical inputs)", f"{cal.p50_coins(cal.prior):,}",
              f"{cal.p50_coins(cal.fitted):,}")
    t.add_row("level, log(1 + coins) − model offset", f"{cal.prior.mean:+.2f}",
              f"{cal.fitted.mean:+.2f}")
    t.add_row("session-to-session spread (×/÷)", f"{math.exp(cal.prior.scale):.1f}",
              f"{math.exp(cal.fitted.scale):.1f}")
    t.add_row("gifting relative to the prior", "× 1", f"× {cal.multiplier:.2f}")
    console.print(t)
    viewers = "—" if cal.viewers is None else f"{cal.viewers:,.0f}"
    console.print(f"from your history: typical viewers {viewers} ({cal.viewers_from}), "
                  f"{cal.minutes:.0f}-minute sessions, engagement {cal.engagement:.2g} "
                  f"({cal.engagement_from}), LIVE on {cal.frequency.live_days} of "
                  f"{cal.frequency.observed_days} days ({cal.frequency.per_week:.1f} sessions a "
                  "week); median session "
                  f"{cal.median_coins:,} coins")
    loo = cal.loo
    console.print(f"leave-one-out: {loo.inside} of {loo.sessions} past sessions inside their "
                  f"80 % interval ({loo.coverage or 0:.0%}; {loo.below} below, {loo.above} "
                  "above)")
    console.print(f"[bold]Fit[/bold]: {cal.note}")


def _followers(args: argparse.Namespace) -> int | None:
    return None if args.followers is None else int(_number(args.followers, "--followers",
                                                           whole=True))


def _history_inputs(args: argparse.Namespace, cal: Calibration) -> Inputs:
    """The estimate's inputs: those given on the command line, the rest from the history."""
    return cal.inputs(
        followers=_followers(args),
        viewers=_optional(args.viewers, "--viewers"),
        minutes=_optional(args.minutes, "--minutes"),
        per_week=_optional(args.per_week, "--per-week"),
        engagement=None if args.engagement is None else engagement_value(args.engagement),
    )


def cmd_estimate_from_history(args: argparse.Namespace, console: Console) -> int:
    """``liveworth estimate --from-history``: the estimate calibrated to recorded sessions."""
    card = card_from_args(args)
    sessions = _sessions(args)
    _, seed = _rng(args.seed)
    changes = _changes(args.what_if)
    followers = _followers(args)
    with Store.open(args.db, read_only=True) as store:
        history = load_history(store, args.host, card)
    # Two streams of the one seed: the calibration's, and the estimate's (the same for the base
    # case and every what-if, so that differences are the changes', not noise's).
    cal = calibrate(history, rng=np.random.default_rng([seed, 0]),
                    viewers=_optional(args.viewers, "--viewers"), followers=followers)
    inputs = _history_inputs(args, cal)
    kw: dict[str, Any] = {"card": card, "channel": args.channel, "sessions": sessions}

    def run(i: Inputs) -> Estimate:
        return estimate_from_history(cal, i, rng=np.random.default_rng([seed, 1]), **kw)

    base = run(inputs)
    if len(changes) > 1:
        changes.append({k: v for c in changes for k, v in c.items()})
    cases = [WhatIf(dict(parse_change(k, v) for k, v in change.items()), base,
                    run(apply_changes(cal.params, inputs, change)))
             for change in changes]
    if args.json:
        out = {**base.as_dict(), "calibration": cal.as_dict(), "seed": seed}
        if cases:
            out["what_if"] = [c.as_dict() for c in cases]
        print_json(console, out)
        return 0
    print_calibration(console, cal)
    _print_estimate(console, base)
    if cases:
        _print_what_ifs(console, cases)
    console.print(f"seed {seed} (repeat with --seed {seed})")
    return 0


def add_history_options(p: argparse.ArgumentParser) -> None:
    """``--from-history``, ``--db`` and ``--host`` (for ``estimate``)."""
    p.add_argument("--from-history", action="store_true",
                   help="calibrate to your recorded sessions in the database (followers, "
                   "viewers, minutes, sessions a week and engagement default from them)")
    add_db(p)
    p.add_argument("--host", metavar="@USER",
                   help="whose sessions (default: the only host in the database)")


# ---------------------------------------------------------------------------- forecast


#: The last month a forecast can cover (its end must be a date Python can hold).
LAST_MONTH = "9999-11"


def _as_of(text: str | None) -> dt.date:
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
    card = card_from_args(args)
    as_of = _as_of(args.as_of)
    month = args.month or f"{as_of.year:04d}-{as_of.month:02d}"
    if month.strip().startswith("9999-12"):
        raise UsageError(f"--month: forecasts end in {LAST_MONTH}, got {month!r}")
    settings = load_tiers(args.thresholds) if args.thresholds else TierSettings()
    sims = _sessions(args)
    rng, seed = _rng(args.seed)
    followers = _followers(args)
    with Store.open(args.db, read_only=True) as store:
        history = load_history(store, args.host, card)
    result = forecast(history, month=month, as_of=as_of, rng=rng, card=card, settings=settings,
                      simulations=sims, viewers=_optional(args.viewers, "--viewers"),
                      followers=followers)
    if args.json:
        print_json(console, {**result.as_dict(), "seed": seed})
        return 0
    _print_forecast(console, result)
    console.print(f"seed {seed} (repeat with --seed {seed})")
    return 0


def _print_forecast(console: Console, f: Forecast) -> None:
    who = f"@{f.host}" if f.host else "this creator"
    m = f.month_to_date
    console.print(f"[bold]Forecast for {f.month}[/bold] — {who}, as of the end of "
                  f"{f.as_of.isoformat()} (UTC): {f.days_in_month - f.days_remaining} of "
                  f"{f.days_in_month} days done, {f.days_remaining} to go")
    console.print(f"[bold]Month to date[/bold]: {usd(m.creator_usd)} to the creator from "
                  f"{m.sessions} session(s), {m.coins:,} coins ({m.diamonds:,} diamonds), "
                  f"{m.hours:,.1f} h LIVE, {m.active_days} active day(s) "
                  f"(≥ {f.active_day_minutes:g} min), LIVE on {m.live_days} day(s)")
    t = Table("whole month", "p10", "p50", "p90", title_justify="left",
              title=f"Projection ({f.simulations:,} simulated months; rate card {f.rate_card})")
    t.add_row("creator receives", *(usd(v) for v in f.creator_usd.values), style="bold")
    t.add_row("coins", *(f"{v:,}" for v in f.coins.values))
    t.add_row("diamonds", *(f"{v:,}" for v in f.diamonds.values))
    t.add_row("LIVE hours", *(f"{v:,.1f}" for v in f.hours.values))
    t.add_row("active days", *(str(v) for v in f.active_days.values))
    t.add_row("sessions", *(str(v) for v in f.sessions.values))
    console.print(t)
    t = Table("tier", "metric", "threshold", "so far", "odds", title_justify="left",
              title=f"Agency tiers ({f.tier_source}; set yours with --thresholds FILE)")
    for o in f.tiers:
        odds = "reached" if o.reached else f"{o.odds:.0%}"
        t.add_row(o.tier.name, o.tier.metric, f"{o.tier.threshold:,.10g}",
                  f"{o.month_to_date:,.1f}" if o.tier.metric == "airtime_hours"
                  else f"{o.month_to_date:,.0f}", odds)
    console.print(t)
    console.print(f"[bold]Calibration[/bold]: {f.calibration.note}")


def register(command: CommandFactory) -> None:
    """Add ``forecast``."""
    p = command("forecast", cmd_forecast, "this month so far, where it is heading, tier odds",
                "Month-to-date earnings from your recorded sessions (exact) and a projection "
                "of the whole month with p10 / p50 / p90 — Monte Carlo over the remaining days "
                "with your LIVE frequency and your calibrated per-session earnings — and the "
                "odds of reaching agency tier thresholds (airtime hours, diamonds, active "
                "days; the defaults are assumptions, set yours with --thresholds FILE.toml).")
    add_db(p)
    p.add_argument("--host", metavar="@USER",
                   help="whose sessions (default: the only host in the database)")
    p.add_argument("--month", metavar="YYYY-MM", help="the month (default: the --as-of month)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="forecast as at the end of this UTC day; later sessions are ignored "
                   "(default: today)")
    p.add_argument("--thresholds", metavar="FILE",
                   help="TOML file of tier thresholds (see docs/MODEL.md)")
    p.add_argument("--viewers", metavar="V",
                   help="typical concurrent viewers, if your sessions have no viewer counts")
    p.add_argument("--followers", metavar="N",
                   help="followers (default: the latest recorded)")
    p.add_argument("--seed", metavar="S", help="random seed (default: a fresh one, printed)")
    p.add_argument("--sessions", default=str(DEFAULT_SESSIONS), metavar="N",
                   help=f"simulated months (default {DEFAULT_SESSIONS:,})")
    add_card_options(p, channel=False)
    add_json(p)

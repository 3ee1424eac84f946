"""Commands of the session model: ``estimate`` (also ``--from-history``) and ``plan``
(``simulate`` is :mod:`liveworth.cli.simulate`).

Each parses its options, calls one library function (:mod:`liveworth.model.simulate`,
:mod:`liveworth.model.estimate`, :mod:`liveworth.model.calibrate`, :mod:`liveworth.model.plan`)
and renders the result as a table or, with ``--json``, as JSON with money as decimal strings. Bad
values raise :class:`UsageError` (one line, exit status 2). NumPy and the model load only inside
the command that runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    print_json,
    when,
)
from liveworth.decode.formats import MAX_TS
from liveworth.economy.money import usd
from liveworth.economy.numbers import checked_number, count
from liveworth.errors import UsageError
from liveworth.model.inputs import (
    DEFAULT_SESSIONS,
    FROM_MODEL,
    MAX_FOLLOWERS,
    MAX_SESSIONS,
    MAX_VIEWERS,
    Inputs,
)
from liveworth.render.terminal import term

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from liveworth.model.answers import EstimateAnswer, Stated
    from liveworth.model.calibrate import Calibration, History
    from liveworth.model.estimate import Estimate, Span, WhatIf

# ---------------------------------------------------------------------------- option values


#: The largest value each numeric option takes (the library checks its own, finer limits;
#: these keep absurd values from reaching it and echo the user's text in the error).
LIMITS: dict[str, float] = {
    "--followers": MAX_FOLLOWERS,
    "--viewers": MAX_VIEWERS,
    "--minutes": 24 * 60,
    "--per-week": 7 * 24,
    "--sessions": MAX_SESSIONS,
    "--seed": 2**63 - 1,
    "--start-ts": float(MAX_TS),
}


def _number(text: str | None, name: str, *, whole: bool = False) -> float:
    """A non-negative number given on the command line (``1,000`` and ``1_000`` accepted, digits
    grouped in threes; ``0_0_1`` refused), at most ``LIMITS[name]``."""
    if text is None:
        raise UsageError(f"{name} is required")
    return checked_number(text, name, LIMITS.get(name), whole=whole)


def optional_number(text: str | None, name: str) -> float | None:
    return None if text is None else _number(text, name)


def _seed_value(text: str) -> int:
    """A seed exactly as written (an integer read as a float would lose its last digits)."""
    from liveworth.economy.numbers import plain_int

    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        value = plain_int(text)
    except ValueError:
        raise UsageError(f"--seed: not a whole number: {shown!r}") from None
    if not 0 <= value <= LIMITS["--seed"]:
        raise UsageError(f"--seed: must lie between 0 and {LIMITS['--seed']:,}, got {shown!r}")
    return value


def seeded_rng(seed: str | None) -> tuple[np.random.Generator, int]:
    """The generator of a command and the seed that reproduces it (drawn when not given)."""


    import numpy as np

    if seed is not None:
        value = _seed_value(seed)
    else:
        entropy = np.random.SeedSequence().entropy
        value = entropy % 2**63 if isinstance(entropy, int) else 0
    return np.random.default_rng(value), value


def _inputs(args: argparse.Namespace) -> Inputs:


    from liveworth.model.coverage import refuse_empty
    from liveworth.model.generative import engagement_value

    followers = int(_number(args.followers, "--followers", whole=True))
    per_week = _number(args.per_week or "3", "--per-week")
    refuse_empty(followers, per_week)
    return Inputs(
        followers=followers,
        viewers=optional_number(args.viewers, "--viewers"),
        minutes=_number(args.minutes or "60", "--minutes"),
        per_week=per_week,
        engagement=engagement_value(args.engagement or "typical"),
    )


def simulations_option(args: argparse.Namespace) -> int:
    n = int(_number(args.sessions, "--sessions", whole=True))
    if not 1 <= n <= MAX_SESSIONS:
        raise UsageError(f"--sessions must lie between 1 and {MAX_SESSIONS:,}, got {n}")
    return n


def _changes(items: Sequence[str]) -> list[dict[str, str]]:


    from liveworth.model.coverage import refuse_empty
    from liveworth.model.estimate import parse_change

    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--what-if expects NAME=VALUE, got {item!r}")
        key, number = parse_change(name.strip(), value.strip())
        refuse_empty(number if key == "followers" else None,
                     number if key == "per_week" else None, option="--what-if ")
        out.append({name.strip(): value.strip()})
    return out


def _describe(inputs: Inputs, typical: float, sources: dict[str, str] | None = None) -> str:
    """The inputs in one line; with ``sources`` (``--from-history``) where each came from."""
    def src(name: str) -> str:
        if not sources:
            return ""
        from liveworth.model.history_inputs import shown

        return f" ({shown(sources[name])})" if name in sources else ""

    viewers = (f"{inputs.viewers:,.0f} viewers{src('viewers')}" if inputs.viewers is not None
               else f"~{typical:,.0f} viewers (from followers)")
    followers = (f"~{count(inputs.followers, 'follower')} (placed by the audience)"
                 if sources and sources.get("followers") == FROM_MODEL
                 else f"{count(inputs.followers, 'follower')}{src('followers')}")
    return (f"{followers} · {viewers} · {inputs.minutes:g}-minute sessions{src('minutes')} · "
            f"{inputs.per_week:g} a week{src('per_week')} · "
            f"engagement {inputs.engagement:g}{src('engagement')}")


# ---------------------------------------------------------------------------- estimate


def _span_rows(t: Table, label: str, span: Span) -> None:
    t.add_row(f"{label}: creator receives", *(usd(v) for v in span.creator_usd),
              usd(span.mean_creator_usd), style="bold")
    t.add_row(f"{label}: viewers pay", *(usd(v) for v in span.viewer_usd),
              usd(span.mean_viewer_usd))
    t.add_row(f"{label}: coins", *(f"{v:,}" for v in span.coins), f"{span.mean_coins:,}",
              end_section=True)


def _print_estimate(console: Console, e: Estimate) -> None:


    from rich.table import Table

    console.print(f"[bold]Estimate[/bold] for "
                  f"{_describe(e.inputs, e.typical_viewers, e.input_sources)}")
    print_warnings(console, e.warnings)
    t = Table("", "p10", "p50", "p90", "mean", title_justify="left",
              title=f"{e.simulations:,} simulated sessions and months · rate card {e.rate_card}"
              f" · coins bought on {e.channel} · calibration {e.calibration_set}")
    _span_rows(t, "per session", e.per_session)
    _span_rows(t, f"per month ({e.sessions_per_month:.1f} sessions)", e.per_month)
    console.print(t)
    console.print(f"[bold]Tier[/bold]: {e.tier}")
    if e.population_check:
        console.print(f"[bold]Population check[/bold]: {term(e.population_check)}")
    d = Table("driver", "change", "effect on expected earnings", title="Main drivers",
              title_justify="left")
    for driver in e.drivers:
        effect = (f"{driver.effect_pct:.0f} % of coins" if driver.name == "whales"
                  else f"{driver.effect_pct:+.0f} %")
        d.add_row(driver.name, driver.change, effect)
    console.print(d)
    console.print("[bold]Assumptions[/bold] (every parameter and its source: docs/MODEL.md)")
    for line in e.assumptions:
        console.print(f"  • {term(line)}")
    from liveworth.model.coverage import PRECONDITIONS

    console.print("[bold]Preconditions[/bold] (TikTok's, for going LIVE and receiving gifts): "
                  + "; ".join(PRECONDITIONS))


def print_warnings(console: Console, warnings: Sequence[str]) -> None:
    """Each warning on its own line, before the figures it qualifies."""
    for line in warnings:
        console.print(f"[bold yellow]Warning[/bold yellow]: {term(line)}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f} %"


def _print_what_ifs(console: Console, cases: Sequence[WhatIf]) -> None:


    from rich.table import Table

    t = Table("what if", "p50 a session", "change", "p50 a month", "change",
              "mean a month", "change", title="What if (creator receives; same random numbers "
              "as the base case)", title_justify="left")
    base = cases[0].base
    t.add_row("as now", usd(base.per_session.creator_usd[1]), "",
              usd(base.per_month.creator_usd[1]), "", usd(base.per_month.mean_creator_usd), "",
              end_section=True)
    for case in cases:
        label = ", ".join(f"{k.replace('_', '-')}={v:g}" for k, v in case.changes.items())
        t.add_row(label, usd(case.changed.per_session.creator_usd[1]),
                  _pct(case.session_change_pct), usd(case.changed.per_month.creator_usd[1]),
                  _pct(case.month_change_pct), usd(case.changed.per_month.mean_creator_usd),
                  _pct(case.mean_month_change_pct))
    console.print(t)
    for case in cases:
        label = ", ".join(f"{k.replace('_', '-')}={v:g}" for k, v in case.changes.items())
        print_warnings(console, [f"{label}: {w}" for w in case.changed.warnings
                                 if w not in base.warnings])


def cmd_estimate(args: argparse.Namespace, console: Console) -> int:
    from liveworth.model.answers import estimate_answer

    if args.from_history:
        return cmd_estimate_from_history(args, console)
    if args.followers is None:
        raise UsageError("--followers is required (or calibrate to your sessions with "
                         "--from-history)")
    card = card_from_args(args)
    inputs = _inputs(args)
    sessions = simulations_option(args)
    _, seed = seeded_rng(args.seed)
    answer = estimate_answer(inputs, _changes(args.what_if), card=card, channel=args.channel,
                             sessions=sessions, seed=seed, calibration=args.calibration)
    _show_estimate(args, console, answer)
    return 0


def _show_estimate(args: argparse.Namespace, console: Console, answer: EstimateAnswer) -> None:
    """The estimate as JSON, or the tables (the calibration first, from history)."""
    if args.json:
        print_json(console, answer.as_dict())
        return
    if answer.calibration is not None:
        print_calibration(console, answer.calibration)
    _print_estimate(console, answer.base)
    if answer.cases:
        _print_what_ifs(console, answer.cases)
    console.print(f"seed {answer.seed} (repeat with --seed {answer.seed})")


# ------------------------------------------------------------------- estimate --from-history


def print_calibration(console: Console, cal: Calibration) -> None:
    """The calibration in a few lines: sessions used, fitted against prior, LOO coverage."""


    from rich.table import Table

    from liveworth.model.calibrate import PRIOR_SESSIONS

    who = f"@{term(cal.host)}" if cal.host else "this creator"
    console.print(f"[bold]Calibrated to {count(cal.sessions, 'recorded session')}[/bold] of {who} "
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
                  f"{count(cal.frequency.observed_days, 'day')} ({cal.frequency.per_week:.1f} "
                  f"sessions a week); median session {count(cal.median_coins, 'coin')}")
    loo = cal.loo
    console.print(f"leave-one-out: {loo.inside:,} of {count(loo.sessions, 'past session')} "
                  f"inside their 80 % interval ({loo.coverage or 0:.0%}; {loo.below:,} below, "
                  f"{loo.above:,} above)")
    console.print(f"[bold]Fit[/bold]: {cal.note}")


def followers_option(args: argparse.Namespace) -> int | None:


    from liveworth.model.coverage import refuse_empty

    if args.followers is None:
        return None
    followers = int(_number(args.followers, "--followers", whole=True))
    refuse_empty(followers, None)
    return followers


def stated_option(args: argparse.Namespace) -> Stated:
    """What the command line states beside the history (the rest comes from it)."""
    from liveworth.model.answers import Stated
    from liveworth.model.generative import engagement_value

    return Stated(followers=followers_option(args),
                  viewers=optional_number(args.viewers, "--viewers"),
                  minutes=optional_number(args.minutes, "--minutes"),
                  per_week=_per_week_option(args),
                  engagement=None if args.engagement is None
                  else engagement_value(args.engagement))


def history_of(args: argparse.Namespace, card: Any) -> History:
    """The recorded sessions of ``--from-history`` (``--db``, ``--host``)."""
    from liveworth.model.calibrate import load_history
    from liveworth.store.database import Store

    if args.calibration is not None:
        raise UsageError("--calibration is for estimates from followers; --from-history "
                         "calibrates to your own sessions")
    with Store.open(args.db, read_only=True) as store:
        return load_history(store, args.host, card)


def _per_week_option(args: argparse.Namespace) -> float | None:


    from liveworth.model.coverage import refuse_empty

    per_week = optional_number(args.per_week, "--per-week")
    refuse_empty(None, per_week)
    return per_week


def cmd_estimate_from_history(args: argparse.Namespace, console: Console) -> int:
    """``liveworth estimate --from-history``: the estimate calibrated to recorded sessions (two
    streams of the one seed: the calibration's, and the estimate's, the same for the base case
    and every what-if, so that differences are the changes', not noise's)."""
    from liveworth.model.answers import history_estimate_answer

    card = card_from_args(args)
    sessions = simulations_option(args)
    _, seed = seeded_rng(args.seed)
    changes = _changes(args.what_if)
    history = history_of(args, card)
    answer = history_estimate_answer(history, stated_option(args), changes, card=card,
                                     channel=args.channel, sessions=sessions, seed=seed)
    _show_estimate(args, console, answer)
    return 0


def add_history_options(p: argparse.ArgumentParser) -> None:
    """``--from-history``, ``--db`` and ``--host`` (for ``estimate`` and ``plan``)."""
    p.add_argument("--from-history", action="store_true",
                   help="calibrate to your recorded sessions in the database (followers, "
                   "viewers, minutes, sessions a week and engagement default from them)")
    add_db(p)
    p.add_argument("--host", metavar="@USER",
                   help="whose sessions (default: the only host in the database)")


# ---------------------------------------------------------------------------- registration


def _creator_options(p: argparse.ArgumentParser, *, per_week: bool = True,
                     history: bool = False) -> None:
    """Creator options; with ``history`` none is required and defaults come later (the
    history's with --from-history, else 60 minutes, 3 a week, typical)."""
    p.add_argument("--followers", required=not history, metavar="N",
                   help="followers of the account" + (" (required unless --from-history)"
                                                      if history else ""))
    p.add_argument("--viewers", metavar="V",
                   help="typical concurrent viewers, if known (default: from followers)")
    p.add_argument("--minutes", default=None if history else "60", metavar="M",
                   help="minutes per LIVE session (default 60)")
    if per_week:
        p.add_argument("--per-week", default=None if history else "3", metavar="K",
                       help="LIVE sessions per week (default 3)")
    p.add_argument("--engagement", default=None if history else "typical", metavar="E",
                   help="chat and likes per viewer relative to a typical LIVE: a number "
                   "(1 = typical) or low, typical, high (default typical)")
    p.add_argument("--seed", metavar="S", help="random seed (default: a fresh one, printed)")


def _mc_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sessions", default=str(DEFAULT_SESSIONS), metavar="N",
                   help=f"simulated sessions and months (default {DEFAULT_SESSIONS:,})")
    p.add_argument("--calibration", choices=("article", "population"), default=None,
                   help="article (default): the article's tiers, creators who do well; "
                   "population: fitted to TikTok's own totals for all LIVE creators "
                   "(docs/MODEL.md)")


def register(command: CommandFactory) -> None:
    """Add ``estimate`` (``plan`` is :mod:`liveworth.cli.plan`)."""
    p = command("estimate", cmd_estimate, "what you would earn on LIVE: p10/p50/p90 per "
                "session and month",
                "Estimate earnings per LIVE session and per month from what you know "
                "(followers, viewers, session length and frequency, engagement) with a "
                "calibrated Monte Carlo model: p10 / p50 / p90 of what you receive, what "
                "viewers pay and the coins, your tier and the main drivers. --what-if "
                "NAME=VALUE (followers, viewers, minutes, per-week, engagement) compares a "
                "change with the base case. --from-history calibrates the model to your "
                "recorded sessions (see `forecast`).")
    _creator_options(p, history=True)
    add_history_options(p)
    _mc_options(p)
    p.add_argument("--what-if", action="append", default=[], metavar="NAME=VALUE",
                   help="compare with a change (repeatable; several are also shown together)")
    add_card_options(p)
    add_json(p)

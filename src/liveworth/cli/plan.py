"""``liveworth plan``: what it takes to earn a monthly target, lever by lever, with the odds —
from followers (the model) or ``--from-history`` (the creator's calibrated sessions)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from liveworth.cli.estimate import (
    _creator_options,
    _describe,
    _inputs,
    _mc_options,
    add_history_options,
    history_of,
    print_warnings,
    seeded_rng,
    simulations_option,
    stated_option,
)
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_json,
    card_from_args,
    print_json,
    usd_amount,
)
from liveworth.economy.money import usd
from liveworth.economy.numbers import count
from liveworth.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.model.plan import Plan


def cmd_plan(args: argparse.Namespace, console: Console) -> int:
    from liveworth.model.answers import history_plan_answer, plan_answer

    card = card_from_args(args)
    if args.from_history:  # the levers priced with the creator's calibrated sessions
        target = _target(args)
        _, seed = seeded_rng(args.seed)
        result, _ = history_plan_answer(target, history_of(args, card), stated_option(args),
                                        card=card, sessions=simulations_option(args),
                                        seed=seed)
        _show_plan(args, console, result, seed)
        return 0
    if args.followers is None:
        raise UsageError("--followers is required (or plan from your sessions with "
                         "--from-history)")
    inputs = _inputs(args)
    target = _target(args)
    _, seed = seeded_rng(args.seed)
    result = plan_answer(target, inputs, card=card, sessions=simulations_option(args),
                         seed=seed, calibration=args.calibration)
    _show_plan(args, console, result, seed)
    return 0


def _show_plan(args: argparse.Namespace, console: Console, result: Plan, seed: int) -> None:
    if args.json:
        print_json(console, {**result.as_dict(), "seed": seed})
    else:
        _print_plan(console, result)


def _target(args: argparse.Namespace) -> Any:
    try:
        target = usd_amount(args.target_usd_month)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--target-usd-month: {exc}") from None
    if target <= 0:
        raise UsageError(f"--target-usd-month must be a positive amount, got "
                         f"{args.target_usd_month!r}")
    return target


def _print_plan(console: Console, p: Plan) -> None:


    from rich.table import Table

    console.print(f"[bold]Goal[/bold]: {usd(p.target_usd_month)} a month as a creator "
                  f"({count(p.target_coins or 0, 'coin')} of gifts; calibration "
                  f"{p.calibration_set}).")
    if p.input_sources:
        console.print(f"[bold]As you are[/bold]: "
                      f"{_describe(p.inputs, p.inputs.viewers or 0.0, p.input_sources)}")
    print_warnings(console, p.warnings)
    console.print(p.summary())
    if p.odds_now >= 0.5:
        console.print(f"now: {p.hours_now:,.0f} LIVE hours a month; {p.simulations:,} simulated "
                      f"months; rate card {p.rate_card}")
        return
    t = Table("lever", "now", "needed for even odds", "odds there", "LIVE hours a month",
              title="What it takes (one lever at a time, the rest as now)",
              title_justify="left")
    for o in p.options:
        if o.needed is None:
            t.add_row(o.lever, f"{o.now:,.1f} {o.unit}", "out of reach alone", "", "")
            continue
        t.add_row(o.lever, f"{o.now:,.1f} {o.unit}", f"{o.needed:,.1f} {o.unit}",
                  f"{o.odds or 0:.0%}", f"{o.hours_per_month or 0:,.0f}")
    console.print(t)
    console.print(f"now: {p.hours_now:,.0f} LIVE hours a month; {p.simulations:,} simulated "
                  f"months; rate card {p.rate_card}")


def register(command: CommandFactory) -> None:
    """Add ``plan``."""
    p = command("plan", cmd_plan, "what it takes to earn a monthly target, with its odds",
                "Answer what it takes to earn a target a month: for each lever (viewers, "
                "minutes, sessions per week, engagement) the value that gives even odds, with "
                "the odds as you are now.")
    p.add_argument("--target-usd-month", required=True, metavar="X",
                   help="what you want to receive a month, USD")
    _creator_options(p, history=True)
    add_history_options(p)
    _mc_options(p)
    add_card_options(p)
    add_json(p)

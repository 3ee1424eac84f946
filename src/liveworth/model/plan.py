"""The planner: what it takes to earn a monthly target, lever by lever, with the odds.

For each lever (viewers, minutes, sessions a week, engagement) it bisects for the smallest value at
which a month of the estimator's model (:func:`liveworth.model.estimate.sample_coins`) reaches the
target with the odds asked; the same random numbers serve every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

import numpy as np

from liveworth.economy.money import creator_usd, fmt, usd
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import UsageError
from liveworth.model.coverage import engagement_warning, input_warnings, viewers_warning
from liveworth.model.estimate import apply_changes, sample_coins, typical_viewers
from liveworth.model.generative import ModelParams
from liveworth.model.inputs import DEFAULT_SESSIONS, Inputs

#: Plan levers: (Inputs field, highest value considered, rounding step, unit).
PLAN_LEVERS: tuple[tuple[str, float, float, str], ...] = (
    ("viewers", 10**7, 1.0, "concurrent viewers"),
    ("minutes", 720.0, 5.0, "minutes a session"),
    ("per_week", 21.0, 0.5, "sessions a week"),
    ("engagement", 5.0, 0.1, "× typical engagement"),
)


@dataclass(frozen=True, slots=True)
class PlanOption:
    """One way to reach the target: move one lever, everything else as now."""

    lever: str
    unit: str
    now: float
    needed: float | None
    odds: float | None
    hours_per_month: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"lever": self.lever, "unit": self.unit, "now": round(self.now, 2),
                "needed": None if self.needed is None else round(self.needed, 2),
                "odds": None if self.odds is None else round(self.odds, 3),
                "hours_per_month": (None if self.hours_per_month is None
                                    else round(self.hours_per_month, 1))}


@dataclass(frozen=True, slots=True)
class Plan:
    """What it takes to make ``target_usd_month`` a month, with the odds of each way."""

    target_usd_month: Decimal
    target_coins: int | None
    inputs: Inputs
    odds_now: float
    p50_now: Decimal
    hours_now: float
    options: tuple[PlanOption, ...]
    rate_card: str
    simulations: int
    #: Sentences on inputs, or values a lever needs, outside the range the calibration covers.
    warnings: tuple[str, ...] = ()
    calibration_set: str = "article"
    #: Where each input came from (``--from-history``: stated, your sessions, the model).
    input_sources: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "warnings": list(self.warnings),
            "calibration_set": self.calibration_set,
            "input_sources": self.input_sources,
            "target_usd_month": fmt(self.target_usd_month),
            "target_coins": self.target_coins,
            "inputs": self.inputs.as_dict(),
            "now": {"odds": round(self.odds_now, 3), "p50_creator_usd_month": fmt(self.p50_now),
                    "hours_per_month": round(self.hours_now, 1)},
            "options": [o.as_dict() for o in self.options],
            "rate_card": self.rate_card,
            "simulations": self.simulations,
        }

    def summary(self) -> str:
        """One sentence for people."""
        if self.odds_now >= 0.5:
            return (f"You are on track: {self.odds_now:.0%} odds of {usd(self.target_usd_month)} "
                    "a month as you are.")
        return (f"As you are: {self.odds_now:.0%} odds of {usd(self.target_usd_month)} a month "
                f"(typical month {usd(self.p50_now)}).")


def _hours(inputs: Inputs) -> float:
    return inputs.minutes * inputs.sessions_per_month / 60


def plan(
    target_usd_month: Decimal,
    inputs: Inputs,
    *,
    rng: np.random.Generator,
    params: ModelParams | None = None,
    card: RateCard | None = None,
    sessions: int = DEFAULT_SESSIONS,
    odds: float = 0.5,
    calibration: str = "article",
    months: Callable[[Inputs, np.random.Generator, int], Any] | None = None,
    viewers_now: float | None = None,
) -> Plan:
    """What it takes to earn ``target_usd_month`` with at least ``odds`` chance, lever by lever.

    For each lever (viewers, minutes, sessions a week, engagement) the smallest value, with the
    others as now, at which a month reaches the target with the odds asked (an even chance by
    default); ``needed`` is None when that lever alone cannot get there. ``months`` draws the
    months' coins of some inputs (default: the model's; a creator's calibrated sessions with
    :func:`liveworth.model.history_inputs.history_months`), ``viewers_now`` the viewers as now
    (default: the model's for the inputs).
    """
    params = params or ModelParams.from_prior()
    card = card or load_rate_card()
    if not 0 < odds < 1:
        raise UsageError(f"odds must lie between 0 and 1, got {odds}")
    if not target_usd_month > 0:
        raise UsageError(f"the target must be a positive amount, got {target_usd_month}")
    per_coin = creator_usd(1, card)
    seed = int(rng.integers(2**63))
    if per_coin == 0:
        return Plan(target_usd_month, None, inputs, 0.0, Decimal(0), _hours(inputs), (),
                    card.name, sessions, input_warnings(params, inputs), calibration)
    target = int((target_usd_month / per_coin).to_integral_value(ROUND_CEILING))

    def month_of(candidate: Inputs) -> Any:  # the same random numbers for every candidate
        g = np.random.default_rng(seed)
        if months is not None:
            return months(candidate, g, sessions)
        return sample_coins(params, candidate, g, sessions, month_only=True).month

    def odds_at(candidate: Inputs) -> float:
        return float(np.mean(month_of(candidate) >= target))

    now = month_of(inputs)
    p50 = int(np.quantile(now, 0.5, method="inverted_cdf"))
    options = tuple(_plan_option(params, inputs, lever, high, step, unit, odds, odds_at,
                                 viewers_now)
                    for lever, high, step, unit in PLAN_LEVERS)
    return Plan(target_usd_month, target, inputs, float(np.mean(now >= target)),
                creator_usd(p50, card), _hours(inputs), options, card.name, sessions,
                plan_warnings(params, inputs, options), calibration)


def plan_warnings(params: ModelParams, inputs: Inputs,
                  options: tuple[PlanOption, ...]) -> tuple[str, ...]:
    """The inputs' warnings, then those of the values a lever would need."""
    out = list(input_warnings(params, inputs))
    for o in options:
        if o.needed is None:
            continue
        if o.lever == "viewers":
            found = viewers_warning(params, inputs.followers, o.needed, inputs.per_week)
        elif o.lever == "engagement":
            found = engagement_warning(o.needed)
        else:
            continue
        if found:
            out.append(f"to reach the target by {o.lever} alone: {found}")
    return tuple(out)


def _plan_option(params: ModelParams, inputs: Inputs, lever: str, high: float, step: float,
                 unit: str, wanted: float, odds_at: Callable[[Inputs], float],
                 viewers_now: float | None = None) -> PlanOption:
    """Bisect one lever for the smallest value reaching ``wanted`` odds."""
    key = "per-week" if lever == "per_week" else lever
    if lever == "viewers":
        current = viewers_now if viewers_now is not None else typical_viewers(params, inputs)
    else:
        current = getattr(inputs, lever)

    def at(value: float) -> Inputs:
        return apply_changes(params, inputs, {key: value})

    low = max(current, step)
    high = high_limit = max(high, low)
    if odds_at(at(high)) < wanted:
        return PlanOption(lever, unit, current, None, None, None)
    if odds_at(at(low)) >= wanted:
        high = low
    for _ in range(18):
        if high - low <= step:
            break
        mid = math.sqrt(low * high) if lever == "viewers" else (low + high) / 2
        if odds_at(at(mid)) >= wanted:
            high = mid
        else:
            low = mid
    needed = math.ceil(high / step - 1e-9) * step
    chosen = at(needed)
    odds = odds_at(chosen)
    # Simulation noise can put the rounded value just below the odds asked: step up until it
    # is not (a few steps at most; viewers by 1 % at a time).
    for _ in range(20):
        if odds >= wanted or needed >= high_limit:
            break
        needed = min(math.ceil(max(needed * 1.01, needed + step) / step - 1e-9) * step,
                     high_limit)
        chosen = at(needed)
        odds = odds_at(chosen)
    return PlanOption(lever, unit, current, needed, odds, _hours(chosen))

"""The estimator: what a creator earns per LIVE and per month, as a distribution, never one number.

It runs the session model (:mod:`liveworth.model.generative`) as a vectorised Monte Carlo over
per-session aggregates — it never simulates individual viewers. Each simulated *world* is one
creator like the inputs describe: its typical audience (uncertain when only followers are known),
then one session and one month of sessions. A session's coins are a compound Poisson sum: the
number of gifters is Poisson around ``viewers × gifters_per_viewer`` times a gamma session noise,
and each gifter's spend comes from the model's tabulated spend distribution. The sum is drawn with
the Asmussen–Rosiński split: the largest gifts (the expected eight above a per-world threshold) are
drawn exactly, the many small ones by a gamma with the same mean and variance. Whales are a second
compound of the same kind, their share and largest spend set by the world's room
(:mod:`liveworth.model.whales`). A month is the same compound with the sessions' rates added up
(gamma noises add up to a gamma). Inputs outside the range the calibration covers come with
``warnings`` (:mod:`liveworth.model.coverage`).

Coins stay integers: the p10/p50/p90 are sampled integer coin totals, turned into money exactly
with :func:`liveworth.economy.money.earnings` at the rate card in force.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from liveworth.economy.money import creator_usd, earnings, fmt
from liveworth.economy.numbers import ungrouped
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import UsageError
from liveworth.model.coverage import PRECONDITIONS, input_warnings
from liveworth.model.generative import (
    FloatArray,
    IntArray,
    ModelParams,
    SpendTable,
    body_params,
    engagement_value,
    frequency_factor,
    gifters_per_viewer,
    median_viewers,
    session_noise,
    spend_table,
    whale_max_at,
    whale_share_at,
)
from liveworth.model.inputs import DEFAULT_SESSIONS as DEFAULT_SESSIONS
from liveworth.model.inputs import LEVERS as LEVERS
from liveworth.model.inputs import MAX_SESSIONS as MAX_SESSIONS
from liveworth.model.inputs import MONTH_DAYS as MONTH_DAYS
from liveworth.model.inputs import Inputs as Inputs
from liveworth.model.whales import WhaleTail, whale_coins

#: Expected number of exactly drawn gifts per world in the compound sampler.
EXACT_GIFTS = 8.0
#: Worlds per chunk: bounds the memory of the exact draws (fixed, so results are reproducible).
CHUNK = 65_536
QUANTILES = (0.1, 0.5, 0.9)

def parse_change(name: str, value: str | float) -> tuple[str, float | int]:
    """One what-if change ``NAME=VALUE`` as an (Inputs field, value) pair."""
    key = LEVERS.get(name.strip().lower())
    if key is None:
        raise UsageError(f"unknown what-if {name!r} (choose from followers, viewers, minutes, "
                         "per-week, engagement)")
    if key == "engagement":
        return key, engagement_value(value)
    try:
        number = float(ungrouped(str(value)))  # "10,000" and "10_000", not "0_0_1"
    except ValueError:
        raise UsageError(f"what-if {name}: not a number: {value!r}") from None
    if key == "followers":
        if not number.is_integer():
            raise UsageError(f"what-if followers: not a whole number: {value!r}")
        return key, int(number)
    return key, number


def apply_changes(params: ModelParams, base: Inputs,
                  changes: Mapping[str, str | float]) -> Inputs:
    """``base`` with the what-if ``changes``; stated viewers follow a change of frequency."""
    parsed = dict(parse_change(k, v) for k, v in changes.items())
    changed = replace(base, **parsed)  # type: ignore[arg-type]
    if "per_week" in parsed and "viewers" not in parsed and base.viewers is not None:
        ratio = (frequency_factor(params, changed.per_week)
                 / frequency_factor(params, base.per_week))
        changed = replace(changed, viewers=base.viewers * ratio)
    return changed


# ------------------------------------------------------------------------------ sampling


def typical_viewers(params: ModelParams, inputs: Inputs) -> float:
    """The creator's typical concurrent viewers: stated, or the median for their followers."""
    if inputs.viewers is not None:
        return inputs.viewers
    return median_viewers(params, inputs.followers, inputs.per_week)


def _compound(rates: FloatArray, table: SpendTable, rng: np.random.Generator) -> IntArray:
    """One compound-Poisson coin total per rate: Σ of Poisson(rate) gifters' spends."""
    n = rates.shape[0]
    safe = np.maximum(rates, 1e-300)
    thr = np.searchsorted(-table.survival, -EXACT_GIFTS / safe, side="left")
    # thr == last: even the largest spend is expected EXACT_GIFTS times or more, so every spend
    # goes to the moment-matched part (an exact draw would cost billions of values).
    last = table.values.shape[0]
    thr = np.minimum(thr, last)
    mean = rates * table.m1[thr]
    var = rates * table.m2[thr]
    small = np.zeros(n, dtype=np.float64)
    some = mean > 0
    small[some] = rng.gamma(mean[some] ** 2 / var[some], var[some] / mean[some])
    above = np.where(thr < last, table.survival[np.minimum(thr, last - 1)], 0.0)
    counts = rng.poisson(rates * above)
    values = table.draw_from(rng, np.repeat(thr, counts))
    big = np.bincount(np.repeat(np.arange(n), counts), weights=values.astype(np.float64),
                      minlength=n)
    return (np.rint(small) + big).astype(np.int64)


def in_chunks(n: int, rng: np.random.Generator,
               work: Callable[[slice, np.random.Generator], None]) -> None:
    """Run ``work`` over fixed chunks of ``range(n)``, each with its own child generator.

    Chunks bound the memory of the exact draws; their size is fixed, so the result depends only
    on the generator's state.
    """
    chunks = [slice(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
    for chunk, child in zip(chunks, rng.spawn(len(chunks)), strict=True):
        work(chunk, child)


@dataclass(frozen=True, slots=True, eq=False)
class Samples:
    """Coins of one session and of one month in each simulated world."""

    session: IntArray
    month: IntArray


def _creator_viewers(params: ModelParams, inputs: Inputs, rng: np.random.Generator,
                     n: int) -> FloatArray:
    sigma = (params.stated_viewers_sigma if inputs.viewers is not None
             else params.creator_viewers_sigma)
    return np.asarray(typical_viewers(params, inputs) * rng.lognormal(0.0, sigma, n),
                      dtype=np.float64)


def sample_coins(params: ModelParams, inputs: Inputs, rng: np.random.Generator,
                 n: int = DEFAULT_SESSIONS, *, month_only: bool = False) -> Samples:
    """Draw ``n`` worlds: one session's and one month's coins for a creator like ``inputs``.

    A world's room (the creator's typical viewers) sets its whale share and largest whale spend;
    whales and the other gifters are two compound sums of the one Poisson stream of gifters.
    """
    if not 1 <= n <= MAX_SESSIONS:
        raise UsageError(f"sessions must lie between 1 and {MAX_SESSIONS:,}, got {n}")
    body = spend_table(body_params(params))
    creator = _creator_viewers(params, inputs, rng, n)
    share = whale_share_at(params, creator)
    cap = whale_max_at(params, creator)
    rate = creator * gifters_per_viewer(params, inputs.minutes, inputs.engagement)
    noise_mean, shape = session_noise(params)
    per_month = inputs.sessions_per_month
    session = np.zeros(n, dtype=np.int64)
    month = np.zeros(n, dtype=np.int64)

    def coins(r: FloatArray, chunk: slice, g: np.random.Generator) -> IntArray:
        # Own streams for the two sums, so that the whales' draws do not shift with the number
        # of other gifters drawn (common random numbers stay common when inputs change).
        others, whales = g.spawn(2)
        return (_compound(r * (1 - share[chunk]), body, others)
                + whale_coins(r * share[chunk], cap[chunk], params, whales))

    def work(chunk: slice, g: np.random.Generator) -> None:
        r = rate[chunk]
        one, many = g.spawn(2)
        if not month_only:
            session[chunk] = coins(r * one.gamma(shape, noise_mean / shape, r.shape[0]), chunk,
                                   one)
        if per_month > 0:
            month[chunk] = coins(r * many.gamma(shape * per_month, noise_mean / shape,
                                                r.shape[0]), chunk, many)

    in_chunks(n, rng, work)
    return Samples(session, month)


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Span:
    """One period's p10 / p50 / p90 (and analytic mean): coins and whose money they are."""

    coins: tuple[int, int, int]
    creator_usd: tuple[Decimal, Decimal, Decimal]
    viewer_usd: tuple[Decimal, Decimal, Decimal]
    mean_coins: int
    mean_creator_usd: Decimal
    mean_viewer_usd: Decimal

    @classmethod
    def of(cls, coins: IntArray, mean: float, card: RateCard, channel: str | None) -> Span:
        """Quantiles of sampled integer coins; ``mean`` is the model's exact expectation."""
        q = np.quantile(coins, QUANTILES, method="inverted_cdf")
        ints = tuple(int(v) for v in q)
        money = [earnings(c, card, channel) for c in ints]
        avg = earnings(round(mean), card, channel)
        return cls(
            coins=(ints[0], ints[1], ints[2]),
            creator_usd=(money[0].creator_usd, money[1].creator_usd, money[2].creator_usd),
            viewer_usd=(money[0].viewer_usd, money[1].viewer_usd, money[2].viewer_usd),
            mean_coins=avg.coins,
            mean_creator_usd=avg.creator_usd,
            mean_viewer_usd=avg.viewer_usd,
        )

    def as_dict(self) -> dict[str, Any]:
        def band(values: tuple[Any, Any, Any], mean: Any, money: bool) -> dict[str, Any]:
            out = {f"p{int(q * 100)}": fmt(v) if money else v
                   for q, v in zip(QUANTILES, values, strict=True)}
            out["mean"] = fmt(mean) if money else mean
            return out

        return {"creator_usd": band(self.creator_usd, self.mean_creator_usd, True),
                "viewer_usd": band(self.viewer_usd, self.mean_viewer_usd, True),
                "coins": band(self.coins, self.mean_coins, False)}


@dataclass(frozen=True, slots=True)
class Driver:
    """What one lever does to expected monthly earnings."""

    name: str
    change: str
    effect_pct: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "change": self.change, "effect_pct": round(self.effect_pct, 1)}


@dataclass(frozen=True, slots=True)
class Estimate:
    """An earnings estimate: per session and per month, the tier, drivers and assumptions."""

    inputs: Inputs
    typical_viewers: float
    sessions_per_month: float
    per_session: Span
    per_month: Span
    tier: str
    drivers: tuple[Driver, ...]
    assumptions: tuple[str, ...]
    rate_card: str
    channel: str
    simulations: int
    #: Sentences on inputs outside the range the calibration covers (:mod:`.coverage`).
    warnings: tuple[str, ...] = ()
    #: Which calibration: article (the default), population, or history.
    calibration_set: str = "article"
    #: Where TikTok's aggregates disagree with this estimate, in one line (article only).
    population_check: str | None = None
    #: Where each input came from (``--from-history``: stated, your sessions, the model).
    input_sources: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "warnings": list(self.warnings),
            "calibration_set": self.calibration_set,
            "population_check": self.population_check,
            "input_sources": self.input_sources,
            "per_session": self.per_session.as_dict(),
            "per_month": self.per_month.as_dict(),
            "tier": self.tier,
            "inputs": {**self.inputs.as_dict(),
                       "typical_viewers": round(self.typical_viewers, 1),
                       "sessions_per_month": round(self.sessions_per_month, 2)},
            "assumptions": list(self.assumptions),
            "preconditions": list(PRECONDITIONS),
            "drivers": [d.as_dict() for d in self.drivers],
            "rate_card": self.rate_card,
            "channel": self.channel,
            "simulations": self.simulations,
        }


def tier(followers: int) -> str:
    """The seed's yardstick for a creator of this size (DESIGN.md)."""
    if followers < 10_000:
        return "under 10k followers: about $10–100 a session"
    if followers < 100_000:
        return "10k–100k followers: about $100–1,000 a session"
    return "over 100k followers: $1,000 and more a session (some $5,000–10,000+)"


#: Gauss–Hermite nodes for the expectation over creators of one size.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)


def mean_spend(params: ModelParams, viewers: FloatArray) -> FloatArray:
    """Mean coins of one gifter in rooms of ``viewers`` (whales and the rest)."""
    share = whale_share_at(params, viewers)
    whale = WhaleTail(params, whale_max_at(params, viewers)).mean
    return np.asarray((1 - share) * spend_table(body_params(params)).mean + share * whale,
                      dtype=np.float64)


def expected_coins(params: ModelParams, inputs: Inputs) -> tuple[float, float]:
    """The model's mean coins of a session and of a month.

    Viewers × gifters per viewer × session noise mean × mean spend of the room, averaged over
    creators of this size (the log-normal spread, by 64-node Gauss–Hermite quadrature; the whale
    tail makes the mean spend depend on the room) (× sessions a month).
    """
    sigma = (params.stated_viewers_sigma if inputs.viewers is not None
             else params.creator_viewers_sigma)
    viewers = typical_viewers(params, inputs) * np.exp(sigma * _NODES)
    per_room = viewers * mean_spend(params, viewers)
    noise_mean, _ = session_noise(params)
    session = (float(np.dot(_WEIGHTS, per_room)) / math.sqrt(2 * math.pi)
               * gifters_per_viewer(params, inputs.minutes, inputs.engagement) * noise_mean)
    return session, session * inputs.sessions_per_month


def drivers(params: ModelParams, inputs: Inputs) -> tuple[Driver, ...]:
    """The main levers, by their effect on expected monthly earnings (largest first), then the
    whales' share of the coins."""
    base = expected_coins(params, inputs)[1]
    if base <= 0:
        return ()
    twice_viewers: dict[str, str | float] = (
        {"viewers": 2 * inputs.viewers} if inputs.viewers is not None
        else {"followers": round(inputs.followers * 2 ** (1 / params.viewers_exponent))})
    levers = (
        ("viewers", "twice the concurrent viewers", twice_viewers),
        ("minutes", f"sessions of {2 * inputs.minutes:g} instead of {inputs.minutes:g} minutes",
         {"minutes": min(2 * inputs.minutes, 1440.0)}),
        ("per_week", f"{inputs.per_week + 1:g} instead of {inputs.per_week:g} sessions a week",
         {"per-week": inputs.per_week + 1}),
        ("engagement", "twice the chat and likes per viewer",
         {"engagement": 2 * inputs.engagement}),
    )
    out = []
    for name, change, ch in levers:
        try:
            changed = apply_changes(params, inputs, ch)
        except UsageError:  # at the top of an input's range there is no doubling to show
            continue
        out.append(Driver(name, change, 100 * (expected_coins(params, changed)[1] / base - 1)))
    out.sort(key=lambda d: -d.effect_pct)
    whales = spend_table(params, typical_viewers(params, inputs)).share_of_coins_from(10_000)
    out.append(Driver("whales", "share of coins from gifters spending 10,000+ coins",
                      100 * whales))
    return tuple(out)


def _whale_line(params: ModelParams, viewers: float) -> str:
    room = spend_table(params, viewers)
    v = np.array([viewers], dtype=np.float64)
    share, top = float(whale_share_at(params, v)[0]), float(whale_max_at(params, v)[0])
    return (f"in a room of ~{viewers:,.0f} viewers a gifter spends {room.mean:,.0f} coins on "
            f"average; {share:.2%} are whales (10,000 to {top:,.0f} coins, Pareto tail "
            f"{params.whale_alpha:g}) against {params.whale_share:.0%} in the real "
            f"{params.whale_room_viewers:,.0f}-viewer top-creator session the spend is fitted "
            "to: whales concentrate in big rooms")


def assumptions(params: ModelParams, inputs: Inputs, card: RateCard,
                channel: str | None) -> tuple[str, ...]:
    """The assumptions behind an estimate, in words (every parameter: docs/MODEL.md)."""
    v = typical_viewers(params, inputs)
    if inputs.viewers is None:
        viewers = (f"typical concurrent viewers {v:,.0f}, from {inputs.followers:,} followers: "
                   f"{params.viewers_at_10k:g} × (followers / 10k)^{params.viewers_exponent:g} "
                   f"(assumption calibrated to the seed's yardstick); creators of this size "
                   f"differ ×/÷ {math.exp(params.creator_viewers_sigma):.1f}")
    else:
        viewers = (f"typical concurrent viewers {v:,.0f} as stated "
                   f"(±{params.stated_viewers_sigma:.0%})")
    gifters = gifters_per_viewer(params, inputs.minutes, inputs.engagement)
    per_coin = creator_usd(1, card)
    ch = card.channel(channel)
    return (
        viewers,
        f"{inputs.minutes:g}-minute sessions, {inputs.per_week:g} a week "
        f"({inputs.sessions_per_month:.1f} a month); the audience warms up over "
        f"{params.warmup_minutes:g} min and fades with a {params.decay_minutes:g}-min time "
        "constant (assumption)",
        f"about {gifters:.2f} gifters per typical concurrent viewer per session at engagement "
        f"{inputs.engagement:g} (1 = typical: {params.comments_per_viewer_minute:g} comments and "
        f"{params.like_events_per_viewer_minute:g} like events per viewer-minute)",
        _whale_line(params, v),
        f"money at rate card {card.name}: the creator receives ${fmt(per_coin)} per coin; "
        f"viewers pay ${fmt(ch.usd_per_coin.quantize(Decimal('0.000001')))} per coin "
        f"({ch.name})",
    )


def estimate(
    inputs: Inputs,
    *,
    rng: np.random.Generator,
    params: ModelParams | None = None,
    card: RateCard | None = None,
    channel: str | None = None,
    sessions: int = DEFAULT_SESSIONS,
    calibration: str = "article",
) -> Estimate:
    """Estimate a creator's earnings per session and per month (p10 / p50 / p90), with warnings
    when the inputs leave the range the calibration covers (``calibration`` names it)."""
    params = params or ModelParams.from_prior()
    card = card or load_rate_card()
    ch = card.channel(channel).name
    samples = sample_coins(params, inputs, rng, sessions)
    mean_session, mean_month = expected_coins(params, inputs)
    return Estimate(
        inputs=inputs,
        typical_viewers=typical_viewers(params, inputs),
        sessions_per_month=inputs.sessions_per_month,
        per_session=Span.of(samples.session, mean_session, card, ch),
        per_month=Span.of(samples.month, mean_month, card, ch),
        tier=tier(inputs.followers),
        drivers=drivers(params, inputs),
        assumptions=assumptions(params, inputs, card, ch),
        rate_card=card.name,
        channel=ch,
        simulations=sessions,
        warnings=input_warnings(params, inputs),
        calibration_set=calibration,
    )


# ------------------------------------------------------------------------------ what-if


def _pct(new: Decimal, old: Decimal) -> float | None:
    return None if old == 0 else float((new - old) / old * 100)


@dataclass(frozen=True, slots=True)
class WhatIf:
    """One what-if case against the base case (same random numbers for both)."""

    changes: Mapping[str, float | int]
    base: Estimate
    changed: Estimate

    @property
    def session_change_pct(self) -> float | None:
        return _pct(self.changed.per_session.creator_usd[1], self.base.per_session.creator_usd[1])

    @property
    def month_change_pct(self) -> float | None:
        return _pct(self.changed.per_month.creator_usd[1], self.base.per_month.creator_usd[1])

    @property
    def mean_month_change_pct(self) -> float | None:
        return _pct(self.changed.per_month.mean_creator_usd,
                    self.base.per_month.mean_creator_usd)

    def as_dict(self) -> dict[str, Any]:
        def rounded(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {
            "changes": dict(self.changes),
            "inputs": self.changed.as_dict()["inputs"],
            "per_session": self.changed.per_session.as_dict(),
            "per_month": self.changed.per_month.as_dict(),
            "warnings": list(self.changed.warnings),
            "p50_creator_usd_change_pct": {"per_session": rounded(self.session_change_pct),
                                           "per_month": rounded(self.month_change_pct)},
            "mean_creator_usd_change_pct": {"per_month": rounded(self.mean_month_change_pct)},
        }


def what_if(
    base_inputs: Inputs,
    changes: Mapping[str, str | float],
    *,
    rng: np.random.Generator,
    params: ModelParams | None = None,
    card: RateCard | None = None,
    channel: str | None = None,
    sessions: int = DEFAULT_SESSIONS,
    calibration: str = "article",
) -> WhatIf:
    """The base case and the case with ``changes`` (e.g. ``{"minutes": 120}``), compared.

    Both use the same random numbers (the base case draws from ``rng``, the changed case from a
    copy of it), so the difference is the change's, not noise's; the base case is exactly
    :func:`estimate` with ``rng``.
    """
    params = params or ModelParams.from_prior()
    if not changes:
        raise UsageError("a what-if needs at least one NAME=VALUE change")
    changed_inputs = apply_changes(params, base_inputs, changes)
    twin = copy.deepcopy(rng)
    kw: dict[str, Any] = {"params": params, "card": card, "channel": channel,
                          "sessions": sessions, "calibration": calibration}
    base = estimate(base_inputs, rng=rng, **kw)
    changed = estimate(changed_inputs, rng=twin, **kw)
    parsed = dict(parse_change(k, v) for k, v in changes.items())
    return WhatIf(parsed, base, changed)

"""The two calibrations of the public model: the article's yardstick and TikTok's own aggregates.

``article`` (the default, :meth:`ModelParams.from_prior`) reproduces the seed's tiers — under 10k
followers $10–100 a session, 10k–100k $100–1,000, over 100k $1,000 and more — which describe
creators who do well. ``population`` is fitted to what TikTok says of all LIVE creators together
(ECONOMICS.md "2026 update", grade B: Digiday / Routenote 2025): $63 M of LIVE revenue in 30 days,
about 400,000 creators LIVE a day, 80.4 % of the revenue from creators under 50k followers.

The fit keeps the model's structure and moves one number, the gifting propensity
(``gifter_rate``). LIVE creators' followers are taken as a Pareto law from TikTok's 1,000-follower
LIVE requirement to 20 M; its index is set so that creators under 50k bring 80.4 % of the model's
expected revenue (a share that does not depend on the gifting level), and the gifting multiplier
so that the average creator-day — one 60-minute session, three a week's audience — brings
$63 M / 30 days / 400,000 creators of gifts. Both are deterministic (quadrature, no Monte Carlo).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

import numpy as np

from liveworth.economy.money import usd
from liveworth.errors import UsageError
from liveworth.model.coverage import MAX_CALIBRATED_FOLLOWERS, MIN_LIVE_FOLLOWERS
from liveworth.model.estimate import Estimate, Inputs, expected_coins
from liveworth.model.generative import FloatArray, ModelParams

CALIBRATIONS = ("article", "population")
#: TikTok's aggregates (Digiday / Routenote 2025; ECONOMICS.md "2026 update", grade B).
REVENUE_USD = Decimal(63_000_000)
REVENUE_DAYS = 30
CREATORS_LIVE_DAILY = 400_000
SHARE_UNDER_50K = 0.804
SMALL_FOLLOWERS = 50_000
#: Follower grid of the fit (log-spaced, 1,000 to 20 M).
_GRID = np.geomspace(MIN_LIVE_FOLLOWERS, MAX_CALIBRATED_FOLLOWERS, 241)


@dataclass(frozen=True, slots=True)
class Population:
    """The population calibration: its parameters and what the fit found."""

    params: ModelParams
    follower_index: float
    gifting_multiplier: float
    coins_per_creator_day: float
    share_under_50k: float

    def as_dict(self) -> dict[str, float]:
        return {"follower_index": round(self.follower_index, 3),
                "gifting_multiplier": round(self.gifting_multiplier, 4),
                "gifter_rate": round(self.params.gifter_rate, 6),
                "coins_per_creator_day": round(self.coins_per_creator_day, 1),
                "share_under_50k": round(self.share_under_50k, 4)}


def _trapezoid(y: FloatArray, x: FloatArray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def _moments(index: float, coins: FloatArray, upto: int) -> tuple[float, float, float]:
    """Creators, their expected coins, and those of creators below ``upto`` followers, for
    a Pareto density of ``index`` over the grid (in log followers)."""
    x = np.log(_GRID)
    density = _GRID ** -index
    small = upto >= _GRID
    return (_trapezoid(density, x), _trapezoid(density * coins, x),
            _trapezoid((density * coins)[small], x[small]))


@lru_cache(maxsize=8)
def fit_population(params: ModelParams, usd_per_coin: Decimal) -> Population:
    """Fit the population calibration to TikTok's aggregates (coins priced at ``usd_per_coin``,
    what viewers pay)."""
    if not usd_per_coin > 0:
        raise UsageError("the population calibration needs a rate card on which viewers pay "
                         "for coins")
    coins = np.array([expected_coins(params, Inputs(followers=round(f)))[0]
                      for f in _GRID.tolist()], dtype=np.float64)
    if not coins[-1] > 0:
        raise UsageError("the population calibration needs a model in which creators earn")
    low, high = 1e-3, 10.0  # the share under 50k rises with the index
    for _ in range(100):
        mid = (low + high) / 2
        _, total, small = _moments(mid, coins, SMALL_FOLLOWERS)
        low, high = (mid, high) if small / total < SHARE_UNDER_50K else (low, mid)
    index = (low + high) / 2
    creators, total, small = _moments(index, coins, SMALL_FOLLOWERS)
    target = float(REVENUE_USD / usd_per_coin) / (REVENUE_DAYS * CREATORS_LIVE_DAILY)
    multiplier = target / (total / creators)
    fitted = replace(params, gifter_rate=params.gifter_rate * multiplier)
    return Population(fitted, index, multiplier, target, small / total)


def calibration_params(name: str, usd_per_coin: Decimal,
                       base: ModelParams | None = None) -> ModelParams:
    """The parameters of calibration ``name`` (article or population)."""
    base = base or ModelParams.from_prior()
    if name == "article":
        return base
    if name == "population":
        return fit_population(base, usd_per_coin).params
    raise UsageError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {name!r}")


def population_check(article: Estimate, population: Estimate) -> str:
    """One line: what TikTok's aggregates say of a creator like this, against the article."""
    session = population.per_session.creator_usd[1]
    month = population.per_month.creator_usd[1]
    ours = article.per_month.creator_usd[1]
    if month > 0 and ours > 0:
        times = f"about {ours / month:,.0f}× less a month than above"
    else:
        times = "far less than above"
    return (f"TikTok's own totals ($63 M of LIVE gifts in 30 days across ~400k creators LIVE a "
            f"day, 80 % to creators under 50k followers; --calibration population) put a "
            f"typical creator like this at {usd(session)} a session and {usd(month)} a month, "
            f"{times}: the article's tiers describe creators who do well, not the average")

"""Where each input of a history-based estimate or plan comes from, and the month it samples.

An estimate (or a plan) ``--from-history`` takes what the user states, the rest from the
creator's recorded sessions, and only what neither tells from the model — and says which for
every input (:data:`STATED`, :data:`HISTORY`, :data:`MODEL`). A creator whose sessions never
recorded a follower count is placed by their audience: the followers a typical creator with
those viewers has (:func:`followers_for_viewers`), which also picks their tier — never "0
followers" and the smallest tier for a room of thousands.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from liveworth.model.calibrate import Calibration, draw_coins, sum_by
from liveworth.model.generative import IntArray, ModelParams, median_viewers
from liveworth.model.inputs import FROM_HISTORY, FROM_MODEL, FROM_STATED, MAX_FOLLOWERS, Inputs

STATED, HISTORY, MODEL = FROM_STATED, FROM_HISTORY, FROM_MODEL
#: What an input's source reads as after its value.
_SHOWN = {STATED: "as stated", HISTORY: "from your sessions", MODEL: "from the model"}

Sources = dict[str, str]
MonthSampler = Callable[[Inputs, np.random.Generator, int], IntArray]


def shown(source: str) -> str:
    return _SHOWN.get(source, source)


def followers_for_viewers(params: ModelParams, viewers: float) -> int:
    """The fewest followers of a typical creator whose LIVEs have at least ``viewers``
    concurrent viewers (the model's viewers-from-followers curve, inverted by bisection; it only
    grows)."""
    low, high = 1.0, float(MAX_FOLLOWERS)
    if median_viewers(params, high) <= viewers:
        return MAX_FOLLOWERS
    if median_viewers(params, low) >= viewers:
        return 1
    for _ in range(80):
        mid = math.sqrt(low * high)
        if median_viewers(params, mid) < viewers:
            low = mid
        else:
            high = mid
        if high - low < 0.5:
            break
    f = max(1, math.ceil(high))
    while f > 1 and median_viewers(params, f - 1) >= viewers:
        f -= 1
    while f < MAX_FOLLOWERS and median_viewers(params, f) < viewers:
        f += 1
    return f


def sourced_inputs(cal: Calibration, *, followers: int | None = None,
                   viewers: float | None = None, minutes: float | None = None,
                   per_week: float | None = None,
                   engagement: float | None = None) -> tuple[Inputs, Sources]:
    """The estimator's inputs, what is given first, then the history, then the model; and
    where each came from."""
    sources: Sources = {}

    def pick(name: str, given: float | None, recorded: float | None) -> float | None:
        if given is not None:
            sources[name] = STATED
            return given
        sources[name] = HISTORY if recorded is not None else MODEL
        return recorded

    if cal.viewers_from == "given" and viewers is None:
        viewers = cal.viewers  # given to the calibration: still the user's statement
    seen_viewers = None if cal.viewers_from != "history" else round(cal.viewers or 0.0, 1)
    v = pick("viewers", viewers, seen_viewers)
    f = pick("followers", followers, cal.followers)
    if f is None:  # placed by the audience (measured or stated: the calibration needs one)
        f = followers_for_viewers(cal.params, v if v is not None else cal.viewers or 1.0)
    m = pick("minutes", minutes, round(cal.minutes, 1))
    w = pick("per_week", per_week, min(round(cal.frequency.per_week, 1), 50.0))
    e = pick("engagement", engagement,
             round(cal.engagement, 2) if cal.engagement_from == "history" else None)
    if e is None:
        e = 1.0  # assumed typical: the model's
    return Inputs(followers=int(f), viewers=v, minutes=float(m or 0), per_week=float(w or 0),
                  engagement=float(e)), sources


def history_months(cal: Calibration) -> MonthSampler:
    """Months of a creator's calibrated sessions: each world draws the creator's level and
    spread from the fitted belief, then the month's sessions (what
    :func:`liveworth.model.calibrate.estimate_from_history` draws), for the planner."""

    def sample(inputs: Inputs, rng: np.random.Generator, n: int) -> IntArray:
        x = cal.offset(inputs)
        per_month = inputs.sessions_per_month
        whole, frac = int(per_month), per_month - int(per_month)
        theta, sigma = cal.fitted.draw(rng, n)
        count = whole + (rng.random(n) < frac).astype(np.int64)
        world = np.repeat(np.arange(n), count)
        coins = draw_coins(np.full(world.shape[0], x), theta[world], sigma[world], rng)
        return sum_by(world, coins, n)

    return sample

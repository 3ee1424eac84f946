"""Personal calibration: the session model fitted to one creator's recorded sessions.

The public prior (:meth:`ModelParams.from_prior`) knows what creators *like* this one earn; a
creator's own sessions say what *they* earn. The calibration keeps the model's structure — what
more viewers, longer sessions and livelier chat do to the money — and learns two numbers from the
history, on the scale of ``y = log(1 + coins)`` of one session:

* **the level** ``θ``: how far the creator's sessions sit above or below what the model expects
  from their audience, session length and engagement (a residual ``r = y − x`` against the
  model's offset ``x = log(viewers × gifters per viewer × mean spend)``);
* **the spread** ``σ``: how much one session differs from the next.

Both get a conjugate normal / scaled-inverse-χ² prior centred on the public model (its own mean and
spread of ``r`` for a creator with these inputs, by Monte Carlo) with a strength of
:data:`PRIOR_SESSIONS` pseudo-sessions, so one or two recorded sessions barely move it and twenty
mostly replace it. A new session's ``r`` is then Student-t; :attr:`Calibration.loo` checks it on
the history itself: each session is predicted from the others (leave-one-out) and the share inside
its 80 % interval is reported.

How often the creator goes LIVE comes from the same history: the share of days with a session
(a beta prior of :data:`FREQUENCY_PRIOR_DAYS` pseudo-days at the model's 3 sessions a week) and the
sessions and minutes of a LIVE day. Days are UTC calendar days. :mod:`liveworth.model.forecast`
builds on all of this; docs/MODEL.md ("Personal calibration") has the whole story.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from liveworth.economy.money import creator_usd, fmt
from liveworth.economy.numbers import count
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import UsageError
from liveworth.model.estimate import (
    DEFAULT_SESSIONS,
    MAX_SESSIONS,
    Estimate,
    Inputs,
    Span,
    drivers,
    in_chunks,
    sample_coins,
    tier,
)
from liveworth.model.generative import (
    FloatArray,
    IntArray,
    ModelParams,
    gifters_per_viewer,
    median_viewers,
    spend_table,
    viewer_minutes_per_viewer,
)
from liveworth.model.history import DAY_MS as DAY_MS
from liveworth.model.history import History as History
from liveworth.model.history import HistorySession as HistorySession
from liveworth.model.history import load_history as load_history
from liveworth.model.history import normalize_host as normalize_host
from liveworth.model.history import utc_day as utc_day
from liveworth.model.inputs import FROM_HISTORY, FROM_MODEL, FROM_STATED

#: Strength of the public prior on the level and the spread, in pseudo-sessions (assumption).
PRIOR_SESSIONS = 5.0
#: Pseudo-days of the prior on the share of days with a LIVE (assumption).
FREQUENCY_PRIOR_DAYS = 7.0
#: The predictive interval checked in leave-one-out.
INTERVAL = 0.8
#: Monte Carlo draws of the prior model's own spread of log-coins.
PRIOR_DRAWS = 20_000
#: Fewest sessions for which the leave-one-out coverage means something.
MIN_LOO_SESSIONS = 5
#: Typical viewers are never taken below one (the model's offset is a logarithm).
MIN_VIEWERS = 1.0
#: Engagement estimated from chat is kept inside Inputs' range.
ENGAGEMENT_RANGE = (0.05, 100.0)
#: Largest log(1 + coins) of one drawn session (10^12 coins): keeps sums in exact int64 range.
MAX_LOG_COINS = math.log1p(1e12)


# ------------------------------------------------------------------------------ level and spread


def t_quantile(p: float, nu: float) -> float:
    """Quantile ``p`` of Student's t with ``nu`` degrees of freedom.

    Cornish–Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5): within
    1e-4 of the exact value for ``nu ≥ 5`` at the 10 % / 90 % points used here.
    """
    z = statistics.NormalDist().inv_cdf(p)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / nu + g2 / nu**2 + g3 / nu**3 + g4 / nu**4


@dataclass(frozen=True, slots=True)
class Posterior:
    """Normal / scaled-inverse-χ² belief about a creator's level ``θ`` and spread ``σ``.

    ``θ | σ² ~ N(mean, σ² / kappa)``, ``σ² ~ Scaled-Inv-χ²(nu, scale²)``. A new session's
    residual is Student-t with ``nu`` degrees of freedom, location ``mean`` and scale
    ``scale × √(1 + 1/kappa)``.
    """

    mean: float
    scale: float
    kappa: float
    nu: float

    def update(self, residuals: Sequence[float]) -> Posterior:
        """The conjugate update by observed residuals ``r = y − x``."""
        n = len(residuals)
        if n == 0:
            return self
        r = np.asarray(residuals, dtype=np.float64)
        rbar = float(r.mean())
        ss = float(((r - rbar) ** 2).sum())
        kappa = self.kappa + n
        nu = self.nu + n
        mean = (self.kappa * self.mean + n * rbar) / kappa
        s2 = (self.nu * self.scale**2 + ss + self.kappa * n / kappa * (rbar - self.mean) ** 2) / nu
        return Posterior(mean, math.sqrt(s2), kappa, nu)

    @property
    def predictive_scale(self) -> float:
        return self.scale * math.sqrt(1 + 1 / self.kappa)

    def interval(self, level: float = INTERVAL) -> tuple[float, float]:
        """The central ``level`` predictive interval of a new session's residual."""
        half = t_quantile(0.5 + level / 2, self.nu) * self.predictive_scale
        return self.mean - half, self.mean + half

    def draw(self, rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
        """``n`` draws of ``(θ, σ)`` from this belief (one per simulated world)."""
        sigma2 = self.nu * self.scale**2 / rng.chisquare(self.nu, n)
        sigma = np.sqrt(sigma2)
        theta = self.mean + sigma / math.sqrt(self.kappa) * rng.standard_normal(n)
        return theta, sigma

    def as_dict(self) -> dict[str, float]:
        return {"level": round(self.mean, 4), "spread": round(self.scale, 4),
                "pseudo_sessions": round(self.kappa, 2)}


# ------------------------------------------------------------------------------ frequency


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often the creator goes LIVE: days with a session and what such a day holds."""

    observed_days: int
    live_days: int
    sessions: int
    prior_live_share: float

    @property
    def beta(self) -> tuple[float, float]:
        """Beta belief about the share of days with a LIVE."""
        a0 = self.prior_live_share * FREQUENCY_PRIOR_DAYS
        b0 = FREQUENCY_PRIOR_DAYS - a0
        return a0 + self.live_days, b0 + self.observed_days - self.live_days

    @property
    def live_share(self) -> float:
        a, b = self.beta
        return a / (a + b)

    @property
    def sessions_per_live_day(self) -> float:
        return self.sessions / self.live_days if self.live_days else 1.0

    @property
    def per_week(self) -> float:
        return 7 * self.live_share * self.sessions_per_live_day

    def as_dict(self) -> dict[str, Any]:
        return {"observed_days": self.observed_days, "live_days": self.live_days,
                "sessions": self.sessions, "live_day_share": round(self.live_share, 4),
                "sessions_per_live_day": round(self.sessions_per_live_day, 3),
                "per_week": round(self.per_week, 3)}


def frequency(params: ModelParams, sessions: Sequence[HistorySession],
              last_day: dt.date | None = None) -> Frequency:
    """Days with a LIVE from the first session's day to ``last_day`` (default: the last's)."""
    if not sessions:
        return Frequency(0, 0, 0, min(params.reference_per_week / 7, 1.0))
    first = min(s.day for s in sessions)
    last = max(last_day or first, max(s.day for s in sessions))
    return Frequency(observed_days=(last - first).days + 1,
                     live_days=len({s.day for s in sessions}), sessions=len(sessions),
                     prior_live_share=min(params.reference_per_week / 7, 1.0))


# ------------------------------------------------------------------------------ the calibration


def chat_multiplier(params: ModelParams) -> float:
    """Mean factor by which chat bursts raise comments over the base rate."""
    return 1 + params.burst_chat_boost * params.chat_bursts_per_hour / 60 * params.burst_minutes


def session_viewers(params: ModelParams, s: HistorySession) -> float | None:
    """The typical viewers (model sense: mean concurrency over 60 minutes) one session shows."""
    if s.avg_viewers is None:
        return None
    return s.avg_viewers * s.minutes / viewer_minutes_per_viewer(params, s.minutes)


def session_engagement(params: ModelParams, s: HistorySession) -> float | None:
    """Comments per viewer-minute relative to a typical LIVE (the model's engagement)."""
    if not s.avg_viewers:
        return None
    per_vm = s.comments / (s.avg_viewers * s.minutes)
    value = per_vm / (params.comments_per_viewer_minute * chat_multiplier(params))
    return min(max(value, ENGAGEMENT_RANGE[0]), ENGAGEMENT_RANGE[1])


def offset(params: ModelParams, viewers: float, minutes: float, engagement: float) -> float:
    """log of the model's expected coins of a session before session noise: the level's zero."""
    v = max(viewers, MIN_VIEWERS)
    return math.log(v * gifters_per_viewer(params, minutes, engagement)
                    * spend_table(params).mean)


@dataclass(frozen=True, slots=True)
class LooCheck:
    """Leave-one-out: each past session against the interval predicted from the others."""

    sessions: int
    inside: int
    below: int
    above: int
    level: float = INTERVAL

    @property
    def coverage(self) -> float | None:
        return self.inside / self.sessions if self.sessions else None

    def as_dict(self) -> dict[str, Any]:
        cov = self.coverage
        return {"interval": self.level, "sessions": self.sessions, "inside": self.inside,
                "below": self.below, "above": self.above,
                "coverage": None if cov is None else round(cov, 4)}


@dataclass(frozen=True, slots=True)
class Calibration:
    """The session model fitted to one creator's history, and how well it fits."""

    host: str | None
    sessions: int
    params: ModelParams
    followers: int | None
    viewers: float | None
    viewers_from: str
    minutes: float
    engagement: float
    engagement_from: str
    frequency: Frequency
    prior: Posterior
    fitted: Posterior
    loo: LooCheck
    median_coins: int
    first_ts: int
    last_ts: int

    @property
    def weight(self) -> float:
        """Weight of the creator's own sessions against the prior in the level."""
        return self.sessions / (self.sessions + self.prior.kappa)

    @property
    def multiplier(self) -> float:
        """The creator's gifting relative to the public prior (fitted / prior level)."""
        return math.exp(self.fitted.mean - self.prior.mean)

    def typical_viewers(self, inputs: Inputs) -> float:
        """Viewers for a prediction: stated, else the history's, else from followers."""
        if inputs.viewers is not None:
            return inputs.viewers
        if self.viewers is not None:
            return self.viewers
        return median_viewers(self.params, inputs.followers)

    def offset(self, inputs: Inputs) -> float:
        return offset(self.params, self.typical_viewers(inputs), inputs.minutes,
                      inputs.engagement)

    def p50_coins(self, posterior: Posterior, minutes: float | None = None) -> int:
        """Median coins of a session at the history's typical inputs under ``posterior``."""
        x = offset(self.params, self.viewers or median_viewers(self.params, self.followers or 0),
                   minutes or self.minutes, self.engagement)
        return round(math.expm1(max(min(x + posterior.mean, MAX_LOG_COINS), 0.0)))

    def inputs(self, *, followers: int | None = None, viewers: float | None = None,
               minutes: float | None = None, per_week: float | None = None,
               engagement: float | None = None) -> Inputs:
        """Estimator inputs: what is given, the rest from the history (rounded for people)."""
        return Inputs(
            followers=followers if followers is not None else (self.followers or 0),
            viewers=viewers if viewers is not None else (
                None if self.viewers is None else round(self.viewers, 1)),
            minutes=minutes if minutes is not None else round(self.minutes, 1),
            per_week=per_week if per_week is not None else min(round(self.frequency.per_week, 1),
                                                               50.0),
            engagement=engagement if engagement is not None else round(self.engagement, 2),
        )

    @property
    def note(self) -> str:
        """One sentence on how far to trust the fit."""
        if self.sessions < MIN_LOO_SESSIONS:
            return (f"only {count(self.sessions, 'session')}: the estimate is mostly the public "
                    f"prior (your history weighs {self.weight:.0%}); record more sessions to "
                    "calibrate it")
        cov = self.loo.coverage or 0.0
        fit = ("fits well" if 0.65 <= cov <= 0.95 else
               "is too narrow for your sessions" if cov < 0.65 else "is wider than needed")
        return (f"{self.sessions} sessions (history weighs {self.weight:.0%}); the 80 % interval "
                f"{fit}: {self.loo.inside} of {self.loo.sessions} past sessions fall inside it "
                "when each is predicted from the others")

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "sessions": self.sessions,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "prior_strength_sessions": PRIOR_SESSIONS,
            "history_weight": round(self.weight, 4),
            "prior": {**self.prior.as_dict(), "p50_coins_per_session": self.p50_coins(self.prior)},
            "fitted": {**self.fitted.as_dict(),
                       "p50_coins_per_session": self.p50_coins(self.fitted)},
            "gifting_multiplier": round(self.multiplier, 4),
            "typical": {
                "followers": self.followers,
                "viewers": None if self.viewers is None else round(self.viewers, 1),
                "viewers_from": self.viewers_from,
                "minutes": round(self.minutes, 1),
                "engagement": round(self.engagement, 3),
                "engagement_from": self.engagement_from,
            },
            "frequency": self.frequency.as_dict(),
            "median_coins_per_session": self.median_coins,
            "loo": self.loo.as_dict(),
            "note": self.note,
        }


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _recorded_followers(sessions: Sequence[HistorySession]) -> int | None:
    """The follower count of the latest session that recorded one."""
    return next((s.followers for s in reversed(sessions) if s.followers is not None), None)


def _typical_viewers(params: ModelParams, sessions: Sequence[HistorySession],
                     viewers: float | None, followers: int | None) -> tuple[float, str]:
    """Typical viewers and where they come from: the history, else given, else followers."""
    per_session_viewers = [v for s in sessions if (v := session_viewers(params, s)) is not None]
    if per_session_viewers:
        return max(_median(per_session_viewers), MIN_VIEWERS), "history"
    if viewers is not None:
        return max(viewers, MIN_VIEWERS), "given"
    if followers is not None:
        return median_viewers(params, followers), "followers"
    raise UsageError("the recorded sessions have no viewer counts and no follower count: "
                     "give --viewers or --followers")


def _typical_engagement(params: ModelParams,
                        sessions: Sequence[HistorySession]) -> tuple[float, str]:
    """Typical engagement and where it comes from: the history, else assumed typical."""
    engagements = [e for s in sessions if (e := session_engagement(params, s)) is not None]
    return ((_median(engagements), "history") if engagements else (1.0, "assumed typical"))


def _residuals(params: ModelParams, sessions: Sequence[HistorySession], viewers: float,
               engagement: float) -> list[float]:
    """Each session's ``r = y − x``: log-coins against the model's offset."""
    x = np.array([offset(params, viewers, s.minutes, engagement) for s in sessions])
    y = np.array([s.log_coins for s in sessions])
    return list((y - x).tolist())


def _prior(params: ModelParams, *, followers: int | None, viewers: float, minutes: float,
           engagement: float, rng: np.random.Generator) -> Posterior:
    """The public model's own mean and spread of the residual for this creator.

    The creator's audience is known (no between-creator spread); the belief has a strength of
    :data:`PRIOR_SESSIONS` pseudo-sessions.
    """
    within = replace(params, stated_viewers_sigma=0.0)
    draws = sample_coins(within, Inputs(followers=followers or 0, viewers=viewers,
                                        minutes=minutes, engagement=engagement),
                         rng, PRIOR_DRAWS).session
    y_prior = np.log1p(draws.astype(np.float64))
    x_typ = offset(params, viewers, minutes, engagement)
    return Posterior(float(y_prior.mean()) - x_typ, float(y_prior.std()), PRIOR_SESSIONS,
                     PRIOR_SESSIONS)


def _leave_one_out(prior: Posterior, residuals: list[float]) -> LooCheck:
    """Each residual against the interval of ``prior`` updated by all the others."""
    inside = below = above = 0
    for i, r in enumerate(residuals):
        lo, hi = prior.update(residuals[:i] + residuals[i + 1:]).interval()
        if r < lo:
            below += 1
        elif r > hi:
            above += 1
        else:
            inside += 1
    return LooCheck(len(residuals), inside, below, above)


def calibrate(history: History, *, rng: np.random.Generator,
              params: ModelParams | None = None, viewers: float | None = None,
              followers: int | None = None, last_day: dt.date | None = None) -> Calibration:
    """Fit the level and spread of ``history``'s log-coins, shrunk to the public prior.

    ``viewers`` stands in when the history has no viewer counts, ``followers`` (given) replaces
    the recorded follower count, which sets the viewers when neither is known; ``last_day`` ends
    the window in which the LIVE frequency is measured (default: the last session's day).
    ``rng`` draws the prior model's own spread (Monte Carlo).
    """
    params = params or ModelParams.from_prior()
    sessions = history.sessions
    if not sessions:
        who = f"@{history.host}" if history.host else "this creator"
        raise UsageError(f"no recorded sessions of {who} to calibrate from")
    followers = followers if followers is not None else _recorded_followers(sessions)
    typical_v, viewers_from = _typical_viewers(params, sessions, viewers, followers)
    engagement, engagement_from = _typical_engagement(params, sessions)
    minutes = _median([s.minutes for s in sessions])
    residuals = _residuals(params, sessions, typical_v, engagement)
    prior = _prior(params, followers=followers, viewers=typical_v, minutes=minutes,
                   engagement=engagement, rng=rng)
    return Calibration(
        host=history.host, sessions=len(sessions), params=params, followers=followers,
        viewers=typical_v if viewers_from != "followers" else None, viewers_from=viewers_from,
        minutes=minutes, engagement=engagement, engagement_from=engagement_from,
        frequency=frequency(params, sessions, last_day), prior=prior,
        fitted=prior.update(residuals), loo=_leave_one_out(prior, residuals),
        median_coins=round(_median([float(s.coins) for s in sessions])),
        first_ts=sessions[0].start_ts, last_ts=sessions[-1].start_ts,
    )


# ------------------------------------------------------------------------------ drawing sessions


def draw_coins(offsets: FloatArray, theta: FloatArray, sigma: FloatArray,
               rng: np.random.Generator) -> IntArray:
    """One session's coins per entry: ``expm1(x + θ + σ·ε)``, never below 0 (integers)."""
    y = offsets + theta + sigma * rng.standard_normal(offsets.shape[0])
    return np.rint(np.expm1(np.clip(y, 0.0, MAX_LOG_COINS))).astype(np.int64)


def sum_by(world: IntArray, values: IntArray, n: int) -> IntArray:
    """Per-world sums of integer ``values`` (exact: every total stays below 2**53)."""
    return np.rint(np.bincount(world, weights=values.astype(np.float64), minlength=n)
                   ).astype(np.int64)


def estimate_from_history(
    cal: Calibration,
    inputs: Inputs,
    *,
    rng: np.random.Generator,
    card: RateCard | None = None,
    channel: str | None = None,
    sessions: int = DEFAULT_SESSIONS,
    sources: dict[str, str] | None = None,
) -> Estimate:
    """An :class:`Estimate` from the calibrated per-session distribution; ``sources`` says
    where each input came from (:func:`liveworth.model.history_inputs.sourced_inputs`).

    Each simulated world draws the creator's level and spread from the fitted belief, then one
    session and a month of ``inputs.sessions_per_month`` sessions (the whole number below it,
    plus one more with the fraction's probability). The model's offset carries changes of
    viewers, minutes and engagement, so what-ifs work as with the prior.
    """
    if not 1 <= sessions <= MAX_SESSIONS:
        raise UsageError(f"sessions must lie between 1 and {MAX_SESSIONS:,}, got {sessions}")
    card = card or load_rate_card()
    ch = card.channel(channel).name
    x = cal.offset(inputs)
    per_month = inputs.sessions_per_month
    whole, frac = int(per_month), per_month - int(per_month)
    session = np.zeros(sessions, dtype=np.int64)
    month = np.zeros(sessions, dtype=np.int64)

    def work(chunk: slice, g: np.random.Generator) -> None:
        n = chunk.stop - chunk.start
        theta, sigma = cal.fitted.draw(g, n)
        session[chunk] = draw_coins(np.full(n, x), theta, sigma, g)
        count = whole + (g.random(n) < frac).astype(np.int64)
        world = np.repeat(np.arange(n), count)
        coins = draw_coins(np.full(world.shape[0], x), theta[world], sigma[world], g)
        month[chunk] = sum_by(world, coins, n)

    in_chunks(sessions, rng, work)
    s2 = cal.fitted.predictive_scale ** 2
    mean_session = math.expm1(min(x + cal.fitted.mean + s2 / 2, MAX_LOG_COINS))
    viewers = cal.typical_viewers(inputs)
    return Estimate(
        inputs=inputs,
        typical_viewers=viewers,
        sessions_per_month=per_month,
        per_session=Span.of(session, mean_session, card, ch),
        per_month=Span.of(month, mean_session * per_month, card, ch),
        tier=tier(inputs.followers) + (
            f" (placed by your audience of ~{viewers:,.0f} viewers: no follower count recorded)"
            if sources and sources.get("followers") == FROM_MODEL else ""),
        drivers=drivers(cal.params, inputs),
        assumptions=history_assumptions(cal, inputs, viewers, card, sources),
        input_sources=sources,
        rate_card=card.name,
        channel=ch,
        simulations=sessions,
    )


def history_assumptions(cal: Calibration, inputs: Inputs, viewers: float,
                        card: RateCard, sources: dict[str, str] | None = None
                        ) -> tuple[str, ...]:
    """The assumptions behind a calibrated estimate, in words; each input says where it came
    from (``sources``; without them, told from the calibration)."""
    sources = sources or {}
    followers = {FROM_STATED: "as stated", FROM_HISTORY: "recorded",
                 FROM_MODEL: "placed by your audience: no follower count recorded"}.get(
        sources.get("followers", ""), "recorded" if cal.followers is not None else "given")
    if sources.get("viewers") == FROM_STATED:
        source = "as stated"
    elif cal.viewers_from == "history" and inputs.viewers is not None:
        source = "measured in your sessions"
    elif inputs.viewers is None:
        source = "from followers: no viewer counts recorded"
    else:
        source = "as stated"
    if sources.get("engagement") == FROM_STATED or (
            not sources and not math.isclose(inputs.engagement, round(cal.engagement, 2))):
        engagement = "as stated"
    elif cal.engagement_from == "history":
        engagement = "your sessions' comments per viewer-minute against a typical LIVE's"
    else:
        engagement = "assumed typical: no viewer counts recorded"
    return (
        f"calibrated to {count(cal.sessions, 'recorded session')} of "
        f"{'@' + cal.host if cal.host else 'this creator'}: {cal.note}",
        f"your gifting is × {cal.multiplier:.2f} the public prior's for your audience "
        f"(level {cal.fitted.mean:+.2f} vs {cal.prior.mean:+.2f} on log(1 + coins)); sessions "
        f"differ ×/÷ {math.exp(cal.fitted.scale):.1f} (prior ×/÷ {math.exp(cal.prior.scale):.1f})"
        f"; prior strength {PRIOR_SESSIONS:g} pseudo-sessions (assumption)",
        f"followers {inputs.followers:,} ({followers}); typical concurrent viewers "
        f"{viewers:,.0f} ({source}); engagement "
        f"{inputs.engagement:.2g} ({engagement})",
        f"{inputs.minutes:g}-minute sessions, {inputs.per_week:.2g} a week "
        f"({inputs.sessions_per_month:.1f} a month); your history: LIVE on "
        f"{cal.frequency.live_days} of {cal.frequency.observed_days} days",
        f"money at rate card {card.name}: the creator receives ${fmt(creator_usd(1, card))} "
        "per coin",
    )

"""The generative model of one TikTok LIVE session, shared by the simulator and the estimator.

One session, in the order things happen (docs/MODEL.md has the whole story and every source):

1. **Audience.** A creator with ``followers`` followers has a typical concurrent audience of
   ``viewers_at_10k × (followers / 10,000) ** viewers_exponent`` (a power law; creators of the same
   size differ by a log-normal factor). Within a session the audience warms up over a few minutes
   and then slowly decays, so the concurrency curve is ``V × s(t)`` with ``s`` normalised to a mean
   of 1 over a 60-minute session. Viewers arrive as a Poisson stream and stay an exponential time
   (mean ``watch_minutes``), which gives exactly that curve on average.
2. **Engagement.** Viewers comment, like, follow and share at rates per viewer-minute (or per
   viewer) scaled by the creator's ``engagement`` (1 = a typical LIVE). Chat comes in bursts.
3. **Gifting.** Each arriving viewer starts gifting with a small probability, raised by
   engagement, by chat bursts and by battles (a few minutes of extra gifting each). Gifting is
   self-exciting: each gifter moves on average ``gift_contagion`` more viewers to gift soon after.
4. **Spend.** A gifter's spend in the session is drawn from a three-part mixture — many small
   gifters (a streak of roses), some mid gifters (a few hundred coins), rare whales (a Pareto tail
   from 10,000 coins) — fitted to the shape of one complete real session (4.3 M followers, 2022).
   Whales concentrate in big rooms: below that session's room the whale share and the largest
   whale spend shrink with the audience (:func:`room_params`, :func:`spend_table` of a room).
5. **Gift choice** (:mod:`liveworth.model.giftchoice`). A spend is turned into gifts from TikTok's
   real catalogue: whales send their favourite 10,000+-coin gift again and again, mid gifters
   one-shot gifts of 100–9,999 coins, and what is left goes in streaks of cheap streakable gifts.

Everything here is deterministic given its inputs; randomness comes only from an injected
:class:`numpy.random.Generator`. :class:`ModelParams` holds every parameter with its source;
:meth:`ModelParams.from_prior` is the public-data prior, and a calibration from a creator's own
history can later build a different ``ModelParams`` with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from liveworth.errors import UsageError
from liveworth.model.giftchoice import LARGE_GIFT_COINS as LARGE_GIFT_COINS
from liveworth.model.giftchoice import MID_GIFT_COINS as MID_GIFT_COINS
from liveworth.model.giftchoice import GiftActs as GiftActs
from liveworth.model.giftchoice import GiftMenu as GiftMenu
from liveworth.model.giftchoice import gift_acts as gift_acts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Named engagement levels: a multiplier of a typical LIVE's chat, likes and gifting propensity.
ENGAGEMENT_LEVELS: Mapping[str, float] = MappingProxyType(
    {"low": 0.5, "typical": 1.0, "high": 2.0}
)

_ASSUMPTION = "assumption"
_YARDSTICK = (
    "assumption, calibrated so the default model reproduces the seed's yardstick "
    "(DESIGN.md: <10k followers $10-100, 10k-100k $100-1,000, >100k $1,000+ per LIVE)"
)
_REAL_SESSION = (
    "assumption, fitted by hand to the shape of one complete real session (4.3 M followers, "
    "2022: 72,159 gifts, 3,743,839 coins; 1-coin gifts 96.4 % of gifts / 1.9 % of coins, "
    "10,000+ gifts 0.16 % / 87.2 %; GitHub AnasQiblawi/TikTok-Live-Analytics)"
)
_ROOM = (
    "assumption (whales concentrate in big rooms: leaderboards, battles and a top creator's "
    "visibility draw big spenders), calibrated so small creators' mean stays within the seed's "
    "tier and 500k-follower sessions stay below the real 4.3 M-follower session (docs/MODEL.md)"
)
#: Defaults of the room scaling of the whale tail (docs/MODEL.md "Calibration").
WHALE_SHARE_EXPONENT = 0.5
WHALE_MAX_EXPONENT = 1.0
_COUNTING = (
    "ECONOMICS.md 'Counting gifts' (TikTokLiveJava PR #160, TikTok-Live-Connector #29/#74): "
    "finals are sometimes resent and sometimes missing; the rate itself is an assumption"
)


def _p(default: float, unit: str, source: str) -> Any:
    """A model parameter: its default, unit and source (or the word *assumption*)."""
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Every parameter of the LIVE session model, each with its unit and source.

    Build the public prior with :meth:`from_prior`; a personal calibration builds another
    instance with :func:`dataclasses.replace`. :func:`parameter_table` lists them for reports.
    """

    # --- audience ---------------------------------------------------------------------------
    viewers_at_10k: float = _p(110.0, "median concurrent viewers of a 10k-follower creator",
                               _YARDSTICK)
    viewers_exponent: float = _p(0.7, "power of followers", _YARDSTICK + "; below 1 because "
                                 "large accounts have proportionally fewer live viewers")
    creator_viewers_sigma: float = _p(0.6, "log-normal sigma between creators of equal size",
                                      _ASSUMPTION)
    stated_viewers_sigma: float = _p(0.15, "log-normal sigma of a creator's own stated viewers",
                                     _ASSUMPTION)
    session_viewers_sigma: float = _p(0.3, "log-normal sigma of one session's audience",
                                      _ASSUMPTION)
    reference_minutes: float = _p(60.0, "minutes; 'typical viewers' is the mean concurrency "
                                  "over a session this long", _ASSUMPTION)
    warmup_minutes: float = _p(5.0, "minutes (time constant of the audience build-up)",
                               _ASSUMPTION)
    decay_minutes: float = _p(150.0, "minutes (time constant of audience fatigue)",
                              _ASSUMPTION + "; makes longer sessions earn less than in "
                              "proportion")
    watch_minutes: float = _p(4.0, "mean minutes a viewer stays", _ASSUMPTION)
    reference_per_week: float = _p(3.0, "sessions per week at which 'typical viewers' hold",
                                   _ASSUMPTION)
    frequency_elasticity: float = _p(0.1, "audience per session ∝ (sessions per week / "
                                     "reference) ** -elasticity", _ASSUMPTION)
    # --- engagement ---------------------------------------------------------------------------
    comments_per_viewer_minute: float = _p(0.05, "comments per viewer-minute", _ASSUMPTION)
    like_events_per_viewer_minute: float = _p(0.15, "like events per viewer-minute",
                                              _ASSUMPTION)
    likes_per_event: float = _p(6.0, "mean taps per like event", _ASSUMPTION)
    follow_rate: float = _p(0.02, "follows per unique viewer", _ASSUMPTION)
    share_rate: float = _p(0.005, "shares per unique viewer", _ASSUMPTION)
    thinning_viewers: float = _p(2000.0, "concurrency at which half the likes and joins are "
                                 "reported", "ECONOMICS.md: likes and joins are thinned by "
                                 "TikTok on busy streams; the scale is an assumption")
    chat_bursts_per_hour: float = _p(6.0, "chat bursts per hour", _ASSUMPTION)
    burst_minutes: float = _p(1.0, "minutes (decay time of a chat burst)", _ASSUMPTION)
    burst_chat_boost: float = _p(3.0, "extra chat rate at a burst's peak (× base)", _ASSUMPTION)
    burst_gift_boost: float = _p(2.0, "extra gifting rate at a burst's peak (× base)",
                                 _ASSUMPTION)
    battles_per_hour: float = _p(0.5, "battles per hour", _ASSUMPTION)
    battle_minutes: float = _p(5.0, "minutes a battle lasts", _ASSUMPTION)
    battle_gift_boost: float = _p(1.5, "extra gifting rate during a battle (× base)",
                                  _ASSUMPTION)
    viewers_update_seconds: float = _p(10.0, "seconds between viewer-count messages",
                                       _ASSUMPTION)
    # --- gifting ------------------------------------------------------------------------------
    gifter_rate: float = _p(0.04, "probability an arriving viewer starts gifting (typical "
                            "engagement)", _YARDSTICK)
    engagement_elasticity: float = _p(1.0, "gifting ∝ engagement ** elasticity", _ASSUMPTION
                                      + " (the seed: engagement moves the money)")
    gift_contagion: float = _p(0.3, "further gifters each gifter moves to gift (branching "
                               "ratio, < 1)", _ASSUMPTION)
    contagion_minutes: float = _p(0.5, "mean delay of a moved gifter, minutes", _ASSUMPTION)
    mood_shape: float = _p(4.0, "gamma shape of a session's gifting mood (mean 1)",
                           _ASSUMPTION)
    # --- spend per gifter: small + mid + whale mixture ----------------------------------------
    small_share: float = _p(0.85, "share of gifters who are small gifters", _REAL_SESSION)
    small_median: float = _p(4.0, "median coins of a small gifter", _REAL_SESSION)
    small_sigma: float = _p(1.2, "log-normal sigma of a small gifter's coins", _REAL_SESSION)
    mid_median: float = _p(300.0, "median coins of a mid gifter", _REAL_SESSION)
    mid_sigma: float = _p(1.1, "log-normal sigma of a mid gifter's coins", _REAL_SESSION)
    whale_share: float = _p(0.01, "share of gifters who are whales in a room of "
                            "whale_room_viewers or more", _REAL_SESSION
                            + "; the seed: a few whales dominate")
    whale_min: float = _p(10_000.0, "coins, smallest whale spend (Pareto scale)", _REAL_SESSION)
    whale_alpha: float = _p(1.2, "Pareto tail index of whale spend", _REAL_SESSION)
    whale_max: float = _p(2_000_000.0, "coins, largest whale spend in one session in a room "
                          "of whale_room_viewers or more", _ASSUMPTION + " (≈ $26,000 of coins)")
    whale_room_viewers: float = _p(7_670.0, "typical concurrent viewers of the room that "
                                   "whale_share and whale_max describe (the real session's: "
                                   "a 4.3 M-follower creator's in this model)", _REAL_SESSION)
    whale_share_exponent: float = _p(WHALE_SHARE_EXPONENT, "below that room the whale share "
                                     "∝ (viewers / whale_room_viewers) ** exponent", _ROOM)
    whale_max_exponent: float = _p(WHALE_MAX_EXPONENT, "below that room the largest whale "
                                   "spend ∝ (viewers / whale_room_viewers) ** exponent, at "
                                   "least 2 × whale_min", _ROOM)
    # --- gift choice and frames ---------------------------------------------------------------
    big_gift_share_low: float = _p(0.6, "a whale spends U(low, 1) of their coins on one "
                                   "favourite large gift", _REAL_SESSION)
    one_coin_streak_share: float = _p(0.85, "share of streaks that use a 1-coin gift",
                                      _REAL_SESSION)
    max_streak: float = _p(200.0, "most steps in one streak before a new one starts",
                           _ASSUMPTION)
    streak_step_seconds: float = _p(0.3, "mean seconds between streak steps", _ASSUMPTION)
    final_delay_seconds: float = _p(3.0, "seconds from a streak's last step to its final",
                                    _ASSUMPTION)
    gift_gap_seconds: float = _p(8.0, "mean seconds between one gifter's gifts", _ASSUMPTION)
    missing_final_rate: float = _p(0.02, "share of streaks whose final never arrives",
                                   _COUNTING)
    resent_final_rate: float = _p(0.03, "share of streaks whose final is resent", _COUNTING)

    @classmethod
    def from_prior(cls) -> ModelParams:
        """The model calibrated to public data only (every default above)."""
        return cls()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value) or value < 0:
                raise UsageError(f"model parameter {f.name} must be a finite number >= 0, "
                                 f"got {value}")
        if self.gift_contagion >= 1:
            raise UsageError("gift_contagion must be below 1 (else gifting explodes)")
        if not self.watch_minutes < self.decay_minutes:
            raise UsageError("watch_minutes must be shorter than decay_minutes")
        if self.small_share + self.whale_share > 1 or self.whale_share >= 1:
            raise UsageError("small_share + whale_share must not exceed 1 (whale_share below 1)")
        for name in ("viewers_at_10k", "reference_minutes", "warmup_minutes", "decay_minutes",
                     "watch_minutes", "reference_per_week", "mood_shape", "small_median",
                     "mid_median", "whale_min", "whale_alpha", "max_streak"):
            if getattr(self, name) <= 0:
                raise UsageError(f"model parameter {name} must be positive")
        if self.whale_max <= self.whale_min:
            raise UsageError("whale_max must exceed whale_min")


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """One model parameter for reports and docs."""

    name: str
    value: float
    unit: str
    source: str


def parameter_table(params: ModelParams) -> list[ParameterInfo]:
    """Every parameter of ``params`` with its unit and source, in declaration order."""
    return [
        ParameterInfo(f.name, float(getattr(params, f.name)), str(f.metadata["unit"]),
                      str(f.metadata["source"]))
        for f in fields(params)
    ]


def engagement_value(text: str | float) -> float:
    """An engagement multiplier from a number or a named level (low, typical, high)."""
    if isinstance(text, str):
        key = text.strip().lower()
        if key in ENGAGEMENT_LEVELS:
            return ENGAGEMENT_LEVELS[key]
        try:
            value = float(key)
        except ValueError:
            raise UsageError(
                f"engagement must be a number or one of {', '.join(ENGAGEMENT_LEVELS)}, "
                f"got {text!r}"
            ) from None
    else:
        value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"engagement must be a positive number, got {text!r}")
    return value


# ------------------------------------------------------------------------------ audience


def median_viewers(params: ModelParams, followers: float, per_week: float | None = None) -> float:
    """Typical concurrent viewers of a creator with ``followers`` (the power law's median).

    ``per_week`` applies audience fatigue: going LIVE more often than the reference spreads the
    same audience over more sessions.
    """
    if followers <= 0:
        return 0.0
    base = params.viewers_at_10k * (followers / 10_000) ** params.viewers_exponent
    return float(base) * frequency_factor(params, per_week)


def frequency_factor(params: ModelParams, per_week: float | None) -> float:
    """Audience per session relative to going LIVE ``reference_per_week`` times a week."""
    if per_week is None or per_week <= 0:
        return 1.0
    return float((per_week / params.reference_per_week) ** -params.frequency_elasticity)


def _raw_shape_integral(params: ModelParams, minutes: float) -> float:
    """∫₀ᵀ (1 − e^(−t/τw)) e^(−t/τd) dt of the unnormalised concurrency curve."""
    td, tw = params.decay_minutes, params.warmup_minutes
    tboth = 1 / (1 / tw + 1 / td)
    return td * -math.expm1(-minutes / td) - tboth * -math.expm1(-minutes / tboth)


def _shape_norm(params: ModelParams) -> float:
    return params.reference_minutes / _raw_shape_integral(params, params.reference_minutes)


def viewer_shape(params: ModelParams, t_minutes: FloatArray) -> FloatArray:
    """Concurrency over the session relative to the typical viewers (mean 1 over 60 minutes)."""
    raw = -np.expm1(-t_minutes / params.warmup_minutes) * np.exp(-t_minutes
                                                                  / params.decay_minutes)
    return np.asarray(raw * _shape_norm(params), dtype=np.float64)


def arrival_rate(params: ModelParams, t_minutes: FloatArray) -> FloatArray:
    """Arrivals per minute per typical viewer that give the concurrency curve on average.

    With exponential stays of mean D, ``dc/dt = λ − c/D``, so ``λ = c′ + c/D`` (never negative
    because D < decay time).
    """
    td, tw, d = params.decay_minutes, params.warmup_minutes, params.watch_minutes
    grow = np.exp(-t_minutes / tw)
    decay = np.exp(-t_minutes / td)
    shape = (1 - grow) * decay
    slope = grow * decay / tw - shape / td
    return np.asarray(np.maximum(slope + shape / d, 0.0) * _shape_norm(params), np.float64)


def viewer_minutes_per_viewer(params: ModelParams, minutes: float) -> float:
    """Viewer-minutes of a session of ``minutes`` per typical concurrent viewer."""
    return _raw_shape_integral(params, minutes) * _shape_norm(params)


def unique_viewers_per_viewer(params: ModelParams, minutes: float) -> float:
    """Distinct arrivals in a session per typical concurrent viewer: c(T) + ∫c/D."""
    end = float(viewer_shape(params, np.array([minutes], dtype=np.float64))[0])
    return end + viewer_minutes_per_viewer(params, minutes) / params.watch_minutes


def gift_excitement(params: ModelParams) -> float:
    """Mean multiplier of the gifting rate from chat bursts and battles."""
    bursts = params.chat_bursts_per_hour / 60 * params.burst_gift_boost * params.burst_minutes
    battles = params.battles_per_hour / 60 * params.battle_minutes * params.battle_gift_boost
    return 1.0 + bursts + battles


def gifters_per_viewer(params: ModelParams, minutes: float, engagement: float) -> float:
    """Expected gifters in a session per typical concurrent viewer (before session noise)."""
    immigrants = (
        unique_viewers_per_viewer(params, minutes)
        * params.gifter_rate
        * float(engagement ** params.engagement_elasticity)
        * gift_excitement(params)
    )
    return immigrants / (1 - params.gift_contagion)


def session_noise(params: ModelParams) -> tuple[float, float]:
    """Mean and gamma shape of a session's gifter-rate multiplier (viewers noise × mood).

    The simulator draws a log-normal audience and a gamma mood; the estimator replaces their
    product by one gamma with the same mean and variance, because gamma sums stay gamma and a
    month is a sum of sessions.
    """
    s2 = params.session_viewers_sigma ** 2
    mean = math.exp(s2 / 2)
    cv2 = math.exp(s2) * (1 + 1 / params.mood_shape) - 1
    return mean, 1 / cv2


# ------------------------------------------------------------------------------ spend per gifter


def _erf(x: FloatArray) -> FloatArray:
    return np.array([math.erf(v) for v in x.tolist()], dtype=np.float64)


def _lognormal_cdf(x: FloatArray, median: float, sigma: float) -> FloatArray:
    safe = np.maximum(x, 1e-300)
    z = (np.log(safe) - math.log(median)) / (sigma * math.sqrt(2))
    return np.where(x > 0, 0.5 * (1 + _erf(z)), 0.0)


def _pareto_cdf(x: FloatArray, low: float, high: float, alpha: float) -> FloatArray:
    clipped = np.clip(x, low, high)
    top = 1 - (low / high) ** alpha
    return np.asarray((1 - (low / clipped) ** alpha) / top, dtype=np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class SpendTable:
    """The distribution of one gifter's coins in one session, tabulated on whole coins.

    ``values`` are increasing coin amounts with probabilities ``pmf``; ``survival[j] =
    P(X ≥ values[j])``; ``m1[j]`` and ``m2[j]`` are ``E[X; X < values[j]]`` and
    ``E[X²; X < values[j]]`` (``j`` up to ``len(values)``), which the estimator's compound sampler
    needs; ``neg_log_survival`` is ``−log survival`` with a final +∞. Draws invert the survival
    function through a guide table on ``−log survival``, so a draw costs a few array look-ups
    instead of a binary search.
    """

    values: IntArray
    pmf: FloatArray
    survival: FloatArray
    m1: FloatArray
    m2: FloatArray
    neg_log_survival: FloatArray
    guide: IntArray
    guide_scale: float

    @property
    def mean(self) -> float:
        return float(self.m1[-1])

    def share_of_coins_from(self, coins: int) -> float:
        """Share of expected spend from gifters spending at least ``coins``."""
        j = int(np.searchsorted(self.values, coins, side="left"))
        return 1 - float(self.m1[j]) / self.mean

    def draw(self, rng: np.random.Generator, n: int) -> IntArray:
        """``n`` independent spends."""
        return self.draw_from(rng, np.zeros(n, dtype=np.int64))

    def draw_from(self, rng: np.random.Generator, start: IntArray) -> IntArray:
        """One spend per entry, each conditioned on being at least ``values[start]``.

        With ``s`` uniform on ``(0, survival[start]]`` the draw is ``values[J]`` for the largest
        ``J`` with ``survival[J] ≥ s``. In ``z = −log s = −log survival[start] + Exp(1)`` the
        guide table gives ``J`` to within a step or two, and a short vectorised walk makes it
        exact (``neg_log_survival`` ends with +∞, so the walk stops at the last value).
        """
        z = self.neg_log_survival[start]
        z += rng.standard_exponential(start.shape[0])
        bins = (z * self.guide_scale).astype(np.int64)
        np.minimum(bins, self.guide.shape[0] - 1, out=bins)
        j = self.guide[bins]
        walk = np.flatnonzero(self.neg_log_survival[j + 1] <= z)
        while walk.size:
            j[walk] += 1
            walk = walk[self.neg_log_survival[j[walk] + 1] <= z[walk]]
        return self.values[j]


#: Entries of a spend table's guide table (fine enough that most draws need no walk).
_GUIDE_SIZE = 1 << 18


def _spend_grid(params: ModelParams) -> tuple[IntArray, FloatArray]:
    """Whole-coin grid points and the edges of the interval each one stands for."""
    dense = np.arange(1, 1000, dtype=np.float64)
    sparse = np.unique(np.round(np.geomspace(1000, params.whale_max, 1500)))
    values = np.concatenate([dense, sparse])
    edges = np.concatenate([[0.0], (values[1:] + values[:-1]) / 2, [np.inf]])
    return values.astype(np.int64), edges


def spend_table(params: ModelParams, viewers: float | None = None) -> SpendTable:
    """One gifter's coins in a session of a room of ``viewers`` typical concurrent viewers
    (:func:`room_params`); without ``viewers``, with ``whale_share`` and ``whale_max`` as they
    are (the room of ``whale_room_viewers``)."""
    return _spend_table(params if viewers is None else room_params(params, viewers))


# ------------------------------------------------------------------------------ room-scaled whales


def whale_room(params: ModelParams, viewers: FloatArray) -> FloatArray:
    """The room relative to the whales' reference room, at most 1."""
    return np.asarray(np.minimum(np.maximum(viewers, 0.0) / params.whale_room_viewers, 1.0),
                      dtype=np.float64)


def whale_share_at(params: ModelParams, viewers: FloatArray) -> FloatArray:
    """Share of gifters who are whales in rooms of ``viewers`` typical concurrent viewers."""
    return np.asarray(params.whale_share
                      * whale_room(params, viewers) ** params.whale_share_exponent,
                      dtype=np.float64)


def whale_max_at(params: ModelParams, viewers: FloatArray) -> FloatArray:
    """The largest whale spend in rooms of ``viewers``: ∝ room ** exponent, at least twice the
    smallest (or ``whale_max`` when that is less)."""
    floor = min(2 * params.whale_min, params.whale_max)
    top = params.whale_max * whale_room(params, viewers) ** params.whale_max_exponent
    return np.asarray(np.maximum(top, floor), dtype=np.float64)


def room_params(params: ModelParams, viewers: float) -> ModelParams:
    """The parameters of one room: its whale share and largest whale spend, the small and mid
    gifters in the same proportion as before, and no further room scaling."""
    v = np.array([viewers], dtype=np.float64)
    share = float(whale_share_at(params, v)[0])
    small = min(params.small_share * (1 - share) / (1 - params.whale_share), 1 - share)
    return replace(params, whale_share=share, small_share=small,
                   whale_max=float(whale_max_at(params, v)[0]), whale_share_exponent=0.0,
                   whale_max_exponent=0.0)


def body_params(params: ModelParams) -> ModelParams:
    """The parameters of the gifters who are not whales (small and mid, as in any room)."""
    return replace(params, whale_share=0.0, whale_share_exponent=0.0,
                   small_share=params.small_share / (1 - params.whale_share))


@lru_cache(maxsize=64)
def _spend_table(params: ModelParams) -> SpendTable:
    """Tabulate the small + mid + whale mixture of one gifter's coins in a session.

    Cached per parameter set: the table is immutable and costs a few milliseconds to build.
    """
    values, edges = _spend_grid(params)
    mid_share = 1 - params.small_share - params.whale_share
    cdf_edges = (
        params.small_share * _lognormal_cdf(edges, params.small_median, params.small_sigma)
        + mid_share * _lognormal_cdf(edges, params.mid_median, params.mid_sigma)
        + params.whale_share * _pareto_cdf(edges, params.whale_min, params.whale_max,
                                           params.whale_alpha)
    )
    cdf_edges[-1] = 1.0
    pmf = np.maximum(np.diff(cdf_edges), 0.0)
    pmf /= pmf.sum()
    # A mixture without whales has no mass at the top of the grid: keep -log(survival) finite.
    survival = np.maximum(np.cumsum(pmf[::-1])[::-1], np.finfo(np.float64).tiny)
    x = values.astype(np.float64)
    m1 = np.concatenate([[0.0], np.cumsum(pmf * x)])
    m2 = np.concatenate([[0.0], np.cumsum(pmf * x * x)])
    neg_log = np.concatenate([-np.log(survival), [np.inf]])
    scale = _GUIDE_SIZE / float(neg_log[-2] + 1.0)
    grid = np.arange(_GUIDE_SIZE, dtype=np.float64) / scale
    guide = np.maximum(np.searchsorted(neg_log, grid, side="right") - 1, 0).astype(np.int64)
    return SpendTable(values, pmf, survival, m1, m2, neg_log, guide, scale)

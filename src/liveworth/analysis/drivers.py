"""What drives a creator's coins: each lever's effect, its confidence interval and its n.

**Model.** A session's expected coins are multiplicative in its levers,
``E[coins] = exp(β₀ + β·lever + γ·controls)``, fitted by Poisson pseudo-maximum likelihood
(:func:`liveworth.analysis.stats.ppml_hc3`) with HC3-type errors and Student-t intervals at
:data:`LEVEL`. Unlike least squares on ``log(coins)`` this estimates the change of *expected*
coins (so it turns directly into money), keeps sessions without any gift, and is not biased when
a few whales make some sessions far noisier than others. Each driver is fitted on its own, with
the controls it names:

- ``avg_viewers`` — elasticity of coins to average concurrent viewers (at equal length): coins
  change by β % for 1 % more viewers. This is ``elasticity_viewers``.
- ``session_length`` — elasticity to minutes live (at equal audience).
- ``comments_per_viewer_minute``, ``likes_per_viewer_minute``,
  ``follows_shares_per_viewer_minute`` — elasticities at equal audience and length (counts get
  +0.5 so that a session without any still counts).
- ``battles`` — % more coins in a session with at least one battle (at equal audience, length).
- ``start_daypart:*`` (four 6-hour bands) and ``weekday:*`` — % more coins than the other
  sessions, and ``days_since_previous`` — % per extra calendar day since the previous LIVE
  (capped at :data:`DAYS_CAP`); at equal length only, since scheduling works mostly through who
  turns up.
- ``returning_gifters`` — % more coins per gifter-session from returning gifters than from new
  ones, with a percentile bootstrap over sessions.

**Too few.** Below :data:`MIN_SESSIONS` sessions with the data a driver needs, or fewer than
:data:`MIN_GROUP` on either side of a yes/no comparison, a driver gives no number and its note
says "too few sessions". These are associations across one creator's own sessions, not proof of
cause. The bootstrap's only randomness is an injected ``numpy`` Generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liveworth.analysis.sessionstats import DAYPARTS, WEEKDAYS, SessionStats, rounded
from liveworth.analysis.settings import DEFAULT_SEED as DEFAULT_SEED
from liveworth.analysis.settings import LEVEL as LEVEL
from liveworth.analysis.settings import MIN_SESSIONS as MIN_SESSIONS
from liveworth.analysis.stats import FloatArray, log_ratio_to_pct, percentile_interval, ppml_hc3
from liveworth.errors import UsageError

#: Fewest sessions on each side of a yes/no driver (a daypart, a weekday, battles).
MIN_GROUP = 5
#: Bootstrap replicates.
BOOTSTRAP = 2000
#: Calendar days since the previous LIVE are capped here (a long break is a break).
DAYS_CAP = 14
#: The words every "not enough data" message starts with.
TOO_FEW = "too few sessions"


def too_few(n: int, need: int, what: str = "with the data this driver needs") -> str:
    """The "too few sessions" note: ``too few sessions: 3 with …, at least 10 needed``."""
    return f"{TOO_FEW}: {n} {what}, at least {need} needed"


@dataclass(frozen=True, slots=True)
class Driver:
    """One lever's measured effect on a session's coins.

    ``unit`` is ``elasticity`` (% coins per 1 % more of the lever) or a percentage (``% coins``,
    ``% coins per day``, ``% coins per gifter``). ``effect`` and the interval are None when the
    data are too few; ``note`` then says why.
    """

    name: str
    label: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    unit: str
    n: int
    controls: tuple[str, ...]
    note: str

    @property
    def measured(self) -> bool:
        return self.effect is not None

    @property
    def significant(self) -> bool:
        """The interval excludes no effect."""
        return (self.ci_low is not None and self.ci_high is not None
                and (self.ci_low > 0 or self.ci_high < 0))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "effect": rounded(self.effect),
                "ci_low": rounded(self.ci_low), "ci_high": rounded(self.ci_high),
                "unit": self.unit, "n": self.n, "controls": list(self.controls),
                "significant": self.significant, "note": self.note}


Value = Callable[[SessionStats], float | None]


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    label: str
    kind: str  # "log" (an elasticity), "binary" or "linear" (percentages)
    unit: str
    value: Value
    controls: tuple[str, ...]


def _viewers(s: SessionStats) -> float | None:
    return s.avg_viewers if s.avg_viewers is not None and s.avg_viewers > 0 else None


def _minutes(s: SessionStats) -> float | None:
    return s.minutes if s.minutes > 0 else None


def _plus_half(count: Callable[[SessionStats], int]) -> Value:
    def rate(s: SessionStats) -> float | None:
        vm = s.viewer_minutes
        return None if vm is None else (count(s) + 0.5) / vm
    return rate


def _is_daypart(name: str) -> Value:
    return lambda s: float(s.daypart == name)


def _is_weekday(day: int) -> Value:
    return lambda s: float(s.weekday == day)


def _days(s: SessionStats) -> float | None:
    return None if s.days_since_previous is None else float(min(s.days_since_previous,
                                                                DAYS_CAP))


_CONTROLS: dict[str, Value] = {"avg_viewers": _viewers, "session_length": _minutes}
_BOTH = ("avg_viewers", "session_length")


def _specs(sessions: Sequence[SessionStats]) -> list[_Spec]:
    specs = [
        _Spec("avg_viewers", "average concurrent viewers", "log", "elasticity", _viewers,
              ("session_length",)),
        _Spec("session_length", "session length", "log", "elasticity", _minutes,
              ("avg_viewers",)),
        _Spec("comments_per_viewer_minute", "comments per viewer-minute", "log", "elasticity",
              _plus_half(lambda s: s.comments), _BOTH),
        _Spec("likes_per_viewer_minute", "likes per viewer-minute", "log", "elasticity",
              _plus_half(lambda s: s.likes), _BOTH),
        _Spec("follows_shares_per_viewer_minute", "follows + shares per viewer-minute", "log",
              "elasticity", _plus_half(lambda s: s.follows + s.shares), _BOTH),
        _Spec("battles", "a battle in the session", "binary", "% coins",
              lambda s: float(s.battles > 0), _BOTH),
    ]
    for name, lo, hi in DAYPARTS:
        if any(s.daypart == name for s in sessions):
            specs.append(_Spec(f"start_daypart:{name}", f"starting in the {name} "
                               f"({lo:02d}-{hi:02d} h) vs other times", "binary", "% coins",
                               _is_daypart(name), ("session_length",)))
    for i, day in enumerate(WEEKDAYS):
        if any(s.weekday == i for s in sessions):
            specs.append(_Spec(f"weekday:{day}", f"going live on {day} vs other days",
                               "binary", "% coins", _is_weekday(i), ("session_length",)))
    specs.append(_Spec("days_since_previous", "each extra day since the previous LIVE",
                       "linear", "% coins per day", _days, ("session_length",)))
    return specs


@dataclass(frozen=True, slots=True, eq=False)
class _Columns:
    """What every fit shares, per session: coins, and the log of each control (NaN where the
    session lacks it)."""

    coins: FloatArray
    logs: dict[str, FloatArray]


def _columns(sessions: Sequence[SessionStats]) -> _Columns:
    logs = {}
    for name, value in _CONTROLS.items():
        values = (value(s) for s in sessions)
        logs[name] = np.array([math.nan if v is None else math.log(v) for v in values],
                              dtype=np.float64)
    return _Columns(np.array([float(s.coins) for s in sessions], dtype=np.float64), logs)


def _fit(spec: _Spec, sessions: Sequence[SessionStats], min_sessions: int,
         columns: _Columns | None = None) -> Driver:
    cols = columns if columns is not None else _columns(sessions)
    raw = [spec.value(s) for s in sessions]
    ctrl = np.column_stack([cols.logs[name] for name in spec.controls]) if spec.controls \
        else np.zeros((len(sessions), 0))
    keep = ~np.isnan(ctrl).any(axis=1) & np.array(
        [x is not None and not (spec.kind == "log" and x <= 0) for x in raw], dtype=np.bool_)
    idx = np.flatnonzero(keep)
    xs = [float(x) for x in (raw[i] for i in idx.tolist()) if x is not None]
    if spec.kind == "log":
        xs = [math.log(x) for x in xs]
    coins = cols.coins[idx]
    n = len(xs)

    def empty(note: str) -> Driver:
        return Driver(spec.name, spec.label, None, None, None, spec.unit, n, spec.controls, note)

    if n < min_sessions:
        return empty(too_few(n, min_sessions))
    lever = np.array(xs, dtype=np.float64)
    if spec.kind == "binary":
        yes = int(lever.sum())
        if min(yes, n - yes) < MIN_GROUP:
            return empty(too_few(min(yes, n - yes), MIN_GROUP,
                                 "on the smaller side of this comparison"))
    if float(np.ptp(lever)) == 0.0:
        return empty(f"no variation: every session has the same {spec.label}")
    design = np.column_stack([np.ones(n), lever, ctrl[idx]])
    fit = ppml_hc3(design, coins)
    if fit is None:
        if n - design.shape[1] < 5:
            return empty(too_few(n, design.shape[1] + 5, "for this many coefficients"))
        return empty("cannot be estimated: no coins, or one side of the comparison has none")
    beta = float(fit.beta[1])
    lo, hi = fit.interval(1, LEVEL)
    if spec.kind != "log":
        beta, lo, hi = log_ratio_to_pct(beta), log_ratio_to_pct(lo), log_ratio_to_pct(hi)
    return Driver(spec.name, spec.label, beta, lo, hi, spec.unit, n, spec.controls, "")


def _returning(sessions: Sequence[SessionStats], rng: np.random.Generator,
               min_sessions: int) -> Driver:
    name, unit = "returning_gifters", "% coins per gifter"
    label = "a returning gifter vs a new one (coins per gifter in a session)"
    chosen = [s for s in sessions if s.gifters > 0]
    n = len(chosen)
    with_ret = sum(1 for s in chosen if s.returning_gifters > 0)
    with_new = sum(1 for s in chosen if s.new_gifters > 0)

    def empty(note: str) -> Driver:
        return Driver(name, label, None, None, None, unit, n, (), note)

    if n < min_sessions:
        return empty(too_few(n, min_sessions, "with gifts"))
    if min(with_ret, with_new) < MIN_GROUP:
        return empty(too_few(min(with_ret, with_new), MIN_GROUP,
                             "with returning gifters" if with_ret < with_new
                             else "with new gifters"))
    cols = np.array([[s.coins_returning, s.returning_gifters, s.coins_new, s.new_gifters]
                     for s in chosen], dtype=np.float64)

    def pct(tot: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (tot[..., 0] / tot[..., 1]) / (tot[..., 2] / tot[..., 3])
        return np.asarray(100.0 * (ratio - 1.0), dtype=np.float64)

    point = float(pct(cols.sum(axis=0)))
    # Replicates are drawn a block at a time (the same draws as all at once) to bound memory;
    # each one's totals are its draw counts times the columns (whole numbers: sums are exact).
    sums = np.empty((BOOTSTRAP, cols.shape[1]), dtype=np.float64)
    block = max(1, 1_000_000 // n)
    for a in range(0, BOOTSTRAP, block):
        b = min(a + block, BOOTSTRAP)
        draws = rng.integers(0, n, size=(b - a, n)) + n * np.arange(b - a)[:, None]
        counts = np.bincount(draws.ravel(), minlength=(b - a) * n).reshape(b - a, n)
        sums[a:b] = counts.astype(np.float64) @ cols
    ci = percentile_interval(pct(sums), LEVEL)
    if ci is None or not math.isfinite(point):
        return empty("cannot be estimated: new gifters gave no coins")
    return Driver(name, label, point, ci[0], ci[1], unit, n, (), "")


def drivers(sessions: Sequence[SessionStats], *, rng: np.random.Generator | None = None,
            min_sessions: int = MIN_SESSIONS) -> list[Driver]:
    """Every driver's effect on coins, with its interval and sessions (see the module)."""
    if min_sessions < 3:
        raise UsageError(f"min_sessions must be at least 3, got {min_sessions}")
    rng = rng if rng is not None else np.random.default_rng(DEFAULT_SEED)
    columns = _columns(sessions)
    out = [_fit(spec, sessions, min_sessions, columns) for spec in _specs(sessions)]
    out.append(_returning(sessions, rng, min_sessions))
    return out

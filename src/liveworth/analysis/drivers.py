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

**Plain data.** A control that does not vary across the driver's sessions (every session the
same length, say) is left out of that driver's model, and the note says so
("session length is the same in every session: left out as a control"); the driver is still
estimated. A driver without a number has one note with the one reason: too few sessions, too
few on one side, no variation in the lever itself, no coins at all, no coins on one side of a
comparison, a lever that moves in step with a control, or a fit that does not converge.
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
from liveworth.analysis.stats import (
    MIN_DF,
    FloatArray,
    log_ratio_to_pct,
    percentile_interval,
    ppml_hc3,
)
from liveworth.errors import UsageError

#: Fewest sessions on each side of a yes/no driver (a daypart, a weekday, battles).
MIN_GROUP = 5
#: Bootstrap replicates.
BOOTSTRAP = 2000
#: Calendar days since the previous LIVE are capped here (a long break is a break).
DAYS_CAP = 14
#: The words every "not enough data" message starts with.
TOO_FEW = "too few sessions"
#: The words of a driver whose lever does not vary across its sessions.
NO_VARIATION = "no variation"
#: The words of every other driver that has data but no number.
CANNOT = "cannot be estimated"
#: A log-scale column whose values span less than this (0.1 %) does not vary.
LOG_FLAT = 1e-3
#: Each control's name in a note, with its verb.
_CONTROL_NAMES = {"avg_viewers": "average viewers", "session_length": "session length"}
_CONTROL_WORDS = {"avg_viewers": "average viewers are", "session_length": "session length is"}


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
    """One driver: ``kind`` is "log" (an elasticity), "binary" or "linear" (percentages);
    ``words`` names the lever in notes — with its verb ("session length is") for a measure, as
    what a session did ("had a battle") for a yes/no lever."""

    name: str
    label: str
    kind: str
    unit: str
    value: Value
    controls: tuple[str, ...]
    words: str
    #: For a rate per viewer-minute: the count it is made of, and what is counted.
    count: Callable[[SessionStats], int] | None = None
    counted: str = ""


def _viewers(s: SessionStats) -> float | None:
    return s.avg_viewers if s.avg_viewers is not None and s.avg_viewers > 0 else None


def _minutes(s: SessionStats) -> float | None:
    return s.minutes if s.minutes > 0 else None


def _plus_half(count: Callable[[SessionStats], int]) -> Value:
    def rate(s: SessionStats) -> float | None:
        vm = s.viewer_minutes
        return None if vm is None else (count(s) + 0.5) / vm
    return rate


def _comments(s: SessionStats) -> int:
    return s.comments


def _likes(s: SessionStats) -> int:
    return s.likes


def _follows_shares(s: SessionStats) -> int:
    return s.follows + s.shares


def _is_daypart(name: str) -> Value:
    return lambda s: float(s.daypart == name)


def _is_weekday(day: int) -> Value:
    return lambda s: float(s.weekday == day)


def _days(s: SessionStats) -> float | None:
    return None if s.days_since_previous is None else float(min(s.days_since_previous,
                                                                DAYS_CAP))


_CONTROLS: dict[str, Value] = {"avg_viewers": _viewers, "session_length": _minutes}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_BOTH = ("avg_viewers", "session_length")


def _specs(sessions: Sequence[SessionStats]) -> list[_Spec]:
    specs = [
        _Spec("avg_viewers", "average concurrent viewers", "log", "elasticity", _viewers,
              ("session_length",), _CONTROL_WORDS["avg_viewers"]),
        _Spec("session_length", "session length", "log", "elasticity", _minutes,
              ("avg_viewers",), _CONTROL_WORDS["session_length"]),
        _Spec("comments_per_viewer_minute", "comments per viewer-minute", "log", "elasticity",
              _plus_half(_comments), _BOTH, "comments per viewer-minute are", _comments,
              "comments"),
        _Spec("likes_per_viewer_minute", "likes per viewer-minute", "log", "elasticity",
              _plus_half(_likes), _BOTH, "likes per viewer-minute are", _likes, "likes"),
        _Spec("follows_shares_per_viewer_minute", "follows + shares per viewer-minute", "log",
              "elasticity", _plus_half(_follows_shares), _BOTH,
              "follows + shares per viewer-minute are", _follows_shares, "follows or shares"),
        _Spec("battles", "a battle in the session", "binary", "% coins",
              lambda s: float(s.battles > 0), _BOTH, "had a battle"),
    ]
    for name, lo, hi in DAYPARTS:
        if any(s.daypart == name for s in sessions):
            specs.append(_Spec(f"start_daypart:{name}", f"starting in the {name} "
                               f"({lo:02d}-{hi:02d} h) vs other times", "binary", "% coins",
                               _is_daypart(name), ("session_length",),
                               f"started in the {name}"))
    for i, day in enumerate(WEEKDAYS):
        if any(s.weekday == i for s in sessions):
            specs.append(_Spec(f"weekday:{day}", f"going live on {day} vs other days",
                               "binary", "% coins", _is_weekday(i), ("session_length",),
                               f"was on a {_DAY_NAMES[i]}"))
    specs.append(_Spec("days_since_previous", "each extra day since the previous LIVE",
                       "linear", "% coins per day", _days, ("session_length",),
                       "the days since the previous LIVE are"))
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


def _varies(column: FloatArray, log: bool) -> bool:
    """Whether a column takes more than one value (a log column: spread over :data:`LOG_FLAT`)."""
    if column.size == 0:
        return False
    spread = float(np.ptp(column))
    return spread > LOG_FLAT if log else spread > 0.0


@dataclass(frozen=True, slots=True, eq=False)
class _Data:
    """One driver's sessions: its lever (the log, for an elasticity), coins, the controls that
    vary there (name → log column) and a note per control left out for not varying."""

    lever: FloatArray
    coins: FloatArray
    controls: dict[str, FloatArray]
    notes: tuple[str, ...]
    counts: FloatArray | None


def _data(spec: _Spec, sessions: Sequence[SessionStats], cols: _Columns) -> _Data:
    raw = [spec.value(s) for s in sessions]
    usable = np.array([x is not None and not (spec.kind == "log" and x <= 0) for x in raw],
                      dtype=np.bool_)
    for name in spec.controls:
        usable &= ~np.isnan(cols.logs[name])
    idx = np.flatnonzero(usable)
    xs = [float(x) for x in (raw[i] for i in idx.tolist()) if x is not None]
    lever = np.array([math.log(x) for x in xs] if spec.kind == "log" else xs, dtype=np.float64)
    kept: dict[str, FloatArray] = {}
    notes = []
    for name in spec.controls:
        column = cols.logs[name][idx]
        if _varies(column, log=True):
            kept[name] = column
        else:
            notes.append(f"{_CONTROL_WORDS[name]} the same in every session: left out as a "
                         "control")
    counts = None if spec.count is None else np.array(
        [float(spec.count(sessions[i])) for i in idx.tolist()], dtype=np.float64)
    return _Data(lever, cols.coins[idx], kept, tuple(notes), counts)


def _unfit(spec: _Spec, data: _Data, min_sessions: int) -> str | None:
    """Why the driver cannot be fitted on ``data`` (one reason, the first that holds), or None."""
    lever, coins, n = data.lever, data.coins, len(data.lever)
    if n < min_sessions:
        return too_few(n, min_sessions)
    if not np.any(coins > 0):
        return f"{CANNOT}: none of these {n} sessions earned coins"
    if spec.kind == "binary":
        yes = lever > 0.5
        k = int(yes.sum())
        if k in (0, n):
            return f"{NO_VARIATION}: {'every' if k else 'no'} session {spec.words}"
        if min(k, n - k) < MIN_GROUP:
            return too_few(min(k, n - k), MIN_GROUP, "on the smaller side of this comparison")
        if not np.any(coins[yes] > 0):
            return f"{CANNOT}: the {k} sessions that {spec.words} earned no coins"
        if not np.any(coins[~yes] > 0):
            return f"{CANNOT}: the {n - k} other sessions earned no coins"
    elif data.counts is not None and not _varies(data.counts, log=False):
        k = int(data.counts[0])
        return f"{NO_VARIATION}: " + (f"every session had the same number of {spec.counted} "
                                      f"({k:,})" if k else f"no session had any {spec.counted}")
    elif not _varies(lever, log=spec.kind == "log"):
        return f"{NO_VARIATION}: {spec.words} the same in every session"
    p = 2 + len(data.controls)
    if n - p < MIN_DF:
        return too_few(n, p + MIN_DF, "for this many coefficients")
    return _in_step(spec, data)


def _in_step(spec: _Spec, data: _Data) -> str | None:
    """The note of a lever that moves in step with one of its controls (None if none does)."""
    design = _design(data, tuple(data.controls))
    if np.linalg.matrix_rank(design) == design.shape[1]:
        return None
    for name in data.controls:
        rest = _design(data, tuple(c for c in data.controls if c != name))
        if np.linalg.matrix_rank(rest) == rest.shape[1]:
            return (f"{CANNOT}: {spec.label} moves in step with {_CONTROL_NAMES[name]} in "
                    "these sessions, so their effects cannot be told apart")
    return f"{CANNOT}: {spec.label} moves in step with its controls in these sessions"


def _design(data: _Data, controls: tuple[str, ...]) -> FloatArray:
    n = len(data.lever)
    return np.column_stack([np.ones(n), data.lever, *(data.controls[c] for c in controls)])


def _fit(spec: _Spec, sessions: Sequence[SessionStats], min_sessions: int,
         columns: _Columns | None = None) -> Driver:
    data = _data(spec, sessions, columns if columns is not None else _columns(sessions))
    n, used = len(data.lever), tuple(data.controls)

    def empty(note: str) -> Driver:
        return Driver(spec.name, spec.label, None, None, None, spec.unit, n, used, note)

    reason = _unfit(spec, data, min_sessions)
    if reason is not None:
        return empty(reason)
    fit = ppml_hc3(_design(data, used), data.coins)
    if fit is None:
        return empty(f"{CANNOT}: the model did not converge on these {n} sessions")
    beta = float(fit.beta[1])
    lo, hi = fit.interval(1, LEVEL)
    if spec.kind != "log":
        beta, lo, hi = log_ratio_to_pct(beta), log_ratio_to_pct(lo), log_ratio_to_pct(hi)
    if not all(math.isfinite(v) for v in (beta, lo, hi)):
        return empty(f"{CANNOT}: its interval has no finite end on these {n} sessions")
    return Driver(spec.name, spec.label, beta, lo, hi, spec.unit, n, used, "; ".join(data.notes))


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

    if len(sessions) >= min_sessions and not chosen:
        return empty(f"{CANNOT}: none of these {len(sessions)} sessions earned coins")
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

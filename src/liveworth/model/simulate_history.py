"""A creator's history of simulated LIVEs: one audience that returns, real spacing between days.

:func:`liveworth.model.simulate.simulate` draws one session of a creator drawn at random. A
history is one creator seen many times, so what varies is what varies between one creator's
LIVEs:

- **the audience size is the creator's**: drawn once (the between-creator spread of the model),
  then each session varies around it (the session spread);
- **regulars return**: of a session's gifters, a share (``returning``) are viewers who gifted in
  an earlier session, the bigger past gifters the likelier to come back (weights grow with the
  square root of their coins so far); of the other viewers the same share are earlier viewers.
  Returning viewers keep their id, user name and nickname, so ``gifters``, ``analyze``'s
  returning-gifter driver and ``roster`` see the same people again;
- **days are spaced like a schedule**: ``per_week`` sessions a week on average, at most one a
  day up to seven a week (gaps of whole days, a little irregular), starting around the same
  evening hour (UTC) ± 90 minutes; above seven a week several a day, never overlapping;
- **lengths vary** around ``minutes`` (log-normal, sigma 0.25), and followers grow by each
  session's follows.

Sessions are yielded one at a time (memory stays that of one session).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from liveworth.errors import UsageError
from liveworth.model.generative import IntArray, ModelParams, median_viewers
from liveworth.model.inputs import MAX_ENGAGEMENT, MAX_MINUTES, out_of_range
from liveworth.model.simulate import simulate
from liveworth.model.simulated import GIFT, SimulatedSession

#: The most sessions one history holds.
MAX_HISTORY_SESSIONS = 1000
#: Usual evening start, hours UTC, and its spread in minutes.
START_HOUR = 19
START_SPREAD_MIN = 90
#: Spread of a session's length around the given minutes (log-normal sigma).
MINUTES_SIGMA = 0.25
#: Shortest break between two sessions of one day, minutes.
MIN_BREAK_MIN = 30


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """What a simulated history is made of."""

    host: str
    followers: int
    sessions: int
    per_week: float
    start: dt.date
    minutes: float = 60.0
    engagement: float = 1.0
    viewers: float | None = None  # the creator's typical viewers (default: from followers)
    returning: float = 0.35  # share of a session's gifters (and viewers) who came before
    room_prefix: str = "sim"

    def check(self) -> None:
        if not 1 <= self.sessions <= MAX_HISTORY_SESSIONS:
            raise out_of_range("sessions", self.sessions, 1, MAX_HISTORY_SESSIONS)
        if not (math.isfinite(self.per_week) and 0 < self.per_week <= 50):
            raise out_of_range("sessions per week", self.per_week, 0, 50, above_low=True)
        if not (math.isfinite(self.returning) and 0 <= self.returning <= 1):
            raise out_of_range("returning share", self.returning, 0, 1)
        if not (math.isfinite(self.minutes) and 0 < self.minutes <= MAX_MINUTES):
            raise out_of_range("minutes", self.minutes, 0, MAX_MINUTES, above_low=True)
        if not (math.isfinite(self.engagement) and 0 < self.engagement <= MAX_ENGAGEMENT):
            raise out_of_range("engagement", self.engagement, 0, MAX_ENGAGEMENT,
                               above_low=True)
        if not dt.date(1970, 1, 1) <= self.start <= dt.date(9000, 1, 1):
            raise UsageError(f"start date must lie between 1970-01-01 and 9000-01-01, got "
                             f"{self.start.isoformat()}")


def _day_gaps(per_week: float, n: int, rng: np.random.Generator) -> list[float]:
    """Days between session starts: whole days around 7/per_week (at least one) up to seven a
    week, fractions of a day beyond."""
    mean = 7.0 / per_week
    if mean >= 1.0:
        return [float(max(1, round(g))) for g in rng.gamma(4.0, mean / 4.0, n)]
    return list(rng.exponential(mean, n))


def _starts(plan: HistoryPlan, lengths: list[float], rng: np.random.Generator) -> list[int]:
    """Start times (ms) of the sessions, the first on ``plan.start``."""
    day0 = calendar.timegm(plan.start.timetuple()) * 1000
    offsets = np.concatenate(([0.0], np.cumsum(_day_gaps(plan.per_week, plan.sessions - 1,
                                                            rng))))
    out: list[int] = []
    for i, days in enumerate(offsets.tolist()):
        jitter = float(rng.normal(0, START_SPREAD_MIN)) * 60_000
        at = int(day0 + days * 86_400_000 + START_HOUR * 3_600_000 + jitter)
        if out:  # never before the last one ended and had its break
            at = max(at, out[-1] + int((lengths[i - 1] + MIN_BREAK_MIN) * 60_000))
        out.append(at)
    return out


class _Regulars:
    """The creator's viewers so far: how many were ever seen, and each past gifter's coins."""

    def __init__(self) -> None:
        self.seen = 0
        self.gifters: dict[int, int] = {}  # viewer number → coins credited so far

    def numbers(self, s: SimulatedSession, share: float, rng: np.random.Generator) -> IntArray:
        """Viewer numbers for the session's viewer indices: returning or new."""
        n = _viewers_in(s)
        numbers = self.seen + np.arange(n, dtype=np.int64)  # every one new, to start with
        taken: set[int] = set()
        coins = s.credited.units * s.menu.coins[s.credited.gift]
        per = np.bincount(s.credited.user, weights=coins, minlength=n).astype(np.int64)
        order = np.flatnonzero(per > 0)
        order = order[np.argsort(-per[order], kind="stable")]
        pool = np.array(sorted(self.gifters), dtype=np.int64)
        if pool.size:  # who returns, then whom each is: one weighted draw without replacement
            back_gifters = order[rng.random(order.size) < share][:pool.size]
            weights = np.sqrt(np.array([self.gifters[g] for g in pool.tolist()],
                                       dtype=float)) + 1
            picks = pool[rng.choice(pool.size, size=back_gifters.size, replace=False,
                                    p=weights / weights.sum())]
            numbers[back_gifters] = picks  # in draw order: the likeliest to the biggest
            taken.update(picks.tolist())
        others = np.setdiff1d(np.arange(n), order)
        back = others[rng.random(others.size) < share] if self.seen else others[:0]
        if back.size:  # the viewers seen before and not taken, drawn without listing them
            gone = np.unique(np.fromiter(taken, np.int64, len(taken)))
            k = min(back.size, self.seen - gone.size)
            drawn = rng.choice(self.seen - gone.size, size=k, replace=False)
            numbers[back[:k]] = _nth_free(drawn, gone)
        for idx, c in zip(order.tolist(), per[order].tolist(), strict=True):
            no = int(numbers[idx])
            self.gifters[no] = self.gifters.get(no, 0) + int(c)
        self.seen += n
        return numbers


def _nth_free(i: IntArray, gone: IntArray) -> IntArray:
    """The ``i``-th numbers of ``0, 1, 2 …`` with the sorted ``gone`` left out — what indexing
    ``np.setdiff1d(np.arange(seen), gone)`` gives, without building it (``seen`` grows with every
    session: building it made long histories quadratic)."""
    return i + np.searchsorted(gone - np.arange(gone.size), i, side="right")


def _viewers_in(s: SimulatedSession) -> int:
    """How many session viewer indices the session uses (one more than the largest)."""
    top = [int(t["user"].max()) for t in s.tables.values()
           if "user" in t.cols and t["user"].size]
    top.append(int(s.credited.user.max()) if s.credited.user.size else -1)
    return max(top, default=-1) + 1


@dataclass(frozen=True, slots=True)
class HistorySession:
    """One session of a history and how many of its gifters came back from earlier ones."""

    session: SimulatedSession
    start_ts: int
    returning_gifters: int


def simulate_history(params: ModelParams, plan: HistoryPlan,
                     rng: np.random.Generator) -> Iterator[HistorySession]:
    """The sessions of one creator's history, in time order (see the module docstring)."""
    plan.check()
    typical = (plan.viewers if plan.viewers is not None else
               median_viewers(params, plan.followers)
               * float(rng.lognormal(0.0, params.creator_viewers_sigma)))
    lengths = [min(MAX_MINUTES, max(1.0, plan.minutes * float(rng.lognormal(0, MINUTES_SIGMA))))
               for _ in range(plan.sessions)]
    starts = _starts(plan, lengths, rng)
    user_base = int(rng.integers(10**17, 9 * 10**17))
    regulars = _Regulars()
    followers = plan.followers
    for i, (start, minutes) in enumerate(zip(starts, lengths, strict=True)):
        before = set(regulars.gifters)
        s = simulate(params, followers=followers, viewers=typical, minutes=minutes,
                     engagement=plan.engagement, rng=rng, room_id=f"{plan.room_prefix}-{i + 1}",
                     start_ts=start, host=plan.host, user_base=user_base)
        numbers = regulars.numbers(s, plan.returning, rng)
        gifters = {int(numbers[u]) for u in np.unique(s.tables[GIFT]["user"]).tolist()}
        yield HistorySession(replace(s, viewer_no=numbers), start,
                             len(gifters & before))
        followers += s.truth.follows

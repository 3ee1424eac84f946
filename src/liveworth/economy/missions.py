"""The US Scaled LIVE rewards missions: a LIVE's reward rate from that LIVE, as TikTok computes it.

Pure functions over a preset's :class:`~liveworth.economy.ratecard.MissionSchedule` (rate-card
data, ``[presets.us-scaled.missions]`` with its sources and grades; docs/RATES.md)::

    per-LIVE rate = duration step reached + new-followers bonus (if met)
    reward_rate   = max(0, per-LIVE rate − violation cut)           the LIVE's own rate
    weekly bonus  = the weekly step reached by the week's LIVEs over weekly_minutes
    full rate     = max(0, per-LIVE rate + weekly bonus − violation cut)
    weekly credit = full rate − reward_rate                         credited on Monday

So the rate never leaves 0..(top duration step + followers bonus + top weekly step) — 0..0.48
for the bundled schedule, inside TikTok's 0..0.53 (team and league bonuses are not modelled).
A LIVE's creator USD is ``coins × diamonds_per_coin × usd_per_diamond × rate``: :func:`at_rate`
gives the card to compute it with, so every money figure stays exact (:mod:`.money`).

The violation cut is what liveworth cannot see: the user sets it per LIVE (0 unless set).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from liveworth.economy.ratecard import MissionSchedule, MissionStep, RateCard
from liveworth.errors import UsageError

MINUTE_MS = 60_000


def pct(rate: Decimal) -> str:
    """A share as percent for people: ``0.38`` → ``"38 %"``, ``0.025`` → ``"2.5 %"``."""
    text = format((rate * 100).normalize(), "f")
    return f"{text} %"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


@dataclass(frozen=True, slots=True)
class Mission:
    """One mission of a LIVE: met or not, what it adds to the rate, what is still missing."""

    name: str
    #: ``per-LIVE`` (in the LIVE's own rate), ``weekly`` (credited Monday) or ``violation``.
    kind: str
    met: bool
    #: What the mission adds to the rate as things are (negative for the violation cut).
    contribution: Decimal
    #: Where the LIVE stands: "30 min LIVE", "3 of 5 new followers".
    progress: str
    #: What is missing for the mission's top step ("9 more minutes for 38 %"); None once met.
    missing: str | None

    def as_dict(self) -> dict[str, object]:
        from liveworth.economy.money import fmt

        return {"mission": self.name, "kind": self.kind, "met": self.met,
                "contribution": fmt(self.contribution), "progress": self.progress,
                "missing": self.missing}


@dataclass(frozen=True, slots=True)
class Missions:
    """A LIVE's missions and the rates they give."""

    #: The LIVE's own rate: duration + followers − violation cut, at least 0.
    reward_rate: Decimal
    #: What the week's missions add to this LIVE's rate, credited on Monday (after any cut).
    weekly_rate: Decimal
    violation_cut: Decimal
    missions: tuple[Mission, ...]

    @property
    def full_rate(self) -> Decimal:
        return self.reward_rate + self.weekly_rate

    def as_dict(self) -> dict[str, object]:
        from liveworth.economy.money import fmt

        return {"reward_rate": fmt(self.reward_rate), "weekly_rate": fmt(self.weekly_rate),
                "full_rate": fmt(self.full_rate), "violation_cut": fmt(self.violation_cut),
                "missions": [m.as_dict() for m in self.missions]}


def check_cut(cut: Decimal | int | str) -> Decimal:
    """A violation cut as a share 0..1 (``0.10`` = 10 points), or a UsageError naming it."""
    try:
        value = Decimal(str(cut).strip())
    except ArithmeticError:
        raise UsageError(f"--violation-cut must be a share from 0 to 1 (0.10 = 10 points), "
                         f"got {cut!r}") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise UsageError(f"--violation-cut must be a share from 0 to 1 (0.10 = 10 points), "
                         f"got {cut!r}")
    return value


def _reached(steps: tuple[MissionStep, ...], value: int) -> MissionStep | None:
    reached = [s for s in steps if s.at <= value]
    return reached[-1] if reached else None


def _minutes_to(duration_ms: int, step: MissionStep) -> int:
    """Whole minutes still missing to reach ``step`` (rounded up)."""
    return -(-(step.at * MINUTE_MS - duration_ms) // MINUTE_MS)


def _duration(schedule: MissionSchedule, duration_ms: int) -> Mission:
    step = _reached(schedule.duration, duration_ms // MINUTE_MS)
    assert step is not None  # the schedule starts at 0 minutes
    top = schedule.duration[-1]
    ahead = [s for s in schedule.duration if s.at > step.at]
    missing = None
    if ahead:
        nxt = ahead[0]
        missing = f"{_plural(_minutes_to(duration_ms, top), 'more minute', 'more minutes')} " \
                  f"for {pct(top.rate)}"
        if nxt is not top:
            missing = f"{_plural(_minutes_to(duration_ms, nxt), 'more minute', 'more minutes')}" \
                      f" for {pct(nxt.rate)}, {_minutes_to(duration_ms, top):,} more for " \
                      f"{pct(top.rate)}"
    return Mission("duration", "per-LIVE", not ahead, step.rate,
                   f"LIVE for {duration_ms // MINUTE_MS:,} min: {pct(step.rate)}", missing)


def _followers(schedule: MissionSchedule, followers: int) -> Mission:
    need = schedule.new_followers
    met = followers >= need.at
    more = _plural(need.at - followers, "more new follower", "more new followers")
    missing = None if met else f"{more} for +{pct(need.rate)}"
    return Mission("new_followers", "per-LIVE", met, need.rate if met else Decimal(0),
                   f"{followers:,} of {need.at:,} new followers", missing)


def _weekly(schedule: MissionSchedule, weekly_lives: int) -> Mission:
    step = _reached(schedule.weekly, weekly_lives)
    top = schedule.weekly[-1]
    over = f"{schedule.weekly_minutes} min"
    missing = None
    if step is not top:
        more = top.at - weekly_lives
        missing = f"{_plural(more, 'more LIVE', 'more LIVEs')} over {over} this week for " \
                  f"+{pct(top.rate)}"
    return Mission("weekly", "weekly", step is top, step.rate if step else Decimal(0),
                   f"{_plural(weekly_lives, 'LIVE', 'LIVEs')} over {over} this week", missing)


def live_missions(schedule: MissionSchedule, duration_ms: int, new_followers: int,
                  weekly_lives: int = 0, violation_cut: Decimal = Decimal(0)) -> Missions:
    """The missions of one LIVE of ``duration_ms`` with ``new_followers`` new followers, in a
    week with ``weekly_lives`` LIVEs over the schedule's weekly minutes (this one included),
    less ``violation_cut`` (a share: 0.10 = 10 points)."""
    duration_ms, new_followers, weekly_lives = (max(0, int(duration_ms)),
                                                max(0, int(new_followers)),
                                                max(0, int(weekly_lives)))
    cut = check_cut(violation_cut)
    per_live = [_duration(schedule, duration_ms), _followers(schedule, new_followers)]
    weekly = _weekly(schedule, weekly_lives)
    own = sum((m.contribution for m in per_live), Decimal(0))
    rate = max(Decimal(0), own - cut)
    full = max(Decimal(0), own + weekly.contribution - cut)
    violation = Mission("no_violations", "violation", cut == 0, rate - own if cut else Decimal(0),
                        "no violation cut set" if cut == 0 else f"violation cut {pct(cut)}",
                        None if cut == 0 else f"a violation cut of {pct(cut)} (as set)")
    return Missions(rate, full - rate, cut, (*per_live, weekly, violation))


def progress_line(schedule: MissionSchedule, duration_ms: int, new_followers: int) -> str:
    """A LIVE's per-LIVE missions in one line, as the live page shows them while it runs:
    ``LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new followers``."""
    duration_ms, new_followers = max(0, int(duration_ms)), max(0, int(new_followers))
    top, need = schedule.duration[-1], schedule.new_followers
    first = f"LIVE for {duration_ms // MINUTE_MS:,} min: "
    if duration_ms >= top.at * MINUTE_MS:
        first += f"the {pct(top.rate)} rate reached"
    else:
        first += f"{_minutes_to(duration_ms, top):,} more for the {pct(top.rate)} rate"
    second = f"{new_followers:,} of {need.at:,} new followers"
    if new_followers >= need.at:
        second += f": +{pct(need.rate)}"
    return f"{first}; {second}"


def is_weekly_live(schedule: MissionSchedule, duration_ms: int) -> bool:
    """Whether a LIVE counts for the weekly missions (strictly over the weekly minutes)."""
    return duration_ms > schedule.weekly_minutes * MINUTE_MS


def at_rate(card: RateCard, rate: Decimal) -> RateCard:
    """``card`` with one LIVE's ``rate`` as its reward rate (its name and sources unchanged)."""
    return replace(card, reward_rate=rate)

"""A creator's home: how the month is going, where it is heading, the last LIVE, the trend, the
top gifters and the day's alerts — one answer, put together from the answers the commands give.

- **month to date and forecast**: :func:`liveworth.model.forecast.forecast` (``liveworth
  forecast``), the month of ``as_of`` counted in UTC days as that command counts it; the month to
  date is exact, the projection a seeded Monte Carlo (p10 / p50 / p90) with the agency tiers' odds;
- **last session**: the latest session that started by the end of ``as_of`` (``liveworth
  analyze``' figures: the ledger's coins, creator USD on the rate card);
- **trend**: every session of the ``TREND_DAYS`` days up to ``as_of``, creator USD per session and
  per hour LIVE, with the window's totals (the parts add up to the total);
- **top gifters**: the ``GIFTER_DAYS``-day window of ``liveworth gifters --window 30d``, gifts
  credited by the end of ``as_of``;
- **alerts**: the alerts stored for the creator's rooms on day ``as_of`` in ``tz``;
- **goal**: a month goal in creator USD when one is given, else the next agency tier in diamonds.

A pace uses only what happened by its date: every part stops at the end of day ``as_of`` (in
``tz``; the forecast's month at the end of that UTC day). The library never reads the clock: the
caller gives ``as_of`` (the web: today).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from liveworth.analysis.boards import as_of_time
from liveworth.analysis.gifters import GifterStats, leaderboard
from liveworth.analysis.sessionstats import (
    SessionStats,
    normalise_host,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.analysis.tiers import TierSettings
from liveworth.economy.money import fmt
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.model.calibrate import load_history
from liveworth.model.forecast import Forecast, forecast
from liveworth.model.history import History, utc_day
from liveworth.store.database import Store

#: The trend's window and the top gifters' (days up to and including ``as_of``).
TREND_DAYS = 90
GIFTER_DAYS = 30
#: Gifters listed; simulated months of the forecast (fewer than ``forecast``'s default: the page
#: is opened every day; the p10 / p50 / p90 of 4,000 months move by well under a cent per dollar).
TOP_GIFTERS = 10
HOME_SIMULATIONS = 4000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class GoalPart:
    """One requirement of the goal: how much is done of how much."""

    what: str  # "creator_usd", "diamonds", "active_days" or "hours"
    done: Decimal
    target: Decimal
    projected_p50: Decimal

    @property
    def share(self) -> float:
        """How far along (0 to 1)."""
        return 1.0 if self.target <= 0 else float(min(self.done / self.target, Decimal(1)))

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "done": fmt(self.done), "target": fmt(self.target),
                "share": round(self.share, 4), "projected_p50": fmt(self.projected_p50)}


@dataclass(frozen=True, slots=True)
class Goal:
    """The goal bar: a month goal in creator USD (``kind`` "usd"), or the next agency tier
    (``kind`` "tier": its diamonds, active days and LIVE hours, all needed)."""

    kind: str
    label: str
    parts: tuple[GoalPart, ...]
    reached: bool
    odds: float | None = None  # a tier's odds of being reached by the month's end

    @property
    def share(self) -> float:
        """How far along: the least advanced requirement (0 to 1)."""
        return min(p.share for p in self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "share": round(self.share, 4),
                "reached": self.reached, "odds": self.odds,
                "parts": [p.as_dict() for p in self.parts]}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    room_id: str
    start_ts: int
    local_date: dt.date
    minutes: float
    coins: int
    creator_usd: Decimal

    @property
    def usd_per_hour(self) -> Decimal | None:
        """Creator USD per hour LIVE (None for a session under a minute)."""
        if self.minutes < 1:
            return None
        return (self.creator_usd * 60 / Decimal(repr(self.minutes))).quantize(Decimal("0.0001"))

    def as_dict(self) -> dict[str, Any]:
        per_hour = self.usd_per_hour
        return {"room_id": self.room_id, "start_ts": self.start_ts,
                "date": self.local_date.isoformat(), "minutes": round(self.minutes, 2),
                "coins": self.coins, "creator_usd": fmt(self.creator_usd),
                "usd_per_hour": None if per_hour is None else fmt(per_hour)}


@dataclass(frozen=True, slots=True)
class Trend:
    days: int
    from_date: dt.date
    to_date: dt.date
    points: tuple[TrendPoint, ...]

    @property
    def creator_usd(self) -> Decimal:
        return sum((p.creator_usd for p in self.points), Decimal(0))

    @property
    def hours(self) -> float:
        return sum(p.minutes for p in self.points) / 60

    @property
    def usd_per_hour(self) -> Decimal | None:
        if self.hours * 60 < 1:
            return None
        return (self.creator_usd / Decimal(repr(self.hours))).quantize(Decimal("0.0001"))

    def as_dict(self) -> dict[str, Any]:
        per_hour = self.usd_per_hour
        return {"days": self.days, "from": self.from_date.isoformat(),
                "to": self.to_date.isoformat(), "sessions": len(self.points),
                "creator_usd": fmt(self.creator_usd), "hours": round(self.hours, 2),
                "usd_per_hour": None if per_hour is None else fmt(per_hour),
                "points": [p.as_dict() for p in self.points]}


@dataclass(frozen=True, slots=True)
class HomeAlert:
    ts: int
    room_id: str
    rule: str
    kind: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "room_id": self.room_id, "rule": self.rule, "kind": self.kind,
                "text": self.text}


@dataclass(frozen=True, slots=True)
class CreatorHome:
    host: str
    as_of: dt.date
    tz: str
    rate_card: str
    sessions: int  # every session of the creator that started by the end of as_of
    last: SessionStats | None
    forecast: Forecast | None
    forecast_note: str | None  # why there is no forecast, when there is none
    trend: Trend
    gifters: tuple[GifterStats, ...]
    gifters_from: dt.date
    alerts: tuple[HomeAlert, ...]
    goal: Goal | None
    seed: int

    def as_dict(self) -> dict[str, Any]:
        f = self.forecast
        return {
            "host": self.host, "as_of": self.as_of.isoformat(), "tz": self.tz,
            "rate_card": self.rate_card, "sessions": self.sessions,
            "month_to_date": None if f is None else {"month": f.month,
                                                     **f.month_to_date.as_dict()},
            "forecast": None if f is None else _forecast_dict(f, self.seed),
            "forecast_note": self.forecast_note,
            "last_session": None if self.last is None else _last_dict(self.last),
            "trend": self.trend.as_dict(),
            "top_gifters": {"days": GIFTER_DAYS, "from": self.gifters_from.isoformat(),
                            "to": self.as_of.isoformat(),
                            "gifters": [g.as_dict() for g in self.gifters]},
            "alerts": [a.as_dict() for a in self.alerts],
            "goal": None if self.goal is None else self.goal.as_dict(),
        }


def _forecast_dict(f: Forecast, seed: int) -> dict[str, Any]:
    full = f.as_dict()
    return {"month": f.month, "days": full["days"], "projection": full["projection"],
            "tiers": full["tiers"], "tier_reached": full["tier_reached"],
            "tier_source": f.tier_source, "calibration": full["calibration"],
            "simulations": f.simulations, "seed": seed,
            **({"rest_reward_rate": full["rest_reward_rate"]}
               if "rest_reward_rate" in full else {})}


def _last_dict(s: SessionStats) -> dict[str, Any]:
    return {"room_id": s.room_id, "start_ts": s.start_ts, "end_ts": s.end_ts,
            "local_start": s.local_start, "minutes": round(s.minutes, 2), "coins": s.coins,
            "diamonds": fmt(s.diamonds), "creator_usd": fmt(s.creator_usd),
            "peak_viewers": s.peak_viewers, "gifters": s.gifters,
            "new_gifters": s.new_gifters, "comments": s.comments, "follows": s.follows}


# ---------------------------------------------------------------------------- the parts


def _trend(chosen: Sequence[SessionStats], as_of: dt.date) -> Trend:
    first = as_of - dt.timedelta(days=TREND_DAYS - 1)
    points = tuple(TrendPoint(s.room_id, s.start_ts, s.local_date, s.minutes, s.coins,
                              s.creator_usd)
                   for s in chosen if first <= s.local_date <= as_of)
    return Trend(TREND_DAYS, first, as_of, points)


def _alerts(store: Store, rooms: Sequence[str], as_of: dt.date, tz: str) -> tuple[HomeAlert, ...]:
    place = zone(tz)
    lo = int(dt.datetime.combine(as_of, dt.time(), place).timestamp() * 1000)
    hi = int(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), place).timestamp()
             * 1000)
    rows = store.query("""
        SELECT ts, room_id, rule, kind, text FROM alerts
        WHERE ts >= $1 AND ts < $2 AND room_id IN (SELECT unnest($3::VARCHAR[]))
        ORDER BY ts, room_id, rule, "key" """, [lo, hi, list(rooms)])
    return tuple(HomeAlert(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows)


def _history(chosen: Sequence[SessionStats], history: History) -> History:
    """The creator's history as the forecast reads it (one host: the one asked for)."""
    rooms = {s.room_id for s in chosen}
    return History(history.host, tuple(h for h in history.sessions if h.room_id in rooms))


def _forecast(history: History, as_of: dt.date, card: RateCard, seed: int,
              new_followers: dict[str, int] | None) -> tuple[Forecast | None, str | None]:
    if not history.until(as_of).sessions:
        return None, f"no session on or before {as_of.isoformat()} (UTC) to forecast from"
    try:
        return forecast(history, month=f"{as_of.year:04d}-{as_of.month:02d}", as_of=as_of,
                        rng=np.random.default_rng(seed), card=card, settings=TierSettings(),
                        simulations=HOME_SIMULATIONS, new_followers=new_followers), None
    except UsageError as exc:  # a month the forecast cannot take (the last representable)
        return None, str(exc)


def _goal(f: Forecast | None, goal_usd: Decimal | None) -> Goal | None:
    if f is None:
        return None
    m = f.month_to_date
    if goal_usd is not None:
        part = GoalPart("creator_usd", m.creator_usd, goal_usd, Decimal(f.creator_usd.values[1]))
        return Goal("usd", f"{f.month} goal", (part,), m.creator_usd >= goal_usd)
    nxt = next((o for o in f.tiers if not o.reached), None)
    if nxt is None:
        return None
    t = nxt.tier
    hours = Decimal(repr(round(m.hours, 2)))
    parts = (GoalPart("diamonds", m.diamonds, Decimal(t.diamonds), Decimal(f.diamonds.values[1])),
             GoalPart("active_days", Decimal(m.active_days), Decimal(t.active_days),
                      Decimal(f.active_days.values[1])),
             GoalPart("hours", hours, Decimal(repr(t.hours)),
                      Decimal(repr(round(f.hours.values[1], 2)))))
    return Goal("tier", f"agency tier {t.name}", parts, False, round(nxt.odds, 4))


def creator_home(store: Store, card: RateCard, host: str, *, as_of: dt.date, tz: str = "UTC",
                 seed: int = 0, goal_usd: Decimal | None = None,
                 new_followers: dict[str, int] | None = None) -> CreatorHome:
    """The home of ``host`` as of the end of day ``as_of`` (module docstring). Raises
    :class:`NotFoundError` when the host has no session, :class:`UsageError` for a goal of 0
    or less."""
    if goal_usd is not None and goal_usd <= 0:
        raise UsageError("goal_usd: a month goal in creator USD must be above 0")
    chosen = select_sessions(session_stats(store, card, tz=tz), host=host)
    want = normalise_host(host) or ""
    end_ms = as_of_time(store, as_of, tz)
    upto = [s for s in chosen if s.start_ts <= end_ms]
    history = load_history(store, want, card)
    f, note = _forecast(_history(chosen, history), as_of, card, seed, new_followers)
    last = max(upto, key=lambda s: (s.start_ts, s.room_id)) if upto else None
    start = end_ms - GIFTER_DAYS * DAY_MS + 1
    window = [s.room_id for s in upto if s.end_ts >= start]
    board = leaderboard(store, card, window, TOP_GIFTERS, from_ms=start, to_ms=end_ms) \
        if window else []
    return CreatorHome(
        host=next((s.host for s in chosen if s.host), want), as_of=as_of, tz=tz,
        rate_card=card.name, sessions=len(upto), last=last, forecast=f, forecast_note=note,
        trend=_trend(upto, as_of), gifters=tuple(board),
        gifters_from=as_of - dt.timedelta(days=GIFTER_DAYS - 1),
        alerts=_alerts(store, [s.room_id for s in chosen], as_of, tz),
        goal=_goal(f, goal_usd), seed=seed)



# ---------------------------------------------------------------------------- every creator


@dataclass(frozen=True, slots=True)
class CreatorMonth:
    """One creator's line on the index: the month so far (exact, UTC days as the forecast)."""

    host: str
    sessions: int  # every session, all time, by the end of as_of
    last_ts: int | None
    month_sessions: int
    month_coins: int
    month_creator_usd: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "sessions": self.sessions, "last_ts": self.last_ts,
                "month_sessions": self.month_sessions, "month_coins": self.month_coins,
                "month_creator_usd": fmt(self.month_creator_usd)}


def creators_index(store: Store, card: RateCard, *, as_of: dt.date) -> list[CreatorMonth]:
    """Every creator with a session by the end of UTC day ``as_of``, this month's money first
    (then by name): the month of ``as_of``, UTC days, as :func:`creator_home`'s month to date."""
    first = as_of.replace(day=1)
    by_host: dict[str, list[SessionStats]] = {}
    for s in session_stats(store, card):
        if s.host and utc_day(s.start_ts) <= as_of:
            by_host.setdefault(s.host.lower(), []).append(s)
    out = []
    for key, group in by_host.items():
        month = [s for s in group if first <= utc_day(s.start_ts) <= as_of]
        coins = sum(s.coins for s in month)
        out.append(CreatorMonth(
            host=next((s.host for s in reversed(group) if s.host), key), sessions=len(group),
            last_ts=max(s.start_ts for s in group), month_sessions=len(month),
            month_coins=coins, month_creator_usd=sum((s.creator_usd for s in month), Decimal(0))))
    out.sort(key=lambda c: (-c.month_creator_usd, c.host.lower()))
    return out

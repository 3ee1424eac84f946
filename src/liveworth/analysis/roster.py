"""Agency roll-up: per creator and in total, per month (or week), with pace towards tiers.

For each creator and period: sessions, hours live, coins, diamonds, creator USD, active days and
LIVE days; the same for the whole roster. For months, each creator's **pace** projects the month
linearly from the days elapsed up to ``as_of`` and compares it with monthly tier thresholds.

**As of the end of a day.** ``roster(..., as_of=D)`` sees what had happened by the end of D in
the roster's time zone, in every column: a session counts whole, in the day and period it starts
(:mod:`liveworth.analysis.tiers`), so the sessions that start after D are left out of the
sessions, hours, coins, money, active days and pace alike — the roster as of D is the roster of
the history truncated at the end of D.

**Tiers and active days** are those of :mod:`liveworth.analysis.tiers` (the same format, rule and
placeholder defaults as ``forecast``): an active day has at least ``active_day_minutes`` of LIVE
(default 60), summed over the sessions that start that day. The defaults are liveworth's
placeholders, not TikTok's figures; set your agency's with ``--tiers FILE`` or ``--tier``.

Every figure adds up to the per-session reports (:mod:`liveworth.analysis.report`). In a total
row, active days and LIVE days are the sums of the creators' (creator-days).

**Manual adjustments** (:mod:`liveworth.store.adjustments`) are shown apart: ``coins``,
``diamonds`` and ``creator_usd`` are the counted figures (the ledger's), ``adjusted_coins`` and
``adjusted_creator_usd`` the adjustments not undone of the same sessions, ``total_coins`` and
``total_creator_usd`` their sums. The **pace** is judged on the total (counted + adjusted): a
correction TikTok made is in the diamonds its tiers count.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from liveworth.analysis.sessionstats import (
    SessionStats,
    parse_since,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.analysis.settings import PERIODS as PERIODS
from liveworth.analysis.tiers import DEFAULT_ACTIVE_DAY_MINUTES as DEFAULT_ACTIVE_DAY_MINUTES
from liveworth.analysis.tiers import DEFAULT_TIERS as DEFAULT_TIERS
from liveworth.analysis.tiers import TIERS_NOTE as TIERS_NOTE
from liveworth.analysis.tiers import Tier as Tier
from liveworth.analysis.tiers import TierSettings as TierSettings
from liveworth.analysis.tiers import active_days, check_active_day_minutes, highest_reached
from liveworth.analysis.tiers import check_tiers as check_tiers
from liveworth.analysis.tiers import load_tiers as load_tiers
from liveworth.analysis.tiers import parse_tier as parse_tier
from liveworth.economy.money import fmt, split_cents, viewer_usd
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.store.adjustments import adjusted_coins, signed_creator_usd
from liveworth.store.database import Store


@dataclass(frozen=True, slots=True)
class Pace:
    """A creator's month so far (sessions started up to ``as_of``), projected linearly to its
    end, against the tiers.

    ``tier`` is the highest tier reached so far, ``projected_tier`` the highest the projection
    reaches; ``*_to_next`` is what is still missing (so far) for the tier above the projected
    one, and ``diamonds_per_day_needed`` spreads the missing diamonds over the days left.
    """

    days_in_period: int
    days_elapsed: int
    complete: bool
    projected_diamonds: Decimal
    projected_active_days: int
    projected_hours: float
    tier: str | None
    projected_tier: str | None
    next_tier: str | None
    diamonds_to_next: Decimal | None
    active_days_to_next: int | None
    hours_to_next: float | None
    diamonds_per_day_needed: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        def opt(v: Decimal | None) -> str | None:
            return None if v is None else fmt(v)
        return {"days_in_period": self.days_in_period, "days_elapsed": self.days_elapsed,
                "complete": self.complete, "projected_diamonds": fmt(self.projected_diamonds),
                "projected_active_days": self.projected_active_days,
                "projected_hours": round(self.projected_hours, 3), "tier": self.tier,
                "projected_tier": self.projected_tier, "next_tier": self.next_tier,
                "diamonds_to_next": opt(self.diamonds_to_next),
                "active_days_to_next": self.active_days_to_next,
                "hours_to_next": None if self.hours_to_next is None
                else round(self.hours_to_next, 3),
                "diamonds_per_day_needed": opt(self.diamonds_per_day_needed)}


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One creator's period, or (``host`` None) the whole roster's."""

    period: str
    period_start: dt.date
    host: str | None
    creators: int
    sessions: int
    hours: float
    coins: int
    diamonds: Decimal
    creator_usd: Decimal
    active_days: int
    pace: Pace | None
    live_days: int = 0
    #: Manual adjustments not undone of the same sessions (the columns above are counted).
    adjusted_coins: int = 0
    adjusted_creator_usd: Decimal = Decimal(0)
    #: What viewers paid for the counted coins, on the rate card's channel (or --channel).
    viewer_usd: Decimal = Decimal(0)
    #: Scaled LIVE rewards (``us-scaled``): the weekly missions' credit on the sessions' coins
    #: (counted + adjusted), each session at its week's rate; 0 under other cards.
    weekly_creator_usd: Decimal = Decimal(0)

    @property
    def total_coins(self) -> int:
        return self.coins + self.adjusted_coins

    @property
    def total_creator_usd(self) -> Decimal:
        return self.creator_usd + self.adjusted_creator_usd + self.weekly_creator_usd

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "period_start": self.period_start.isoformat(),
                "host": self.host, "creators": self.creators, "sessions": self.sessions,
                "hours": round(self.hours, 3), "coins": self.coins,
                "adjusted_coins": self.adjusted_coins, "total_coins": self.total_coins,
                "diamonds": fmt(self.diamonds), "creator_usd": fmt(self.creator_usd),
                "adjusted_creator_usd": fmt(self.adjusted_creator_usd),
                "weekly_creator_usd": fmt(self.weekly_creator_usd),
                "total_creator_usd": fmt(self.total_creator_usd),
                "viewer_usd": fmt(self.viewer_usd),
                "active_days": self.active_days, "live_days": self.live_days,
                "pace": None if self.pace is None else self.pace.as_dict()}


@dataclass(frozen=True, slots=True)
class Roster:
    """The roll-up: a row per creator and period, and a total per period (newest first)."""

    period: str
    as_of: dt.date
    tz: str
    rate_card: str
    tiers: tuple[Tier, ...]
    rows: tuple[RosterRow, ...]
    totals: tuple[RosterRow, ...]
    note: str
    active_day_minutes: float = DEFAULT_ACTIVE_DAY_MINUTES

    def creator_usd_shown(self) -> dict[tuple[str, str | None], Decimal]:
        """Each row's creator USD as shown in cents, by (period, host): a period's rows add up
        to its total as shown (:func:`~liveworth.economy.money.split_cents`), which each row
        rounded on its own does not."""
        out: dict[tuple[str, str | None], Decimal] = {}
        for total in self.totals:
            rows = [r for r in self.rows if r.period == total.period]
            for row, cents in zip(rows, split_cents(*(r.creator_usd for r in rows)),
                                  strict=True):
                out[(row.period, row.host)] = cents
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "as_of": self.as_of.isoformat(), "tz": self.tz,
                "rate_card": self.rate_card, "tiers": [t.as_dict() for t in self.tiers],
                "active_day_minutes": self.active_day_minutes,
                "tiers_note": self.note, "creators": [r.as_dict() for r in self.rows],
                "totals": [r.as_dict() for r in self.totals]}


def _period(day: dt.date, period: str) -> tuple[str, dt.date, int]:
    """(label, first day, days) of the period holding ``day``."""
    if period == "month":
        return (f"{day.year:04d}-{day.month:02d}", day.replace(day=1),
                calendar.monthrange(day.year, day.month)[1])
    iso = day.isocalendar()
    return (f"{iso.year:04d}-W{iso.week:02d}", day - dt.timedelta(days=day.weekday()), 7)


def _pace(diamonds: Decimal, active: int, hours: float, start: dt.date, days: int,
          as_of: dt.date, tiers: Sequence[Tier]) -> Pace:
    elapsed = max(0, min(days, (as_of - start).days + 1))
    ratio = days / elapsed if elapsed else 1.0
    proj_d = (diamonds * days / elapsed).quantize(Decimal(1), ROUND_HALF_EVEN) if elapsed \
        else diamonds
    proj_a = min(days, round(active * ratio))
    proj_h = hours * ratio

    now = highest_reached(tiers, diamonds, active, hours)
    then = highest_reached(tiers, proj_d, proj_a, proj_h)
    above = [t for t in tiers if then is None or t.diamonds > then.diamonds]
    nxt = above[0] if above else None
    to_next = max(Decimal(nxt.diamonds) - diamonds, Decimal(0)) if nxt else None
    left = days - elapsed
    per_day = (to_next / left).quantize(Decimal(1), ROUND_HALF_EVEN) \
        if to_next is not None and left > 0 else None
    return Pace(days, elapsed, elapsed >= days, proj_d, proj_a, proj_h,
                now.name if now else None, then.name if then else None,
                nxt.name if nxt else None, to_next,
                max(nxt.active_days - active, 0) if nxt else None,
                max(nxt.hours - hours, 0.0) if nxt else None, per_day)


def _days(group: Sequence[SessionStats], active_day_minutes: float) -> tuple[int, int]:
    """Active days and LIVE days of ``group``, summed over its creators (one rule:
    :func:`liveworth.analysis.tiers.active_days`, a session on the local day it starts)."""
    by_host: dict[str, list[tuple[dt.date, float]]] = {}
    for s in group:
        by_host.setdefault((s.host or "").lower(), []).append(
            (s.local_date, (s.end_ts - s.start_ts) / 60_000))
    return (sum(active_days(days, active_day_minutes) for days in by_host.values()),
            sum(active_days(days, 0.0) for days in by_host.values()))


def _row(group: Sequence[SessionStats], label: str, start: dt.date, days: int,
         host: str | None, card: RateCard, period: str, as_of: dt.date,
         settings: TierSettings, adjusted: Mapping[str, int],
         rewards: RoomMoney | None = None) -> RosterRow:
    """One row of sessions that all started by the end of ``as_of``: every column, and the pace,
    from the same sessions (the pace on counted + adjusted diamonds)."""
    coins = sum(s.coins for s in group)
    extra = sum(adjusted.get(s.room_id, 0) for s in group)
    diamonds = Decimal(coins) * card.diamonds_per_coin
    hours = sum(s.end_ts - s.start_ts for s in group) / 3_600_000
    active, live = _days(group, settings.active_day_minutes)
    pace = None
    if period == "month" and host is not None:
        pace = _pace(Decimal(coins + extra) * card.diamonds_per_coin, active, hours, start, days,
                     as_of, settings.tiers)
    return RosterRow(
        period=label, period_start=start, host=host,
        creators=len({(s.host or "").lower() for s in group}), sessions=len(group),
        hours=hours, coins=coins, diamonds=diamonds,
        creator_usd=sum((s.creator_usd for s in group), Decimal(0)), active_days=active,
        pace=pace, live_days=live, adjusted_coins=extra,
        adjusted_creator_usd=signed_creator_usd(extra, card) if rewards is None else
        sum((rewards.adjusted[s.room_id] for s in group), Decimal(0)),
        viewer_usd=viewer_usd(coins, card),
        weekly_creator_usd=Decimal(0) if rewards is None else
        sum((rewards.weekly[s.room_id] for s in group), Decimal(0)))


@dataclass(frozen=True, slots=True)
class RoomMoney:
    """Under a card with missions: each session's adjustments and weekly credit in USD, each at
    its own rate (:mod:`liveworth.analysis.rewards`)."""

    adjusted: Mapping[str, Decimal]
    weekly: Mapping[str, Decimal]


def with_missions(store: Store, card: RateCard, sessions: Sequence[SessionStats],
                  adjusted: Mapping[str, int], tz: str,
                  cuts: Mapping[str, Decimal] | None = None,
                  ) -> tuple[list[SessionStats], RoomMoney | None]:
    """``sessions`` with each one's creator USD at its own missions rate, and the adjustments
    and weekly credits per session (the weeks counted from ``sessions``: give them all, up to
    the day the roster is as of); unchanged, None, under a card without missions."""
    from dataclasses import replace

    from liveworth.analysis.rewards import SessionSpan, new_followers, session_rates
    from liveworth.economy.missions import at_rate

    follows = new_followers(store)
    rates = session_rates(card, (SessionSpan(s.room_id, s.host, s.start_ts, s.end_ts,
                                             follows.get(s.room_id, 0)) for s in sessions),
                          tz=tz, cuts=cuts)
    if rates is None:
        return list(sessions), None
    out, adj, weekly = [], {}, {}
    for s in sessions:
        m, extra = rates[s.room_id], adjusted.get(s.room_id, 0)
        own = at_rate(card, m.reward_rate)
        out.append(replace(s, creator_usd=signed_creator_usd(s.coins, own)))
        adj[s.room_id] = signed_creator_usd(extra, own)
        weekly[s.room_id] = signed_creator_usd(s.coins + extra, at_rate(card, m.weekly_rate))
    return out, RoomMoney(adj, weekly)


def roster(store: Store, card: RateCard, *, period: str = "month",
           tiers: Sequence[Tier] = DEFAULT_TIERS, as_of: str | dt.date | None = None,
           tz: str = "UTC", since: str | dt.date | None = None,
           active_day_minutes: float = DEFAULT_ACTIVE_DAY_MINUTES,
           violation_cuts: Mapping[str, Decimal] | None = None) -> Roster:
    """Every creator's periods and the roster's totals, newest period first, as of the end of
    ``as_of`` (default: today in ``tz``).

    Only sessions that started on or before ``as_of`` (local to ``tz``) count, in every column;
    an active day has at least ``active_day_minutes`` of LIVE. Sessions of unknown host are
    grouped under host None.
    """
    if period not in PERIODS:
        raise UsageError(f"unknown period {period!r} (choose from {', '.join(PERIODS)})")
    settings = TierSettings(check_tiers(tiers), check_active_day_minutes(active_day_minutes))
    day = parse_since(as_of) or dt.datetime.now(zone(tz)).date()
    adjusted = adjusted_coins(store)
    known, rewards = with_missions(store, card, [s for s in session_stats(store, card, tz=tz)
                                                 if s.local_date <= day], adjusted, tz,
                                   violation_cuts)
    chosen = select_sessions(known, since=since)
    groups: dict[tuple[str, str], list[SessionStats]] = {}
    starts: dict[str, tuple[dt.date, int]] = {}
    for s in chosen:
        label, start, days = _period(s.local_date, period)
        starts[label] = (start, days)
        groups.setdefault((label, (s.host or "").lower()), []).append(s)
    rows = [_row(g, label, *starts[label], g[0].host, card, period, day, settings, adjusted,
                 rewards)
            for (label, _), g in sorted(groups.items(),
                                        key=lambda kv: (-starts[kv[0][0]][0].toordinal(),
                                                        kv[0][1]))]
    totals = [_row([s for (lab, _), g in groups.items() if lab == label for s in g], label,
                   start, days, None, card, period, day, settings, adjusted, rewards)
              for label, (start, days) in sorted(starts.items(), key=lambda kv: kv[1][0],
                                                 reverse=True)]
    note = TIERS_NOTE if settings.tiers == check_tiers(DEFAULT_TIERS) else \
        "tier thresholds as given"
    return Roster(period, day, tz, card.name, settings.tiers, tuple(rows), tuple(totals), note,
                  settings.active_day_minutes)

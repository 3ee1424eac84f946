"""The agency's daily brief: yesterday per creator against their recent days, who moved, who went
dark, each creator's tier pace for the month, and the day's alerts.

``brief(store, card, date=D, tz=Z)`` reports on **the day before D** (D defaults to today in Z):
the *brief's day*. Everything is as of the end of that day in Z — a session that starts later
counts nowhere, so a brief made today for last week says what was known then (the same rule as
:mod:`liveworth.analysis.roster`).

**Days.** A session belongs, whole, to the local day (in Z) it starts on, as in the roster: its
hours, coins and money count on that day even when it runs past midnight.

**Averages.** ``avg_7d_usd`` is the creator's total creator USD (counted + adjusted, below) over
the 7 calendar days *before* the brief's day (day-7 … day-1) divided by 7; ``avg_28d_usd`` the
same over day-28 … day-1, divided by 28. Days without a LIVE count as 0, and so do days before
the creator's first session. Averages are rounded half-even to a millionth of a dollar; the
change is computed from the exact sums: ``change_7d_pct = (day − avg_7d) / avg_7d × 100``
(rounded to 0.01), and null — not infinity — when the 7-day average is 0.

**Movers**: the creators whose day differs most from their 7-day average, in dollars (the
largest rises and the largest falls, :data:`MOVERS` of each; ties by host). **Went dark**: the
creators whose last LIVE started at least :data:`DARK_DAYS` days before the brief's day ended
(``days_dark`` = brief's day − day of the last LIVE), most recently gone first.

**Adjustments** (:mod:`liveworth.store.adjustments`) are shown apart: ``coins`` and
``creator_usd`` are counted, ``adjusted_*`` the adjustments not undone, ``total_*`` the sums;
averages, changes, movers and the tier pace use the totals. **Whose money**: ``*_usd`` is what
the creator receives (the rate card's reward rate), never what viewers paid.

**Tier pace**: the roster's monthly pace (:func:`liveworth.analysis.roster.roster` as of the
brief's day: only what happened by then); null for a creator without a LIVE that month.

**Alerts**: the rows of the ``alerts`` table (written by the alert engine) whose ``ts`` falls in
the brief's day in Z, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from liveworth.analysis.roster import DEFAULT_ACTIVE_DAY_MINUTES, DEFAULT_TIERS, Pace, Tier
from liveworth.analysis.roster import roster as build_roster
from liveworth.analysis.sessionstats import SessionStats, money_avg, session_stats, zone
from liveworth.economy.money import fmt, split_cents
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.store.adjustments import adjusted_coins, signed_creator_usd
from liveworth.store.database import Store

#: A creator is "dark" after this many days without a LIVE.
DARK_DAYS = 3
#: Rises and falls listed among the movers (each).
MOVERS = 3
#: The windows the day is compared with (days before the brief's day).
WINDOWS = (7, 28)
#: The earliest and latest D a brief is made for (the 28 days before must be real dates).
FIRST_DATE, LAST_DATE = dt.date(1970, 2, 1), dt.date(9999, 12, 31)
AVERAGES_NOTE = ("avg_7d_usd / avg_28d_usd: the creator's total creator USD (counted + adjusted) "
                 "over the 7 / 28 days before the brief's day, divided by 7 / 28 (days without "
                 "a LIVE count as 0); change_7d_pct: the day against the 7-day average, null when "
                 "that is 0; sessions count on the day they start, in the brief's time zone")
_PCT = Decimal("0.01")


def _pct(now: Decimal, before_sum: Decimal, days: int) -> float | None:
    """(now − before_sum/days) / (before_sum/days) × 100 from the exact sums; None for 0."""
    if before_sum == 0:
        return None
    return float(((now * days - before_sum) * 100 / before_sum).quantize(_PCT, ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class CreatorDay:
    """One creator's brief's day against their averages."""

    host: str | None
    sessions: int
    hours: float
    coins: int
    adjusted_coins: int
    creator_usd: Decimal
    adjusted_creator_usd: Decimal
    sum_7d_usd: Decimal
    sum_28d_usd: Decimal
    last_live: str | None
    last_room_id: str | None
    days_dark: int | None
    tier_pace: Pace | None

    @property
    def total_coins(self) -> int:
        return self.coins + self.adjusted_coins

    @property
    def total_creator_usd(self) -> Decimal:
        return self.creator_usd + self.adjusted_creator_usd

    @property
    def avg_7d_usd(self) -> Decimal:
        return money_avg(self.sum_7d_usd / 7)

    @property
    def avg_28d_usd(self) -> Decimal:
        return money_avg(self.sum_28d_usd / 28)

    @property
    def change_7d_pct(self) -> float | None:
        return _pct(self.total_creator_usd, self.sum_7d_usd, 7)

    @property
    def change_28d_pct(self) -> float | None:
        return _pct(self.total_creator_usd, self.sum_28d_usd, 28)

    @property
    def change_usd(self) -> Decimal:
        """The day's total creator USD minus the 7-day average (exact up to the average's
        millionth)."""
        return money_avg(self.total_creator_usd - self.sum_7d_usd / 7)

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "sessions": self.sessions, "hours": round(self.hours, 3),
                "coins": self.coins, "adjusted_coins": self.adjusted_coins,
                "total_coins": self.total_coins, "creator_usd": fmt(self.creator_usd),
                "adjusted_creator_usd": fmt(self.adjusted_creator_usd),
                "total_creator_usd": fmt(self.total_creator_usd),
                "avg_7d_usd": fmt(self.avg_7d_usd), "avg_28d_usd": fmt(self.avg_28d_usd),
                "change_7d_pct": self.change_7d_pct, "change_28d_pct": self.change_28d_pct,
                "change_usd": fmt(self.change_usd), "last_live": self.last_live,
                "days_dark": self.days_dark,
                "tier_pace": None if self.tier_pace is None else self.tier_pace.as_dict()}


@dataclass(frozen=True, slots=True)
class BriefAlert:
    """One stored alert of the brief's day (a row of the ``alerts`` table)."""

    ts: int
    time: str
    room_id: str
    host: str | None
    rule: str
    kind: str
    text: str
    user_id: str | None
    who: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "time": self.time, "room_id": self.room_id, "host": self.host,
                "rule": self.rule, "kind": self.kind, "text": self.text,
                "user_id": self.user_id, "who": self.who, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Brief:
    date: dt.date
    as_of: dt.date
    tz: str
    rate_card: str
    creators: tuple[CreatorDay, ...]
    rises: tuple[CreatorDay, ...]
    falls: tuple[CreatorDay, ...]
    dark: tuple[CreatorDay, ...]
    alerts: tuple[BriefAlert, ...]
    tiers_note: str

    def creator_usd_shown(self) -> tuple[Decimal, ...]:
        """Each creator's day (counted + adjusted creator USD) as shown in cents, adding up to
        the total shown (:func:`~liveworth.economy.money.split_cents`)."""
        return split_cents(*(c.total_creator_usd for c in self.creators))

    def totals(self) -> dict[str, Any]:
        """The day over every creator: the parts above add up to these."""
        rows = self.creators
        counted = sum((c.creator_usd for c in rows), Decimal(0))
        adjusted = sum((c.adjusted_creator_usd for c in rows), Decimal(0))
        return {"creators_live": sum(1 for c in rows if c.sessions),
                "sessions": sum(c.sessions for c in rows),
                "hours": round(sum(c.hours for c in rows), 3),
                "coins": sum(c.coins for c in rows),
                "adjusted_coins": sum(c.adjusted_coins for c in rows),
                "total_coins": sum(c.total_coins for c in rows),
                "creator_usd": fmt(counted), "adjusted_creator_usd": fmt(adjusted),
                "total_creator_usd": fmt(counted + adjusted)}

    def as_dict(self) -> dict[str, Any]:
        def mover(c: CreatorDay) -> dict[str, Any]:
            return {"host": c.host, "total_creator_usd": fmt(c.total_creator_usd),
                    "avg_7d_usd": fmt(c.avg_7d_usd), "change_usd": fmt(c.change_usd),
                    "change_7d_pct": c.change_7d_pct}

        return {"date": self.date.isoformat(), "as_of": self.as_of.isoformat(), "tz": self.tz,
                "rate_card": self.rate_card, "whose_money": "creator: what the creator "
                "receives (usd), before any agency cut or tax",
                "averages": AVERAGES_NOTE, "dark_days": DARK_DAYS,
                "creators": [c.as_dict() for c in self.creators],
                "totals": self.totals(),
                "movers": {"rises": [mover(c) for c in self.rises],
                           "falls": [mover(c) for c in self.falls]},
                "went_dark": [{"host": c.host, "last_live": c.last_live,
                               "last_room_id": c.last_room_id, "days_dark": c.days_dark}
                              for c in self.dark],
                "alerts": [a.as_dict() for a in self.alerts], "tiers_note": self.tiers_note}


def brief_day(date: str | dt.date | None, tz: str) -> tuple[dt.date, dt.date]:
    """(D, the brief's day D − 1) for ``date`` (default today in ``tz``)."""
    place = zone(tz)
    if date is None:
        d = dt.datetime.now(place).date()
    elif isinstance(date, dt.date):
        d = date
    else:
        try:
            d = dt.date.fromisoformat(date.strip())
        except ValueError:
            raise UsageError(f"--date: not a date (YYYY-MM-DD): {date[:40]!r}") from None
    if not FIRST_DATE <= d <= LAST_DATE:
        raise UsageError(f"--date {d.isoformat()}: a brief covers a day from "
                         f"{FIRST_DATE - dt.timedelta(days=1)} on")
    return d, d - dt.timedelta(days=1)


def _day_bounds(day: dt.date, tz: str) -> tuple[int, int]:
    """The brief's day in ``tz`` as [start, end) in ms since the epoch (DST days included)."""
    place = zone(tz)

    def ms(d: dt.date) -> int:
        return int(dt.datetime.combine(d, dt.time(0), place).timestamp() * 1000)

    return ms(day), ms(day + dt.timedelta(days=1))


def _alerts(store: Store, day: dt.date, tz: str) -> list[BriefAlert]:
    lo, hi = _day_bounds(day, tz)
    place = zone(tz)
    rows = store.query("""
        SELECT ts, room_id, host, rule, kind, text, user_id, who, detail FROM alerts
        WHERE ts >= $1 AND ts < $2 ORDER BY ts, room_id, rule, "key" """, [lo, hi])
    return [BriefAlert(int(r[0]), dt.datetime.fromtimestamp(int(r[0]) / 1000, place)
                       .isoformat(timespec="seconds"), str(r[1]), r[2], str(r[3]), str(r[4]),
                       str(r[5]), r[6], r[7], r[8]) for r in rows]


def _creator(group: Sequence[SessionStats], day: dt.date, card: RateCard,
             adjusted: dict[str, int], pace: Pace | None) -> CreatorDay:
    """One creator's row from their sessions up to the end of the brief's day."""
    def usd_of(s: SessionStats) -> Decimal:
        return s.creator_usd + signed_creator_usd(adjusted.get(s.room_id, 0), card)

    today = [s for s in group if s.local_date == day]
    sums = [sum((usd_of(s) for s in group if 1 <= (day - s.local_date).days <= n), Decimal(0))
            for n in WINDOWS]
    extra = sum(adjusted.get(s.room_id, 0) for s in today)
    last = max(group, key=lambda s: (s.start_ts, s.room_id))
    return CreatorDay(
        host=last.host, sessions=len(today),
        hours=sum(s.end_ts - s.start_ts for s in today) / 3_600_000,
        coins=sum(s.coins for s in today), adjusted_coins=extra,
        creator_usd=sum((s.creator_usd for s in today), Decimal(0)),
        adjusted_creator_usd=signed_creator_usd(extra, card), sum_7d_usd=sums[0],
        sum_28d_usd=sums[1], last_live=last.local_start, last_room_id=last.room_id,
        days_dark=(day - last.local_date).days, tier_pace=pace)


def brief(store: Store, card: RateCard, *, date: str | dt.date | None = None, tz: str = "UTC",
          tiers: Sequence[Tier] = DEFAULT_TIERS,
          active_day_minutes: float = DEFAULT_ACTIVE_DAY_MINUTES) -> Brief:
    """The brief for the day before ``date`` (default: today in ``tz``), in ``tz``."""
    as_of, day = brief_day(date, tz)
    chosen = [s for s in session_stats(store, card, tz=tz) if s.local_date <= day]
    adjusted = adjusted_coins(store, [s.room_id for s in chosen])
    month = build_roster(store, card, period="month", tiers=tiers, as_of=day, tz=tz,
                         active_day_minutes=active_day_minutes)
    paces = {(r.host or "").lower(): r.pace for r in month.rows
             if r.period_start == day.replace(day=1)}
    groups: dict[str, list[SessionStats]] = {}
    for s in chosen:
        groups.setdefault((s.host or "").lower(), []).append(s)
    rows = [_creator(g, day, card, adjusted, paces.get(key))
            for key, g in sorted(groups.items())]
    rises = sorted((c for c in rows if c.change_usd > 0),
                   key=lambda c: (-c.change_usd, (c.host or "").lower()))[:MOVERS]
    falls = sorted((c for c in rows if c.change_usd < 0),
                   key=lambda c: (c.change_usd, (c.host or "").lower()))[:MOVERS]
    dark = sorted((c for c in rows if c.days_dark is not None and c.days_dark >= DARK_DAYS),
                  key=lambda c: (c.days_dark or 0, (c.host or "").lower()))
    return Brief(day, as_of, tz, card.name, tuple(rows), tuple(rises), tuple(falls),
                 tuple(dark), tuple(_alerts(store, day, tz)), month.note)

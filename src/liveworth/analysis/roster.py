"""Agency roll-up: per creator and in total, per month (or week), with pace towards tiers.

For each creator and period: sessions, hours live, coins, diamonds, creator USD and active days
(calendar days with a LIVE start, in the chosen time zone); the same for the whole roster. For
months, each creator's **pace** projects the month linearly from the days elapsed up to
``as_of`` and compares it with monthly tier thresholds.

**Tier thresholds are an assumption.** TikTok and the agencies publish no common table; each
agency sets its own (diamonds a month, often with minimum valid days and hours live). The
defaults in :data:`DEFAULT_TIERS` are liveworth's placeholders, shaped like such tables, not
TikTok's figures. Set your agency's with a TOML file (``--tiers FILE``)::

    [[tier]]
    name = "A"
    diamonds = 50000      # diamonds in the month
    active_days = 12      # optional: days with a LIVE
    hours = 25            # optional: hours live

or on the command line, ``--tier A:50000:12:25`` (repeatable; replaces the defaults).

Every figure adds up to the per-session reports (:mod:`liveworth.analysis.report`): a session
counts in the period of its start.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from liveworth.analysis.sessionstats import (
    SessionStats,
    parse_since,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.analysis.settings import PERIODS as PERIODS
from liveworth.economy.money import fmt
from liveworth.economy.numbers import plain_int, ungrouped
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.store.database import Store


@dataclass(frozen=True, slots=True)
class Tier:
    """A monthly threshold: ``diamonds`` in the month, at least ``active_days`` and ``hours``."""

    name: str
    diamonds: int
    active_days: int = 0
    hours: float = 0.0

    def reached(self, diamonds: Decimal, active_days: float, hours: float) -> bool:
        return diamonds >= self.diamonds and active_days >= self.active_days \
            and hours >= self.hours

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "diamonds": self.diamonds, "active_days": self.active_days,
                "hours": self.hours}


#: liveworth's placeholder thresholds (an assumption, not TikTok's: see the module docstring).
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("starter", 10_000, 7, 15.0),
    Tier("rising", 50_000, 12, 25.0),
    Tier("pro", 200_000, 15, 40.0),
    Tier("star", 1_000_000, 20, 60.0),
)
TIERS_NOTE = ("tier thresholds are liveworth's placeholders unless set with --tiers/--tier: "
              "TikTok and agencies publish no common table")


def check_tiers(tiers: Iterable[Tier]) -> tuple[Tier, ...]:
    """Tiers sorted by diamonds; names unique, numbers non-negative, at least one tier."""
    out = tuple(sorted(tiers, key=lambda t: (t.diamonds, t.active_days, t.hours)))
    if not out:
        raise UsageError("no tier thresholds given")
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise UsageError(f"tier names must be unique: {', '.join(names)}")
    for t in out:
        if not t.name.strip():
            raise UsageError("a tier needs a name")
        if t.diamonds < 0 or t.active_days < 0 or not (math.isfinite(t.hours) and t.hours >= 0):
            raise UsageError(f"tier {t.name!r}: thresholds must be non-negative numbers")
    return out


def parse_tier(text: str) -> Tier:
    """``NAME:DIAMONDS[:ACTIVE_DAYS[:HOURS]]`` as a :class:`Tier`."""
    parts = [p.strip() for p in text.split(":")]
    if not 2 <= len(parts) <= 4 or not parts[0]:
        raise UsageError(f"--tier wants NAME:DIAMONDS[:ACTIVE_DAYS[:HOURS]], got {text!r}")
    try:
        diamonds = plain_int(parts[1])  # "50_000" and "50,000", not "0_0_1"
        days = plain_int(parts[2]) if len(parts) > 2 else 0
        hours = float(ungrouped(parts[3])) if len(parts) > 3 else 0.0
    except ValueError:
        raise UsageError(f"--tier {text!r}: diamonds and days must be whole numbers, hours a "
                         "number") from None
    return check_tiers([Tier(parts[0], diamonds, days, hours)])[0]


def load_tiers(path: str | Path) -> tuple[Tier, ...]:
    """Tiers from a TOML file of ``[[tier]]`` tables (see the module docstring)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{p}: tiers file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{p}: not a readable TOML file: {str(exc).splitlines()[0]}") from None
    raw = data.get("tier")
    if not isinstance(raw, list) or not raw:
        raise UsageError(f"{p}: expected one or more [[tier]] tables")
    tiers: list[Tier] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or set(entry) - {"name", "diamonds", "active_days",
                                                        "hours"}:
            raise UsageError(f"{p}: tier {i}: allowed keys are name, diamonds, active_days, "
                             "hours")
        name, diamonds = entry.get("name"), entry.get("diamonds")
        days, hours = entry.get("active_days", 0), entry.get("hours", 0)
        if not isinstance(name, str) or not isinstance(diamonds, int) \
                or not isinstance(days, int) or not isinstance(hours, int | float) \
                or any(isinstance(v, bool) for v in (diamonds, days, hours)):
            raise UsageError(f"{p}: tier {i}: needs name (text), diamonds and active_days "
                             "(whole numbers), hours (a number)")
        tiers.append(Tier(name, diamonds, days, float(hours)))
    return check_tiers(tiers)


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

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "period_start": self.period_start.isoformat(),
                "host": self.host, "creators": self.creators, "sessions": self.sessions,
                "hours": round(self.hours, 3), "coins": self.coins,
                "diamonds": fmt(self.diamonds), "creator_usd": fmt(self.creator_usd),
                "active_days": self.active_days,
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

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "as_of": self.as_of.isoformat(), "tz": self.tz,
                "rate_card": self.rate_card, "tiers": [t.as_dict() for t in self.tiers],
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

    def best(d: Decimal, a: float, h: float) -> Tier | None:
        reached = [t for t in tiers if t.reached(d, a, h)]
        return reached[-1] if reached else None

    now, then = best(diamonds, active, hours), best(proj_d, proj_a, proj_h)
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


def _row(group: Sequence[SessionStats], label: str, start: dt.date, days: int,
         host: str | None, card: RateCard, period: str, as_of: dt.date,
         tiers: Sequence[Tier]) -> RosterRow:
    coins = sum(s.coins for s in group)
    diamonds = Decimal(coins) * card.diamonds_per_coin
    hours = sum(s.end_ts - s.start_ts for s in group) / 3_600_000
    active = len({s.local_date for s in group})
    pace = None
    if period == "month" and host is not None:
        so_far = [s for s in group if s.local_date <= as_of]
        pace = _pace(Decimal(sum(s.coins for s in so_far)) * card.diamonds_per_coin,
                     len({s.local_date for s in so_far}),
                     sum(s.end_ts - s.start_ts for s in so_far) / 3_600_000, start, days, as_of,
                     tiers)
    return RosterRow(
        period=label, period_start=start, host=host,
        creators=len({(s.host or "").lower() for s in group}), sessions=len(group),
        hours=hours, coins=coins, diamonds=diamonds,
        creator_usd=sum((s.creator_usd for s in group), Decimal(0)), active_days=active,
        pace=pace)


def roster(store: Store, card: RateCard, *, period: str = "month",
           tiers: Sequence[Tier] = DEFAULT_TIERS, as_of: str | dt.date | None = None,
           tz: str = "UTC", since: str | dt.date | None = None) -> Roster:
    """Every creator's periods and the roster's totals, newest period first.

    ``as_of`` (default: today in ``tz``) is the day the pace is measured on; sessions of unknown
    host are grouped under host None.
    """
    if period not in PERIODS:
        raise UsageError(f"unknown period {period!r} (choose from {', '.join(PERIODS)})")
    checked = check_tiers(tiers)
    day = parse_since(as_of) or dt.datetime.now(zone(tz)).date()
    chosen = select_sessions(session_stats(store, card, tz=tz), since=since)
    groups: dict[tuple[str, str], list[SessionStats]] = {}
    starts: dict[str, tuple[dt.date, int]] = {}
    for s in chosen:
        label, start, days = _period(s.local_date, period)
        starts[label] = (start, days)
        groups.setdefault((label, (s.host or "").lower()), []).append(s)
    rows = [_row(g, label, *starts[label], g[0].host, card, period, day, checked)
            for (label, _), g in sorted(groups.items(),
                                        key=lambda kv: (-starts[kv[0][0]][0].toordinal(),
                                                        kv[0][1]))]
    totals = [_row([s for (lab, _), g in groups.items() if lab == label for s in g], label,
                   start, days, None, card, period, day, checked)
              for label, (start, days) in sorted(starts.items(), key=lambda kv: kv[1][0],
                                                 reverse=True)]
    note = TIERS_NOTE if checked == check_tiers(DEFAULT_TIERS) else "tier thresholds as given"
    return Roster(period, day, tz, card.name, checked, tuple(rows), tuple(totals), note)

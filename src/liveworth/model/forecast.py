"""Forecast: a creator's month so far, where it is heading, and the odds of agency tiers.

:func:`forecast` takes a creator's :class:`~liveworth.model.calibrate.History` (the store's
sessions) and a calendar month. *Month to date* is exact: the sessions that started in the month up
to the ``as_of`` day, their coins summed and turned into money once by
:func:`liveworth.economy.money.earnings`. The *projection* adds the rest of the month by Monte
Carlo: each simulated world draws the creator's level and spread from the calibration
(:func:`liveworth.model.calibrate.calibrate`) and the share of days they go LIVE from its beta
belief; each remaining day is LIVE with that probability and then repeats one of the creator's own
recorded LIVE days (its sessions and their lengths), each session's coins drawn from the calibrated
distribution for its length.

Agency programmes set monthly thresholds on LIVE hours ("airtime"), diamonds and active days.
Their real values differ by agency, region and programme and are not public; the defaults in
:data:`DEFAULT_TIERS` are *assumptions* to be replaced with a TOML file (:func:`load_tiers`).
Days are UTC calendar days; a session counts on the day it starts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from liveworth.economy.money import earnings, fmt
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import ConfigError, UsageError
from liveworth.model.calibrate import (
    Calibration,
    History,
    HistorySession,
    calibrate,
    draw_coins,
    offset,
    sum_by,
    utc_day,
)
from liveworth.model.estimate import DEFAULT_SESSIONS, MAX_SESSIONS, QUANTILES, in_chunks
from liveworth.model.generative import FloatArray, IntArray, ModelParams

#: Tier metrics: LIVE hours in the month, diamonds credited, days with enough LIVE minutes.
METRICS = ("airtime_hours", "diamonds", "active_days")
#: Minutes of LIVE in a UTC day that make it an active day (assumption: agencies commonly
#: count a "valid day" from one hour of LIVE).
DEFAULT_ACTIVE_DAY_MINUTES = 60.0

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Tier:
    """One monthly threshold: reach ``threshold`` of ``metric`` by the end of the month."""

    name: str
    metric: str
    threshold: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", float(self.threshold))
        if self.metric not in METRICS:
            raise ConfigError(f"tier {self.name!r}: unknown metric {self.metric!r} (choose from "
                              f"{', '.join(METRICS)})")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ConfigError(f"tier {self.name!r}: threshold must be a number >= 0, got "
                              f"{self.threshold}")


#: Default agency tiers — every one an assumption (programmes differ and publish no numbers).
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("airtime 20 h", "airtime_hours", 20),
    Tier("airtime 40 h", "airtime_hours", 40),
    Tier("active days 12", "active_days", 12),
    Tier("active days 20", "active_days", 20),
    Tier("diamonds 10k", "diamonds", 10_000),
    Tier("diamonds 100k", "diamonds", 100_000),
    Tier("diamonds 1M", "diamonds", 1_000_000),
)


@dataclass(frozen=True, slots=True)
class TierSettings:
    """The tiers to forecast and what makes a day active."""

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    active_day_minutes: float = DEFAULT_ACTIVE_DAY_MINUTES
    source: str = "defaults (assumptions)"


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    return float(value)


def load_tiers(path: str | Path) -> TierSettings:
    """Tier settings from a TOML file; tiers given replace the defaults, the rest stay.

    Format::

        active_day_minutes = 60        # minutes of LIVE that make a UTC day active

        [[tier]]
        name = "airtime 20 h"          # optional, default "METRIC THRESHOLD"
        metric = "airtime_hours"       # airtime_hours, diamonds or active_days
        threshold = 20
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{p}: thresholds file not found") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"active_day_minutes", "tier"})
    if unknown:
        raise ConfigError(f"{p}: unknown setting(s) {', '.join(unknown)} (expected "
                          "active_day_minutes and [[tier]] tables)")
    minutes = DEFAULT_ACTIVE_DAY_MINUTES
    if "active_day_minutes" in data:
        minutes = _number(data["active_day_minutes"], f"{p}: active_day_minutes")
        if not (math.isfinite(minutes) and 0 <= minutes <= 24 * 60):
            raise ConfigError(f"{p}: active_day_minutes must lie between 0 and 1440")
    tiers = DEFAULT_TIERS
    if "tier" in data:
        rows = data["tier"]
        if not isinstance(rows, list) or not rows:
            raise ConfigError(f"{p}: tier must be one or more [[tier]] tables")
        tiers = tuple(_tier(row, f"{p}: tier {i}") for i, row in enumerate(rows, 1))
    return TierSettings(tiers, minutes, str(p))


def _tier(row: object, where: str) -> Tier:
    if not isinstance(row, Mapping):
        raise ConfigError(f"{where}: expected a [[tier]] table")
    unknown = sorted(set(row) - {"name", "metric", "threshold"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if "metric" not in row or "threshold" not in row:
        raise ConfigError(f"{where}: needs metric and threshold")
    metric = str(row["metric"])
    threshold = _number(row["threshold"], f"{where}: threshold")
    name = row.get("name", f"{metric} {threshold:g}")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty string")
    return Tier(name.strip(), metric, threshold)


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a ``YYYY-MM`` month."""
    m = _MONTH.fullmatch(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
        raise UsageError(f"--month: expected a month as YYYY-MM, got {text!r}")
    first = dt.date(int(m.group(1)), int(m.group(2)), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """The month's recorded sessions up to the ``as_of`` day, exact."""

    sessions: int
    coins: int
    creator_usd: Decimal
    viewer_usd: Decimal
    diamonds: Decimal
    hours: float
    active_days: int
    live_days: int

    def as_dict(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "coins": self.coins,
                "creator_usd": fmt(self.creator_usd), "viewer_usd": fmt(self.viewer_usd),
                "diamonds": fmt(self.diamonds), "hours": round(self.hours, 2),
                "active_days": self.active_days, "live_days": self.live_days}


@dataclass(frozen=True, slots=True)
class Band:
    """p10 / p50 / p90 of one month-end quantity."""

    values: tuple[Any, Any, Any]

    def as_dict(self, render: Any = None) -> dict[str, Any]:
        return {f"p{round(q * 100)}": render(v) if render else v
                for q, v in zip(QUANTILES, self.values, strict=True)}


@dataclass(frozen=True, slots=True)
class TierOdds:
    """A tier, where the month stands against it, and the odds of reaching it."""

    tier: Tier
    month_to_date: float
    reached: bool
    odds: float

    def as_dict(self) -> dict[str, Any]:
        t = self.tier
        threshold: float | int = int(t.threshold) if t.threshold.is_integer() else t.threshold
        return {"name": t.name, "metric": t.metric, "threshold": threshold,
                "month_to_date": round(self.month_to_date, 2), "reached": self.reached,
                "odds": round(self.odds, 4)}


@dataclass(frozen=True, slots=True)
class Forecast:
    """Month to date, the projected month (p10 / p50 / p90) and the tiers' odds."""

    month: str
    as_of: dt.date
    host: str | None
    days_in_month: int
    days_remaining: int
    month_to_date: MonthToDate
    coins: Band
    creator_usd: Band
    diamonds: Band
    hours: Band
    active_days: Band
    sessions: Band
    tiers: tuple[TierOdds, ...]
    active_day_minutes: float
    tier_source: str
    calibration: Calibration
    rate_card: str
    simulations: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "host": self.host,
            "days": {"in_month": self.days_in_month,
                     "elapsed": self.days_in_month - self.days_remaining,
                     "remaining": self.days_remaining},
            "month_to_date": self.month_to_date.as_dict(),
            "projection": {
                "creator_usd": self.creator_usd.as_dict(fmt),
                "coins": self.coins.as_dict(),
                "diamonds": self.diamonds.as_dict(fmt),
                "hours": self.hours.as_dict(lambda v: round(v, 2)),
                "active_days": self.active_days.as_dict(),
                "sessions": self.sessions.as_dict(),
            },
            "tiers": [t.as_dict() for t in self.tiers],
            "active_day_minutes": self.active_day_minutes,
            "tier_source": self.tier_source,
            "calibration": self.calibration.as_dict(),
            "rate_card": self.rate_card,
            "simulations": self.simulations,
        }


# ------------------------------------------------------------------------------ the forecast


def _days(sessions: Sequence[HistorySession]) -> dict[dt.date, list[HistorySession]]:
    out: dict[dt.date, list[HistorySession]] = {}
    for s in sessions:
        out.setdefault(s.day, []).append(s)
    return out


def month_to_date(sessions: Sequence[HistorySession], card: RateCard,
                  active_day_minutes: float) -> MonthToDate:
    """Exact totals of ``sessions``: coins summed, then money once (exact decimals)."""
    coins = sum(s.coins for s in sessions)
    money = earnings(coins, card)
    days = _days(sessions)
    return MonthToDate(
        sessions=len(sessions), coins=coins, creator_usd=money.creator_usd,
        viewer_usd=money.viewer_usd, diamonds=money.diamonds,
        hours=sum(s.minutes for s in sessions) / 60,
        active_days=sum(1 for day in days.values()
                        if sum(s.minutes for s in day) >= active_day_minutes),
        live_days=len(days),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _DayTemplates:
    """The creator's recorded LIVE days, as flat arrays for resampling whole days."""

    count: IntArray        # sessions of day j
    start: IntArray        # index of day j's first session in the flat arrays
    minutes: FloatArray    # LIVE minutes of day j
    offsets: FloatArray    # per session: the model's offset for its length

    @classmethod
    def of(cls, cal: Calibration, sessions: Sequence[HistorySession]) -> _DayTemplates:
        days = list(_days(sessions).values())
        flat = [s for day in days for s in day]
        count = np.array([len(d) for d in days], dtype=np.int64)
        viewers = cal.typical_viewers(cal.inputs())
        return cls(
            count=count,
            start=(np.cumsum(count) - count).astype(np.int64),
            minutes=np.array([sum(s.minutes for s in d) for d in days], dtype=np.float64),
            offsets=np.array([offset(cal.params, viewers, s.minutes, cal.engagement)
                              for s in flat], dtype=np.float64),
        )


@dataclass(frozen=True, slots=True, eq=False)
class _Rest:
    """The remaining days of the month in each simulated world."""

    coins: IntArray
    minutes: FloatArray
    active_days: IntArray
    sessions: IntArray


def _simulate_rest(cal: Calibration, days: _DayTemplates, remaining: int,
                   active_day_minutes: float, rng: np.random.Generator, n: int) -> _Rest:
    rest = _Rest(np.zeros(n, np.int64), np.zeros(n, np.float64), np.zeros(n, np.int64),
                 np.zeros(n, np.int64))
    if remaining <= 0:
        return rest
    a, b = cal.frequency.beta
    active_template = days.minutes >= active_day_minutes

    def work(chunk: slice, g: np.random.Generator) -> None:
        m = chunk.stop - chunk.start
        theta, sigma = cal.fitted.draw(g, m)
        live = g.binomial(remaining, g.beta(a, b, m))
        day_world = np.repeat(np.arange(m), live)
        template = g.integers(0, days.count.shape[0], day_world.shape[0])
        count = days.count[template]
        session_world = np.repeat(day_world, count)
        first = np.cumsum(count) - count
        within = np.arange(session_world.shape[0]) - np.repeat(first, count)
        index = np.repeat(days.start[template], count) + within
        coins = draw_coins(days.offsets[index], theta[session_world], sigma[session_world], g)
        rest.coins[chunk] = sum_by(session_world, coins, m)
        rest.minutes[chunk] = np.bincount(day_world, weights=days.minutes[template],
                                          minlength=m)
        rest.active_days[chunk] = np.rint(np.bincount(
            day_world, weights=active_template[template].astype(np.float64), minlength=m))
        rest.sessions[chunk] = np.bincount(session_world, minlength=m)

    in_chunks(n, rng, work)
    return rest


def _band(values: FloatArray | IntArray) -> tuple[Any, Any, Any]:
    q = np.quantile(values, QUANTILES, method="inverted_cdf")
    return (q[0].item(), q[1].item(), q[2].item())


def _coins_for_diamonds(threshold: float, card: RateCard) -> int | None:
    """The fewest coins that credit ``threshold`` diamonds (None: no coins ever do)."""
    try:
        need = Decimal(repr(threshold))
    except InvalidOperation:  # pragma: no cover - thresholds are finite floats
        return None
    if need <= 0:
        return 0
    if card.diamonds_per_coin <= 0:
        return None
    return int((need / card.diamonds_per_coin).to_integral_value(ROUND_CEILING))


@dataclass(frozen=True, slots=True, eq=False)
class _MonthEnd:
    """Month-end totals in each simulated world: the month to date plus the rest."""

    coins: IntArray
    hours: FloatArray
    active_days: IntArray
    sessions: IntArray

    @classmethod
    def of(cls, mtd: MonthToDate, rest: _Rest) -> _MonthEnd:
        return cls(coins=mtd.coins + rest.coins, hours=mtd.hours + rest.minutes / 60,
                   active_days=mtd.active_days + rest.active_days,
                   sessions=mtd.sessions + rest.sessions)


@dataclass(frozen=True, slots=True)
class _Bands:
    """p10 / p50 / p90 of each month-end quantity; money from the coins' band."""

    coins: Band
    creator_usd: Band
    diamonds: Band
    hours: Band
    active_days: Band
    sessions: Band

    @classmethod
    def of(cls, end: _MonthEnd, card: RateCard) -> _Bands:
        coin_band = _band(end.coins)
        money = [earnings(int(c), card) for c in coin_band]
        return cls(
            coins=Band(coin_band),
            creator_usd=Band((money[0].creator_usd, money[1].creator_usd, money[2].creator_usd)),
            diamonds=Band((money[0].diamonds, money[1].diamonds, money[2].diamonds)),
            hours=Band(_band(end.hours)),
            active_days=Band(_band(end.active_days)),
            sessions=Band(_band(end.sessions)),
        )


def _tier_odds(t: Tier, now: float, final: IntArray | FloatArray, coins_so_far: int,
               card: RateCard) -> TierOdds:
    """Whether ``t`` is reached so far (``now``) and the odds the month ends on it (``final``)."""
    if t.metric == "diamonds":
        need = _coins_for_diamonds(t.threshold, card)
        reached = need is not None and coins_so_far >= need
        odds = 0.0 if need is None else float(np.mean(final >= need))
    else:
        reached = now >= t.threshold
        odds = float(np.mean(final >= t.threshold))
    return TierOdds(t, now, reached, 1.0 if reached else odds)


def _all_tier_odds(tiers: Sequence[Tier], mtd: MonthToDate, end: _MonthEnd,
                   card: RateCard) -> tuple[TierOdds, ...]:
    """Every tier against its metric: the month to date and the simulated month ends."""
    metric_values: dict[str, tuple[float, IntArray | FloatArray]] = {
        "airtime_hours": (mtd.hours, end.hours),
        "active_days": (float(mtd.active_days), end.active_days),
        "diamonds": (float(mtd.diamonds), end.coins),
    }
    return tuple(_tier_odds(t, *metric_values[t.metric], mtd.coins, card) for t in tiers)


def _check_simulations(simulations: int) -> None:
    if not 1 <= simulations <= MAX_SESSIONS:
        raise UsageError(f"simulations must lie between 1 and {MAX_SESSIONS:,}, got "
                         f"{simulations}")


def _known_until(history: History, as_of: dt.date) -> History:
    """The sessions that started on or before ``as_of``; none is a usage error."""
    known = history.until(as_of)
    if not known.sessions:
        who = f"@{history.host}" if history.host else "this creator"
        raise UsageError(f"no recorded sessions of {who} on or before {as_of.isoformat()}")
    return known


def forecast(
    history: History,
    *,
    month: str,
    as_of: dt.date,
    rng: np.random.Generator,
    card: RateCard | None = None,
    params: ModelParams | None = None,
    settings: TierSettings | None = None,
    simulations: int = DEFAULT_SESSIONS,
    viewers: float | None = None,
    followers: int | None = None,
) -> Forecast:
    """Month to date and the projected month ``YYYY-MM`` as seen at the end of day ``as_of``.

    Only sessions that started on or before ``as_of`` are used, for the month to date and for the
    calibration, so a forecast can be replayed for any past day. Days after ``as_of`` (and in the
    month) are simulated; for a month that is over, the projection is the month itself.
    """
    _check_simulations(simulations)
    first, last = parse_month(month)
    card = card or load_rate_card()
    settings = settings or TierSettings()
    known = _known_until(history, as_of)
    cutoff = min(as_of, last)
    last_seen = max(s.day for s in known.sessions)
    cal = calibrate(known, rng=rng, params=params, viewers=viewers, followers=followers,
                    last_day=max(cutoff, last_seen))
    mtd = month_to_date(known.between(first, cutoff), card, settings.active_day_minutes)
    remaining = (last - max(cutoff, first - dt.timedelta(days=1))).days
    rest = _simulate_rest(cal, _DayTemplates.of(cal, known.sessions), remaining,
                          settings.active_day_minutes, rng, simulations)
    end = _MonthEnd.of(mtd, rest)
    bands = _Bands.of(end, card)
    return Forecast(
        month=f"{first.year:04d}-{first.month:02d}",
        as_of=as_of,
        host=history.host,
        days_in_month=last.day,
        days_remaining=remaining,
        month_to_date=mtd,
        coins=bands.coins,
        creator_usd=bands.creator_usd,
        diamonds=bands.diamonds,
        hours=bands.hours,
        active_days=bands.active_days,
        sessions=bands.sessions,
        tiers=_all_tier_odds(settings.tiers, mtd, end, card),
        active_day_minutes=settings.active_day_minutes,
        tier_source=settings.source,
        calibration=cal,
        rate_card=card.name,
        simulations=simulations,
    )


def today_utc() -> dt.date:
    """Today's UTC date (the CLI's default ``as_of``; the library never reads the clock)."""
    return utc_day(int(dt.datetime.now(dt.UTC).timestamp() * 1000))

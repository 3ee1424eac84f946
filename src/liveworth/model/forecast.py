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

Agency tiers — monthly thresholds on diamonds, active days and LIVE hours — are those of
:mod:`liveworth.analysis.tiers`, the same format, rule and placeholder defaults as ``roster``
(an active day has at least ``active_day_minutes`` of LIVE, default 60). Their real values differ
by agency, region and programme and are not public; the defaults are *assumptions* to be
replaced with a TOML file (:func:`load_tiers`). Days are UTC calendar days; a session counts
whole on the day it starts.

**Scaled LIVE rewards** (a card with missions, preset ``us-scaled``): each recorded session's
coins earn its own missions rate (:mod:`liveworth.analysis.rewards`; ``new_followers`` per room,
the weeks UTC Monday to Sunday counted from the sessions known by ``as_of``) and the weekly
missions' credit is added per week (``MonthToDate.weekly_creator_usd``). The simulated rest of the
month earns the recorded sessions' coin-weighted full rate (own + weekly), rounded to four places
— an assumption: the simulation repeats the creator's own LIVE days, not their missions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from liveworth.analysis.tiers import DEFAULT_ACTIVE_DAY_MINUTES as DEFAULT_ACTIVE_DAY_MINUTES
from liveworth.analysis.tiers import DEFAULT_TIERS as DEFAULT_TIERS
from liveworth.analysis.tiers import (
    TOLERANCE,
    active_days,
    check_active_day_minutes,
    check_tiers,
    highest_reached,
    is_active_day,
)
from liveworth.analysis.tiers import Tier as Tier
from liveworth.analysis.tiers import TierSettings as TierSettings
from liveworth.analysis.tiers import load_tiers as load_tiers
from liveworth.economy.missions import Missions, at_rate
from liveworth.economy.money import creator_usd, earnings, fmt
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import UsageError
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

_MONTH = re.compile(r"(\d{4})-(\d{2})")


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
    #: us-scaled: the weekly missions' credit on these sessions' coins (not in creator_usd).
    weekly_creator_usd: Decimal = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "coins": self.coins,
                "creator_usd": fmt(self.creator_usd),
                "weekly_creator_usd": fmt(self.weekly_creator_usd),
                "viewer_usd": fmt(self.viewer_usd),
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
    """A tier, whether the month to date reaches it, and the odds the month ends on it."""

    tier: Tier
    reached: bool
    odds: float

    def as_dict(self) -> dict[str, Any]:
        return {**self.tier.as_dict(), "reached": self.reached, "odds": round(self.odds, 4)}


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
    #: us-scaled: the rate the simulated rest of the month earns (None under other cards).
    rest_reward_rate: Decimal | None = None

    @property
    def tier_reached(self) -> str | None:
        """The highest tier the month to date reaches (as ``roster``'s "tier now")."""
        m = self.month_to_date
        best = highest_reached([o.tier for o in self.tiers], m.diamonds, m.active_days, m.hours)
        return None if best is None else best.name

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
            "tier_reached": self.tier_reached,
            "active_day_minutes": self.active_day_minutes,
            "tier_source": self.tier_source,
            "calibration": self.calibration.as_dict(),
            "rate_card": self.rate_card,
            "simulations": self.simulations,
            **({} if self.rest_reward_rate is None else {
                "rest_reward_rate": fmt(self.rest_reward_rate)}),
        }


# ------------------------------------------------------------------------------ the forecast


def _days(sessions: Sequence[HistorySession]) -> dict[dt.date, list[HistorySession]]:
    out: dict[dt.date, list[HistorySession]] = {}
    for s in sessions:
        out.setdefault(s.day, []).append(s)
    return out


def month_to_date(sessions: Sequence[HistorySession], card: RateCard,
                  active_day_minutes: float,
                  rates: Mapping[str, Missions] | None = None) -> MonthToDate:
    """Exact totals of ``sessions``: coins summed, then money once (exact decimals); with
    ``rates`` (room → missions, us-scaled) each session's coins at its own rate, and the weekly
    credit apart."""
    coins = sum(s.coins for s in sessions)
    money = earnings(coins, card)
    creator, weekly = money.creator_usd, Decimal(0)
    if rates is not None:
        creator = sum((creator_usd(s.coins, at_rate(card, rates[s.room_id].reward_rate))
                       for s in sessions), Decimal(0))
        weekly = sum((creator_usd(s.coins, at_rate(card, rates[s.room_id].weekly_rate))
                      for s in sessions), Decimal(0))
    days = _days(sessions)
    return MonthToDate(
        sessions=len(sessions), coins=coins, creator_usd=creator,
        viewer_usd=money.viewer_usd, diamonds=money.diamonds,
        hours=sum(s.minutes for s in sessions) / 60,
        active_days=active_days([(s.day, s.minutes) for s in sessions], active_day_minutes),
        live_days=len(days), weekly_creator_usd=weekly,
    )


def session_missions(card: RateCard, history: History,
                     new_followers: Mapping[str, int] | None) -> dict[str, Missions] | None:
    """Every session's missions under ``card`` (None without missions): the weeks (UTC) counted
    from ``history``'s sessions; a session's span is its start plus its minutes."""
    from liveworth.analysis.rewards import SessionSpan, session_rates

    follows = new_followers or {}
    return session_rates(card, (SessionSpan(s.room_id, history.host or "", s.start_ts,
                                            s.start_ts + round(s.minutes * 60_000),
                                            follows.get(s.room_id, 0))
                                for s in history.sessions))


def rest_rate(sessions: Sequence[HistorySession], rates: Mapping[str, Missions]) -> Decimal:
    """The recorded sessions' coin-weighted full rate (own + weekly), to four places (their
    plain mean without coins)."""
    coins = sum(s.coins for s in sessions)
    if coins:
        rate = sum((s.coins * rates[s.room_id].full_rate for s in sessions), Decimal(0)) / coins
    else:
        rate = sum((rates[s.room_id].full_rate for s in sessions), Decimal(0)) / len(sessions)
    return rate.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


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
    active_template = np.array([is_active_day(float(m), active_day_minutes)
                                for m in days.minutes], dtype=bool)

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


def _coins_for_diamonds(diamonds: int, card: RateCard) -> int | None:
    """The fewest coins that credit ``diamonds`` diamonds (None: no coins ever do)."""
    if diamonds <= 0:
        return 0
    if card.diamonds_per_coin <= 0:
        return None
    return int((Decimal(diamonds) / card.diamonds_per_coin).to_integral_value(ROUND_CEILING))


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
    def of(cls, end: _MonthEnd, card: RateCard, mtd: MonthToDate | None = None,
           rest: Decimal | None = None) -> _Bands:
        """With ``rest`` (us-scaled): the month to date's exact money plus the rest's coins at
        that rate."""
        coin_band = _band(end.coins)
        money = [earnings(int(c), card) for c in coin_band]
        usd = [m.creator_usd for m in money]
        if rest is not None and mtd is not None:
            usd = [mtd.creator_usd + mtd.weekly_creator_usd + creator_usd(
                max(int(c) - mtd.coins, 0), at_rate(card, rest)) for c in coin_band]
        usd_band = (usd[0], usd[1], usd[2])
        return cls(
            coins=Band(coin_band),
            creator_usd=Band(usd_band),
            diamonds=Band((money[0].diamonds, money[1].diamonds, money[2].diamonds)),
            hours=Band(_band(end.hours)),
            active_days=Band(_band(end.active_days)),
            sessions=Band(_band(end.sessions)),
        )


def _tier_odds(t: Tier, mtd: MonthToDate, end: _MonthEnd, card: RateCard) -> TierOdds:
    """Whether the month to date reaches ``t`` (:meth:`Tier.reached`, the rule ``roster``
    uses) and the share of simulated month ends that do, every threshold of the tier at once."""
    reached = t.reached(mtd.diamonds, mtd.active_days, mtd.hours)
    need = _coins_for_diamonds(t.diamonds, card)  # coins >= need <=> diamonds >= t.diamonds
    if need is None:
        return TierOdds(t, reached, 1.0 if reached else 0.0)
    ends = (end.coins >= need) & (end.active_days >= t.active_days) \
        & (end.hours + TOLERANCE >= t.hours)
    return TierOdds(t, reached, 1.0 if reached else float(np.mean(ends)))


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
    new_followers: Mapping[str, int] | None = None,
) -> Forecast:
    """Month to date and the projected month ``YYYY-MM`` as seen at the end of day ``as_of``.

    Only sessions that started on or before ``as_of`` are used, for the month to date and for the
    calibration, so a forecast can be replayed for any past day. Days after ``as_of`` (and in the
    month) are simulated; for a month that is over, the projection is the month itself.
    ``new_followers`` (room → count) feeds a card's missions (module docstring)."""
    _check_simulations(simulations)
    first, last = parse_month(month)
    card = card or load_rate_card()
    settings = settings or TierSettings()
    tiers = check_tiers(settings.tiers) if settings.tiers else ()
    minutes = check_active_day_minutes(settings.active_day_minutes)
    known = _known_until(history, as_of)
    cutoff = min(as_of, last)
    last_seen = max(s.day for s in known.sessions)
    cal = calibrate(known, rng=rng, params=params, viewers=viewers, followers=followers,
                    last_day=max(cutoff, last_seen))
    rates = session_missions(card, known, new_followers)
    mtd = month_to_date(known.between(first, cutoff), card, minutes, rates)
    rest_at = None if rates is None else rest_rate(known.sessions, rates)
    remaining = (last - max(cutoff, first - dt.timedelta(days=1))).days
    rest = _simulate_rest(cal, _DayTemplates.of(cal, known.sessions), remaining,
                          minutes, rng, simulations)
    end = _MonthEnd.of(mtd, rest)
    bands = _Bands.of(end, card, mtd, rest_at)
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
        tiers=tuple(_tier_odds(t, mtd, end, card) for t in tiers),
        active_day_minutes=minutes,
        tier_source=settings.source,
        calibration=cal,
        rate_card=card.name,
        simulations=simulations,
        rest_reward_rate=rest_at,
    )


def today_utc() -> dt.date:
    """Today's UTC date (the CLI's default ``as_of``; the library never reads the clock)."""
    return utc_day(int(dt.datetime.now(dt.UTC).timestamp() * 1000))

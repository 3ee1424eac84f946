"""Response models of a creator's home (``/api/creators/{host}``: ``CreatorHome.as_dict()``) and
of the creators' index (``/api/creators``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from liveworth.web.models import GifterStatsOut, Usd, _Open


class MonthToDateOut(_Open):
    """The month of ``as_of`` so far (UTC days), exact: what ``liveworth forecast`` calls the
    month to date. USD is what the creator receives (``viewer_usd``: what viewers paid)."""

    month: str
    sessions: int
    coins: int
    creator_usd: Usd
    viewer_usd: Usd
    diamonds: Usd
    hours: float
    active_days: int
    live_days: int


class HomeForecastOut(_Open):
    """Where the month is heading: p10 / p50 / p90 of seeded simulated months, the tiers' odds."""

    month: str
    days: dict[str, int]
    projection: dict[str, dict[str, Any]] = Field(
        description="creator_usd, coins, diamonds, hours, active_days, sessions: p10, p50, p90")
    tiers: list[dict[str, Any]]
    tier_reached: str | None
    calibration: dict[str, Any]
    simulations: int
    seed: int


class LastSessionOut(_Open):
    room_id: str
    start_ts: int
    minutes: float
    coins: int
    creator_usd: Usd
    peak_viewers: int | None
    gifters: int


class TrendPointOut(_Open):
    room_id: str
    start_ts: int
    date: str
    minutes: float
    coins: int
    creator_usd: Usd
    usd_per_hour: Usd | None


class TrendOut(_Open):
    """Every session of the ``days`` days up to ``as_of``: the points add up to the totals."""

    days: int
    sessions: int
    creator_usd: Usd
    hours: float
    usd_per_hour: Usd | None
    points: list[TrendPointOut]


class TopGiftersOut(_Open):
    """Gifts credited in the ``days`` days up to the end of ``as_of`` (``gifters --window 30d``)."""

    days: int
    gifters: list[GifterStatsOut]


class GoalOut(_Open):
    kind: str = Field(description="usd (a month goal in creator USD) or tier (the next tier)")
    label: str
    share: float
    reached: bool
    odds: float | None
    parts: list[dict[str, Any]]


class CreatorHomeOut(_Open):
    """A creator's home as of the end of day ``as_of``."""

    host: str
    as_of: str
    tz: str
    rate_card: str
    sessions: int
    month_to_date: MonthToDateOut | None
    forecast: HomeForecastOut | None
    forecast_note: str | None
    last_session: LastSessionOut | None
    trend: TrendOut
    top_gifters: TopGiftersOut
    alerts: list[dict[str, Any]]
    goal: GoalOut | None


class CreatorMonthOut(_Open):
    """One creator on the index: the month of ``as_of`` so far (UTC), exact."""

    host: str
    sessions: int
    last_ts: int | None
    month_sessions: int
    month_coins: int
    month_creator_usd: Usd

"""Response models of the daily brief (``/api/brief``): ``Brief.as_dict()``, what
``liveworth brief --json`` prints (kept apart from :mod:`liveworth.web.models` for its size)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from liveworth.web.models import PaceOut, Usd, _Open


class BriefCreatorOut(_Open):
    """One creator's brief's day (``CreatorDay.as_dict()``): counted, adjusted and total apart;
    the averages, change and pace on the totals; USD is what the creator receives."""

    host: str | None
    sessions: int
    hours: float
    coins: int = Field(description="counted coins of the day's sessions")
    adjusted_coins: int
    total_coins: int
    creator_usd: Usd = Field(description="the creator's USD of the counted coins")
    adjusted_creator_usd: Usd
    total_creator_usd: Usd
    avg_7d_usd: Usd = Field(description="total creator USD of the 7 days before, / 7")
    avg_28d_usd: Usd = Field(description="total creator USD of the 28 days before, / 28")
    change_7d_pct: float | None = Field(description="the day against avg_7d_usd; null when "
                                        "that is 0")
    change_28d_pct: float | None
    change_usd: Usd
    last_live: str | None
    days_dark: int | None
    tier_pace: PaceOut | None


class BriefMoverOut(_Open):
    host: str | None
    total_creator_usd: Usd
    avg_7d_usd: Usd
    change_usd: Usd
    change_7d_pct: float | None


class BriefMoversOut(_Open):
    rises: list[BriefMoverOut]
    falls: list[BriefMoverOut]


class BriefDarkOut(_Open):
    host: str | None
    last_live: str | None
    last_room_id: str | None
    days_dark: int | None


class BriefAlertOut(_Open):
    """A stored alert of the day (a row of the ``alerts`` table)."""

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


class BriefOut(_Open):
    """The agency's daily brief (``Brief.as_dict()``, what ``liveworth brief --json`` prints)."""

    date: str = Field(description="the day the brief covers (the day before as_of)")
    as_of: str
    tz: str
    rate_card: str
    whose_money: str
    averages: str
    dark_days: int
    creators: list[BriefCreatorOut]
    totals: dict[str, Any]
    movers: BriefMoversOut
    went_dark: list[BriefDarkOut]
    alerts: list[BriefAlertOut]
    tiers_note: str

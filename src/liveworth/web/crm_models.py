"""Response models of the gifter CRM's JSON twins: the leaderboard's rows (``/api/gifters``), one
gifter (``/api/gifters/{host}/{user_id}``) and the credits (``/api/overlay/{host}/credits``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from liveworth.web.models import GifterStatsOut


class GifterNoteOut(BaseModel):
    host: str
    note: str
    added_at: str


class GifterNameOut(BaseModel):
    user: str
    nickname: str
    first_ts: int
    last_ts: int
    first_seen: str
    last_seen: str


class GifterRowOut(GifterStatsOut):
    """One row of the leaderboard of a window (``BoardRow.as_dict()``, ``gifters --json``): the
    gifter's figures in the window and what the CRM knows of them (docs/CRM.md)."""

    tags: list[str] = Field(description="CRM tags with the host (every host's without one)")
    notes: list[GifterNoteOut]
    names: list[GifterNameOut] = Field(description="every user name / nickname they went by")
    gifting_sessions: int = Field(description="sessions with a gift up to the as-of time")
    usual_gap_days: float | None = Field(description="median days between gifting sessions")
    days_since_last_gift: float | None
    overdue: bool = Field(description="a regular (3+ gifting sessions) whose days since the "
                          "last gift > max(2 x usual gap, usual gap + 7)")


class GifterSessionOut(BaseModel):
    room_id: str
    start_ts: int
    coins: int
    gifts: int


class GifterCardOut(GifterRowOut):
    """One gifter of one creator (``GifterCard.as_dict()``, ``liveworth gifter --json``)."""

    host: str
    name: str = Field(description="the name they go by now")
    of_gifters: int = Field(description="gifters of this creator in all")
    forgotten: bool = Field(description="pseudonymized with `gifter --forget`")
    gift_sessions: list[GifterSessionOut]


class CreditsGifterOut(BaseModel):
    rank: int
    user_id: str | None
    name: str
    coins: int = Field(description="coins to the host in this session (viewer spend)")
    coins_display: str


class CreditsOut(BaseModel):
    """The rolling credits: the host's current or latest session's gifters, biggest first."""

    host: str
    room_id: str | None
    start_ts: int | None
    as_of_ts: int
    coins: int = Field(description="the session's coins to the host")
    gifters_total: int
    gifters: list[CreditsGifterOut]

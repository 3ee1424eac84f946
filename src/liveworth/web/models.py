"""Response models of the JSON routes: they describe ``/openapi.json``.

Money is a decimal string of dollars (never a binary float); coins are integers. Each model
mirrors the ``as_dict()`` of the library result it carries, and the tests pin that they agree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liveworth.web.estimator import MAX_WEB_SESSIONS, WEB_SESSIONS

Usd = str  # a decimal string of US dollars, e.g. "0.385"


class SessionRowOut(BaseModel):
    """One session (room) in the list."""

    room_id: str
    host: str | None
    start_ts: int = Field(description="start, ms since the epoch")
    end_ts: int = Field(description="end (or last event), ms since the epoch")
    duration_s: float
    coins: int = Field(description="coins credited to the host")
    coins_unconfirmed: int
    creator_usd: Usd = Field(description="what the creator receives, USD (decimal string)")
    unique_gifters: int
    events: int


class GifterOut(BaseModel):
    user_id: str
    user: str
    nickname: str
    coins: int
    gifts: int


class TierOut(BaseModel):
    tier: str
    gifts: int
    coins: int


class MinuteCoinsOut(BaseModel):
    minute: int
    coins: int


class MinuteViewersOut(BaseModel):
    minute: int
    viewers: float


class SessionReportOut(BaseModel):
    """One session's earnings report (``SessionReport.as_dict()``)."""

    room_id: str
    host: str | None
    host_id: str | None
    start_ts: int
    end_ts: int
    duration_s: float
    coins: int
    coins_confirmed: int
    coins_unconfirmed: int
    diamonds: str
    viewer_usd: Usd = Field(description="what viewers paid, USD")
    creator_usd: Usd = Field(description="what the creator receives, USD")
    platform_usd: Usd = Field(description="what TikTok and the app stores kept, USD")
    take_home_usd: Usd
    channel: str
    rate_card: str
    gift_count: int
    gift_sends: int
    unique_gifters: int
    top_gifters: list[GifterOut]
    top_gifter_share: float
    top_10pct_share: float
    tiers: list[TierOut]
    coins_per_minute: list[MinuteCoinsOut]
    viewers_per_minute: list[MinuteViewersOut]
    peak_viewers: int | None
    avg_viewers: float | None
    engagement: dict[str, int]
    engagement_per_minute: dict[str, float]
    coins_per_1000_viewer_minutes: float | None
    guest_coins: int
    unconfirmed_streaks: int
    events: int
    flags: list[dict[str, Any]]


class LiveGifterOut(BaseModel):
    user_id: str
    user: str
    nickname: str
    name: str = Field(description="nickname, else user name, else user id")
    coins: int
    coins_display: str


class LiveGiftOut(BaseModel):
    ts: int
    user: str
    nickname: str
    name: str
    gift_name: str
    repeat_count: int
    coins: int
    confirmed: bool


class LiveDisplayOut(BaseModel):
    """The figures formatted for people, as the pages show them."""

    coins: str
    creator_usd: str
    viewer_usd: str
    viewers: str
    peak_viewers: str
    gifters: str
    status: str


class LiveStateOut(BaseModel):
    """A host's current or latest LIVE so far."""

    host: str
    status: str = Field(description="none (no session of this host yet), live, idle (no "
                        "live_end but nothing recorded for 10 minutes) or ended")
    room_id: str | None
    start_ts: int | None
    last_ts: int | None
    coins: int
    coins_unconfirmed: int
    diamonds: str
    creator_usd: Usd
    viewer_usd: Usd
    channel: str
    rate_card: str
    viewers: int | None = Field(description="latest concurrent viewers")
    peak_viewers: int | None
    gifters: int
    top_gifters: list[LiveGifterOut]
    recent_gifts: list[LiveGiftOut]
    display: LiveDisplayOut


class HistogramBinOut(BaseModel):
    coins_from: int
    coins_to: int
    creator_usd_from: Usd
    creator_usd_to: Usd
    share: float = Field(description="share of simulated sessions in [coins_from, coins_to)")


class EstimateOut(BaseModel):
    """An earnings estimate (``Estimate.as_dict()`` of liveworth.estimate) with its seed and the
    histogram of simulated sessions."""

    model_config = ConfigDict(extra="allow")

    per_session: dict[str, Any]
    per_month: dict[str, Any]
    tier: str
    inputs: dict[str, Any]
    seed: int
    histogram: list[HistogramBinOut]


class ErrorOut(BaseModel):
    detail: str


class EstimateParams(BaseModel):
    """The estimator's inputs: the query of ``/api/estimate`` and the fields of ``/estimate``."""

    followers: int = Field(ge=0, le=10**10, description="followers of the creator")
    viewers: float | None = Field(None, ge=0, le=10**8,
                                  description="typical concurrent viewers, if known")
    minutes: float = Field(60.0, ge=1, le=1440, description="session length in minutes")
    per_week: float = Field(3.0, ge=0, le=50, description="sessions a week")
    engagement: float = Field(1.0, gt=0, le=100,
                              description="chat and likes per viewer; 1 = a typical LIVE")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed (same seed, same answer)")
    sessions: int = Field(WEB_SESSIONS, ge=100, le=MAX_WEB_SESSIONS,
                          description="simulated sessions")

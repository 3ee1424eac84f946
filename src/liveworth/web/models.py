"""Response models of the JSON routes: they describe ``/openapi.json``.

Money is a decimal string of dollars (never a binary float); coins are integers. Each model
mirrors the ``as_dict()`` of the library result it carries, and the tests pin that they agree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liveworth.web.subscription_models import SubscriptionsOut

Usd = str  # a decimal string of US dollars, e.g. "0.385"


class SessionRowOut(BaseModel):
    """One session (room) in the list."""

    room_id: str
    host: str | None
    start_ts: int = Field(description="start, ms since the epoch")
    end_ts: int = Field(description="end (or last event), ms since the epoch")
    duration_s: float
    coins: int = Field(description="coins credited to the host (counted)")
    coins_unconfirmed: int
    adjusted_coins: int = Field(description="manual adjustments not undone (liveworth adjust)")
    total_coins: int = Field(description="counted + adjusted")
    creator_usd: Usd = Field(description="what the creator receives for the counted coins, "
                             "USD (decimal string)")
    adjusted_creator_usd: Usd = Field(description="the creator's USD of the adjusted coins")
    total_creator_usd: Usd = Field(description="counted + adjusted, USD")
    viewer_usd: Usd = Field(description="what viewers paid for the counted coins, on the coin "
                            "channel (channel)")
    channel: str = Field(description="the coin channel viewers' money is priced on")
    unique_gifters: int
    events: int


class AdjustmentOut(BaseModel):
    """One manual adjustment (``Adjustment.as_dict()``); undone ones stay listed."""

    id: int
    room_id: str
    coins: int = Field(description="coins added (negative: taken away) by hand")
    reason: str
    user_id: str | None
    made_by: str | None
    made_at: str
    undone_at: str | None
    undone_by: str | None
    active: bool = Field(description="counted in adjusted_coins (not undone)")


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


class MinutePeakOut(BaseModel):
    minute: int
    viewers: int


class MissionOut(BaseModel):
    """One Scaled LIVE rewards mission of a LIVE (liveworth.economy.missions)."""

    mission: str
    kind: str = Field(description="per-LIVE, weekly (credited Monday) or violation")
    met: bool
    contribution: str = Field(description="what it adds to the reward rate (a share)")
    progress: str
    missing: str | None


class SessionReportOut(BaseModel):
    """One session's earnings report (``SessionReport.as_dict()``). Under ``serve --preset
    us-scaled`` it also has the Scaled LIVE rewards keys ``reward_rate``, ``violation_cut``,
    ``new_followers``, ``missions`` (as :class:`MissionOut`) and ``weekly`` (docs/RATES.md)."""

    model_config = ConfigDict(extra="allow")  # the us-scaled keys, present only under it

    room_id: str
    host: str | None
    host_id: str | None
    start_ts: int
    end_ts: int
    duration_s: float
    coins: int = Field(description="counted coins (the ledger's), as counted_coins")
    counted_coins: int
    adjusted_coins: int = Field(description="manual adjustments not undone")
    total_coins: int = Field(description="counted + adjusted")
    adjustments: list[AdjustmentOut]
    coins_confirmed: int
    coins_unconfirmed: int
    diamonds: str
    viewer_usd: Usd = Field(description="what viewers paid for the counted coins, USD")
    creator_usd: Usd = Field(description="what the creator receives for the counted coins, USD")
    platform_usd: Usd = Field(description="what TikTok and the app stores kept, USD")
    take_home_usd: Usd
    adjusted_creator_usd: Usd = Field(description="the creator's USD of the adjusted coins")
    total_creator_usd: Usd = Field(description="creator_usd + adjusted_creator_usd")
    channel: str
    rate_card: str
    gift_count: int
    gift_sends: int
    unique_gifters: int
    top_gifters: list[GifterOut]
    credits: list[GifterOut] = Field(description="every gifter of the session, biggest first")
    top_gifter_share: float
    top_10pct_share: float
    tiers: list[TierOut]
    coins_per_minute: list[MinuteCoinsOut]
    viewers_per_minute: list[MinuteViewersOut] = Field(description="each minute's mean count")
    viewers_peak_per_minute: list[MinutePeakOut] = Field(
        description="each minute's peak count (the charts'; its maximum is peak_viewers)")
    peak_viewers: int | None
    avg_viewers: float | None
    engagement: dict[str, int]
    engagement_per_minute: dict[str, float]
    coins_per_1000_viewer_minutes: float | None
    guest_coins: int
    unconfirmed_streaks: int
    events: int
    flags: list[dict[str, Any]]
    subscriptions: SubscriptionsOut | None = Field(
        None, description="the LIVE's subscriptions, apart from its gifts")


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
    missions: str = Field("", description="us-scaled: where the LIVE stands on its per-LIVE "
                          "missions ('LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new "
                          "followers'); empty under other rate cards")
    reward_rate: str = Field("", description="us-scaled: the LIVE's reward rate so far, as percent")


class AlertOut(BaseModel):
    """One fired alert (docs/ALERTS.md)."""

    kind: str = Field(description="gift, gift_spike, gifter_joined, gifter_comment, keyword or "
                      "goal")
    rule: str = Field(description="the rule's name in the alerts file")
    room_id: str
    host: str
    ts: int = Field(description="event time of what fired it (ms since the epoch, UTC)")
    text: str
    user_id: str | None
    who: str | None
    key: str = Field(description="what fired it, within the rule and room (a message id, "
                     "joined:USER_ID or goal): the alert's identity")
    detail: dict[str, Any] = Field(description="the kind's figures (coins, baseline, word...)")


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
    alerts: list[AlertOut] = Field(description="the LIVE's latest alerts, newest first (as "
                                   "many as recent)")
    reward_rate: str | None = Field(None, description="us-scaled: the LIVE's reward rate so far "
                                    "from its missions (the money is at it); else null")
    missions: list[MissionOut] | None = Field(None, description="us-scaled: the LIVE's missions "
                                              "so far; else null")
    display: LiveDisplayOut


class HistogramBinOut(BaseModel):
    coins_from: int
    coins_to: int
    creator_usd_from: Usd
    creator_usd_to: Usd
    share: float = Field(description="share of simulated sessions in [coins_from, coins_to)")


class EstimateOut(BaseModel):
    """An earnings estimate (``Estimate.as_dict()`` of liveworth.model.estimate) with its seed and
    the histogram of simulated sessions."""

    model_config = ConfigDict(extra="allow")

    per_session: dict[str, Any]
    per_month: dict[str, Any]
    tier: str
    inputs: dict[str, Any]
    seed: int
    histogram: list[HistogramBinOut]


class _Open(BaseModel):
    """A record that may grow fields: the library's ``as_dict()`` is the contract, these models
    describe what it holds at least."""

    model_config = ConfigDict(extra="allow")


class AnalysisTotalsOut(_Open):
    sessions: int
    hours: float
    coins: int = Field(description="counted coins (everything in the analysis is counted)")
    adjusted_coins: int = Field(description="manual adjustments not undone, shown apart")
    total_coins: int = Field(description="counted + adjusted")
    creator_usd: Usd
    adjusted_creator_usd: Usd
    total_creator_usd: Usd
    viewer_usd: Usd = Field(description="what viewers paid for the counted coins, on the coin "
                            "channel (channel)")
    channel: str
    usd_per_session: Usd
    usd_per_hour: Usd | None


class AnalysisSessionOut(_Open):
    """One session of the analysis (``SessionStats.as_dict()``)."""

    room_id: str
    host: str | None
    start_ts: int
    end_ts: int
    start: str = Field(description="local start time (ISO 8601, in the analysis' time zone)")
    start_hour: int
    weekday: str
    daypart: str
    week: str
    minutes: float
    coins: int
    coins_unconfirmed: int
    diamonds: str
    creator_usd: Usd
    avg_viewers: float | None
    peak_viewers: int | None
    gifters: int
    new_gifters: int
    returning_gifters: int
    days_since_previous: float | None


class WeekOut(_Open):
    week: str = Field(description="the week's Monday")
    sessions: int
    hours: float
    coins: int
    creator_usd: Usd
    usd_per_session: Usd
    usd_per_hour: Usd | None
    top1_share: float
    top5_share: float


class DriverOut(_Open):
    """One lever's effect on a session's expected coins (null when it could not be measured)."""

    name: str
    label: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    unit: str = Field(description="elasticity, % coins, % coins per day or % coins per gifter")
    n: int = Field(description="sessions behind the estimate")
    controls: list[str]
    significant: bool
    note: str = Field(description="why there is no number (e.g. 'too few sessions: …')")


class ElasticityOut(_Open):
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    note: str


class WhaleDependenceOut(_Open):
    coins: int
    gifters: int
    n: int
    top1_share: float
    top5_share: float
    median_session_top1_share: float | None
    first_half_top5_share: float | None
    second_half_top5_share: float | None
    trend_top5_per_30_days: float | None
    trend_ci_low: float | None
    trend_ci_high: float | None
    note: str


class GifterStatsOut(_Open):
    """One gifter across sessions (``GifterStats.as_dict()``)."""

    rank: int
    user_id: str | None
    user: str
    nickname: str
    coins: int
    creator_usd: Usd
    viewer_usd: Usd = Field(description="what the gifter paid for their coins (the rate card's "
                            "coin channel)")
    share: float = Field(description="share of the selected sessions' coins")
    sessions: int = Field(description="sessions with a gift from this gifter")
    returning: bool = Field(description="gave in more than one session")
    gifts: int
    sends: int
    first_ts: int
    last_ts: int
    first_room_id: str
    last_room_id: str


class LoyaltyOut(_Open):
    gifters: int
    returning: int
    returning_coin_share: float
    sessions: int
    new_per_session: float
    returning_per_session: float


class ExpectedOut(_Open):
    """What following a recommendation is expected to make per session (creator USD)."""

    change: str
    step: float = Field(description="the lever's change the advice asks for: 0.2 = 20 % more, "
                        "-0.2 = 20 % less, 1 / -1 = a day more / less between LIVEs")
    pct: float
    pct_low: float
    pct_high: float
    usd_per_session: Usd
    usd_low: Usd
    usd_high: Usd


class RecommendationOut(_Open):
    strategy: str
    lever: str
    status: str = Field(description="measured, unclear, too few sessions or not measurable")
    direction: str | None = Field(description="more or less of the lever, as the advice asks "
                                  "(null without a measured direction)")
    advice: str
    evidence: str
    expected: ExpectedOut | None


class RiskOut(_Open):
    """What the creator's money rests on (a top gifter, whale dependence), as recorded."""

    name: str
    level: str = Field(description="high, moderate or low")
    what: str
    coin_share: float | None
    creator_usd_per_session: Usd | None
    evidence: str


class HeatCellOut(BaseModel):
    """One weekday and local hour of the analysis's heatmap."""

    hours_live: float = Field(description="hours live in that local hour")
    coins: int = Field(description="coins credited to the host at a gift time in that hour")
    coins_per_hour: float | None = Field(description="coins / hours_live; null: never live then")


class BattleSpanOut(BaseModel):
    minutes: float
    coins: int = Field(description="coins credited to the host in that time")
    coins_per_minute: float | None


class BattleOpponentOut(BaseModel):
    """Every battle against one opponent (a team: several ids; 'unknown': no names sent)."""

    opponent: str
    user_ids: list[str]
    users: list[str]
    nicknames: list[str]
    battles: int
    wins: int
    losses: int
    draws: int
    unknown_result: int
    minutes: float
    coins: int
    coins_per_minute: float | None


class BattleOut(BaseModel):
    room_id: str
    battle_id: str
    start_ts: int
    end_ts: int
    minutes: float
    timing: str = Field(description="sent, end sent, planned end or updates only")
    kind: str | None
    opponent: str
    opponent_user_ids: list[str]
    result: str = Field(description="win, lose, draw or unknown (the creator's)")
    score: int | None
    opponent_score: int | None
    coins: int


class BattlesOut(BaseModel):
    """Coins during battles against outside them (together: every coin and minute live)."""

    battles: int
    sessions: int
    sessions_with_battles: int
    during: BattleSpanOut
    outside: BattleSpanOut
    during_vs_outside: float | None = Field(description="coins per minute during ÷ outside")
    results: dict[str, int] = Field(description="wins, losses, draws, unknown_result")
    opponents: list[BattleOpponentOut]
    list: list[BattleOut]


class AnalysisOut(_Open):
    """One creator's analysis across sessions (``Analysis.as_dict()``, what
    ``liveworth analyze --json`` prints)."""

    host: str | None
    since: str | None
    tz: str
    rate_card: str
    totals: AnalysisTotalsOut
    sessions: list[AnalysisSessionOut]
    trend: list[WeekOut]
    drivers: list[DriverOut]
    elasticity_viewers: ElasticityOut
    whale_dependence: WhaleDependenceOut
    top_gifters: list[GifterStatsOut]
    loyalty: LoyaltyOut
    recommendations: list[RecommendationOut]
    risks: list[RiskOut]
    notes: list[str]
    heatmap: list[list[HeatCellOut]] = Field(
        description="7 weekday rows, Monday first, of 24 hour cells (0-23) in the tz")
    heatmap_axes: dict[str, Any]
    battles: BattlesOut
    method: dict[str, Any]


class RosterTierOut(_Open):
    name: str
    diamonds: int
    active_days: int
    hours: float


class PaceOut(_Open):
    """A creator's month so far, projected linearly to its end, against the tiers."""

    days_in_period: int
    days_elapsed: int
    complete: bool
    projected_diamonds: str
    projected_active_days: int
    projected_hours: float
    tier: str | None
    projected_tier: str | None
    next_tier: str | None
    diamonds_to_next: str | None
    active_days_to_next: int | None
    hours_to_next: float | None
    diamonds_per_day_needed: str | None


class RosterRowOut(_Open):
    """One creator's period (or, with ``host`` null, the roster's total for the period)."""

    period: str
    period_start: str
    host: str | None
    creators: int
    sessions: int
    hours: float
    coins: int = Field(description="counted coins")
    adjusted_coins: int = Field(description="manual adjustments not undone")
    total_coins: int = Field(description="counted + adjusted")
    diamonds: str = Field(description="diamonds of the counted coins")
    creator_usd: Usd = Field(description="the creator's USD of the counted coins")
    adjusted_creator_usd: Usd
    total_creator_usd: Usd = Field(description="counted + adjusted")
    viewer_usd: Usd = Field(description="what viewers paid for the counted coins, on the coin "
                            "channel (channel)")
    active_days: int
    live_days: int
    pace: PaceOut | None = Field(description="on counted + adjusted diamonds")


class RosterOut(_Open):
    """The agency roll-up (``Roster.as_dict()``, what ``liveworth roster --json`` prints)."""

    period: str
    as_of: str
    tz: str
    rate_card: str
    tiers: list[RosterTierOut]
    active_day_minutes: float
    tiers_note: str
    creators: list[RosterRowOut]
    totals: list[RosterRowOut]


class ErrorOut(BaseModel):
    detail: str

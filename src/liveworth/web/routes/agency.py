"""Across creators: the gifter leaderboard (``/gifters``) and the agency roll-up (``/roster``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from liveworth.analysis.gifters import loyalty
from liveworth.analysis.roster import (
    DEFAULT_TIERS,
    PERIODS,
    Tier,
    check_tiers,
    parse_tier,
)
from liveworth.decode.formats import MAX_HOST
from liveworth.errors import UsageError
from liveworth.web.cardoptions import CardChannel, Preset, card_options
from liveworth.web.context import Ctx
from liveworth.web.crm_models import GifterRowOut
from liveworth.web.models import (
    RosterOut,
)
from liveworth.web.params import (
    BAD_SCOPE,
    NO_CREATOR,
    PAGE_ERRORS,
    PAGE_GIFTERS,
    Since,
    Tz,
    or_none,
    query_string,
    tz_or_utc,
)
from liveworth.web.routes.crm import board_of

router = APIRouter()


GifterHost = Annotated[str | None, Query(max_length=MAX_HOST + 1, description="only this creator's "
                                         "sessions (default: every creator)")]


Window = Annotated[Literal["live", "7d", "30d", "lifetime"], Query(
    description="live: the host's current or latest session; 7d, 30d: gifts in the days up to "
    "the as-of time; lifetime: every selected session")]
GifterAsOf = Annotated[str | None, Query(max_length=10, description="measure windows, gaps and "
                                         "overdue at the end of this day (YYYY-MM-DD, in tz; "
                                         "default: the latest event)")]
Overdue = Annotated[bool, Query(description="only overdue regulars (the churn watch list; "
                                "lifetime only)")]


@router.get("/gifters", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the gifter leaderboard across sessions")
def gifters_page(request: Request, web: Ctx, host: GifterHost = None, since: Since = None,
                 tz: Tz = "UTC",
                 top: Annotated[int | None, Query(ge=1, le=100_000, description="gifters "
                                                  "listed (default "
                                                  f"{PAGE_GIFTERS})")] = None,
                 window: Window = "lifetime", as_of: GifterAsOf = None,
                 overdue: Overdue = False, preset: Preset = None,
                 channel: CardChannel = None) -> HTMLResponse:
    host, since, tz, as_of = or_none(host), or_none(since), tz_or_utc(tz), or_none(as_of)
    preset, channel = or_none(preset), or_none(channel)

    def build() -> HTMLResponse:
        b = board_of(web, host=host, since=since, tz=tz, window=window, as_of=as_of,
                     overdue=overdue, preset=preset, channel=channel)
        rows = list(b.rows)
        loyal = loyalty([r.stats for r in rows], b.sessions)
        rest = {"host": host, "since": since, "tz": None if tz == "UTC" else tz, "as_of": as_of,
                "preset": preset, "channel": channel}
        return web.page(request, "gifters.html", title="Gifters", board=rows, b=b,
                        shown=rows[:top or PAGE_GIFTERS], loyal=loyal, host=host or "",
                        since=since or "", tz=tz, window=window, as_of=as_of or "",
                        overdue=overdue, hosts={s.room_id: s.host for s in b.sessions},
                        **card_options(request, web, preset, channel),
                        windows=[(w, "/gifters" + query_string(**rest, window=w))
                                 for w in ("live", "7d", "30d", "lifetime")],
                        overdue_url="/gifters" + query_string(**rest, overdue="true"),
                        json_url="/api/gifters" + query_string(
                            **rest, top=top, window=None if window == "lifetime" else window,
                            overdue="true" if overdue else None))

    return web.cached_page(request, build)


@router.get("/api/gifters", response_model=list[GifterRowOut], tags=["api"],
            summary="The gifter leaderboard, biggest first (liveworth gifters --json)",
            responses=NO_CREATOR)
def gifters_api(web: Ctx, host: GifterHost = None, since: Since = None, tz: Tz = "UTC",
                top: Annotated[int | None, Query(ge=1, le=100_000, description="only the top "
                                                 "N (default: everyone)")] = None,
                window: Window = "lifetime", as_of: GifterAsOf = None,
                overdue: Overdue = False, preset: Preset = None,
                channel: CardChannel = None) -> list[dict[str, Any]]:
    b = board_of(web, host=or_none(host), since=or_none(since), tz=tz_or_utc(tz),
                 window=window, as_of=or_none(as_of), overdue=overdue, preset=or_none(preset),
                 channel=or_none(channel))
    return [r.as_dict() for r in (b.rows if top is None else b.rows[:top])]


Period = Annotated[Literal["month", "week"], Query(description="roll-up period")]
AsOf = Annotated[str | None, Query(max_length=10, description="measure the pace on this day "
                                   "(YYYY-MM-DD; default: today in tz)")]
TierSpec = Annotated[list[str] | None, Query(
    max_length=20, description="a monthly tier threshold NAME:DIAMONDS[:DAYS[:HOURS]] "
    "(repeatable; replaces the placeholder defaults)")]


def _roster_tiers(tier: list[str] | None) -> tuple[Tier, ...]:
    if not tier:
        return DEFAULT_TIERS
    if any(len(t) > 100 for t in tier):
        raise UsageError("a tier is at most 100 characters")
    return check_tiers(parse_tier(t) for t in tier)


@router.get("/roster", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the agency roll-up per creator and month (or week), with tier pace")
def roster_page(request: Request, web: Ctx, period: Period = "month", as_of: AsOf = None,
                tz: Tz = "UTC", since: Since = None, tier: TierSpec = None,
                preset: Preset = None, channel: CardChannel = None) -> HTMLResponse:
    as_of, since, tz = or_none(as_of), or_none(since), tz_or_utc(tz)
    preset, channel = or_none(preset), or_none(channel)

    def build() -> HTMLResponse:
        r = web.roster(period, as_of, tz, since, _roster_tiers(tier), preset, channel)
        rest = {"as_of": as_of, "tz": None if tz == "UTC" else tz, "since": since, "tier": tier,
                "preset": preset, "channel": channel}
        return web.page(request, "roster.html", title="Roster", r=r,
                        **card_options(request, web, preset, channel),
                        json_url="/api/roster" + query_string(period=period, **rest),
                        other=[(p, "/roster" + query_string(period=p, **rest)) for p in PERIODS])

    return web.cached_page(request, build)


@router.get("/api/roster", response_model=RosterOut, tags=["api"],
            summary="The agency roll-up (liveworth roster --json)", responses=BAD_SCOPE)
def roster_api(web: Ctx, period: Period = "month", as_of: AsOf = None, tz: Tz = "UTC",
               since: Since = None, tier: TierSpec = None, preset: Preset = None,
               channel: CardChannel = None) -> dict[str, Any]:
    return web.roster(period, or_none(as_of), tz_or_utc(tz), or_none(since),
                      _roster_tiers(tier), or_none(preset), or_none(channel)).as_dict()

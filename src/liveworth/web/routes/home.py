"""A home per creator (``/creators/{host}``), the creators (``/`` and ``/creators``), and the
navigation's per-creator pages (``/analysis``, ``/live``) when no creator is named yet.

The home is :func:`liveworth.model.home.creator_home` as of today (in ``tz``) unless ``as_of``
says another day; its JSON twin is ``/api/creators/{host}``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from liveworth.analysis.drivers import DEFAULT_SEED
from liveworth.analysis.sessionstats import parse_since, zone
from liveworth.errors import UsageError
from liveworth.model.home import (
    GIFTER_DAYS,
    TREND_DAYS,
    CreatorHome,
    CreatorMonth,
    creator_home,
    creators_index,
)
from liveworth.render.charts import trend_chart
from liveworth.store.database import Store
from liveworth.web.cardoptions import CardChannel, Preset, card_options, or_blank
from liveworth.web.context import Ctx, Web
from liveworth.web.db import NoDatabase
from liveworth.web.home_models import CreatorHomeOut, CreatorMonthOut
from liveworth.web.params import (
    BUSY,
    NO_CREATOR,
    PAGE_ERRORS,
    Host,
    Seed,
    Tz,
    or_none,
    query_string,
    tz_or_utc,
)

router = APIRouter()

AsOf = Annotated[str | None, Query(max_length=10, description="the day the home is as of "
                                   "(YYYY-MM-DD, in tz; default: today)")]
GoalUsd = Annotated[str | None, Query(max_length=20, description="a month goal in creator USD "
                                      "(default: the next agency tier)")]


def _today(tz: str) -> dt.date:
    return dt.datetime.now(zone(tz)).date()


def _as_of(text: str | None, tz: str) -> dt.date:
    return parse_since(or_none(text)) or _today(tz)


def _goal(text: str | None) -> Decimal | None:
    text = or_none(text)
    if text is None:
        return None
    try:
        value = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise UsageError(f"goal_usd: expected an amount in USD, got {text!r}") from None
    if not value.is_finite() or value <= 0 or value > 10**12:
        raise UsageError(f"goal_usd: expected an amount above 0 and at most 10^12, got {text!r}")
    return value


def home_of(web: Web, host: str, as_of: dt.date, tz: str, seed: int, goal: Decimal | None,
            preset: str | None = None, channel: str | None = None) -> CreatorHome:
    """The home of ``host`` under the rate card of ``preset`` and ``channel`` (as ``--preset``
    and ``--channel``), remembered as the other answers are (per version of the data)."""
    card = web.card_for(preset, channel)

    def compute(store: Store) -> CreatorHome:
        follows = None
        if card.missions is not None:  # us-scaled: the follow missions, as forecast
            from liveworth.analysis.rewards import new_followers

            follows = new_followers(store)
        return creator_home(store, card, host, as_of=as_of, tz=tz, seed=seed, goal_usd=goal,
                            new_followers=follows)

    try:
        return web.read(("home", host.lower(), as_of, tz, seed, goal, preset, channel), compute)
    except NoDatabase:
        from liveworth.errors import NotFoundError

        raise NotFoundError(f"no session of {host!r}: the database is empty") from None


def index_of(web: Web, as_of: dt.date, preset: str | None = None) -> list[CreatorMonth]:
    card = web.card_for(preset, None)
    try:
        return list(web.read(("creators", as_of, preset),
                             lambda s: tuple(creators_index(s, card, as_of=as_of))))
    except NoDatabase:
        return []


# ---------------------------------------------------------------------------- routes


@router.get("/", include_in_schema=False)
def home(request: Request, web: Ctx) -> Response:
    """The only creator's home; the creators when there are several; the sessions when none."""
    creators = index_of(web, _today("UTC"))
    if not creators:
        return RedirectResponse("/sessions", status_code=303)
    if len(creators) == 1:
        return RedirectResponse(f"/creators/{quote(creators[0].host, safe='')}",
                                status_code=303)
    return creators_page(request, web)


@router.get("/creators", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: every creator with this month's money")
def creators_page(request: Request, web: Ctx, as_of: AsOf = None,
                  to: Annotated[Literal["home", "analysis", "live"], Query(
                      description="which page of each creator the names link to")] = "home",
                  preset: Preset = None) -> HTMLResponse:
    day, preset = _as_of(as_of, "UTC"), or_blank(preset)

    def build() -> HTMLResponse:
        rows = index_of(web, day, preset)
        return web.page(request, "creators.html", title="Creators", rows=rows, as_of=day,
                        month=f"{day.year:04d}-{day.month:02d}", to=to, db=web.db_label,
                        json_url="/api/creators" + query_string(as_of=or_none(as_of),
                                                                preset=preset),
                        **card_options(request, web, preset, None, channels=False))

    return web.cached_page(request, build)


@router.get("/api/creators", response_model=list[CreatorMonthOut], tags=["api"],
            summary="Every creator with this month's money so far (UTC)", responses=BUSY)
def creators_api(web: Ctx, as_of: AsOf = None, preset: Preset = None) -> list[dict[str, Any]]:
    return [c.as_dict() for c in index_of(web, _as_of(as_of, "UTC"), or_blank(preset))]


def _creator_link(web: Web, page: str) -> Response:
    creators = index_of(web, _today("UTC"))
    if len(creators) == 1:
        suffix = {"analysis": "/analysis", "live": ""}[page]
        base = "/live/" if page == "live" else "/creators/"
        return RedirectResponse(f"{base}{quote(creators[0].host, safe='')}{suffix}",
                                status_code=303)
    return RedirectResponse(f"/creators?to={page}", status_code=303)


@router.get("/analysis", include_in_schema=False)
def analysis_link(web: Ctx) -> Response:
    return _creator_link(web, "analysis")


@router.get("/live", include_in_schema=False)
def live_link(web: Ctx) -> Response:
    return _creator_link(web, "live")


@router.get("/creators/{host}", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS,
            summary="Page: a creator's home — this month, its forecast, the last LIVE, the trend")
def creator_page(request: Request, web: Ctx, host: Host, as_of: AsOf = None, tz: Tz = "UTC",
                 seed: Seed = DEFAULT_SEED, goal_usd: GoalUsd = None, preset: Preset = None,
                 channel: CardChannel = None) -> HTMLResponse:
    tz, preset, channel = tz_or_utc(tz), or_blank(preset), or_blank(channel)
    day, goal = _as_of(as_of, tz), _goal(goal_usd)

    def build() -> HTMLResponse:
        h = home_of(web, host, day, tz, seed, goal, preset, channel)
        q = query_string(as_of=or_none(as_of), tz=None if tz == "UTC" else tz,
                         seed=None if seed == DEFAULT_SEED else seed, goal_usd=or_none(goal_usd),
                         preset=preset, channel=channel)
        points = [(p.start_ts, p.creator_usd, p.usd_per_hour) for p in h.trend.points]
        return web.page(
            request, "home.html", title=f"@{h.host}", h=h, host=h.host,
            json_url=f"/api/creators/{quote(h.host, safe='')}{q}",
            trend_days=TREND_DAYS, gifter_days=GIFTER_DAYS,
            trend_chart=Markup(trend_chart(points, f"creator USD per session and per hour LIVE, "
                                                   f"last {TREND_DAYS} days")),
            last_day=None if h.last is None else h.last.local_date,
            **card_options(request, web, preset, channel))

    return web.cached_page(request, build, clock_s=None if as_of else 60.0)


@router.get("/api/creators/{host}", response_model=CreatorHomeOut, tags=["api"],
            summary="A creator's home: month to date, forecast, last session, trend, top gifters",
            responses=NO_CREATOR)
def creator_api(web: Ctx, host: Host, as_of: AsOf = None, tz: Tz = "UTC",
                seed: Seed = DEFAULT_SEED, goal_usd: GoalUsd = None, preset: Preset = None,
                channel: CardChannel = None) -> dict[str, Any]:
    tz = tz_or_utc(tz)
    return home_of(web, host, _as_of(as_of, tz), tz, seed, _goal(goal_usd), or_blank(preset),
                   or_blank(channel)).as_dict()

"""Every recorded session (``/sessions``) and one session's report (``/sessions/{room_id}``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from liveworth.render.report_html import missions_html
from liveworth.web import charts
from liveworth.web.context import Ctx
from liveworth.web.models import (
    SessionReportOut,
    SessionRowOut,
)
from liveworth.web.params import (
    BUSY,
    NOT_FOUND,
    PAGE_ERRORS,
    Channel,
    Redact,
    Region,
    RoomId,
    SubBonus,
)

router = APIRouter()


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/sessions", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: every recorded session")
def sessions_page(request: Request, web: Ctx) -> HTMLResponse:
    def build() -> HTMLResponse:
        rows = web.sessions()
        return web.page(request, "sessions.html", title="Sessions", json_url="/api/sessions",
                        rows=rows, db=web.db_label)

    return web.cached_page(request, build)


@router.get("/api/sessions", response_model=list[SessionRowOut], tags=["api"],
            summary="Every recorded session, newest first", responses=BUSY)
def sessions_api(web: Ctx) -> list[dict[str, object]]:
    return [r.as_dict() for r in web.sessions()]


@router.get("/sessions/{room_id}", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS, summary="Page: one session's earnings report")
def session_page(request: Request, web: Ctx, room_id: RoomId, channel: Channel = None,
                 redact: Redact = False, region: Region = None,
                 sub_bonus: SubBonus = False) -> HTMLResponse:
    def build() -> HTMLResponse:
        rep = web.report(room_id, channel, redact, region, sub_bonus)
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in
                         (("channel", channel), ("redact", "true" if redact else None),
                          ("region", region), ("sub_bonus", "true" if sub_bonus else None))
                         if v)
        tier_points = [(i, float(c)) for i, (_, _, c) in enumerate(rep.tiers)]
        return web.page(
            request, "session.html", title=f"Session {rep.room_id}", rep=rep, m=rep.money,
            missions=Markup(missions_html(rep)),  # its own escaping, as report --html
            json_url=f"/api/sessions/{quote(room_id, safe='')}" + (f"?{query}" if query else ""),
            coins_chart=charts.bar_chart(rep.coins_per_minute, "coins per minute", "coins"),
            viewers_chart=charts.line_chart(rep.viewers_per_minute, "concurrent viewers",
                                            "viewers"),
            tiers_chart=charts.bar_chart(tier_points, "coins by tier (1-9 … 10000+)", "coins"))

    return web.cached_page(request, build)


@router.get("/api/sessions/{room_id}", response_model=SessionReportOut, tags=["api"],
            summary="One session's earnings report", responses=NOT_FOUND)
def session_api(web: Ctx, room_id: RoomId, channel: Channel = None,
                redact: Redact = False, region: Region = None,
                sub_bonus: SubBonus = False) -> dict[str, Any]:
    return web.report(room_id, channel, redact, region, sub_bonus).as_dict()

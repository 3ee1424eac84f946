"""One session's report (``/sessions/{room_id}``; the list is in :mod:`.session_list`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from liveworth.render.report_html import missions_html
from liveworth.web import charts
from liveworth.web.cardoptions import Preset, card_options, or_blank
from liveworth.web.context import Ctx
from liveworth.web.models import (
    SessionReportOut,
)
from liveworth.web.params import (
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


@router.get("/sessions/{room_id}", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS, summary="Page: one session's earnings report")
def session_page(request: Request, web: Ctx, room_id: RoomId, channel: Channel = None,
                 redact: Redact = False, region: Region = None,
                 sub_bonus: SubBonus = False, preset: Preset = None) -> HTMLResponse:
    channel, preset = or_blank(channel), or_blank(preset)

    def build() -> HTMLResponse:
        rep = web.report(room_id, channel, redact, region, sub_bonus, preset)
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in
                         (("preset", preset), ("channel", channel),
                          ("redact", "true" if redact else None),
                          ("region", region), ("sub_bonus", "true" if sub_bonus else None))
                         if v)
        return web.page(
            request, "session.html", title=f"Session {rep.room_id}", rep=rep, m=rep.money,
            missions=Markup(missions_html(rep)),  # its own escaping, as report --html
            json_url=f"/api/sessions/{quote(room_id, safe='')}" + (f"?{query}" if query else ""),
            **card_options(request, web, preset, channel),
            **charts.session_charts(rep))

    return web.cached_page(request, build)


@router.get("/api/sessions/{room_id}", response_model=SessionReportOut, tags=["api"],
            summary="One session's earnings report", responses=NOT_FOUND)
def session_api(web: Ctx, room_id: RoomId, channel: Channel = None,
                redact: Redact = False, region: Region = None,
                sub_bonus: SubBonus = False, preset: Preset = None) -> dict[str, Any]:
    return web.report(room_id, or_blank(channel), redact, region, sub_bonus,
                      or_blank(preset)).as_dict()

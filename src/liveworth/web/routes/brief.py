"""The agency's daily brief (``/brief``) and its JSON twin (``/api/brief``): what
``liveworth brief`` prints, for the day before ``date`` (default today in ``tz``)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from liveworth.analysis.brief import Brief, brief, brief_day
from liveworth.analysis.roster import TIERS_NOTE
from liveworth.render.brief_html import brief_body
from liveworth.web.brief_models import BriefOut
from liveworth.web.cardoptions import Preset, card_options
from liveworth.web.context import Ctx
from liveworth.web.db import NoDatabase
from liveworth.web.params import BAD_SCOPE, PAGE_ERRORS, Tz, or_none, query_string, tz_or_utc

router = APIRouter()

BriefDate = Annotated[str | None, Query(max_length=10, description="the brief covers the day "
                                        "before this one (YYYY-MM-DD; default: today in tz)")]


def _brief(web: Ctx, date: str | None, tz: str, preset: str | None = None) -> Brief:
    """The brief, remembered while the data stay the same (without a date: for a minute)."""
    as_of, day = brief_day(date, tz)  # a bad date or zone is a 400 before any read
    when = date or int(time.time() // 60)
    card = web.card_for(preset)
    try:
        return web.read(("brief", when, tz, preset),
                        lambda s: brief(s, card, date=as_of, tz=tz))
    except NoDatabase:  # nothing recorded yet: an empty brief
        return Brief(day, as_of, tz, card.name, (), (), (), (), (), TIERS_NOTE)


@router.get("/brief", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the agency's daily brief")
def brief_page(request: Request, web: Ctx, date: BriefDate = None,
               tz: Tz = "UTC", preset: Preset = None) -> HTMLResponse:
    date, tz, preset = or_none(date), tz_or_utc(tz), or_none(preset)

    def build() -> HTMLResponse:
        b = _brief(web, date, tz, preset)
        return web.page(request, "brief.html", title=f"Daily brief {b.date}",
                        body=Markup(brief_body(b)), date=date or "", tz=tz,
                        **card_options(request, web, preset, None, channels=False),
                        json_url="/api/brief" + query_string(
                            date=date, tz=None if tz == "UTC" else tz, preset=preset))

    return web.cached_page(request, build, clock_s=None if date else 60)


@router.get("/api/brief", response_model=BriefOut, tags=["api"],
            summary="The agency's daily brief (liveworth brief --json)", responses=BAD_SCOPE)
def brief_api(web: Ctx, date: BriefDate = None, tz: Tz = "UTC",
              preset: Preset = None) -> dict[str, Any]:
    return _brief(web, or_none(date), tz_or_utc(tz), or_none(preset)).as_dict()

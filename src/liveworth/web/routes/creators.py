"""One creator across sessions: the analysis (``/creators/{host}/analysis``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from liveworth.analysis.drivers import DEFAULT_SEED, LEVEL, MIN_SESSIONS
from liveworth.web import charts
from liveworth.web.cardoptions import CardChannel, Preset, card_options
from liveworth.web.context import Ctx
from liveworth.web.models import (
    AnalysisOut,
)
from liveworth.web.params import (
    NO_CREATOR,
    PAGE_ERRORS,
    Host,
    Seed,
    Since,
    Tz,
    or_none,
    query_string,
    tz_or_utc,
)

router = APIRouter()


@router.get("/creators/{host}/analysis", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS,
            summary="Page: what drives a creator's earnings across sessions")
def analysis_page(request: Request, web: Ctx, host: Host, since: Since = None, tz: Tz = "UTC",
                  seed: Seed = DEFAULT_SEED, preset: Preset = None,
                  channel: CardChannel = None) -> HTMLResponse:
    since, tz, preset, channel = or_none(since), tz_or_utc(tz), or_none(preset), or_none(channel)

    def build() -> HTMLResponse:
        a = web.analysis(host, since, tz, seed, preset, channel)
        q = query_string(since=since, tz=None if tz == "UTC" else tz,
                         seed=None if seed == DEFAULT_SEED else seed, preset=preset,
                         channel=channel)
        h = quote(a.host or host, safe="")
        return web.page(
            request, "analysis.html", title=f"Analysis: {a.host or host}", a=a, host=a.host or host,
            json_url=f"/api/creators/{h}/analysis{q}", level=LEVEL, min_sessions=MIN_SESSIONS,
            too_few=len(a.sessions) < MIN_SESSIONS, e=a.elasticity_viewers, w=a.whales,
            heat=charts.heatmap(a.heatmap), battles=charts.battles(a.battles),
            **card_options(request, web, preset, channel),
            **charts.analysis_charts(a))

    return web.cached_page(request, build)


@router.get("/api/creators/{host}/analysis", response_model=AnalysisOut, tags=["api"],
            summary="A creator's analysis across sessions (liveworth analyze --json)",
            responses=NO_CREATOR)
def analysis_api(web: Ctx, host: Host, since: Since = None, tz: Tz = "UTC",
                 seed: Seed = DEFAULT_SEED, preset: Preset = None,
                 channel: CardChannel = None) -> dict[str, Any]:
    return web.analysis(host, or_none(since), tz_or_utc(tz), seed, or_none(preset),
                        or_none(channel)).as_dict()

"""A host's LIVE as it happens (``/live/{host}``, its server-sent events) and the OBS overlay."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import StreamingResponse

from liveworth.economy.money import fmt, usd
from liveworth.errors import UsageError
from liveworth.web.context import POLL_S, Ctx
from liveworth.web.models import (
    LiveStateOut,
)
from liveworth.web.params import (
    BUSY,
    PAGE_ERRORS,
    Host,
    Recent,
    Top,
)
from liveworth.web.routes.crm import board_context

router = APIRouter()


@router.get("/live/{host}", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: a host's current or latest LIVE, updated as it happens")
def live_page(request: Request, web: Ctx, host: Host, top: Top = 10,
              recent: Recent = 10) -> HTMLResponse:
    def build() -> HTMLResponse:
        state = web.live(host, top, recent)
        q = f"?top={top}&recent={recent}"
        h = quote(state.host, safe="")
        return web.page(request, "live.html", title=f"LIVE: {state.host}", s=state,
                        d=state.as_dict()["display"], json_url=f"/api/live/{h}{q}",
                        events_url=f"/api/live/{h}/events{q}")

    return web.cached_page(request, build, clock_s=web.poll_s)


@router.get("/api/live/{host}", response_model=LiveStateOut, tags=["api"],
            summary="A host's current or latest LIVE so far", responses=BUSY)
def live_api(web: Ctx, host: Host, top: Top = 5, recent: Recent = 5) -> dict[str, Any]:
    return web.live(host, top, recent).as_dict()


@router.get("/api/live/{host}/events", response_class=StreamingResponse, tags=["api"],
            summary="The live state as server-sent events",
            description="A `text/event-stream`: an `event: state` whose `data` is the JSON of "
            "`/api/live/{host}` when the stream opens and whenever it changes (the store is "
            f"polled every {POLL_S} s). Streams end after a while; EventSource reconnects.",
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "server-sent events"}})
def live_events(request: Request, web: Ctx, host: Host, top: Top = 5,
                recent: Recent = 5) -> StreamingResponse:
    return StreamingResponse(web.stream(request, host, top, recent),
                             media_type="text/event-stream",
                             headers={"x-accel-buffering": "no"})


OverlayPart = Literal["coins", "usd", "goal", "gifters", "recent"]
_OVERLAY_PARTS: tuple[OverlayPart, ...] = ("coins", "usd", "goal", "gifters", "recent")


@router.get("/overlay/{host}", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the OBS / TikTok LIVE Studio overlay (transparent browser source)")
def overlay_page(
    request: Request, web: Ctx, host: Host,
    goal: Annotated[Decimal | None, Query(ge=0, le=10**12, description="goal of the goal bar "
                                          "(no bar without it)")] = None,
    goal_unit: Annotated[Literal["coins", "usd"], Query(description="coins, or usd (what the "
                                                        "creator receives)")] = "coins",
    goal_label: Annotated[str, Query(max_length=60, description="text over the goal bar")] = "",
    top: Annotated[int, Query(ge=0, le=10, description="top gifters shown")] = 3,
    hide: Annotated[str, Query(max_length=60, description="comma-separated parts to hide: "
                               "coins, usd, goal, gifters, recent")] = "",
    theme: Annotated[Literal["dark", "light"], Query(description="dark: white text on the "
                                                     "stream; light: dark text")] = "dark",
    size: Annotated[Literal["s", "m", "l", "xl"], Query(description="text size")] = "m",
    align: Annotated[Literal["left", "center", "right"], Query()] = "left",
    board: Annotated[Literal["live", "7d", "30d", "lifetime"] | None, Query(
        description="list the top gifters of this window instead of this LIVE's "
        "(live, 7d, 30d, lifetime; gifters --window)")] = None,
    alerts: Annotated[bool, Query(description="show each new alert (record --alerts) for a "
                                  "few seconds")] = False,
) -> HTMLResponse:
    def build() -> HTMLResponse:
        hidden = {p.strip() for p in hide.split(",") if p.strip()}
        unknown = hidden - set(_OVERLAY_PARTS)
        if unknown:
            raise UsageError(f"hide: unknown part(s) {', '.join(sorted(unknown))} (choose from "
                             f"{', '.join(_OVERLAY_PARTS)})")
        state = web.live(host, top, 1)
        h = quote(state.host, safe="")
        shown = {p: p not in hidden for p in _OVERLAY_PARTS}
        if goal is None or goal == 0:
            shown["goal"] = False
        goal_text = "" if goal is None else (f"{goal.normalize():,f} coins" if goal_unit == "coins"
                                             else usd(goal))
        return web.page(request, "overlay.html", title=f"overlay: {state.host}", s=state,
                        d=state.as_dict()["display"], json_url=f"/api/live/{h}?top={top}&recent=1",
                        events_url=f"/api/live/{h}/events?top={top}&recent=1", shown=shown,
                        goal="" if goal is None else fmt(goal), goal_unit=goal_unit,
                        goal_text=goal_text, goal_label=goal_label, theme=theme, size=size,
                        align=align, top=top, alerts=alerts,
                        **board_context(web, state.host, board, top))

    return web.cached_page(request, build, clock_s=web.poll_s)

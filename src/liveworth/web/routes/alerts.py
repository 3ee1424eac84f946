"""Stored alerts (``/alerts``, ``liveworth alerts``): what ``record --alerts`` fired."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from liveworth.alerts.engine import Alert
from liveworth.alerts.stored import stored_alerts
from liveworth.analysis.sessionstats import parse_since, zone
from liveworth.decode.formats import MAX_HOST, MAX_ROOM_ID
from liveworth.web.context import Ctx
from liveworth.web.db import NoDatabase
from liveworth.web.models import AlertOut
from liveworth.web.params import BUSY, PAGE_ERRORS, Since, Tz, or_none, query_string, tz_or_utc

router = APIRouter()

AlertHost = Annotated[str | None, Query(max_length=MAX_HOST + 1,
                                        description="only this creator's alerts")]
AlertRoom = Annotated[str | None, Query(max_length=MAX_ROOM_ID,
                                        description="only this session's alerts")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="the newest N at most")]


def _alerts(web: Ctx, host: str | None, room: str | None, since: str | None, tz: str,
            limit: int) -> list[Alert]:
    """Oldest first, like ``liveworth alerts``."""
    day = parse_since(or_none(since))
    since_ms = None if day is None else int(dt.datetime.combine(
        day, dt.time(), tzinfo=zone(tz_or_utc(tz))).timestamp() * 1000)
    host, room = or_none(host), or_none(room)
    try:
        found = web.read(("alerts", host, room, since_ms, limit), lambda s: tuple(stored_alerts(
            s, host=host, room_id=room, since_ms=since_ms, limit=limit, newest_first=True)))
    except NoDatabase:
        return []
    return list(reversed(found))


@router.get("/alerts", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the alerts recordings fired (record --alerts)")
def alerts_page(request: Request, web: Ctx, host: AlertHost = None, room: AlertRoom = None,
                since: Since = None, tz: Tz = "UTC", limit: Limit = 1000) -> HTMLResponse:
    rows = _alerts(web, host, room, since, tz, limit)
    q = query_string(host=or_none(host), room=or_none(room), since=or_none(since),
                     tz=tz if tz_or_utc(tz) != "UTC" else None, limit=limit)
    return web.page(request, "alerts.html", title="Alerts", rows=rows, host=host or "",
                    room=room or "", since=since or "", tz=tz, json_url=f"/api/alerts{q}")


@router.get("/api/alerts", response_model=list[AlertOut], tags=["api"], responses=BUSY,
            summary="The alerts recordings fired, oldest first")
def alerts_api(web: Ctx, host: AlertHost = None, room: AlertRoom = None, since: Since = None,
               tz: Tz = "UTC", limit: Limit = 1000) -> list[dict[str, Any]]:
    return [a.as_dict() for a in _alerts(web, host, room, since, tz, limit)]

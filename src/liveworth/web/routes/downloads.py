"""CSV downloads of the gifter leaderboard (``/api/gifters.csv``) and the roster
(``/api/roster.csv``): the same query as their JSON twins, the same rows, formula-safe
(:mod:`liveworth.render.csvtables`). The sessions list's is in :mod:`.session_list`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from liveworth.render.csvtables import filename, gifters_csv, roster_csv
from liveworth.web.cardoptions import CardChannel, Preset
from liveworth.web.context import Ctx
from liveworth.web.params import Since, Tz, or_none, tz_or_utc
from liveworth.web.routes.agency import (
    AsOf,
    GifterAsOf,
    GifterHost,
    Overdue,
    Period,
    TierSpec,
    Window,
    _roster_tiers,
)
from liveworth.web.routes.crm import board_of
from liveworth.web.routes.session_list import CSV_RESPONSE, csv_response

router = APIRouter()


@router.get("/api/gifters.csv", response_class=Response, tags=["api"], responses=CSV_RESPONSE,
            summary="The gifter leaderboard as CSV (the query of /api/gifters)")
def gifters_csv_api(web: Ctx, host: GifterHost = None, since: Since = None, tz: Tz = "UTC",
                    top: Annotated[int | None, Query(ge=1, le=100_000, description="only the "
                                                     "top N (default: everyone)")] = None,
                    window: Window = "lifetime", as_of: GifterAsOf = None,
                    overdue: Overdue = False, preset: Preset = None,
                    channel: CardChannel = None) -> Response:
    host, since, as_of = or_none(host), or_none(since), or_none(as_of)
    b = board_of(web, host=host, since=since, tz=tz_or_utc(tz), window=window, as_of=as_of,
                 overdue=overdue, preset=or_none(preset), channel=or_none(channel))
    rows = b.rows if top is None else b.rows[:top]
    name = filename("gifters", host, window if window != "lifetime" else None, since,
                    "overdue" if overdue else None)
    return csv_response(gifters_csv(rows), name)


@router.get("/api/roster.csv", response_class=Response, tags=["api"], responses=CSV_RESPONSE,
            summary="The agency roll-up as CSV (the query of /api/roster): a row per creator "
            "and period, then each period's total")
def roster_csv_api(web: Ctx, period: Period = "month", as_of: AsOf = None, tz: Tz = "UTC",
                   since: Since = None, tier: TierSpec = None, preset: Preset = None,
                   channel: CardChannel = None) -> Response:
    r = web.roster(period, or_none(as_of), tz_or_utc(tz), or_none(since), _roster_tiers(tier),
                   or_none(preset), or_none(channel))
    return csv_response(roster_csv(r), filename("roster", period, r.as_of.isoformat()))

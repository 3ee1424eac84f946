"""The gifter CRM on the web: one gifter's page (``/gifters/{host}/{user_id}``), the leaderboard of
a window (:func:`board_of`, used by ``/gifters`` and the overlay's ``board``), and the
end-of-LIVE credits overlay (``/overlay/{host}/credits``), each with its JSON twin."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from liveworth.analysis.boards import Board, GifterCard, as_of_time, board, gifter_card
from liveworth.analysis.crm import check_known
from liveworth.analysis.sessionstats import normalise_host, parse_since, zone
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.database import Store
from liveworth.web.context import Ctx, Web
from liveworth.web.crm_models import CreditsOut, GifterCardOut
from liveworth.web.db import NoDatabase
from liveworth.web.params import BUSY, PAGE_ERRORS, Host, Tz, tz_or_utc

router = APIRouter()

Window = Literal["live", "7d", "30d", "lifetime"]
UserId = Annotated[str, Path(min_length=1, max_length=64, description="the gifter's TikTok "
                             "user id")]
#: Gifters the credits roll lists at most, and how often the overlay refreshes its list.
CREDITS_MAX = 500
CREDITS_REFRESH_S = 10


def board_of(web: Web, *, host: str | None, since: str | None, tz: str, window: str,
             as_of: str | None, overdue: bool = False, preset: str | None = None,
             channel: str | None = None) -> Board:
    """``liveworth gifters --window …``: remembered while the data stay the same."""
    card = web.card_for(preset, channel)
    try:
        return web.read(("board", host, since, tz, window, as_of, overdue, preset, channel),
                        lambda s: board(s, card, host=host, since=since, tz=tz,
                                        window=window, as_of=as_of, overdue=overdue))
    except NoDatabase:
        parse_since(since)
        parse_since(as_of)
        zone(tz)
        if host is not None:
            raise NotFoundError(f"no session of {host!r}: the database is empty") from None
        return Board(window=window, host=None, as_of_ms=0, from_ms=None, to_ms=0, sessions=(),
                     rows=())


BOARD_TITLES = {"live": "top gifters · this LIVE", "7d": "top gifters · 7 days",
                "30d": "top gifters · 30 days", "lifetime": "top gifters · all time"}


def board_context(web: Web, host: str, window: str | None, top: int) -> dict[str, Any]:
    """What the overlay needs to list a window's leaderboard (``/overlay/{host}?board=7d``):
    the first rows, the JSON twin it refreshes from, a title. Nothing without ``window``."""
    if window is None:
        return {"board": None}
    want = normalise_host(host) or host
    try:
        rows = board_of(web, host=want, since=None, tz="UTC", window=window,
                        as_of=None).rows[:top]
    except NotFoundError:  # no session of this host yet: an empty list that fills later
        rows = ()
    return {"board": window, "board_rows": rows, "board_title": BOARD_TITLES[window],
            "board_url": f"/api/gifters?host={quote(want, safe='')}&window={window}&top={top}"}


# ---------------------------------------------------------------------------- one gifter


def _card(web: Web, host: str, user_id: str, tz: str) -> GifterCard:
    def compute(store: Store) -> GifterCard:
        check_known(store, user_id)
        return gifter_card(store, web.card, normalise_host(host) or host, user_id, tz=tz)

    try:
        return web.read(("gifter", host, user_id, tz), compute)
    except NoDatabase:
        raise NotFoundError("no such gifter: the database is empty") from None
    except UsageError as exc:  # an unknown user id is a page that is not there
        raise NotFoundError(str(exc)) from None


@router.get("/gifters/{host}/{user_id}", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS, summary="Page: one gifter of one creator (CRM card)")
def gifter_page(request: Request, web: Ctx, host: Host, user_id: UserId,
                tz: Tz = "UTC") -> HTMLResponse:
    tz = tz_or_utc(tz)

    def build() -> HTMLResponse:
        c = _card(web, host, user_id, tz)
        h, u = quote(c.host, safe=""), quote(user_id, safe="")
        return web.page(request, "gifter.html", title=f"Gifter {c.name}", c=c, d=c.as_dict(),
                        json_url=f"/api/gifters/{h}/{u}")

    return web.cached_page(request, build)


@router.get("/api/gifters/{host}/{user_id}", response_model=GifterCardOut, tags=["api"],
            summary="One gifter of one creator (liveworth gifter USER_ID --json)",
            responses={404: {"description": "no such gifter or creator"}, **BUSY})
def gifter_api(web: Ctx, host: Host, user_id: UserId, tz: Tz = "UTC") -> dict[str, Any]:
    return _card(web, host, user_id, tz_or_utc(tz)).as_dict()


# ---------------------------------------------------------------------------- credits


def credits_state(web: Web, host: str, top: int = CREDITS_MAX) -> dict[str, Any]:
    """The gifters of the host's current or latest session, biggest first (empty before any)."""
    want = normalise_host(host) or host
    try:
        b = board_of(web, host=want, since=None, tz="UTC", window="live", as_of=None)
    except NotFoundError:  # no session of this host yet: an empty roll, not an error
        b = Board(window="live", host=want, as_of_ms=0, from_ms=None, to_ms=0, sessions=(),
                  rows=())
    s = b.sessions[0] if b.sessions else None
    return {"host": want, "room_id": b.room_id, "start_ts": None if s is None else s.start_ts,
            "as_of_ts": b.as_of_ms, "coins": b.coins, "gifters_total": len(b.rows),
            "gifters": [{"rank": r.stats.rank, "user_id": r.stats.user_id,
                         "name": r.stats.nickname or r.stats.user or r.stats.user_id or "?",
                         "coins": r.stats.coins, "coins_display": f"{r.stats.coins:,}"}
                        for r in b.rows[:top]]}


CreditsTop = Annotated[int, Query(ge=1, le=CREDITS_MAX, description="gifters listed at most")]


@router.get("/overlay/{host}/credits", response_class=HTMLResponse, tags=["pages"],
            responses=PAGE_ERRORS,
            summary="Page: end-of-LIVE rolling credits (transparent browser source)")
def credits_page(
    request: Request, web: Ctx, host: Host, top: CreditsTop = CREDITS_MAX,
    seconds: Annotated[int, Query(ge=10, le=600, description="seconds one full roll takes")
                       ] = 60,
    heading: Annotated[str, Query(max_length=60, description="text above the names")
                       ] = "Thank you",
    theme: Annotated[Literal["dark", "light"], Query(description="dark: white text")] = "dark",
    size: Annotated[Literal["s", "m", "l", "xl"], Query(description="text size")] = "m",
    refresh: Annotated[int, Query(ge=1, le=300, description="seconds between refreshes of "
                                  "the list")] = CREDITS_REFRESH_S,
) -> HTMLResponse:
    def build() -> HTMLResponse:
        state = credits_state(web, host, top)
        h = quote(state["host"], safe="")
        return web.page(request, "credits.html", title=f"credits: {state['host']}", s=state,
                        json_url=f"/api/overlay/{h}/credits?top={top}", seconds=seconds,
                        heading=heading, theme=theme, size=size, refresh_s=refresh)

    return web.cached_page(request, build, clock_s=web.poll_s)


@router.get("/api/overlay/{host}/credits", response_model=CreditsOut, tags=["api"],
            summary="The gifters of the host's current or latest LIVE, biggest first",
            responses=BUSY)
def credits_api(web: Ctx, host: Host, top: CreditsTop = CREDITS_MAX) -> dict[str, Any]:
    return credits_state(web, host, top)


__all__ = ["Window", "as_of_time", "board_of", "router"]

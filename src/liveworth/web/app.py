"""The FastAPI app: server-rendered pages, each with a JSON twin under ``/api``.

- ``/sessions`` and ``/api/sessions``: every recorded session;
- ``/sessions/{room_id}`` and ``/api/sessions/{room_id}``: one session's earnings report;
- ``/estimate`` and ``/api/estimate``: the estimator (when it is installed);
- ``/live/{host}`` and ``/api/live/{host}``: a host's current or latest LIVE, kept up to date
  through ``/api/live/{host}/events`` (server-sent events);
- ``/overlay/{host}``: the OBS / TikTok LIVE Studio overlay (its twin: ``/api/live/{host}``);
- ``/creators/{host}/analysis`` and ``/api/creators/{host}/analysis``: one creator's analysis
  across sessions (``liveworth analyze``);
- ``/gifters`` and ``/api/gifters``: the gifter leaderboard (``liveworth gifters``);
- ``/roster`` and ``/api/roster``: the agency roll-up per creator and month or week
  (``liveworth roster``).

Routes are thin: they open the store read-only for the request (:mod:`liveworth.web.db`), call
one library function and render its result with a Jinja2 template (autoescaped) or return its
``as_dict()`` through a response model. Data for scripts travels as JSON or ``data-``
attributes; the only scripts are the app's static files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar, cast
from urllib.parse import quote

import anyio
import numpy as np
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from liveworth import __version__
from liveworth.advice import signed_usd
from liveworth.analytics import Analysis, analyze
from liveworth.drivers import DEFAULT_SEED, LEVEL, MIN_SESSIONS
from liveworth.errors import LiveworthError, NotFoundError, UsageError
from liveworth.gifters import GifterStats, Loyalty, leaderboard, loyalty
from liveworth.money import fmt, usd
from liveworth.ratecard import RateCard, load_rate_card
from liveworth.report import SessionReport, SessionRow, list_sessions, redacted, session_report
from liveworth.roster import (
    DEFAULT_TIERS,
    PERIODS,
    TIERS_NOTE,
    Roster,
    Tier,
    check_tiers,
    parse_tier,
)
from liveworth.roster import roster as build_roster
from liveworth.sessionstats import (
    SessionStats,
    parse_since,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.store import Store, resolve_db_path
from liveworth.web import charts
from liveworth.web.db import (
    BUSY_TIMEOUT_S,
    DatabaseBusy,
    NoDatabase,
    Opener,
    ReadOnlyStore,
    Version,
    data_version,
)
from liveworth.web.estimator import EstimateQuery, estimator
from liveworth.web.estimator import run_estimate as _run_estimate
from liveworth.web.live import (
    IDLE_MS,
    MAX_LIST,
    LiveState,
    empty_state,
    live_state,
    normalize_host,
)
from liveworth.web.models import (
    AnalysisOut,
    ErrorOut,
    EstimateOut,
    EstimateParams,
    GifterStatsOut,
    LiveStateOut,
    RosterOut,
    SessionReportOut,
    SessionRowOut,
)
from liveworth.web.security import LOOPBACK_HOSTS, Guard, check_token

#: How often a live stream polls the store, and how long one stream lasts before the browser
#: reconnects (EventSource does so by itself, after ``RETRY_MS``).
POLL_S = 0.5
STREAM_LIFETIME_S = 600.0
RETRY_MS = 1000
#: A comment line keeps a quiet stream open through proxies.
KEEPALIVE_S = 15.0
#: Live states kept for concurrent watchers of the same host (one store read per poll).
_CACHE_SIZE = 256
#: Answers kept per version of the data (see :meth:`Web.read`).
_ANSWERS_SIZE = 512
T = TypeVar("T")

RoomId = Annotated[str, Path(min_length=1, max_length=200, description="the session's room id")]
Host = Annotated[str, Path(min_length=1, max_length=100,
                           description="the host's TikTok unique id (with or without @)")]
Top = Annotated[int, Query(ge=0, le=MAX_LIST, description="how many top gifters to list")]
Recent = Annotated[int, Query(ge=0, le=MAX_LIST, description="how many latest gifts to list")]
Channel = Annotated[str | None, Query(max_length=40, description="coin channel viewers buy on "
                                      "(web, ios, android, blended); default: the rate card's")]
Redact = Annotated[bool, Query(description="replace viewers' names with stable pseudonyms")]
Since = Annotated[str | None, Query(max_length=10, description="only sessions starting on or "
                                    "after this date (YYYY-MM-DD, local to tz)")]
Tz = Annotated[str, Query(max_length=64, description="time zone of start hours, weekdays, "
                          "weeks and months (IANA name; empty: UTC)")]
Seed = Annotated[int, Query(ge=0, le=2**63 - 1, description="seed of the bootstrap (same seed, "
                            "same answer; the CLI's default)")]
#: Gifters listed on the leaderboard page unless ``top`` says otherwise (the JSON lists all).
PAGE_GIFTERS = 100
_BUSY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "the database is busy (a writer holds it) or "
          "unreadable; try again (Retry-After)"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such session"},
    400: {"model": ErrorOut, "description": "an unknown coin channel"}, **_BUSY,
}
_BAD_SCOPE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a bad date, time zone or tier"}, **_BUSY,
}
#: What a page may answer besides 200: an error page (HTML) saying why.
_HTML = {"text/html": {"schema": {"type": "string"}}}
_PAGE: dict[int | str, dict[str, Any]] = {
    400: {"description": "an error page: a bad value (date, time zone, channel, tier, …)",
          "content": _HTML},
    404: {"description": "an error page: no such session (or no session of this host)",
          "content": _HTML},
    422: {"description": "an error page: a parameter out of its range or of the wrong type",
          "content": _HTML},
    503: {"description": "an error page: the database is busy; try again (Retry-After)",
          "content": _HTML},
}
_NO_CREATOR: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no session of this host (since the date given)"},
    **_BAD_SCOPE,
}


# ---------------------------------------------------------------------------- the app's context


@dataclass
class Web:
    """What the routes share: how to read the store, the rate card, the templates."""

    open_store: Opener
    db_label: str
    card: RateCard
    templates: Environment
    poll_s: float = POLL_S
    stream_lifetime_s: float = STREAM_LIFETIME_S
    _cache: dict[tuple[str, int, int], tuple[float, dict[str, Any]]] = field(
        default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _answers: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _answers_version: Version | None = None
    _computing: dict[tuple[Version, tuple[Any, ...]], threading.Event] = field(
        default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    #: Set when the server is stopping: live streams end.
    closing: threading.Event = field(default_factory=threading.Event)

    def page(self, request: Request, template: str, *, status: int = 200,
             **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            request=request, version=__version__, **context)
        return HTMLResponse(html, status_code=status)

    # -- reads (blocking: FastAPI runs the sync routes that call them in a thread pool)

    def read(self, key: tuple[Any, ...], compute: Callable[[Store], T]) -> T:
        """``compute(store)``, remembered under ``key`` for as long as the data read stays the
        same (:func:`liveworth.web.db.data_version`; never when it may change under the read,
        as through a connection shared with a writer). Results are immutable; errors are not
        remembered. Reads nested in ``compute`` (a page built from several) share its store."""
        outer: Store | None = getattr(self._local, "store", None)
        if outer is not None:
            return self._remember(outer, key, compute)
        probe = getattr(self.open_store, "current_version", None)
        if probe is not None:  # a remembered answer that still holds: no need to open
            now = probe()
            with self._lock:
                if now is not None and now == self._answers_version and key in self._answers:
                    return cast(T, self._answers[key])
        with self.open_store() as store:
            self._local.store = store
            try:
                return self._remember(store, key, compute)
            finally:
                self._local.store = None

    def _remember(self, store: Store, key: tuple[Any, ...], compute: Callable[[Store], T]) -> T:
        version = data_version(store)
        if version is None:
            return compute(store)
        for _ in range(2):  # concurrent requests for the same answer: one computes it
            with self._lock:
                if version != self._answers_version:
                    self._answers.clear()
                    self._answers_version = version
                elif key in self._answers:
                    return cast(T, self._answers[key])
                busy = self._computing.get((version, key))
                if busy is None:
                    busy = self._computing[(version, key)] = threading.Event()
                    break
            busy.wait(BUSY_TIMEOUT_S)  # then look again (or compute, if that one failed)
        else:
            return compute(store)
        try:
            value = compute(store)
            with self._lock:
                if version == self._answers_version:
                    if len(self._answers) >= _ANSWERS_SIZE:
                        self._answers.clear()
                    self._answers[key] = value
            return value
        finally:
            with self._lock:
                del self._computing[(version, key)]
            busy.set()

    def cached_page(self, request: Request, build: Callable[[], HTMLResponse], *,
                    clock_s: float | None = None) -> HTMLResponse:
        """The page ``build()`` makes for this URL, remembered like :meth:`read`'s answers
        (``clock_s``: for at most that long too, for pages that depend on the clock)."""
        query = tuple(sorted((k, v) for k, v in request.query_params.multi_items()
                             if k != "token"))
        tick = None if clock_s is None else int(time.monotonic() / clock_s)
        key = ("page", request.url.path, query, tick)

        def render(_: Store) -> tuple[bytes, int]:
            response = build()
            return bytes(response.body), response.status_code

        try:
            body, status = self.read(key, render)
        except NoDatabase:
            return build()
        return HTMLResponse(body, status_code=status)

    def sessions(self) -> list[SessionRow]:
        try:
            return list(self.read(("sessions",), lambda s: tuple(list_sessions(s, self.card))))
        except NoDatabase:
            return []

    def report(self, room_id: str, channel: str | None, redact: bool) -> SessionReport:
        try:
            rep = self.read(("report", room_id, channel),
                            lambda s: session_report(s, room_id, self.card, channel))
        except NoDatabase:
            raise NotFoundError(f"no session {room_id!r}: the database is empty") from None
        return redacted(rep) if redact else rep

    def live(self, host: str, top: int, recent: int) -> LiveState:
        try:
            state = self.read(("live", normalize_host(host), top, recent),
                              lambda s: live_state(s, host, self.card, top=top, recent=recent))
        except NoDatabase:
            return empty_state(host, self.card)
        now_ms = int(time.time() * 1000)  # the clock tells a live session from an idle one
        if state.status == "live" and state.last_ts is not None and \
                now_ms - state.last_ts > IDLE_MS:
            state = replace(state, status="idle")
        return state

    def analysis(self, host: str, since: str | None, tz: str, seed: int) -> Analysis:
        """``liveworth analyze --host HOST --seed SEED``: the same seeded bootstrap."""
        try:
            return self.read(("analysis", host, since, tz, seed),
                             lambda s: analyze(s, self.card, host=host, since=since, tz=tz,
                                               rng=np.random.default_rng(seed)))
        except NoDatabase:
            raise NotFoundError(f"no session of {host!r}: the database is empty") from None

    def gifters(self, host: str | None, since: str | None,
                tz: str) -> tuple[list[GifterStats], Loyalty]:
        """``liveworth gifters``: every gifter of the selected sessions, and their loyalty."""
        def compute(store: Store) -> tuple[tuple[GifterStats, ...], tuple[SessionStats, ...]]:
            chosen = select_sessions(session_stats(store, self.card, tz=tz), host=host,
                                     since=since)
            board = leaderboard(store, self.card, [s.room_id for s in chosen])
            return tuple(board), tuple(chosen)

        try:
            board, chosen = self.read(("gifters", host, since, tz), compute)
        except NoDatabase:
            parse_since(since)
            zone(tz)
            if host is not None:
                raise NotFoundError(f"no session of {host!r}: the database is empty") from None
            chosen, board = (), ()
        return list(board), loyalty(board, chosen)

    def roster(self, period: str, as_of: str | None, tz: str, since: str | None,
               tiers: tuple[Tier, ...]) -> Roster:
        """``liveworth roster``: per creator and period, with the pace towards the tiers."""
        when = as_of or int(time.time() // 60)  # no date: today, remembered for a minute
        try:
            return self.read(("roster", period, when, tz, since, tiers),
                             lambda s: build_roster(s, self.card, period=period, tiers=tiers,
                                                    as_of=as_of, tz=tz, since=since))
        except NoDatabase:  # nothing recorded yet: an empty roll-up, checked like a full one
            if period not in PERIODS:
                raise UsageError(f"unknown period {period!r}") from None
            parse_since(since)
            day = parse_since(as_of) or dt.datetime.now(zone(tz)).date()
            checked = check_tiers(tiers)
            note = TIERS_NOTE if checked == check_tiers(DEFAULT_TIERS) else \
                "tier thresholds as given"
            return Roster(period, day, tz, self.card.name, checked, (), (), note)

    def polled_live(self, host: str, top: int, recent: int) -> dict[str, Any] | None:
        """The live state for a stream, shared by the watchers of one host for a poll period;
        None when the store cannot be read right now (the stream tries again)."""
        key = (normalize_host(host).lower(), top, recent)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.poll_s * 0.8:
            return hit[1]
        try:
            state = self.live(host, top, recent).as_dict()
        except LiveworthError:
            return None
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), state)
        return state

    async def stream(self, request: Request, host: str, top: int,
                     recent: int) -> AsyncIterator[str]:
        """Server-sent events: the state when a stream opens and whenever it changes."""
        yield f"retry: {RETRY_MS}\n\n"
        last: dict[str, Any] | None = None
        now = time.monotonic()
        end, quiet_since = now + self.stream_lifetime_s, now
        while time.monotonic() < end and not self.closing.is_set() and \
                not await request.is_disconnected():
            state = await run_in_threadpool(self.polled_live, host, top, recent)
            if state is not None and state != last:
                last = state
                yield f"event: state\ndata: {json.dumps(state, separators=(',', ':'))}\n\n"
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(self.poll_s)


def _web(request: Request) -> Web:
    return cast(Web, request.app.state.web)


Ctx = Annotated[Web, Depends(_web)]


# ---------------------------------------------------------------------------- templates


def _when(ts: int | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else \
        f"{s // 60}m{s % 60:02d}s"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _usd(value: Decimal | str) -> str:
    return usd(value if isinstance(value, Decimal) else Decimal(value))


def _pct(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}%}"


def _path_segment(value: object) -> str:
    """``value`` quoted as one URL path segment (``/`` included)."""
    return quote(str(value), safe="")


def _signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _signed_usd(value: Decimal | str) -> str:
    return signed_usd(value if isinstance(value, Decimal) else Decimal(value))


def _day(ts: int | None) -> str:
    return "-" if ts is None else _when(ts)[:10]


def _query(**params: object) -> str:
    """``?k=v&…`` of the parameters that are set (values quoted), or empty."""
    pairs = [(k, v) for k, v in params.items() if v is not None and v != ""]
    items: list[tuple[str, object]] = []
    for k, v in pairs:
        items += [(k, x) for x in v] if isinstance(v, list | tuple) else [(k, v)]
    return ("?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in items)) if items else ""


def _blank(value: str | None) -> str | None:
    """An empty form field is no value."""
    return value if value is not None and value.strip() else None


def _tz(value: str) -> str:
    """The time zone asked for; an empty form field is UTC."""
    return value.strip() or "UTC"


def templates() -> Environment:
    """The package's Jinja2 templates, autoescaped, with liveworth's formatting filters."""
    env = Environment(loader=PackageLoader("liveworth.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"num": _number, "usd": _usd, "fmt": fmt, "when": _when,
                        "duration": _duration, "pct": _pct, "pathq": _path_segment,
                        "signed": _signed, "signed_usd": _signed_usd, "day": _day,
                        "ci_bar": charts.ci_bar})
    return env


# ---------------------------------------------------------------------------- routes

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/sessions", status_code=303)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/sessions", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
            summary="Page: every recorded session")
def sessions_page(request: Request, web: Ctx) -> HTMLResponse:
    def build() -> HTMLResponse:
        rows = web.sessions()
        return web.page(request, "sessions.html", title="Sessions", json_url="/api/sessions",
                        rows=rows, db=web.db_label)

    return web.cached_page(request, build)


@router.get("/api/sessions", response_model=list[SessionRowOut], tags=["api"],
            summary="Every recorded session, newest first", responses=_BUSY)
def sessions_api(web: Ctx) -> list[dict[str, object]]:
    return [r.as_dict() for r in web.sessions()]


@router.get("/sessions/{room_id}", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
            summary="Page: one session's earnings report")
def session_page(request: Request, web: Ctx, room_id: RoomId, channel: Channel = None,
                 redact: Redact = False) -> HTMLResponse:
    def build() -> HTMLResponse:
        rep = web.report(room_id, channel, redact)
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in
                         (("channel", channel), ("redact", "true" if redact else None)) if v)
        tier_points = [(i, float(c)) for i, (_, _, c) in enumerate(rep.tiers)]
        return web.page(
            request, "session.html", title=f"Session {rep.room_id}", rep=rep, m=rep.money,
            json_url=f"/api/sessions/{quote(room_id, safe='')}" + (f"?{query}" if query else ""),
            coins_chart=charts.bar_chart(rep.coins_per_minute, "coins per minute", "coins"),
            viewers_chart=charts.line_chart(rep.viewers_per_minute, "concurrent viewers",
                                            "viewers"),
            tiers_chart=charts.bar_chart(tier_points, "coins by tier (1-9 … 10000+)", "coins"))

    return web.cached_page(request, build)


@router.get("/api/sessions/{room_id}", response_model=SessionReportOut, tags=["api"],
            summary="One session's earnings report", responses=_NOT_FOUND)
def session_api(web: Ctx, room_id: RoomId, channel: Channel = None,
                redact: Redact = False) -> dict[str, Any]:
    return web.report(room_id, channel, redact).as_dict()


@router.get("/estimate", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
            summary="Page: the estimator's form and the distribution it gives")
def estimate_page(request: Request, web: Ctx) -> HTMLResponse:
    mod = estimator()
    raw = {k: v for k, v in request.query_params.items() if v != "" and k != "token"}
    if mod is None or "followers" not in raw:
        return web.page(request, "estimate.html", title="Estimate", json_url=None,
                        available=mod is not None, q=None, est=None, chart=None)
    try:  # the form's fields, checked exactly as /api/estimate checks its query
        params = EstimateParams.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    q = EstimateQuery(**params.model_dump())
    est = _run_estimate(mod, q, web.card)
    marks = [(f"p{p}", int(est["per_session"]["coins"][f"p{p}"])) for p in (10, 50, 90)]
    chart = charts.histogram_svg(est["histogram"], marks, "simulated sessions by creator USD")
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.model_dump().items()
                     if v is not None)
    return web.page(request, "estimate.html", title="Estimate", available=True, q=q, est=est,
                    chart=chart, json_url=f"/api/estimate?{query}")


@router.get("/api/estimate", response_model=EstimateOut, tags=["api"],
            summary="Estimate a creator's earnings per session and per month",
            responses={501: {"model": ErrorOut,
                             "description": "the estimator is not installed"},
                       400: {"model": ErrorOut,
                             "description": "inputs the estimator cannot take together"}})
def estimate_api(web: Ctx, params: Annotated[EstimateParams, Query()]) -> Any:
    mod = estimator()
    if mod is None:
        return JSONResponse({"detail": "the estimator is not available in this installation"},
                            status_code=501)
    return _run_estimate(mod, EstimateQuery(**params.model_dump()), web.card)


@router.get("/live/{host}", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
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
            summary="A host's current or latest LIVE so far", responses=_BUSY)
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


@router.get("/overlay/{host}", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
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
                        align=align, top=top)

    return web.cached_page(request, build, clock_s=web.poll_s)


# ---------------------------------------------------------------------------- across sessions


@router.get("/creators/{host}/analysis", response_class=HTMLResponse, tags=["pages"],
            responses=_PAGE,
            summary="Page: what drives a creator's earnings across sessions")
def analysis_page(request: Request, web: Ctx, host: Host, since: Since = None, tz: Tz = "UTC",
                  seed: Seed = DEFAULT_SEED) -> HTMLResponse:
    since, tz = _blank(since), _tz(tz)

    def build() -> HTMLResponse:
        a = web.analysis(host, since, tz, seed)
        q = _query(since=since, tz=None if tz == "UTC" else tz,
                   seed=None if seed == DEFAULT_SEED else seed)
        h = quote(a.host or host, safe="")
        per_session = [(i, float(s.creator_usd)) for i, s in enumerate(a.sessions, 1)]
        weekly = [(i, float(w.usd_per_hour or 0)) for i, w in enumerate(a.trend, 1)]
        top5 = [(i, 100 * w.top5_share) for i, w in enumerate(a.trend, 1)]
        return web.page(
            request, "analysis.html", title=f"Analysis: {a.host or host}", a=a, host=a.host or host,
            json_url=f"/api/creators/{h}/analysis{q}", level=LEVEL, min_sessions=MIN_SESSIONS,
            too_few=len(a.sessions) < MIN_SESSIONS, e=a.elasticity_viewers, w=a.whales,
            sessions_chart=charts.line_chart(per_session, "creator USD per session", "USD"),
            weekly_chart=charts.bar_chart(weekly, "USD per hour live, by week", "USD"),
            top5_chart=charts.line_chart(top5, "top-5 share of the week's coins", "%"))

    return web.cached_page(request, build)


@router.get("/api/creators/{host}/analysis", response_model=AnalysisOut, tags=["api"],
            summary="A creator's analysis across sessions (liveworth analyze --json)",
            responses=_NO_CREATOR)
def analysis_api(web: Ctx, host: Host, since: Since = None, tz: Tz = "UTC",
                 seed: Seed = DEFAULT_SEED) -> dict[str, Any]:
    return web.analysis(host, _blank(since), _tz(tz), seed).as_dict()


GifterHost = Annotated[str | None, Query(max_length=100, description="only this creator's "
                                         "sessions (default: every creator)")]


@router.get("/gifters", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
            summary="Page: the gifter leaderboard across sessions")
def gifters_page(request: Request, web: Ctx, host: GifterHost = None, since: Since = None,
                 tz: Tz = "UTC",
                 top: Annotated[int | None, Query(ge=1, le=100_000, description="gifters "
                                                  "listed (default "
                                                  f"{PAGE_GIFTERS})")] = None) -> HTMLResponse:
    host, since, tz = _blank(host), _blank(since), _tz(tz)

    def build() -> HTMLResponse:
        board, loyal = web.gifters(host, since, tz)
        return web.page(request, "gifters.html", title="Gifters", board=board,
                        shown=board[:top or PAGE_GIFTERS], loyal=loyal, host=host or "",
                        since=since or "", tz=tz,
                        json_url="/api/gifters" + _query(host=host, since=since,
                                                         tz=None if tz == "UTC" else tz, top=top))

    return web.cached_page(request, build)


@router.get("/api/gifters", response_model=list[GifterStatsOut], tags=["api"],
            summary="The gifter leaderboard, biggest first (liveworth gifters --json)",
            responses=_NO_CREATOR)
def gifters_api(web: Ctx, host: GifterHost = None, since: Since = None, tz: Tz = "UTC",
                top: Annotated[int | None, Query(ge=1, le=100_000, description="only the top "
                                                 "N (default: everyone)")] = None,
                ) -> list[dict[str, Any]]:
    board, _ = web.gifters(_blank(host), _blank(since), _tz(tz))
    return [g.as_dict() for g in (board if top is None else board[:top])]


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


@router.get("/roster", response_class=HTMLResponse, tags=["pages"], responses=_PAGE,
            summary="Page: the agency roll-up per creator and month (or week), with tier pace")
def roster_page(request: Request, web: Ctx, period: Period = "month", as_of: AsOf = None,
                tz: Tz = "UTC", since: Since = None, tier: TierSpec = None) -> HTMLResponse:
    as_of, since, tz = _blank(as_of), _blank(since), _tz(tz)

    def build() -> HTMLResponse:
        r = web.roster(period, as_of, tz, since, _roster_tiers(tier))
        rest = {"as_of": as_of, "tz": None if tz == "UTC" else tz, "since": since, "tier": tier}
        return web.page(request, "roster.html", title="Roster", r=r,
                        json_url="/api/roster" + _query(period=period, **rest),
                        other=[(p, "/roster" + _query(period=p, **rest)) for p in PERIODS])

    return web.cached_page(request, build)


@router.get("/api/roster", response_model=RosterOut, tags=["api"],
            summary="The agency roll-up (liveworth roster --json)", responses=_BAD_SCOPE)
def roster_api(web: Ctx, period: Period = "month", as_of: AsOf = None, tz: Tz = "UTC",
               since: Since = None, tier: TierSpec = None) -> dict[str, Any]:
    return web.roster(period, _blank(as_of), _tz(tz), _blank(since),
                      _roster_tiers(tier)).as_dict()


# ---------------------------------------------------------------------------- errors


_STATUS: tuple[tuple[type[LiveworthError], int], ...] = (
    (NotFoundError, 404),
    (UsageError, 400),
    (DatabaseBusy, 503),
    (LiveworthError, 503),  # any other store or config trouble: the server cannot answer now
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


async def _liveworth_error(request: Request, exc: Exception) -> Response:
    status = next(code for kind, code in _STATUS if isinstance(exc, kind))
    headers = {"retry-after": "1"} if status == 503 else None
    if _wants_json(request):
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
    web = _web(request)
    response = web.page(request, "error.html", status=status, title=f"Error {status}",
                        json_url=None, status_code=status, messages=[str(exc)])
    if headers:
        response.headers.update(headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    errors = cast(RequestValidationError, exc).errors()
    if _wants_json(request):
        return JSONResponse({"detail": jsonable(errors)}, status_code=422)
    messages = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'input'}: {e.get('msg')}"
                for e in errors]
    return _web(request).page(request, "error.html", status=422, title="Error 422",
                              json_url=None, status_code=422, messages=messages)


def jsonable(errors: Iterable[Any]) -> list[dict[str, Any]]:
    """Validation errors as plain JSON (their ``ctx`` may hold exceptions)."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in errors]


# ---------------------------------------------------------------------------- the OpenAPI schema


#: Query parameters whose accepted values the route checks itself (400 otherwise); the schema
#: says exactly which, so that every request it describes is answered.
_DAY = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
        "description": "a date, YYYY-MM-DD (empty: none)"}
_TIER = {"type": "array", "maxItems": 20, "uniqueItems": True,
         "items": {"type": "string", "pattern": r"^[A-Za-z0-9_.+#&@-]{1,40}:[0-9]{1,12}"
                   r"(:[0-9]{1,3}(:[0-9]{1,4})?)?$"}}
_PART = "(coins|usd|goal|gifters|recent)"
_HIDE = {"type": "string", "maxLength": 60, "default": "",
         "pattern": f"^ *({_PART} *(, *{_PART} *)*)?$"}
_GOAL = {"type": "number", "minimum": 0, "maximum": 10**12}


def _described(app: FastAPI, card: RateCard) -> dict[str, Any]:
    """FastAPI's schema with the values of ``tz``, ``since``, ``as_of``, ``channel``, ``tier``,
    ``hide`` and ``goal`` spelled out (time zones and channels as enums), and no ``null``
    alternative for query parameters (absent is None)."""
    from zoneinfo import available_timezones

    spec = get_openapi(title=app.title, version=app.version, description=app.description,
                       routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["TimeZone"] = {"type": "string", "description": "an IANA time zone (empty: UTC)",
                           "enum": ["", "UTC", *sorted(available_timezones() - {"UTC"})]}
    schemas["Day"] = _DAY
    channels = ["", *sorted(card.channels)]
    for item in spec.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param.get("in") != "query":
                    continue
                name, schema = param["name"], param.get("schema", {})
                options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
                if len(options) == 1:  # an absent parameter is None; "null" is no value
                    schema = param["schema"] = {**{k: v for k, v in schema.items()
                                                   if k != "anyOf"}, **options[0]}
                if name == "tz":
                    param["schema"] = {"$ref": "#/components/schemas/TimeZone", "default": "UTC"}
                elif name in ("since", "as_of"):
                    param["schema"] = {"$ref": "#/components/schemas/Day"}
                elif name == "channel":
                    param["schema"] = {"type": "string", "enum": channels,
                                       "description": schema.get("description", "")}
                elif name == "tier":
                    param["schema"] = {**_TIER, "description": schema.get("description", "")}
                elif name == "hide":
                    param["schema"] = {**_HIDE, "description": schema.get("description", "")}
                elif name == "goal":
                    param["schema"] = {**_GOAL, "description": schema.get("description", "")}
    return spec


# ---------------------------------------------------------------------------- the factory


def create_app(
    db_path: str | os.PathLike[str] | None,
    *,
    token: str | None = None,
    card: RateCard | None = None,
    allowed_hosts: Iterable[str] | None = None,
    opener: Opener | None = None,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
    poll_s: float = POLL_S,
    stream_lifetime_s: float = STREAM_LIFETIME_S,
) -> FastAPI:
    """The web app over the database at ``db_path`` (``--db`` rules: else ``$LIVEWORTH_DB``,
    else ``./liveworth.duckdb``).

    ``token``: when set, every request must carry it (:mod:`liveworth.web.security`).
    ``allowed_hosts``: the Host names answered; by default loopback names only when there is no
    token, any with one. ``card``: the rate card (default: the bundled one). ``opener``: how to
    open the store for reading (default: the file, read-only, per request, waiting up to
    ``busy_timeout_s`` for a writer). ``poll_s`` and ``stream_lifetime_s`` tune live streams.
    """
    if token is not None:
        check_token(token)
    path = resolve_db_path(db_path)
    web = Web(open_store=opener or ReadOnlyStore(path, busy_timeout_s), db_label=path,
              card=card or load_rate_card(), templates=templates(), poll_s=poll_s,
              stream_lifetime_s=stream_lifetime_s)
    app = FastAPI(title="liveworth", version=__version__,
                  description="What a TikTok LIVE earns: recorded sessions, live state, "
                  "estimates. Every page has a JSON twin under /api.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.web = web
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("liveworth.web", "static")]), name="static")
    described = _described(app, web.card)
    app.openapi = lambda: described  # type: ignore[method-assign]
    app.add_exception_handler(LiveworthError, _liveworth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    hosts = allowed_hosts if allowed_hosts is not None else (
        LOOPBACK_HOSTS if token is None else None)
    app.add_middleware(Guard, token=token, allowed_hosts=hosts)
    return app

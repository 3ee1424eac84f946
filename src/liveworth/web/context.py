"""What the routes share: the :class:`Web` context (how to read the store, the rate card, the
templates) with its remembered answers and live streams."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, TypeVar, cast

import anyio
import numpy as np
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool

from liveworth import __version__
from liveworth.alerts.watch import AlertWatch
from liveworth.analysis.analytics import Analysis, analyze
from liveworth.analysis.gifters import GifterStats, Loyalty, leaderboard, loyalty
from liveworth.analysis.report import (
    SessionReport,
    SessionRow,
    list_sessions,
    redacted,
    session_report,
)
from liveworth.analysis.roster import (
    DEFAULT_TIERS,
    PERIODS,
    TIERS_NOTE,
    Roster,
    Tier,
    check_tiers,
)
from liveworth.analysis.roster import roster as build_roster
from liveworth.analysis.sessionstats import (
    SessionStats,
    parse_since,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.analysis.subscriptions import session_subscriptions
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.economy.subscriptions import region_of
from liveworth.errors import LiveworthError, NotFoundError, UsageError
from liveworth.store.database import Store
from liveworth.web.db import (
    BUSY_TIMEOUT_S,
    NoDatabase,
    Opener,
    Version,
    data_version,
)
from liveworth.web.live import (
    IDLE_MS,
    LiveState,
    empty_state,
    live_state,
    normalize_host,
)

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
    #: The clock liveness is judged by (ms, event time; None: the wall clock).
    clock: Callable[[], int | None] | None = None
    #: Set when the server is stopping: live streams end.
    closing: threading.Event = field(default_factory=threading.Event)
    #: ``serve --alerts``: the rules evaluated (read-only) over the stored events of each LIVE
    #: shown, next to the alerts the recorder stored.
    alert_watch: AlertWatch | None = None
    #: The card of another preset, for a page's ``?preset=`` (serve's other options kept;
    #: default: the bundled card of that preset).
    preset_loader: Callable[[str], RateCard] | None = None
    _cards: dict[tuple[str | None, str | None], RateCard] = field(default_factory=dict)

    def card_for(self, preset: str | None = None, channel: str | None = None) -> RateCard:
        """The rate card of a page's ``preset`` and ``channel`` options, as ``--preset`` and
        ``--channel`` make it (None or empty: the server's); an unknown one is a UsageError."""
        key = (preset or None, channel or None)
        if key == (None, None):
            return self.card
        with self._lock:
            hit = self._cards.get(key)
        if hit is not None:
            return hit
        card = self.card
        if key[0] is not None and key[0] != card.preset:
            card = (self.preset_loader or load_rate_card)(key[0])
        if key[1] is not None:
            card = card.with_overrides({"channel": key[1]}, "command line")
        with self._lock:
            if len(self._cards) >= _CACHE_SIZE:
                self._cards.clear()
            self._cards[key] = card
        return card

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

    def sessions(self, preset: str | None = None,
                 channel: str | None = None) -> list[SessionRow]:
        card = self.card_for(preset, channel)
        try:
            return list(self.read(("sessions", preset, channel),
                                  lambda s: tuple(list_sessions(s, card))))
        except NoDatabase:
            return []

    def report(self, room_id: str, channel: str | None, redact: bool, region: str | None = None,
               sub_bonus: bool = False, preset: str | None = None) -> SessionReport:
        """One session's report; its subscriptions under ``region`` and ``sub_bonus``."""
        cc = region_of(region)
        card = self.card_for(preset, channel)

        def build(s: Store) -> SessionReport:
            rep = session_report(s, room_id, card, channel)
            return replace(rep, subscriptions=session_subscriptions(s, room_id, rep.start_ts, cc,
                                                                    sub_bonus))

        try:
            rep = self.read(("report", room_id, channel, cc, sub_bonus, preset), build)
        except NoDatabase:
            raise NotFoundError(f"no session {room_id!r}: the database is empty") from None
        return redacted(rep) if redact else rep

    def live(self, host: str, top: int, recent: int) -> LiveState:
        try:
            state = self.read(("live", normalize_host(host), top, recent),
                              lambda s: live_state(s, host, self.card, top=top, recent=recent,
                                                   watch=self.alert_watch))
        except NoDatabase:
            return empty_state(host, self.card)
        now_ms = self.clock() if self.clock is not None else None  # the recording's own
        if now_ms is None:
            now_ms = int(time.time() * 1000)  # the clock tells a live session from an idle one
        if state.status == "live" and state.last_ts is not None and \
                now_ms - state.last_ts > IDLE_MS:
            state = replace(state, status="idle")
        return state

    def analysis(self, host: str, since: str | None, tz: str, seed: int,
                 preset: str | None = None, channel: str | None = None) -> Analysis:
        """``liveworth analyze --host HOST --seed SEED``: the same seeded bootstrap."""
        card = self.card_for(preset, channel)
        try:
            return self.read(("analysis", host, since, tz, seed, preset, channel),
                             lambda s: analyze(s, card, host=host, since=since, tz=tz,
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
               tiers: tuple[Tier, ...], preset: str | None = None,
               channel: str | None = None) -> Roster:
        """``liveworth roster``: per creator and period, with the pace towards the tiers."""
        when = as_of or int(time.time() // 60)  # no date: today, remembered for a minute
        card = self.card_for(preset, channel)
        try:
            return self.read(("roster", period, when, tz, since, tiers, preset, channel),
                             lambda s: build_roster(s, card, period=period, tiers=tiers,
                                                    as_of=as_of, tz=tz, since=since))
        except NoDatabase:  # nothing recorded yet: an empty roll-up, checked like a full one
            if period not in PERIODS:
                raise UsageError(f"unknown period {period!r}") from None
            parse_since(since)
            day = parse_since(as_of) or dt.datetime.now(zone(tz)).date()
            checked = check_tiers(tiers)
            note = TIERS_NOTE if checked == check_tiers(DEFAULT_TIERS) else \
                "tier thresholds as given"
            return Roster(period, day, tz, card.name, checked, (), (), note)

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


def web_of(request: Request) -> Web:
    return cast(Web, request.app.state.web)


Ctx = Annotated[Web, Depends(web_of)]

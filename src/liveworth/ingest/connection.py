"""One creator's connection loop: is the creator live, connect, record, reconnect, wait again.

The rules that decide what a recorder costs and says while nobody watches it:

- **Ask before connecting.** A source that can tell whether its creator is live
  (``check_live``: TikTok's own look-up, no sign-server request) is asked first, on a slow
  jittered schedule (``poll_s`` ± 20 %, slower as the quota runs low); only a live creator costs
  a sign-server request (:class:`Quota`).
- **The LIVE's end is the end.** A connection that ends normally is the LIVE ending (TikTok's end
  or suspension control message): one creator exits; a roster goes back to waiting.
- **A creator who does not exist is said once** (:class:`~liveworth.ingest.sources.UserNotFound`):
  the creator's task ends with status ``not found``; the others go on.
- **Every failure keeps its reason** (no network, TikTok refused, sign server refused or rate
  limited with its reset time): it is the state's ``reason``, shown in the live view and in each
  ``--json`` state line. A failure that says when to retry (``retry_after_s``) waits that long.

:class:`CreatorState` is what the live view and the state lines show; every change of its
``status`` or ``reason`` goes through :meth:`CreatorState.set`, which stamps it and calls the
recorder's ``on_change``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from liveworth.decode.rawsources import RawMessage
from liveworth.ingest.sources import Disconnected, LiveSource, NotLive, UserNotFound

# ---------------------------------------------------------------------------- quota


class Quota:
    """Sign-server request budgets per minute, hour and day (sliding windows).

    :meth:`delay_factor` grows as the tightest budget runs low, so that polling slows down
    before the budget runs out rather than hitting the wall.
    """

    WINDOWS = (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0))

    def __init__(self, per_minute: int, per_hour: int, per_day: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"minute": per_minute, "hour": per_hour, "day": per_day}
        self.clock = clock
        self.used: deque[float] = deque()

    def _trim(self) -> None:
        horizon = self.clock() - 86400.0
        while self.used and self.used[0] < horizon:
            self.used.popleft()

    def left(self) -> dict[str, int]:
        self._trim()
        now = self.clock()
        return {name: self.limits[name] - sum(1 for t in self.used if t > now - span)
                for name, span in self.WINDOWS}

    def try_acquire(self) -> bool:
        if min(self.left().values()) <= 0:
            return False
        self.used.append(self.clock())
        return True

    def delay_factor(self) -> float:
        """1 while every budget has more than half left, rising to 8 as one runs out."""
        left = self.left()
        frac = min(left[n] / self.limits[n] for n in self.limits if self.limits[n] > 0)
        return 1.0 if frac >= 0.5 else min(8.0, 0.5 / max(frac, 0.0625))

    def wait_s(self) -> float:
        """Seconds until a request would fit again."""
        self._trim()
        now = self.clock()
        waits = [0.0]
        for name, span in self.WINDOWS:
            inside = [t for t in self.used if t > now - span]
            if len(inside) >= self.limits[name] and inside:
                waits.append(inside[len(inside) - self.limits[name]] + span - now)
        return max(waits)


# ---------------------------------------------------------------------------- state

@dataclass
class CreatorState:
    """What the live view shows for one creator (written by the tasks and the writer)."""

    host: str
    #: starting, checking, offline, quota, connecting, live, reconnecting, ended, not found or
    #: error (docs/RECORDING.md)
    status: str = "starting"
    #: Why: the failure's real reason, how long the wait is, how the LIVE ended.
    reason: str = ""
    room_id: str | None = None
    messages: int = 0
    events: int = 0
    rejected: int = 0
    coins: int = 0
    viewers: int | None = None
    gifts_last_minute: int = 0
    top_gifters: list[tuple[str, int]] = field(default_factory=list)
    reconnects: int = 0
    last_error: str = ""
    #: Wall-clock ms of the last change of status or reason.
    since_ms: int = 0
    on_change: Callable[[CreatorState], None] | None = field(default=None, repr=False,
                                                             compare=False)

    @property
    def state(self) -> str:
        """The status with its reason, as the live view shows it whole."""
        return f"{self.status} ({self.reason})" if self.reason else self.status

    def set(self, status: str, reason: str = "") -> None:
        """Change the status (and reason); a change is stamped and reported, a repeat is not."""
        if (status, reason) == (self.status, self.reason):
            return
        self.status, self.reason = status, reason
        self.since_ms = int(time.time() * 1000)
        if self.on_change is not None:
            self.on_change(self)


@dataclass(frozen=True)
class Gap:
    host: str
    room_id: str | None
    from_ms: int
    to_ms: int
    reason: str


class Sink(Protocol):
    """Where the loop hands messages and gaps (the recorder's writer)."""

    def put(self, host: str, msg: RawMessage) -> None: ...

    def put_gap(self, gap: Gap) -> None: ...


# ---------------------------------------------------------------------------- the loop


@dataclass
class Backoff:
    """Jittered exponential backoff: base × 2^attempt, capped, times a random 0.5–1.5."""

    rng: random.Random
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, attempt: int) -> float:
        growth = float(2 ** min(attempt, 16))
        return min(self.cap_s, self.base_s * growth) * self.rng.uniform(0.5, 1.5)

    def poll(self, poll_s: float, quota: Quota) -> float:
        """The next live check: ``poll_s`` ± 20 %, slower as the quota runs low."""
        return poll_s * quota.delay_factor() * self.rng.uniform(0.8, 1.2)


@dataclass
class _Loop:
    source: LiveSource
    sink: Sink
    state: CreatorState
    lock: threading.Lock
    quota: Quota
    backoff: Backoff
    poll_s: float
    stop_when_ended: bool
    stop: asyncio.Event
    attempt: int = 0
    dropped_at: int | None = None
    last_arrival: int = 0

    def set(self, status: str, reason: str = "") -> None:
        with self.lock:
            self.state.set(status, reason)

    async def is_live(self) -> bool | None:
        """Whether the creator is live (True for a source that cannot tell); None: the check
        failed and was waited out."""
        check = getattr(self.source, "check_live", None)
        if check is None:
            return True
        if self.state.status in ("starting", "ended", "error"):
            self.set("checking")
        try:
            live = bool(await check())
        except Disconnected as exc:
            await self.failed("error", exc)
            return None
        self.attempt = 0 if live else self.attempt
        if not live:
            await self.offline()
        return live

    async def offline(self) -> None:
        self.set("offline", "waiting for the LIVE")
        await _sleep(self.backoff.poll(self.poll_s, self.quota), self.stop)

    async def failed(self, status: str, exc: Disconnected) -> None:
        self.attempt += 1
        wait = self.backoff.delay(self.attempt)
        after = getattr(exc, "retry_after_s", None)
        if after is not None:
            wait = max(wait, float(after))
        with self.lock:
            self.state.last_error = str(exc)
            if status == "reconnecting":
                self.state.reconnects += 1
            self.state.set(status, str(exc))
        await _sleep(wait, self.stop)

    async def connection(self) -> bool:
        """One connection; True when the loop is over (stop, or the LIVE ended for good)."""
        self.set("connecting")
        async for msg in self.source.connect():
            if self.attempt or self.state.status != "live":
                self.set("live")
                self.attempt = 0
            if self.dropped_at is not None and msg.arrival_ms > self.dropped_at:
                self.sink.put_gap(Gap(self.source.host, self.state.room_id, self.dropped_at,
                                      msg.arrival_ms, "disconnected"))
                self.dropped_at = None
            self.last_arrival = max(self.last_arrival, msg.arrival_ms)
            self.sink.put(self.source.host, msg)
            if self.stop.is_set():
                return True
        self.set("ended", getattr(self.source, "end_reason", "") or "the LIVE ended")
        if self.stop_when_ended:
            return True
        await _sleep(self.backoff.poll(self.poll_s, self.quota), self.stop)
        return False

    async def once(self) -> bool:
        """One round of the loop; True when it is over."""
        live = await self.is_live()
        if not live:
            return False
        if self.source.signed and not self.quota.try_acquire():
            self.set("quota", f"sign-server quota used up: next request in "
                              f"{self.quota.wait_s():.0f} s")
            await _sleep(max(1.0, self.quota.wait_s()), self.stop)
            return False
        try:
            return await self.connection()
        except NotLive:
            await self.offline()
        except Disconnected as exc:
            self.dropped_at = self.last_arrival or None
            await self.failed("reconnecting", exc)
        return False


async def record_creator(source: LiveSource, writer: Sink, state: CreatorState,
                         lock: threading.Lock, quota: Quota, backoff: Backoff, *,
                         poll_s: float = 60.0, stop_when_ended: bool = True,
                         stop: asyncio.Event | None = None) -> None:
    """Record one creator until its LIVE ends (or for ever, watching for the next LIVE)."""
    loop = _Loop(source, writer, state, lock, quota, backoff, poll_s, stop_when_ended,
                 stop or asyncio.Event())
    try:
        while not loop.stop.is_set():
            try:
                if await loop.once():
                    return
            except UserNotFound as exc:
                with lock:
                    state.last_error = str(exc)
                    state.set("not found", str(exc))
                return
            except Exception as exc:  # one creator's failure must not stop the others
                await loop.failed("error", Disconnected(f"{exc.__class__.__name__}: {exc}"))
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(close())


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

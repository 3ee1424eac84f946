"""Where raw webcast messages come from: the transport seam of the live recorder.

A :class:`LiveSource` yields :class:`~liveworth.decode.rawsources.RawMessage` s for one creator, one
connection at a time. The recorder owns everything else (journal, decoding, store, reconnects), so
a live TikTok connection, a replay of a recorded file and a test's fake are interchangeable:

- :class:`ReplaySource` — journals or collector dumps, paced by their recorded arrival times.
- :class:`FlakySource` — wraps another source's messages and drops the connection every few
  seconds, replaying a backlog of already-sent messages on each reconnect, as TikTok does.
- ``liveworth.ingest.tiktok.TikTokSource`` — the real thing (optional extra, AGPL).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from liveworth.decode.rawsources import RawMessage, RawReject, iter_raw
from liveworth.errors import InputFormatError


class Disconnected(Exception):
    """The connection dropped or could not be made, for the reason in its text; the recorder
    tries again after a backoff, or after ``retry_after_s`` when the failure says when."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class NotLive(Exception):
    """The creator is not live (yet); the recorder polls again later."""


class UserNotFound(Exception):
    """The creator does not exist or cannot go LIVE: asking again will not change it."""


class LiveSource(Protocol):
    """One creator's stream of raw messages."""

    host: str
    #: Whether a connect costs a sign-server request (quota).
    signed: bool

    # A source may also have ``async def check_live(self) -> bool`` — whether the creator is
    # live, at no sign-server cost (raises UserNotFound or Disconnected) — and an
    # ``end_reason`` string saying how its last connection ended.

    def connect(self) -> AsyncIterator[RawMessage]:
        """Messages of one connection, in arrival order.

        Ends normally when the LIVE ends (or the input is exhausted); raises
        :class:`Disconnected` when the connection drops, :class:`NotLive` when the creator
        is not live and :class:`UserNotFound` when there is no such creator.
        """
        ...


def load_raw(paths: Sequence[str | Path]) -> tuple[list[RawMessage], list[RawReject]]:
    """All raw messages of journals, dumps or response frames, in arrival order."""
    messages: list[RawMessage] = []
    rejects: list[RawReject] = []
    for path in paths:
        for item in iter_raw(path):
            (rejects if isinstance(item, RawReject) else messages).append(item)  # type: ignore[arg-type]
    messages.sort(key=lambda m: m.arrival_ms)
    return messages, rejects


class ReplaySource:
    """Replays recorded raw messages at their arrival times scaled by ``speed`` (each at most
    :data:`GRANULARITY_S` early).

    ``speed`` None replays as fast as possible. A silence between two messages waits at most
    ``max_gap_s`` seconds of replay time (None: the whole silence, scaled): a dump that spans
    weeks of collector sessions replays its LIVEs, not the weeks between them. Messages keep
    their recorded arrival times either way. Only the first connect replays; the LIVE then
    ends, like a real one. Resuming after a restart replays everything again: the store's dedupe
    by message id makes that harmless, which is what crash recovery relies on.
    """

    signed = False

    #: Seconds a message may be handed over ahead of its time: pacing wakes up once per this
    #: much (not once per message), which keeps 40,000 msg/s of replays cheap.
    GRANULARITY_S = 0.02

    def __init__(self, messages: Sequence[RawMessage], host: str, speed: float | None = 1.0,
                 max_gap_s: float | None = None):
        if speed is not None and speed <= 0:
            raise InputFormatError("speed must be positive")
        if max_gap_s is not None and not max_gap_s >= 0:
            raise InputFormatError("max_gap_s must not be negative")
        self.messages = list(messages)
        self.host = host
        self.speed = speed
        self.max_gap_s = max_gap_s

    async def connect(self) -> AsyncIterator[RawMessage]:
        if not self.messages:
            return
        t0_wall = time.monotonic()
        due, last_ms = 0.0, self.messages[0].arrival_ms
        for i, msg in enumerate(self.messages):
            if self.speed is not None:
                gap = max(msg.arrival_ms - last_ms, 0) / 1000 / self.speed
                due += gap if self.max_gap_s is None else min(gap, self.max_gap_s)
                last_ms = max(last_ms, msg.arrival_ms)
                delay = due - (time.monotonic() - t0_wall)
                if delay > self.GRANULARITY_S:
                    await asyncio.sleep(delay)
                elif i % 512 == 0:
                    await asyncio.sleep(0)
            elif i % 512 == 0:
                await asyncio.sleep(0)  # let the other creators' tasks run
            yield msg


class FlakySource:
    """Drops the connection every ``drop_every`` seconds of messages (a random span within the
    range) and, on each reconnect, first replays the last ``backlog`` messages already sent —
    TikTok's behaviour that double counts in naive trackers."""

    signed = False

    def __init__(self, messages: Sequence[RawMessage], host: str, *, rng: random.Random,
                 drop_every: tuple[float, float] = (1.0, 10.0), backlog: int = 50,
                 speed: float | None = None) -> None:
        self.messages = list(messages)
        self.host = host
        self.rng = rng
        self.drop_every = drop_every
        self.backlog = backlog
        self.speed = speed
        self.position = 0
        self.connects = 0

    async def connect(self) -> AsyncIterator[RawMessage]:
        self.connects += 1
        start = self.position
        for msg in self.messages[max(0, start - self.backlog):start]:
            yield msg  # the backlog TikTok replays after a reconnect
        if start >= len(self.messages):
            return
        span_ms = self.rng.uniform(*self.drop_every) * 1000
        first = self.messages[start].arrival_ms
        i = start
        while i < len(self.messages) and self.messages[i].arrival_ms - first <= span_ms:
            if self.speed is not None and i > start:
                gap = (self.messages[i].arrival_ms - self.messages[i - 1].arrival_ms) / 1000
                await asyncio.sleep(max(0.0, gap / self.speed))
            elif i % 512 == 0:
                await asyncio.sleep(0)
            yield self.messages[i]
            i += 1
            self.position = i
        if i < len(self.messages):
            raise Disconnected(f"dropped after {i - start} messages")

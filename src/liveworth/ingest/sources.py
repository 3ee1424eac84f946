"""Where raw webcast messages come from: the transport seam of the live recorder.

A :class:`LiveSource` yields :class:`~liveworth.decode.rawsources.RawMessage` s for one creator, one
connection at a time. The recorder owns everything else (journal, decoding, store, reconnects), so
a live TikTok connection, a replay of a recorded file and a test's fake are interchangeable:

- :class:`ReplaySource` — journals, collector dumps or event JSONL (a simulated LIVE), paced by
  their recorded arrival times; :func:`replay_sources` makes one per creator of a recording.
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
from liveworth.ingest.recovery import journal_path


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
    # live, at no sign-server cost (raises UserNotFound or Disconnected) — an
    # ``end_reason`` string saying how its last connection ended, and ``journal_once = True``
    # when a message its creator's journal already holds must not be appended again (a replay;
    # a live source journals everything it receives, TikTok's replayed backlog included).

    def connect(self) -> AsyncIterator[RawMessage]:
        """Messages of one connection, in arrival order.

        Ends normally when the LIVE ends (or the input is exhausted); raises
        :class:`Disconnected` when the connection drops, :class:`NotLive` when the creator
        is not live and :class:`UserNotFound` when there is no such creator.
        """
        ...


def load_raw(paths: Sequence[str | Path]) -> tuple[list[RawMessage], list[RawReject]]:
    """All raw messages of journals, dumps, response frames or event JSONL, in arrival order
    (stable), and the entries that could not be read."""
    messages: list[RawMessage] = []
    rejects: list[RawReject] = []
    for path in paths:
        for item in iter_raw(path):
            (rejects if isinstance(item, RawReject) else messages).append(item)  # type: ignore[arg-type]
    messages.sort(key=lambda m: m.arrival_ms)
    return messages, rejects


class ReplayClock:
    """The clock one replay's sources share: it starts at the first connect of any of them, so
    the messages of several creators keep their relative timing."""

    def __init__(self) -> None:
        self.t0: float | None = None

    def start(self) -> float:
        if self.t0 is None:
            self.t0 = time.monotonic()
        return self.t0


def replay_schedule(messages: Sequence[RawMessage], speed: float | None,
                    max_gap_s: float | None) -> list[float]:
    """When each message is due, in replay seconds after the first: recorded arrival gaps
    scaled by ``speed``, each silence cut to ``max_gap_s`` (None: kept whole). Empty when
    ``speed`` is None (as fast as possible)."""
    if speed is None or not messages:
        return []
    due, last_ms = 0.0, messages[0].arrival_ms
    out: list[float] = []
    for msg in messages:
        gap = max(msg.arrival_ms - last_ms, 0) / 1000 / speed
        due += gap if max_gap_s is None else min(gap, max_gap_s)
        last_ms = max(last_ms, msg.arrival_ms)
        out.append(due)
    return out


class ReplaySource:
    """Replays recorded raw messages at their arrival times scaled by ``speed`` (each at most
    :data:`GRANULARITY_S` early).

    ``speed`` None replays as fast as possible. A silence between two messages waits at most
    ``max_gap_s`` seconds of replay time (None: the whole silence, scaled): a dump that spans
    weeks of collector sessions replays its LIVEs, not the weeks between them. Messages keep
    their recorded arrival times either way. Only the first connect replays; the LIVE then
    ends, like a real one. Resuming after a restart replays everything again: the store's dedupe
    by message id makes that harmless, which is what crash recovery relies on.

    The sources of one replay of several creators (:func:`replay_sources`) share a ``clock``
    and are given their messages' places in the replay's one schedule (``due``). A replay
    journals each message once (:attr:`journal_once`): a message its creator's journal already
    holds is not appended again.
    """

    signed = False
    #: The recorder's writer skips a message the journal already holds (see ``Writer``).
    journal_once = True

    #: Seconds a message may be handed over ahead of its time: pacing wakes up once per this
    #: much (not once per message), which keeps 40,000 msg/s of replays cheap.
    GRANULARITY_S = 0.02

    def __init__(self, messages: Sequence[RawMessage], host: str, speed: float | None = 1.0,
                 max_gap_s: float | None = None, *, due: Sequence[float] | None = None,
                 clock: ReplayClock | None = None):
        if speed is not None and speed <= 0:
            raise InputFormatError("speed must be positive")
        if max_gap_s is not None and not max_gap_s >= 0:
            raise InputFormatError("max_gap_s must not be negative")
        self.messages = list(messages)
        self.host = host
        self.speed = speed
        self.max_gap_s = max_gap_s
        self.due = list(due) if due is not None else replay_schedule(self.messages, speed,
                                                                     max_gap_s)
        if speed is not None and len(self.due) != len(self.messages):
            raise ValueError("due must give one time per message")
        self.clock = clock or ReplayClock()

    async def connect(self) -> AsyncIterator[RawMessage]:
        if not self.messages:
            return
        t0_wall = self.clock.start()
        for i, msg in enumerate(self.messages):
            if self.speed is not None:
                delay = self.due[i] - (time.monotonic() - t0_wall)
                if delay > self.GRANULARITY_S:
                    await asyncio.sleep(delay)
                elif i % 512 == 0:
                    await asyncio.sleep(0)
            elif i % 512 == 0:
                await asyncio.sleep(0)  # let the other creators' tasks run
            yield msg


def replay_sources(messages: Sequence[RawMessage], fallback_host: str,
                   speed: float | None = 1.0, max_gap_s: float | None = None, *,
                   rehost: bool = False) -> list[ReplaySource]:
    """One :class:`ReplaySource` per creator of ``messages`` (in arrival order), each journaled
    under its own host; a message without a host goes to ``fallback_host`` (``rehost``: every
    message does). All of them share one clock and one schedule, computed over all the messages
    in arrival order with the ``max_gap_s`` cut, so two creators' messages keep their relative
    timing. Sources come in the order of their creators' first messages; hosts that would share
    a journal file (``Alice`` and ``alice``) are one creator, the first one's."""
    schedule = replay_schedule(messages, speed, max_gap_s)
    clock = ReplayClock()
    groups: dict[str, tuple[str, list[RawMessage], list[float]]] = {}
    for i, msg in enumerate(messages):
        host = fallback_host if rehost else msg.host or fallback_host
        key = journal_path(Path(), host).name.casefold()
        _, mine, due = groups.setdefault(key, (host, [], []))
        mine.append(msg)
        if schedule:
            due.append(schedule[i])
    return [ReplaySource(mine, host, speed, max_gap_s, due=due, clock=clock)
            for host, mine, due in groups.values()]


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

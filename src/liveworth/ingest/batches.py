"""The recorder's writer's parts that need no store: journal line fingerprints (a replay journals
each message once), decoding a batch into one Arrow table, and the event-to-store latency of
every message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from liveworth.decode.events import Event
from liveworth.decode.rawsources import RawMessage, decode_raw
from liveworth.errors import InputFormatError
from liveworth.store.database import events_table


def line_fingerprint(line: bytes) -> int:
    """A journal line's fingerprint (its newline included): Python's own 64-bit hash of the
    bytes (SipHash, keyed per process; the writer compares fingerprints only within its own
    process, taken from the journal when it opens it). About 1 µs for a 4 KB line, where
    BLAKE2b took 5–6 µs."""
    return hash(line)


class Latency:
    """The event-to-store latency of every message — from being handed to the writer until its
    batch is stored — counted in whole milliseconds, so memory stays bounded however long the
    recording (one counter per distinct millisecond)."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.batches = 0

    def add(self, stored: float, handed: Sequence[float]) -> None:
        """One stored batch: ``stored`` and each message's hand-over, both ``time.monotonic``."""
        self.batches += 1
        self.counts.update([int((stored - t) * 1000) for t in handed])

    @property
    def messages(self) -> int:
        return sum(self.counts.values())

    def quantile_ms(self, q: float) -> int | None:
        """The latency in whole ms (rounded down) that ``q`` of the messages were stored within
        (the message at rank ``int(q * n)`` in order of latency); None before any."""
        rank = int(q * self.messages)
        seen = 0
        for ms in sorted(self.counts):
            seen += self.counts[ms]
            if seen > rank:
                return ms
        return max(self.counts, default=None)


def journal_fingerprints(path: Path) -> set[int]:
    """The fingerprints of a journal's lines (a last line without its newline as if it had one:
    the writer ends it before appending)."""
    seen: set[int] = set()
    with path.open("rb") as f:
        for line in f:
            seen.add(line_fingerprint(line if line.endswith(b"\n") else line + b"\n"))
    return seen


def decode_chunk(messages: Sequence[RawMessage]) -> tuple[pa.Table, list[int]]:
    """Decode raw messages: their events' table and how many events each made (-1: rejected)."""
    events: list[Event] = []
    made: list[int] = []
    for msg in messages:
        try:
            decoded = decode_raw(msg)
        except InputFormatError:
            made.append(-1)
            continue
        made.append(len(decoded))
        events.extend(decoded)
    return events_table(events), made

"""When to go live: coins per hour LIVE on a weekday × hour-of-day grid, in a time zone.

:func:`heatmap` returns a :class:`Heatmap`: 7 weekday rows, **Monday first** (Python's
``weekday()``: 0 = Monday … 6 = Sunday), each of 24 hour cells (hour 0 = 00:00–00:59 local time).
Each cell has ``hours_live`` (live time that fell in that local hour), ``coins`` (coins credited to
the host, guests' gifts left out, whose gift time falls in that hour) and ``coins_per_hour``
(``coins / hours_live``, None where nothing was live).

- **Live time is cut exactly.** A session from 21:40 to 01:10 gives 20 minutes to 21:00, an hour
  each to 22:00 and 23:00, and the next weekday's 00:00 an hour and its 01:00 ten minutes. Local
  hours follow the zone's own rules: on the night clocks go forward the skipped hour gets nothing;
  on the night they go back the repeated hour gets both of its passes (up to two hours of live
  time in one hour cell). Zones whose offset is not whole hours (Asia/Kathmandu, +05:45) are cut
  at their own local hours. Times are integers of milliseconds throughout, so every cell's live
  time is exact and the cells add up to the sessions' lengths to the millisecond.
- **Coins go to the cell of the gift's time**: the time of the frame that credited it (a streak's
  final or last frame: :mod:`liveworth.store.ledger`). A gift that TikTok stamped just outside its
  session's start or end (a late final) still counts in its own hour, so the grid's coins always add
  up to the analysis's coins; that cell can then have coins without live time (``coins_per_hour``
  None).

So the sum of all cells' coins is the analysis's total coins and the sum of their live time its
total hours live — exactly (tests/test_heatmap.py, a property test among them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from liveworth.analysis.sessionstats import WEEKDAYS, SessionStats, zone
from liveworth.store import portable
from liveworth.store.database import Store

HOURS = 24
_HOUR_MS = 3_600_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class HourCell:
    """One weekday and local hour: live time (integer ms, exact) and the coins given in it."""

    live_ms: int
    coins: int

    @property
    def hours_live(self) -> float:
        return self.live_ms / _HOUR_MS

    @property
    def coins_per_hour(self) -> float | None:
        return None if self.live_ms <= 0 else self.coins * _HOUR_MS / self.live_ms

    def as_dict(self) -> dict[str, Any]:
        per_hour = self.coins_per_hour
        return {"hours_live": self.hours_live, "coins": self.coins,
                "coins_per_hour": None if per_hour is None else round(per_hour, 3)}


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The grid: ``rows[weekday][hour]``, weekday 0 = Monday, hours local to ``tz``."""

    tz: str
    rows: tuple[tuple[HourCell, ...], ...]

    @property
    def coins(self) -> int:
        return sum(c.coins for row in self.rows for c in row)

    @property
    def live_ms(self) -> int:
        return sum(c.live_ms for row in self.rows for c in row)

    def cell(self, weekday: int, hour: int) -> HourCell:
        return self.rows[weekday][hour]

    def best(self, k: int = 3, min_hours: float = 1.0) -> list[tuple[int, int, HourCell]]:
        """The ``k`` cells with the most coins per hour among those with at least ``min_hours``
        live: ``(weekday, hour, cell)``, best first (ties: the earlier in the week)."""
        cells = [(d, h, c) for d, row in enumerate(self.rows) for h, c in enumerate(row)
                 if c.live_ms >= min_hours * _HOUR_MS]
        cells.sort(key=lambda x: (-(x[2].coins_per_hour or 0.0), x[0], x[1]))
        return cells[:k]

    def as_dict(self) -> list[list[dict[str, Any]]]:
        return [[c.as_dict() for c in row] for row in self.rows]


def axes(tz: str) -> dict[str, Any]:
    """What the rows and columns of the JSON ``heatmap`` are (its ``heatmap_axes``)."""
    return {"rows": list(WEEKDAYS), "first_row": "Monday", "columns": "hour of day 0-23",
            "tz": tz, "cell": {"hours_live": "hours live in that local hour",
                               "coins": "coins credited to the host at a gift time in that hour",
                               "coins_per_hour": "coins / hours_live (null: never live then)"}}


# ---------------------------------------------------------------------------- cutting time


def _local(ms: int, tz: dt.tzinfo) -> dt.datetime:
    return (_EPOCH + dt.timedelta(milliseconds=ms)).astimezone(tz)


def _offset_ms(ms: int, tz: dt.tzinfo) -> int:
    off = _local(ms, tz).utcoffset()
    return 0 if off is None else off // dt.timedelta(milliseconds=1)


def _next_cut(t: int, end: int, tz: dt.tzinfo) -> int:
    """The first instant after ``t`` (at most ``end``) where the local (weekday, hour) may
    change: the next local hour on the clock at ``t``'s offset, or an offset change before it."""
    local = _local(t, tz)
    off = _offset_ms(t, tz)
    wall_next = local.replace(minute=0, second=0, microsecond=0, tzinfo=None) \
        + dt.timedelta(hours=1)
    cut = min((wall_next - _NAIVE_EPOCH) // dt.timedelta(milliseconds=1) - off, end)
    if _offset_ms(cut - 1, tz) == off:
        return cut
    lo, hi = t, cut - 1  # the offset at lo is off, at hi it is not: find where it changes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _offset_ms(mid, tz) == off else (lo, mid)
    return hi


#: A session longer than this (no LIVE is; a bad recording can be) is not cut hour by hour: its
#: live time is counted per stretch of constant UTC offset, arithmetically (:func:`_add_long`).
_LONG_MS = 21 * 86_400_000
_WEEK_MS = 7 * HOURS * _HOUR_MS
#: Local time 0 (1970-01-01 00:00) was a Thursday: its hour is cell 3 × 24.
_THURSDAY = 3 * HOURS


def _offsets(start: int, end: int, tz: dt.tzinfo) -> list[tuple[int, int, int]]:
    """``[start, end)`` cut where the zone's UTC offset changes: ``(from, to, offset_ms)``.
    Looked at a week apart (offsets change a few times a year at most), each change found
    exactly by bisection."""
    out: list[tuple[int, int, int]] = []
    t = start
    while t < end:
        off = _offset_ms(t, tz)
        lo, hi = t, min(t + _WEEK_MS, end)
        while hi < end and _offset_ms(hi, tz) == off:
            lo, hi = hi, min(hi + _WEEK_MS, end)
        other = hi if hi < end else end - 1  # the offset is off at lo; here it may not be
        if _offset_ms(other, tz) == off:
            out.append((t, end, off))
            break
        while other - lo > 1:
            mid = (lo + other) // 2
            lo, other = (mid, other) if _offset_ms(mid, tz) == off else (lo, mid)
        out.append((t, other, off))
        t = other
    return out


def _add_long(live: list[int], start: int, end: int, tz: dt.tzinfo) -> None:
    """Add the live time of ``[start, end)`` to ``live`` (ms per cell) as :func:`live_pieces`
    would, in O(168) per stretch of constant offset: local time ``L = t + offset`` is in hour
    ``L // 1 h``, whose cell is ``(hour + 72) mod 168``."""
    for lo, hi, off in _offsets(start, end, tz):
        a, b = lo + off, hi + off
        first, last = a // _HOUR_MS, (b - 1) // _HOUR_MS
        if first == last:
            live[(first + _THURSDAY) % 168] += b - a
            continue
        live[(first + _THURSDAY) % 168] += (first + 1) * _HOUR_MS - a
        live[(last + _THURSDAY) % 168] += b - last * _HOUR_MS
        whole = last - first - 1  # the whole hours between
        weeks, rest = divmod(whole, 168)
        if weeks:
            for c in range(168):
                live[c] += weeks * _HOUR_MS
        for k in range(first + 1, first + 1 + rest):
            live[(k + _THURSDAY) % 168] += _HOUR_MS


def _cell_of(ms: int, tz: dt.tzinfo) -> int:
    local = _local(ms, tz)
    return local.weekday() * HOURS + local.hour


def live_pieces(start: int, end: int, tz: dt.tzinfo) -> list[tuple[int, int, int]]:
    """``[start, end)`` cut into pieces of one local weekday-hour: ``(from, to, cell)`` with
    ``cell = weekday × 24 + hour``; the pieces cover the span exactly, in order."""
    out: list[tuple[int, int, int]] = []
    t = start
    while t < end:
        cut = _next_cut(t, end, tz)
        out.append((t, cut, _cell_of(t, tz)))
        t = cut
    return out


# ---------------------------------------------------------------------------- the grid


def _gift_coins(store: Store, sessions: Sequence[SessionStats],
                pieces: list[tuple[str, int, int, int]], tz: dt.tzinfo) -> dict[int, int]:
    """The host's coins per cell: a gift inside its session goes to its piece's cell (one range
    join in DuckDB), one outside (before the start, after the end) to its own local hour."""
    spans = pa.table({"room_id": pa.array([s.room_id for s in sessions], pa.string()),
                      "start_ts": pa.array([s.start_ts for s in sessions], pa.int64()),
                      "end_ts": pa.array([s.end_ts for s in sessions], pa.int64())})
    cut = pa.table({"room_id": pa.array([p[0] for p in pieces], pa.string()),
                    "lo": pa.array([p[1] for p in pieces], pa.int64()),
                    "hi": pa.array([p[2] for p in pieces], pa.int64()),
                    "cell": pa.array([p[3] for p in pieces], pa.int64())})
    out: dict[int, int] = {}
    tables = {"_heat_sessions": spans, "_heat_pieces": cut}
    gifts = """(SELECT room_id, ts, coins FROM {credits} WHERE NOT guest
                AND room_id IN (SELECT room_id FROM {_heat_sessions}))"""
    for cell, amount in portable.rows(store, f"""
            SELECT p.cell, sum(CAST(c.coins AS DECIMAL(38, 0))) FROM {gifts} c
            JOIN {{_heat_pieces}} p
            ON c.room_id = p.room_id AND c.ts >= p.lo AND c.ts < p.hi WHERE p.cell >= 0
            GROUP BY p.cell""", tables):
        out[int(cell)] = out.get(int(cell), 0) + int(amount)
    for ts, amount in portable.rows(store, f"""
            SELECT c.ts, sum(CAST(c.coins AS DECIMAL(38, 0))) FROM {gifts} c JOIN {{_heat_pieces}} p
            ON c.room_id = p.room_id AND c.ts >= p.lo AND c.ts < p.hi WHERE p.cell < 0
            GROUP BY c.ts""", tables):  # a long session's gifts: each in its own hour
        cell = _cell_of(int(ts), tz)
        out[cell] = out.get(cell, 0) + int(amount)
    for ts, amount in portable.rows(store, f"""
            SELECT c.ts, sum(CAST(c.coins AS DECIMAL(38, 0))) FROM {gifts} c
            JOIN {{_heat_sessions}} s ON c.room_id = s.room_id
            WHERE c.ts < s.start_ts OR c.ts >= s.end_ts GROUP BY c.ts""", tables):
        cell = _cell_of(int(ts), tz)
        out[cell] = out.get(cell, 0) + int(amount)
    return out


def heatmap(store: Store, sessions: Sequence[SessionStats], tz: str = "UTC") -> Heatmap:
    """The weekday × hour grid of ``sessions`` (their live time and their host's coins) in
    ``tz`` (raises :class:`~liveworth.errors.UsageError` for an unknown zone)."""
    zone_ = zone(tz)
    live = [0] * (7 * HOURS)
    pieces: list[tuple[str, int, int, int]] = []
    for s in sessions:
        if s.end_ts - s.start_ts > _LONG_MS:  # not cut: its gifts go by their own hour
            _add_long(live, s.start_ts, s.end_ts, zone_)
            pieces.append((s.room_id, s.start_ts, s.end_ts, -1))
            continue
        for lo, hi, cell in live_pieces(s.start_ts, s.end_ts, zone_):
            live[cell] += hi - lo
            pieces.append((s.room_id, lo, hi, cell))
    coins = _gift_coins(store, sessions, pieces, zone_)
    return Heatmap(tz=tz, rows=tuple(
        tuple(HourCell(live[d * HOURS + h], coins.get(d * HOURS + h, 0)) for h in range(HOURS))
        for d in range(7)))

"""Leaderboards by window, with the CRM's fields on every row, and one gifter's card.

A window is measured against the *as-of time*: the end of ``--as-of`` (a day, local to ``tz``),
else the latest event in the store. Gifts credited after it count nowhere.

- ``live`` — the host's current or latest session (starting by the as-of time);
- ``7d`` / ``30d`` — gifts credited in the 7 (30) days up to the as-of time:
  ``as_of − days × 24 h < ts ≤ as_of``;
- ``lifetime`` — every selected session (``--host``, ``--since``).

Each row carries the gifter's tags and notes (with the host; every host's without one), the names
they went by, and their habit (:func:`liveworth.analysis.crm.habits`) over the whole selection up
to the as-of time, whatever the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from liveworth.analysis import crm
from liveworth.analysis.gifters import GifterStats, leaderboard
from liveworth.analysis.sessionstats import (
    SessionStats,
    normalise_host,
    parse_since,
    select_sessions,
    session_stats,
    zone,
)
from liveworth.economy.money import creator_usd, fmt
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.store import portable
from liveworth.store.database import Store

WINDOWS = ("live", "7d", "30d", "lifetime")
WINDOW_DAYS = {"7d": 7, "30d": 30}
DAY_MS = crm.DAY_MS


def check_window(window: str) -> str:
    if window not in WINDOWS:
        raise UsageError(f"unknown window {window!r} (choose from {', '.join(WINDOWS)})")
    return window


def as_of_time(store: Store, as_of: str | dt.date | None, tz: str = "UTC") -> int:
    """The as-of time (ms): the last millisecond of day ``as_of`` in ``tz``, else the latest
    event in the store (0 when it is empty)."""
    day = parse_since(as_of)
    if day is not None:
        try:
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone(tz))
        except OverflowError:
            raise UsageError(f"--as-of {day.isoformat()}: too far in the future") from None
        return int(end.timestamp() * 1000) - 1
    row = portable.rows(store, "SELECT max(ts) FROM {events}")
    return int(row[0][0]) if row and row[0][0] is not None else 0


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One gifter of a window's leaderboard, with what the CRM knows of them."""

    stats: GifterStats
    tags: tuple[str, ...] = ()
    notes: tuple[crm.Note, ...] = ()
    names: tuple[crm.Name, ...] = ()
    habit: crm.Habit | None = None

    def as_dict(self) -> dict[str, Any]:
        habit = self.habit
        return {**self.stats.as_dict(), "tags": list(self.tags),
                "notes": [n.as_dict() for n in self.notes],
                "names": [n.as_dict() for n in self.names],
                "gifting_sessions": 0 if habit is None else habit.sessions,
                **(habit.as_dict() if habit is not None else
                   {"usual_gap_days": None, "days_since_last_gift": None, "overdue": False})}


@dataclass(frozen=True, slots=True)
class Board:
    """A leaderboard over a window (see the module's docstring)."""

    window: str
    host: str | None
    as_of_ms: int
    from_ms: int | None
    to_ms: int
    sessions: tuple[SessionStats, ...]
    rows: tuple[BoardRow, ...]
    room_id: str | None = None
    overdue_only: bool = False
    coins: int = 0
    creator_usd: Decimal = field(default_factory=Decimal)

    def as_dict(self) -> dict[str, Any]:
        return {"window": self.window, "host": self.host, "as_of_ts": self.as_of_ms,
                "from_ts": self.from_ms, "to_ts": self.to_ms, "room_id": self.room_id,
                "sessions": len(self.sessions), "coins": self.coins,
                "creator_usd": fmt(self.creator_usd), "overdue_only": self.overdue_only,
                "gifters": [r.as_dict() for r in self.rows]}


def _window_sessions(chosen: Sequence[SessionStats], window: str, host: str | None,
                     as_of_ms: int) -> tuple[list[SessionStats], int | None]:
    """The sessions of the window and where its gifts start (None: no bound)."""
    upto = [s for s in chosen if s.start_ts <= as_of_ms]
    if window == "lifetime":
        return upto, None
    if window == "live":
        hosts = {(s.host or "").lower() for s in upto}
        if host is None and len(hosts) > 1:
            raise UsageError("--window live needs --host: the store has several creators")
        return ([max(upto, key=lambda s: (s.start_ts, s.room_id))] if upto else []), None
    start = as_of_ms - WINDOW_DAYS[window] * DAY_MS + 1
    return [s for s in upto if s.end_ts >= start], start


def board(store: Store, card: RateCard, *, host: str | None = None,
          since: str | dt.date | None = None, tz: str = "UTC", window: str = "lifetime",
          as_of: str | dt.date | None = None, overdue: bool = False) -> Board:
    """The leaderboard of ``window`` (``overdue``: only overdue regulars, lifetime only)."""
    check_window(window)
    if overdue and window != "lifetime":
        raise UsageError("--overdue watches the whole history: leave out --window "
                         "(or give --window lifetime)")
    want = normalise_host(host)
    as_of_ms = as_of_time(store, as_of, tz)
    chosen = select_sessions(session_stats(store, card, tz=tz), host=want, since=since)
    sessions, start = _window_sessions(chosen, window, want, as_of_ms)
    stats = leaderboard(store, card, [s.room_id for s in sessions], from_ms=start,
                        to_ms=as_of_ms)
    ids = [g.user_id for g in stats if g.user_id is not None]
    tags, notes = crm.tags_of(store, want, ids), crm.notes_of(store, want, ids)
    names = crm.names_of(store, ids)
    habit = crm.habits(store, [s for s in chosen if s.start_ts <= as_of_ms], as_of_ms, ids)
    rows = [BoardRow(g, tuple(tags.get(g.user_id or "", ())),
                     tuple(notes.get(g.user_id or "", ())), tuple(names.get(g.user_id or "", ())),
                     habit.get(g.user_id or "")) for g in stats]
    if overdue:
        rows = [r for r in rows if r.habit is not None and r.habit.overdue]
    coins = sum(g.coins for g in stats)
    return Board(window=window, host=want, as_of_ms=as_of_ms, from_ms=start, to_ms=as_of_ms,
                 sessions=tuple(sessions), rows=tuple(rows),
                 room_id=sessions[0].room_id if window == "live" and sessions else None,
                 overdue_only=overdue, coins=coins, creator_usd=creator_usd(coins, card))


# ---------------------------------------------------------------------------- one gifter


@dataclass(frozen=True, slots=True)
class GifterSession:
    room_id: str
    start_ts: int
    coins: int
    gifts: int

    def as_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "start_ts": self.start_ts, "coins": self.coins,
                "gifts": self.gifts}


@dataclass(frozen=True, slots=True)
class GifterCard:
    """One gifter of one host: lifetime to the host, habit, tags, notes, names."""

    host: str
    user_id: str
    row: BoardRow | None
    gifters: int
    sessions: tuple[GifterSession, ...]
    pseudonym: str | None

    @property
    def name(self) -> str:
        if self.row is not None and (self.row.stats.nickname or self.row.stats.user):
            return self.row.stats.nickname or self.row.stats.user
        names = self.row.names if self.row is not None else ()
        return (names[-1].nickname or names[-1].user) if names else self.user_id

    def as_dict(self) -> dict[str, Any]:
        r = self.row
        base = r.as_dict() if r is not None else {
            "rank": None, "user_id": self.user_id, "coins": 0, "creator_usd": "0",
            "sessions": 0, "first_ts": None, "last_ts": None, "tags": [], "notes": [],
            "names": [], "gifting_sessions": 0, "usual_gap_days": None,
            "days_since_last_gift": None, "overdue": False}
        return {"host": self.host, **base, "name": self.name, "of_gifters": self.gifters,
                "forgotten": self.pseudonym is not None,
                "gift_sessions": [s.as_dict() for s in self.sessions]}


def gifter_card(store: Store, card: RateCard, host: str, user_id: str, *,
                as_of: str | dt.date | None = None, tz: str = "UTC") -> GifterCard:
    """``user_id``'s card with ``host`` (lifetime, up to the as-of time)."""
    crm.check_known(store, user_id)
    b = board(store, card, host=host, tz=tz, as_of=as_of)
    row = next((r for r in b.rows if r.stats.user_id == user_id), None)
    if row is None:  # known, but no gift to this host: names, tags and notes all the same
        want = b.host
        row_tags = crm.tags_of(store, want, [user_id]).get(user_id, [])
        row_notes = crm.notes_of(store, want, [user_id]).get(user_id, [])
        names = crm.names_of(store, [user_id]).get(user_id, [])
        last = names[-1] if names else None
        stats = GifterStats(rank=0, user_id=user_id, user=last.user if last else "",
                            nickname=last.nickname if last else "", coins=0,
                            creator_usd=creator_usd(0, card), share=0.0, sessions=0, gifts=0,
                            sends=0, first_ts=0, last_ts=0, first_room_id="", last_room_id="")
        row = BoardRow(stats, tuple(row_tags), tuple(row_notes), tuple(names), None)
        return GifterCard(b.host or host, user_id, row, len(b.rows), (), _pseudonym(store,
                                                                                  user_id))
    per = store.query("""
        SELECT room_id, min(ts), sum(coins), sum(repeat_count) FROM credits
        WHERE user_id = ? AND NOT guest AND ts <= ? AND room_id IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY room_id ORDER BY min(ts), room_id""",
                      [user_id, b.as_of_ms, [s.room_id for s in b.sessions]])
    starts = {s.room_id: s.start_ts for s in b.sessions}
    sessions = tuple(GifterSession(str(r[0]), starts[str(r[0])], int(r[2]), int(r[3]))
                     for r in per)
    return GifterCard(b.host or host, user_id, row, len(b.rows), sessions,
                      _pseudonym(store, user_id))


def _pseudonym(store: Store, user_id: str) -> str | None:
    rows = store.query("SELECT pseudonym FROM gifter_forgotten WHERE user_id = ?", [user_id])
    return str(rows[0][0]) if rows else None

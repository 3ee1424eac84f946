"""A creator's recorded history as the model sees it: one :class:`HistorySession` per recorded
LIVE (coins from the ledger, viewers, comments and followers read as ``liveworth report`` reads
them), oldest first, for one host. The calibration (:mod:`liveworth.model.calibrate`) and the
forecast (:mod:`liveworth.model.forecast`) start from it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from liveworth.analysis.report import list_sessions
from liveworth.economy.ratecard import RateCard, load_rate_card
from liveworth.errors import UsageError
from liveworth.store.database import Store

DAY_MS = 86_400_000


def utc_day(ts_ms: int) -> dt.date:
    """The UTC calendar day of a timestamp in milliseconds."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).date()


def normalize_host(host: str) -> str:
    """A host handle as stored: without a leading ``@``, case-folded for comparison."""
    return host.strip().lstrip("@").casefold()


@dataclass(frozen=True, slots=True)
class HistorySession:
    """What one recorded session says about the creator (from the store)."""

    room_id: str
    start_ts: int
    minutes: float
    coins: int
    avg_viewers: float | None
    comments: int
    followers: int | None

    @property
    def day(self) -> dt.date:
        return utc_day(self.start_ts)

    @property
    def log_coins(self) -> float:
        return math.log1p(self.coins)


@dataclass(frozen=True, slots=True)
class History:
    """One creator's recorded sessions, oldest first."""

    host: str | None
    sessions: tuple[HistorySession, ...]

    def until(self, day: dt.date) -> History:
        """The sessions that started on or before ``day`` (UTC)."""
        return History(self.host, tuple(s for s in self.sessions if s.day <= day))

    def between(self, first: dt.date, last: dt.date) -> tuple[HistorySession, ...]:
        """The sessions that started from ``first`` to ``last`` (UTC days, inclusive)."""
        return tuple(s for s in self.sessions if first <= s.day <= last)


def _clip_minutes(seconds: float) -> float:
    return min(max(seconds / 60, 1.0), 24 * 60.0)


def load_history(store: Store, host: str | None = None, card: RateCard | None = None) -> History:
    """The recorded sessions of ``host`` (``@`` optional), or of the only host in the store.

    Coins are the ledger's (as ``liveworth sessions`` lists them); viewers, comments and followers
    are read the way ``liveworth report`` reads them. Raises :class:`UsageError` when the store
    has no session of that host, or several hosts and none was named.
    """
    rows = list_sessions(store, card or load_rate_card())
    if not rows:
        raise UsageError(f"{store.path}: no recorded sessions (import or record some first)")
    hosts = sorted({r.host for r in rows if r.host})
    if host is not None:
        wanted = normalize_host(host)
        if not wanted:
            raise UsageError("--host: give the creator's handle, e.g. @creator")
        rows = [r for r in rows if r.host and normalize_host(r.host) == wanted]
        if not rows:
            known = ", ".join("@" + h for h in hosts[:10]) or "none recorded"
            raise UsageError(f"no sessions of @{wanted} in {store.path} (hosts: {known})")
        name: str | None = rows[0].host
    elif len(hosts) > 1:
        shown = ", ".join("@" + h for h in hosts[:10]) + (" …" if len(hosts) > 10 else "")
        raise UsageError(f"{len(hosts)} hosts in {store.path} ({shown}): choose one with --host")
    elif hosts:
        name = hosts[0]
        rows = [r for r in rows if r.host == name]
    else:
        name = None
    ids = [r.room_id for r in rows]
    extra = {str(r[0]): r[1:] for r in store.query("""
        SELECT room_id,
               avg("current") FILTER (WHERE type = 'viewers'),
               count(*) FILTER (WHERE type = 'comment'),
               arg_max(followers, ts) FILTER (WHERE type = 'live_start' AND followers IS NOT NULL)
        FROM events WHERE room_id IN (SELECT unnest($1::VARCHAR[]))
        GROUP BY room_id""", [ids])}
    sessions = []
    for r in sorted(rows, key=lambda r: (r.start_ts, r.room_id)):
        avg, comments, followers = extra.get(r.room_id, (None, 0, None))
        sessions.append(HistorySession(
            room_id=r.room_id, start_ts=r.start_ts, minutes=_clip_minutes(r.duration_s),
            coins=r.coins, avg_viewers=None if avg is None else float(avg),
            comments=int(comments or 0), followers=None if followers is None else int(followers)))
    return History(name, tuple(sessions))

"""The CSV downloads of the sessions list, the gifter leaderboard and the roster: their columns
and rows, written by :mod:`liveworth.economy.csvsafe` (formula-safe text, coins as integers,
money as exact decimal strings — the JSON's figures, never rounded to cents).

The columns are the JSON twins' keys (flattened: tags joined by ``; ``, a roster row's pace
as its own columns), plus the times as UTC ISO text beside the epoch milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from liveworth.analysis.boards import BoardRow
from liveworth.analysis.report import SessionRow
from liveworth.analysis.roster import Roster, RosterRow
from liveworth.economy.csvsafe import csv_text

SESSION_COLUMNS = ("room_id", "host", "start_utc", "start_ts", "end_ts", "duration_s", "coins",
                   "coins_unconfirmed", "adjusted_coins", "total_coins", "creator_usd",
                   "adjusted_creator_usd", "total_creator_usd", "viewer_usd", "channel",
                   "unique_gifters", "events")
GIFTER_COLUMNS = ("rank", "user_id", "user", "nickname", "coins", "creator_usd", "viewer_usd",
                  "share", "sessions", "returning", "gifts", "sends", "first_gift_utc",
                  "last_gift_utc", "first_ts", "last_ts", "first_room_id", "last_room_id",
                  "tags", "gifting_sessions", "usual_gap_days", "days_since_last_gift",
                  "overdue")
ROSTER_COLUMNS = ("row", "period", "period_start", "host", "creators", "sessions", "hours",
                  "coins", "adjusted_coins", "total_coins", "diamonds", "creator_usd",
                  "adjusted_creator_usd", "weekly_creator_usd", "total_creator_usd",
                  "viewer_usd", "active_days", "live_days", "tier", "projected_tier",
                  "next_tier", "diamonds_to_next")


def utc(ts: int) -> str:
    """``2023-11-13T18:02:11.123Z``: an event time as ISO text in UTC."""
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def session_cells(r: SessionRow) -> list[object]:
    return [r.room_id, r.host, utc(r.start_ts), r.start_ts, r.end_ts, r.duration_s, r.coins,
            r.coins_unconfirmed, r.adjusted_coins, r.total_coins, r.creator_usd,
            r.adjusted_creator_usd, r.total_creator_usd, r.viewer_usd, r.channel, r.gifters,
            r.events]


def sessions_csv(rows: Iterable[SessionRow]) -> str:
    return csv_text(SESSION_COLUMNS, (session_cells(r) for r in rows))


def gifter_cells(row: BoardRow) -> list[object]:
    g, h = row.stats, row.habit
    return [g.rank, g.user_id, g.user, g.nickname, g.coins, g.creator_usd, g.viewer_usd,
            round(g.share, 6), g.sessions, g.returning, g.gifts, g.sends, utc(g.first_ts),
            utc(g.last_ts), g.first_ts, g.last_ts, g.first_room_id, g.last_room_id,
            "; ".join(row.tags), 0 if h is None else h.sessions,
            None if h is None or h.usual_gap_days is None else round(h.usual_gap_days, 2),
            None if h is None else round(h.days_since_last_gift, 2),
            False if h is None else h.overdue]


def gifters_csv(rows: Sequence[BoardRow]) -> str:
    return csv_text(GIFTER_COLUMNS, (gifter_cells(r) for r in rows))


def roster_cells(r: RosterRow, kind: str) -> list[object]:
    p = r.pace
    return [kind, r.period, r.period_start.isoformat(), r.host, r.creators, r.sessions,
            round(r.hours, 3), r.coins, r.adjusted_coins, r.total_coins, r.diamonds,
            r.creator_usd, r.adjusted_creator_usd, r.weekly_creator_usd, r.total_creator_usd,
            r.viewer_usd, r.active_days, r.live_days,
            *((None,) * 4 if p is None else
              (p.tier, p.projected_tier, p.next_tier, p.diamonds_to_next))]


def roster_csv(r: Roster) -> str:
    """A row per creator and period (``row`` = ``creator``), then each period's total
    (``total``, no host)."""
    rows = [roster_cells(x, "creator") for x in r.rows] + \
        [roster_cells(x, "total") for x in r.totals]
    return csv_text(ROSTER_COLUMNS, rows)


def filename(*parts: str | None) -> str:
    """A download's file name from its parts (``sessions-crecee.saraa-2023-11-13.csv``): only
    letters, digits, ``.``, ``_`` and ``-`` survive, so no header can be forged from it."""
    text = "-".join(p for p in parts if p)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in text)
    return (safe.strip("._-")[:100] or "liveworth") + ".csv"

"""Gifters across sessions: the leaderboard, loyalty, and how much rides on the very top.

- :func:`gifters` / :func:`leaderboard` — every gifter of the selected sessions, biggest first:
  lifetime coins (credited by the ledger, gifts to guests left out), creator USD, share, sessions
  with a gift, gifts and sends, first and last gift.
- :func:`loyalty` — returning gifters (a gift in more than one session) and new gifters per
  session (a gifter is new in the creator's first session where they gave).
- :func:`whale_dependence` — the share of coins from the top 1 and top 5 gifters and how it
  changes: the top-5 share of the earlier and later half of the sessions, and the trend of each
  session's top-5 share per 30 days (least squares, HC3 interval).

Shares are facts of the recorded sessions, so they carry no interval; the trend is an estimate
and does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from liveworth.analysis.drivers import LEVEL, MIN_SESSIONS, too_few
from liveworth.analysis.sessionstats import (
    GiftPairs,
    SessionStats,
    rounded,
    select_sessions,
    session_stats,
    top_shares,
)
from liveworth.analysis.stats import ols_hc3
from liveworth.economy.money import creator_usd, fmt, viewer_usd
from liveworth.economy.ratecard import RateCard
from liveworth.store.database import Store
from liveworth.store.portable import aggregated, ids_table
from liveworth.store.portable import rows as portable_rows

#: Days in the unit of the top-5 share's trend.
TREND_DAYS = 30


@dataclass(frozen=True, slots=True)
class GifterStats:
    """One gifter across the selected sessions (gifts to guests left out)."""

    rank: int
    user_id: str | None
    user: str
    nickname: str
    coins: int
    creator_usd: Decimal
    share: float
    sessions: int
    gifts: int
    sends: int
    first_ts: int
    last_ts: int
    first_room_id: str
    last_room_id: str
    #: What the gifter paid for their coins, on the rate card's channel (or --channel).
    viewer_usd: Decimal = Decimal(0)

    @property
    def returning(self) -> bool:
        """Gave in more than one session (a loyal gifter)."""
        return self.sessions > 1

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "user_id": self.user_id, "user": self.user,
                "nickname": self.nickname, "coins": self.coins,
                "creator_usd": fmt(self.creator_usd), "viewer_usd": fmt(self.viewer_usd),
                "share": round(self.share, 4),
                "sessions": self.sessions, "returning": self.returning, "gifts": self.gifts,
                "sends": self.sends, "first_ts": self.first_ts, "last_ts": self.last_ts,
                "first_room_id": self.first_room_id, "last_room_id": self.last_room_id}


#: Each (session, gifter) of the rooms ``{rooms}`` in ``[lo, hi]``, gifts to guests left out:
#: coins, gifts, sends, first and last gift (portable: :mod:`liveworth.store.portable`;
#: ``lo``/``hi`` are filled in first).
BOARD_PAIRS_SQL = """
    SELECT room_id, user_id, sum(CAST(coins AS DECIMAL(38, 0))) AS coins,
           sum(CAST(repeat_count AS DECIMAL(38, 0))) AS gifts, CAST(count(*) AS BIGINT) AS sends,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM {credits} WHERE NOT guest AND ts BETWEEN {lo} AND {hi}
      AND room_id IN (SELECT room_id FROM {rooms})
    GROUP BY room_id, user_id"""

#: The names of each gifter of ``{users}`` (and of the credits without a user id when
#: ``{anonymous}`` is TRUE) at their last gift among the same credits, by (ts, room, message):
#: asked only for the gifters shown, since picking names is most of the work (three picks for
#: each of 1.4 M session-gifter pairs took ~3 s of a 61 M-event ``analyze``).
BOARD_NAMES_SQL = """
    SELECT user_id, max_by("user", ROW(ts, room_id, msg_id)) AS last_user,
           max_by(nickname, ROW(ts, room_id, msg_id)) AS last_nickname
    FROM {credits} WHERE NOT guest AND ts BETWEEN {lo} AND {hi}
      AND room_id IN (SELECT room_id FROM {rooms})
      AND (user_id IN (SELECT user_id FROM {users}) OR (user_id IS NULL AND {anonymous}))
    GROUP BY user_id"""


def leaderboard(store: Store, card: RateCard, rooms: Sequence[str],
                limit: int | None = None, *, from_ms: int | None = None,
                to_ms: int | None = None) -> list[GifterStats]:
    """The gifters of ``rooms``, biggest first (ties by user id): lifetime coins, sessions with a
    gift, gifts, sends, first and last gift. ``limit``: only the first so many (their shares
    still of every gifter's coins). ``from_ms``/``to_ms``: only gifts credited in that span
    (inclusive; the leaderboard of a window, :mod:`liveworth.analysis.boards`)."""
    chosen = "" if limit is None else f"""
        SEMI JOIN (SELECT user_id FROM u ORDER BY c DESC, user_id NULLS LAST
                   LIMIT {int(limit)}) t ON p.user_id IS NOT DISTINCT FROM t.user_id"""
    lo = -(2**62) if from_ms is None else int(from_ms)
    hi = 2**62 if to_ms is None else int(to_ms)
    where = {"lo": lo, "hi": hi, "events": "{events}", "credits": "{credits}",
             "rooms": "{_board_rooms}"}
    small = {"_board_rooms": ids_table("room_id", rooms)}
    with aggregated(store, "_board_pairs", BOARD_PAIRS_SQL.format(**where), small):
        rows = store.query(f"""
            WITH u AS MATERIALIZED (SELECT user_id, sum(coins) AS c FROM _board_pairs
                                    GROUP BY user_id)
            SELECT user_id, sum(coins) AS c, count(DISTINCT room_id), sum(gifts), sum(sends),
                   min(first_ts), max(last_ts), arg_min(room_id, (first_ts, room_id)),
                   arg_max(room_id, (last_ts, room_id)), (SELECT sum(c) FROM u)
            FROM _board_pairs p {chosen}
            GROUP BY user_id ORDER BY c DESC, user_id NULLS LAST""")
    users = [r[0] for r in rows]
    names = {r[0]: (r[1], r[2]) for r in portable_rows(store, BOARD_NAMES_SQL.format(
        **where, users="{_board_users}", anonymous="TRUE" if None in users else "FALSE"),
        {**small, "_board_users": ids_table("user_id", [u for u in users if u is not None])})
    } if users else {}
    return [GifterStats(
        rank=i, user_id=None if r[0] is None else str(r[0]), user=names[r[0]][0] or "",
        nickname=names[r[0]][1] or "", coins=int(r[1]), creator_usd=creator_usd(int(r[1]), card),
        share=int(r[1]) / int(r[9]) if r[9] else 0.0, sessions=int(r[2]), gifts=int(r[3]),
        sends=int(r[4]), first_ts=int(r[5]), last_ts=int(r[6]), first_room_id=str(r[7]),
        last_room_id=str(r[8]), viewer_usd=viewer_usd(int(r[1]), card))
        for i, r in enumerate(rows, 1)]


def gifters(store: Store, card: RateCard, *, host: str | None = None,
            since: str | dt.date | None = None, tz: str = "UTC") -> list[GifterStats]:
    """The gifter leaderboard across sessions, biggest first (all creators unless ``host``)."""
    chosen = select_sessions(session_stats(store, card, tz=tz), host=host, since=since)
    return leaderboard(store, card, [s.room_id for s in chosen])


@dataclass(frozen=True, slots=True)
class Loyalty:
    """Returning vs new gifters over the selected sessions."""

    gifters: int
    returning: int
    returning_coin_share: float
    sessions: int
    new_per_session: float
    returning_per_session: float

    def as_dict(self) -> dict[str, Any]:
        return {"gifters": self.gifters, "returning": self.returning,
                "returning_coin_share": round(self.returning_coin_share, 4),
                "sessions": self.sessions, "new_per_session": round(self.new_per_session, 2),
                "returning_per_session": round(self.returning_per_session, 2)}


def loyalty(board: Sequence[GifterStats], sessions: Sequence[SessionStats]) -> Loyalty:
    """Returning gifters (more than one session with a gift) and new gifters per session."""
    ret = [g for g in board if g.returning]
    return _loyalty(len(board), len(ret), sum(g.coins for g in board),
                    sum(g.coins for g in ret), sessions)


def store_loyalty(store: Store, sessions: Sequence[SessionStats]) -> Loyalty:
    """:func:`loyalty` of the whole leaderboard of ``sessions``, counted in SQL."""
    with aggregated(store, "_loyal_pairs", """
            SELECT user_id, room_id, sum(CAST(coins AS DECIMAL(38, 0))) AS c FROM {credits}
            WHERE NOT guest AND room_id IN (SELECT room_id FROM {_loyal_rooms})
            GROUP BY user_id, room_id""",
                    {"_loyal_rooms": ids_table("room_id", [s.room_id for s in sessions])}):
        row = store.query("""
            WITH u AS (SELECT user_id, count(*) AS sessions, sum(c) AS c FROM _loyal_pairs
                       GROUP BY user_id)
            SELECT count(*), count(*) FILTER (WHERE sessions > 1), coalesce(sum(c), 0),
                   coalesce(sum(c) FILTER (WHERE sessions > 1), 0)
            FROM u""")[0]
    return _loyalty(int(row[0]), int(row[1]), int(row[2]), int(row[3]), sessions)


def _loyalty(gifters: int, returning: int, coins: int, returning_coins: int,
             sessions: Sequence[SessionStats]) -> Loyalty:
    n = len(sessions)
    return Loyalty(
        gifters=gifters, returning=returning,
        returning_coin_share=returning_coins / coins if coins else 0.0,
        sessions=n, new_per_session=sum(s.new_gifters for s in sessions) / n if n else 0.0,
        returning_per_session=sum(s.returning_gifters for s in sessions) / n if n else 0.0)


@dataclass(frozen=True, slots=True)
class WhaleDependence:
    """How much of the money comes from the very top gifters, and whether that is changing.

    Shares are of all coins in the selected sessions with gifters counted across sessions.
    ``trend_top5`` is the change of a session's top-5 share per :data:`TREND_DAYS` days (as a
    fraction; None with too few sessions).
    """

    coins: int
    gifters: int
    n: int
    top1_share: float
    top5_share: float
    median_session_top1: float | None
    first_half_top5: float | None
    second_half_top5: float | None
    trend_top5: float | None
    trend_ci_low: float | None
    trend_ci_high: float | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"coins": self.coins, "gifters": self.gifters, "n": self.n,
                "top1_share": round(self.top1_share, 4), "top5_share": round(self.top5_share, 4),
                "median_session_top1_share": rounded(self.median_session_top1),
                "first_half_top5_share": rounded(self.first_half_top5),
                "second_half_top5_share": rounded(self.second_half_top5),
                "trend_top5_per_30_days": rounded(self.trend_top5),
                "trend_ci_low": rounded(self.trend_ci_low),
                "trend_ci_high": rounded(self.trend_ci_high), "note": self.note}


def whale_dependence(sessions: Sequence[SessionStats], pairs: GiftPairs,
                     min_sessions: int = MIN_SESSIONS) -> WhaleDependence:
    """Top-1 and top-5 gifter shares over ``sessions`` (oldest first) and their change."""
    n = len(sessions)
    top1, top5 = top_shares(pairs, np.ones(n, dtype=np.float64)) if pairs.users else (0.0, 0.0)
    paid = [s for s in sessions if s.coins > 0]
    median_top1 = float(np.median([s.top1_share for s in paid])) if paid else None
    first = second = slope = low = high = None
    note = ""
    if n >= 2 and pairs.users:
        half = np.arange(n) < n // 2
        a = top_shares(pairs, half.astype(np.float64))[1]
        b = top_shares(pairs, (~half).astype(np.float64))[1]
        first, second = (None if math.isnan(a) else a), (None if math.isnan(b) else b)
    if len(paid) >= min_sessions:
        days = np.array([(s.start_ts - paid[0].start_ts) / 86_400_000 / TREND_DAYS
                         for s in paid])
        fit = ols_hc3(np.column_stack([np.ones(len(paid)), days]),
                      np.array([s.top5_share for s in paid], dtype=np.float64))
        if fit is not None:
            slope = float(fit.beta[1])
            low, high = fit.interval(1, LEVEL)
        else:
            note = "no trend: the sessions span no time"
    else:
        note = too_few(len(paid), min_sessions, "with gifts") + " for a trend"
    return WhaleDependence(
        coins=sum(s.coins for s in sessions), gifters=pairs.users, n=n, top1_share=top1,
        top5_share=top5, median_session_top1=median_top1,
        first_half_top5=first, second_half_top5=second,
        trend_top5=slope, trend_ci_low=low, trend_ci_high=high, note=note)

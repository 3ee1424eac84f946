"""The per-session earnings report: what one LIVE earned, for whom, and how well it was measured.

:func:`session_report` reads one room's events and ledger credits from the store and returns a
:class:`SessionReport`; the terminal table, ``--json`` and the HTML report all render it.
:func:`list_sessions` gives one row per session.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from liveworth.errors import NotFoundError
from liveworth.gifts import PRICE_TIERS
from liveworth.money import Earnings, earnings, fmt
from liveworth.ratecard import RateCard
from liveworth.store import Store

GAP_MS = 60_000
TOP_N = 10


@dataclass(frozen=True, slots=True)
class Gifter:
    user_id: str
    user: str
    nickname: str
    coins: int
    gifts: int

    def as_dict(self) -> dict[str, object]:
        return {"user_id": self.user_id, "user": self.user, "nickname": self.nickname,
                "coins": self.coins, "gifts": self.gifts}


@dataclass(frozen=True, slots=True)
class SessionReport:
    room_id: str
    host: str | None
    host_id: str | None
    start_ts: int
    end_ts: int
    coins: int
    coins_confirmed: int
    coins_unconfirmed: int
    guest_coins: int
    money: Earnings
    gift_count: int
    gift_sends: int
    unique_gifters: int
    top_gifters: tuple[Gifter, ...]
    top_gifter_share: float
    top_10pct_share: float
    tiers: tuple[tuple[str, int, int], ...]  # (label, gifts, coins)
    coins_per_minute: tuple[tuple[int, int], ...]  # (minute from start, coins)
    viewers_per_minute: tuple[tuple[int, float], ...]
    peak_viewers: int | None
    avg_viewers: float | None
    engagement: dict[str, int]
    coins_per_1000_viewer_minutes: float | None
    unconfirmed_streaks: int
    events: int
    flags: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def duration_s(self) -> float:
        return (self.end_ts - self.start_ts) / 1000

    @property
    def minutes(self) -> float:
        return self.duration_s / 60

    def per_minute(self, name: str) -> float:
        return self.engagement[name] / self.minutes if self.minutes > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        m = self.money
        return {
            "room_id": self.room_id,
            "host": self.host,
            "host_id": self.host_id,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "duration_s": self.duration_s,
            "coins": self.coins,
            "coins_confirmed": self.coins_confirmed,
            "coins_unconfirmed": self.coins_unconfirmed,
            "diamonds": fmt(m.diamonds),
            "viewer_usd": fmt(m.viewer_usd),
            "creator_usd": fmt(m.creator_usd),
            "platform_usd": fmt(m.platform_usd),
            "take_home_usd": fmt(m.take_home_usd),
            "channel": m.channel,
            "rate_card": m.rate_card,
            "gift_count": self.gift_count,
            "gift_sends": self.gift_sends,
            "unique_gifters": self.unique_gifters,
            "top_gifters": [g.as_dict() for g in self.top_gifters],
            "top_gifter_share": round(self.top_gifter_share, 4),
            "top_10pct_share": round(self.top_10pct_share, 4),
            "tiers": [{"tier": t, "gifts": n, "coins": c} for t, n, c in self.tiers],
            "coins_per_minute": [{"minute": mi, "coins": c} for mi, c in self.coins_per_minute],
            "viewers_per_minute": [{"minute": mi, "viewers": round(v, 1)}
                                   for mi, v in self.viewers_per_minute],
            "peak_viewers": self.peak_viewers,
            "avg_viewers": None if self.avg_viewers is None else round(self.avg_viewers, 1),
            "engagement": dict(self.engagement),
            "engagement_per_minute": {k: round(self.per_minute(k), 3) for k in self.engagement},
            "coins_per_1000_viewer_minutes": None if self.coins_per_1000_viewer_minutes is None
            else round(self.coins_per_1000_viewer_minutes, 2),
            "guest_coins": self.guest_coins,
            "unconfirmed_streaks": self.unconfirmed_streaks,
            "events": self.events,
            "flags": list(self.flags),
        }


def redacted(rep: SessionReport) -> SessionReport:
    """The report with viewers' names replaced by stable pseudonyms (for sharing)."""

    def alias(user_id: str) -> str:
        return "viewer-" + hashlib.sha256(user_id.encode()).hexdigest()[:6]

    top = tuple(replace(g, user=alias(g.user_id), nickname="", user_id=alias(g.user_id))
                for g in rep.top_gifters)
    return replace(rep, top_gifters=top)


def _one(store: Store, sql: str, params: list[Any]) -> tuple[Any, ...]:
    rows = store.query(sql, params)
    return rows[0] if rows else ()


def session_host(store: Store, room_id: str) -> tuple[str | None, str | None]:
    """(host unique id, host user id) of a room, as far as the data say."""
    row = _one(store, """
        SELECT (SELECT arg_min(host, ts) FROM events
                WHERE room_id = $1 AND type = 'live_start' AND host IS NOT NULL),
               (SELECT host FROM rooms WHERE room_id = $1),
               (SELECT arg_min(host_id, ts) FROM events
                WHERE room_id = $1 AND type = 'live_start' AND host_id IS NOT NULL)
        """, [room_id])
    return (row[0] or row[1]), row[2]


def session_report(store: Store, room_id: str, card: RateCard,
                   channel: str | None = None) -> SessionReport:
    """The report of one session (room) under ``card``."""
    span = _one(store, """
        SELECT count(*), min(ts), max(ts),
               min(ts) FILTER (WHERE type = 'live_start'),
               max(ts) FILTER (WHERE type = 'live_end')
        FROM events WHERE room_id = $1""", [room_id])
    if not span or not span[0]:
        raise NotFoundError(f"no session {room_id!r} in the database (see `liveworth sessions`)")
    n_events, first_ts, last_ts, started, ended = span
    start_ts = int(started if started is not None else first_ts)
    end_ts = int(max(ended if ended is not None else last_ts, start_ts))
    host, host_id = session_host(store, room_id)
    from liveworth.ledger import host_ids

    inferred_host_id = host_ids(store.con, [room_id]).get(room_id) if host_id is None else None

    c = _one(store, """
        SELECT coalesce(sum(coins) FILTER (WHERE NOT guest), 0),
               coalesce(sum(coins) FILTER (WHERE NOT guest AND confirmed), 0),
               coalesce(sum(coins) FILTER (WHERE guest), 0),
               coalesce(sum(repeat_count) FILTER (WHERE NOT guest), 0),
               count(*) FILTER (WHERE NOT guest),
               count(DISTINCT user_id) FILTER (WHERE NOT guest),
               count(*) FILTER (WHERE NOT confirmed)
        FROM credits WHERE room_id = $1""", [room_id])
    coins, confirmed, guest, units, sends, gifters, unconfirmed_n = (int(x) for x in c)

    ranked = store.query("""
        SELECT user_id, arg_max("user", ts), arg_max(nickname, ts), sum(coins) AS c,
               sum(repeat_count)
        FROM credits WHERE room_id = $1 AND NOT guest
        GROUP BY user_id ORDER BY c DESC, user_id""", [room_id])
    top = tuple(Gifter(str(r[0]), r[1] or "", r[2] or "", int(r[3]), int(r[4]))
                for r in ranked[:TOP_N])
    top1 = ranked[0][3] / coins if coins and ranked else 0.0
    k = max(1, math.ceil(len(ranked) * 0.10)) if ranked else 0
    top10 = sum(int(r[3]) for r in ranked[:k]) / coins if coins else 0.0

    tier_rows = {label: (0, 0) for label, _, _ in PRICE_TIERS}
    for label, n, cc in store.query(f"""
        SELECT CASE {" ".join(
            f"WHEN coins_each BETWEEN {lo} AND {hi if hi is not None else 2**62} THEN '{label}'"
            for label, lo, hi in PRICE_TIERS)} ELSE '1-9' END AS tier,
            sum(repeat_count), sum(coins)
        FROM credits WHERE room_id = $1 AND NOT guest GROUP BY tier""", [room_id]):
        tier_rows[label] = (int(n), int(cc))
    tiers = tuple((label, *tier_rows[label]) for label, _, _ in PRICE_TIERS)

    cpm = tuple((int(m), int(v)) for m, v in store.query("""
        SELECT (ts - $2) // 60000 AS m, sum(coins) FROM credits
        WHERE room_id = $1 AND NOT guest GROUP BY m ORDER BY m""", [room_id, start_ts]))
    vpm = tuple((int(m), float(v)) for m, v in store.query("""
        SELECT (ts - $2) // 60000 AS m, avg(current) FROM events
        WHERE room_id = $1 AND type = 'viewers' GROUP BY m ORDER BY m""", [room_id, start_ts]))
    v = _one(store, """SELECT max(current), avg(current) FROM events
                       WHERE room_id = $1 AND type = 'viewers'""", [room_id])
    peak = int(v[0]) if v and v[0] is not None else None
    avg = float(v[1]) if v and v[1] is not None else None

    e = _one(store, """
        SELECT count(*) FILTER (WHERE type = 'comment'),
               coalesce(sum("count") FILTER (WHERE type = 'like'), 0),
               count(*) FILTER (WHERE type = 'join'),
               count(*) FILTER (WHERE type = 'follow'),
               count(*) FILTER (WHERE type = 'share')
        FROM events WHERE room_id = $1""", [room_id])
    engagement = dict(zip(("comments", "likes", "joins", "follows", "shares"),
                          (int(x) for x in e), strict=True))
    minutes = (end_ts - start_ts) / 60000
    per_kvm = coins / (avg * minutes) * 1000 if avg and minutes > 0 else None

    flags = _flags(store, room_id, started, ended, unconfirmed_n, coins - confirmed,
                   inferred_host_id)
    return SessionReport(
        room_id=room_id, host=host, host_id=host_id or inferred_host_id, start_ts=start_ts,
        end_ts=end_ts, coins=coins, coins_confirmed=confirmed,
        coins_unconfirmed=coins - confirmed, guest_coins=guest,
        money=earnings(coins, card, channel), gift_count=units, gift_sends=sends,
        unique_gifters=gifters, top_gifters=top, top_gifter_share=float(top1),
        top_10pct_share=float(top10), tiers=tiers, coins_per_minute=cpm, viewers_per_minute=vpm,
        peak_viewers=peak, avg_viewers=avg, engagement=engagement,
        coins_per_1000_viewer_minutes=per_kvm, unconfirmed_streaks=unconfirmed_n,
        events=int(n_events), flags=tuple(flags),
    )


def _flags(store: Store, room_id: str, started: Any, ended: Any, unconfirmed_n: int,
           unconfirmed_coins: int, inferred_host_id: str | None) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = []
    gaps = store.query("""
        SELECT prev, ts, (ts - prev) / 1000.0 FROM (
            SELECT ts, lag(ts) OVER (ORDER BY ts, msg_id) AS prev FROM events
            WHERE room_id = $1)
        WHERE ts - prev > $2 ORDER BY prev""", [room_id, GAP_MS])
    if gaps:
        flags.append({"flag": "gaps", "count": len(gaps),
                      "message": f"{len(gaps)} gap(s) of more than {GAP_MS // 1000} s with no "
                                 "event: the stream may have been disconnected",
                      "gaps": [{"from_ts": int(a), "to_ts": int(b), "seconds": float(s)}
                               for a, b, s in gaps[:100]]})
    recorded_gaps = store.query("""
        SELECT from_ms, to_ms, reason FROM recorder_gaps WHERE room_id = $1 ORDER BY from_ms""",
        [room_id])
    if recorded_gaps:
        lost = sum(b - a for a, b, _ in recorded_gaps) / 1000
        flags.append({"flag": "disconnected", "count": len(recorded_gaps),
                      "message": f"the recorder was disconnected {len(recorded_gaps)} time(s), "
                                 f"{lost:,.0f} s in all; messages TikTok replayed after each "
                                 "reconnect were counted once",
                      "gaps": [{"from_ts": int(a), "to_ts": int(b), "reason": r}
                               for a, b, r in recorded_gaps[:100]]})
    if unconfirmed_n:
        flags.append({"flag": "unconfirmed_streaks", "count": unconfirmed_n,
                      "coins": unconfirmed_coins,
                      "message": f"{unconfirmed_n} gift streak(s) never got their final frame; "
                                 f"{unconfirmed_coins:,} coins counted at their highest repeat "
                                 "count"})
    flags.append({"flag": "observed_counts",
                  "message": "likes and joins are observed counts: TikTok thins them on busy "
                             "streams"})
    if started is None or ended is None:
        missing = " and ".join(x for x, y in (("start", started), ("end", ended)) if y is None)
        flags.append({"flag": "partial_recording",
                      "message": f"no LIVE {missing} seen: the recording may not cover the "
                                 "whole session"})
    if inferred_host_id:
        flags.append({"flag": "host_inferred",
                      "message": "the host's user id was inferred as the most frequent gift "
                                 "recipient; gifts to anyone else count as guests'"})
    return flags


@dataclass(frozen=True, slots=True)
class SessionRow:
    room_id: str
    host: str | None
    start_ts: int
    end_ts: int
    coins: int
    coins_unconfirmed: int
    creator_usd: Decimal
    gifters: int
    events: int

    @property
    def duration_s(self) -> float:
        return (self.end_ts - self.start_ts) / 1000

    def as_dict(self) -> dict[str, object]:
        return {"room_id": self.room_id, "host": self.host, "start_ts": self.start_ts,
                "end_ts": self.end_ts, "duration_s": self.duration_s, "coins": self.coins,
                "coins_unconfirmed": self.coins_unconfirmed,
                "creator_usd": fmt(self.creator_usd), "unique_gifters": self.gifters,
                "events": self.events}


def list_sessions(store: Store, card: RateCard) -> list[SessionRow]:
    """One row per session, newest first."""
    rows = store.query("""
        WITH ev AS (
            SELECT room_id, count(*) AS n,
                   coalesce(min(ts) FILTER (WHERE type = 'live_start'), min(ts)) AS start_ts,
                   coalesce(max(ts) FILTER (WHERE type = 'live_end'), max(ts)) AS end_ts,
                   arg_min(host, ts) FILTER (WHERE type = 'live_start') AS host
            FROM events GROUP BY room_id),
        cr AS (
            SELECT room_id, sum(coins) FILTER (WHERE NOT guest) AS coins,
                   sum(coins) FILTER (WHERE NOT guest AND NOT confirmed) AS unconfirmed,
                   count(DISTINCT user_id) FILTER (WHERE NOT guest) AS gifters
            FROM credits GROUP BY room_id)
        SELECT ev.room_id, coalesce(ev.host, r.host), ev.start_ts, ev.end_ts,
               coalesce(cr.coins, 0), coalesce(cr.unconfirmed, 0), coalesce(cr.gifters, 0),
               ev.n
        FROM ev LEFT JOIN cr USING (room_id) LEFT JOIN rooms r USING (room_id)
        ORDER BY ev.start_ts DESC, ev.room_id""")
    return [
        SessionRow(str(r[0]), r[1], int(r[2]), int(max(r[3], r[2])), int(r[4]), int(r[5]),
                   earnings(int(r[4]), card).creator_usd, int(r[6]), int(r[7]))
        for r in rows
    ]

"""Sessions as rows for cross-session analysis: one :class:`SessionStats` per session (room).

:func:`session_stats` reads every session of the store in one pass of SQL — start, length, coins
(the ledger's credits to the host, guests' gifts left out), creator USD under a rate card,
viewers, engagement, follows, shares, battles, new and returning gifters, top-gifter shares — and
adds what needs the whole history: start hour, weekday and week in a time zone, and calendar days
since the creator's previous LIVE. :func:`select_sessions` picks one creator's sessions since a
date; :func:`weekly_trend` sums them week by week.

A session's start, end and host are defined as in :mod:`liveworth.analysis.report` (``live_start``
or the first event; ``live_end`` or the last; the host from ``live_start`` or the ``rooms`` table),
so that every figure here adds up to the per-session reports.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from liveworth.analysis.stats import FloatArray
from liveworth.economy.money import creator_usd, fmt
from liveworth.economy.ratecard import RateCard
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.database import Store, registered
from liveworth.store.portable import aggregated

#: Start-time bands: (name, first hour, hour after the last).
DAYPARTS: tuple[tuple[str, int, int], ...] = (
    ("night", 0, 6), ("morning", 6, 12), ("afternoon", 12, 18), ("evening", 18, 24))
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Averages of money (per session, per hour) are rounded half-even to a millionth of a dollar.
MONEY_QUANTUM = Decimal("0.000001")


def zone(name: str) -> dt.tzinfo:
    """The time zone called ``name`` (IANA, e.g. ``Europe/Berlin``; ``UTC`` always works)."""
    if name.strip().upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as "
                         "Europe/Berlin, or UTC)") from None


def parse_since(text: str | dt.date | None) -> dt.date | None:
    """``YYYY-MM-DD`` (or a date) as a date; None stays None."""
    if text is None or isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"not a date (YYYY-MM-DD): {text!r}") from None


def normalise_host(text: str | None) -> str | None:
    """``@User`` → ``user`` (hosts are matched without the @ and case-insensitively)."""
    if text is None:
        return None
    name = text.strip().lstrip("@").strip().lower()
    if not name:
        raise UsageError("--host needs a creator's unique id, e.g. @creator")
    return name


def money_avg(value: Decimal) -> Decimal:
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)



# ---------------------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class SessionStats:
    """One session (room) with everything the cross-session analysis uses."""

    room_id: str
    host: str | None
    start_ts: int
    end_ts: int
    local_start: str
    start_hour: int
    weekday: int
    daypart: str
    week: dt.date
    minutes: float
    coins: int
    coins_unconfirmed: int
    diamonds: Decimal
    creator_usd: Decimal
    avg_viewers: float | None
    peak_viewers: int | None
    comments: int
    likes: int
    joins: int
    follows: int
    shares: int
    battles: int
    events: int
    gifters: int
    new_gifters: int
    returning_gifters: int
    coins_new: int
    coins_returning: int
    top1_share: float
    top5_share: float
    days_since_previous: int | None

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def local_date(self) -> dt.date:
        """The start's calendar date in the time zone of :func:`session_stats`."""
        return dt.date.fromisoformat(self.local_start[:10])

    @property
    def viewer_minutes(self) -> float | None:
        if self.avg_viewers is None or self.avg_viewers <= 0 or self.minutes <= 0:
            return None
        return self.avg_viewers * self.minutes

    def per_viewer_minute(self, count: int) -> float | None:
        """``count`` per viewer-minute (None without viewer counts)."""
        vm = self.viewer_minutes
        return None if vm is None else count / vm

    @property
    def comments_per_viewer_minute(self) -> float | None:
        return self.per_viewer_minute(self.comments)

    @property
    def likes_per_viewer_minute(self) -> float | None:
        return self.per_viewer_minute(self.likes)

    @property
    def follows_shares_per_viewer_minute(self) -> float | None:
        return self.per_viewer_minute(self.follows + self.shares)

    def as_dict(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id, "host": self.host, "start_ts": self.start_ts,
            "end_ts": self.end_ts, "start": self.local_start, "start_hour": self.start_hour,
            "weekday": WEEKDAYS[self.weekday], "daypart": self.daypart,
            "week": self.week.isoformat(), "minutes": round(self.minutes, 2),
            "coins": self.coins, "coins_unconfirmed": self.coins_unconfirmed,
            "diamonds": fmt(self.diamonds), "creator_usd": fmt(self.creator_usd),
            "avg_viewers": rounded(self.avg_viewers, 1), "peak_viewers": self.peak_viewers,
            "comments": self.comments, "likes": self.likes, "joins": self.joins,
            "follows": self.follows, "shares": self.shares, "battles": self.battles,
            "comments_per_viewer_minute": rounded(self.comments_per_viewer_minute),
            "likes_per_viewer_minute": rounded(self.likes_per_viewer_minute),
            "follows_shares_per_viewer_minute": rounded(self.follows_shares_per_viewer_minute,
                                                       5),
            "gifters": self.gifters, "new_gifters": self.new_gifters,
            "returning_gifters": self.returning_gifters, "coins_new": self.coins_new,
            "coins_returning": self.coins_returning,
            "top1_share": round(self.top1_share, 4), "top5_share": round(self.top5_share, 4),
            "days_since_previous": self.days_since_previous,
            "events": self.events,
        }


#: Each session's span, host, viewers and counts from its events (portable:
#: :mod:`liveworth.store.portable`; the average viewers is ``viewers_sum / viewers_n``).
SESSION_EVENTS_SQL = """
    SELECT room_id, CAST(count(*) AS BIGINT) AS events,
           coalesce(min(ts) FILTER (WHERE type = 'live_start'), min(ts)) AS start_ts,
           coalesce(max(ts) FILTER (WHERE type = 'live_end'), max(ts)) AS end_ts,
           min_by(host, ROW(ts, msg_id)) FILTER (WHERE type = 'live_start'
                                                 AND host IS NOT NULL) AS host,
           sum(CAST("current" AS DECIMAL(38, 0))) FILTER (WHERE type = 'viewers') AS viewers_sum,
           CAST(count("current") FILTER (WHERE type = 'viewers') AS BIGINT) AS viewers_n,
           max("current") FILTER (WHERE type = 'viewers') AS peak_viewers,
           CAST(count_if(type = 'comment') AS BIGINT) AS comments,
           coalesce(sum(CAST("count" AS DECIMAL(38, 0))) FILTER (WHERE type = 'like'), 0) AS likes,
           CAST(count_if(type = 'join') AS BIGINT) AS joins,
           CAST(count_if(type = 'follow') AS BIGINT) AS follows,
           CAST(count_if(type = 'share') AS BIGINT) AS shares,
           CAST(count_if(type = 'subscribe') AS BIGINT) AS subs,
           CAST(count(DISTINCT CASE WHEN type = 'battle' THEN coalesce(battle_id, msg_id) END)
                AS BIGINT) AS battles
    FROM {events} GROUP BY room_id"""
#: Each (session, gifter)'s coins to the host (gifts to guests left out), and the unconfirmed.
SESSION_CREDITS_SQL = """
    SELECT room_id, user_id, sum(CAST(coins AS DECIMAL(38, 0))) AS coins,
           coalesce(sum(CAST(coins AS DECIMAL(38, 0))) FILTER (WHERE NOT confirmed),
                    0) AS unconfirmed
    FROM {credits} WHERE NOT guest GROUP BY room_id, user_id"""

_SESSIONS_SQL = """
WITH sess AS MATERIALIZED (
    SELECT ev.*, coalesce(ev.host, r.host) AS who,
           greatest(ev.end_ts, ev.start_ts) AS stop_ts,
           CASE WHEN ev.viewers_n > 0 THEN ev.viewers_sum / ev.viewers_n END AS avg_viewers
    FROM _session_events ev LEFT JOIN rooms r USING (room_id)),
pairs AS (
    SELECT c.room_id, c.user_id, c.coins, s.who, s.start_ts
    FROM _session_credits c JOIN sess s USING (room_id)),
firsts AS (
    SELECT who, user_id, min({'start_ts': start_ts, 'room_id': room_id}).room_id AS first_room
    FROM pairs GROUP BY who, user_id),
g AS (
    SELECT p.room_id, count(p.user_id) AS gifters,
           count(p.user_id) FILTER (WHERE f.first_room = p.room_id) AS new_gifters,
           coalesce(sum(p.coins) FILTER (WHERE f.first_room = p.room_id
                                         AND p.user_id IS NOT NULL), 0) AS coins_new,
           coalesce(sum(p.coins) FILTER (WHERE f.first_room <> p.room_id
                                         AND p.user_id IS NOT NULL), 0) AS coins_returning,
           max(p.coins) AS top1,
           list_sum(list_slice(list_sort(list(p.coins), 'DESC'), 1, 5)) AS top5
    FROM pairs p JOIN firsts f ON f.who IS NOT DISTINCT FROM p.who
                              AND f.user_id IS NOT DISTINCT FROM p.user_id
    GROUP BY p.room_id),
cr AS (
    SELECT room_id, sum(coins) AS coins, sum(unconfirmed) AS unconfirmed
    FROM _session_credits GROUP BY room_id)
SELECT s.room_id, s.who, s.start_ts, s.stop_ts, coalesce(cr.coins, 0),
       coalesce(cr.unconfirmed, 0), s.avg_viewers, s.peak_viewers, s.comments, s.likes,
       s.joins, s.follows, s.shares, s.battles, s.events, coalesce(g.gifters, 0),
       coalesce(g.new_gifters, 0), coalesce(g.coins_new, 0), coalesce(g.coins_returning, 0),
       coalesce(g.top1, 0), coalesce(g.top5, 0)
FROM sess s LEFT JOIN cr USING (room_id) LEFT JOIN g USING (room_id)
ORDER BY s.start_ts, s.room_id
"""


def _daypart(hour: int) -> str:
    return next(name for name, lo, hi in DAYPARTS if lo <= hour < hi)


def _mission_rates(store: Store, card: RateCard,
                   rows: list[tuple[Any, ...]]) -> dict[str, RateCard] | None:
    """Under a card with missions (us-scaled): each session's card at its own LIVE's reward
    rate, as ``liveworth sessions`` and the report price it (UTC weeks; the weekly credit is
    not in a session's creator USD); else None."""
    if card.missions is None:
        return None
    from liveworth.analysis.rewards import SessionSpan, new_followers, session_rates
    from liveworth.economy.missions import at_rate

    follows = new_followers(store)
    spans = (SessionSpan(str(r[0]), r[1], int(r[2]), int(r[3]), follows.get(str(r[0]), 0))
             for r in rows)
    missions = session_rates(card, spans) or {}
    return {room: at_rate(card, m.reward_rate) for room, m in missions.items()}


def session_stats(store: Store, card: RateCard, *, tz: str = "UTC") -> list[SessionStats]:
    """Every session in the store, oldest first (times of day and weeks in ``tz``).

    New and returning gifters and the days since the previous LIVE are judged against each
    host's whole history in the store, whatever is selected later.
    """
    zone_ = zone(tz)
    with aggregated(store, "_session_events", SESSION_EVENTS_SQL), \
            aggregated(store, "_session_credits", SESSION_CREDITS_SQL):
        rows = store.query(_SESSIONS_SQL)
    rates = _mission_rates(store, card, rows)
    out: list[SessionStats] = []
    last_day: dict[str | None, dt.date] = {}
    for r in rows:
        (room_id, host, start_ts, stop_ts, coins, unconfirmed, avg_v, peak_v, comments, likes,
         joins, follows, shares, battles, events, n_gifters, new_gifters, coins_new,
         coins_returning, top1, top5) = r
        start_ts, stop_ts, coins = int(start_ts), int(stop_ts), int(coins)
        local = dt.datetime.fromtimestamp(start_ts / 1000, zone_)
        key = host.lower() if host else None
        prev = last_day.get(key)
        last_day[key] = local.date()
        money = creator_usd(coins, card if rates is None else rates[str(room_id)])
        out.append(SessionStats(
            room_id=str(room_id), host=host, start_ts=start_ts, end_ts=stop_ts,
            local_start=local.isoformat(timespec="seconds"), start_hour=local.hour,
            weekday=local.weekday(), daypart=_daypart(local.hour),
            week=local.date() - dt.timedelta(days=local.weekday()),
            minutes=(stop_ts - start_ts) / 60_000, coins=coins,
            coins_unconfirmed=int(unconfirmed), diamonds=Decimal(coins) * card.diamonds_per_coin,
            creator_usd=money, avg_viewers=None if avg_v is None else float(avg_v),
            peak_viewers=None if peak_v is None else int(peak_v), comments=int(comments),
            likes=int(likes), joins=int(joins), follows=int(follows), shares=int(shares),
            battles=int(battles), events=int(events), gifters=int(n_gifters),
            new_gifters=int(new_gifters), returning_gifters=int(n_gifters) - int(new_gifters),
            coins_new=int(coins_new), coins_returning=int(coins_returning),
            top1_share=int(top1) / coins if coins else 0.0,
            top5_share=int(top5) / coins if coins else 0.0,
            days_since_previous=None if prev is None else (local.date() - prev).days,
        ))
    return out


def select_sessions(sessions: Sequence[SessionStats], *, host: str | None = None,
                    since: str | dt.date | None = None) -> list[SessionStats]:
    """The sessions of ``host`` (``@`` and case ignored) starting on or after ``since``.

    ``since`` is compared with the local start date (the ``tz`` of :func:`session_stats`).
    Raises :class:`NotFoundError` when ``host`` has no session at all.
    """
    want = normalise_host(host)
    day = parse_since(since)
    chosen = list(sessions)
    if want is not None:
        chosen = [s for s in chosen if (s.host or "").lower() == want]
        if not chosen:
            known = sorted({s.host for s in sessions if s.host})
            listed = ", ".join("@" + h for h in known[:10]) + (" …" if len(known) > 10 else "")
            raise NotFoundError(f"no session of @{want} in the database"
                                + (f" (creators: {listed})" if known else ""))
    if day is not None:
        chosen = [s for s in chosen if s.local_date >= day]
    return chosen



# ---------------------------------------------------------------------------- weeks


@dataclass(frozen=True, slots=True)
class WeekTrend:
    """One week (Monday to Sunday, local time) of a creator's sessions."""

    week: dt.date
    sessions: int
    hours: float
    coins: int
    creator_usd: Decimal
    usd_per_session: Decimal
    usd_per_hour: Decimal | None
    top1_share: float
    top5_share: float

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week.isoformat(), "sessions": self.sessions,
                "hours": round(self.hours, 3), "coins": self.coins,
                "creator_usd": fmt(self.creator_usd),
                "usd_per_session": fmt(self.usd_per_session),
                "usd_per_hour": None if self.usd_per_hour is None else fmt(self.usd_per_hour),
                "top1_share": round(self.top1_share, 4), "top5_share": round(self.top5_share, 4)}


@dataclass(frozen=True, slots=True, eq=False)
class GiftPairs:
    """Coins per (session, gifter) of some sessions, as arrays: any subset's top-gifter shares
    are then one ``bincount`` away."""

    session: npt.NDArray[np.int64]
    user: npt.NDArray[np.int64]
    coins: FloatArray
    users: int


def gift_pairs(store: Store, sessions: Sequence[SessionStats]) -> GiftPairs:
    """Coins per (session, gifter) of ``sessions`` (gifts to guests left out), as arrays."""
    index = pa.table({"room_id": [s.room_id for s in sessions],
                      "i": np.arange(len(sessions), dtype=np.int64)})
    with aggregated(store, "_pairs", """
            SELECT room_id, coalesce(user_id, '') AS user_id,
                   sum(CAST(coins AS DECIMAL(38, 0))) AS coins
            FROM {credits} WHERE NOT guest AND room_id IN (SELECT room_id FROM {_sessions})
            GROUP BY room_id, coalesce(user_id, '') HAVING sum(coins) > 0""",
                    {"_sessions": index.select(["room_id"])}), \
            registered(store.con, "_sessions", index):
        got = store.con.sql("""
            SELECT s.i AS session, p.user_id, p.coins::DOUBLE AS coins
            FROM _pairs p JOIN _sessions s USING (room_id)
            ORDER BY s.i, p.user_id""").to_arrow_table()
    users = got.column("user_id").combine_chunks().dictionary_encode()
    return GiftPairs(np.asarray(got.column("session").to_numpy(), dtype=np.int64),
                     np.asarray(users.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
                     np.asarray(got.column("coins").to_numpy(), dtype=np.float64),
                     len(users.dictionary))


def top_share(per_user: FloatArray, k: int) -> float:
    total = float(per_user.sum())
    if total <= 0:
        return float("nan")
    if per_user.shape[0] > k:
        return float(np.partition(per_user, -k)[-k:].sum()) / total
    return 1.0


def top_shares(pairs: GiftPairs, weights: FloatArray) -> tuple[float, float]:
    """(top-1, top-5) share of coins with each session counted ``weights[session]`` times."""
    per_user = np.bincount(pairs.user, weights=weights[pairs.session] * pairs.coins,
                           minlength=pairs.users).astype(np.float64)
    return top_share(per_user, 1), top_share(per_user, 5)


def group_top_shares(pairs: GiftPairs, group: npt.NDArray[np.int64],
                     n_groups: int) -> tuple[FloatArray, FloatArray]:
    """:func:`top_shares` of every group of sessions at once (``group[session]`` in
    ``0..n_groups-1``): the top-1 and top-5 shares per group, NaN for a group without coins.

    Coins are whole numbers, so every sum here is exact and each share equals the one
    :func:`top_shares` gives for the group's sessions alone.
    """
    g = group[pairs.session]
    key, inverse = np.unique(g * max(pairs.users, 1) + pairs.user, return_inverse=True)
    per_user = np.bincount(inverse.ravel(), weights=pairs.coins).astype(np.float64)
    of = key // max(pairs.users, 1)
    total = np.bincount(of, weights=per_user, minlength=n_groups).astype(np.float64)
    order = np.lexsort((-per_user, of))
    of, per_user = of[order], per_user[order]
    rank = np.arange(of.shape[0]) - np.searchsorted(of, of, side="left")
    out = []
    for k in (1, 5):
        top = np.bincount(of[rank < k], weights=per_user[rank < k],
                          minlength=n_groups).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = top / total if pairs.users > k else np.ones(n_groups)
        out.append(np.where(total > 0, share, np.nan))
    return out[0], out[1]


def weekly_trend(sessions: Sequence[SessionStats],
                 pairs: GiftPairs | None = None) -> list[WeekTrend]:
    """Creator USD per session and per hour live, week by week (weeks without LIVE left out).

    ``pairs`` (:func:`gift_pairs` of the same sessions) adds each week's top-1 and top-5 gifter
    shares.
    """
    weeks = sorted({s.week for s in sessions})
    number = {week: i for i, week in enumerate(weeks)}
    by_week: list[list[SessionStats]] = [[] for _ in weeks]
    for s in sessions:
        by_week[number[s.week]].append(s)
    top1 = top5 = np.zeros(len(weeks), dtype=np.float64)
    if pairs is not None:
        group = np.fromiter((number[s.week] for s in sessions), dtype=np.int64,
                            count=len(sessions))
        top1, top5 = (np.nan_to_num(a, nan=0.0) for a in
                      group_top_shares(pairs, group, len(weeks)))
    out: list[WeekTrend] = []
    for i, (week, chosen) in enumerate(zip(weeks, by_week, strict=True)):
        money = sum((s.creator_usd for s in chosen), Decimal(0))
        ms = sum(s.end_ts - s.start_ts for s in chosen)
        out.append(WeekTrend(
            week=week, sessions=len(chosen), hours=ms / 3_600_000,
            coins=sum(s.coins for s in chosen), creator_usd=money,
            usd_per_session=money_avg(money / len(chosen)),
            usd_per_hour=money_avg(money * 3_600_000 / ms) if ms > 0 else None,
            top1_share=float(top1[i]), top5_share=float(top5[i])))
    return out

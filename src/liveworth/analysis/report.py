"""The per-session earnings report: what one LIVE earned, for whom, and how well it was measured.

:func:`session_report` reads one room's events and ledger credits from the store and returns a
:class:`SessionReport`; the terminal table, ``--json`` and the HTML report all render it.
:func:`list_sessions` gives one row per session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from typing import Any, NamedTuple

from liveworth.analysis.rewards import LiveRewards, live_rewards
from liveworth.analysis.sessionstats import SESSION_EVENTS_SQL
from liveworth.analysis.subscriptions import as_json as subscriptions_json
from liveworth.analysis.subscriptions import session_subscriptions
from liveworth.economy.gifts import PRICE_TIERS
from liveworth.economy.missions import Missions, at_rate
from liveworth.economy.money import Earnings, earnings, fmt, split_cents
from liveworth.economy.numbers import count
from liveworth.economy.ratecard import RateCard
from liveworth.economy.subscriptions import SubscriptionMoney
from liveworth.errors import NotFoundError
from liveworth.store.adjustments import (
    Adjustment,
    adjusted_coins,
    adjustments,
    signed_creator_usd,
)
from liveworth.store.database import Store
from liveworth.store.portable import aggregated

GAP_MS = 60_000
TOP_N = 10


class Gifter(NamedTuple):
    """One gifter of a session and what they gave the host. A named tuple, not a dataclass: a
    big session has hundreds of thousands (the still credits), and a tuple is made ~5x faster
    (the 5,000,000-event session's report: 228,092 of them, 0.35 s of its 1.3 s)."""

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
    #: Manual adjustments of the session, undone ones too (:mod:`liveworth.store.adjustments`).
    adjustments: tuple[Adjustment, ...] = ()
    #: What the creator receives for the adjusted coins (negative for a net correction):
    #: ``money.creator_usd`` + this = :attr:`total_creator_usd`, exactly.
    adjusted_creator_usd: Decimal = Decimal(0)
    #: Every gifter of the session, biggest first (:func:`session_credits`): the still credits.
    credits: tuple[Gifter, ...] = ()
    #: The Scaled LIVE rewards missions (preset ``us-scaled``; None under other cards): the
    #: money above is at their ``reward_rate``; the weekly part is ``weekly_creator_usd``.
    rewards: LiveRewards | None = None
    #: What the week's missions add for this LIVE's coins (counted + adjusted), credited Monday.
    weekly_creator_usd: Decimal = Decimal(0)
    #: The LIVE's subscriptions, apart from its gifts (:mod:`liveworth.analysis.subscriptions`).
    subscriptions: SubscriptionMoney | None = None
    #: The peak viewer count of each minute from the start, (minute, viewers): its maximum is
    #: ``peak_viewers`` (the session charts draw it; ``viewers_per_minute`` is each minute's mean).
    viewers_peak_per_minute: tuple[tuple[int, int], ...] = ()

    @property
    def adjusted_coins(self) -> int:
        """The adjustments not undone, summed (``coins`` stays the counted coins)."""
        return sum(a.coins for a in self.adjustments if a.active)

    @property
    def total_coins(self) -> int:
        """Counted + adjusted."""
        return self.coins + self.adjusted_coins

    @property
    def total_creator_usd(self) -> Decimal:
        return self.money.creator_usd + self.adjusted_creator_usd

    def adjusted_shown(self) -> tuple[Decimal, Decimal, Decimal]:
        """(counted, adjusted, total) creator USD in cents as shown: counted + adjusted = total
        (:func:`liveworth.economy.money.split_cents`)."""
        counted, adjusted = split_cents(self.money.creator_usd, self.adjusted_creator_usd)
        return counted, adjusted, counted + adjusted

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
            "counted_coins": self.coins,
            "adjusted_coins": self.adjusted_coins,
            "total_coins": self.total_coins,
            "adjustments": [a.as_dict() for a in self.adjustments],
            "coins_confirmed": self.coins_confirmed,
            "coins_unconfirmed": self.coins_unconfirmed,
            "diamonds": fmt(m.diamonds),
            "viewer_usd": fmt(m.viewer_usd),
            "creator_usd": fmt(m.creator_usd),
            "platform_usd": fmt(m.platform_usd),
            "take_home_usd": fmt(m.take_home_usd),
            "adjusted_creator_usd": fmt(self.adjusted_creator_usd),
            "total_creator_usd": fmt(self.total_creator_usd),
            "channel": m.channel,
            "rate_card": m.rate_card,
            "gift_count": self.gift_count,
            "gift_sends": self.gift_sends,
            "unique_gifters": self.unique_gifters,
            "top_gifters": [g.as_dict() for g in self.top_gifters],
            "credits": [g.as_dict() for g in self.credits],
            "top_gifter_share": round(self.top_gifter_share, 4),
            "top_10pct_share": round(self.top_10pct_share, 4),
            "tiers": [{"tier": t, "gifts": n, "coins": c} for t, n, c in self.tiers],
            "coins_per_minute": [{"minute": mi, "coins": c} for mi, c in self.coins_per_minute],
            "viewers_per_minute": [{"minute": mi, "viewers": round(v, 1)}
                                   for mi, v in self.viewers_per_minute],
            "viewers_peak_per_minute": [{"minute": mi, "viewers": p}
                                        for mi, p in self.viewers_peak_per_minute],
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
            **self._rewards_dict(),
            "subscriptions": None if self.subscriptions is None else subscriptions_json(
                self.total_creator_usd, self.subscriptions),
        }

    def _rewards_dict(self) -> dict[str, Any]:
        """``reward_rate``, ``missions`` and ``weekly`` under a card with missions, else none."""
        r = self.rewards
        if r is None:
            return {}
        m = r.missions
        return {"reward_rate": fmt(m.reward_rate), "violation_cut": fmt(m.violation_cut),
                "new_followers": r.new_followers,
                "missions": [x.as_dict() for x in m.missions],
                "weekly": {"week": r.week.isoformat(), "tz": r.tz,
                           "lives_over_minutes": r.weekly_lives, "rate": fmt(m.weekly_rate),
                           "creator_usd": fmt(self.weekly_creator_usd),
                           "credited": "on the Monday after the week, apart from the LIVE's "
                                       "creator_usd"}}


def redacted(rep: SessionReport) -> SessionReport:
    """The report with viewers' names replaced by stable pseudonyms (for sharing)."""

    def alias(user_id: str) -> str:
        return "viewer-" + hashlib.sha256(user_id.encode()).hexdigest()[:6]

    top = tuple(g._replace(user=alias(g.user_id), nickname="", user_id=alias(g.user_id))
                for g in rep.top_gifters)
    adj = tuple(replace(a, user_id=None if a.user_id is None else alias(a.user_id))
                for a in rep.adjustments)
    credits = tuple(g._replace(user=alias(g.user_id), nickname="", user_id=alias(g.user_id))
                    for g in rep.credits)
    return replace(rep, top_gifters=top, adjustments=adj, credits=credits)


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
                   channel: str | None = None, *, violation_cut: Decimal = Decimal(0),
                   tz: str = "UTC") -> SessionReport:
    """The report of one session (room) under ``card``.

    A few queries whatever the session's size: one pass over the room's events grouped by type
    (span, host, viewers, engagement), one grouped by minute (gaps) and one over its viewer
    counts; one pass over its credits (the ledger's output) for the money, price tiers and coins
    per minute; one ranking its gifters.
    """
    ev = _events_summary(store, room_id)
    if ev is None:
        raise NotFoundError(f"no session {room_id!r} in the database (see `liveworth sessions`)")
    start_ts = ev.started if ev.started is not None else ev.first_ts
    end_ts = max(ev.ended if ev.ended is not None else ev.last_ts, start_ts)
    host, host_id, avg = ev.host, ev.host_id, ev.avg_viewers
    if host is None:
        row = _one(store, "SELECT host FROM rooms WHERE room_id = $1", [room_id])
        host = row[0] if row else None
    from liveworth.store.ledger import host_ids

    inferred_host_id = host_ids(store.con, [room_id]).get(room_id) if host_id is None else None

    vpm, peaks, gaps = _minutes_and_gaps(store, room_id, start_ts)
    money = _credits_summary(store, room_id, start_ts)
    coins, confirmed = money.coins, money.confirmed
    top, gifters, top10_coins = _ranked_gifters(store, room_id)
    top1 = top[0].coins / coins if coins and top else 0.0
    top10 = top10_coins / coins if coins else 0.0
    minutes = (end_ts - start_ts) / 60000
    per_kvm = coins / (avg * minutes) * 1000 if avg and minutes > 0 else None
    rewards = live_rewards(store, card, room_id, host, start_ts, end_ts,
                           violation_cut=violation_cut, tz=tz)
    if rewards is not None:  # this LIVE's own rate (economy.missions)
        card = at_rate(card, rewards.missions.reward_rate)

    flags = _flags(store, room_id, gaps, ev.started, ev.ended, money.unconfirmed_n,
                   coins - confirmed, inferred_host_id)
    adj = tuple(adjustments(store, room_id))
    return SessionReport(
        room_id=room_id, host=host, host_id=host_id or inferred_host_id, start_ts=start_ts,
        end_ts=end_ts, coins=coins, coins_confirmed=confirmed,
        coins_unconfirmed=coins - confirmed, guest_coins=money.guest,
        money=earnings(coins, card, channel), gift_count=money.units, gift_sends=money.sends,
        unique_gifters=gifters, top_gifters=top, top_gifter_share=float(top1),
        top_10pct_share=float(top10), tiers=money.tiers, coins_per_minute=money.per_minute,
        viewers_per_minute=vpm, peak_viewers=ev.peak_viewers, avg_viewers=avg,
        engagement=ev.engagement,
        coins_per_1000_viewer_minutes=per_kvm, unconfirmed_streaks=money.unconfirmed_n,
        events=ev.events, flags=tuple(flags), adjustments=adj,
        credits=session_credits(store, room_id),
        adjusted_creator_usd=signed_creator_usd(sum(a.coins for a in adj if a.active), card),
        rewards=rewards, weekly_creator_usd=Decimal(0) if rewards is None else _weekly_usd(
            coins + sum(a.coins for a in adj if a.active), card, rewards),
        subscriptions=session_subscriptions(store, room_id, start_ts),
        viewers_peak_per_minute=peaks,
    )


def _weekly_usd(coins: int, card: RateCard, rewards: LiveRewards) -> Decimal:
    """The weekly missions' credit for ``coins`` (negative coins: a net correction)."""
    return signed_creator_usd(coins, at_rate(card, rewards.missions.weekly_rate))


@dataclass(frozen=True, slots=True)
class _Events:
    """A room's events summed up."""

    events: int
    first_ts: int
    last_ts: int
    started: int | None
    ended: int | None
    host: str | None
    host_id: str | None
    peak_viewers: int | None
    avg_viewers: float | None
    engagement: dict[str, int]


def _events_summary(store: Store, room_id: str) -> _Events | None:
    """One pass over the room's events, grouped by type (cheaper than a FILTER per figure):
    span, host, viewers and engagement counts; None without events."""
    rows = store.query("""
        SELECT type, count(*), min(ts), max(ts),
               arg_min(host, ts) FILTER (WHERE host IS NOT NULL),
               arg_min(host_id, ts) FILTER (WHERE host_id IS NOT NULL),
               max("current"), avg("current"), coalesce(sum("count"), 0)
        FROM events WHERE room_id = $1 GROUP BY type""", [room_id])
    if not rows:
        return None
    by = {r[0]: r[1:] for r in rows}
    start, end, view = by.get("live_start"), by.get("live_end"), by.get("viewers")

    def count(kind: str) -> int:
        return int(by[kind][0]) if kind in by else 0

    return _Events(
        events=sum(int(r[1]) for r in rows), first_ts=min(int(r[2]) for r in rows),
        last_ts=max(int(r[3]) for r in rows),
        started=None if start is None else int(start[1]),
        ended=None if end is None else int(end[2]),
        host=None if start is None else start[3], host_id=None if start is None else start[4],
        peak_viewers=None if view is None or view[5] is None else int(view[5]),
        avg_viewers=None if view is None or view[6] is None else float(view[6]),
        engagement={"comments": count("comment"),
                    "likes": int(by["like"][7]) if "like" in by else 0,
                    "joins": count("join"), "follows": count("follow"),
                    "shares": count("share")})


#: A stretch without any event: (last event before, first event after, seconds).
Gap = tuple[int, int, float]


def _minutes_and_gaps(store: Store, room_id: str, start_ts: int) -> tuple[
        tuple[tuple[int, float], ...], tuple[tuple[int, int], ...], list[Gap]]:
    """Average and peak viewers per minute from the start, and every stretch of more than
    :data:`GAP_MS` without an event, in time order.

    A stretch longer than a minute always runs from the last event of one minute of the clock
    to the first event of the next minute that has one, so the gaps come from one row per
    minute instead of from sorting every event.
    """
    rows = store.query("""
        SELECT (ts - $2) // 60000 AS m, avg("current"), max("current") FROM events
        WHERE room_id = $1 AND type = 'viewers' GROUP BY m ORDER BY m""", [room_id, start_ts])
    vpm = tuple((int(m), float(v)) for m, v, _ in rows if v is not None)
    peaks = tuple((int(m), int(p)) for m, _, p in rows if p is not None)
    clock = store.query("""
        SELECT ts // 60000 AS clock, min(ts), max(ts) FROM events WHERE room_id = $1
        GROUP BY clock ORDER BY clock""", [room_id])
    gaps = [(int(before[2]), int(after[1]), (after[1] - before[2]) / 1000.0)
            for before, after in pairwise(clock) if after[1] - before[2] > GAP_MS]
    return vpm, peaks, gaps


@dataclass(frozen=True, slots=True)
class _Money:
    """A room's credits summed (gifts to guests apart)."""

    coins: int
    confirmed: int
    guest: int
    units: int
    sends: int
    unconfirmed_n: int
    tiers: tuple[tuple[str, int, int], ...]
    per_minute: tuple[tuple[int, int], ...]


def _credits_summary(store: Store, room_id: str, start_ts: int) -> _Money:
    """One pass over the room's credits: totals, price tiers and the host's coins per minute."""
    tier = " ".join(
        f"WHEN coins_each BETWEEN {lo} AND {hi if hi is not None else 2**62} THEN '{label}'"
        for label, lo, hi in PRICE_TIERS)
    rows = store.query(f"""
        SELECT GROUPING(tier) = 1, GROUPING(m) = 1, tier, m,
               coalesce(sum(coins) FILTER (WHERE NOT guest), 0),
               coalesce(sum(coins) FILTER (WHERE NOT guest AND confirmed), 0),
               coalesce(sum(coins) FILTER (WHERE guest), 0),
               coalesce(sum(repeat_count) FILTER (WHERE NOT guest), 0),
               count(*) FILTER (WHERE NOT guest),
               count(*) FILTER (WHERE NOT confirmed)
        FROM (SELECT *, CASE {tier} ELSE '1-9' END AS tier, (ts - $2) // 60000 AS m
              FROM credits WHERE room_id = $1)
        GROUP BY GROUPING SETS ((), (tier), (m))""", [room_id, start_ts])
    total = (0, 0, 0, 0, 0, 0)
    tier_rows = {label: (0, 0) for label, _, _ in PRICE_TIERS}
    per_minute: list[tuple[int, int]] = []
    for all_tiers, all_minutes, label, m, coins, confirmed, guest, units, sends, open_ in rows:
        if all_tiers and all_minutes:
            total = (int(coins), int(confirmed), int(guest), int(units), int(sends), int(open_))
        elif all_minutes and sends:  # one tier
            tier_rows[label] = (int(units), int(coins))
        elif all_tiers and sends:  # one minute
            per_minute.append((int(m), int(coins)))
    return _Money(*total, tiers=tuple((label, *tier_rows[label]) for label, _, _ in PRICE_TIERS),
                  per_minute=tuple(sorted(per_minute)))


def _ranked_gifters(store: Store, room_id: str) -> tuple[tuple[Gifter, ...], int, int]:
    """The host's gifters ranked by coins (ties by user id): the top :data:`TOP_N`, how many
    have a user id, and the coins of the top 10 % of them (at least one; credits without a user
    id count as one gifter here)."""
    rows = store.query(f"""
        WITH g AS MATERIALIZED (
            SELECT user_id, sum(coins) AS c, sum(repeat_count) AS n FROM credits
            WHERE room_id = $1 AND NOT guest GROUP BY user_id),
        top AS (SELECT * FROM g ORDER BY c DESC, user_id LIMIT {TOP_N}),
        names AS (
            SELECT user_id, arg_max("user", ts) AS u, arg_max(nickname, ts) AS nick
            FROM credits c SEMI JOIN top t ON c.user_id IS NOT DISTINCT FROM t.user_id
            WHERE room_id = $1 AND NOT guest GROUP BY user_id),
        total AS (
            SELECT count(*) AS ranked, count(user_id) AS gifters,
                   list_sum(list_slice(list_sort(list(c), 'DESC'), 1,
                                       greatest(1, ceil(count(*)::DOUBLE * 0.1))::BIGINT))
                       AS top10
            FROM g)
        SELECT total.*, top.user_id, names.u, names.nick, top.c, top.n
        FROM total LEFT JOIN top ON true
        LEFT JOIN names ON names.user_id IS NOT DISTINCT FROM top.user_id
        ORDER BY top.c DESC, top.user_id""", [room_id])
    if not rows or not rows[0][0]:
        return (), 0, 0
    top = tuple(Gifter(str(r[3]), r[4] or "", r[5] or "", int(r[6]), int(r[7])) for r in rows)
    return top, int(rows[0][1]), int(rows[0][2])


def session_credits(store: Store, room_id: str) -> tuple[Gifter, ...]:
    """Every gifter of the host in the session with their coins, biggest first (ties by user
    id; gifts to guests left out; credits without a user id are one gifter, user id "")."""
    # The sums as BIGINT, fetched twice as fast as HUGEINT (0.25 against 0.5 s for the 228,092
    # gifters of a 5,000,000-event session), unless a sum could pass it (never in real data).
    wide = store.query(f"""SELECT coalesce(greatest(sum(abs(coins)), sum(abs(repeat_count)))
        > {2**63 - 1}, false) FROM credits WHERE room_id = ? AND NOT guest""", [room_id])[0][0]
    return store.query_many(f"""
        SELECT coalesce(user_id, ''), coalesce(arg_max("user", ts), ''),
               coalesce(arg_max(nickname, ts), ''), sum(coins)::{"HUGEINT" if wide else "BIGINT"}
               AS c, sum(repeat_count)::{"HUGEINT" if wide else "BIGINT"}
        FROM credits WHERE room_id = ? AND NOT guest
        GROUP BY user_id ORDER BY c DESC, user_id NULLS LAST""", [room_id], Gifter._make)


def _flags(store: Store, room_id: str, gaps: list[Gap], started: Any, ended: Any,
           unconfirmed_n: int, unconfirmed_coins: int,
           inferred_host_id: str | None) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = []
    if gaps:
        flags.append({"flag": "gaps", "count": len(gaps),
                      "message": f"{count(len(gaps), 'gap')} of more than {GAP_MS // 1000} s "
                                 "with no event: the stream may have been disconnected",
                      "gaps": [{"from_ts": int(a), "to_ts": int(b), "seconds": float(s)}
                               for a, b, s in gaps[:100]]})
    recorded_gaps = store.query("""
        SELECT from_ms, to_ms, reason FROM recorder_gaps WHERE room_id = $1 ORDER BY from_ms""",
        [room_id])
    if recorded_gaps:
        lost = sum(b - a for a, b, _ in recorded_gaps) / 1000
        flags.append({"flag": "disconnected", "count": len(recorded_gaps),
                      "message": "the recorder was disconnected "
                                 f"{count(len(recorded_gaps), 'time')}, {lost:,.0f} s in all; "
                                 "messages TikTok replayed after each reconnect were counted "
                                 "once",
                      "gaps": [{"from_ts": int(a), "to_ts": int(b), "reason": r}
                               for a, b, r in recorded_gaps[:100]]})
    if unconfirmed_n:
        flags.append({"flag": "unconfirmed_streaks", "count": unconfirmed_n,
                      "coins": unconfirmed_coins,
                      "message": f"{count(unconfirmed_n, 'gift streak')} never got "
                                 f"{'its' if unconfirmed_n == 1 else 'their'} final frame; "
                                 f"{count(unconfirmed_coins, 'coin')} counted at "
                                 f"{'its' if unconfirmed_n == 1 else 'their'} highest repeat "
                                 "count"})
    flags.append({"flag": "observed_counts",
                  "message": "likes and joins are observed counts: TikTok thins them on busy "
                             "streams"})
    suspended = store.query("""
        SELECT min(ts) FROM events WHERE room_id = $1 AND type = 'live_end'
          AND json_extract_string(extra, '$.reason') = 'suspended'""", [room_id])[0][0]
    if suspended is not None:
        flags.append({"flag": "suspended", "ts": int(suspended),
                      "message": "TikTok suspended the LIVE: it ended there, not by the "
                                 "creator"})
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
    #: Manual adjustments not undone (``coins`` and ``creator_usd`` are the counted ones).
    adjusted_coins: int = 0
    adjusted_creator_usd: Decimal = Decimal(0)
    #: What viewers paid for the counted coins, on ``channel`` (the rate card's, or --channel).
    viewer_usd: Decimal = Decimal(0)
    channel: str = ""
    #: LIVE subscriptions bought in the session (their money is apart: sessions --region).
    subscriptions: int = 0

    @property
    def duration_s(self) -> float:
        return (self.end_ts - self.start_ts) / 1000

    @property
    def total_coins(self) -> int:
        return self.coins + self.adjusted_coins

    @property
    def total_creator_usd(self) -> Decimal:
        return self.creator_usd + self.adjusted_creator_usd

    def as_dict(self) -> dict[str, object]:
        return {"room_id": self.room_id, "host": self.host, "start_ts": self.start_ts,
                "end_ts": self.end_ts, "duration_s": self.duration_s, "coins": self.coins,
                "coins_unconfirmed": self.coins_unconfirmed,
                "adjusted_coins": self.adjusted_coins, "total_coins": self.total_coins,
                "creator_usd": fmt(self.creator_usd),
                "adjusted_creator_usd": fmt(self.adjusted_creator_usd),
                "total_creator_usd": fmt(self.total_creator_usd),
                "viewer_usd": fmt(self.viewer_usd), "channel": self.channel,
                "unique_gifters": self.gifters, "events": self.events}


#: Each session's host coins (gifts to guests left out), unconfirmed coins and gifters.
LIST_CREDITS_SQL = """
    SELECT room_id, sum(CAST(coins AS DECIMAL(38, 0))) FILTER (WHERE NOT guest) AS coins,
           sum(CAST(coins AS DECIMAL(38, 0))) FILTER (WHERE NOT guest AND NOT confirmed)
               AS unconfirmed,
           CAST(count(DISTINCT CASE WHEN NOT guest THEN user_id END) AS BIGINT) AS gifters
    FROM {credits} GROUP BY room_id"""


def list_sessions(store: Store, card: RateCard) -> list[SessionRow]:
    """One row per session, newest first."""
    with aggregated(store, "_list_ev", SESSION_EVENTS_SQL), \
            aggregated(store, "_list_cr", LIST_CREDITS_SQL):
        rows = store.query("""
            SELECT ev.room_id, coalesce(ev.host, r.host), ev.start_ts, ev.end_ts,
                   coalesce(cr.coins, 0), coalesce(cr.unconfirmed, 0), coalesce(cr.gifters, 0),
                   ev.events, ev.subs
            FROM _list_ev ev LEFT JOIN _list_cr cr USING (room_id) LEFT JOIN rooms r USING (room_id)
            ORDER BY ev.start_ts DESC, ev.room_id""")
    adjusted = adjusted_coins(store)
    rates = _list_rates(store, card, rows)
    out = []
    for r in rows:
        live = card if rates is None else at_rate(card, rates[str(r[0])].reward_rate)
        money = earnings(int(r[4]), live)
        out.append(SessionRow(
            str(r[0]), r[1], int(r[2]), int(max(r[3], r[2])), int(r[4]), int(r[5]),
            money.creator_usd, int(r[6]), int(r[7]), adjusted.get(str(r[0]), 0),
            signed_creator_usd(adjusted.get(str(r[0]), 0), live), money.viewer_usd,
            money.channel, int(r[8])))
    return out


def _list_rates(store: Store, card: RateCard,
                rows: list[tuple[Any, ...]]) -> dict[str, Missions] | None:
    """Under a card with missions (us-scaled): each listed session's missions (UTC weeks; the
    weekly credit is not in a row's creator USD); else None."""
    if card.missions is None:
        return None
    from liveworth.analysis.rewards import SessionSpan, new_followers, session_rates

    follows = new_followers(store)
    return session_rates(card, (SessionSpan(str(r[0]), r[1], int(r[2]), int(max(r[3], r[2])),
                                            follows.get(str(r[0]), 0)) for r in rows))

"""The state of a host's current (or latest) LIVE, as the live page and the overlay show it.

Everything comes from the store: the ledger's ``credits`` for coins (so the counting rules live
in one place; the recorder recomputes them as it writes) and ``events`` for viewers and the
session's span. A host is matched on ``live_start.host`` or ``rooms.host``, case-insensitively
and with or without a leading ``@``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liveworth.alerts.engine import Alert
from liveworth.alerts.stored import stored_alerts
from liveworth.alerts.watch import AlertWatch
from liveworth.economy.missions import Missions, at_rate, live_missions, pct, progress_line
from liveworth.economy.money import Earnings, earnings, fmt, usd
from liveworth.economy.ratecard import RateCard
from liveworth.store.database import Store

#: Most gifters or gifts one state lists.
MAX_LIST = 20
#: A session without ``live_end`` whose last event is older than this (by the clock given) is
#: shown as idle rather than live: the LIVE or its recording has probably stopped.
IDLE_MS = 10 * 60 * 1000
STATUS_TEXT = {"none": "waiting for a LIVE", "live": "LIVE", "idle": "no recent activity",
               "ended": "ended"}


def normalize_host(host: str) -> str:
    """``host`` as stored: stripped, without a leading ``@``."""
    return host.strip().lstrip("@").strip()


@dataclass(frozen=True, slots=True)
class LiveGifter:
    user_id: str
    user: str
    nickname: str
    coins: int

    @property
    def name(self) -> str:
        return self.nickname or self.user or self.user_id

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "user": self.user, "nickname": self.nickname,
                "name": self.name, "coins": self.coins, "coins_display": f"{self.coins:,}"}


@dataclass(frozen=True, slots=True)
class LiveGift:
    ts: int
    user: str
    nickname: str
    gift_name: str
    repeat_count: int
    coins: int
    confirmed: bool

    @property
    def name(self) -> str:
        return self.nickname or self.user

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "user": self.user, "nickname": self.nickname, "name": self.name,
                "gift_name": self.gift_name, "repeat_count": self.repeat_count,
                "coins": self.coins, "confirmed": self.confirmed}


@dataclass(frozen=True, slots=True)
class LiveState:
    """What a host's current or latest LIVE has earned so far."""

    host: str
    status: str  # "none" (no session of this host), "live", "idle" or "ended"
    room_id: str | None
    start_ts: int | None
    last_ts: int | None
    coins: int
    coins_unconfirmed: int
    money: Earnings
    viewers: int | None
    peak_viewers: int | None
    gifters: int
    top_gifters: tuple[LiveGifter, ...]
    recent_gifts: tuple[LiveGift, ...]
    alerts: tuple[Alert, ...] = ()  # the LIVE's latest alerts, newest first
    #: The Scaled LIVE rewards missions so far (``us-scaled``; None under other cards): the
    #: money is at their ``reward_rate``; ``missions_line`` says where the LIVE stands.
    missions: Missions | None = None
    missions_line: str = ""

    def as_dict(self) -> dict[str, Any]:
        m = self.money
        return {
            "host": self.host,
            "status": self.status,
            "room_id": self.room_id,
            "start_ts": self.start_ts,
            "last_ts": self.last_ts,
            "coins": self.coins,
            "coins_unconfirmed": self.coins_unconfirmed,
            "diamonds": fmt(m.diamonds),
            "creator_usd": fmt(m.creator_usd),
            "viewer_usd": fmt(m.viewer_usd),
            "channel": m.channel,
            "rate_card": m.rate_card,
            "viewers": self.viewers,
            "peak_viewers": self.peak_viewers,
            "gifters": self.gifters,
            "top_gifters": [g.as_dict() for g in self.top_gifters],
            "recent_gifts": [g.as_dict() for g in self.recent_gifts],
            "alerts": [a.as_dict() for a in self.alerts],
            "reward_rate": None if self.missions is None else fmt(self.missions.reward_rate),
            "missions": None if self.missions is None
            else [x.as_dict() for x in self.missions.missions],
            "display": {
                "coins": f"{self.coins:,}",
                "creator_usd": usd(m.creator_usd),
                "viewer_usd": usd(m.viewer_usd),
                "viewers": "-" if self.viewers is None else f"{self.viewers:,}",
                "peak_viewers": "-" if self.peak_viewers is None else f"{self.peak_viewers:,}",
                "gifters": f"{self.gifters:,}",
                "status": STATUS_TEXT[self.status],
                "missions": self.missions_line,
                "reward_rate": "" if self.missions is None else pct(self.missions.reward_rate),
            },
        }


def empty_state(host: str, card: RateCard) -> LiveState:
    """The state of a host with no session in the store (yet)."""
    return LiveState(host=normalize_host(host), status="none", room_id=None, start_ts=None,
                     last_ts=None, coins=0, coins_unconfirmed=0, money=earnings(0, card),
                     viewers=None, peak_viewers=None, gifters=0, top_gifters=(),
                     recent_gifts=())


def latest_room(store: Store, host: str) -> str | None:
    """The room of ``host``'s latest session (by start), or None."""
    rows = store.query("""
        WITH hosted AS (
            SELECT room_id FROM events
            WHERE type = 'live_start' AND lower(host) = lower($1)
            UNION
            SELECT room_id FROM rooms WHERE lower(host) = lower($1))
        SELECT room_id,
               coalesce(min(ts) FILTER (WHERE type = 'live_start'), min(ts)) AS start_ts
        FROM events WHERE room_id IN (SELECT room_id FROM hosted)
        GROUP BY room_id ORDER BY start_ts DESC, room_id DESC LIMIT 1
        """, [normalize_host(host)])
    return str(rows[0][0]) if rows else None


def room_alerts(store: Store, room: str, limit: int,
                watch: AlertWatch | None = None) -> tuple[Alert, ...]:
    """The room's latest ``limit`` alerts, newest first: those stored (by the recorder), and —
    with ``watch`` (``serve --alerts``, read-only) — those its rules fire over the stored events."""
    alerts = stored_alerts(store, room_id=room, limit=limit, newest_first=True)
    if watch is None:
        return tuple(alerts)
    watch.update(store, [room])
    with watch.lock:
        extra = list(watch.memory.get(room, ()))
    known = {(a.rule, a.key) for a in alerts}
    merged = alerts + [a for a in extra if (a.rule, a.key) not in known]
    merged.sort(key=lambda a: (a.ts, a.rule, a.key), reverse=True)
    return tuple(merged[:limit])


def live_state(store: Store, host: str, card: RateCard, *, top: int = 5, recent: int = 5,
               now_ms: int | None = None, watch: AlertWatch | None = None) -> LiveState:
    """The state of ``host``'s current or latest LIVE, with ``top`` gifters, the ``recent``
    latest gifts and alerts. ``now_ms`` (the clock) tells a live session from an idle one;
    without it a session is live until its ``live_end``."""
    top = max(0, min(top, MAX_LIST))
    recent = max(0, min(recent, MAX_LIST))
    room = latest_room(store, host)
    if room is None:
        return empty_state(host, card)
    span = store.query("""
        SELECT coalesce(min(ts) FILTER (WHERE type = 'live_start'), min(ts)), max(ts),
               count(*) FILTER (WHERE type = 'live_end'),
               arg_max("current", ts) FILTER (WHERE type = 'viewers'),
               max("current") FILTER (WHERE type = 'viewers')
        FROM events WHERE room_id = $1""", [room])[0]
    totals = store.query("""
        SELECT coalesce(sum(coins), 0), coalesce(sum(coins) FILTER (WHERE NOT confirmed), 0),
               count(DISTINCT user_id)
        FROM credits WHERE room_id = $1 AND NOT guest""", [room])[0]
    gifters = store.query("""
        SELECT user_id, arg_max("user", ts), arg_max(nickname, ts), sum(coins) AS c
        FROM credits WHERE room_id = $1 AND NOT guest
        GROUP BY user_id ORDER BY c DESC, user_id LIMIT $2""", [room, top])
    gifts = store.query("""
        SELECT ts, "user", nickname, gift_name, repeat_count, coins, confirmed
        FROM credits WHERE room_id = $1 AND NOT guest
        ORDER BY ts DESC, msg_id DESC LIMIT $2""", [room, recent])
    coins = int(totals[0])
    last_ts = int(span[1])
    status = ("ended" if span[2] else
              "idle" if now_ms is not None and now_ms - last_ts > IDLE_MS else "live")
    upto = now_ms if status == "live" and now_ms is not None else last_ts
    missions, line = _missions(store, card, room, host, int(span[0]), max(upto, int(span[0])))
    if missions is not None:
        card = at_rate(card, missions.reward_rate)
    return LiveState(
        host=normalize_host(host),
        status=status,
        room_id=room,
        start_ts=int(span[0]),
        last_ts=last_ts,
        coins=coins,
        coins_unconfirmed=int(totals[1]),
        money=earnings(coins, card),
        viewers=None if span[3] is None else int(span[3]),
        peak_viewers=None if span[4] is None else int(span[4]),
        gifters=int(totals[2]),
        top_gifters=tuple(LiveGifter(str(r[0]), r[1] or "", r[2] or "", int(r[3]))
                          for r in gifters),
        recent_gifts=tuple(LiveGift(int(r[0]), r[1] or "", r[2] or "", r[3] or "", int(r[4]),
                                    int(r[5]), bool(r[6])) for r in gifts),
        alerts=room_alerts(store, room, max(recent, 1), watch),
        missions=missions, missions_line=line,
    )


def _missions(store: Store, card: RateCard, room: str, host: str, start_ts: int,
              upto_ts: int) -> tuple[Missions | None, str]:
    """The LIVE's missions so far (its span up to ``upto_ts``: the clock while it is live) and
    the line saying where it stands; (None, "") under a card without missions."""
    schedule = card.missions
    if schedule is None:
        return None, ""
    from liveworth.analysis.rewards import new_followers, weekly_lives

    followers = new_followers(store, [room]).get(room, 0)
    _, lives = weekly_lives(store, normalize_host(host), start_ts, schedule)
    got = live_missions(schedule, upto_ts - start_ts, followers, lives)
    return got, progress_line(schedule, upto_ts - start_ts, followers)

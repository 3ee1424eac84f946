"""The Scaled LIVE rewards missions of recorded LIVEs (:mod:`liveworth.economy.missions` on the
store): what each LIVE's missions are and the rate its coins earn.

- **New followers during a LIVE**: the distinct users of the room's ``follow`` events.
- **Duration**: the session's span as :mod:`liveworth.analysis.report` computes it.
- **The week**: TikTok's, Monday 00:00 to Monday 00:00 in ``tz`` (UTC unless ``--tz``), the LIVE
  in the week it starts; the week's LIVEs of the same host longer than the schedule's weekly
  minutes decide the weekly bonus, credited on the coins of every LIVE of that week.
- **Violation cut**: per LIVE, as the user sets it (``cuts``: room id → share); 0 otherwise.

Only a card with a missions schedule (preset ``us-scaled``, ``reward_rate`` not set by the user)
has missions; under any other card every function here says None and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from liveworth.economy.missions import Missions, is_weekly_live, live_missions
from liveworth.economy.ratecard import MissionSchedule, RateCard
from liveworth.store import portable
from liveworth.store.database import Store


def new_followers(store: Store, room_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Distinct users who followed during each room (all rooms, or ``room_ids``)."""
    rows = portable.rows(store, """
        SELECT room_id, CAST(count(DISTINCT coalesce(user_id, msg_id)) AS BIGINT) FROM {events}
        WHERE type = 'follow' GROUP BY room_id""")
    wanted = None if room_ids is None else set(room_ids)
    return {str(r): int(n) for r, n in rows if wanted is None or r in wanted}


def week_of(start_ts: int, tz: str = "UTC") -> tuple[dt.date, int, int]:
    """(Monday, first ms, first ms of the next week) of the week holding ``start_ts`` in ``tz``."""
    from liveworth.analysis.sessionstats import zone

    zone_ = zone(tz)
    local = dt.datetime.fromtimestamp(start_ts / 1000, zone_)
    monday = local.date() - dt.timedelta(days=local.weekday())

    def ms(day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(), zone_).timestamp() * 1000)

    return monday, ms(monday), ms(monday + dt.timedelta(days=7))


def weekly_lives(store: Store, host: str | None, start_ts: int, schedule: MissionSchedule,
                 tz: str = "UTC") -> tuple[dt.date, int]:
    """(Monday, LIVEs over the weekly minutes) of ``host``'s week holding ``start_ts``: the
    sessions (spans as the report's) that start in that week."""
    monday, low, high = week_of(start_ts, tz)
    if host is None:
        return monday, 0
    from liveworth.analysis.sessionstats import SESSION_EVENTS_SQL

    with portable.aggregated(store, "_week_sessions", SESSION_EVENTS_SQL):
        rows = store.query("""
            SELECT ev.start_ts, greatest(ev.end_ts, ev.start_ts) FROM _week_sessions ev
            LEFT JOIN rooms r USING (room_id)
            WHERE lower(coalesce(ev.host, r.host)) = lower($1) AND ev.start_ts >= $2
              AND ev.start_ts < $3""",
            [host, low, high])
    return monday, sum(is_weekly_live(schedule, int(e) - int(s)) for s, e in rows)


@dataclass(frozen=True, slots=True)
class LiveRewards:
    """One LIVE's missions and the week they are counted in."""

    missions: Missions
    week: dt.date
    tz: str
    weekly_lives: int
    new_followers: int


def live_rewards(store: Store, card: RateCard, room_id: str, host: str | None, start_ts: int,
                 end_ts: int, *, violation_cut: Decimal = Decimal(0),
                 tz: str = "UTC") -> LiveRewards | None:
    """The missions of the LIVE ``room_id`` under ``card`` (None when the card has none)."""
    if card.missions is None:
        return None
    followers = new_followers(store, [room_id]).get(room_id, 0)
    week, lives = weekly_lives(store, host, start_ts, card.missions, tz)
    got = live_missions(card.missions, end_ts - start_ts, followers, lives, violation_cut)
    return LiveRewards(got, week, tz, lives, followers)


@dataclass(frozen=True, slots=True)
class SessionSpan:
    """What the missions need of a session."""

    room_id: str
    host: str | None
    start_ts: int
    end_ts: int
    follows: int


def session_rates(card: RateCard, sessions: Iterable[SessionSpan], *, tz: str = "UTC",
                  cuts: Mapping[str, Decimal] | None = None) -> dict[str, Missions] | None:
    """Every session's missions, the weekly part from the sessions given (group them as the
    caller counts: all of a host's sessions up to a day); None when the card has no missions."""
    schedule = card.missions
    if schedule is None:
        return None
    chosen = list(sessions)
    weeks: dict[tuple[str, dt.date], int] = {}
    week_by_room: dict[str, tuple[str, dt.date]] = {}
    for s in chosen:
        if s.host is None:  # of no known creator: no week to count (as the report)
            continue
        key = (s.host.lower(), week_of(s.start_ts, tz)[0])
        week_by_room[s.room_id] = key
        weeks[key] = weeks.get(key, 0) + is_weekly_live(schedule, s.end_ts - s.start_ts)
    cuts = cuts or {}
    return {s.room_id: live_missions(schedule, s.end_ts - s.start_ts, s.follows,
                                     weeks.get(week_by_room.get(s.room_id, ("", dt.date.min)), 0),
                                     cuts.get(s.room_id, Decimal(0)))
            for s in chosen}

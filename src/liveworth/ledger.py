"""The ledger: the one place where gift frames become credited coins (DESIGN.md, rules 1–6).

1. An event is identified by ``(room_id, msg_id)``; seeing it again changes nothing (the store
   enforces this before the ledger runs).
2. A gift with ``gift_type`` ≠ 1 is credited when it arrives: ``coins × repeat_count``.
3. A gift with ``gift_type`` = 1 belongs to a streak keyed by ``(room, user, gift, group)``.
   Non-final frames only raise the streak's highest ``repeat_count``; the first final frame
   credits ``coins × repeat_count`` and closes the streak. Another final for the same key within
   60 s of the crediting one is a resend and is not credited. (So is a late non-final frame of
   the closed streak within those 60 s whose count does not exceed the credited count.)
4. A streak without a final is closed when 5 minutes of event time pass without a frame for it,
   or when the input ends; it credits ``coins × highest repeat_count``, marked *unconfirmed*.
5. A gift sent to someone other than the host (``to_user_id``) is a guest's, reported apart.
6. Frames are processed in event-time order (``ts``, then ``msg_id``), so the result does not
   depend on the order of the input.

The store keeps the ledger's output in the ``credits`` table, recomputed for every room an import
or recording touches — one definition for import, replay and live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from liveworth.events import Gift
from liveworth.store import run

STREAK_IDLE_MS = 5 * 60 * 1000
RESEND_WINDOW_MS = 60 * 1000
STREAKABLE = 1


@dataclass(frozen=True, slots=True)
class Credit:
    """Coins credited for one gift (a one-shot gift or a whole streak)."""

    room_id: str
    msg_id: str  # the frame that credited (the final), or the streak's last frame
    ts: int
    user_id: str
    user: str
    nickname: str
    gift_id: int
    gift_name: str
    coins_each: int
    repeat_count: int
    coins: int
    confirmed: bool
    guest: bool
    to_user_id: str | None
    frames: int
    closed_by: str  # "one-shot", "final", "idle" or "end"


# A gift frame as the ledger reads it (the column order of FRAME_COLUMNS).
Frame = tuple[Any, ...]
FRAME_COLUMNS = (
    "room_id", "msg_id", "ts", "user_id", "user", "nickname", "gift_id", "gift_name", "coins",
    "gift_type", "repeat_count", "repeat_end", "group_id", "to_user_id",
)
(_ROOM, _MSG, _TS, _UID, _USER, _NICK, _GID, _GNAME, _COINS, _GTYPE, _RC, _END, _GROUP,
 _TO) = range(len(FRAME_COLUMNS))


def frame_of(g: Gift) -> Frame:
    """A :class:`~liveworth.events.Gift` as a ledger frame."""
    return tuple(getattr(g, c) for c in FRAME_COLUMNS)


def sort_key(f: Frame) -> tuple[Any, ...]:
    """Streak key first, then event time: the order :func:`credit_frames` needs."""
    return (f[_ROOM], f[_UID] or "", f[_GID], f[_GROUP] or "", f[_TS], f[_MSG])


def _is_guest(to_user_id: str | None, host_id: str | None) -> bool:
    return bool(to_user_id) and to_user_id != "0" and host_id is not None and (
        to_user_id != host_id)


def credit_frames(frames: Iterable[Frame], host_ids: dict[str, str | None]) -> list[Credit]:
    """Apply the counting rules to gift frames already sorted by :func:`sort_key`.

    ``host_ids`` maps room → the host's user id (``None`` when unknown: then no gift is a
    guest's).
    """
    out: list[Credit] = []
    key: tuple[Any, ...] | None = None
    open_: list[Frame] = []  # frames of the open streak of the current key
    high = 0  # highest repeat_count of the open streak
    closed_ts = -1  # ts of the last crediting final of this key
    closed_count = 0

    def credit(last: Frame, count: int, confirmed: bool, how: str, n: int) -> None:
        host = host_ids.get(last[_ROOM])
        out.append(
            Credit(
                room_id=last[_ROOM], msg_id=last[_MSG], ts=last[_TS], user_id=last[_UID] or "",
                user=last[_USER] or "", nickname=last[_NICK] or "", gift_id=last[_GID],
                gift_name=last[_GNAME] or "", coins_each=last[_COINS], repeat_count=count,
                coins=last[_COINS] * count, confirmed=confirmed,
                guest=_is_guest(last[_TO], host), to_user_id=last[_TO], frames=n,
                closed_by=how,
            )
        )

    def close_open(how: str) -> None:
        nonlocal high
        if open_:
            credit(open_[-1], high, False, how, len(open_))
            open_.clear()
            high = 0

    for f in frames:
        if f[_GTYPE] != STREAKABLE:
            credit(f, f[_RC], True, "one-shot", 1)
            continue
        k = (f[_ROOM], f[_UID], f[_GID], f[_GROUP])
        if k != key:
            close_open("end")
            key, closed_ts, closed_count = k, -1, 0
        ts, rc = f[_TS], f[_RC]
        if open_ and ts - open_[-1][_TS] > STREAK_IDLE_MS:
            close_open("idle")
        in_window = closed_ts >= 0 and ts - closed_ts <= RESEND_WINDOW_MS and not open_
        if f[_END]:
            if in_window:
                continue  # a resent final
            credit(f, rc, True, "final", len(open_) + 1)
            open_.clear()
            high = 0
            closed_ts, closed_count = ts, rc
        else:
            if in_window and rc <= closed_count:
                continue  # a late frame of the streak just credited
            open_.append(f)
            high = max(high, rc)
    close_open("end")
    return out


def credit_events(gifts: Iterable[Gift], host_ids: dict[str, str | None]) -> list[Credit]:
    """The counting rules over gift events in any order (for tests and small inputs)."""
    unique = {(g.room_id, g.msg_id): g for g in sorted(gifts, key=lambda g: (g.ts, g.msg_id))}
    frames = sorted((frame_of(g) for g in unique.values()), key=sort_key)
    return credit_frames(frames, host_ids)


CREDIT_SCHEMA = pa.schema([
    ("room_id", pa.string()), ("msg_id", pa.string()), ("ts", pa.int64()),
    ("user_id", pa.string()), ("user", pa.string()), ("nickname", pa.string()),
    ("gift_id", pa.int64()), ("gift_name", pa.string()), ("coins_each", pa.int64()),
    ("repeat_count", pa.int64()), ("coins", pa.int64()), ("confirmed", pa.bool_()),
    ("guest", pa.bool_()), ("to_user_id", pa.string()), ("frames", pa.int64()),
    ("closed_by", pa.string()),
])


def credits_table(credits: Sequence[Credit]) -> pa.Table:
    names = CREDIT_SCHEMA.names
    return pa.table({n: [getattr(c, n) for c in credits] for n in names}, schema=CREDIT_SCHEMA)


def host_ids(con: Any, rooms: Sequence[str]) -> dict[str, str | None]:
    """The host's user id per room: from ``live_start``, else the most frequent gift recipient
    (the host receives nearly every gift), else unknown."""
    rows = con.execute(
        """
        WITH r AS (SELECT unnest(?::VARCHAR[]) AS room_id),
        started AS (
            SELECT room_id, arg_min(host_id, ts) AS host_id FROM events
            WHERE type = 'live_start' AND host_id IS NOT NULL AND room_id IN (SELECT room_id FROM r)
            GROUP BY room_id),
        recipients AS (
            SELECT room_id, to_user_id, count(*) AS n FROM events
            WHERE type = 'gift' AND to_user_id IS NOT NULL AND to_user_id <> '0'
              AND room_id IN (SELECT room_id FROM r)
            GROUP BY room_id, to_user_id),
        inferred AS (
            SELECT room_id, arg_max(to_user_id, n * 1e12 - hash(to_user_id) % 1000000)
                AS host_id
            FROM recipients GROUP BY room_id)
        SELECT r.room_id, coalesce(s.host_id, i.host_id)
        FROM r LEFT JOIN started s USING (room_id) LEFT JOIN inferred i USING (room_id)
        """,
        [list(rooms)],
    ).fetchall()
    return {room: host for room, host in rows}


def recompute(con: Any, rooms: Sequence[str]) -> int:
    """Recompute the ``credits`` of ``rooms`` from their stored events; returns credits made."""
    if not rooms:
        return 0
    hosts = host_ids(con, rooms)
    cols = ", ".join(f'"{c}"' for c in FRAME_COLUMNS)
    cur = con.execute(
        f"""
        SELECT {cols} FROM events
        WHERE type = 'gift' AND room_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY room_id, coalesce(user_id, ''), gift_id, coalesce(group_id, ''), ts, msg_id
        """,
        [list(rooms)],
    )
    credits = credit_frames(_stream(cur), hosts)
    run(con, "DELETE FROM credits WHERE room_id IN (SELECT unnest(?::VARCHAR[]))",
                [list(rooms)])
    table = credits_table(credits)
    con.register("_credits", table)
    try:
        run(con, "INSERT INTO credits SELECT * FROM _credits")
    finally:
        con.unregister("_credits")
    return len(credits)


def _stream(cur: Any) -> Iterator[Frame]:
    while batch := cur.fetchmany(100_000):
        yield from batch

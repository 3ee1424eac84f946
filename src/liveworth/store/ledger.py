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

:func:`credit_frames`, a fold over sorted frames, is the reference implementation of these rules.
:func:`recompute` gets the same credits at columnar speed by doing in SQL only what provably gives
the fold's result, and handing everything else to the fold:

- one-shot gifts (``gift_type`` ≠ 1) are credited in SQL, one credit per frame;
- a *simple* streak key is credited in SQL with one ``GROUP BY``. Simple means: its frames span at
  most :data:`STREAK_IDLE_MS` (so no idle gap); it has at most one final, strictly later than all
  its other frames (so nothing is resent or late); its ``user_id`` and ``group_id`` are not empty
  (so the fold's key and the sort's cannot disagree). The fold makes exactly one credit of such a
  key, from its last frame by ``(ts, msg_id)``: with a final, that final's count, confirmed,
  closed by "final"; without, the highest count, unconfirmed, closed by "end"; either way
  ``frames`` counts every frame of the key;
- every other streak key (an idle gap, several finals, late frames...) goes through the fold.

A live recording does not recompute its growing rooms whole once a second: :class:`LiveLedger`
recomputes only what the events stored since its last update can change, with the same result
(tests: incremental == full). A room's credits are a union of independent parts — one credit per
one-shot frame, and the credits of each *streak group* ``(user_id, gift_id, group_id)`` (NULL
read as empty, as :func:`sort_key` does: the fold starts afresh at each group, so a group's
credits depend only on its own frames) — all given the room's host. So, while the host stays the
same, replacing the credits of the new one-shot frames and of the streak groups that got a frame
gives exactly the full recompute; when the host changes (or the room is new to the ledger), the
room is recomputed whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from liveworth.decode.events import Gift
from liveworth.store.database import registered, run

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
    """A :class:`~liveworth.decode.events.Gift` as a ledger frame."""
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
    return [c for chunk in iter_credits(frames, host_ids) for c in chunk]


def iter_credits(frames: Iterable[Frame], host_ids: dict[str, str | None],
                 chunk: int = 100_000) -> Iterator[list[Credit]]:
    """:func:`credit_frames` as a stream of lists of about ``chunk`` credits (bounded memory)."""
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
        if len(out) >= chunk:
            yield out
            out = []
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
    yield out


def credit_events(gifts: Iterable[Gift], host_ids: dict[str, str | None]) -> list[Credit]:
    """The counting rules over gift events in any order (for tests and small inputs)."""
    unique: dict[tuple[str, str], Gift] = {}
    for g in sorted(gifts, key=lambda g: (g.ts, g.msg_id)):
        unique.setdefault((g.room_id, g.msg_id), g)  # the earliest copy, as the store keeps
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


#: Each room's host candidates (portable, :mod:`liveworth.store.portable`): the ``live_start``'s
#: host id (``n`` NULL), and every gift recipient with its gifts (``n``).
HOST_CANDIDATES_SQL = """
    SELECT room_id, min_by(host_id, ROW(ts, msg_id)) AS who, CAST(NULL AS BIGINT) AS n
    FROM {events} WHERE type = 'live_start' AND host_id IS NOT NULL{rooms} GROUP BY room_id
    UNION ALL
    SELECT room_id, to_user_id AS who, CAST(count(*) AS BIGINT) AS n FROM {events}
    WHERE type = 'gift' AND to_user_id IS NOT NULL AND to_user_id <> '0'{rooms}
    GROUP BY room_id, to_user_id"""


def pick_hosts(con: Any, candidates: pa.Table, rooms: Sequence[str]) -> dict[str, str | None]:
    """The host's user id per room of ``rooms`` from its :data:`HOST_CANDIDATES_SQL`: the
    ``live_start``'s, else the most frequent gift recipient (the host receives nearly every
    gift; a tie goes by a hash of the id), else unknown."""
    with registered(con, "_host_candidates", candidates):
        rows = con.execute(
            """
            WITH r AS (SELECT unnest(?::VARCHAR[]) AS room_id),
            started AS (SELECT room_id, any_value(who) AS host_id FROM _host_candidates
                        WHERE n IS NULL GROUP BY room_id),
            inferred AS (
                SELECT room_id, arg_max(who, n * 1e12 - hash(who) % 1000000) AS host_id
                FROM _host_candidates WHERE n IS NOT NULL GROUP BY room_id)
            SELECT r.room_id, coalesce(s.host_id, i.host_id)
            FROM r LEFT JOIN started s USING (room_id) LEFT JOIN inferred i USING (room_id)
            """,
            [list(rooms)],
        ).fetchall()
    return {room: host for room, host in rows}


def host_ids(con: Any, rooms: Sequence[str]) -> dict[str, str | None]:
    """:func:`pick_hosts` of the stored events of ``rooms``."""
    with registered(con, "_host_rooms", pa.table({"room_id": pa.array(rooms, pa.string())})):
        candidates = con.sql(HOST_CANDIDATES_SQL.format(
            events="events", rooms=" AND room_id IN (SELECT room_id FROM _host_rooms)")
        ).to_arrow_table()
    return pick_hosts(con, candidates, rooms)


def recompute(con: Any, rooms: Sequence[str],
              hosts: dict[str, str | None] | None = None) -> int:
    """Recompute the ``credits`` of ``rooms`` from their stored events; returns credits made.

    One-shot gifts and simple streak keys are credited in SQL; the other streak keys go through
    :func:`iter_credits` (module docstring). ``hosts``: :func:`host_ids` of ``rooms`` when the
    caller has them.
    """
    if not rooms:
        return 0
    hosts = host_ids(con, rooms) if hosts is None else {r: hosts[r] for r in rooms}
    with _streak_keys(con, rooms):
        # Read everything first (DuckDB wants a result consumed before the next statement); the
        # fold's credits are kept as compact Arrow tables, not as Python objects.
        tables = [credits_table(chunk) for chunk in iter_credits(_hard_frames(con), hosts)]
        run(con, f"DELETE FROM credits WHERE room_id IN {_ROOMS}", [list(rooms)])
        made = _insert_one_shots(con, rooms, hosts) + _insert_simple_streaks(con, hosts)
        for table in tables:
            with registered(con, "_credits", table):
                made += _insert_credits(con, "SELECT * FROM _credits")
    _settled(con, rooms)
    return made


def _settled(con: Any, rooms: Sequence[str]) -> None:
    """The credits of ``rooms`` now follow from their events (in the caller's transaction)."""
    run(con, f"DELETE FROM ledger_pending WHERE room_id IN {_ROOMS}", [list(rooms)])


def pending(con: Any) -> list[str]:
    """The rooms whose credits lag their stored events: events were stored and the ledger has
    not run since (a recorder or an import killed between the two)."""
    return [str(r[0]) for r in con.execute(
        "SELECT room_id FROM ledger_pending ORDER BY room_id").fetchall()]


def settle(con: Any) -> list[str]:
    """Recompute the credits of every pending room (what every writer does at start); returns
    the rooms. The caller holds the transaction."""
    rooms = pending(con)
    recompute(con, rooms)
    return rooms


StreakGroup = tuple[str, str, int | None, str]  # room, user_id, gift_id, group_id (NULL → '')

_TOUCHED_SCHEMA = pa.schema([("room_id", pa.string()), ("uid", pa.string()),
                             ("gift_id", pa.int64()), ("grp", pa.string())])
_NEW_ONE_SHOTS_SCHEMA = pa.schema([("room_id", pa.string()), ("msg_id", pa.string())])


class LiveLedger:
    """The credits of live rooms, kept up to date incrementally (module docstring).

    :meth:`note` every gift handed to the store (stored or found to be a repeat: either way is
    right), then :meth:`update` the rooms; the ``credits`` are then those :func:`recompute` would
    make. Only the rooms' host and the groups touched since the last update are kept.
    """

    def __init__(self) -> None:
        self.hosts: dict[str, str | None] = {}
        self._one_shots: dict[str, set[tuple[str, int]]] = {}  # room → (msg_id, ts)
        self._groups: set[StreakGroup] = set()

    def note(self, gifts: Iterable[Gift]) -> None:
        for g in gifts:
            if g.gift_type == STREAKABLE:
                self._groups.add((g.room_id, g.user_id or "", g.gift_id, g.group_id or ""))
            else:
                self._one_shots.setdefault(g.room_id, set()).add((g.msg_id, g.ts))

    def note_table(self, events: pa.Table) -> None:
        """:meth:`note` for the gifts of an events table (the store's :data:`EVENT_SCHEMA`)."""
        gifts = events.filter(pc.equal(events.column("type"), "gift"))
        columns = [gifts.column(c).to_pylist() for c in
                   ("room_id", "msg_id", "ts", "gift_type", "user_id", "gift_id", "group_id")]
        for room, msg, ts, gtype, uid, gid, grp in zip(*columns, strict=True):
            if gtype == STREAKABLE:
                self._groups.add((room, uid or "", gid, grp or ""))
            else:
                self._one_shots.setdefault(room, set()).add((msg, ts))

    def update(self, con: Any, rooms: Sequence[str]) -> int:
        """Bring the credits of ``rooms`` up to date; returns the credits (re)made."""
        if not rooms:
            return 0
        hosts = host_ids(con, rooms)
        whole = [r for r in rooms if r not in self.hosts or self.hosts[r] != hosts[r]]
        made = recompute(con, whole, hosts)
        wanted = set(rooms) - set(whole)
        groups = [g for g in self._groups if g[0] in wanted]
        one_shots = [(r, m, t) for r in sorted(wanted) for m, t in self._one_shots.get(r, ())]
        made += _update_parts(con, groups, one_shots, hosts)
        _settled(con, rooms)
        self.hosts.update(hosts)
        self._groups = {g for g in self._groups if g[0] not in rooms}
        for r in rooms:
            self._one_shots.pop(r, None)
        return made


def _update_parts(con: Any, groups: Sequence[StreakGroup],
                  one_shots: Sequence[tuple[str, str, int]], hosts: dict[str, str | None]) -> int:
    """Replace the credits of the streak ``groups`` and the one-shot frames ``one_shots``
    ``(room, msg_id, ts)`` by those their stored frames give."""
    if not groups and not one_shots:
        return 0
    touched = pa.Table.from_pylist(
        [dict(zip(_TOUCHED_SCHEMA.names, g, strict=True)) for g in groups],
        schema=_TOUCHED_SCHEMA)
    new = pa.Table.from_pylist([{"room_id": r, "msg_id": m} for r, m, _ in one_shots],
                               schema=_NEW_ONE_SHOTS_SCHEMA)
    made = 0
    with registered(con, "_touched", touched), registered(con, "_new_one_shots", new):
        if one_shots:
            # A one-shot credit carries its frame's ts. The frames noted lie within [lo, hi]; a
            # stored copy outside it (an earlier repeat, credited when it was stored) is
            # neither deleted nor re-made. The bounds let DuckDB skip older row groups.
            lo, hi = min(t for _, _, t in one_shots), max(t for _, _, t in one_shots)
            run(con, """
                DELETE FROM credits c WHERE closed_by = 'one-shot' AND ts BETWEEN ? AND ?
                  AND EXISTS (SELECT 1 FROM _new_one_shots n
                              WHERE n.room_id = c.room_id AND n.msg_id = c.msg_id)""",
                [lo, hi])
            made += _insert_credits(con, f"""
                SELECT {_credit_row("e.repeat_count", "true", "1", "'one-shot'")}
                FROM events e SEMI JOIN _new_one_shots n
                  ON e.room_id = n.room_id AND e.msg_id = n.msg_id
                LEFT JOIN {_HOSTS} h USING (room_id)
                WHERE e.type = 'gift' AND e.gift_type IS DISTINCT FROM {STREAKABLE}
                  AND e.ts BETWEEN ? AND ?
                """, [*_host_params(hosts), lo, hi])
        if groups:
            # Every frame of the touched groups, read once.
            run(con, f"""
                CREATE OR REPLACE TEMP TABLE _group_frames AS
                SELECT e.* FROM events e SEMI JOIN _touched t
                  ON e.room_id = t.room_id AND coalesce(e.user_id, '') = t.uid
                     AND e.gift_id IS NOT DISTINCT FROM t.gift_id
                     AND coalesce(e.group_id, '') = t.grp
                WHERE e.type = 'gift' AND e.gift_type = {STREAKABLE}""")
            try:
                run(con, """
                    DELETE FROM credits c WHERE closed_by <> 'one-shot'
                      AND EXISTS (SELECT 1 FROM _group_frames g
                                  WHERE g.room_id = c.room_id AND g.msg_id = c.msg_id)""")
                rooms = sorted({g[0] for g in groups})
                with _streak_keys(con, rooms, "_group_frames"):
                    tables = [credits_table(chunk) for chunk in
                              iter_credits(_hard_frames(con, "_group_frames"), hosts)]
                    made += _insert_simple_streaks(con, hosts, "_group_frames")
                    for table in tables:
                        with registered(con, "_credits", table):
                            made += _insert_credits(con, "SELECT * FROM _credits")
            finally:
                with suppress(duckdb.Error):
                    run(con, "DROP TABLE IF EXISTS _group_frames")
    return made


# ------------------------------------------------------------------ the SQL parts of recompute

_IS_FINAL = "coalesce(repeat_end, false)"
_ROOMS = "(SELECT unnest(?::VARCHAR[]))"  # parameter: the rooms
_HOSTS = "(SELECT unnest(?::VARCHAR[]) AS room_id, unnest(?::VARCHAR[]) AS host_id)"


def _host_params(hosts: dict[str, str | None]) -> list[list[str | None]]:
    """The parameters of ``_HOSTS``: rooms and their hosts, as two parallel lists."""
    return [list(hosts), list(hosts.values())]


@contextmanager
def _streak_keys(con: Any, rooms: Sequence[str], events: str = "events") -> Iterator[None]:
    """Summarise every streak key of ``rooms`` into the temp table ``_streaks`` for the block
    (``events``: the events table, or a subquery of it to summarise only some keys).

    Per key: its frames, finals and highest count, the ``msg_id`` of its last frame by
    ``(ts, msg_id)``, and whether it is *simple* (module docstring; a NULL ``user_id`` or
    ``group_id`` counts as empty).
    """
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE _streaks AS
        WITH k AS (
            SELECT room_id, user_id, gift_id, group_id,
                   count(*) AS frames, count_if({_IS_FINAL}) AS finals,
                   max(repeat_count) AS high, max(ts) - min(ts) AS span,
                   max(ts) FILTER (WHERE NOT {_IS_FINAL}) AS last_step_ts,
                   max(ts) FILTER (WHERE {_IS_FINAL}) AS final_ts,
                   max({{'ts': ts, 'msg_id': msg_id}}).msg_id AS last_msg_id
            FROM {events}
            WHERE type = 'gift' AND gift_type = {STREAKABLE} AND room_id IN {_ROOMS}
            GROUP BY ALL)
        SELECT *,
               coalesce(user_id <> '' AND group_id <> '' AND span <= {STREAK_IDLE_MS}
                        AND (finals = 0 OR (finals = 1 AND coalesce(last_step_ts < final_ts,
                                                                    true))), false) AS simple
        FROM k
        """, [list(rooms)])
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # after a failed statement, the error that matters is raised
            run(con, "DROP TABLE IF EXISTS _streaks")


def _hard_frames(con: Any, events: str = "events") -> Iterator[Frame]:
    """The frames of the streak keys in ``_streaks`` that are not simple, sorted by
    :func:`sort_key` (as :func:`iter_credits` needs)."""
    cur = con.execute(f"""
        SELECT {", ".join(f'e."{c}"' for c in FRAME_COLUMNS)}
        FROM {events} e SEMI JOIN (SELECT * FROM _streaks WHERE NOT simple) s
          ON e.room_id = s.room_id AND e.user_id IS NOT DISTINCT FROM s.user_id
             AND e.gift_id IS NOT DISTINCT FROM s.gift_id
             AND e.group_id IS NOT DISTINCT FROM s.group_id
        WHERE e.type = 'gift' AND e.gift_type = {STREAKABLE}
        ORDER BY e.room_id, coalesce(e.user_id, ''), e.gift_id, coalesce(e.group_id, ''), e.ts,
                 e.msg_id
        """)
    while batch := cur.fetchmany(100_000):
        yield from batch


def _credit_row(count: str, confirmed: str, frames: str, closed_by: str) -> str:
    """The select list of one credit (:data:`CREDIT_SCHEMA`'s columns) whose crediting frame is
    the events row ``e``, the room's host joined as ``h``: what :func:`iter_credits` makes."""
    guest = ("coalesce(e.to_user_id NOT IN ('', '0') AND h.host_id IS NOT NULL "
             "AND e.to_user_id <> h.host_id, false)")
    return f"""
        e.room_id, e.msg_id, e.ts, coalesce(e.user_id, ''), coalesce(e."user", ''),
        coalesce(e.nickname, ''), e.gift_id, coalesce(e.gift_name, ''), e.coins,
        {count}, e.coins * {count}, {confirmed}, {guest}, e.to_user_id, {frames}, {closed_by}
    """


def _insert_one_shots(con: Any, rooms: Sequence[str], hosts: dict[str, str | None]) -> int:
    """Credit every one-shot gift of ``rooms``: one credit per frame."""
    return _insert_credits(con, f"""
        SELECT {_credit_row("e.repeat_count", "true", "1", "'one-shot'")}
        FROM events e LEFT JOIN {_HOSTS} h USING (room_id)
        WHERE e.type = 'gift' AND e.gift_type IS DISTINCT FROM {STREAKABLE}
          AND e.room_id IN {_ROOMS}
        """, [*_host_params(hosts), list(rooms)])


def _insert_simple_streaks(con: Any, hosts: dict[str, str | None],
                           events: str = "events") -> int:
    """Credit every simple key in ``_streaks``: one credit, from the key's last frame."""
    return _insert_credits(con, f"""
        SELECT {_credit_row("CASE WHEN s.finals = 1 THEN e.repeat_count ELSE s.high END",
                            "s.finals = 1", "s.frames",
                            "CASE WHEN s.finals = 1 THEN 'final' ELSE 'end' END")}
        FROM _streaks s
        JOIN {events} e ON e.room_id = s.room_id AND e.msg_id = s.last_msg_id
          AND e.type = 'gift'
        LEFT JOIN {_HOSTS} h ON h.room_id = s.room_id
        WHERE s.simple
        """, _host_params(hosts))


def _insert_credits(con: Any, select: str, params: Sequence[Any] | None = None) -> int:
    """Insert the credits ``select`` gives (:data:`CREDIT_SCHEMA`'s columns); returns how many."""
    columns = ", ".join(f'"{n}"' for n in CREDIT_SCHEMA.names)
    rows = run(con, f"INSERT INTO credits ({columns}) {select}", params)
    return int(rows[0][0]) if rows else 0

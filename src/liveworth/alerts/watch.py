"""Alerts on a store that is being written: what is new in the touched rooms goes through each
room's :class:`~liveworth.alerts.engine.RoomAlerts`, and what fires is stored and handed on.

The recorder calls :meth:`AlertWatch.update` in its writer thread after each ledger update
(:mod:`liveworth.ingest.recorder`, ``on_ledger``), so alerts see exactly the credits every report
shows — a streak once the ledger has closed it. The first time a room is seen, its whole stored
history is fed (a restarted recorder rebuilds every rule's state, cooldowns included, from the
events themselves); an alert already in the ``alerts`` table (same room, rule and trigger) is
neither stored nor handed on again, so a restart or a second replay delivers nothing twice.

A read-only watcher (``persist=False``: the web app over a store another process writes) keeps
the alerts in memory instead and hands on only those the store does not hold.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from liveworth.alerts.engine import Alert, Item, RoomAlerts
from liveworth.alerts.rules import Rule
from liveworth.economy.money import creator_usd
from liveworth.economy.ratecard import RateCard
from liveworth.store.database import Store

#: How far before the latest item already fed a room is read again: a streak's credit carries the
#: time of its last frame and may close (idle) 5 minutes later; a reconnect's backlog is older
#: than what came before it.
LOOK_BACK_MS = 10 * 60 * 1000
#: Most alerts kept in memory per room by a read-only watcher.
MAX_MEMORY = 1000

_HOSTS = """
    SELECT r.room_id, coalesce(
        (SELECT any_value(host) FROM rooms WHERE room_id = r.room_id AND host IS NOT NULL),
        (SELECT arg_min(host, ts) FROM events
         WHERE room_id = r.room_id AND type = 'live_start' AND host IS NOT NULL), ''),
        (SELECT coalesce(min(ts) FILTER (WHERE type = 'live_start'), min(ts)) FROM events
         WHERE room_id = r.room_id)
    FROM (SELECT unnest(?::VARCHAR[]) AS room_id) r"""
_WANTED = "WITH w AS (SELECT unnest(?::VARCHAR[]) AS room_id, unnest(?::BIGINT[]) AS since)"
#: The host's rooms: as web.live matches them (a live_start's host, or the recorder's note).
_HOST_ROOMS = """
    SELECT room_id FROM events WHERE type = 'live_start' AND lower(host) = lower($1)
    UNION SELECT room_id FROM rooms WHERE lower(host) = lower($1)"""


class AlertWatch:
    """Every room's alerts under ``rules``; ``on_alert`` is called with each new one."""

    def __init__(self, rules: Sequence[Rule], card: RateCard, *,
                 on_alert: Callable[[Alert], None] | None = None,
                 persist: bool = True) -> None:
        self.rules = tuple(rules)
        self.card = card
        self.on_alert = on_alert
        self.persist = persist
        self.rooms: dict[str, RoomAlerts] = {}
        self._cursor: dict[str, int] = {}
        self.fired = 0  # alerts new to the store (or, read-only, to this watcher)
        self.memory: dict[str, list[Alert]] = {}  # read-only: each room's alerts
        self.lock = threading.Lock()
        self.pushed = False  # the recorder hands over what it stores (note_events)
        self._pending: dict[str, list[Item]] = {}  # pushed joins and comments, by room
        self._gifts: dict[str, set[str]] = {}  # pushed gifts' message ids, by room

    def update(self, store: Store, rooms: Iterable[str], *, final: bool = False) -> list[Alert]:
        """Feed what is new in ``rooms``; store (or remember) and hand on what fires. With
        ``final`` (the recording stops), streaks still open count as closed, as the ledger
        credits them."""
        rooms = sorted(set(rooms))
        if not rooms or not self.rules:
            return []
        with self.lock:
            fresh = {r for r in rooms if r not in self.rooms}
            self._add_rooms(store, sorted(fresh))
            fired: list[Alert] = []
            for room, items in self._new_items(store, rooms, final, fresh).items():
                state = self.rooms[room]
                fired.extend(state.feed(items))
                if items:
                    top = max(i.ts for i in items)
                    self._cursor[room] = max(self._cursor.get(room, top), top)
                    state.forget_before(self._cursor[room] - 2 * LOOK_BACK_MS)
            new = self._keep(store, fired)
            self.fired += len(new)
        for alert in new:
            if self.on_alert is not None:
                self.on_alert(alert)
        return new

    def _add_rooms(self, store: Store, rooms: list[str]) -> None:
        if not rooms:
            return
        for room, host, start in store.query(_HOSTS, [rooms]):
            host = str(host or "")
            self.rooms[room] = RoomAlerts(
                room, host, self.rules, lifetime=_lifetime(store, host, room),
                tags=_tags(store, host), creator_usd=self._usd,
                start_ts=None if start is None else int(start))

    def _usd(self, coins: int) -> Decimal:
        return creator_usd(coins, self.card)

    def note_events(self, table: pa.Table) -> None:
        """Events the recorder has just stored (its writer thread): the joins and comments wait
        for the next :meth:`update`, the gifts name the credits it must read. Without this, an
        update reads what is new from the store by time, LOOK_BACK_MS back."""
        if not self.rules or table.num_rows == 0:
            return
        kind = table.column("type")
        wanted = table.filter(pc.is_in(kind, pa.array(["join", "comment", "gift"])))
        cols = [wanted.column(c).to_pylist() for c in
                ("room_id", "type", "ts", "msg_id", "user_id", "user", "nickname", "text")]
        with self.lock:
            self.pushed = True
            for room, k, ts, key, uid, user, nick, text in zip(*cols, strict=True):
                if k == "gift":
                    self._gifts.setdefault(room, set()).add(key)
                else:
                    self._pending.setdefault(room, []).append(
                        Item(int(ts), k, f"{k}:{key}", uid or "", _who(uid, user, nick),
                             text=text or ""))

    def _new_items(self, store: Store, rooms: list[str], final: bool,
                   fresh: set[str]) -> dict[str, list[Item]]:
        """What may be new in ``rooms``: a room seen for the first time (``fresh``), or any room
        when nothing is pushed (:meth:`note_events`), is read from the store by time; otherwise
        the pushed joins and comments and the credits of the pushed gifts."""
        by_time = [r for r in rooms if r in fresh or not self.pushed]
        pushed = [r for r in rooms if r not in by_time]
        out: dict[str, list[Item]] = {r: [] for r in rooms}
        if by_time:
            since = [self._cursor.get(r, -(1 << 62)) - LOOK_BACK_MS for r in by_time]
            self._credits(store, out, by_time, "c.ts >= w.since", since, final)
            for room, kind, ts, key, uid, user, nick, text in store.query(f"""
                    {_WANTED}
                    SELECT e.room_id, e.type, e.ts, e.msg_id, e.user_id, e."user", e.nickname,
                           e.text
                    FROM events e JOIN w ON e.room_id = w.room_id AND e.ts >= w.since
                    WHERE e.type IN ('join', 'comment')""", [by_time, since]):
                out[room].append(Item(int(ts), str(kind), f"{kind}:{key}", uid or "",
                                      _who(uid, user, nick), text=text or ""))
        if pushed:
            keys = [sorted(self._gifts.get(r, ())) for r in pushed]
            self._credits(store, out, pushed, "list_contains(w.keys, c.msg_id)", keys, final)
            for r in pushed:
                out[r].extend(self._pending.get(r, ()))
        for r in rooms:
            self._pending.pop(r, None)
            self._gifts.pop(r, None)
        return out

    def _credits(self, store: Store, out: dict[str, list[Item]], rooms: list[str], recent: str,
                 arg: list[Any], final: bool) -> None:
        """The closed credits of ``rooms`` that are ``recent`` (by time, or by the frames that
        credited them) — and, whatever their time, those closed late: a credit carries the time
        of its streak's last frame, long before a streak closed idle, or one still open ("end")
        once its room ended or the recording stops (the engine knows which it has fed)."""
        ended = ("EXISTS (SELECT 1 FROM events e WHERE e.room_id = c.room_id "
                 "AND e.type = 'live_end')")
        closed = (f"({recent} AND c.closed_by IN ('one-shot', 'final')) "
                  f"OR c.closed_by = 'idle' OR (c.closed_by = 'end' AND "
                  f"{'TRUE' if final else ended})")
        w = "since" if "since" in recent else "keys"
        typ = "BIGINT" if w == "since" else "VARCHAR[]"
        for room, ts, key, uid, user, nick, coins, gift, count in store.query(f"""
                WITH w AS (SELECT unnest(?::VARCHAR[]) AS room_id, unnest(?::{typ}[]) AS {w})
                SELECT c.room_id, c.ts, c.msg_id, c.user_id, c."user", c.nickname, c.coins,
                       c.gift_name, c.repeat_count
                FROM credits c JOIN w ON c.room_id = w.room_id
                WHERE NOT c.guest AND ({closed})""", [rooms, arg]):
            out[room].append(Item(int(ts), "credit", f"credit:{key}", uid or "",
                                  _who(uid, user, nick), int(coins), gift or "", int(count)))

    def _keep(self, store: Store, fired: list[Alert]) -> list[Alert]:
        """The alerts of ``fired`` the store does not hold yet, stored now (or remembered)."""
        if not fired:
            return []
        known = {(r, n, k) for r, n, k in store.query(
            'SELECT room_id, rule, "key" FROM alerts WHERE room_id IN '
            "(SELECT unnest(?::VARCHAR[]))", [sorted({a.room_id for a in fired})])}
        new = [a for a in fired if (a.room_id, a.rule, a.key) not in known]
        if not self.persist:
            for a in new:
                kept = self.memory.setdefault(a.room_id, [])
                kept.append(a)
                del kept[:-MAX_MEMORY]
            return new
        if new:
            store.begin()
            try:
                store.con.executemany(
                    'INSERT OR IGNORE INTO alerts (room_id, rule, "key", kind, ts, host, text, '
                    "user_id, who, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[a.room_id, a.rule, a.key, a.kind, a.ts, a.host, a.text, a.user_id, a.who,
                      json.dumps(dict(a.detail), ensure_ascii=False, sort_keys=True)]
                     for a in new])
                store.commit()
            except BaseException:
                store.rollback()
                raise
        return new


def _who(user_id: str | None, user: str | None, nickname: str | None) -> str:
    return nickname or user or user_id or "someone"


def _lifetime(store: Store, host: str, room: str) -> dict[str, int]:
    """Each gifter's coins to ``host`` in the host's other rooms."""
    if not host:
        return {}
    return {str(u): int(c) for u, c in store.query(f"""
        SELECT user_id, sum(coins) FROM credits
        WHERE room_id IN ({_HOST_ROOMS}) AND room_id <> $2 AND NOT guest AND user_id IS NOT NULL
        GROUP BY user_id""", [host, room])}


def _tags(store: Store, host: str) -> dict[str, frozenset[str]]:
    tags: dict[str, set[str]] = {}
    for uid, tag in store.query("SELECT user_id, tag FROM gifter_tags WHERE lower(host) = "
                                "lower(?)", [host.lstrip("@")]):
        tags.setdefault(str(uid), set()).add(str(tag))
    return {u: frozenset(t) for u, t in tags.items()}

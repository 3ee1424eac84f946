"""The gifter CRM: tags and notes per (host, gifter), the names a gifter went by, their habit
(usual gap between gifting sessions, overdue), their card, and the privacy tools (forget, export).

Identity is the ``user_id``: a gifter who changes their user name or nickname stays one person.
Their :func:`names` are derived from the stored events (each distinct user name / nickname pair
with the first and last time it was seen), never stored apart.

The habit (:func:`habits`), over the selected sessions up to the as-of time:

- a *gifting session* is a session with at least one gift from them to the host (gifts to guests
  left out), dated by their first gift in it;
- ``usual_gap_days`` is the median of the days between consecutive gifting sessions (None with
  fewer than two);
- ``overdue``: a regular (at least :data:`REGULAR_SESSIONS` gifting sessions) whose days since
  their last gift exceed ``max(2 × usual gap, usual gap + 7)`` (:func:`is_overdue`).

:func:`forget` replaces a gifter's names with a stable pseudonym (:func:`pseudonym`) everywhere
the store holds them and records it in ``gifter_forgotten``; the store pseudonymizes their events
stored later too (:data:`liveworth.store.forgotten.PSEUDONYMIZE_STAGE`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from liveworth.analysis.sessionstats import SessionStats, normalise_host
from liveworth.errors import UsageError
from liveworth.store import portable
from liveworth.store.database import Store
from liveworth.store.forgotten import pseudonym

DAY_MS = 86_400_000
#: Gifting sessions that make a gifter a regular (only regulars can be overdue).
REGULAR_SESSIONS = 3
#: The longest tag and note kept.
MAX_TAG = 40
MAX_NOTE = 2000

__all__ = ["DAY_MS", "REGULAR_SESSIONS", "Habit", "Name", "Note", "change", "export", "forget",
           "habits", "is_overdue", "known_user", "names_of", "notes_of", "pseudonym",
           "resolve_host", "tags_of", "usual_gap"]


@dataclass(frozen=True, slots=True)
class Name:
    """One name a gifter went by: their user name and nickname, first and last seen (ms)."""

    user: str
    nickname: str
    first_ts: int
    last_ts: int

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "nickname": self.nickname, "first_ts": self.first_ts,
                "last_ts": self.last_ts, "first_seen": _day(self.first_ts),
                "last_seen": _day(self.last_ts)}


@dataclass(frozen=True, slots=True)
class Note:
    host: str
    note: str
    added_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "note": self.note, "added_at": self.added_at}


@dataclass(frozen=True, slots=True)
class Habit:
    """How often a gifter gives, and whether their absence is now longer than usual."""

    sessions: int
    usual_gap_days: float | None
    days_since_last_gift: float
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        return {"usual_gap_days": None if self.usual_gap_days is None
                else round(self.usual_gap_days, 2),
                "days_since_last_gift": round(self.days_since_last_gift, 2),
                "overdue": self.overdue}


def _day(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).date().isoformat()


# ---------------------------------------------------------------------------- habit


def usual_gap(session_times: Sequence[int]) -> float | None:
    """The median of the days between consecutive gifting sessions (times in ms, any order)."""
    times = sorted(session_times)
    gaps = [(b - a) / DAY_MS for a, b in pairwise(times)]
    return statistics.median(gaps) if gaps else None


def is_overdue(sessions: int, usual: float | None, days_since: float) -> bool:
    """A regular whose absence is clearly longer than usual: at least
    :data:`REGULAR_SESSIONS` gifting sessions and ``days_since > max(2 × usual, usual + 7)``."""
    return sessions >= REGULAR_SESSIONS and usual is not None and \
        days_since > max(2 * usual, usual + 7)


def habits(store: Store, sessions: Sequence[SessionStats], as_of_ms: int,
           users: Iterable[str] | None = None) -> dict[str, Habit]:
    """Each gifter's habit over ``sessions`` up to ``as_of_ms`` (``users``: only these)."""
    wanted = None if users is None else [u for u in users if u is not None]
    users = "" if wanted is None else " AND user_id IN (SELECT user_id FROM {_habit_users})"
    rows = portable.rows(store, f"""
        SELECT user_id, room_id, min(ts), max(ts) FROM {{credits}}
        WHERE NOT guest AND user_id IS NOT NULL AND ts <= {int(as_of_ms)}
          AND room_id IN (SELECT room_id FROM {{_habit_rooms}}){users}
        GROUP BY user_id, room_id""",
        {"_habit_rooms": portable.ids_table("room_id", [s.room_id for s in sessions]),
         **({} if wanted is None else {"_habit_users": portable.ids_table("user_id", wanted)})})
    firsts: dict[str, list[int]] = {}
    last: dict[str, int] = {}
    for user_id, _, first_ts, last_ts in rows:
        firsts.setdefault(str(user_id), []).append(int(first_ts))
        last[str(user_id)] = max(last.get(str(user_id), 0), int(last_ts))
    out = {}
    for user_id, times in firsts.items():
        usual = usual_gap(times)
        since = (as_of_ms - last[user_id]) / DAY_MS
        out[user_id] = Habit(len(times), usual, since, is_overdue(len(times), usual, since))
    return out


# ---------------------------------------------------------------------------- reads


def known_user(store: Store, user_id: str) -> bool:
    """Whether any stored event or credit is from ``user_id``."""
    return bool(store.query("SELECT EXISTS (SELECT 1 FROM events WHERE user_id = ?) OR "
                            "EXISTS (SELECT 1 FROM credits WHERE user_id = ?)",
                            [user_id, user_id])[0][0])


def check_known(store: Store, user_id: str) -> None:
    if not user_id.strip():
        raise UsageError("USER_ID is empty (give the gifter's TikTok user id, as `gifters "
                         "--json` lists it)")
    if not known_user(store, user_id):
        raise UsageError(f"unknown user id {user_id!r}: no event in the store is from them "
                         "(see `liveworth gifters --json` for user ids)")


def names_of(store: Store, user_ids: Iterable[str | None]) -> dict[str, list[Name]]:
    """Every user name / nickname each gifter was seen with, oldest first."""
    ids = [u for u in user_ids if u is not None]
    rows = sorted(portable.rows(store, """
        SELECT user_id, coalesce("user", ''), coalesce(nickname, ''), min(ts), max(ts)
        FROM {events} WHERE user_id IN (SELECT user_id FROM {_crm_users})
          AND (coalesce("user", '') <> '' OR coalesce(nickname, '') <> '')
        GROUP BY user_id, coalesce("user", ''), coalesce(nickname, '')""",
        {"_crm_users": portable.ids_table("user_id", ids)}),
                  key=lambda r: (r[0], r[3], r[1], r[2]))
    out: dict[str, list[Name]] = {}
    for user_id, user, nick, first_ts, last_ts in rows:
        out.setdefault(str(user_id), []).append(Name(user, nick, int(first_ts), int(last_ts)))
    return out


def tags_of(store: Store, host: str | None,
            user_ids: Iterable[str | None]) -> dict[str, list[str]]:
    """Each gifter's tags with ``host`` (every host's when None), sorted."""
    rows = store.query("""
        SELECT user_id, list(DISTINCT tag ORDER BY tag) FROM gifter_tags
        WHERE (? IS NULL OR host = ?) AND user_id IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY user_id""", [host, host, [u for u in user_ids if u is not None]])
    return {str(r[0]): list(r[1]) for r in rows}


def notes_of(store: Store, host: str | None,
             user_ids: Iterable[str | None]) -> dict[str, list[Note]]:
    """Each gifter's notes with ``host`` (every host's when None), oldest first."""
    rows = store.query("""
        SELECT user_id, host, note, strftime(added_at, '%Y-%m-%dT%H:%M:%S') FROM gifter_notes
        WHERE (? IS NULL OR host = ?) AND user_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY user_id, added_at, note""", [host, host, [u for u in user_ids if u is not None]])
    out: dict[str, list[Note]] = {}
    for user_id, h, note, added in rows:
        out.setdefault(str(user_id), []).append(Note(h, note, added))
    return out


def hosts_given_to(sessions: Sequence[SessionStats], store: Store, user_id: str) -> list[str]:
    """The hosts (lower case, no @) this user gave a gift to."""
    rooms = {r[0] for r in store.query(
        "SELECT DISTINCT room_id FROM credits WHERE user_id = ? AND NOT guest", [user_id])}
    return sorted({s.host.lower() for s in sessions if s.room_id in rooms and s.host})


def resolve_host(store: Store, sessions: Sequence[SessionStats], user_id: str,
                 host: str | None) -> str:
    """``--host`` (normalised), else the one host this user gave to; a usage error otherwise."""
    if host is not None:
        return normalise_host(host) or ""
    hosts = hosts_given_to(sessions, store, user_id)
    if len(hosts) == 1:
        return hosts[0]
    if not hosts:
        raise UsageError(f"user {user_id!r} gave no gift to any creator in the store; say "
                         "whose gifter they are with --host @creator")
    listed = ", ".join("@" + h for h in hosts[:10])
    raise UsageError(f"user {user_id!r} gave to {len(hosts)} creators ({listed}); choose one "
                     "with --host")


# ---------------------------------------------------------------------------- writes


def _clean(text: str, limit: int, what: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise UsageError(f"{what} is empty")
    if len(value) > limit:
        raise UsageError(f"{what} is longer than {limit} characters")
    return value


def change(store: Store, host: str, user_id: str, *, tag: Sequence[str] = (),
           untag: Sequence[str] = (), note: str | None = None) -> None:
    """Add ``tag``s, remove ``untag``s and add a ``note`` for (host, user), in one transaction.
    Tags are stored in lower case (``VIP`` and ``vip`` are one tag)."""
    adds = [_clean(t, MAX_TAG, "a tag").lower() for t in tag]
    drops = [_clean(t, MAX_TAG, "a tag").lower() for t in untag]
    text = None if note is None else _clean(note, MAX_NOTE, "the note")
    store.begin()
    try:
        for t in drops:
            store.query("DELETE FROM gifter_tags WHERE host = ? AND user_id = ? AND tag = ?",
                        [host, user_id, t])
        for t in adds:
            store.query("INSERT INTO gifter_tags (host, user_id, tag) VALUES (?, ?, ?) "
                        "ON CONFLICT DO NOTHING", [host, user_id, t])
        if text is not None:
            store.query("INSERT INTO gifter_notes (host, user_id, note) VALUES (?, ?, ?)",
                        [host, user_id, text])
        store.commit()
    except BaseException:
        store.rollback()
        raise


#: Names shorter than this are replaced only in the gifter's own rows, never in others' text.
MIN_NAME_IN_TEXT = 3


#: Letters, digits and _: a name is replaced in text only where it stands as a whole word.
_WORD = r"\p{L}\p{N}_"


def _replace_in_text(store: Store, name: str, alias: str, user_id: str) -> None:
    """``name`` as a whole word becomes ``alias`` in the free text of events and alerts: in every
    row for names of :data:`MIN_NAME_IN_TEXT` characters or more, else in their own rows only
    (a passing "hi al" in someone else's comment is left alone)."""
    pattern = f"(^|[^{_WORD}]){re.escape(name)}($|[^{_WORD}])"
    anywhere = len(name) >= MIN_NAME_IN_TEXT
    for table, cols in (("events", ("text", "extra")), ("alerts", ("text", "detail"))):
        for col in cols:
            for _ in range(3):  # "al al": a match takes the separator the next one needs
                done = store.query(
                    f"UPDATE {table} SET {col} = regexp_replace({col}, ?, ?, 'g') "
                    f"WHERE {col} IS NOT NULL AND regexp_matches({col}, ?) "
                    "AND (? OR user_id = ?)",
                    [pattern, "\\1" + alias + "\\2", pattern, anywhere, user_id])
                if not done or not done[0][0]:
                    break


def forget(store: Store, user_id: str) -> str:
    """Remove a gifter's names, tags and notes; their user name and nickname become
    :func:`pseudonym` in events, credits and alerts (free text naming them too); coins stay.
    Returns the pseudonym. Idempotent."""
    alias = pseudonym(user_id)
    old = {n for name in names_of(store, [user_id]).get(user_id, [])
           for n in (name.user, name.nickname) if n and n != alias}
    old |= {r[0] for r in store.query(
        "SELECT DISTINCT who FROM alerts WHERE user_id = ? AND who IS NOT NULL", [user_id])}
    old.discard(alias)
    longest_first = sorted(old, key=lambda n: (-len(n), n))
    store.begin()
    try:
        for table in ("events", "credits"):
            store.query(f'UPDATE {table} SET "user" = ?, nickname = ? WHERE user_id = ?',
                        [alias, alias, user_id])
        store.query("UPDATE alerts SET who = ? WHERE user_id = ?", [alias, user_id])
        for name in longest_first:
            _replace_in_text(store, name, alias, user_id)
            store.query("UPDATE alerts SET who = ? WHERE who = ?", [alias, name])
        store.query("DELETE FROM gifter_tags WHERE user_id = ?", [user_id])
        store.query("DELETE FROM gifter_notes WHERE user_id = ?", [user_id])
        store.query("INSERT INTO gifter_forgotten (user_id, pseudonym) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING", [user_id, alias])
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return alias


def _rows(store: Store, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, list(params))
    cols = [d[0] for d in cur.description or ()]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def export(store: Store, user_id: str) -> dict[str, Any]:
    """Everything the store holds about ``user_id``, as JSON-ready data."""
    forgotten = store.query("SELECT pseudonym, strftime(forgotten_at, '%Y-%m-%dT%H:%M:%S') "
                            "FROM gifter_forgotten WHERE user_id = ?", [user_id])
    tags = _rows(store, "SELECT host, tag, strftime(added_at, '%Y-%m-%dT%H:%M:%S') AS added_at "
                 "FROM gifter_tags WHERE user_id = ? ORDER BY host, tag", [user_id])
    events = _rows(store, "SELECT * FROM events WHERE user_id = ? ORDER BY ts, room_id, msg_id",
                   [user_id])
    for e in events:
        e.pop("extra", None) if e.get("extra") is None else e.update(extra=json.loads(e["extra"]))
    names = names_of(store, [user_id]).get(user_id, [])
    return {
        "user_id": user_id,
        "forgotten": None if not forgotten else {"pseudonym": forgotten[0][0],
                                                 "forgotten_at": forgotten[0][1]},
        "names": [n.as_dict() for n in names],
        "tags": tags,
        "notes": [n.as_dict() for n in notes_of(store, None, [user_id]).get(user_id, [])],
        "events": [{k: v for k, v in e.items() if v is not None} for e in events],
        "credits": _rows(store, "SELECT * FROM credits WHERE user_id = ? "
                         "ORDER BY ts, room_id, msg_id", [user_id]),
        "alerts": _rows(store, "SELECT * FROM alerts WHERE user_id = ? OR who IN (SELECT "
                        "unnest(?::VARCHAR[])) ORDER BY ts, room_id, rule", [user_id, sorted(
                            {n for x in names for n in (x.user, x.nickname) if n})]),
    }

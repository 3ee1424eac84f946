"""Battles: coins during battles against outside them, per opponent, wins and losses.

A ``battle`` event (docs/EVENTS.md) carries a ``battle_id`` and, when TikTok sends them
(:mod:`liveworth.decode.battles`), a ``phase`` (``start`` / ``end``), the battle's ``start_ms`` and
planned ``duration_s``, its ``kind`` (``normal`` / ``team``), the hosts in it (``anchors``) and, in
the finishing message, each host's ``result`` and ``score`` (``results``). The simulator sends
``phase`` only. From these, per battle (the events of one ``battle_id`` in one room):

- **When it ran** — from the earliest ``phase: start`` event or ``start_ms``, to the first
  ``phase: end`` event; without an end event, to ``start_ms + duration_s`` (TikTok's planned end,
  ``timing: planned end``); without either, from its first to its last update (``timing:
  updates only``, possibly no time at all). The span is clipped to its session (live time is the
  session's), so minutes during battles plus minutes outside them are the hours live exactly, and
  overlapping battles of one room count their shared time once.
- **Coins during it** — coins credited to the host (guests' gifts left out, as everywhere) whose
  gift time is inside the span; every other coin is *outside*. During plus outside is the
  analysis's coins exactly; both are also given per minute, so they compare.
- **Who it was against** — the other hosts among ``anchors``; the creator is the anchor with the
  session's host id, else the one with its @unique id. In a team battle, the opponents are the
  hosts whose result differs from the creator's (teammates share it). No anchors, or the creator
  not among them: ``unknown``.
- **How it ended** — the creator's own entry of ``results``: ``win``, ``lose`` or ``draw``;
  without one (no finishing message, the simulator), ``unknown``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from liveworth.analysis.sessionstats import SessionStats
from liveworth.store import portable
from liveworth.store.database import Store, registered

UNKNOWN = "unknown"
RESULTS = ("win", "lose", "draw")
_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Span:
    """Live time (ms) and the host's coins in it."""

    ms: int
    coins: int

    @property
    def minutes(self) -> float:
        return self.ms / _MINUTE_MS

    @property
    def coins_per_minute(self) -> float | None:
        return None if self.ms <= 0 else self.coins * _MINUTE_MS / self.ms

    def as_dict(self) -> dict[str, Any]:
        rate = self.coins_per_minute
        return {"minutes": round(self.minutes, 3), "coins": self.coins,
                "coins_per_minute": None if rate is None else round(rate, 3)}


@dataclass(frozen=True, slots=True)
class Opponent:
    user_id: str
    user: str
    nickname: str


def opponent_label(opponents: Sequence[Opponent]) -> str:
    """``@user`` (or ``user_id`` without a name), ``a + b`` for a team, ``unknown`` for none."""
    return " + ".join(o.user or o.user_id for o in opponents) or UNKNOWN


@dataclass(frozen=True, slots=True)
class BattleRow:
    """One battle of one session."""

    room_id: str
    battle_id: str
    start_ts: int
    end_ts: int
    timing: str
    kind: str | None
    opponents: tuple[Opponent, ...]
    result: str
    score: int | None
    opponent_score: int | None
    coins: int

    @property
    def opponent(self) -> str:
        return opponent_label(self.opponents)

    def as_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "battle_id": self.battle_id,
                "start_ts": self.start_ts, "end_ts": self.end_ts,
                "minutes": round((self.end_ts - self.start_ts) / _MINUTE_MS, 3),
                "timing": self.timing, "kind": self.kind, "opponent": self.opponent,
                "opponent_user_ids": [o.user_id for o in self.opponents],
                "result": self.result, "score": self.score,
                "opponent_score": self.opponent_score, "coins": self.coins}


@dataclass(frozen=True, slots=True)
class OpponentStats:
    """Every battle against one opponent (or one team, or the unknown ones)."""

    opponent: str
    opponents: tuple[Opponent, ...]
    battles: int
    wins: int
    losses: int
    draws: int
    unknown_result: int
    span: Span

    def as_dict(self) -> dict[str, Any]:
        return {"opponent": self.opponent, "user_ids": [o.user_id for o in self.opponents],
                "users": [o.user for o in self.opponents],
                "nicknames": [o.nickname for o in self.opponents], "battles": self.battles,
                "wins": self.wins, "losses": self.losses, "draws": self.draws,
                "unknown_result": self.unknown_result, **self.span.as_dict()}


@dataclass(frozen=True, slots=True)
class Battles:
    """The battles of some sessions, and their coins against the rest of the live time."""

    sessions: int
    sessions_with_battles: int
    during: Span
    outside: Span
    rows: tuple[BattleRow, ...]
    opponents: tuple[OpponentStats, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.rows)

    def results(self) -> dict[str, int]:
        got = [r.result for r in self.rows]
        return {"wins": got.count("win"), "losses": got.count("lose"),
                "draws": got.count("draw"), "unknown_result": got.count(UNKNOWN)}

    @property
    def ratio(self) -> float | None:
        """Coins per minute during battles ÷ outside them (None when either has no rate)."""
        a, b = self.during.coins_per_minute, self.outside.coins_per_minute
        return None if a is None or not b else a / b

    def as_dict(self) -> dict[str, Any]:
        return {"battles": self.count, "sessions": self.sessions,
                "sessions_with_battles": self.sessions_with_battles,
                "during": self.during.as_dict(), "outside": self.outside.as_dict(),
                "during_vs_outside": None if self.ratio is None else round(self.ratio, 4),
                "results": self.results(),
                "opponents": [o.as_dict() for o in self.opponents],
                "list": [r.as_dict() for r in self.rows]}


# ---------------------------------------------------------------------------- reading


def _rooms_table(sessions: Sequence[SessionStats]) -> pa.Table:
    return pa.table({"room_id": pa.array([s.room_id for s in sessions], pa.string())})


def _read(store: Store, sessions: Sequence[SessionStats]) -> tuple[
        dict[str, list[tuple[int, str, dict[str, Any]]]], dict[str, str]]:
    """Per room: its battle events ``(ts, battle_id, extra)`` and its host id (from
    ``live_start``, else the ``rooms`` table)."""
    events: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    rooms = {"_battle_rooms": _rooms_table(sessions)}
    for room, ts, _, battle, extra in sorted(portable.rows(store, """
            SELECT room_id, ts, msg_id, coalesce(battle_id, msg_id), extra FROM {events}
            WHERE type = 'battle' AND room_id IN (SELECT room_id FROM {_battle_rooms})""",
            rooms), key=lambda r: (r[0], r[1], r[2])):
        events[str(room)].append((int(ts), str(battle), _extra(extra)))
    with portable.aggregated(store, "_battle_started", """
            SELECT room_id, min_by(host_id, ROW(ts, msg_id)) AS host_id FROM {events}
            WHERE type = 'live_start' AND host_id IS NOT NULL
              AND room_id IN (SELECT room_id FROM {_battle_rooms})
            GROUP BY room_id""", rooms), \
            registered(store.con, "_battle_rooms", rooms["_battle_rooms"]):
        hosts = {str(room): str(hid) for room, hid in store.query("""
            SELECT room_id, coalesce(
                (SELECT any_value(host_id) FROM _battle_started s WHERE s.room_id = r.room_id),
                (SELECT any_value(host_id) FROM rooms o WHERE o.room_id = r.room_id))
            FROM _battle_rooms r""") if hid}
    return events, hosts


def _extra(text: object) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        got = json.loads(text)
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# ---------------------------------------------------------------------------- one battle


def _span(evs: Sequence[tuple[int, dict[str, Any]]], lo: int, hi: int) -> tuple[int, int, str]:
    """``(start, end, timing)`` of one battle's events, clipped to its session ``[lo, hi]``."""
    starts = [ts for ts, x in evs if x.get("phase") == "start"]
    starts += [v for v in (_int(x.get("start_ms")) for _, x in evs) if v is not None]
    ends = [ts for ts, x in evs if x.get("phase") == "end"]
    durations = [v for v in (_int(x.get("duration_s")) for _, x in evs) if v and v > 0]
    start = min(starts) if starts else evs[0][0]
    if ends:
        end, timing = min(ends), "sent" if starts else "end sent"
    elif starts and durations:
        end, timing = start + 1000 * max(durations), "planned end"
    else:
        end, timing = evs[-1][0], "updates only"
    start = min(max(start, lo), hi)
    return start, min(max(end, start), hi), timing


def _people(evs: Sequence[tuple[int, dict[str, Any]]]) -> tuple[dict[str, Opponent],
                                                                 dict[str, tuple[str, int | None]]]:
    """The hosts in a battle (by user id, the latest name) and the latest results by user id."""
    anchors: dict[str, Opponent] = {}
    results: dict[str, tuple[str, int | None]] = {}
    for _, x in evs:
        for a in _dicts(x.get("anchors")):
            uid = str(a.get("user_id") or "")
            if uid:
                anchors[uid] = Opponent(uid, str(a.get("user") or ""), str(a.get("nickname") or ""))
        got = {str(r.get("user_id") or ""): (str(r.get("result") or UNKNOWN), _int(r.get("score")))
               for r in _dicts(x.get("results"))}
        if got:
            results = {k: v for k, v in got.items() if k}
    return anchors, results


def _me(anchors: dict[str, Opponent], host_id: str | None, host: str | None) -> str | None:
    """Which anchor is the creator: the host id, else the @unique id (case ignored)."""
    if host_id and host_id in anchors:
        return host_id
    name = (host or "").lower()
    return next((uid for uid, a in anchors.items() if name and a.user.lower() == name), None)


def battle_row(room: str, battle: str, evs: Sequence[tuple[int, dict[str, Any]]],
               s: SessionStats, host_id: str | None) -> BattleRow:
    """One battle from its events (time order) in session ``s``; coins are filled in later."""
    start, end, timing = _span(evs, s.start_ts, s.end_ts)
    anchors, results = _people(evs)
    me = _me(anchors, host_id, s.host)
    mine = results.get(me) if me else None
    result = mine[0] if mine and mine[0] in RESULTS else UNKNOWN
    others = [a for uid, a in sorted(anchors.items()) if me and uid != me]
    if len(others) > 1 and result != UNKNOWN:  # a team battle: teammates share the result
        others = [a for a in others if results.get(a.user_id, (result,))[0] != result] or others
    scores = [results[a.user_id][1] for a in others if a.user_id in results]
    kinds = [x.get("kind") for _, x in evs if isinstance(x.get("kind"), str)]
    return BattleRow(
        room_id=room, battle_id=battle, start_ts=start, end_ts=end, timing=timing,
        kind=kinds[-1] if kinds else None, opponents=tuple(others), result=result,
        score=mine[1] if mine else None,
        opponent_score=sum(v for v in scores if v is not None) if scores and None not in scores
        else None, coins=0)


# ---------------------------------------------------------------------------- all of them


def _merged(rows: Iterable[BattleRow]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted((r.start_ts, r.end_ts) for r in rows):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _coins_in(store: Store, spans: Sequence[tuple[str, int, int]]) -> list[int]:
    """The host's coins in each ``(room, from, to)`` span (one range join in DuckDB)."""
    table = pa.table({"i": pa.array(range(len(spans)), pa.int64()),
                      "room_id": pa.array([x[0] for x in spans], pa.string()),
                      "lo": pa.array([x[1] for x in spans], pa.int64()),
                      "hi": pa.array([x[2] for x in spans], pa.int64())})
    out = [0] * len(spans)
    for i, amount in portable.rows(store, """
            SELECT s.i, sum(CAST(c.coins AS DECIMAL(38, 0))) FROM {credits} c JOIN {_battle_spans} s
            ON c.room_id = s.room_id AND c.ts >= s.lo AND c.ts < s.hi
            WHERE NOT c.guest GROUP BY s.i""", {"_battle_spans": table}):
        out[int(i)] = int(amount)
    return out


def battles(store: Store, sessions: Sequence[SessionStats]) -> Battles:
    """The battles of ``sessions`` (oldest first), their coins and minutes against the rest."""
    events, hosts = _read(store, sessions)
    rows: list[BattleRow] = []
    merged: list[tuple[str, int, int]] = []
    for s in sessions:
        by_battle: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for ts, battle, extra in events.get(s.room_id, []):
            by_battle[battle].append((ts, extra))
        mine = [battle_row(s.room_id, b, evs, s, hosts.get(s.room_id))
                for b, evs in by_battle.items()]
        merged.extend((s.room_id, lo, hi) for lo, hi in _merged(mine))
        rows.extend(sorted(mine, key=lambda r: (r.start_ts, r.battle_id)))
    got = _coins_in(store, [(r.room_id, r.start_ts, r.end_ts) for r in rows] + merged)
    rows = [replace(r, coins=c) for r, c in zip(rows, got, strict=False)]
    during = Span(sum(hi - lo for _, lo, hi in merged), sum(got[len(rows):]))
    total = Span(sum(s.end_ts - s.start_ts for s in sessions), sum(s.coins for s in sessions))
    return Battles(sessions=len(sessions),
                   sessions_with_battles=len({r.room_id for r in rows}), during=during,
                   outside=Span(total.ms - during.ms, total.coins - during.coins),
                   rows=tuple(rows), opponents=tuple(by_opponent(rows)))


def by_opponent(rows: Sequence[BattleRow]) -> list[OpponentStats]:
    """One row per opponent (team, or unknown), most battles first, then most coins."""
    groups: dict[tuple[str, ...], list[BattleRow]] = defaultdict(list)
    for r in rows:
        groups[tuple(o.user_id for o in r.opponents)].append(r)
    out = []
    for key, got in groups.items():
        results = [r.result for r in got]
        out.append(OpponentStats(
            opponent=got[-1].opponent if key else UNKNOWN, opponents=got[-1].opponents,
            battles=len(got), wins=results.count("win"), losses=results.count("lose"),
            draws=results.count("draw"), unknown_result=results.count(UNKNOWN),
            span=Span(sum(r.end_ts - r.start_ts for r in got), sum(r.coins for r in got))))
    out.sort(key=lambda o: (-o.battles, -o.span.coins, o.opponent))
    return out

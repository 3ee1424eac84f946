"""A simulated session as the simulator leaves it: columns sorted by event time, its ground truth
(:class:`Truth`, what the counting rules must credit), and how it becomes event records
(:meth:`SimulatedSession.events`) or event format v1 JSONL, written a block at a time straight from
the columns (:meth:`SimulatedSession.write_jsonl`). :mod:`liveworth.model.simulate` draws it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from liveworth.decode.events import (
    Battle,
    Comment,
    Event,
    Follow,
    Gift,
    Join,
    Like,
    LiveEnd,
    LiveStart,
    Share,
    Viewers,
)
from liveworth.model.generative import (
    FloatArray,
    GiftMenu,
    IntArray,
)

BoolArray = npt.NDArray[np.bool_]

#: Event kinds in the merged stream; the order breaks no ties (time and generation order do).
(LIVE_START, VIEWERS, JOIN, COMMENT, LIKE, FOLLOW, SHARE, BATTLE, GIFT, LIVE_END) = range(10)

#: What simulated viewers say (a fixed list: the simulator invents no text).
#: Non-ASCII ones stay in the Basic Multilingual Plane, which keeps the fast writer's strings
#: two bytes a character.
PHRASES: tuple[str, ...] = (
    "hi!", "hello from Berlin", "love this", "❤️❤️❤️", "lol", "first time here", "so good",
    "wow", "where are you from?", "✨✨", "you're the best", 'he said "no way"', "tap tap tap",
    "gg", "how long are you live?", "shoutout pls", "très bien", "big fan", "let's go!",
    "back again",
)

_MSG_BASE = 7_000_000_000_000_000_000
#: Event positions per block in the fast JSONL writer (bounds its memory).
_WRITE_BLOCK = 100_000


def to_ms(seconds: FloatArray) -> IntArray:
    return np.floor(seconds * 1000).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth of a simulated session, as the counting rules credit it."""

    room_id: str
    followers: int
    minutes: float
    typical_viewers: float
    coins: int
    coins_confirmed: int
    coins_unconfirmed: int
    gifts: int
    gift_events: int
    streaks: int
    missing_finals: int
    resent_finals: int
    unique_gifters: int
    unique_viewers: int
    viewers_peak: int
    viewers_mean: float
    comments: int
    likes: int
    joins: int
    follows: int
    shares: int
    battles: int
    chat_bursts: int
    events: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: counts stay integers, viewers are rounded to 0.1."""
        out = asdict(self)
        out["typical_viewers"] = round(self.typical_viewers, 1)
        out["viewers_mean"] = round(self.viewers_mean, 1)
        return out


@dataclass(frozen=True, slots=True)
class GiftTotal:
    """One gift's credited totals in a session, like the real session_totals file's rows."""

    gift_id: int
    gift_name: str
    count: int
    coin_value: int
    total_coins: int


@dataclass(frozen=True, slots=True, eq=False)
class CreditedGifts:
    """Every credited gift record (a streak or a one-shot gift): gifter, menu gift, units."""

    user: IntArray
    gift: IntArray
    units: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """One event kind's payload columns (integers), indexed by the kind's own row number."""

    cols: dict[str, IntArray]

    def __getitem__(self, name: str) -> IntArray:
        return self.cols[name]


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedSession:
    """A simulated session held as columns, sorted by event time; see :meth:`events`.

    ``ts``/``kind``/``ref`` give the merged stream (``ref`` is the row in that kind's columns);
    message ids are ``_MSG_BASE + position``, so they are unique and sort like the stream.
    """

    room_id: str
    host: str
    host_id: str
    followers: int
    user_base: int
    group_base: int
    menu: GiftMenu
    ts: IntArray
    kind: npt.NDArray[np.int8]
    ref: IntArray
    tables: dict[int, Columns]
    truth: Truth
    credited: CreditedGifts
    #: Each session viewer's number across the creator's history (their id is ``user_base`` +
    #: it): a returning viewer keeps theirs. None: the session's own viewer index.
    viewer_no: IntArray | None = None

    def viewer_numbers(self, idx: IntArray) -> IntArray:
        """The viewer numbers of session viewer indices ``idx``."""
        return idx if self.viewer_no is None else self.viewer_no[idx]

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def gift_totals(self) -> list[GiftTotal]:
        """Credited count and coins per gift, most coins first (the real file's shape)."""
        n = len(self.menu.gifts)
        count = np.bincount(self.credited.gift, weights=self.credited.units, minlength=n)
        rows = [GiftTotal(g.gift_id or 0, g.name, int(c), g.coins, int(c) * g.coins)
                for g, c in zip(self.menu.gifts, count.tolist(), strict=True) if c > 0]
        return sorted(rows, key=lambda r: (-r.total_coins, r.gift_id))

    def gifter_coins(self) -> IntArray:
        """Credited coins of each gifter, largest first."""
        coins = self.credited.units * self.menu.coins[self.credited.gift]
        _, who = np.unique(self.credited.user, return_inverse=True)
        per = np.bincount(who, weights=coins).astype(np.int64)
        return np.sort(per)[::-1]

    def msg_id(self, position: int) -> str:
        return str(_MSG_BASE + position)

    def events(self) -> Iterator[Event]:
        """The session as event records, in stream order."""
        for pos, (ts, kind, ref) in enumerate(zip(self.ts.tolist(), self.kind.tolist(),
                                                  self.ref.tolist(), strict=True)):
            yield self._event(kind, ref, ts, self.msg_id(pos))

    def _user(self, idx: int) -> dict[str, Any]:
        no = idx if self.viewer_no is None else int(self.viewer_no[idx])
        return {"user_id": str(self.user_base + no), "user": f"user{no}",
                "nickname": f"Viewer {no}"}

    def _event(self, kind: int, ref: int, ts: int, msg_id: str) -> Event:
        common: dict[str, Any] = {"room_id": self.room_id, "ts": ts, "msg_id": msg_id}
        if kind == LIVE_START:
            return LiveStart(**common, host_id=self.host_id, host=self.host,
                             followers=self.followers)
        if kind == LIVE_END:
            return LiveEnd(**common)
        t = self.tables[kind]
        if kind == GIFT:
            info = self.menu.gifts[int(t["gift"][ref])]
            return Gift(**common, **self._user(int(t["user"][ref])), gift_id=info.gift_id or 0,
                        gift_name=info.name, coins=info.coins,
                        gift_type=int(self.menu.gift_type[int(t["gift"][ref])]),
                        repeat_count=int(t["repeat_count"][ref]),
                        repeat_end=bool(t["repeat_end"][ref]),
                        group_id=str(self.group_base + int(t["group"][ref])))
        if kind == VIEWERS:
            return Viewers(**common, current=int(t["current"][ref]), total=int(t["total"][ref]))
        if kind == BATTLE:
            phase = "start" if int(t["phase"][ref]) == 0 else "end"
            return Battle(**common, battle_id=str(self.group_base + int(t["battle"][ref])),
                          extra={"phase": phase})
        user = self._user(int(t["user"][ref]))
        if kind == COMMENT:
            return Comment(**common, **user, text=PHRASES[int(t["text"][ref])])
        if kind == LIKE:
            return Like(**common, user_id=user["user_id"], count=int(t["count"][ref]),
                        total=int(t["total"][ref]), user=user["user"],
                        nickname=user["nickname"])
        cls = {JOIN: Join, FOLLOW: Follow, SHARE: Share}[kind]
        return cls(**common, **user)

    def write_jsonl(self, out: IO[str]) -> int:
        """Write the session as JSONL, byte for byte what :func:`events.write_jsonl` writes.

        Lines are formatted a block at a time straight from the columns, which is many times
        faster than building event records. Returns the number of lines written.
        """
        formatters = _Lines(self).by_kind()
        n = len(self)
        for a in range(0, n, _WRITE_BLOCK):
            b = min(a + _WRITE_BLOCK, n)
            kinds = self.kind[a:b]
            lines = np.empty(b - a, dtype=object)
            for k in np.unique(kinds).tolist():
                sel = np.flatnonzero(kinds == k)
                lines[sel] = formatters[k](self.ref[a:b][sel], self.ts[a:b][sel], sel + a)
            out.write("\n".join(lines.tolist()))
            out.write("\n")
        return n


_Formatter = Callable[[IntArray, IntArray, IntArray], list[str]]


class _Lines:
    """Line formatters per event kind, mirroring :func:`events.event_to_dict`'s key order.

    Each takes the rows of its kind's columns, their times and their stream positions, and
    formats whole lines with one f-string each; ids are added up in NumPy first.
    """

    def __init__(self, s: SimulatedSession) -> None:
        self.s = s
        self.room = json.dumps(s.room_id, ensure_ascii=False)
        self.gift_part = [
            f'"gift_id":{g.gift_id or 0},"gift_name":{json.dumps(g.name, ensure_ascii=False)},'
            f'"coins":{g.coins},"gift_type":{t}'
            for g, t in zip(s.menu.gifts, s.menu.gift_type.tolist(), strict=True)
        ]
        self.texts = [json.dumps(p, ensure_ascii=False) for p in PHRASES]

    def by_kind(self) -> dict[int, _Formatter]:
        return {LIVE_START: self.live_start, LIVE_END: self.live_end, GIFT: self.gift,
                VIEWERS: self.viewers, COMMENT: self.comment, LIKE: self.like,
                JOIN: self.plain(JOIN, "join"), FOLLOW: self.plain(FOLLOW, "follow"),
                SHARE: self.plain(SHARE, "share"), BATTLE: self.battle}

    def head(self, kind: str) -> str:
        return f'{{"v":1,"type":"{kind}","room_id":{self.room},"ts":'

    @staticmethod
    def ids(pos: IntArray) -> list[int]:
        return (pos + _MSG_BASE).tolist()  # type: ignore[no-any-return]

    def users(self, t: Columns, r: IntArray) -> tuple[list[int], list[int]]:
        u = self.s.viewer_numbers(t["user"][r])
        return (u + self.s.user_base).tolist(), u.tolist()

    def live_start(self, _r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        s, h = self.s, self.head("live_start")
        host = json.dumps(s.host, ensure_ascii=False)
        return [f'{h}{t},"msg_id":"{m}","host_id":"{s.host_id}","host":{host},'
                f'"followers":{s.followers}}}' for t, m in zip(ts.tolist(), self.ids(pos),
                                                               strict=True)]

    def live_end(self, _r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h = self.head("live_end")
        return [f'{h}{t},"msg_id":"{m}"}}'
                for t, m in zip(ts.tolist(), self.ids(pos), strict=True)]

    def gift(self, r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h, t, ends = self.head("gift"), self.s.tables[GIFT], ("false", "true")
        uid, u = self.users(t, r)
        cols = zip(ts.tolist(), self.ids(pos), uid, u, t["gift"][r].tolist(),
                   t["repeat_count"][r].tolist(), t["repeat_end"][r].tolist(),
                   (t["group"][r] + self.s.group_base).tolist(), strict=True)
        return [f'{h}{ts_},"msg_id":"{m}","user_id":"{i}","user":"user{x}",'
                f'"nickname":"Viewer {x}",{self.gift_part[g]},"repeat_count":{rc},'
                f'"repeat_end":{ends[e]},"group_id":"{grp}"}}'
                for ts_, m, i, x, g, rc, e, grp in cols]

    def viewers(self, r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h, t = self.head("viewers"), self.s.tables[VIEWERS]
        cols = zip(ts.tolist(), self.ids(pos), t["current"][r].tolist(), t["total"][r].tolist(),
                   strict=True)
        return [f'{h}{ts_},"msg_id":"{m}","current":{c},"total":{tot}}}'
                for ts_, m, c, tot in cols]

    def comment(self, r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h, t = self.head("comment"), self.s.tables[COMMENT]
        uid, u = self.users(t, r)
        cols = zip(ts.tolist(), self.ids(pos), uid, u, t["text"][r].tolist(), strict=True)
        return [f'{h}{ts_},"msg_id":"{m}","user_id":"{i}","user":"user{x}",'
                f'"nickname":"Viewer {x}","text":{self.texts[k]}}}' for ts_, m, i, x, k in cols]

    def like(self, r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h, t = self.head("like"), self.s.tables[LIKE]
        uid, u = self.users(t, r)
        cols = zip(ts.tolist(), self.ids(pos), uid, u, t["count"][r].tolist(),
                   t["total"][r].tolist(), strict=True)
        return [f'{h}{ts_},"msg_id":"{m}","user_id":"{i}","count":{c},"total":{tot},'
                f'"user":"user{x}","nickname":"Viewer {x}"}}' for ts_, m, i, x, c, tot in cols]

    def plain(self, kind: int, name: str) -> _Formatter:
        def fmt(r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
            h = self.head(name)
            uid, u = self.users(self.s.tables[kind], r)
            return [f'{h}{ts_},"msg_id":"{m}","user_id":"{i}","user":"user{x}",'
                    f'"nickname":"Viewer {x}"}}'
                    for ts_, m, i, x in zip(ts.tolist(), self.ids(pos), uid, u, strict=True)]
        return fmt

    def battle(self, r: IntArray, ts: IntArray, pos: IntArray) -> list[str]:
        h, t, phases = self.head("battle"), self.s.tables[BATTLE], ("start", "end")
        cols = zip(ts.tolist(), self.ids(pos), (t["battle"][r] + self.s.group_base).tolist(),
                   t["phase"][r].tolist(), strict=True)
        return [f'{h}{ts_},"msg_id":"{m}","battle_id":"{b}","phase":"{phases[ph]}"}}'
                for ts_, m, b, ph in cols]

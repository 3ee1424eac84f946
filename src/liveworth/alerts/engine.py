"""The alert engine: what happened in a room (in event time) in, :class:`Alert` s out.

It is a pure fold, so the same room gives the same alerts whether it is seen live, replayed, or
evaluated again after a restart; each alert is identified by its room, its rule and its trigger
(:attr:`Alert.key`: the message that fired it, or the gifter for an arrival, or ``goal``), which
is what lets the store keep and deliver it once (:mod:`liveworth.alerts.watch`).

What each kind fires on (docs/ALERTS.md):

- ``gift``: one credited gift (a streak when it closes, by the ledger's rules) of at least
  ``coins``;
- ``gift_spike``: the coins credited in the last ``window_s`` reach ``factor`` × the room's
  baseline — the median of its coins per ``window_s`` bucket (empty buckets included) before the
  current window — and ``min_coins``, after ``warmup_s`` of the LIVE; it fires when the rate
  crosses and re-arms once it has fallen back below;
- ``gifter_joined`` / ``gifter_comment``: a join or a comment by a gifter whose lifetime coins to
  this host (earlier LIVEs plus this one so far) reach ``coins``, or who has the CRM ``tag``; a
  gifter's arrival fires once per LIVE;
- ``keyword``: a comment with any of ``words`` (case-insensitive, whole words);
- ``goal``: the LIVE's credited coins (or their creator USD) reach ``target``; once per LIVE.

After firing, a rule is quiet for ``cooldown_s`` of event time in that room. Gifts to a guest are
the guest's money, not the host's: no kind counts them.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from liveworth.alerts.rules import Rule

MAX_TEXT = 300


@dataclass(frozen=True, slots=True)
class Item:
    """One thing that happened in a room: a credited gift, a join or a comment."""

    ts: int
    kind: str  # "credit", "join" or "comment"
    key: str  # the message id (a credit: the frame that credited it)
    user_id: str = ""
    who: str = ""  # the name shown: nickname, else user name, else user id
    coins: int = 0  # a credit's coins
    text: str = ""  # a comment's text; a credit's gift name
    count: int = 1  # a credit's repeat count


@dataclass(frozen=True, slots=True)
class Alert:
    room_id: str
    host: str
    rule: str
    key: str
    kind: str
    ts: int
    text: str
    user_id: str | None = None
    who: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "room_id": self.room_id,
                "host": self.host, "ts": self.ts, "text": self.text, "user_id": self.user_id,
                "who": self.who, "key": self.key, "detail": dict(self.detail)}


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Spike:
    start: int  # the room's first time: buckets are counted from it
    window: int  # ms
    ts: list[int] = field(default_factory=list)  # credits' times, sorted
    coins: list[int] = field(default_factory=list)  # their coins, in the same order
    buckets: list[int] = field(default_factory=list)  # coins per window from ``start``
    armed: bool = True

    def add(self, ts: int, coins: int) -> None:
        at = bisect.bisect_right(self.ts, ts)
        self.ts.insert(at, ts)
        self.coins.insert(at, coins)
        if ts < self.start:  # an item older than the room's first: count buckets from it
            self.start = ts
            self.buckets = []
            for t, c in zip(self.ts, self.coins, strict=True):
                self._bucket(t, c)
        else:
            self._bucket(ts, coins)

    def _bucket(self, ts: int, coins: int) -> None:
        b = (ts - self.start) // self.window
        if b >= len(self.buckets):
            self.buckets.extend([0] * (b + 1 - len(self.buckets)))
        self.buckets[b] += coins

    def last_window(self, ts: int) -> int:
        """Coins credited in ``(ts - window, ts]``."""
        lo = bisect.bisect_right(self.ts, ts - self.window)
        return sum(self.coins[lo: bisect.bisect_right(self.ts, ts)])

    def baseline(self, until: int) -> float:
        """The median coins per window from the start to ``until`` (whole windows only, empty
        ones included); 0 before the first whole window."""
        whole = (until - self.start) // self.window
        if whole <= 0:
            return 0.0
        sums = self.buckets[:whole]
        return float(statistics.median(sums + [0] * (whole - len(sums))))


class RoomAlerts:
    """The alert state of one room (one LIVE) under a set of rules.

    ``lifetime`` gives each gifter's coins to this host before this LIVE, ``tags`` their CRM
    tags; ``creator_usd`` converts coins for a goal in USD."""

    def __init__(self, room_id: str, host: str, rules: Iterable[Rule], *,
                 lifetime: Mapping[str, int] | None = None,
                 tags: Mapping[str, frozenset[str]] | None = None,
                 creator_usd: Callable[[int], Decimal] | None = None,
                 start_ts: int | None = None) -> None:
        self.room_id = room_id
        self.host = host
        self.rules = [r for r in rules if r.applies_to(host)]
        self.lifetime = dict(lifetime or {})
        self.tags = tags or {}
        self.creator_usd = creator_usd
        self.start_ts = start_ts
        self.seen: dict[str, int] = {}  # item keys fed, with their time
        self.coins = 0  # credited to the host so far
        self._last_fired: dict[str, int] = {}
        self._arrived: dict[str, set[str]] = {}  # rule → gifters whose arrival fired
        self._goal_done: set[str] = set()
        self._spikes: dict[str, _Spike] = {}

    def feed(self, items: Iterable[Item]) -> list[Alert]:
        """The alerts the items not fed before fire, in event-time order."""
        new = sorted((i for i in items if i.key not in self.seen),
                     key=lambda i: (i.ts, i.kind, i.key))
        out: list[Alert] = []
        for item in new:
            if item.key in self.seen:  # the same message twice in one feed
                continue
            self.seen[item.key] = item.ts
            if self.start_ts is None or item.ts < self.start_ts:
                self.start_ts = item.ts
            if item.kind == "credit":
                self.coins += item.coins
                self.lifetime[item.user_id] = self.lifetime.get(item.user_id, 0) + item.coins
            for rule in self.rules:
                alert = self._judge(rule, item)
                if alert is not None and self._cool(rule, alert.ts):
                    self._last_fired[rule.name] = alert.ts
                    out.append(alert)
        return out

    def forget_before(self, ts: int) -> None:
        """Drop the remembered joins and comments older than ``ts`` (they are never fed again;
        credits are kept: one closed late may carry an old time)."""
        self.seen = {k: t for k, t in self.seen.items()
                     if t >= ts or not k.startswith(("join:", "comment:"))}

    def _cool(self, rule: Rule, ts: int) -> bool:
        last = self._last_fired.get(rule.name)
        return last is None or ts - last >= rule.cooldown_s * 1000

    def _judge(self, rule: Rule, item: Item) -> Alert | None:
        if item.kind == "credit":
            if rule.kind == "gift" and rule.coins is not None and item.coins >= rule.coins:
                return self._alert(rule, item, item.key, _gift_text(item),
                                   {"coins": item.coins, "gift": item.text,
                                    "repeat_count": item.count})
            if rule.kind == "gift_spike":
                return self._spike(rule, item)
            if rule.kind == "goal":
                return self._goal(rule, item)
            return None
        if rule.kind == "keyword" and item.kind == "comment" and rule.pattern is not None:
            match = rule.pattern.search(item.text)
            if match is None:
                return None
            return self._alert(rule, item, item.key, f"{item.who}: {_cut(item.text)}",
                               {"word": match.group(0), "comment": _cut(item.text)})
        wanted = {"gifter_joined": "join", "gifter_comment": "comment"}.get(rule.kind)
        if wanted != item.kind:
            return None
        return self._gifter(rule, item)

    def _gifter(self, rule: Rule, item: Item) -> Alert | None:
        lifetime = self.lifetime.get(item.user_id, 0)
        tags = self.tags.get(item.user_id, frozenset())
        by_coins = rule.coins is not None and lifetime >= rule.coins
        by_tag = rule.tag is not None and rule.tag in tags
        if not item.user_id or not (by_coins or by_tag):
            return None
        why = (f"{lifetime:,} coins to @{self.host} so far" if by_coins
               else f"tagged {rule.tag!r}")
        detail = {"lifetime_coins": lifetime, "tags": sorted(tags)}
        if item.kind == "join":
            arrived = self._arrived.setdefault(rule.name, set())
            if item.user_id in arrived:
                return None
            arrived.add(item.user_id)
            return self._alert(rule, item, f"joined:{item.user_id}",
                               f"{item.who} joined ({why})", detail)
        return self._alert(rule, item, item.key,
                           f"{item.who} ({why}): {_cut(item.text)}",
                           {**detail, "comment": _cut(item.text)})

    def _goal(self, rule: Rule, item: Item) -> Alert | None:
        if rule.name in self._goal_done:
            return None
        if rule.unit == "coins":
            reached = Decimal(self.coins) >= rule.target
            shown = f"{self.coins:,} coins (target {int(rule.target):,})"
        else:
            usd = self.creator_usd(self.coins) if self.creator_usd else Decimal(0)
            reached = usd >= rule.target
            shown = f"${usd:.2f} creator USD (target ${rule.target:.2f})"
        if not reached:
            return None
        self._goal_done.add(rule.name)
        return self._alert(rule, item, "goal", f"Goal reached: {shown}",
                           {"coins": self.coins, "target": str(rule.target), "unit": rule.unit})

    def _spike(self, rule: Rule, item: Item) -> Alert | None:
        window = int(rule.window_s * 1000)
        s = self._spikes.get(rule.name)
        if s is None:
            start = item.ts if self.start_ts is None else self.start_ts
            s = self._spikes[rule.name] = _Spike(start, window)
        s.add(item.ts, item.coins)
        now = s.last_window(item.ts)
        if now < rule.min_coins:
            s.armed = True
            return None
        baseline = s.baseline(item.ts - window)
        if now < rule.factor * baseline:
            s.armed = True
            return None
        if not s.armed or item.ts - s.start < rule.warmup_s * 1000:
            return None
        s.armed = False
        usual = (f" ({now / baseline:.1f}× the usual {baseline:,.0f})" if baseline
                 else " (none usually)")
        return self._alert(rule, item, item.key,
                           f"Gift spike: {now:,} coins in the last {rule.window_s:g} s{usual}",
                           {"coins": now, "baseline": round(baseline, 2),
                            "window_s": rule.window_s})

    def _alert(self, rule: Rule, item: Item, key: str, text: str,
               detail: Mapping[str, Any]) -> Alert:
        return Alert(self.room_id, self.host, rule.name, key, rule.kind, item.ts, _cut(text),
                     item.user_id or None, item.who or None, detail)


def _gift_text(item: Item) -> str:
    count = f" ×{item.count:,}" if item.count > 1 else ""
    return f"{item.who} sent {item.text or 'a gift'}{count}: {item.coins:,} coins"


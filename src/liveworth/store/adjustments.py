"""Manual corrections: audited adjustments of a session's coins, stored apart from the ledger.

An adjustment adds (or, for a correction, takes away) whole coins to one session (room): an
off-stream gift, a segment known to be missed by the recording, a correction TikTok made. It is
one row of the ``adjustments`` table (migration 4) with who made it, when and why; the ledger's
``credits`` — the **counted** coins — are never touched.

- Ids are small integers, the largest so far plus one (1, 2, 3 …), never reused.
- An adjustment is never deleted: :func:`undo_adjustment` stamps ``undone_at`` / ``undone_by``,
  and an undone adjustment no longer counts.
- A session's **adjusted** coins are the sum of its adjustments not undone; its **total** is
  counted + adjusted and may never go below 0 (a correction larger than what was counted is
  refused, and so is an undo that would leave the total negative).
- The counted coins are the host's, as in the report: gifts to guests (co-hosts) are not the
  host's earnings and are not part of the total an adjustment corrects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from liveworth.economy.money import MAX_COINS, creator_usd
from liveworth.economy.ratecard import RateCard
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.database import Store

#: The longest reason (characters) an adjustment may carry.
MAX_REASON = 2_000
#: The longest user id or name of the person who made or undid it.
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One stored adjustment (``undone_at`` set once it was undone)."""

    id: int
    room_id: str
    coins: int
    reason: str
    user_id: str | None
    made_by: str | None
    made_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: str | None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return None if t is None else t.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")

        return {"id": self.id, "room_id": self.room_id, "coins": self.coins,
                "reason": self.reason, "user_id": self.user_id, "made_by": self.made_by,
                "made_at": iso(self.made_at), "undone_at": iso(self.undone_at),
                "undone_by": self.undone_by, "active": self.active}


_COLUMNS = "id, room_id, coins, reason, user_id, made_by, made_at, undone_at, undone_by"


def _row(r: tuple[Any, ...]) -> Adjustment:
    return Adjustment(int(r[0]), str(r[1]), int(r[2]), str(r[3]), r[4], r[5], r[6], r[7], r[8])


def _now() -> dt.datetime:
    """Now in UTC, without a zone (``made_at`` and ``undone_at`` are UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def check_coins(coins: int) -> int:
    """A non-zero whole number of coins within the project's limit (±10^15)."""
    if isinstance(coins, bool) or not isinstance(coins, int):
        raise UsageError(f"--coins must be a whole number, got {coins!r}")
    if coins == 0:
        raise UsageError("--coins 0 changes nothing: give a positive number to add coins or a "
                         "negative one to correct")
    if abs(coins) > MAX_COINS:
        raise UsageError(f"--coins {coins:,} is beyond what liveworth counts "
                         f"(at most {MAX_COINS:,} either way)")
    return coins


def check_text(text: str | None, what: str, limit: int, *, required: bool) -> str | None:
    """``text`` stripped; empty is refused when ``required`` (else None), and so is text over
    ``limit`` characters."""
    value = (text or "").strip()
    if not value:
        if required:
            raise UsageError(f"{what} must not be empty")
        return None
    if len(value) > limit:
        raise UsageError(f"{what} is {len(value):,} characters long (at most {limit:,})")
    return value


def counted_coins(store: Store, room_id: str) -> int:
    """The host's counted coins of a room (the ledger's credits, guests left out); raises
    :class:`NotFoundError` for a room the database does not know."""
    known = store.query("SELECT EXISTS (SELECT 1 FROM events WHERE room_id = $1) "
                        "OR EXISTS (SELECT 1 FROM rooms WHERE room_id = $1)", [room_id])
    if not known or not known[0][0]:
        raise NotFoundError(f"no session {room_id!r} in the database (see `liveworth sessions`)")
    row = store.query("SELECT coalesce(sum(coins) FILTER (WHERE NOT guest), 0) FROM credits "
                      "WHERE room_id = $1", [room_id])
    return int(row[0][0])


def adjusted_coins(store: Store, room_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Adjusted coins (sum of the adjustments not undone) per room, only rooms that have any;
    every room when ``room_ids`` is None."""
    rows = store.query("SELECT room_id, sum(coins) FROM adjustments WHERE undone_at IS NULL "
                       "GROUP BY room_id")
    wanted = None if room_ids is None else set(room_ids)
    return {str(r): int(c) for r, c in rows if wanted is None or r in wanted}


def adjustments(store: Store, room_id: str | None = None, *,
                include_undone: bool = True) -> list[Adjustment]:
    """The adjustments (of one room, or all), oldest first."""
    where = ["TRUE"]
    params: list[Any] = []
    if room_id is not None:
        where.append("room_id = $1")
        params.append(room_id)
    if not include_undone:
        where.append("undone_at IS NULL")
    rows = store.query(f"SELECT {_COLUMNS} FROM adjustments WHERE {' AND '.join(where)} "
                       "ORDER BY id", params)
    return [_row(r) for r in rows]


def _active_sum(store: Store, room_id: str) -> int:
    return int(store.query("SELECT coalesce(sum(coins), 0) FROM adjustments WHERE room_id = $1 "
                           "AND undone_at IS NULL", [room_id])[0][0])


def add_adjustment(store: Store, room_id: str, coins: int, reason: str, *,
                   user_id: str | None = None, made_by: str | None = None,
                   now: dt.datetime | None = None) -> Adjustment:
    """Record an adjustment of ``coins`` to ``room_id`` (one transaction) and return it."""
    check_coins(coins)
    why = check_text(reason, "--reason", MAX_REASON, required=True)
    user = check_text(user_id, "--user", MAX_NAME, required=False)
    by = check_text(made_by, "--by", MAX_NAME, required=False)
    store.begin()
    try:
        counted = counted_coins(store, room_id)
        before = _active_sum(store, room_id)
        if counted + before + coins < 0:
            raise UsageError(f"session {room_id}: counted {counted:,} + adjusted {before:,} "
                             f"{'+' if coins >= 0 else '-'} {abs(coins):,} would be below 0 "
                             "coins")
        new_id = int(store.query("SELECT coalesce(max(id), 0) + 1 FROM adjustments")[0][0])
        store.query(f"INSERT INTO adjustments ({_COLUMNS}) VALUES "
                    "($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
                    [new_id, room_id, coins, why, user, by, now or _now()])
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return adjustments_by_id(store, new_id)


def adjustments_by_id(store: Store, adjustment_id: int) -> Adjustment:
    rows = store.query(f"SELECT {_COLUMNS} FROM adjustments WHERE id = $1", [adjustment_id])
    if not rows:
        raise NotFoundError(f"no adjustment {adjustment_id} (see `liveworth adjust --list`)")
    return _row(rows[0])


def undo_adjustment(store: Store, adjustment_id: int, *, undone_by: str | None = None,
                    now: dt.datetime | None = None) -> Adjustment:
    """Mark an adjustment undone (it stays stored, for the audit) and return it."""
    by = check_text(undone_by, "--by", MAX_NAME, required=False)
    store.begin()
    try:
        adj = adjustments_by_id(store, adjustment_id)
        if not adj.active:
            raise UsageError(f"adjustment {adjustment_id} was already undone at "
                             f"{adj.undone_at:%Y-%m-%d %H:%M:%S} UTC"
                             + (f" by {adj.undone_by}" if adj.undone_by else ""))
        counted = counted_coins(store, adj.room_id)
        left = _active_sum(store, adj.room_id) - adj.coins
        if counted + left < 0:
            raise UsageError(f"undoing adjustment {adjustment_id} would leave session "
                             f"{adj.room_id} at counted {counted:,} + adjusted {left:,}, below "
                             "0 coins: undo the corrections after it first")
        store.query("UPDATE adjustments SET undone_at = $2, undone_by = $3 WHERE id = $1",
                    [adjustment_id, now or _now(), by])
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return adjustments_by_id(store, adjustment_id)


def signed_creator_usd(coins: int, card: RateCard) -> Decimal:
    """What the creator receives for ``coins`` (exact), negative for negative coins: a net
    correction. Linear, so counted + adjusted in USD is the USD of counted + adjusted coins."""
    value = creator_usd(abs(coins), card)
    return -value if coins < 0 else value

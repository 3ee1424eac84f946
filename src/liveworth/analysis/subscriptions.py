"""A LIVE's subscriptions read from the store, apart from its gifts: how many ``subscribe`` events,
what viewers paid and the creator's part (:mod:`liveworth.economy.subscriptions`).

Gift money and subscription money are two parts of what a LIVE earned the creator;
:func:`creator_total_shown` gives them as shown in cents so that the parts add up to the total
shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from liveworth.economy.subscriptions import SubscriptionMoney, subscription_money, terms
from liveworth.store import portable
from liveworth.store.database import Store


def session_subscriptions(store: Store, room_id: str, start_ts: int, region: str | None = None,
                          bonus_eligible: bool = False) -> SubscriptionMoney:
    """The subscriptions of one room, priced under the terms of its start date and ``region``.

    Each ``subscribe`` event is one month paid (renewals count as new payments; a source that
    sends one event per month subscribed sends one per payment).
    """
    rows = store.query("""
        SELECT price_usd, count(*) FROM events WHERE room_id = $1 AND type = 'subscribe'
        GROUP BY price_usd ORDER BY price_usd NULLS FIRST""", [room_id])
    return subscription_money([(r[0], int(r[1])) for r in rows],
                              terms(region, start_ts, bonus_eligible))


def sessions_subscriptions(store: Store, starts: Mapping[str, int], region: str | None = None,
                           bonus_eligible: bool = False) -> dict[str, SubscriptionMoney]:
    """:func:`session_subscriptions` of every room of ``starts`` (room → start ms) that has
    subscriptions, in one query."""
    rows = sorted(portable.rows(store, """
        SELECT room_id, price_usd, CAST(count(*) AS BIGINT) FROM {events}
        WHERE type = 'subscribe' GROUP BY room_id, price_usd"""),
                  key=lambda r: (r[0], r[1] is not None, r[1] or ""))
    by_room: dict[str, list[tuple[str | None, int]]] = {}
    for room, price, n in rows:
        if str(room) in starts:
            by_room.setdefault(str(room), []).append((price, int(n)))
    return {room: subscription_money(prices, terms(region, starts[room], bonus_eligible))
            for room, prices in by_room.items()}


def creator_total_shown(gifts_usd: Decimal, subs: SubscriptionMoney) -> tuple[Decimal, ...]:
    """(gifts, subscriptions, total) creator USD as shown in cents: gifts + subscriptions =
    total, exactly (:func:`liveworth.economy.money.split_cents`)."""
    return subs.with_gifts(gifts_usd)


def summary_line(gifts_usd: Decimal, subs: SubscriptionMoney) -> str:
    """"gifts: creator $X; subscriptions: creator $Y (…); total $X+Y" for the terminal and HTML."""
    return subs.line(gifts_usd)


def as_json(gifts_usd: Decimal, subs: SubscriptionMoney) -> dict[str, object]:
    """The report's ``subscriptions`` object, with the gift and total creator USD beside it
    (exact; ``gifts_creator_usd + creator_usd = total_creator_usd``)."""
    from liveworth.economy.money import fmt

    out = subs.as_dict()
    out["gifts_creator_usd"] = fmt(gifts_usd)
    out["total_creator_usd"] = fmt(gifts_usd + subs.creator_usd)
    return out


def totals(items: Sequence[SubscriptionMoney]) -> tuple[int, Decimal]:
    """How many subscriptions and their creator USD over several LIVEs."""
    return sum(s.count for s in items), sum((s.creator_usd for s in items), Decimal(0))

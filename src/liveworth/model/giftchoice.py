"""Gift choice: how one gifter's coins become gifts from TikTok's catalogue (step 5 of the session
model in :mod:`liveworth.model.generative`, which re-exports everything here).

Whales send their favourite 10,000+-coin gift again and again, mid gifters one-shot gifts of
100–9,999 coins, and what is left goes in streaks of cheap streakable gifts, mostly 1-coin ones.
Every coin is spent exactly; randomness comes only from the injected generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from liveworth.economy.gifts import GiftInfo, load_catalogue
from liveworth.errors import UsageError

if TYPE_CHECKING:
    from liveworth.model.generative import ModelParams

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Coin price from which a gift counts as "large" (the real session's 10,000+ tier).
LARGE_GIFT_COINS = 10_000
#: Coin price from which a non-streakable gift is a mid-size one-shot gift.
MID_GIFT_COINS = 100


@dataclass(frozen=True, slots=True, eq=False)
class GiftMenu:
    """The catalogue split the way gifters use it; every array is indexed by ``gifts``.

    ``streak``: streakable gifts (type 1, ≤ 99 coins) with the 1-coin ones in ``one_coin``;
    ``mid``: one-shot gifts of 100–9,999 coins; ``big``: one-shot gifts of 10,000+ coins.
    Each group is an index array into ``gifts`` sorted by price.
    """

    gifts: tuple[GiftInfo, ...]
    coins: IntArray
    gift_type: IntArray
    streak: IntArray
    one_coin: IntArray
    mid: IntArray
    big: IntArray

    @classmethod
    def from_catalogue(cls, gifts: Sequence[GiftInfo] | None = None) -> GiftMenu:
        """The menu of ``gifts`` (default: the official catalogue's priced gifts)."""
        rows = tuple(sorted(gifts if gifts is not None else load_catalogue().priced(),
                            key=lambda g: (g.coins, g.gift_id or 0)))
        coins = np.array([g.coins for g in rows], dtype=np.int64)
        gtype = np.array([g.gift_type if g.gift_type is not None else 1 for g in rows],
                         dtype=np.int64)
        streak = np.flatnonzero((gtype == 1) & (coins < MID_GIFT_COINS))
        one_shot = gtype != 1
        menu = cls(
            gifts=rows,
            coins=coins,
            gift_type=gtype,
            streak=streak.astype(np.int64),
            one_coin=streak[coins[streak] == 1].astype(np.int64),
            mid=np.flatnonzero(one_shot & (coins >= MID_GIFT_COINS)
                               & (coins < LARGE_GIFT_COINS)).astype(np.int64),
            big=np.flatnonzero(one_shot & (coins >= LARGE_GIFT_COINS)).astype(np.int64),
        )
        if not (menu.one_coin.size and menu.mid.size and menu.big.size):
            raise UsageError("the gift catalogue needs 1-coin streakable, mid and large gifts")
        return menu


@dataclass(frozen=True, slots=True, eq=False)
class GiftActs:
    """Gifts chosen by the gifters, in each gifter's order: one row per act.

    An act is ``units`` of gift ``gift`` (an index into the menu) by gifter ``gifter``: a streak
    of that many steps when ``streak`` is true, else that many separate one-shot gifts.
    """

    gifter: IntArray
    gift: IntArray
    units: IntArray
    streak: BoolArray


def _pick_affordable(group: IntArray, menu: GiftMenu, budget: IntArray,
                     rng: np.random.Generator) -> IntArray:
    """For each budget, a uniformly random gift of ``group`` costing at most the budget."""
    prices = menu.coins[group]
    affordable = np.searchsorted(prices, budget, side="right")
    pick = np.minimum((rng.random(budget.shape[0]) * affordable).astype(np.int64),
                      np.maximum(affordable - 1, 0))
    return group[pick]


def _greedy(group: IntArray, menu: GiftMenu, budget: IntArray) -> IntArray:
    """For each budget, the dearest gift of ``group`` costing at most the budget."""
    prices = menu.coins[group]
    return group[np.maximum(np.searchsorted(prices, budget, side="right") - 1, 0)]


class _ActBuilder:
    """Collects acts pass by pass while the gifters' remaining coins shrink to zero."""

    def __init__(self, spend: IntArray) -> None:
        self.left = spend.astype(np.int64).copy()
        self.parts: list[tuple[IntArray, IntArray, IntArray, bool, int]] = []

    def spend(self, who: IntArray, gift: IntArray, units: IntArray, coins: IntArray,
              streak: bool, order: int) -> None:
        keep = units > 0
        who, gift, units = who[keep], gift[keep], units[keep]
        self.left[who] -= units * coins[gift]
        self.parts.append((who, gift, units, streak, order))

    def build(self) -> GiftActs:
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            return GiftActs(empty, empty, empty, np.zeros(0, dtype=np.bool_))
        who = np.concatenate([p[0] for p in self.parts])
        gift = np.concatenate([p[1] for p in self.parts])
        units = np.concatenate([p[2] for p in self.parts])
        streak = np.concatenate([np.full(p[0].shape[0], p[3]) for p in self.parts])
        order = np.concatenate([np.full(p[0].shape[0], p[4]) for p in self.parts])
        sort = np.lexsort((order, who))
        return GiftActs(who[sort], gift[sort], units[sort], streak[sort].astype(np.bool_))


def gift_acts(spend: IntArray, menu: GiftMenu, params: ModelParams,
              rng: np.random.Generator) -> GiftActs:
    """Turn each gifter's coins into gifts from the catalogue, spending every coin exactly.

    Whales put a random share of their coins into repeats of one favourite 10,000+-coin gift and
    most of the rest into the dearest large gifts they can still afford; coins of 100 or more
    then go to one-shot gifts of 100–9,999 coins (a random affordable one, then the dearest
    affordable ones); the rest goes to streaks of streakable gifts, mostly
    1-coin ones, ending with a 1-coin streak for the last few coins.
    """
    acts = _ActBuilder(spend)
    coins = menu.coins
    big_floor = int(coins[menu.big[0]])
    who = np.flatnonzero(acts.left >= big_floor)
    if who.size:
        gift = _pick_affordable(menu.big, menu, acts.left[who], rng)
        share = rng.uniform(params.big_gift_share_low, 1.0, who.size)
        units = np.maximum((acts.left[who] * share) // coins[gift], 1).astype(np.int64)
        acts.spend(who, gift, units, coins, streak=False, order=0)
    who = np.flatnonzero(acts.left >= big_floor)
    if who.size:
        gift = _greedy(menu.big, menu, acts.left[who])
        acts.spend(who, gift, acts.left[who] // coins[gift], coins, streak=False, order=1)
    mid_floor = int(coins[menu.mid[0]])
    for step in range(64):
        who = np.flatnonzero(acts.left >= mid_floor)
        if not who.size:
            break
        budget = np.minimum(acts.left[who], int(coins[menu.mid[-1]]))
        if step == 0:
            gift = _pick_affordable(menu.mid, menu, budget, rng)
            units = np.maximum((budget * rng.random(who.size)) // coins[gift], 1)
        else:
            gift = _greedy(menu.mid, menu, budget)
            units = acts.left[who] // coins[gift]
        acts.spend(who, gift, units.astype(np.int64), coins, streak=False, order=2 + step)
    who = np.flatnonzero(acts.left > 0)
    if who.size:
        any_streak = _pick_affordable(menu.streak, menu, acts.left[who], rng)
        one = menu.one_coin[rng.integers(0, menu.one_coin.size, who.size)]
        gift = np.where(rng.random(who.size) < params.one_coin_streak_share, one, any_streak)
        acts.spend(who, gift, acts.left[who] // coins[gift], coins, streak=True, order=100)
    who = np.flatnonzero(acts.left > 0)
    if who.size:
        one = menu.one_coin[rng.integers(0, menu.one_coin.size, who.size)]
        acts.spend(who, one, acts.left[who].copy(), coins, streak=True, order=101)
    return acts.build()

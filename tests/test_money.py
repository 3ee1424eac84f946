"""The money model: exact arithmetic, whose money each figure is, the checks ECONOMICS.md sets."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveworth.economy.money import (
    MAX_USD,
    coins_for_usd,
    coins_from_diamonds,
    creator_usd,
    earnings,
    fmt,
    payout_plan,
    viewer_usd,
)
from liveworth.economy.ratecard import load_rate_card
from liveworth.errors import UsageError

CARD = load_rate_card()
CHANNELS = sorted(CARD.channels)
shares = st.decimals(min_value=0, max_value=1, places=4)


def test_lion_at_the_default_card() -> None:
    e = earnings(29999, CARD)
    assert fmt(e.creator_usd) == "149.995"
    assert e.diamonds == 29999
    assert e.viewer_usd == e.creator_usd + e.platform_usd
    assert e.take_home_usd == e.creator_usd


def test_reward_rate_override() -> None:
    card = load_rate_card(overrides={"reward_rate": "0.46"})
    assert fmt(creator_usd(29999, card)) == "137.9954"


def test_bbc_field_test_creator_gets_about_a_third() -> None:
    # $106 of gifts bought in-app; the creator's balance showed $33.03 (31 %).
    coins = coins_for_usd(Decimal("106"), CARD, "ios")
    e = earnings(coins, CARD, "ios")
    assert Decimal("0.30") <= e.creator_usd / e.viewer_usd <= Decimal("0.35")
    assert Decimal("33") <= e.creator_usd <= Decimal("36")


def test_agency_and_tax_come_off_take_home() -> None:
    card = load_rate_card(overrides={"agency_cut": "0.2", "tax_rate": "0.25"})
    e = earnings(1000, card)
    assert e.creator_usd == Decimal("5")
    assert e.agency_usd == Decimal("1")
    assert e.tax_usd == Decimal("1")
    assert e.take_home_usd == Decimal("3")


@given(coins=st.integers(0, 10**12), channel=st.sampled_from(CHANNELS), rate=shares,
       cut=shares, tax=shares)
def test_money_identities_hold_for_any_input(
    coins: int, channel: str, rate: Decimal, cut: Decimal, tax: Decimal
) -> None:
    card = load_rate_card(overrides={"reward_rate": rate, "agency_cut": cut, "tax_rate": tax})
    e = earnings(coins, card, channel)
    assert e.viewer_usd == e.creator_usd + e.platform_usd
    assert e.creator_usd == e.agency_usd + e.tax_usd + e.take_home_usd
    assert e.take_home_usd <= e.creator_usd
    for value in (e.viewer_usd, e.creator_usd, e.diamonds, e.take_home_usd):
        assert isinstance(value, Decimal)
        assert value >= 0


@given(coins=st.integers(0, 10**9), channel=st.sampled_from(CHANNELS))
def test_usd_to_coins_round_trips(coins: int, channel: str) -> None:
    assert coins_for_usd(viewer_usd(coins, CARD, channel), CARD, channel) == coins


@given(coins=st.integers(0, 10**9))
def test_diamonds_to_coins_round_trips(coins: int) -> None:
    assert coins_from_diamonds(earnings(coins, CARD).diamonds, CARD) == coins


def test_coins_for_usd_never_overspends() -> None:
    for cents in range(0, 2000, 7):
        amount = Decimal(cents) / 100
        c = coins_for_usd(amount, CARD, "web")
        assert viewer_usd(c, CARD, "web") <= amount < viewer_usd(c + 1, CARD, "web")


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(UsageError):
        earnings(-1, CARD)
    with pytest.raises(UsageError):
        coins_for_usd(Decimal("-1"), CARD)


@pytest.mark.parametrize(
    ("balance", "amounts", "left"),
    [
        ("50", [], "50"),
        ("100", ["100"], "0"),
        ("2350.50", ["1000", "1000", "350.50"], "0"),
        # The last day would be $50 (< $100 minimum): the day before takes less.
        ("1050", ["950", "100"], "0"),
        ("1000.004", ["1000"], "0.004"),
    ],
)
def test_payout_plan(balance: str, amounts: list[str], left: str) -> None:
    plan = payout_plan(Decimal(balance), CARD, dt.date(2026, 1, 30))
    assert [i.amount_usd for i in plan.instalments] == [Decimal(a) for a in amounts]
    assert plan.left_in_balance_usd == Decimal(left)
    assert plan.withdrawn_usd + plan.left_in_balance_usd == Decimal(balance)
    for n, inst in enumerate(plan.instalments):
        assert inst.requested == dt.date(2026, 1, 30) + dt.timedelta(days=n)
        assert inst.arrives_by == inst.requested + dt.timedelta(days=15)


@given(balance=st.decimals(min_value=0, max_value=100_000, places=2))
def test_payout_plan_respects_the_limits(balance: Decimal) -> None:
    plan = payout_plan(balance, CARD, dt.date(2026, 1, 1))
    assert plan.withdrawn_usd + plan.left_in_balance_usd == balance
    assert all(Decimal(100) <= i.amount_usd <= Decimal(1000) for i in plan.instalments)
    assert plan.left_in_balance_usd < 100
    if plan.instalments:  # the count _check_plan_size bounds before planning
        assert len(plan.instalments) == math.ceil(balance / 1000)


@pytest.mark.parametrize("channel", CHANNELS)
def test_coins_for_usd_is_exact_for_huge_amounts(channel: str) -> None:
    c = coins_for_usd(MAX_USD, CARD, channel)
    assert viewer_usd(c, CARD, channel) <= MAX_USD < viewer_usd(c + 1, CARD, channel)


def test_coins_for_usd_is_quick_for_a_tiny_coin_price() -> None:
    card = load_rate_card(config={"channels": {"t": {"pack_usd": "0.000000000001",
                                                     "pack_coins": 1_000_000_000}},
                                  "rates": {"reward_rate": "0"}})  # else TikTok's share < 0
    c = coins_for_usd(Decimal("0.01"), card, "t")  # 1e-21 $ a coin: ~1e19 coins a cent
    assert viewer_usd(c, card, "t") <= Decimal("0.01") < viewer_usd(c + 1, card, "t")


@pytest.mark.parametrize("amount", [Decimal("1e400"), MAX_USD + 1, Decimal("NaN")])
def test_absurd_amounts_are_refused(amount: Decimal) -> None:
    with pytest.raises(UsageError, match="between 0 and"):
        coins_for_usd(amount, CARD)
    with pytest.raises(UsageError, match="between 0 and"):
        payout_plan(amount, CARD, dt.date(2026, 1, 1))


def test_payout_plan_is_bounded_before_it_is_planned() -> None:
    with pytest.raises(UsageError, match="at most 3,660"):
        payout_plan(Decimal(10**12), CARD, dt.date(2026, 1, 1))
    tiny = load_rate_card(overrides={"max_withdrawal_per_day_usd": "0.01",
                                     "min_withdrawal_usd": "0"})
    with pytest.raises(UsageError, match="at most 3,660"):
        payout_plan(Decimal(2500), tiny, dt.date(2026, 1, 1))
    assert len(payout_plan(Decimal("3660000"), CARD, dt.date(2026, 1, 1)).instalments) == 3660
    with pytest.raises(UsageError, match="after the year 9999"):
        payout_plan(Decimal(2500), CARD, dt.date(9999, 12, 20))
    assert payout_plan(Decimal(50), CARD, dt.date(9999, 12, 31)).instalments == ()

"""The money model: exact arithmetic, whose money each figure is, the checks ECONOMICS.md sets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveworth.errors import UsageError
from liveworth.money import (
    coins_for_usd,
    coins_from_diamonds,
    creator_usd,
    earnings,
    fmt,
    payout_plan,
    viewer_usd,
)
from liveworth.ratecard import load_rate_card

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

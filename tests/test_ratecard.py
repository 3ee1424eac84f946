"""The rate card: sourced values, presets, config file and overrides, clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from liveworth.economy.ratecard import PARAMETERS, load_rate_card, read_config
from liveworth.errors import ConfigError, UsageError


def test_every_value_has_a_source_and_a_date() -> None:
    card = load_rate_card()
    for name in PARAMETERS:
        prov = card.provenance[name]
        assert prov.source and prov.date and prov.confidence, name
    for ch in card.channels.values():
        assert ch.provenance.source and ch.provenance.date, ch.name
    assert set(card.channels) >= {"web", "ios", "android", "blended"}


def test_defaults_match_economics_md() -> None:
    card = load_rate_card()
    assert card.diamonds_per_coin == 1
    assert card.usd_per_diamond == Decimal("0.01")
    assert card.reward_rate == Decimal("0.50")
    assert card.channel("web").usd_per_coin == Decimal("0.74") / 70
    assert card.payout_processing_days == 15


def test_us_scaled_preset_has_its_range() -> None:
    card = load_rate_card("us-scaled")
    assert card.reward_rate_range == (Decimal("0"), Decimal("0.53"))  # 0.20 without violations
    assert card.reward_rate_range[0] <= card.reward_rate <= card.reward_rate_range[1]
    assert card.provenance["reward_rate"].set_by == "preset us-scaled"


def test_config_file_then_command_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('preset = "us-scaled"\nchannel = "web"\n[rates]\nagency_cut = "0.1"\n')
    config = read_config(path)
    card = load_rate_card(None, {"agency_cut": "0.2"}, config=config, config_name=str(path))
    assert card.preset == "us-scaled"
    assert card.default_channel == "web"
    assert card.agency_cut == Decimal("0.2")
    assert card.provenance["agency_cut"].set_by == "command line"
    assert "agency_cut=0.2" in card.name


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rates": {"reward_rate": "1.5"}}, "between 0 and 1"),
        ({"rates": {"reward_rate": "abc"}}, "decimal number"),
        ({"rates": {"nonsense": "1"}}, "unknown rate card parameter"),
        ({"colour": "red"}, "unknown key"),
        ({"channels": {"mine": {"pack_usd": "x"}}}, "pack_usd"),
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rate_card(config=config)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("rates = [\n")
    with pytest.raises(ConfigError, match=str(path)):
        read_config(path)


def test_unknown_preset_and_channel() -> None:
    with pytest.raises(UsageError, match="preset"):
        load_rate_card("gold")
    with pytest.raises(UsageError, match="channel"):
        load_rate_card().channel("paypal")


def test_own_channel_from_config() -> None:
    card = load_rate_card(config={"channels": {"promo": {"pack_usd": "9.99", "pack_coins": 1000}}})
    assert card.channel("promo").usd_per_coin == Decimal("0.00999")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"channels": {"x": {"pack_usd": 1, "pack_coins": float("inf")}}},
         r"channels\.x\.pack_coins must be a whole number"),
        ({"channels": {"x": {"pack_usd": 1, "pack_coins": 2.5}}}, "pack_coins must be a whole"),
        ({"channels": {"x": {"pack_usd": 1, "pack_coins": True}}}, "pack_coins must be a whole"),
        ({"channels": {"x": {"pack_usd": 1, "pack_coins": 10**10}}}, "pack_coins must lie"),
        ({"channels": {"x": {"pack_usd": "NaN", "pack_coins": 5}}},
         r"channels\.x\.pack_usd must be a finite"),
        ({"channels": {"x": {"pack_usd": float("inf"), "pack_coins": 5}}}, "finite"),
        ({"channels": {"x": {"pack_usd": "0", "pack_coins": 5}}}, "pack_usd must be a price"),
        ({"channels": {"x": {"pack_usd": "1e7", "pack_coins": 5}}}, "pack_usd must be a price"),
        ({"channels": {"x": "9.99"}}, "needs pack_usd"),
        ({"rates": {"diamonds_per_coin": "1e999999"}}, "diamonds_per_coin must lie between"),
        ({"rates": {"usd_per_diamond": "1e-999999"}}, "at most 12 decimal places"),
        ({"rates": {"usd_per_diamond": "sNaN"}}, "finite"),
        ({"rates": {"min_withdrawal_usd": "1e30"}}, "min_withdrawal_usd must lie between"),
        ({"rates": {"max_withdrawal_per_day_usd": "0"}}, "max_withdrawal_per_day_usd must lie"),
        ({"rates": {"withdrawal_fee_usd": "-1"}}, "withdrawal_fee_usd must lie"),
        ({"rates": {"payout_processing_days": 3_000_000}}, "payout_processing_days must lie"),
        ({"rates": {"payout_processing_days": "2.5"}}, "whole number"),
        ({"rates": {"reward_rate": [1]}}, "must be a number"),
        ({"rates": {"min_withdrawal_usd": "2000"}}, "must not exceed max_withdrawal_per_day"),
    ],
)
def test_out_of_range_config_values_name_the_file_and_key(
    config: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_rate_card(config=config, config_name="my.toml")
    assert str(raised.value).startswith("my.toml: ")


def test_values_at_the_limits_are_accepted() -> None:
    card = load_rate_card(config={
        "rates": {"diamonds_per_coin": "1000", "usd_per_diamond": "0.000000000001",
                  "payout_processing_days": 365, "min_withdrawal_usd": "1000000",
                  "max_withdrawal_per_day_usd": "1000000", "reward_rate": "0.5000000000000000"},
        "channels": {"x": {"pack_usd": "1000000", "pack_coins": 1_000_000_000},
                     "y": {"pack_usd": "0.01", "pack_coins": "70"}}})
    assert card.diamonds_per_coin == 1000 and card.payout_processing_days == 365
    assert card.channel("y").pack_coins == 70


@pytest.mark.parametrize(
    ("config", "keys"),
    [
        # $0.02 a coin to the creator; viewers pay $0.0106–0.0152 a coin on the bundled channels
        ({"rates": {"reward_rate": "1", "usd_per_diamond": "0.02"}},
         ("reward_rate=1", "usd_per_diamond=0.02")),
        ({"rates": {"diamonds_per_coin": "3"}}, ("diamonds_per_coin=3",)),
        ({"channels": {"cheap": {"pack_usd": "0.01", "pack_coins": 100}}},
         ("channels.cheap.pack_usd",)),
    ],
)
def test_a_creator_share_above_what_viewers_pay_is_refused(
    config: dict[str, object], keys: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_rate_card(config=config, config_name="my.toml")
    message = str(raised.value)
    assert message.startswith("my.toml: ") and "\n" not in message, message
    assert "negative" in message and "channel" in message
    for key in keys:
        assert key in message


def test_the_command_line_share_above_viewers_names_the_command_line() -> None:
    with pytest.raises(ConfigError, match=r"^command line: usd_per_diamond=0\.05"):
        load_rate_card(overrides={"usd_per_diamond": "0.05"})
    card = load_rate_card(overrides={"reward_rate": "1"})  # $0.01 a coin: below every channel
    assert card.reward_rate == 1


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"payout_processing_days": "0_0_1"}, "payout_processing_days must be a whole number"),
        ({"payout_processing_days": "+5"}, "payout_processing_days must be a whole number"),
        ({"payout_processing_days": "\u0663"}, "payout_processing_days must be a whole number"),
        ({"usd_per_diamond": "0_0_1"}, "usd_per_diamond must be a decimal number"),
        ({"reward_rate": "0.4_6"}, "reward_rate must be a decimal number"),
        ({"reward_rate": "\u0660.5"}, "reward_rate must be a decimal number"),
    ],
)
def test_non_canonical_number_text_is_refused(rates: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_rate_card(config={"rates": rates}, config_name="my.toml")
    assert str(raised.value).startswith("my.toml: ")


@pytest.mark.parametrize("coins", ["0_0_1", "1_000", "\u00b2", "\u0663", "+70", " 7 0"])
def test_non_canonical_pack_coins_text_is_refused(coins: str) -> None:
    with pytest.raises(ConfigError, match=r"channels\.x\.pack_coins must be a whole number"):
        load_rate_card(config={"channels": {"x": {"pack_usd": "9.99", "pack_coins": coins}}},
                       config_name="my.toml")


def test_canonical_number_text_is_accepted() -> None:
    card = load_rate_card(config={
        "rates": {"payout_processing_days": "007", "reward_rate": " 0.46 ",
                  "usd_per_diamond": "1E-2", "tax_rate": ".25", "agency_cut": "0."},
        "channels": {"x": {"pack_usd": "9.99", "pack_coins": " 1000 "}}})
    assert card.payout_processing_days == 7 and card.reward_rate == Decimal("0.46")
    assert card.usd_per_diamond == Decimal("0.01") and card.tax_rate == Decimal("0.25")
    assert card.channel("x").pack_coins == 1000

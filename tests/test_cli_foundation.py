"""End-to-end tests of the foundation commands: rates, convert, gifts, payout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from liveworth.cli import build_parser

from conftest import Result

Run = Callable[..., Result]


def test_convert_lion_json(cli: Run) -> None:
    r = cli("convert", "--coins", "29999", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["creator_usd"] == "149.995"
    for key in ("coins", "diamonds", "viewer_usd", "creator_usd", "platform_usd",
                "take_home_usd", "channel", "reward_rate", "rate_card"):
        assert key in data
    assert data["coins"] == 29999


def test_convert_with_reward_rate(cli: Run) -> None:
    assert cli("convert", "--coins", "29999", "--reward-rate", "0.46", "--json").json()[
        "creator_usd"
    ] == "137.9954"


def test_convert_from_usd_and_diamonds(cli: Run) -> None:
    data = cli("convert", "--usd", "0.74", "--channel", "web", "--json").json()
    assert data["coins"] == 70
    assert data["viewer_usd"] == "0.74"
    assert cli("convert", "--diamonds", "100", "--json").json()["coins"] == 100


def test_convert_human_output_says_whose_money(cli: Run) -> None:
    r = cli("convert", "--coins", "1000")
    assert r.code == 0
    for word in ("viewers", "creator", "TikTok", "take-home", "$5.00"):
        assert word in r.out


@pytest.mark.parametrize(
    "argv",
    [
        ("convert", "--coins", "-3"),
        ("convert", "--coins", "ten"),
        ("convert", "--coins", "5", "--preset", "gold"),
        ("convert", "--coins", "5", "--channel", "paypal"),
        ("convert", "--coins", "5", "--reward-rate", "1.2"),
        ("convert", "--coins", "5", "--set", "reward_rate=2"),
        ("convert", "--coins", "5", "--set", "nonsense=2"),
        ("convert", "--diamonds", "1.5"),
        ("convert",),
        ("payout", "--balance-usd", "-5"),
        ("nosuchcommand",),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Run, argv: tuple[str, ...]) -> None:
    r = cli(*argv)
    assert r.code == 2
    assert r.err.count("\n") == 1, r.err
    assert "Traceback" not in r.err


def test_broken_config_file(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[rates]\nreward_rate = 'x'\n")
    r = cli("convert", "--coins", "5", "--config", str(bad))
    assert r.code == 2
    assert str(bad) in r.err and "reward_rate" in r.err


def test_rates_json_lists_sources(cli: Run) -> None:
    data = cli("rates", "--json").json()
    assert data["preset"] == "default"
    names = {p["name"] for p in data["parameters"]}
    assert {"reward_rate", "usd_per_diamond", "diamonds_per_coin"} <= names
    assert all(p["source"] and p["date"] for p in data["parameters"])
    assert cli("rates", "--preset", "us-scaled", "--json").json()["reward_rate_range"] == [
        "0", "0.53"]


def test_gifts_json(cli: Run) -> None:
    rows = cli("gifts", "--search", "rose", "--json").json()
    assert any(g["gift_id"] == 5655 and g["coins"] == 1 for g in rows)
    for g in rows:
        assert {"gift_id", "name", "coins", "streakable", "tier"} <= set(g)
    big = cli("gifts", "--min-coins", "10000", "--json").json()
    assert big and all(g["coins"] >= 10000 for g in big)


def test_payout_json(cli: Run) -> None:
    data = cli("payout", "--balance-usd", "2500", "--start", "2026-03-01", "--json").json()
    assert [i["amount_usd"] for i in data["instalments"]] == ["1000", "1000", "500"]
    assert data["last_arrival"] == "2026-03-18"


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(cli: Run, command: str) -> None:
    r = cli(command, "--help")
    assert r.code == 0
    assert len(r.out) > 200
    assert "--json" in r.out or command in ("export",)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented_in_the_readme(command: str) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"liveworth {command}" in readme

"""The money on the command line (issue #19, items 3-4): what each gift is worth to whom, the
payout's take-home after agency and tax, the in-app packs' bonus coins, the unsettled withdrawal
minimum, and --channel on every command that shows money."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.economy.money import payout_plan, split_cents
from liveworth.economy.ratecard import load_rate_card

Run = Callable[..., Any]
#: Each channel's price as the rate card gives it: (USD, coins including any bonus).
PACKS = {"web": ("0.74", 70), "ios": ("0.99", 65), "android": ("0.99", 70),
         "ios-bonus": ("249.99", 23_000), "android-bonus": ("249.99", 23_000),
         "blended": ("0.0133", 1)}


def paid(coins: int, channel: str) -> str:
    """What viewers paid, computed here: coins × pack price / pack coins, to the millionth."""
    usd, per = PACKS[channel]
    value = (Decimal(coins) * Decimal(usd) / per).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)
    return format(value.normalize(), "f")


def test_gifts_say_what_each_gift_is_worth_to_the_creator_and_cost_the_viewer(cli: Run) -> None:
    lion = [g for g in cli("gifts", "--name", "Lion", "--json").json() if g["coins"] == 29_999]
    assert lion, "the Lion is in the official catalogue"
    g = lion[0]
    assert g["creator_usd"] == "149.995"  # 29,999 × 1 diamond × $0.01 × 0.50
    assert g["channel"] == "blended" and g["viewer_usd"] == paid(29_999, "blended")
    assert g["viewer_usd_by_channel"] == {c: paid(29_999, c) for c in PACKS}
    web = cli("gifts", "--name", "Lion", "--json", "--channel", "web").json()
    assert {x["viewer_usd"] for x in web if x["coins"] == 29_999} == {paid(29_999, "web")}
    scaled = cli("gifts", "--id", "5655", "--json", "--reward-rate", "0.2").json()[0]
    assert scaled["creator_usd"] == "0.002"
    r = cli("gifts", "--search", "lion", "--channel", "web")
    assert r.code == 0 and "$150.00" in r.out and "viewer paid (web)" in r.out
    assert "$317.13" in r.out  # 29,999 × 0.74 / 70 = 317.1322…
    r = cli("gifts", "--search", "lion", "--channel", "pigeon")
    assert r.code == 2 and "unknown coin channel 'pigeon'" in r.err


def test_payout_applies_the_agency_cut_and_the_tax_to_each_withdrawal(cli: Run) -> None:
    out = cli("payout", "--balance-usd", "2500.55", "--start", "2026-12-01", "--agency-cut",
              "0.2", "--tax-rate", "0.15", "--json").json()
    amounts = [Decimal(i["amount_usd"]) for i in out["instalments"]]
    assert amounts == [Decimal(1000), Decimal(1000), Decimal("500.55")]
    for i, amount in zip(out["instalments"], amounts, strict=True):
        agency = amount * Decimal("0.2")
        tax = (amount - agency) * Decimal("0.15")
        assert Decimal(i["agency_usd"]) == agency and Decimal(i["tax_usd"]) == tax
        assert Decimal(i["take_home_usd"]) == amount - agency - tax
    assert Decimal(out["take_home_usd"]) == Decimal("1700.374")
    text = cli("payout", "--balance-usd", "2500.55", "--start", "2026-12-01", "--agency-cut",
               "0.2", "--tax-rate", "0.15").out
    # each row as shown: amount = fee + agency + tax + take-home, to the cent
    for row in re.findall(r"│ 2026-12-0\d │([^\n]*)", text):
        cents = [Decimal(x.replace(",", "")) for x in re.findall(r"\$([\d,]+\.\d\d)", row)]
        assert cents[0] == sum(cents[1:5]), row
    assert "Take-home $1,700.37 of $2,500.55 withdrawn" in text
    plain = cli("payout", "--balance-usd", "2500", "--start", "2026-12-01", "--json").json()
    assert all(i["take_home_usd"] == i["net_usd"] for i in plain["instalments"])


def test_payout_refuses_a_reward_rate_that_cannot_apply(cli: Run) -> None:
    r = cli("payout", "--balance-usd", "250", "--reward-rate", "0.3")
    assert r.code == 2 and r.out == ""
    assert r.err.splitlines() == ["liveworth payout: error: --reward-rate does not apply: the "
                                  "balance is already what the creator received (--agency-cut "
                                  "and --tax-rate do)"]


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=0, max_value=50_000, places=2),
       st.decimals(min_value=0, max_value=1, places=3),
       st.decimals(min_value=0, max_value=1, places=3),
       st.decimals(min_value=0, max_value=5, places=2))
def test_a_withdrawal_splits_into_fee_agency_tax_and_take_home_exactly(
        balance: Decimal, agency: Decimal, tax: Decimal, fee: Decimal) -> None:
    """Exactly, and as shown in cents: the parts add up to the amount."""
    card = load_rate_card(None, {"agency_cut": agency, "tax_rate": tax,
                                 "withdrawal_fee_usd": fee, "min_withdrawal_usd": Decimal(1)})
    import datetime as dt

    plan = payout_plan(balance, card, dt.date(2026, 1, 1))
    for i in plan.instalments:
        assert i.fee_usd + i.agency_usd + i.tax_usd + i.take_home_usd == i.amount_usd
        assert i.take_home_usd >= 0 and i.agency_usd >= 0 and i.tax_usd >= 0
        assert sum(split_cents(i.fee_usd, i.agency_usd, i.tax_usd, i.take_home_usd)) == \
            i.amount_usd


def test_rates_show_the_bonus_packs_and_the_unsettled_minimum(cli: Run) -> None:
    out = cli("rates", "--json").json()
    channels = {c["name"]: c for c in out["channels"]}
    assert channels["ios-bonus"]["bonus_coins"] == 5_500
    assert channels["ios-bonus"]["usd_per_coin"] == "0.010869"  # 249.99 / 23,000
    assert channels["ios-bonus"]["confidence"] == "C" and channels["web"]["bonus_coins"] == 0
    minimum = next(p for p in out["parameters"] if p["name"] == "min_withdrawal_usd")
    assert minimum["confidence"] == "unsettled" and "2,000 diamonds" in minimum["help"]
    text = cli("rates").out
    assert "17,500 coins + 5,500 bonus = $249.99" in text and "unsettled" in text


def test_a_config_can_give_a_channel_bonus_coins_and_bad_ones_are_refused(
        tmp_path: Path, cli: Run) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[channels.mine]\npack_usd = "10"\npack_coins = 800\nbonus_coins = 200\n'
                   "source = 'me'\ndate = '2026'\nconfidence = 'assumption'\n", encoding="utf-8")
    e = cli("convert", "--coins", "1000", "--channel", "mine", "--config", str(cfg), "--json")
    assert e.code == 0, e.err
    assert e.json()["viewer_usd"] == "10"  # 800 + 200 coins for $10
    cfg.write_text('[channels.mine]\npack_usd = "10"\npack_coins = 800\nbonus_coins = -1\n',
                   encoding="utf-8")
    r = cli("convert", "--coins", "1000", "--config", str(cfg))
    assert r.code == 2 and "bonus_coins must be a whole number from 0" in r.err


def test_roster_rows_add_up_to_the_total_shown(tmp_path: Path, cli: Run) -> None:
    """Three creators of one coin each: $0.005 each, $0.015 in all. Each rounded alone would
    show $0.00 three times (half-even) under a total of $0.02; shown in cents they add up."""
    import json as _json

    from fastapi.testclient import TestClient

    from liveworth.web import create_app

    lines = []
    for i, host in enumerate(("ann", "bob", "cat")):
        room, ts = f"r{i}", 1_700_000_000_000 + i * 60_000
        lines += [{"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": ts,
                   "host_id": str(i), "host": host},
                  {"v": 1, "type": "gift", "room_id": room, "msg_id": "g", "ts": ts + 1000,
                   "user_id": "u", "user": "u", "nickname": "u", "gift_id": 5655,
                   "gift_name": "Rose", "coins": 1, "gift_type": 2, "repeat_count": 1,
                   "repeat_end": True, "group_id": "x"}]
    src = tmp_path / "three.jsonl"
    src.write_text("".join(_json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    db = str(tmp_path / "three.duckdb")
    assert cli("import", "--db", db, str(src)).code == 0
    out = cli("roster", "--db", db, "--as-of", "2023-11-30").out
    cells = [re.findall(r"\$(\d+\.\d\d)", line) for line in out.splitlines()
             if re.search(r"@(ann|bob|cat)|all 3", line)]
    rows, total = [Decimal(c[0]) for c in cells[:3]], Decimal(cells[3][0])
    assert sorted(rows) == [Decimal("0.00"), Decimal("0.01"), Decimal("0.01")]
    assert sum(rows) == total == Decimal("0.02")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        html = client.get("/roster?as_of=2023-11-30").text
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    shown = [Decimal(x) for x in re.findall(r"\$(\d+\.\d\d)</td>", body)]
    assert sum(shown[:3]) == shown[3] == Decimal("0.02")
    brief = cli("brief", "--db", db, "--date", "2023-11-15").out
    cells = [re.findall(r"\$(\d+\.\d\d)", line)[:1] for line in brief.splitlines()
             if re.search(r"@(ann|bob|cat)|\ball\b", line)]
    day = [Decimal(c[0]) for c in cells if c]
    assert sum(day[:3]) == day[3] == Decimal("0.02"), brief

"""Shown cents add up: wherever a split of money is shown, the parts shown sum to the whole shown
(issue #14, item 12). Exact values stay in JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.economy import money
from liveworth.economy.money import CENT, earnings
from liveworth.economy.ratecard import load_rate_card

from conftest import DUMPS, Result

Run = Callable[..., Result]
CARD = load_rate_card()
#: A real session (TikTokLiveJava's WebcastLog2 dump) of 5 coins: viewers paid $0.0665, the
#: creator receives $0.025 and TikTok kept $0.0415, once shown as $0.07 = $0.02 + $0.04.
REAL_DUMP = DUMPS / "WebcastLog2.json.gz"
REAL_ROOM = "7286144561733569288"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


decimals = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False,
                       allow_infinity=False)


@given(parts=st.lists(decimals, min_size=1, max_size=6))
def test_split_cents_adds_up_and_stays_within_a_cent(parts: list[Decimal]) -> None:
    shown = money.split_cents(*parts)
    assert len(shown) == len(parts)
    assert sum(shown, Decimal(0)) == _cents(sum(parts, Decimal(0)))
    assert shown[0] == _cents(parts[0])
    for exact, part in zip(parts, shown, strict=True):
        assert part == _cents(part) and part >= 0
        assert abs(part - exact) <= CENT


shares = st.decimals(min_value=0, max_value=1, places=4)


@st.composite
def rate_cards(draw: st.DrawFn) -> dict[str, object]:
    """Any valid card: its own rates and coin channels priced at or above the creator's share
    (a card under which TikTok would keep a negative amount is refused)."""
    dpc = draw(st.decimals(min_value=0, max_value=20, places=3))
    upd = draw(st.decimals(min_value=0, max_value="0.05", places=5))
    rate = draw(shares)
    pack_coins = draw(st.integers(1, 100_000))
    margin = draw(st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=1000,
                                                             places=2)))
    pack_usd = dpc * upd * rate * pack_coins + margin
    price = {"pack_usd": str(pack_usd if pack_usd > 0 else Decimal("0.01")),
             "pack_coins": pack_coins}
    return {
        "rates": {"diamonds_per_coin": str(dpc), "usd_per_diamond": str(upd),
                  "reward_rate": str(rate), "agency_cut": str(draw(shares)),
                  "tax_rate": str(draw(shares))},
        "channel": "mine",  # every channel at this price (each must be at or above the share)
        "channels": {name: price for name in (*CARD.channels, "mine")},
    }


@given(coins=st.integers(0, 10**12), config=rate_cards())
def test_shown_parts_sum_to_the_shown_whole_for_any_card(coins: int,
                                                          config: dict[str, object]) -> None:
    e = earnings(coins, load_rate_card(config=config))
    s = e.shown()
    assert s.viewer_usd == s.creator_usd + s.platform_usd
    assert s.creator_usd == s.take_home_usd + s.agency_usd + s.tax_usd
    # The whole, the creator's share and the take-home are shown as they round on their own.
    assert (s.viewer_usd, s.creator_usd, s.take_home_usd) == (
        _cents(e.viewer_usd), _cents(e.creator_usd), _cents(e.take_home_usd))
    for shown, exact in ((s.platform_usd, e.platform_usd), (s.agency_usd, e.agency_usd),
                         (s.tax_usd, e.tax_usd)):
        # Never negative, unless the exact part is (viewer_usd is rounded to a millionth and
        # may fall that much below an exact creator_usd of more places).
        assert abs(shown - exact) <= CENT and (shown >= 0 or exact < 0)


_ROW = re.compile(r"│ (viewers|creator|TikTok & stores|agency|tax) +│ ([^│]*?) +│ \$([0-9,.]+) +│")


def _table(out: str) -> dict[str, Decimal]:
    """The convert/report money table: 'whose money figure' → amount."""
    rows = {}
    for who, figure, amount in _ROW.findall(out):
        label = "take-home" if figure.startswith("take-home") else who
        rows[label] = Decimal(amount.replace(",", ""))
    return rows


def test_five_coins_convert_adds_up(cli: Run) -> None:
    r = cli("convert", "--coins", "5")
    assert r.code == 0, r.err
    rows = _table(r.out)
    assert rows["viewers"] == Decimal("0.07") and rows["creator"] == Decimal("0.02")
    assert rows["TikTok & stores"] == Decimal("0.05")
    exact = cli("convert", "--coins", "5", "--json").json()
    assert (exact["viewer_usd"], exact["creator_usd"], exact["platform_usd"]) == (
        "0.0665", "0.025", "0.0415")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(coins=st.integers(0, 10**9), channel=st.sampled_from(sorted(CARD.channels)),
       rate=shares, cut=shares, tax=shares)
def test_convert_table_adds_up_for_any_input(cli: Run, coins: int, channel: str,
                                             rate: Decimal, cut: Decimal, tax: Decimal) -> None:
    r = cli("convert", "--coins", str(coins), "--channel", channel, "--reward-rate", str(rate),
            "--agency-cut", str(cut), "--tax-rate", str(tax))
    assert r.code == 0, r.err
    rows = _table(r.out)
    assert rows["viewers"] == rows["creator"] + rows["TikTok & stores"]
    assert rows["creator"] == (rows["take-home"] + rows.get("agency", Decimal(0))
                               + rows.get("tax", Decimal(0)))


@pytest.fixture
def real_db(cli: Run, tmp_path: Path) -> str:
    db = str(tmp_path / "real.duckdb")
    r = cli("import", "--db", db, str(REAL_DUMP))
    assert r.code == 0, r.err
    return db


def test_the_real_session_report_adds_up(cli: Run, real_db: str, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    r = cli("report", REAL_ROOM, "--db", real_db, "--html", str(html))
    assert r.code == 0, r.err
    rows = _table(r.out)
    assert rows == {"viewers": Decimal("0.07"), "creator": Decimal("0.02"),
                    "TikTok & stores": Decimal("0.05")}, r.out
    assert "earned the creator $0.02" in r.out and "viewers paid $0.07" in r.out
    page = html.read_text(encoding="utf-8")
    cards = {label: value for value, label in
             re.findall(r"<div class='card'><b>\$([0-9.,]+)</b><span>([^<]*)</span>", page)}
    assert (cards["creator receives"], cards["TikTok &amp; stores kept"]) == ("0.02", "0.05")
    assert cards["viewers paid (blended coins)"] == "0.07"
    data = cli("report", REAL_ROOM, "--db", real_db, "--json").json()
    assert (data["viewer_usd"], data["creator_usd"], data["platform_usd"]) == (
        "0.0665", "0.025", "0.0415")


def test_the_real_session_web_page_adds_up(real_db: str) -> None:
    from liveworth.web import create_app
    from websupport import TestClient

    with TestClient(create_app(real_db), base_url="http://127.0.0.1") as api:
        page = api.get(f"/sessions/{REAL_ROOM}").text
    cards = {label: value for value, label in
             re.findall(r"<b[^>]*>\$([0-9.,]+)</b><span>([^<]*)</span>", page)}
    assert (cards["creator receives"], cards["TikTok &amp; stores kept"]) == ("0.02", "0.05")
    assert cards["viewers paid (blended coins)"] == "0.07"

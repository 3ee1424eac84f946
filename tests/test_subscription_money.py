"""LIVE subscription money: the creator's share by region and date from the rate card, and
reports that show subscriptions apart from gifts, the parts adding up to the total (issue #19,
item 2; the decoding and storing is tests/test_subscriptions.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.analysis.subscriptions import creator_total_shown
from liveworth.economy.money import split_cents
from liveworth.economy.subscriptions import (
    region_of,
    subscription_card,
    subscription_money,
    terms,
)
from liveworth.errors import UsageError

from conftest import DUMPS, Result

ROOM = "7301027923362859808"  # @asmr_kto's room in giftsCollector.json.gz (2023-11-13)
T_2025_11 = 1_762_000_000_000  # 2025-11-01 12:26:40 UTC: after the 2025-10-01 change
T_2025_09 = 1_758_000_000_000  # 2025-09-16: before it
_LINE = {"v": 1, "type": "subscribe", "room_id": "1", "ts": T_2025_11, "msg_id": "a",
         "user_id": "9", "user": "u9", "nickname": "N"}


def _jsonl(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# ---- the rate card's terms ----------------------------------------------------------------


@pytest.mark.parametrize(("region", "ts", "bonus", "share"), [
    ("US", T_2025_11, False, "0.70"), ("us", T_2025_11, True, "0.90"),
    ("CA", T_2025_11, False, "0.70"), ("GB", T_2025_11, False, "0.50"),
    ("other", T_2025_11, True, "0.70"), (None, T_2025_11, False, "0.50"),
    ("US", T_2025_09, False, "0.50"), ("US", T_2025_09, True, "0.50"),
    ("US", 1_600_000_000_000, False, "0.50"),  # 2020, before LIVE subscriptions: the first rule
])
def test_the_creators_share_by_region_and_date(region: str | None, ts: int, bonus: bool,
                                               share: str) -> None:
    assert terms(region, ts, bonus).creator_share == Decimal(share)


def test_a_bad_region_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--region: expected a two-letter country code"):
        region_of("USA")
    assert (region_of(None), region_of(" ca "), region_of("OTHER")) == ("other", "CA", "other")


def test_every_card_value_has_a_source_date_and_grade() -> None:
    card = subscription_card()
    assert card.price_usd == Decimal("4.99") and card.store_fee == Decimal("0.30")
    provs = [card.price_provenance, card.price_points_provenance, card.store_fee_provenance,
             *(r.provenance for r in card.rules)]
    assert all(p.source and p.date and p.confidence in {"A", "B", "C", "assumption"}
               for p in provs)
    assert Decimal("4.99") in card.price_points_usd


def test_money_splits_into_store_tiktok_and_creator() -> None:
    """$4.99 (estimated) + $9.99 (given): $14.98 paid, 30 % store fee, 70 % of the rest."""
    m = subscription_money([(None, 1), ("9.99", 1)], terms("US", T_2025_11))
    assert (m.count, m.estimated, m.viewer_usd, m.store_usd, m.creator_usd, m.tiktok_usd) == (
        2, 1, Decimal("14.98"), Decimal("4.494"), Decimal("7.3402"), Decimal("3.1458"))
    assert "estimated from the rate card's $4.99 price (1 of 2" in m.note


# ---- the report ---------------------------------------------------------------------------


def test_the_real_dump_reports_its_subscription_at_the_2023_terms(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    """2023-11-13 is before the US change: 50 % of $4.99 less 30 % = $1.7465, even with
    --region US and --sub-bonus (no bonus before 2025-10-01); the gift money is unchanged."""
    db = str(tmp_path / "r.duckdb")
    assert cli("import", str(DUMPS / "giftsCollector.json.gz"), "--db", db).code == 0
    plain = cli("report", ROOM, "--db", db, "--json").json()
    res = cli("report", ROOM, "--db", db, "--json", "--region", "US", "--sub-bonus")
    rep = res.json()
    subs = rep["subscriptions"]
    assert (subs["count"], subs["viewer_usd"], subs["creator_usd"], subs["estimated"],
            subs["region"], subs["date"]) == (1, "4.99", "1.7465", True, "US", "2023-11-13")
    assert rep["total_creator_usd"] == plain["total_creator_usd"]
    assert subs["total_creator_usd"] == str(Decimal(rep["total_creator_usd"]) +
                                            Decimal("1.7465"))
    text = " ".join(cli("report", ROOM, "--db", db).out.split())  # lines wrapped at 120
    assert "subscriptions: creator $1.75" in text
    assert "estimated from the rate card's $4.99 price" in text


def test_sessions_lists_subscriptions_apart(tmp_path: Path, cli: Callable[..., Result]) -> None:
    src = _jsonl(tmp_path / "s.jsonl",
                 {**_LINE, "type": "live_start", "msg_id": "0", "host_id": "1", "host": "h"},
                 {**_LINE, "months": 1, "price_usd": "9.99"},
                 {**_LINE, "msg_id": "b", "months": 5})
    db = str(tmp_path / "s.duckdb")
    assert cli("import", str(src), "--db", db).code == 0
    (row,) = cli("sessions", "--db", db, "--json", "--region", "CA").json()
    assert row["subscriptions"] == {"count": 2, "viewer_usd": "14.98", "creator_usd": "7.3402",
                                    "estimated": True, "total_creator_usd": "7.3402"}
    assert "2 · ~$7.34" in cli("sessions", "--db", db, "--region", "CA").out
    bad = cli("sessions", "--db", db, "--region", "U")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "--region" in bad.err


# ---- the parts add up to the total --------------------------------------------------------

_PRICE = st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000),
                                          places=2).map(str))


@settings(max_examples=200, deadline=None)
@given(gifts=st.decimals(min_value=Decimal(0), max_value=Decimal(10**6), places=6),
       subs=st.lists(st.tuples(_PRICE, st.integers(1, 50)), max_size=6),
       region=st.sampled_from(["US", "CA", "GB", "other"]),
       ts=st.integers(1_650_000_000_000, 1_800_000_000_000), bonus=st.booleans())
def test_subscription_and_gift_money_add_up_to_the_total(
        gifts: Decimal, subs: list[tuple[str | None, int]], region: str, ts: int,
        bonus: bool) -> None:
    m = subscription_money(subs, terms(region, ts, bonus))
    assert m.store_usd + m.tiktok_usd + m.creator_usd == m.viewer_usd
    assert min(m.store_usd, m.tiktok_usd, m.creator_usd) >= 0
    shown = creator_total_shown(gifts, m)
    assert shown[0] + shown[1] == shown[2] == split_cents(gifts + m.creator_usd)[0]
    assert m.count == sum(n for _, n in subs)
    assert m.estimated == sum(n for p, n in subs if p is None)


# ---- the HTML report and the web session page ---------------------------------------------


def _live_with_subs(tmp_path: Path, cli: Callable[..., Result]) -> str:
    gift = {**_LINE, "type": "gift", "msg_id": "g", "gift_id": 5655, "gift_name": "Rose",
            "coins": 1000, "gift_type": 4, "repeat_count": 1, "repeat_end": True,
            "group_id": "0"}
    src = _jsonl(tmp_path / "s.jsonl",
                 {**_LINE, "type": "live_start", "msg_id": "0", "host_id": "1", "host": "h"},
                 gift, {**_LINE, "months": 1, "price_usd": "9.99"}, {**_LINE, "msg_id": "b",
                                                                     "months": 5})
    db = str(tmp_path / "s.duckdb")
    assert cli("import", str(src), "--db", db).code == 0
    return db


def test_the_html_report_shows_subscriptions_apart(tmp_path: Path,
                                                   cli: Callable[..., Result]) -> None:
    """1,000 coins = $5 to the creator; $14.98 of subscriptions: $10.486 after the store,
    half of it $5.243 (region other); TikTok $5.243, the store $4.494 — shown $5.24 + $5.25 +
    $4.49 = $14.98 (running totals rounded to the cent: 5.24, 10.49, 14.98)."""
    db = _live_with_subs(tmp_path, cli)
    out = tmp_path / "r.html"
    assert cli("report", "1", "--db", db, "--html", str(out)).code == 0
    page = out.read_text(encoding="utf-8")
    assert "gifts: creator $5.00; subscriptions: creator $5.24 (2 paid $14.98; estimated from " \
           "the rate card&#x27;s $4.99 price (1 of 2" in page
    assert "; total $10.24</p>" in page
    for cells in ("<td>creator</td><td>receives</td><td class='n'>$5.24</td><td>5.243</td>",
                  "<td>TikTok</td><td>keeps</td><td class='n'>$5.25</td><td>5.243</td>",
                  "<td>app store</td><td>fee</td><td class='n'>$4.49</td><td>4.494</td>"):
        assert cells in page


def test_the_web_session_page_and_its_json_show_subscriptions(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    from liveworth.web import create_app
    from websupport import TestClient

    db = _live_with_subs(tmp_path, cli)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as web:
        subs = web.get("/api/sessions/1").json()["subscriptions"]
        page = web.get("/sessions/1").text
    assert (subs["count"], subs["viewer_usd"], subs["creator_usd"], subs["estimated"],
            subs["total_creator_usd"], subs["rule"]["from"]) == (
        2, "14.98", "5.243", True, "10.243", "2025-10-01")
    assert "gifts: creator $5.00; subscriptions: creator $5.24" in page
    assert '<td>creator</td><td>receives</td><td class="n">$5.24</td><td>5.243</td>' in page


def test_rates_shows_the_subscription_values_with_their_sources(
        cli: Callable[..., Result]) -> None:
    subs = cli("rates", "--json").json()["subscriptions"]
    assert (subs["price_usd"]["value"], subs["price_usd"]["confidence"],
            subs["store_fee"]["value"], subs["default_region"]) == ("4.99", "C", "0.3", "other")
    assert [(r["regions"], r["from"], r["share"], r["bonus"], r["confidence"])
            for r in subs["shares"]] == [(["CA", "US"], "2025-10-01", "0.7", "0.2", "B"),
                                         (["*"], "2025-10-01", "0.5", "0.2", "B"),
                                         (["*"], "2022-05-24", "0.5", "0", "assumption")]
    text = " ".join(cli("rates").out.split())
    assert "CA, US from 2025-10-01: creator 0.7 + up to 0.2 bonus" in text
    assert "everywhere else from 2025-10-01: creator 0.5 + up to 0.2 bonus" in text


def test_the_web_session_takes_the_region_and_the_bonus(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    """?region=US&sub_bonus=true: 90 % of $10.486 = $9.4374; a bad region is a 400."""
    from liveworth.web import create_app
    from websupport import TestClient

    db = _live_with_subs(tmp_path, cli)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as web:
        us = web.get("/api/sessions/1?region=us&sub_bonus=true").json()["subscriptions"]
        page = web.get("/sessions/1?region=US&sub_bonus=true").text
        bad = web.get("/api/sessions/1?region=USA")
        plain = web.get("/api/sessions/1").json()["subscriptions"]
    assert (us["region"], us["creator_usd"], us["bonus_eligible"]) == ("US", "9.4374", True)
    assert plain["creator_usd"] == "5.243"  # the cached report of other terms is not reused
    assert "subscriptions: creator $9.44" in page and "bonus included" in page
    assert bad.status_code == 400 and "--region" in bad.text

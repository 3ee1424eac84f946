"""The gift catalogue shipped in the package, checked against tests/data/gifts."""

from __future__ import annotations

import csv

from liveworth.economy.gifts import load_catalogue, price_tier

from conftest import DATA


def test_official_catalogue_is_tiktoks_164() -> None:
    cat = load_catalogue()
    assert len(cat) == 164
    with (DATA / "gifts" / "official_gifts_2023_2024.csv").open() as f:
        for row in csv.DictReader(f):
            g = cat.by_id(int(row["gift_id"]))
            assert g is not None
            assert g.coins == int(row["diamond_count"])
            assert g.name == row["name"]


def test_known_prices() -> None:
    cat = load_catalogue()
    assert cat.by_id(5655).coins == 1  # type: ignore[union-attr]  # Rose
    assert {g.coins for g in cat.by_name("lion")} == {29999}


def test_names_are_not_unique() -> None:
    hearts = load_catalogue().by_name("Heart")
    assert {(g.gift_id, g.coins) for g in hearts} == {(6247, 1), (5480, 10)}


def test_streakable_gifts_are_cheap() -> None:
    for g in load_catalogue().rows:
        if g.streakable:
            assert g.coins <= 99, g


def test_extended_prefers_the_official_row() -> None:
    ext = load_catalogue("extended")
    assert len(ext) == 1018
    assert ext.by_id(6671).coins == 199  # type: ignore[union-attr]
    assert ext.by_id(6671).tier == "A-official-api"  # type: ignore[union-attr]
    assert any(g.gift_id is None for g in ext.rows)


def test_price_tiers() -> None:
    assert [price_tier(c) for c in (1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 44999)] == [
        "1-9", "1-9", "10-99", "10-99", "100-999", "100-999", "1000-9999", "1000-9999",
        "10000+", "10000+",
    ]

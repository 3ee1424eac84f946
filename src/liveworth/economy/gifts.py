"""TikTok's gift catalogue: ids, names and coin prices, with where each row comes from.

Two catalogues ship with the package (see ``data/GIFTS_SOURCE.md``):

- ``official`` (default): the 164 gifts seen in TikTok's own gift-list API responses,
  2023-08…2024-01.
- ``extended``: 1,018 rows in three tiers of confidence (``A-official-api`` > ``B-scraped`` >
  ``C-community``); some rows have no id, some ids have conflicting rows.

Gifts are keyed by id. Names are not unique ("Heart" is 1 coin under one id and 10 under another),
so a name look-up returns every candidate. An event's own price always wins over this table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from liveworth.errors import UsageError

CATALOGUES = ("official", "extended")
TIER_ORDER = {"A-official-api": 0, "B-scraped": 1, "C-community": 2}

#: Price tiers used by reports: (label, lowest coin price, highest coin price or None).
PRICE_TIERS: tuple[tuple[str, int, int | None], ...] = (
    ("1-9", 1, 9),
    ("10-99", 10, 99),
    ("100-999", 100, 999),
    ("1000-9999", 1000, 9999),
    ("10000+", 10000, None),
)


def price_tier(coins: int) -> str:
    """The report's price-tier label of a gift costing ``coins`` per unit."""
    for label, low, high in PRICE_TIERS:
        if coins >= low and (high is None or coins <= high):
            return label
    return PRICE_TIERS[0][0]


@dataclass(frozen=True, slots=True)
class GiftInfo:
    gift_id: int | None
    name: str
    coins: int
    streakable: bool | None
    gift_type: int | None
    tier: str
    source: str
    first_seen: str = ""
    last_seen: str = ""
    notes: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "gift_id": self.gift_id,
            "name": self.name,
            "coins": self.coins,
            "streakable": self.streakable,
            "gift_type": self.gift_type,
            "tier": self.tier,
            "price_tier": price_tier(self.coins),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "source": self.source,
            "notes": self.notes,
        }


_OFFICIAL_SOURCE = (
    "TikTok /webcast/gift/list API responses 2023-08-04..2024-01-05 "
    "(via GitHub jwdeveloper/TikTokLiveJava, MIT)"
)


def _read(name: str) -> str:
    from importlib import resources  # here, not at import: it costs a fast start ~10 ms

    return resources.files("liveworth.economy").joinpath("data", name).read_text(encoding="utf-8")


def _official_rows() -> list[GiftInfo]:
    out = []
    for row in csv.DictReader(io.StringIO(_read("official_gifts_2023_2024.csv"))):
        gtype = int(row["type"])
        out.append(
            GiftInfo(
                gift_id=int(row["gift_id"]),
                name=row["name"],
                coins=int(row["diamond_count"]),
                streakable=gtype == 1,
                gift_type=gtype,
                tier="A-official-api",
                source=_OFFICIAL_SOURCE,
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
            )
        )
    return out


def _extended_rows() -> list[GiftInfo]:
    out = []
    for row in csv.DictReader(io.StringIO(_read("gifts_extended.csv"))):
        streak = {"true": True, "false": False}.get(row["streakable"])
        out.append(
            GiftInfo(
                gift_id=int(row["gift_id"]) if row["gift_id"] else None,
                name=row["name"],
                coins=int(row["coins"]),
                streakable=streak,
                gift_type=int(row["gift_type"]) if row["gift_type"] else None,
                tier=row["tier"],
                source=row["source"],
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
                notes=row["notes"],
            )
        )
    return out


class Catalogue:
    """An immutable gift catalogue with look-ups by id and by name."""

    def __init__(self, name: str, rows: Iterable[GiftInfo]) -> None:
        self.name = name
        self.rows: tuple[GiftInfo, ...] = tuple(
            sorted(rows, key=lambda g: (g.coins, g.gift_id or 0, TIER_ORDER.get(g.tier, 9)))
        )
        best: dict[int, GiftInfo] = {}
        for g in self.rows:
            if g.gift_id is None:
                continue
            cur = best.get(g.gift_id)
            if cur is None or TIER_ORDER.get(g.tier, 9) < TIER_ORDER.get(cur.tier, 9):
                best[g.gift_id] = g
        self._by_id = best

    def __len__(self) -> int:
        return len(self.rows)

    def by_id(self, gift_id: int) -> GiftInfo | None:
        """The most trusted row for ``gift_id``, or ``None``."""
        return self._by_id.get(gift_id)

    def by_name(self, name: str) -> list[GiftInfo]:
        """Every row whose name equals ``name`` (case-insensitive): names are not unique."""
        key = name.casefold()
        return [g for g in self.rows if g.name.casefold() == key]

    def search(
        self, text: str = "", *, min_coins: int = 0, max_coins: int | None = None
    ) -> list[GiftInfo]:
        """Rows whose name contains ``text`` (case-insensitive) within a price range."""
        key = text.casefold()
        return [
            g
            for g in self.rows
            if key in g.name.casefold()
            and g.coins >= min_coins
            and (max_coins is None or g.coins <= max_coins)
        ]

    def priced(self) -> Sequence[GiftInfo]:
        """Rows with an id and a positive price, one per id (the most trusted)."""
        return sorted(
            (g for g in self._by_id.values() if g.coins > 0), key=lambda g: (g.coins, g.gift_id)
        )


@cache
def load_catalogue(name: str = "official") -> Catalogue:
    """The bundled catalogue ``official`` (default) or ``extended``."""
    if name == "official":
        return Catalogue(name, _official_rows())
    if name == "extended":
        return Catalogue(name, _extended_rows())
    raise UsageError(f"unknown gift catalogue {name!r} (choose from {', '.join(CATALOGUES)})")

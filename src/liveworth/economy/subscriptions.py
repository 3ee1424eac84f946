"""LIVE subscriptions: what a viewer pays a month, and how it splits between the app store, TikTok
and the creator, by region and date.

The data are the ``[subscriptions]`` section of the bundled rate card (``data/ratecard.toml``,
every value with its source, date and grade; docs/RATES.md). For one subscription of price ``p``:

- the viewer pays ``p`` (the event's ``price_usd``, else the card's ``price_usd``: an estimate);
- the app store keeps ``p × store_fee``;
- the creator gets ``p × (1 − store_fee) × (share + bonus)``, where the share rule is the one in
  force on the LIVE's date (UTC) for the creator's region, and ``bonus`` counts only for a
  creator who says they are eligible (``--sub-bonus``; the default is not eligible);
- TikTok keeps the rest: ``p − store − creator``, so the three parts add up to ``p`` exactly.

Regions are two-letter country codes (``US``, ``CA``, ``GB``...) or ``other``; a region no rule
names uses the ``*`` rules. The default region is the card's ``default_region`` (``other``: the
50 % rule, the lower one; US and Canadian creators pass ``--region US``/``CA``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from liveworth.economy.money import fmt, split_cents, usd
from liveworth.economy.ratecard import Provenance, _bundled
from liveworth.errors import ConfigError, UsageError

#: A region as ``--region`` takes it: two letters, or ``other``.
_REGION = re.compile(r"[A-Za-z]{2}|other", re.IGNORECASE)
REGION_HELP = ("the creator's country for LIVE subscription shares: a two-letter code (US, CA, "
               "GB, ...) or 'other' (default: other, the 50 %% rule; US and CA get 70 %% from "
               "2025-10-01)")
BONUS_HELP = ("count the LIVE subscription bonus (up to 20 %%, for creators with >= 10k "
              "followers and >= 1 M video views last month; default: not eligible)")


@dataclass(frozen=True, slots=True)
class ShareRule:
    """The creator's share of subscription money after store fees, from ``start`` on, in
    ``regions`` (``*`` = every region), and the most the eligibility bonus adds."""

    regions: frozenset[str]
    start: dt.date
    share: Decimal
    bonus: Decimal
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class SubscriptionCard:
    """The ``[subscriptions]`` section of the rate card."""

    price_usd: Decimal
    price_provenance: Provenance
    price_points_usd: tuple[Decimal, ...]
    price_points_provenance: Provenance
    store_fee: Decimal
    store_fee_provenance: Provenance
    default_region: str
    rules: tuple[ShareRule, ...]

    def rule(self, region: str, day: dt.date) -> ShareRule:
        """The rule in force for ``region`` on ``day``: the latest that started on or before it
        and names the region, else a ``*`` one; before every rule, the earliest that applies."""
        fits = [r for r in self.rules if region in r.regions or "*" in r.regions]
        started = [r for r in fits if r.start <= day]
        if started:  # the latest; on the same date a rule naming the region over "*"
            return max(started, key=lambda r: (r.start, "*" not in r.regions))
        return min((r for r in fits if "*" in r.regions), key=lambda r: r.start)


def _dec(entry: Mapping[str, Any], key: str) -> Decimal:
    try:
        value = Decimal(str(entry[key]))
    except (KeyError, ArithmeticError):
        raise ConfigError(f"bundled rate card: subscriptions.{key} must be a decimal") from None
    if not value.is_finite() or not 0 <= value <= 1000:
        raise ConfigError(f"bundled rate card: subscriptions.{key} out of range: {value}")
    return value


def _prov(entry: Mapping[str, Any], prefix: str = "") -> Provenance:
    return Provenance(str(entry.get(f"{prefix}source", "")), str(entry.get(f"{prefix}date", "")),
                      str(entry.get(f"{prefix}confidence", "")))


@cache
def subscription_card() -> SubscriptionCard:
    """The bundled ``[subscriptions]`` section, read once."""
    raw = _bundled().get("subscriptions")
    if not isinstance(raw, dict):
        raise ConfigError("bundled rate card: no [subscriptions] section")
    rules = []
    for entry in raw.get("shares", []):
        share, bonus = _dec(entry, "share"), _dec(entry, "bonus")
        if share + bonus > 1:
            raise ConfigError(f"bundled rate card: a subscription share of {share} + {bonus} "
                              "is more than the whole")
        rules.append(ShareRule(frozenset(str(r).upper() if r != "*" else "*"
                                         for r in entry["regions"]),
                               dt.date.fromisoformat(str(entry["from"])), share, bonus,
                               _prov(entry)))
    if not any("*" in r.regions for r in rules):
        raise ConfigError("bundled rate card: subscriptions.shares needs a rule for '*'")
    return SubscriptionCard(
        price_usd=_dec(raw, "price_usd"), price_provenance=_prov(raw, "price_"),
        price_points_usd=tuple(Decimal(str(p)) for p in raw.get("price_points_usd", [])),
        price_points_provenance=_prov(raw, "price_points_"),
        store_fee=_dec(raw, "store_fee"), store_fee_provenance=_prov(raw, "store_fee_"),
        default_region=region_of(str(raw.get("default_region", "other"))), rules=tuple(rules))


def region_of(text: str | None) -> str:
    """``--region`` checked and normalised: ``US``, ``CA``... or ``other``; ``None`` is the
    card's default region. Anything else is a :class:`UsageError` naming it."""
    if text is None:
        return subscription_card().default_region
    value = text.strip()
    if not _REGION.fullmatch(value):
        raise UsageError(f"--region: expected a two-letter country code (US, CA, ...) or "
                         f"'other', got {value[:40]!r}")
    return "other" if value.lower() == "other" else value.upper()


@dataclass(frozen=True, slots=True)
class Terms:
    """The split in force for one LIVE: region, date, the rule and whether the bonus counts."""

    region: str
    day: dt.date
    rule: ShareRule
    bonus_eligible: bool
    store_fee: Decimal

    @property
    def creator_share(self) -> Decimal:
        """The creator's share of the price after store fees (the bonus included if eligible)."""
        return self.rule.share + (self.rule.bonus if self.bonus_eligible else Decimal(0))


def terms(region: str | None, ts_ms: int, bonus_eligible: bool = False,
          card: SubscriptionCard | None = None) -> Terms:
    """The terms for a LIVE of ``region`` that started at ``ts_ms`` (its UTC date decides)."""
    card = card or subscription_card()
    reg = region_of(region)
    day = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).date()
    return Terms(reg, day, card.rule(reg, day), bonus_eligible, card.store_fee)


@dataclass(frozen=True, slots=True)
class SubscriptionMoney:
    """A LIVE's subscriptions: how many, what viewers paid and whose money it became.

    ``viewer_usd = store_usd + tiktok_usd + creator_usd`` exactly. ``estimated`` counts the
    subscriptions priced at the card's ``price_usd`` because their event carries no price.
    """

    count: int
    estimated: int
    viewer_usd: Decimal
    store_usd: Decimal
    tiktok_usd: Decimal
    creator_usd: Decimal
    card_price_usd: Decimal
    terms: Terms

    @property
    def note(self) -> str:
        """What the figure rests on, for people: the estimate, the share and its rule."""
        t = self.terms
        parts = []
        if self.estimated:
            every = "all" if self.estimated == self.count else f"{self.estimated} of {self.count}"
            parts.append(f"estimated from the rate card's ${self.card_price_usd} price "
                         f"({every}: TikTok's message carries no price)")
        share = f"{fmt(t.creator_share * 100)} % after a {fmt(t.store_fee * 100)} % store fee"
        bonus = "bonus included" if t.bonus_eligible else \
            f"without the up to {fmt(t.rule.bonus * 100)} % bonus (--sub-bonus)" \
            if t.rule.bonus else "no bonus"
        parts.append(f"creator {share}, region {t.region}, {bonus}")
        return "; ".join(parts)

    def split_shown(self) -> tuple[Decimal, Decimal, Decimal]:
        """(creator, TikTok, store) as shown in cents, adding up to the viewers' total shown."""
        creator, tiktok, store = split_cents(self.creator_usd, self.tiktok_usd, self.store_usd)
        return creator, tiktok, store

    def with_gifts(self, gifts_usd: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """(gifts, subscriptions, total) creator USD as shown in cents: gifts + subscriptions =
        total, exactly (:func:`liveworth.economy.money.split_cents`)."""
        gifts, subscriptions = split_cents(gifts_usd, self.creator_usd)
        return gifts, subscriptions, gifts + subscriptions

    def line(self, gifts_usd: Decimal) -> str:
        """"gifts: creator $X; subscriptions: creator $Y (...); total $X+Y", for people."""
        gifts, subscriptions, total = self.with_gifts(gifts_usd)
        if not self.count:
            return f"gifts: creator {usd(gifts)}; subscriptions: none; total {usd(total)}"
        return (f"gifts: creator {usd(gifts)}; subscriptions: creator {usd(subscriptions)} "
                f"({self.count} paid {usd(self.viewer_usd)}; {self.note}); total {usd(total)}")

    def as_dict(self) -> dict[str, Any]:
        t = self.terms
        return {"count": self.count, "estimated": self.estimated > 0,
                "estimated_count": self.estimated, "viewer_usd": fmt(self.viewer_usd),
                "store_usd": fmt(self.store_usd), "tiktok_usd": fmt(self.tiktok_usd),
                "creator_usd": fmt(self.creator_usd),
                "card_price_usd": fmt(self.card_price_usd), "region": t.region,
                "date": t.day.isoformat(), "creator_share": fmt(t.creator_share),
                "store_fee": fmt(t.store_fee), "bonus_eligible": t.bonus_eligible,
                "rule": {"regions": sorted(t.rule.regions), "from": t.rule.start.isoformat(),
                         "share": fmt(t.rule.share), "bonus": fmt(t.rule.bonus),
                         "source": t.rule.provenance.source, "date": t.rule.provenance.date,
                         "confidence": t.rule.provenance.confidence},
                "note": self.note}


def subscription_money(prices: Iterable[tuple[str | None, int]], terms_: Terms,
                       card: SubscriptionCard | None = None) -> SubscriptionMoney:
    """The money of subscriptions given as ``(price_usd or None, how many)`` under ``terms_``."""
    card = card or subscription_card()
    count = estimated = 0
    viewer = Decimal(0)
    for price, n in prices:
        count += n
        if price is None:
            estimated += n
        viewer += (card.price_usd if price is None else Decimal(price)) * n
    store = viewer * terms_.store_fee
    creator = (viewer - store) * terms_.creator_share
    return SubscriptionMoney(count, estimated, viewer, store, viewer - store - creator, creator,
                             card.price_usd, terms_)


def no_subscriptions(terms_: Terms) -> SubscriptionMoney:
    """A LIVE without subscriptions under ``terms_``."""
    return subscription_money((), terms_)


def price_points(card: SubscriptionCard | None = None) -> Sequence[Decimal]:
    """The US monthly price points the card lists (an assumption: see its grade)."""
    return (card or subscription_card()).price_points_usd


def card_as_dict(card: SubscriptionCard | None = None) -> dict[str, Any]:
    """The ``[subscriptions]`` section as JSON-ready data (``liveworth rates --json``), every value
    with its source, date and grade."""
    card = card or subscription_card()

    def prov(p: Provenance) -> dict[str, str]:
        return {"source": p.source, "date": p.date, "confidence": p.confidence}

    return {
        "price_usd": {"value": fmt(card.price_usd), **prov(card.price_provenance)},
        "price_points_usd": {"value": [fmt(p) for p in card.price_points_usd],
                             **prov(card.price_points_provenance)},
        "store_fee": {"value": fmt(card.store_fee), **prov(card.store_fee_provenance)},
        "default_region": card.default_region,
        "shares": [{"regions": sorted(r.regions), "from": r.start.isoformat(),
                    "share": fmt(r.share), "bonus": fmt(r.bonus), **prov(r.provenance)}
                   for r in card.rules],
    }

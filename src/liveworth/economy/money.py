"""Money: coins → diamonds → cash, exactly, and whose money each figure is.

Coins are integers. Money is :class:`decimal.Decimal`, never float. For ``coins`` gifted::

    diamonds     = coins × diamonds_per_coin
    creator_usd  = diamonds × usd_per_diamond × reward_rate        what the creator receives
    viewer_usd   = coins × pack_usd / (pack_coins + bonus_coins)  (of the channel) what viewers paid
    platform_usd = viewer_usd − creator_usd                        what TikTok and the stores kept
    agency_usd   = creator_usd × agency_cut
    tax_usd      = (creator_usd − agency_usd) × tax_rate
    take_home    = creator_usd − agency_usd − tax_usd              what the creator keeps

``creator_usd`` is exact for decimal parameters. A channel price such as 70 coins for $0.74 does
not divide evenly, so ``viewer_usd`` is rounded half-even to a millionth of a dollar
(:data:`VIEWER_QUANTUM`); ``platform_usd`` is then defined as the difference, so
``viewer_usd == creator_usd + platform_usd`` holds exactly for every input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext

from liveworth.economy.numbers import count
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError

VIEWER_QUANTUM = Decimal("0.000001")
CENT = Decimal("0.01")
#: The largest amounts the CLI takes: coins gifted, and dollars (a balance, a viewer's spend).
#: Far above any real figure; the exact arithmetic below stays exact well beyond them.
MAX_COINS = 10**15
MAX_USD = Decimal(10**13)
#: A payout plan lists at most this many daily withdrawals (ten years).
MAX_INSTALMENTS = 3660
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)


def fmt(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros: ``"149.995"``, ``"100"``."""
    if value == 0:
        return "0"
    text = format(value.normalize(_CONTEXT), "f")
    return text


def usd(value: Decimal) -> str:
    """A dollar amount for people: ``$1,234.57`` (rounded half-even to the cent)."""
    return f"${_cents(value):,}"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


def split_cents(*parts: Decimal) -> tuple[Decimal, ...]:
    """The parts of a whole as shown in cents, so that the parts shown add up to the whole shown.

    The one rounding rule for every split on screen (viewers = creator + TikTok, creator =
    take-home + agency + tax): each running total is rounded half-even to the cent, as
    :func:`usd` rounds, and each part is shown as the difference of two rounded running totals.
    So the shown parts sum to the whole rounded on its own, the first part is itself rounded on
    its own, and every part shown is within a cent of its exact value (and not negative when the
    part is not). Only the exact values (``--json``) are exact.
    """
    shown: list[Decimal] = []
    before = total = Decimal(0)
    for part in parts:
        total += part
        rounded = _cents(total)
        shown.append(rounded - before)
        before = rounded
    return tuple(shown)


@dataclass(frozen=True, slots=True)
class Shown:
    """An :class:`Earnings` as shown in cents: ``viewer = creator + platform`` and
    ``creator = take_home + agency + tax`` hold exactly (:func:`split_cents`)."""

    viewer_usd: Decimal
    creator_usd: Decimal
    platform_usd: Decimal
    agency_usd: Decimal
    tax_usd: Decimal
    take_home_usd: Decimal


@dataclass(frozen=True, slots=True)
class Earnings:
    """What ``coins`` of gifts are worth, to whom, under one rate card and coin channel."""

    coins: int
    diamonds: Decimal
    channel: str
    viewer_usd: Decimal
    creator_usd: Decimal
    platform_usd: Decimal
    agency_usd: Decimal
    tax_usd: Decimal
    take_home_usd: Decimal
    reward_rate: Decimal
    rate_card: str

    def shown(self) -> Shown:
        """The figures in cents as every renderer shows them: the parts add up to the whole."""
        creator, platform = split_cents(self.creator_usd, self.platform_usd)
        take_home, agency, tax = split_cents(self.take_home_usd, self.agency_usd, self.tax_usd)
        return Shown(viewer_usd=creator + platform, creator_usd=creator, platform_usd=platform,
                     agency_usd=agency, tax_usd=tax, take_home_usd=take_home)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: integers stay integers, money becomes decimal strings."""
        return {
            "coins": self.coins,
            "diamonds": fmt(self.diamonds),
            "channel": self.channel,
            "viewer_usd": fmt(self.viewer_usd),
            "creator_usd": fmt(self.creator_usd),
            "platform_usd": fmt(self.platform_usd),
            "agency_usd": fmt(self.agency_usd),
            "tax_usd": fmt(self.tax_usd),
            "take_home_usd": fmt(self.take_home_usd),
            "reward_rate": fmt(self.reward_rate),
            "rate_card": self.rate_card,
        }


def _check_coins(coins: int) -> None:
    if isinstance(coins, bool) or not isinstance(coins, int):
        raise UsageError(f"coins must be a whole number, got {coins!r}")
    if coins < 0:
        raise UsageError(f"coins must not be negative, got {coins}")


def viewer_usd(coins: int, card: RateCard, channel: str | None = None) -> Decimal:
    """What viewers paid for ``coins`` on the coin channel (rounded to a millionth)."""
    _check_coins(coins)
    ch = card.channel(channel)
    with localcontext(_CONTEXT):
        return (Decimal(coins) * ch.pack_usd / ch.coins_received).quantize(VIEWER_QUANTUM)


def creator_usd(coins: int, card: RateCard) -> Decimal:
    """What the creator receives for ``coins`` gifted (exact)."""
    _check_coins(coins)
    with localcontext(_CONTEXT):
        return Decimal(coins) * card.diamonds_per_coin * card.usd_per_diamond * card.reward_rate


def earnings(coins: int, card: RateCard, channel: str | None = None) -> Earnings:
    """Every figure for ``coins`` gifted, labelled by whose money it is."""
    _check_coins(coins)
    ch = card.channel(channel)
    with localcontext(_CONTEXT):
        diamonds = Decimal(coins) * card.diamonds_per_coin
        creator = creator_usd(coins, card)
        viewer = viewer_usd(coins, card, ch.name)
        agency = creator * card.agency_cut
        tax = (creator - agency) * card.tax_rate
        return Earnings(
            coins=coins,
            diamonds=diamonds,
            channel=ch.name,
            viewer_usd=viewer,
            creator_usd=creator,
            platform_usd=viewer - creator,
            agency_usd=agency,
            tax_usd=tax,
            take_home_usd=creator - agency - tax,
            reward_rate=card.reward_rate,
            rate_card=card.name,
        )


def coins_from_diamonds(diamonds: Decimal | int, card: RateCard) -> int:
    """The coins of gifts that credit ``diamonds`` (must divide evenly)."""
    value = Decimal(diamonds)
    if value < 0:
        raise UsageError(f"diamonds must not be negative, got {diamonds}")
    if card.diamonds_per_coin == 0:
        raise UsageError("diamonds_per_coin is 0: diamonds cannot be turned back into coins")
    with localcontext(_CONTEXT):
        coins = value / card.diamonds_per_coin
    if coins != coins.to_integral_value():
        raise UsageError(
            f"{diamonds} diamonds is not a whole number of coins at "
            f"{fmt(card.diamonds_per_coin)} diamonds per coin"
        )
    if coins > MAX_COINS:
        raise UsageError(f"{diamonds} diamonds is more than {MAX_COINS:,} coins")
    return int(coins)


def coins_for_usd(amount: Decimal, card: RateCard, channel: str | None = None) -> int:
    """The most coins a viewer gets for ``amount`` dollars on the channel.

    Defined as the largest ``c`` with ``viewer_usd(c) <= amount``, so that
    ``coins_for_usd(viewer_usd(c)) == c`` for every ``c``.
    """
    if not amount.is_finite() or not 0 <= amount <= MAX_USD:
        raise UsageError(f"amount must lie between 0 and {fmt(MAX_USD)} dollars, got {amount}")
    ch = card.channel(channel)
    with localcontext(_CONTEXT):
        # viewer_usd(c) <= amount  ⟺  c × price rounds to at most the amount floored to the
        # quantum  ⟺  c × price < that + half a quantum (the tie resolved by the checks below).
        floor = amount.quantize(VIEWER_QUANTUM, rounding=ROUND_FLOOR)
        bound = (floor + VIEWER_QUANTUM / 2) * ch.coins_received / ch.pack_usd
        guess = int(bound.to_integral_value(ROUND_FLOOR))
    while guess > 0 and viewer_usd(guess, card, ch.name) > amount:
        guess -= 1
    while viewer_usd(guess + 1, card, ch.name) <= amount:
        guess += 1
    return guess


@dataclass(frozen=True, slots=True)
class Instalment:
    """One withdrawal: its amount, TikTok's fee, and — from what arrives — the agency's cut and
    the tax (the rate card's ``agency_cut`` and ``tax_rate``), leaving the take-home."""

    requested: dt.date
    amount_usd: Decimal
    fee_usd: Decimal
    arrives_by: dt.date
    agency_usd: Decimal = Decimal(0)
    tax_usd: Decimal = Decimal(0)

    @property
    def take_home_usd(self) -> Decimal:
        return self.amount_usd - self.fee_usd - self.agency_usd - self.tax_usd

    def as_dict(self) -> dict[str, object]:
        return {
            "requested": self.requested.isoformat(),
            "amount_usd": fmt(self.amount_usd),
            "fee_usd": fmt(self.fee_usd),
            "net_usd": fmt(self.amount_usd - self.fee_usd),
            "agency_usd": fmt(self.agency_usd),
            "tax_usd": fmt(self.tax_usd),
            "take_home_usd": fmt(self.take_home_usd),
            "arrives_by": self.arrives_by.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PayoutPlan:
    """How a balance becomes cash: daily withdrawals within TikTok's limits."""

    balance_usd: Decimal
    instalments: tuple[Instalment, ...]
    left_in_balance_usd: Decimal
    note: str

    @property
    def withdrawn_usd(self) -> Decimal:
        return sum((i.amount_usd for i in self.instalments), Decimal(0))

    @property
    def take_home_usd(self) -> Decimal:
        return sum((i.take_home_usd for i in self.instalments), Decimal(0))

    @property
    def last_arrival(self) -> dt.date | None:
        return self.instalments[-1].arrives_by if self.instalments else None

    def as_dict(self) -> dict[str, object]:
        return {
            "balance_usd": fmt(self.balance_usd),
            "withdrawn_usd": fmt(self.withdrawn_usd),
            "take_home_usd": fmt(self.take_home_usd),
            "left_in_balance_usd": fmt(self.left_in_balance_usd),
            "instalments": [i.as_dict() for i in self.instalments],
            "last_arrival": self.last_arrival.isoformat() if self.last_arrival else None,
            "note": self.note,
        }


def _check_plan_size(balance: Decimal, card: RateCard, start: dt.date) -> None:
    """Refuse, before planning, a plan of more than MAX_INSTALMENTS days or past year 9999."""
    high = card.max_withdrawal_per_day_usd
    days = int((balance / high).to_integral_value(ROUND_CEILING))  # the split keeps this count
    if days > MAX_INSTALMENTS:
        raise UsageError(
            f"a balance of {usd(balance)} takes {days:,} daily withdrawals of at "
            f"most {usd(high)}; a plan covers at most {MAX_INSTALMENTS:,} (ten years)"
        )
    if (dt.date.max - start).days < days + card.payout_processing_days:
        raise UsageError(f"start date {start.isoformat()} is too late: the plan would end "
                         "after the year 9999")


def _instalment(day: dt.date, amount: Decimal, card: RateCard,
                processing: dt.timedelta) -> Instalment:
    """A withdrawal of ``amount`` on ``day``: what arrives after TikTok's fee, then the agency's
    cut of it and the tax on the rest (as :func:`earnings` takes them), exactly."""
    fee = min(card.withdrawal_fee_usd, amount)
    with localcontext(_CONTEXT):
        agency = (amount - fee) * card.agency_cut
        tax = (amount - fee - agency) * card.tax_rate
    return Instalment(day, amount, fee, day + processing, agency, tax)


def payout_plan(balance_usd: Decimal, card: RateCard, start: dt.date) -> PayoutPlan:
    """Withdraw ``balance_usd`` as fast as the rules allow, starting on ``start``.

    One withdrawal per calendar day of at most ``max_withdrawal_per_day_usd``, each at least
    ``min_withdrawal_usd``; each arrives within ``payout_processing_days``. When the last day's
    remainder would fall below the minimum, the day before withdraws less so that nothing is
    stranded; a balance below the minimum stays in the wallet.
    """
    if not balance_usd.is_finite() or not 0 <= balance_usd <= MAX_USD:
        raise UsageError(
            f"balance must lie between 0 and {fmt(MAX_USD)} dollars, got {balance_usd}"
        )
    low, high = card.min_withdrawal_usd, card.max_withdrawal_per_day_usd
    if high < CENT:
        raise UsageError("max_withdrawal_per_day_usd must be at least a cent")
    balance = balance_usd.quantize(CENT, rounding=ROUND_FLOOR)
    if balance >= max(low, CENT):
        _check_plan_size(balance, card, start)
    amounts: list[Decimal] = []
    remaining = balance
    while remaining >= max(low, CENT):
        take = min(high, remaining)
        rest = remaining - take
        if Decimal(0) < rest < low and take - (low - rest) >= low:
            take -= low - rest
        amounts.append(take)
        remaining -= take
    days = dt.timedelta(days=card.payout_processing_days)
    instalments = tuple(
        _instalment(start + dt.timedelta(days=i), a, card, days) for i, a in enumerate(amounts))
    left = balance_usd - sum(amounts, Decimal(0))
    if not amounts:
        note = f"below the minimum withdrawal of {usd(low)}: nothing can be withdrawn yet"
    else:
        note = (
            f"{count(len(amounts), 'withdrawal')} of at most {usd(high)} a day; each arrives "
            f"within {count(card.payout_processing_days, 'day')}"
        )
        if left > 0:
            note += f"; {usd(left)} stays in the wallet"
    return PayoutPlan(balance_usd, instalments, left, note)

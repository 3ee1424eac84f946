"""The money commands: ``rates``, ``convert``, ``gifts`` and ``payout`` (no database)."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_json,
    card_from_args,
    date_value,
    diamonds_amount,
    print_json,
    usd_amount,
    whole_number,
)
from liveworth.economy.gifts import CATALOGUES, GiftInfo, load_catalogue
from liveworth.economy.money import (
    coins_for_usd,
    coins_from_diamonds,
    earnings,
    fmt,
    payout_plan,
    split_cents,
    usd,
    viewer_usd,
)
from liveworth.economy.numbers import count
from liveworth.economy.ratecard import PARAMETERS, RateCard, preset_help
from liveworth.economy.subscriptions import card_as_dict as subscription_rates
from liveworth.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

def cmd_rates(args: argparse.Namespace, console: Console) -> int:
    card = card_from_args(args)
    params = [
        {
            "name": k,
            "value": fmt(v) if isinstance(v := card.value(k), Decimal) else v,
            "unit": card.units.get(k, ""),
            "help": card.helps.get(k, ""),
            "source": card.provenance[k].source,
            "date": card.provenance[k].date,
            "confidence": card.provenance[k].confidence,
            "set_by": card.provenance[k].set_by,
        }
        for k in PARAMETERS
    ]
    channels = [
        {
            "name": ch.name,
            "pack_usd": fmt(ch.pack_usd),
            "pack_coins": ch.pack_coins,
            "bonus_coins": ch.bonus_coins,
            "usd_per_coin": fmt(ch.usd_per_coin.quantize(Decimal("0.000001"))),
            "default": ch.name == card.default_channel,
            "help": ch.help,
            "source": ch.provenance.source,
            "date": ch.provenance.date,
            "confidence": ch.provenance.confidence,
        }
        for ch in card.channels.values()
    ]
    rng = card.reward_rate_range
    out = {
        "rate_card": card.name,
        "preset": card.preset,
        "version": card.version,
        "presets": preset_help(),
        "reward_rate_range": [fmt(rng[0]), fmt(rng[1])] if rng else None,
        "parameters": params,
        "channels": channels,
        "subscriptions": subscription_rates(),
    }
    if args.json:
        print_json(console, out)
        return 0
    console.print(f"[bold]Rate card[/bold] {card.name}")
    for p in params:
        set_by = "" if p["set_by"] == "rate card" else f"  \\[set by {p['set_by']}]"
        console.print(f"  [bold]{p['name']}[/bold] = {p['value']} {p['unit']}{set_by}")
        console.print(f"      {p['source']} ({p['date']}, confidence {p['confidence']})")
        if p["confidence"] == "unsettled":
            console.print(f"      [bold]unsettled[/bold]: {p['help']}")
    console.print("[bold]Coin channels[/bold] (what viewers pay)")
    for c, ch in zip(channels, card.channels.values(), strict=True):
        mark = " (default)" if c["default"] else ""
        bonus = f" + {ch.bonus_coins:,} bonus" if ch.bonus_coins else ""
        console.print(f"  [bold]{c['name']}[/bold]{mark}: {count(ch.pack_coins, 'coin')}{bonus} "
                      f"= ${c['pack_usd']} (${c['usd_per_coin']} per coin)")
        console.print(f"      {c['source']} ({c['date']}, confidence {c['confidence']})")
    print_range_and_subscriptions(console, rng, subscription_rates())
    return 0


def print_range_and_subscriptions(console: Console, rng: tuple[Decimal, Decimal] | None,
                                  subs: dict[str, Any]) -> None:
    """The preset's reward rate range, then the rate card's LIVE subscriptions: the price, the
    store fee, the shares by region."""
    if rng:
        console.print(f"reward rate range under this preset: {fmt(rng[0])}-{fmt(rng[1])}")
    console.print("[bold]LIVE subscriptions[/bold] (docs/RATES.md; `report --region CC "
                  "--sub-bonus`)")
    for key, label in (("price_usd", "price when an event has none, USD a month"),
                       ("store_fee", "store fee before the share")):
        v = subs[key]
        console.print(f"  {label}: {v['value']}  ({v['source']}; {v['date']}, confidence "
                      f"{v['confidence']})")
    for r in subs["shares"]:
        where = ", ".join(r["regions"]).replace("*", "everywhere else")
        console.print(f"  {where} from {r['from']}: creator {r['share']} "
                      f"+ up to {r['bonus']} bonus  ({r['source']}; {r['date']}, confidence "
                      f"{r['confidence']})")


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    card = card_from_args(args)
    if args.usd is not None:
        coins = coins_for_usd(args.usd, card, args.channel)
    elif args.diamonds is not None:
        coins = coins_from_diamonds(args.diamonds, card)
    else:
        coins = args.coins
    e = earnings(coins, card, args.channel)
    out = e.as_dict()
    if args.usd is not None:
        out["input_usd"] = fmt(args.usd)
    if args.json:
        print_json(console, out)
        return 0
    if args.usd is not None:
        console.print(f"{usd(args.usd)} buys [bold]{coins:,}[/bold] coins on the {e.channel} "
                      "channel.")
    s = e.shown()  # in cents, the parts adding up to the whole
    t = Table("whose money", "figure", "amount", title=f"{count(coins, 'coin')} gifted "
              f"({count(e.diamonds, 'diamond')})", title_justify="left")
    t.add_row("viewers", "paid for the coins", usd(s.viewer_usd))
    t.add_row("creator", f"receives at a {fmt(e.reward_rate * 100)} % reward rate",
              usd(s.creator_usd))
    t.add_row("TikTok & stores", "kept", usd(s.platform_usd))
    if e.agency_usd:
        t.add_row("agency", "cut", usd(s.agency_usd))
    if e.tax_usd:
        t.add_row("tax", "withheld", usd(s.tax_usd))
    t.add_row("creator", "take-home", usd(s.take_home_usd))
    console.print(t)
    console.print(f"exact: creator_usd={fmt(e.creator_usd)} viewer_usd={fmt(e.viewer_usd)}; "
                  f"channel {e.channel}; rate card {e.rate_card}")
    return 0


def cmd_gifts(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    card = card_from_args(args)
    channel = card.channel(args.channel).name
    cat = load_catalogue(args.catalogue)
    if args.id is not None:
        found = cat.by_id(args.id)
        rows = [found] if found else []
    elif args.name is not None:
        rows = cat.by_name(args.name)
    else:
        rows = cat.search(args.search or "", min_coins=args.min_coins, max_coins=args.max_coins)
    if args.json:
        print_json(console, [_gift_worth(g, card, channel) for g in rows])
        return 0
    t = Table("id", "name", "coins", "creator receives", f"viewer paid ({channel})",
              "streakable", "tier", title=f"{count(len(rows), 'gift')}, {cat.name} catalogue; "
              f"money per gift sent once, rate card {card.name}", title_justify="left")
    for g in rows:
        streak = {True: "yes", False: "no", None: "?"}[g.streakable]
        e = earnings(g.coins, card, channel)
        t.add_row(str(g.gift_id or "-"), g.name or "(no name)", f"{g.coins:,}",
                  usd(e.creator_usd), usd(e.viewer_usd), streak, g.tier)
    console.print(t)
    if not rows:
        console.print("no gift matches")
    return 0


def _gift_worth(g: GiftInfo, card: RateCard, channel: str) -> dict[str, object]:
    """A gift with what it is worth: to the creator, and what it cost the viewer on each coin
    channel (exact decimal strings)."""
    e = earnings(g.coins, card, channel)
    return {**g.as_dict(), "creator_usd": fmt(e.creator_usd), "viewer_usd": fmt(e.viewer_usd),
            "channel": channel, "rate_card": card.name,
            "viewer_usd_by_channel": {name: fmt(viewer_usd(g.coins, card, name))
                                      for name in card.channels}}


def cmd_payout(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    if args.reward_rate is not None:
        raise UsageError("--reward-rate does not apply: the balance is already what the "
                         "creator received (--agency-cut and --tax-rate do)")
    card = card_from_args(args)
    plan = payout_plan(args.balance_usd, card, args.start or dt.date.today())
    if args.json:
        print_json(console, {**plan.as_dict(), "rate_card": card.name,
                             "agency_cut": fmt(card.agency_cut), "tax_rate": fmt(card.tax_rate)})
        return 0
    console.print(f"Balance {usd(plan.balance_usd)}: {plan.note}.")
    if not plan.instalments:
        return 0
    cuts = bool(card.agency_cut or card.tax_rate)
    cols = ["request on", "amount", "fee"] + (["agency", "tax", "take-home"] if cuts else []) + \
        ["arrives by"]
    t = Table(*cols, title="each row: amount = fee + agency + tax + take-home" if cuts else None,
              title_justify="left")
    totals = [Decimal(0)] * 4
    for i in plan.instalments:
        # in cents, the parts adding up to the amount (whole cents) as shown
        parts = split_cents(i.fee_usd, i.agency_usd, i.tax_usd, i.take_home_usd)
        totals = [a + b for a, b in zip(totals, parts, strict=True)]
        shown = [usd(x) for x in parts] if cuts else [usd(parts[0])]
        t.add_row(i.requested.isoformat(), usd(i.amount_usd), *shown, i.arrives_by.isoformat())
    console.print(t)
    if cuts:
        console.print(f"Take-home {usd(totals[3])} of {usd(plan.withdrawn_usd)} withdrawn: the "
                      f"agency takes {fmt(card.agency_cut * 100)} % and tax "
                      f"{fmt(card.tax_rate * 100)} % of the rest (the creator's).")
    console.print(f"All cash arrives by {plan.last_arrival}.")
    return 0


def register(command: CommandFactory) -> None:
    """Add ``rates``, ``convert``, ``gifts`` and ``payout``."""
    p = command("rates", cmd_rates, "show the rate card in force, with sources and dates",
                "Show every parameter of the money model in force, where it comes from and the "
                "date it held, and the coin channels viewers buy from.")
    add_card_options(p)
    add_json(p)

    p = command("convert", cmd_convert, "coins, diamonds or dollars to every party's money",
                "From coins or diamonds gifted: what viewers paid, what the creator receives, "
                "what TikTok and the app stores kept, and the creator's take-home. From --usd: "
                "the coins a viewer gets for that money on the channel.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--coins", type=whole_number, help="coins of gifts (integer)")
    what.add_argument("--diamonds", type=diamonds_amount, help="diamonds credited")
    what.add_argument("--usd", type=usd_amount, help="dollars a viewer spends on coins")
    add_card_options(p)
    add_json(p)

    p = command("gifts", cmd_gifts, "TikTok's gift catalogue: ids, names, coin prices",
                "Search TikTok's gift catalogue, with what each gift is worth: what the creator "
                "receives and what the viewer paid (on --channel; --json: on every channel). "
                "Names are not unique: a name look-up lists every id and price.")
    p.add_argument("--search", help="text the gift name contains")
    p.add_argument("--name", help="exact name (case-insensitive): every candidate")
    p.add_argument("--id", type=whole_number, help="one gift id")
    p.add_argument("--min-coins", type=whole_number, default=0, help="lowest coin price")
    p.add_argument("--max-coins", type=whole_number, help="highest coin price")
    p.add_argument("--catalogue", choices=CATALOGUES, default="official",
                   help="official (164 gifts from TikTok's API, default) or extended (1,018 "
                   "rows in three tiers of confidence)")
    add_card_options(p)
    add_json(p)

    p = command("payout", cmd_payout, "when and in what instalments a balance becomes cash",
                "Plan the withdrawals of a balance under TikTok's rules: a minimum withdrawal, "
                "at most $1,000 a day, up to 15 days to arrive; with --agency-cut and "
                "--tax-rate, what each withdrawal leaves the creator (the take-home).")
    p.add_argument("--balance-usd", type=usd_amount, required=True,
                   help="wallet balance in USD")
    p.add_argument("--start", type=date_value, help="first withdrawal date (default: today)")
    add_card_options(p, channel=False)
    add_json(p)

"""The ``liveworth`` command line: a thin skin over the library.

Each command parses its options, calls one library function and renders the result as a table
(people) or JSON (``--json``, money as decimal strings). Every :class:`LiveworthError` becomes one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from liveworth import __version__
from liveworth.errors import LiveworthError, UsageError
from liveworth.gifts import CATALOGUES, load_catalogue
from liveworth.money import (
    MAX_COINS,
    MAX_USD,
    coins_for_usd,
    coins_from_diamonds,
    earnings,
    fmt,
    payout_plan,
    usd,
)
from liveworth.ratecard import (
    PARAMETERS,
    PRESETS,
    RateCard,
    config_path,
    load_rate_card,
    preset_help,
    read_config,
)

Handler = Callable[[argparse.Namespace, Console], int]
#: Adds one subcommand: ``command(name, handler, one-line help, description) -> its parser``.
CommandFactory = Callable[[str, Handler, str, str], argparse.ArgumentParser]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


# ---------------------------------------------------------------------------- argument types


#: Decimal places an amount on the command line may have.
MAX_PLACES = 12
#: The most diamonds ``convert --diamonds`` takes (10^15 coins at 1,000 diamonds a coin).
MAX_DIAMONDS = MAX_COINS * 1000


def _whole(text: str, limit: int) -> int:
    try:
        value = int(text.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must lie between 0 and {limit:,}: {text}")
    return value


def port_number(text: str) -> int:
    """A TCP port to listen on, 1–65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text[:24]!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port lies between 1 and 65535: {text[:24]}")
    return value


def _nonneg_int(text: str) -> int:
    """A whole number from 0 to 10^15 (``1,000`` and ``1_000`` accepted)."""
    return _whole(text, MAX_COINS)


def _decimal(text: str, limit: Decimal) -> Decimal:
    try:
        value = Decimal(text.strip().replace("_", "").replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or not 0 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to {limit:,}: {text}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_PLACES and value != value.quantize(Decimal(1).scaleb(-MAX_PLACES),
                                                          context=Context(prec=60)):
        raise argparse.ArgumentTypeError(
            f"at most {MAX_PLACES} decimal places: {text}")
    return value


def usd_amount(text: str) -> Decimal:
    """An amount of dollars from 0 to 10^13 (``$1,000.50`` accepted)."""
    return _decimal(text, MAX_USD)


def _diamonds(text: str) -> Decimal:
    return _decimal(text, Decimal(MAX_DIAMONDS))


def _share(text: str) -> Decimal:
    return _decimal(text, Decimal(1))


def writable_file(text: str) -> str:
    """An output file that can be written, checked before any work (``-`` passes through).

    A directory, a missing parent directory or a path that cannot be created or opened for
    writing is a usage error, one line, exit status 2. An existing file is not truncated here.
    """
    if text == "-":
        return text
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("empty file name")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a directory, not a file")
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text}: {str(parent)!r} {what}")
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"{text}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    if not existed:
        path.unlink(missing_ok=True)
    return text


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or key.strip() not in PARAMETERS:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE with NAME one of {', '.join(sorted(PARAMETERS))}: {text!r}"
        )
    return key.strip(), value.strip()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# ---------------------------------------------------------------------------- shared options


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_card_options(p: argparse.ArgumentParser, channel: bool = True) -> None:
    g = p.add_argument_group("rate card (see `liveworth rates`)")
    g.add_argument("--preset", choices=PRESETS, help="named rate card preset (default: default)")
    if channel:
        g.add_argument(
            "--channel",
            help="how viewers buy coins: web, ios, android, blended (default: the preset's)",
        )
    g.add_argument("--reward-rate", type=_share, help="creator's share of diamond value, 0-1")
    g.add_argument("--agency-cut", type=_share, help="share taken by an agency, 0-1")
    g.add_argument("--tax-rate", type=_share, help="income tax on earnings after agency cut, 0-1")
    g.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_key_value,
        default=[],
        metavar="NAME=VALUE",
        help="override any rate card parameter (repeatable)",
    )
    g.add_argument(
        "--config",
        type=Path,
        help="config file (default: $LIVEWORTH_CONFIG or ~/.config/liveworth/config.toml)",
    )


def card_from_args(args: argparse.Namespace) -> RateCard:
    """The rate card in force for a command's options."""
    path = args.config or config_path()
    if args.config is not None and not args.config.exists():
        raise UsageError(f"{args.config}: config file not found")
    config = read_config(path)
    overrides: dict[str, object] = dict(args.overrides)
    for name in ("reward_rate", "agency_cut", "tax_rate"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "channel", None):
        overrides["channel"] = args.channel
    return load_rate_card(args.preset, overrides, config=config, config_name=str(path))


def print_json(console: Console, obj: Any) -> None:
    console.file.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------- commands


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
    }
    if args.json:
        print_json(console, out)
        return 0
    console.print(f"[bold]Rate card[/bold] {card.name}")
    for p in params:
        set_by = "" if p["set_by"] == "rate card" else f"  \\[set by {p['set_by']}]"
        console.print(f"  [bold]{p['name']}[/bold] = {p['value']} {p['unit']}{set_by}")
        console.print(f"      {p['source']} ({p['date']}, confidence {p['confidence']})")
    console.print("[bold]Coin channels[/bold] (what viewers pay)")
    for c in channels:
        mark = " (default)" if c["default"] else ""
        console.print(f"  [bold]{c['name']}[/bold]{mark}: {c['pack_coins']} coins = "
                      f"${c['pack_usd']} (${c['usd_per_coin']} per coin)")
        console.print(f"      {c['source']} ({c['date']}, confidence {c['confidence']})")
    if rng:
        console.print(f"reward rate range under this preset: {fmt(rng[0])}-{fmt(rng[1])}")
    return 0


def cmd_convert(args: argparse.Namespace, console: Console) -> int:
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
    t = Table("whose money", "figure", "amount", title=f"{coins:,} coins gifted "
              f"({fmt(e.diamonds)} diamonds)", title_justify="left")
    t.add_row("viewers", "paid for the coins", usd(e.viewer_usd))
    t.add_row("creator", f"receives at a {fmt(e.reward_rate * 100)} % reward rate",
              usd(e.creator_usd))
    t.add_row("TikTok & stores", "kept", usd(e.platform_usd))
    if e.agency_usd:
        t.add_row("agency", "cut", usd(e.agency_usd))
    if e.tax_usd:
        t.add_row("tax", "withheld", usd(e.tax_usd))
    t.add_row("creator", "take-home", usd(e.take_home_usd))
    console.print(t)
    console.print(f"exact: creator_usd={fmt(e.creator_usd)} viewer_usd={fmt(e.viewer_usd)}; "
                  f"channel {e.channel}; rate card {e.rate_card}")
    return 0


def cmd_gifts(args: argparse.Namespace, console: Console) -> int:
    cat = load_catalogue(args.catalogue)
    if args.id is not None:
        found = cat.by_id(args.id)
        rows = [found] if found else []
    elif args.name is not None:
        rows = cat.by_name(args.name)
    else:
        rows = cat.search(args.search or "", min_coins=args.min_coins, max_coins=args.max_coins)
    if args.json:
        print_json(console, [g.as_dict() for g in rows])
        return 0
    t = Table("id", "name", "coins", "streakable", "tier", title=f"{len(rows)} gift(s), "
              f"{cat.name} catalogue", title_justify="left")
    for g in rows:
        streak = {True: "yes", False: "no", None: "?"}[g.streakable]
        t.add_row(str(g.gift_id or "-"), g.name or "(no name)", f"{g.coins:,}", streak, g.tier)
    console.print(t)
    if not rows:
        console.print("no gift matches")
    return 0


def cmd_payout(args: argparse.Namespace, console: Console) -> int:
    card = card_from_args(args)
    plan = payout_plan(args.balance_usd, card, args.start or dt.date.today())
    if args.json:
        print_json(console, {**plan.as_dict(), "rate_card": card.name})
        return 0
    console.print(f"Balance {usd(plan.balance_usd)}: {plan.note}.")
    if plan.instalments:
        t = Table("request on", "amount", "fee", "arrives by")
        for i in plan.instalments:
            t.add_row(i.requested.isoformat(), usd(i.amount_usd), usd(i.fee_usd),
                      i.arrives_by.isoformat())
        console.print(t)
        console.print(f"All cash arrives by {plan.last_arrival}.")
    return 0


# ---------------------------------------------------------------------------- parser

#: Modules with a ``register(command: CommandFactory) -> None`` that add their subcommands.
_COMMAND_MODULES: tuple[str, ...] = (
    "liveworth.cli_sessions",
    "liveworth.cli_model",
    "liveworth.cli_record",
    "liveworth.cli_forecast",
    "liveworth.cli_analytics",
    "liveworth.cli_web",
)



def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liveworth",
        description="How much money do you make on TikTok LIVE, and how do you make more?",
        epilog="Run `liveworth COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"liveworth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, handler: Handler, help_: str, desc: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=desc)
        p.set_defaults(handler=handler)
        return p

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
    what.add_argument("--coins", type=_nonneg_int, help="coins of gifts (integer)")
    what.add_argument("--diamonds", type=_diamonds, help="diamonds credited")
    what.add_argument("--usd", type=usd_amount, help="dollars a viewer spends on coins")
    add_card_options(p)
    add_json(p)

    p = command("gifts", cmd_gifts, "TikTok's gift catalogue: ids, names, coin prices",
                "Search TikTok's gift catalogue. Names are not unique: a name look-up lists "
                "every id and price.")
    p.add_argument("--search", help="text the gift name contains")
    p.add_argument("--name", help="exact name (case-insensitive): every candidate")
    p.add_argument("--id", type=_nonneg_int, help="one gift id")
    p.add_argument("--min-coins", type=_nonneg_int, default=0, help="lowest coin price")
    p.add_argument("--max-coins", type=_nonneg_int, help="highest coin price")
    p.add_argument("--catalogue", choices=CATALOGUES, default="official",
                   help="official (164 gifts from TikTok's API, default) or extended (1,018 "
                   "rows in three tiers of confidence)")
    add_json(p)

    p = command("payout", cmd_payout, "when and in what instalments a balance becomes cash",
                "Plan the withdrawals of a balance under TikTok's rules: a minimum withdrawal, "
                "at most $1,000 a day, up to 15 days to arrive.")
    p.add_argument("--balance-usd", type=usd_amount, required=True,
                   help="wallet balance in USD")
    p.add_argument("--start", type=_date, help="first withdrawal date (default: today)")
    add_card_options(p, channel=False)
    add_json(p)

    # Commands of the later pipeline stages register themselves from their own CLI modules.
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(command)
    return parser


def _storage_failure(exc: Exception, args: argparse.Namespace) -> LiveworthError | None:
    """The one line for a storage failure that reached here untranslated (a full disk while
    writing any file, a damaged database found by a query made outside the store's helpers);
    None for anything else, which is a bug."""
    if not isinstance(exc, OSError) and type(exc).__module__ not in ("duckdb", "_duckdb"):
        return None
    from liveworth.store import resolve_db_path, storage_error

    return storage_error(exc, resolve_db_path(getattr(args, "db", None)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    interactive = sys.stdout.isatty()
    console = Console(highlight=False, soft_wrap=False,
                      width=None if interactive or os.environ.get("COLUMNS") else 120)
    handler: Handler = args.handler
    try:
        return handler(args, console)
    except LiveworthError as exc:
        sys.stderr.write(f"liveworth {args.command}: error: {exc}\n")
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, unless debugging
        told = _storage_failure(exc, args)
        if told is not None:  # not a bug: the disk or the database file failed
            sys.stderr.write(f"liveworth {args.command}: error: {told}\n")
            return 2
        if os.environ.get("LIVEWORTH_DEBUG"):
            raise
        sys.stderr.write(f"liveworth {args.command}: internal error: "
                         f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                         " (set LIVEWORTH_DEBUG=1 for details)\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

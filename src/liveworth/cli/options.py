"""What the commands share: argument types that check a value before any work, the shared
options (``--json``, ``--db``, the rate card's), and how a result is printed.

Nothing here imports a heavy library: ``liveworth --help`` builds every parser from this module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liveworth.decode.formats import MAX_HOST
from liveworth.economy.money import MAX_COINS, MAX_USD
from liveworth.economy.numbers import INTEGER_TEXT, plain_int, ungrouped
from liveworth.economy.ratecard import (
    PARAMETERS,
    PRESETS,
    RateCard,
    config_path,
    load_rate_card,
    read_config,
)
from liveworth.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.store.database import Store

Handler = Callable[[argparse.Namespace, "Console"], int]
#: Adds one subcommand: ``command(name, handler, one-line help, description) -> its parser``.
CommandFactory = Callable[[str, Handler, str, str], argparse.ArgumentParser]

# ---------------------------------------------------------------------------- argument types


#: Decimal places an amount on the command line may have.
MAX_PLACES = 12
#: The most diamonds ``convert --diamonds`` takes (10^15 coins at 1,000 diamonds a coin).
MAX_DIAMONDS = MAX_COINS * 1000


def _whole(text: str, limit: int) -> int:
    try:
        value = plain_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must lie between 0 and {limit:,}: {text}")
    return value


def port_number(text: str) -> int:
    """A TCP port to listen on, 1–65535."""
    try:
        if not INTEGER_TEXT.fullmatch(text.strip()):  # int() reads "8_0_8_0" as 8080
            raise ValueError(text)
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text[:24]!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port lies between 1 and 65535: {text[:24]}")
    return value


def whole_number(text: str) -> int:
    """A whole number from 0 to 10^15: ASCII digits, grouped in threes by ``,`` or ``_`` or not
    (``1,000`` and ``1_000`` accepted, ``0_0_1`` refused)."""
    return _whole(text, MAX_COINS)


def _decimal(text: str, limit: Decimal) -> Decimal:
    try:
        value = Decimal(ungrouped(text.strip().removeprefix("$")))
    except (ValueError, InvalidOperation):
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


def diamonds_amount(text: str) -> Decimal:
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


def date_value(text: str) -> dt.date:
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


def add_db(p: argparse.ArgumentParser, *, lake: bool = False) -> None:
    """``--db``; with ``lake``, or ``--lake DIR`` instead (a read command: :func:`open_read`)."""
    if not lake:
        p.add_argument("--db", help="database file (default: $LIVEWORTH_DB or ./liveworth.duckdb)")
        return
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", help="database file (default: $LIVEWORTH_DB or ./liveworth.duckdb)")
    g.add_argument("--lake", metavar="DIR", help="answer from a Parquet lake instead of a "
                   "database (`liveworth lake export`, docs/SCALE.md): the same answers")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="what reads the --lake: DuckDB on this machine (default) or Apache "
                   "Spark (pip install 'liveworth[spark]', Java 17+): the same answers")
    p.add_argument("--spark-master", metavar="URL", help="with --engine spark: local[N], "
                   "local[*] (default), spark://HOST:PORT, yarn or k8s://URL")


def open_read(args: argparse.Namespace, *, collect: bool = True) -> Store:
    """The store a read command answers from: the ``--lake`` read into memory (by DuckDB, or
    with ``--engine spark`` by Spark), else the ``--db`` opened read-only. ``collect=False``
    (an answer whose event-sized work is all portable, :mod:`liveworth.store.portable`): with
    ``--engine spark`` the events and credits stay in Spark."""
    engine = getattr(args, "engine", "duckdb")
    if getattr(args, "spark_master", None) and engine != "spark":
        raise UsageError("--spark-master needs --engine spark")
    if engine == "spark":
        if not getattr(args, "lake", None):
            raise UsageError("--engine spark reads a lake: give --lake DIR (write one from a "
                             "database with `liveworth lake export`)")
        from liveworth.store.spark import open_spark_lake

        return open_spark_lake(args.lake, master=args.spark_master, collect=collect)
    if getattr(args, "lake", None):
        from liveworth.store.lake import open_lake

        return open_lake(args.lake)
    from liveworth.store.database import Store

    return Store.open(args.db, read_only=True)


def when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else \
        f"{s // 60}m{s % 60:02d}s"


def unique_id(name: str, where: str = "") -> str:
    """A creator's TikTok @unique_id as given (``@`` optional), without the ``@``; a usage
    error for anything else, or one longer than every input allows (``MAX_HOST``)."""
    bare = name.removeprefix("@")
    if not bare or not all(c.isalnum() or c in "._-" for c in bare):
        raise UsageError(f"{where}not a TikTok @unique_id: {name[:60]!r}")
    if len(bare) > MAX_HOST:
        raise UsageError(f"{where}not a TikTok @unique_id: longer than {MAX_HOST} characters "
                         f"({len(bare):,})")
    return bare

"""Commands of the lake and the shards: ``lake export``, ``lake compact``, ``shard``
(docs/SCALE.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from liveworth.cli.options import CommandFactory, add_json, print_json
from liveworth.economy.numbers import count
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.ingest.importer import ImportResult
    from liveworth.store.database import Store
    from liveworth.store.lake import Written


def export_to_lake(store: Store, lake: str, rooms: list[str] | None = None) -> Written:
    """Write ``rooms`` (all when None) of ``store`` to the lake at ``lake`` (made when new)."""
    from liveworth.store.lake import check_lake, export_lake

    return export_lake(store, check_lake(lake, create=True), rooms)


def import_store(args: argparse.Namespace) -> Store:
    """Where ``import`` writes: the ``--db``; with ``--lake`` and no ``--db``, a store in memory
    whose events then go to the lake alone (checked first: nothing is written to a bad one)."""
    from liveworth.store.database import Store
    from liveworth.store.lake import check_lake

    if getattr(args, "lake", None):
        check_lake(args.lake, create=True)
        if args.db is None:
            return Store.open(":memory:")
    return Store.open(args.db)


def import_to_lake(args: argparse.Namespace, store: Store, result: ImportResult) -> Written | None:
    """After a committed ``import --lake``: the rooms it touched, written to the lake."""
    if not getattr(args, "lake", None) or not result.committed:
        return None
    return export_to_lake(store, args.lake, result.rooms)


def say_lake(console: Console, lake: str | None, written: Written | None) -> None:
    if lake and written is not None:
        console.print(f"lake {term(lake)}: {count(written.rows, 'event')} written in "
                      f"{count(written.parts, 'new part')}")


def add_lake_target(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--lake", metavar="DIR", help=f"also write {what} to this Parquet lake "
                   "(made when new): docs/SCALE.md")


def cmd_lake_export(args: argparse.Namespace, console: Console) -> int:
    from liveworth.store.database import Store

    with Store.open(args.db, read_only=True) as store:
        written = export_to_lake(store, args.lake)
    if args.json:
        print_json(console, written.as_dict())
    else:
        console.print(f"{count(written.rows, 'event')} written to {term(args.lake)} in "
                      f"{count(written.parts, 'new part')} ({written.skipped:,} the lake held "
                      f"already); {count(written.meta_parts, 'metadata part')}")
    return 0


def cmd_lake_compact(args: argparse.Namespace, console: Console) -> int:
    from liveworth.store.lake import compact

    done = compact(args.lake)
    if args.json:
        print_json(console, done.as_dict())
    else:
        console.print(f"{count(done.partitions, 'partition')} compacted: "
                      f"{count(done.parts_merged, 'part')} merged, "
                      f"{count(done.rows_dropped, 'duplicate row')} dropped")
    return 0


def cmd_shard(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from liveworth.cli.record import read_roster
    from liveworth.ingest.shards import assignment, check_count

    shards = check_count(args.of)
    placed = assignment(read_roster(Path(args.roster)), shards)
    if args.json:
        print_json(console, {"shards": shards, "creators": [
            {"host": h, "shard": k} for h, k in placed.items()]})
        return 0
    t = Table("creator", "shard")
    for h, k in placed.items():
        t.add_row(f"@{term(h)}", f"{k}/{shards}")
    console.print(t)
    per = {k: sum(1 for v in placed.values() if v == k) for k in range(1, shards + 1)}
    console.print(", ".join(f"shard {k}: {n:,}" for k, n in per.items()))
    return 0


def _shard_count(text: str) -> int:
    try:
        return int(text) if text.strip().isdigit() else int("x")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of shards: {text[:24]!r}") from None


def register(command: CommandFactory) -> None:
    p = command("lake", _no_action, "a Parquet lake many recorders feed: export, compact",
                "A lake is a directory of hive-partitioned Parquet (events/date=YYYY-MM-DD/"
                "host=NAME/part-HASH.parquet, and meta/ for the sessions' metadata) that many "
                "writers feed, each part written whole and named by its content; `sessions`, "
                "`report`, `analyze`, `gifters`, `roster` and `brief` answer from it with "
                "--lake DIR. Each ACTION takes --json. See docs/SCALE.md.")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    e = sub.add_parser("export", help="write a database's events and metadata to a lake",
                       description="Write the database's events (and the sessions' metadata) to "
                       "the lake, creating it in a new or empty directory. Only rows the lake "
                       "lacks are written, as one new part per partition: exporting twice adds "
                       "nothing.")
    e.set_defaults(handler=cmd_lake_export)
    e.add_argument("--db", help="database file (default: $LIVEWORTH_DB or ./liveworth.duckdb)")
    e.add_argument("--lake", required=True, metavar="DIR", help="the lake directory")
    add_json(e)
    c = sub.add_parser("compact", help="merge a lake's parts, dropping duplicate events",
                       description="Merge the parts of each partition into one, keeping one copy "
                       "of each (room_id, msg_id) by the store's rule; the merged part is written "
                       "before the old ones are removed (a crash leaves duplicates, never a loss).")
    c.set_defaults(handler=cmd_lake_compact)
    c.add_argument("--lake", required=True, metavar="DIR", help="the lake directory")
    add_json(c)

    p = command("shard", cmd_shard, "which recorder (shard K of N) records which creator",
                "Rendezvous hashing of a roster's creators over N shards: `record --roster FILE "
                "--shard K/N` records shard K's. Adding or removing a shard moves only that "
                "shard's creators.")
    p.add_argument("--roster", required=True, metavar="FILE", help="one @creator per line")
    p.add_argument("--of", required=True, type=_shard_count, metavar="N",
                   help="the number of shards")
    add_json(p)


def _no_action(args: argparse.Namespace, console: Console) -> int:
    raise UsageError("name an ACTION: export or compact (see `liveworth lake --help`)")

"""``adjust``: audited manual corrections of a session's coins (docs/ADJUSTMENTS.md).

``adjust ROOM --coins N --reason TEXT`` records one, ``adjust --list [ROOM]`` lists them with who,
when and why (``--json``, ``--csv FILE``), ``adjust --undo ID`` marks one undone. The counted
coins (the ledger's credits) never change; every report shows counted and adjusted apart.
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import TYPE_CHECKING

from liveworth.cli.options import CommandFactory, add_db, add_json, print_json, writable_file
from liveworth.economy.csvsafe import write_rows
from liveworth.economy.numbers import count, plain_int
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.store.adjustments import Adjustment

def coins_change(text: str) -> int:
    """A whole number of coins, negative for a correction (``-300``, ``1,000``)."""
    try:
        return plain_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of coins: {text[:40]!r}") from None


def adjustment_id(text: str) -> int:
    try:
        value = plain_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an adjustment id: {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"adjustment ids start at 1: {text[:40]}")
    return value


def who_is(given: str | None) -> str | None:
    """``--by``, else ``$USER``, else the login name (None when nothing says)."""
    if given is not None:
        return given
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return None


def signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}"


def write_csv(path: str, rows: list[Adjustment]) -> None:
    """The adjustments as CSV; a text cell a spreadsheet would read as a formula gets a
    leading ``'`` (:mod:`liveworth.economy.csvsafe`, the rule of every CSV liveworth writes)."""
    names = ("id", "room_id", "coins", "reason", "user_id", "made_by", "made_at", "undone_at",
             "undone_by")
    with open(path, "w", encoding="utf-8", newline="") as f:
        write_rows(f, names, ([a.as_dict()[k] for k in names] for a in rows))


def _table(rows: list[Adjustment], console: Console) -> None:
    from rich.table import Table

    t = Table("id", "session", "coins", "reason", "gifter", "by", "made (UTC)", "undone",
              title=count(len(rows), "adjustment"), title_justify="left")
    for a in rows:
        undone = "–" if a.undone_at is None else \
            f"{a.undone_at:%Y-%m-%d %H:%M}" + (f" by {term(a.undone_by)}" if a.undone_by else "")
        t.add_row(str(a.id), term(a.room_id), signed(a.coins), term(a.reason),
                  term(a.user_id or "–"), term(a.made_by or "?"), f"{a.made_at:%Y-%m-%d %H:%M}",
                  undone)
    console.print(t)


def _modes(args: argparse.Namespace) -> str:
    """Which of add, --list, --undo the options ask for (one line and exit 2 when mixed)."""
    add_opts = [o for o, v in (("--coins", args.coins), ("--reason", args.reason),
                               ("--user", args.user)) if v is not None]
    if args.list and args.undo is not None:
        raise UsageError("give --list or --undo ID, not both")
    if args.list or args.undo is not None:
        mode = "list" if args.list else "undo"
        if add_opts:
            raise UsageError(f"--{mode} takes no {', '.join(add_opts)}")
        if mode == "undo" and args.room_id is not None:
            raise UsageError("--undo takes an adjustment ID, not a ROOM")
        if args.csv and mode != "list":
            raise UsageError("--csv goes with --list")
        return mode
    if args.csv:
        raise UsageError("--csv goes with --list")
    if args.room_id is None:
        raise UsageError("name the session's ROOM (see `liveworth sessions`), or give --list "
                         "or --undo ID")
    if args.coins is None or args.reason is None:
        raise UsageError("an adjustment needs --coins N and --reason TEXT")
    return "add"


def cmd_adjust(args: argparse.Namespace, console: Console) -> int:
    from liveworth.store.adjustments import (
        add_adjustment,
        adjustments,
        counted_coins,
        undo_adjustment,
    )
    from liveworth.store.database import Store

    mode = _modes(args)
    if mode == "list":
        with Store.open(args.db, read_only=True) as store:
            if args.room_id is not None:
                counted_coins(store, args.room_id)  # an unknown room is an error, not "none"
            rows = adjustments(store, args.room_id)
        if args.csv:
            write_csv(args.csv, rows)
        if args.json:
            print_json(console, [a.as_dict() for a in rows])
        else:
            _table(rows, console)
            if args.csv:
                console.print(f"CSV written to {term(args.csv)}")
        return 0
    with Store.open(args.db) as store:
        if mode == "undo":
            adj = undo_adjustment(store, args.undo, undone_by=who_is(args.by))
        else:
            adj = add_adjustment(store, args.room_id, args.coins, args.reason,
                                 user_id=args.user, made_by=who_is(args.by))
        counted = counted_coins(store, adj.room_id)
        adjusted = sum(a.coins for a in adjustments(store, adj.room_id, include_undone=False))
    if args.json:
        print_json(console, {**adj.as_dict(), "counted_coins": counted,
                             "adjusted_coins": adjusted, "total_coins": counted + adjusted})
        return 0
    verb = "undid" if mode == "undo" else "recorded"
    console.print(f"{verb} adjustment {adj.id}: {signed(adj.coins)} coins to session "
                  f"{term(adj.room_id)} ({term(adj.reason)})")
    console.print(f"session {term(adj.room_id)}: counted {counted:,} + adjusted {adjusted:,} = "
                  f"{count(counted + adjusted, 'coin')} (the host's)")
    return 0


def register(command: CommandFactory) -> None:
    p = command("adjust", cmd_adjust, "record, list or undo manual corrections of a session's "
                "coins",
                "Record an audited adjustment of a session's coins (an off-stream gift, a "
                "segment the recording missed, a correction by TikTok): stored apart from the "
                "counted coins, which never change, and shown apart in every report "
                "('counted 12,400 + adjusted 300'). A negative N corrects downwards, but never "
                "below 0 in all. `--list [ROOM]` shows who made each, when and why; "
                "`--undo ID` marks one undone (it stays stored, for the audit).")
    p.add_argument("room_id", nargs="?", metavar="ROOM", help="the session's room id (see "
                   "`sessions`); with --list, only that session's adjustments")
    p.add_argument("--coins", type=coins_change, metavar="N",
                   help="coins to add, negative to take away (use --coins=-N)")
    p.add_argument("--reason", metavar="TEXT", help="why (required): shown wherever it counts")
    p.add_argument("--user", metavar="USER_ID", help="the gifter it concerns, if any")
    p.add_argument("--by", metavar="NAME", help="who makes (or undoes) it (default: $USER)")
    p.add_argument("--list", action="store_true", help="list adjustments, undone ones too")
    p.add_argument("--undo", type=adjustment_id, metavar="ID",
                   help="mark adjustment ID undone (never deleted)")
    p.add_argument("--csv", type=writable_file, metavar="FILE", help="with --list: also write "
                   "them as CSV")
    add_db(p)
    add_json(p)

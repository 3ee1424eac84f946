"""The gifter CRM: ``liveworth gifter USER_ID`` — a gifter's card, tags and notes, and the privacy
tools (``--forget``, ``--export``). See docs/CRM.md."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    card_from_args,
    print_json,
    when,
)
from liveworth.economy.money import usd
from liveworth.economy.numbers import count
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.analysis.boards import GifterCard


def render_card(c: GifterCard, console: Console) -> None:
    """A gifter's card in the terminal."""
    r = c.row
    assert r is not None
    g, h = r.stats, r.habit
    console.print(f"[bold]{term(c.name)}[/bold] (user id {term(c.user_id)}), gifter of "
                  f"@{term(c.host)}" + (" — forgotten (pseudonymized)" if c.pseudonym else ""))
    if g.coins:
        console.print(f"lifetime: {count(g.coins, 'coin')} to the host (viewer spend), the "
                      f"creator received {usd(g.creator_usd)}; rank {g.rank:,} of "
                      f"{c.gifters:,} gifters, {g.share:.1%} of the host's coins")
        console.print(f"{count(g.sessions, 'session')} with a gift, first {when(g.first_ts)}, "
                      f"last {when(g.last_ts)}")
    else:
        console.print("no gift to this host recorded")
    if h is not None:
        gap = "–" if h.usual_gap_days is None else f"{h.usual_gap_days:.1f} days"
        console.print(f"usual gap between gifting sessions: {gap}; {h.days_since_last_gift:.1f} "
                      "days since the last gift" + (" — [bold]overdue[/bold]" if h.overdue
                                                    else ""))
    console.print("tags: " + (", ".join(term(t) for t in r.tags) or "none"))
    for n in r.notes:
        console.print(f"note ({n.added_at[:10]}): {term(n.note)}")
    console.print("names: " + ("; ".join(
        f"{term(n.user)} / {term(n.nickname)} ({n.as_dict()['first_seen']} to "
        f"{n.as_dict()['last_seen']})" for n in r.names) or "none"))


def cmd_gifter(args: argparse.Namespace, console: Console) -> int:
    from liveworth.analysis import crm
    from liveworth.analysis.boards import gifter_card
    from liveworth.analysis.sessionstats import session_stats
    from liveworth.store.database import Store

    card = card_from_args(args)
    user_id = args.user_id
    changes = bool(args.tag or args.untag or args.note is not None)
    writes = changes or args.forget
    if args.export and writes:
        raise UsageError("--export only reads: give it without --tag, --untag, --note, --forget")
    if args.forget and changes:
        raise UsageError("--forget removes tags and notes: give it alone")
    with Store.open(args.db, read_only=not writes) as store:
        crm.check_known(store, user_id)
        if args.export:
            print_json(console, crm.export(store, user_id))
            return 0
        if args.forget:
            alias = crm.forget(store, user_id)
            if args.json:
                print_json(console, {"user_id": user_id, "pseudonym": alias, "forgotten": True})
            else:
                console.print(f"forgot user {term(user_id)}: their names are now {alias} in "
                              "events, credits and alerts; their tags and notes are gone; "
                              "coins kept")
            return 0
        sessions = session_stats(store, card, tz=args.tz)
        host = crm.resolve_host(store, sessions, user_id, args.host)
        if changes:
            crm.change(store, host, user_id, tag=args.tag, untag=args.untag, note=args.note)
        c = gifter_card(store, card, host, user_id, as_of=args.as_of, tz=args.tz)
    if args.json:
        print_json(console, c.as_dict())
        return 0
    render_card(c, console)
    return 0


def register(command: CommandFactory) -> None:
    p = command("gifter", cmd_gifter, "one gifter: card, tags and notes, forget or export",
                "One gifter (by TikTok user id, so renames stay one person) of one creator: "
                "lifetime coins to the host (viewer spend) and what the creator received, "
                "sessions with a gift, first and last gift, their usual gap between gifting "
                "sessions and whether they are overdue, tags, notes, and every name they went "
                "by. --tag, --untag and --note change the CRM (then show the card). --forget "
                "replaces their names everywhere in the store with a pseudonym (coins kept); "
                "--export prints everything the store holds about them. See docs/CRM.md.")
    p.add_argument("user_id", metavar="USER_ID", help="the gifter's TikTok user id "
                   "(`gifters --json` lists them)")
    add_db(p)
    p.add_argument("--host", metavar="@USER", help="whose gifter (default: the one creator "
                   "they gave to, when there is one)")
    p.add_argument("--tag", action="append", default=[], metavar="T",
                   help="add a tag (repeatable; stored in lower case)")
    p.add_argument("--untag", action="append", default=[], metavar="T",
                   help="remove a tag (repeatable)")
    p.add_argument("--note", metavar="TEXT", help="add a note")
    p.add_argument("--forget", action="store_true", help="pseudonymize this person "
                   "everywhere in the store and remove their tags and notes (totals kept)")
    p.add_argument("--export", action="store_true", help="print all the store holds about "
                   "them as JSON")
    p.add_argument("--as-of", metavar="DATE", help="measure the gap and overdue at the end of "
                   "this day (default: the latest event in the store)")
    p.add_argument("--tz", default="UTC", help="time zone of --as-of (default UTC)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_card_options(p, channel=False)

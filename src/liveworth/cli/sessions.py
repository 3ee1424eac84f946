"""Commands over recorded sessions: ``import``, ``sessions``, ``report``, ``export``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from liveworth.cli.lake import add_lake_target
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    duration,
    open_read,
    print_json,
    when,
    writable_file,
)
from liveworth.decode.formats import EXPORT_FORMATS, FORMATS
from liveworth.economy.money import split_cents, usd
from liveworth.economy.numbers import count
from liveworth.errors import UsageError
from liveworth.render.terminal import term, visible

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.analysis.report import SessionReport
    from liveworth.analysis.sessionlist import SessionFilter, SessionPage
    from liveworth.economy.ratecard import RateCard
    from liveworth.economy.subscriptions import SubscriptionMoney
    from liveworth.store.database import Store

MAX_REJECT_LINES = 50
PROGRESS_MIN_BYTES = 8 << 20


# ---------------------------------------------------------------------------- import


def check_input_file(path: Path) -> None:
    """Refuse, in one line that says what is true, a path ``import`` cannot read as a file."""
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; pass the files in it (e.g. "
                         f"{path / ('*' + _common_suffix(path))})")
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a regular file")


def _common_suffix(folder: Path, look: int = 200) -> str:
    """The most common file ending (``.json.gz``) among the first ``look`` files of ``folder``,
    else ``.jsonl``."""
    seen: dict[str, int] = {}
    try:
        for i, entry in enumerate(folder.iterdir()):
            if i >= look:
                break
            if entry.is_file() and (end := "".join(entry.suffixes[-2:])):
                seen[end] = seen.get(end, 0) + 1
    except OSError:
        pass
    return max(seen, key=lambda k: (seen[k], k)) if seen else ".jsonl"


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
    from rich.table import Table

    from liveworth.cli.lake import import_store, import_to_lake, say_lake
    from liveworth.ingest.importer import Reject, import_paths

    err = Console(stderr=True, highlight=False)
    shown = 0

    def on_reject(r: Reject) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_REJECT_LINES:
            sys.stderr.write(f"rejected {visible(r.where)}: {visible(r.reason)}\n")

    paths = [Path(p) for p in args.paths]
    for p in paths:
        check_input_file(p)
    total = sum(p.stat().st_size for p in paths)
    with import_store(args) as store:
        if total >= PROGRESS_MIN_BYTES and not args.json:
            columns = ("[progress.description]{task.description}", BarColumn(),
                       DownloadColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("importing", total=total)
                result = import_paths(store, paths, args.format, strict=args.strict,
                                      on_reject=on_reject,
                                      progress=lambda n: bar.advance(task, n))
        else:
            result = import_paths(store, paths, args.format, strict=args.strict,
                                  on_reject=on_reject)
        lake = import_to_lake(args, store, result)
    all_kept = result.rejects_kept == result.rejected and result.rejects_path
    if shown > MAX_REJECT_LINES:
        sys.stderr.write(f"... and {count(shown - MAX_REJECT_LINES, 'more rejected line')}"
                         + (f"; all are kept in {result.rejects_path}\n" if all_kept else "\n"))
    if result.rejects_error:  # after the commit: every valid event is stored
        lost = result.rejected - result.rejects_kept
        sys.stderr.write(f"liveworth import: {count(lost, 'rejected line')} could not be kept "
                         f"in {result.rejects_path} ({result.rejects_error}); every valid event "
                         "was imported\n")
    if args.json:
        print_json(console, {**result.as_dict(), **({"lake": lake.as_dict()} if lake else {})})
    else:
        t = Table("file", "format", "accepted", "duplicates", "rejected")
        for f in result.files:
            t.add_row(term(f.path), f.format, f"{f.accepted:,}", f"{f.duplicates:,}",
                      f"{f.rejected:,}")
        console.print(t)
        verb = "imported" if result.committed else "NOT imported (--strict)"
        console.print(f"{count(result.accepted, 'new event')} {verb}; "
                      f"{count(result.duplicates, 'duplicate')}; {result.rejected:,} rejected; "
                      f"{count(len(result.rooms), 'session')} touched.")
        if result.rejected and all_kept:
            console.print(f"Rejected lines are kept in {term(result.rejects_path or '')}")
        say_lake(console, args.lake, lake)
    return 0 if result.committed else 1


# ---------------------------------------------------------------------------- sessions


def cmd_sessions(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from liveworth.analysis.report import list_sessions
    from liveworth.analysis.sessionlist import select
    from liveworth.analysis.subscriptions import sessions_subscriptions

    card = card_from_args(args)
    region = subscription_region(args)
    chosen = list_filter(args)
    with open_read(args, collect=False) as store:
        page = select(list_sessions(store, card), chosen)
        rows = list(page.rows)
        subs = sessions_subscriptions(store, {r.room_id: r.start_ts for r in rows}, region,
                                      args.sub_bonus)
    if args.csv:
        from liveworth.render.csvtables import sessions_csv

        not_the_database(args.csv, args.db, "--csv")
        Path(args.csv).write_text(sessions_csv(rows), encoding="utf-8", newline="")
    if args.json:
        print_json(console, [{**r.as_dict(), "subscriptions": subscriptions_row(
            r.total_creator_usd, subs.get(r.room_id))} for r in rows])
        if page.hidden_empty or len(rows) < page.total:
            sys.stderr.write(visible(page_line(page)) + "\n")
        return 0
    adjusted = any(r.adjusted_coins for r in rows)
    coins = ("coins counted", "adjusted", "coins in all") if adjusted else ("coins",)
    channel = card.channel(None).name
    t = Table("room_id", "host", "start", "duration", *coins,
              "creator USD" + (" (in all)" if adjusted else ""),
              f"viewers paid ({channel}" + (", counted)" if adjusted else ")"), "gifters",
              "subscriptions (creator)", title=count(len(rows), "session"),
              title_justify="left")
    for r in rows:
        shown = (f"{r.coins:,}", f"{r.adjusted_coins:+,}" if r.adjusted_coins else "–",
                 f"{r.total_coins:,}") if adjusted else (f"{r.coins:,}",)
        t.add_row(term(r.room_id), term(r.host or "?"), when(r.start_ts), duration(r.duration_s),
                  *shown, usd(r.total_creator_usd), usd(r.viewer_usd), f"{r.gifters:,}",
                  subscriptions_cell(subs.get(r.room_id)))
    console.print(t)
    if subs:
        console.print("creator USD is of gifts; subscriptions apart (" + subs_basis(subs) + ")")
    if adjusted:
        console.print("in all = counted + manual adjustments (`liveworth adjust --list`); "
                      "creator USD is of the coins in all")
    if page.hidden_empty or len(rows) < page.total:
        console.print(term(page_line(page)))
    return 0


def list_filter(args: argparse.Namespace) -> SessionFilter:
    """``--host --since --until --min-coins --sort --limit --offset --all``, checked as the web
    checks its query (one line and exit 2)."""
    from liveworth.analysis.sessionlist import session_filter

    try:
        return session_filter(host=args.host, since=args.since, until=args.until,
                              min_coins=args.min_coins, sort=args.sort, limit=args.limit,
                              offset=args.offset, show_empty=args.all, max_limit=None)
    except UsageError as exc:  # the web's parameter names as the options they are here
        name, _, rest = str(exc).partition(" ")
        option = name.rstrip(":")
        if option in ("host", "since", "until", "min_coins", "sort", "limit", "offset"):
            name = "--" + option.replace("_", "-") + name[len(option):]
        raise UsageError(f"{name} {rest}".strip()) from None


def page_line(page: SessionPage) -> str:
    """The footer: which rows of how many, and the empty sessions hidden."""
    parts = []
    if page.rows and len(page.rows) < page.total:
        parts.append(f"showing {page.first:,}-{page.last:,} of {count(page.total, 'session')}"
                     + (f" (--offset {page.next_offset} for the next)"
                        if page.next_offset is not None else ""))
    elif not page.rows and page.total:
        parts.append(f"no rows from --offset {page.offset:,}: {count(page.total, 'session')} "
                     "match")
    if page.hidden_empty:
        parts.append(f"{count(page.hidden_empty, 'empty session')} (under a minute with no "
                     "gift) hidden; --all shows them")
    return "; ".join(parts)


def add_list_options(p: argparse.ArgumentParser) -> None:
    """The filters of ``sessions`` (the web's /sessions takes the same, see docs/WEB.md)."""
    from liveworth.analysis.sessionlist import SORT_KEYS

    g = p.add_argument_group("which sessions (the same filters as /sessions and /api/sessions)")
    g.add_argument("--host", metavar="@USER", help="only this creator's sessions")
    g.add_argument("--since", metavar="DATE", help="sessions starting on or after DATE "
                   "(YYYY-MM-DD, UTC, or an ISO date-time such as 2023-11-13T18:00)")
    g.add_argument("--until", metavar="DATE", help="sessions starting on or before DATE (a "
                   "date takes in that whole day, UTC; or an ISO date-time)")
    g.add_argument("--min-coins", metavar="N", help="sessions with at least N coins in all "
                   "(counted + manual adjustments)")
    g.add_argument("--sort", metavar="COLUMN", help="sort by " + ", ".join(SORT_KEYS) +
                   "; --sort=-COLUMN for descending (default -started: newest first; ties by "
                   "room id)")
    g.add_argument("--limit", metavar="N", help="list at most N sessions (default: all)")
    g.add_argument("--offset", metavar="N", help="skip the first N (default 0)")
    g.add_argument("--all", action="store_true", help="list empty sessions too (under a "
                   "minute with no gift or subscription; hidden by default, their count is "
                   "printed)")
    p.add_argument("--csv", type=writable_file, metavar="FILE",
                   help="also write the listed sessions as CSV (the web's /api/sessions.csv: "
                        "formula-safe, coins integers, money exact)")


# ---------------------------------------------------------------------------- subscriptions


def add_subscription_options(p: argparse.ArgumentParser) -> None:
    """``--region`` and ``--sub-bonus``: the creator's terms for LIVE subscription money."""
    g = p.add_argument_group("LIVE subscriptions (see docs/RATES.md)")
    g.add_argument("--region", metavar="CC",
                   help="the creator's country for the subscription share: a two-letter code "
                        "(US, CA, GB, ...) or 'other' (default: other, 50 %%; US and CA get "
                        "70 %% from 2025-10-01)")
    g.add_argument("--sub-bonus", action="store_true",
                   help="count the subscription bonus (up to 20 %%; needs >= 10k followers and "
                        ">= 1 M video views last month; default: not eligible)")


def subscription_region(args: argparse.Namespace) -> str:
    """``--region`` checked (a bad one is one line and exit 2, before the store opens)."""
    from liveworth.economy.subscriptions import region_of

    return region_of(args.region)


def subscriptions_cell(subs: SubscriptionMoney | None) -> str:
    """A sessions-table cell: ``2 · $6.99`` (``~`` when estimated from the card's price)."""
    if subs is None or not subs.count:
        return "–"
    return f"{subs.count:,} · {'~' if subs.estimated else ''}{usd(subs.creator_usd)}"


def subs_basis(subs: dict[str, SubscriptionMoney]) -> str:
    """What the sessions' subscription figures rest on, once for the table."""
    first = next(iter(subs.values()))
    estimated = any(s.estimated for s in subs.values())
    return ("~ = estimated from the rate card's "
            f"${first.card_price_usd} price; " if estimated else "") + \
        f"region {first.terms.region}, bonus {'in' if first.terms.bonus_eligible else 'not'} " \
        "counted"


def subscriptions_row(gifts_usd: Decimal, subs: SubscriptionMoney | None) -> dict[str, object]:
    """The ``subscriptions`` object of one ``sessions --json`` row."""
    from liveworth.economy.money import fmt

    if subs is None:
        return {"count": 0, "viewer_usd": "0", "creator_usd": "0", "estimated": False,
                "total_creator_usd": fmt(gifts_usd)}
    return {"count": subs.count, "viewer_usd": fmt(subs.viewer_usd),
            "creator_usd": fmt(subs.creator_usd), "estimated": subs.estimated > 0,
            "total_creator_usd": fmt(gifts_usd + subs.creator_usd)}


def render_subscriptions(rep: SessionReport, console: Console) -> None:
    """The LIVE's subscriptions apart from its gifts, and the creator's total of both."""
    from liveworth.analysis.subscriptions import summary_line

    subs = rep.subscriptions
    if subs is None:
        return
    console.print(f"[bold]With LIVE subscriptions[/bold]: "
                  f"{term(summary_line(rep.total_creator_usd, subs))}")


# ---------------------------------------------------------------------------- report


def render_report(rep: SessionReport, console: Console) -> None:
    from rich.table import Table

    m, s = rep.money, rep.money.shown()  # s: in cents, the parts adding up to the whole
    console.print(f"[bold]Session {term(rep.room_id)}[/bold] — host {term(rep.host or '?')}")
    console.print(f"{when(rep.start_ts)} → {when(rep.end_ts)} ({duration(rep.duration_s)}), "
                  f"{count(rep.events, 'event')}")
    console.print(f"[bold]This LIVE earned the creator {usd(s.creator_usd)}[/bold] "
                  f"(viewers paid {usd(s.viewer_usd)}).")
    console.print(f"{count(rep.coins, 'coin')} gifted to the host = "
                  f"{count(m.diamonds, 'diamond')}: {rep.coins_confirmed:,} confirmed, "
                  f"{rep.coins_unconfirmed:,} unconfirmed")
    t = Table("whose money", "figure", "amount")
    t.add_row("viewers", f"paid ({m.channel} coins)", usd(s.viewer_usd))
    t.add_row("creator", "receives", usd(s.creator_usd))
    t.add_row("TikTok & stores", "kept", usd(s.platform_usd))
    if m.take_home_usd != m.creator_usd:
        t.add_row("creator", "take-home", usd(s.take_home_usd))
    console.print(t)
    console.print(f"rate card {m.rate_card}")
    if rep.adjustments:
        render_adjustments(rep, console)
    render_subscriptions(rep, console)
    console.print(f"{count(rep.gift_count, 'gift')} in {count(rep.gift_sends, 'send')} from "
                  f"{count(rep.unique_gifters, 'gifter')}; top gifter "
                  f"{rep.top_gifter_share:.0%} of coins, top 10 % of gifters "
                  f"{rep.top_10pct_share:.0%}")
    if rep.guest_coins:
        console.print(f"guest gifts (to co-hosts, not the host's earnings): "
                      f"{count(rep.guest_coins, 'coin')}")
    if rep.top_gifters:
        t = Table("#", "gifter", "coins", "gifts", title="top gifters", title_justify="left")
        for i, g in enumerate(rep.top_gifters, 1):
            t.add_row(str(i), term(g.user or g.user_id), f"{g.coins:,}", f"{g.gifts:,}")
        console.print(t)
    if rep.credits:  # the still credits: every gifter, biggest first
        console.print("[bold]Credits[/bold] (every gifter of the session, biggest first, coins): "
                      + " · ".join(f"{term(g.nickname or g.user or g.user_id or '?')} "
                                   f"{g.coins:,}" for g in rep.credits))
    t = Table("price tier (coins)", "gifts", "coins", "share of coins", title="gift tiers",
              title_justify="left")
    for label, n, c in rep.tiers:
        t.add_row(label, f"{n:,}", f"{c:,}", f"{c / rep.coins:.1%}" if rep.coins else "-")
    console.print(t)
    viewers = ("no viewer counts" if rep.peak_viewers is None else
               f"viewers peak {rep.peak_viewers:,}, average {rep.avg_viewers:,.1f}")
    console.print(viewers + (f"; {rep.coins_per_1000_viewer_minutes:,.1f} coins per 1,000 "
                             "viewer-minutes" if rep.coins_per_1000_viewer_minutes else ""))
    console.print("per minute: " + ", ".join(
        f"{k} {rep.per_minute(k):.2f}" for k in rep.engagement))
    for f in rep.flags:
        console.print(f"[yellow]flag[/yellow] {f['flag']}: {term(f['message'])}")


def signed_usd(value: Decimal) -> str:
    """``$0.50`` or ``-$0.50`` (never ``$-0.50``)."""
    return "-" + usd(-value) if value < 0 else usd(value)


def adjusted_line(counted: int, adjusted: int) -> str:
    """``counted 12,400 + adjusted 300 = 12,700 coins``."""
    return (f"counted {counted:,} + adjusted {adjusted:,} = "
            f"{count(counted + adjusted, 'coin')}")


def render_adjustments(rep: SessionReport, console: Console) -> None:
    """The manual adjustments apart from the counted coins, and the total they make."""
    from rich.table import Table

    counted, adjusted = split_cents(rep.money.creator_usd, rep.adjusted_creator_usd)
    line = adjusted_line(rep.coins, rep.adjusted_coins)
    console.print(f"[bold]With manual adjustments[/bold]: {line} (the host's); the creator "
                  f"receives counted {usd(counted)} + adjusted {signed_usd(adjusted)} = "
                  f"{usd(counted + adjusted)}")
    t = Table("id", "coins", "reason", "gifter", "by", "made (UTC)", "status",
              title="adjustments (the counted figures above leave them out)",
              title_justify="left")
    for a in rep.adjustments:
        t.add_row(str(a.id), f"{a.coins:+,}", term(a.reason), term(a.user_id or "–"),
                  term(a.made_by or "?"), f"{a.made_at:%Y-%m-%d %H:%M}",
                  "counted in" if a.active else f"undone {a.undone_at:%Y-%m-%d %H:%M}")
    console.print(t)


def render_missions(rep: SessionReport, console: Console) -> None:
    """The Scaled LIVE rewards missions of the LIVE (``us-scaled``): its rate, each mission."""
    from rich.table import Table

    from liveworth.economy.missions import pct

    r = rep.rewards
    if r is None:
        return
    m = r.missions
    console.print(f"[bold]Scaled LIVE rewards[/bold]: this LIVE's reward rate "
                  f"{pct(m.reward_rate)}; the week of {r.week} ({term(r.tz)}) adds "
                  f"{pct(m.weekly_rate)}, {usd(rep.weekly_creator_usd)} credited on Monday "
                  "(not in the creator's figure above)")
    t = Table("mission", "met", "adds", "where it stands", "missing")
    for x in m.missions:
        t.add_row(x.name, "yes" if x.met else "no", pct(x.contribution), term(x.progress),
                  term(x.missing or "–"))
    console.print(t)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from dataclasses import replace

    from liveworth.analysis.report import redacted, session_report
    from liveworth.analysis.subscriptions import session_subscriptions
    from liveworth.economy.missions import check_cut
    from liveworth.store.portable import focus

    not_the_database(args.html, args.db, "--html")
    card = card_from_args(args)
    region = subscription_region(args)
    with open_read(args, collect=False) as store:
        room_id = report_room(args, store, card)
        focus(store, [room_id])  # with --engine spark: this session's events come here
        rep = session_report(store, room_id, card, args.channel,
                             violation_cut=check_cut(args.violation_cut), tz=args.tz)
        rep = replace(rep, subscriptions=session_subscriptions(
            store, rep.room_id, rep.start_ts, region, args.sub_bonus))
    if args.redact:
        rep = redacted(rep)
    if args.html:
        from liveworth.render.report_html import render_html

        Path(args.html).write_text(render_html(rep), encoding="utf-8")
    if args.json:
        print_json(console, rep.as_dict())
    else:
        render_report(rep, console)
        render_missions(rep, console)
        if args.html:
            console.print(f"HTML report written to {term(args.html)}")
    return 0


def report_room(args: argparse.Namespace, store: Store, card: RateCard) -> str:
    """ROOM_ID, or with ``--latest [@HOST]`` the creator's latest non-empty session (the
    latest empty one when they have no other; without HOST, the store's only creator)."""
    from liveworth.analysis.report import list_sessions
    from liveworth.analysis.sessionlist import latest_session

    if args.latest is None:
        if args.room_id is None:
            raise UsageError("name the session's ROOM_ID (see `liveworth sessions`) or give "
                             "--latest [@HOST]")
        return str(args.room_id)
    if args.room_id is not None:
        raise UsageError(f"give ROOM_ID ({args.room_id}) or --latest, not both")
    return latest_session(list_sessions(store, card), args.latest or None).room_id


# ---------------------------------------------------------------------------- export


def not_the_database(out: str | None, db: str | None, option: str) -> None:
    """Refuse an output file that is the database itself (writing it would destroy it)."""
    if out is None or out == "-":
        return
    from liveworth.store.database import resolve_db_path

    if Path(out).resolve() == Path(resolve_db_path(db)).resolve():
        raise UsageError(f"{option} {out}: that is the database; choose another file")


@contextmanager
def export_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr while ``export`` writes, only when stderr is a terminal (never
    in a pipe or a file); yields what export_events tells, or None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("exporting", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from liveworth.store.database import Store
    from liveworth.store.export import export_events

    if not args.all and not args.room_id:
        raise UsageError("name a ROOM_ID or give --all")
    if args.all and args.room_id:
        raise UsageError(f"name a ROOM_ID ({args.room_id}) or give --all, not both")
    not_the_database(args.out, args.db, "--out")
    with Store.open(args.db, read_only=True) as store, export_progress() as progress:
        n = export_events(store, None if args.all else args.room_id, args.format, Path(args.out),
                          progress)
    console.print(f"{count(n, 'event')} written to {term(args.out)} ({args.format})")
    return 0


def register(command: CommandFactory) -> None:
    p = command("import", cmd_import, "import events or raw webcast messages into the database",
                "Import event-format-v1 JSONL, collector dumps of raw webcast messages, the "
                "raw journal or WebcastResponse frames (gzip or plain). Bad lines are rejected "
                "with file and line on stderr and kept in a rejects file next to the database; "
                "everything valid is imported. Importing the same data again changes nothing.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
    add_db(p)
    add_lake_target(p, "the events imported (without --db, only there)")
    p.add_argument("--format", choices=FORMATS, default="auto", help="input format (default: "
                   "sniffed per file)")
    p.add_argument("--strict", action="store_true",
                   help="import nothing if any line is rejected (exit status 1)")
    add_json(p)

    p = command("sessions", cmd_sessions, "list recorded sessions with their earnings",
                "One row per session (room), newest first: host, start, duration, coins, "
                "creator USD, and LIVE subscriptions apart from gifts. Filters, sort and pages "
                "as on the web's /sessions; empty sessions (under a minute with no gift or "
                "subscription) are hidden unless --all, and their count printed (on stderr "
                "with --json).")
    add_db(p, lake=True)
    add_list_options(p)
    add_card_options(p)
    add_subscription_options(p)
    add_json(p)

    p = command("report", cmd_report, "one session's earnings report (terminal, JSON, HTML)",
                "What one LIVE earned and for whom: coins confirmed and unconfirmed, diamonds, "
                "what viewers paid, what the creator receives, what TikTok kept; gifters, gift "
                "tiers, coins and viewers over time, engagement, data-quality flags.")
    p.add_argument("room_id", nargs="?", metavar="ROOM_ID",
                   help="the session's room id (see `sessions`)")
    p.add_argument("--latest", nargs="?", const="", metavar="@HOST",
                   help="instead of ROOM_ID: the creator's latest session (not an empty one, "
                        "unless they have no other); without @HOST, the store's only creator's")
    add_db(p, lake=True)
    p.add_argument("--html", type=writable_file, metavar="FILE",
                   help="also write a self-contained HTML report")
    p.add_argument("--redact", action="store_true",
                   help="replace viewers' names with stable pseudonyms (for sharing)")
    p.add_argument("--violation-cut", default="0", metavar="SHARE",
                   help="--preset us-scaled: the points TikTok cut from this LIVE's reward rate "
                        "for guideline violations, 0-1 (0.10 = 10 points; liveworth cannot "
                        "see it; default 0)")
    p.add_argument("--tz", default="UTC", help="--preset us-scaled: the time zone of the "
                   "week (Monday to Sunday) of the weekly missions (default UTC)")
    add_card_options(p)
    add_subscription_options(p)
    add_json(p)

    p = command("export", cmd_export, "export events as JSONL (event format v1), Parquet or CSV",
                "Export one session's (or every session's) events. JSONL is event format v1 "
                "(docs/EVENTS.md): imported into a new database it gives the same report. A "
                "progress bar shows on stderr when it is a terminal.")
    p.add_argument("room_id", nargs="?", metavar="ROOM_ID", help="the session to export")
    p.add_argument("--all", action="store_true", help="export every session")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl", help="output format")
    p.add_argument("--out", type=writable_file, required=True, help="output file")
    add_db(p)

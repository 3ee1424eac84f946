"""``liveworth record``: record live streams (or replay recordings) into the store."""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    port_number,
    print_json,
    unique_id,
)
from liveworth.economy.money import creator_usd, usd
from liveworth.economy.numbers import count, ungrouped
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.render.terminal import term, visible

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console, RenderableType

    from liveworth.ingest.recorder import CreatorState, OnOpen, Quota
    from liveworth.ingest.sources import LiveSource
    from liveworth.store.database import Store
    from liveworth.web.db import Opener

DEFAULT_JOURNAL = "liveworth-journal"
#: Replay speeds: slower than a thousandth would wait for days; faster than a million is 'max'.
MIN_SPEED, MAX_SPEED = 0.001, 1_000_000


#: The longest silence a replay waits out, in replay seconds (a dump may span weeks).
DEFAULT_MAX_GAP_S = 5.0


def _max_gap(text: str) -> float | None:
    """``--max-gap``: seconds (0 and up) or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(ungrouped(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds or 'none': {text[:24]!r}"
                                         ) from None
    if not (math.isfinite(value) and 0 <= value <= 86_400):
        raise argparse.ArgumentTypeError(f"must lie between 0 and 86,400 seconds (or 'none'): "
                                         f"{text[:24]}")
    return value


def _linger_s(text: str) -> float:
    """``--linger``: seconds, 0 to a day."""
    try:
        value = float(ungrouped(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:24]!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 86_400):
        raise argparse.ArgumentTypeError(f"must lie between 0 and 86,400 seconds: {text[:24]}")
    return value


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a speed (a number or 'max'): {text!r}") from None
    if not MIN_SPEED <= value <= MAX_SPEED:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"speed must lie between {MIN_SPEED} and {MAX_SPEED:,} (or 'max'): {text[:24]}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def read_roster(path: Path) -> list[str]:
    """One @creator per line; blank lines and ``#`` comments ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read roster ({exc.__class__.__name__})") from None
    out = []
    for n, line in enumerate(lines, 1):
        name = line.split("#", 1)[0].strip()
        if name:
            out.append(unique_id(name, f"{path}:{n}: "))
    return out


#: Console columns from which the live view is a table (below: a few wrapped lines a creator).
WIDE_VIEW = 150


def short_state(state: str) -> str:
    """The state's first word(s) for the table (``reconnecting (ConnectError …)`` →
    ``reconnecting``); the whole text goes under the table."""
    return state.split(" (", 1)[0].split(":", 1)[0].strip() or state


def view(states: dict[str, CreatorState], card: RateCard, quota: Quota | None,
         width: int = 200) -> RenderableType:
    """The live view, fitting ``width`` columns: a table when wide, a few wrapped lines per
    creator when narrow (at 80 columns no name or state is cut), then each creator's state in
    full when the table shows it short, then the sign-server quota."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = (
        [_view_table(states, card)] if width >= WIDE_VIEW else _view_lines(states, card))
    parts = [Text("liveworth record — Ctrl-C stops and reports", style="bold"), *parts]
    for st in states.values():
        if width >= WIDE_VIEW and short_state(st.state) != st.state:
            parts.append(Text(visible(f"@{st.host}: {st.state}")))
    if quota is not None:
        left = quota.left()
        parts.append(Text(f"sign-server quota left: {left['minute']}/min, {left['hour']}/h, "
                          f"{left['day']}/day"))
    return Group(*parts)


def _view_table(states: dict[str, CreatorState], card: RateCard) -> RenderableType:
    from rich.table import Table

    t = Table()
    whole = {"creator": max([len(f"@{term(st.host)}") for st in states.values()] + [7]),
             "state": max([len(short_state(st.state)) for st in states.values()] + [5])}
    for name in ("creator", "state", "room", "coins", "creator USD", "viewers", "gifts/min",
                 "top gifters", "msgs"):  # names and states whole; the gifters wrap
        t.add_column(name, min_width=whole.get(name), no_wrap=name in whole)
    for st in states.values():
        t.add_row(f"@{term(st.host)}", term(short_state(st.state)), term(st.room_id or "-"),
                  f"{st.coins:,}", usd(creator_usd(st.coins, card)),
                  "-" if st.viewers is None else f"{st.viewers:,}", f"{st.gifts_last_minute:,}",
                  ", ".join(f"{term(u)} {c:,}" for u, c in st.top_gifters) or "-",
                  f"{st.messages:,}" + (f" ({count(st.reconnects, 'reconnect')})"
                                        if st.reconnects else ""))
    return t


def _view_lines(states: dict[str, CreatorState], card: RateCard) -> list[RenderableType]:
    """Each creator in lines that wrap instead of being cut (plain text: nothing is markup)."""
    from rich.text import Text

    out: list[RenderableType] = []
    for st in states.values():
        again = f" ({count(st.reconnects, 'reconnect')})" if st.reconnects else ""
        viewers = "-" if st.viewers is None else f"{st.viewers:,}"
        lines = [f"@{st.host} · {st.state} · {count(st.coins, 'coin')} · "
                 f"creator {usd(creator_usd(st.coins, card))}",
                 f"  {viewers} viewers · {st.gifts_last_minute:,} gifts/min · "
                 f"{count(st.messages, 'msg')}{again} · room {st.room_id or '-'}"]
        if st.top_gifters:
            lines.append("  top gifters: " + ", ".join(f"{u} {c:,}" for u, c in st.top_gifters))
        out.extend(Text(visible(line)) for line in lines)
    return out


class InProcessServer:
    """Serve the dashboard, live page and overlay from the recording process itself.

    DuckDB lets only one process open a database that is being written, so a separate
    `liveworth serve` cannot read it while recording; served from here, the pages read through
    a connection of their own to the writer's database (:class:`SharedConnection`) and see every
    committed batch within a second. Loopback only.

    The port is bound when this is made, before anything is recorded: a busy port is a
    :class:`UsageError` that names it. :meth:`start` is the recorder's ``on_open``; the final
    report reads through the pages' connection (:meth:`reader`); :meth:`stop` (after it) stops
    accepting, lets the requests in flight finish, ends live streams and only then closes that
    connection, so that every request made while the process serves is answered.
    """

    #: How long :meth:`stop` waits for requests in flight (live streams end at once).
    GRACE_S = 5

    def __init__(self, db: str, port: int, card: RateCard, console: Console) -> None:
        try:
            from liveworth.web.server import listen
        except ImportError as exc:  # the web extra is not installed
            raise UsageError(f"--serve needs fastapi, uvicorn and jinja2 ({exc})") from None
        self.db, self.port, self.card, self.console = db, port, card, console
        self._sockets: list[Any] = listen("127.0.0.1", port, option="--serve PORT")
        self._lock = threading.Lock()
        self._stopped = False
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._shared: Any = None
        self._app: Any = None

    def start(self, store: Store, clock: Callable[[], int | None] | None = None) -> None:
        from liveworth.web import create_app
        from liveworth.web.db import SharedConnection
        from liveworth.web.server import Limits, make_server

        with self._lock:
            if self._stopped:
                return
            self._shared = SharedConnection(store.con, self.db)
            self._app = create_app(self.db, card=self.card, opener=self._shared, clock=clock)
            self._server = make_server(self._app, limits=Limits(grace_s=self.GRACE_S))
            self._thread = threading.Thread(target=self._server.run, name="liveworth-web",
                                            kwargs={"sockets": self._sockets}, daemon=True)
            self._thread.start()
        self.console.print(f"dashboard: http://127.0.0.1:{self.port}/sessions · overlay: "
                           f"http://127.0.0.1:{self.port}/overlay/HOST")

    def reader(self) -> Opener | None:
        """How to read through the pages' connection (None when the server never started)."""
        with self._lock:
            shared: Opener | None = self._shared
            return None if self._stopped else shared

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            server, thread, shared, app = self._server, self._thread, self._shared, self._app
        if server is None or thread is None:
            for sock in self._sockets:  # never served: let the port go
                sock.close()
            return
        app.state.web.closing.set()  # live streams end
        server.should_exit = True  # stop accepting; requests in flight finish
        thread.join(self.GRACE_S + 5)
        shared.close()  # waits for any request still reading


def _hosts(args: argparse.Namespace) -> list[str]:
    """The creators named on the command line, then those of the --roster file."""
    hosts = [unique_id(h) for h in args.creators]
    if args.roster:
        hosts += read_roster(Path(args.roster))
    return hosts


def _sources(args: argparse.Namespace,
             hosts: list[str]) -> tuple[list[LiveSource], Quota | None]:
    """What to record: the --replay files, or each creator live under the sign-server quota."""
    from liveworth.ingest.recorder import Quota
    from liveworth.ingest.sources import ReplaySource, load_raw

    sources: list[LiveSource] = []
    quota: Quota | None = None
    if args.replay:
        for p in args.replay:
            if not Path(p).is_file():
                raise UsageError(f"{p}: no such file")
        messages, _ = load_raw(args.replay)
        host = hosts[0] if hosts else next((m.host for m in messages if m.host), "replay")
        sources.append(ReplaySource(messages, host, args.speed, args.max_gap))
    else:
        if not hosts:
            raise UsageError("name at least one @creator, a --roster FILE, or --replay FILE")
        from liveworth.ingest.tiktok import TikTokSource

        quota = Quota(args.quota_minute, args.quota_hour, args.quota_day)
        sources.extend(TikTokSource(h) for h in dict.fromkeys(hosts))
    return sources, quota


async def _record_into(outcome: dict[str, list[str]], *, args: argparse.Namespace,
                       console: Console, sources: list[LiveSource], db: str, journal: Path,
                       card: RateCard, quota: Quota | None,
                       on_open: OnOpen | None, live_view: bool) -> None:
    """Record until every source ends (or Ctrl-C, or SIGTERM), under the live view when there
    is one; the rooms recorded and the journals recovered go into ``outcome``.

    SIGTERM — what systemd and docker send to stop a service — is a normal stop, as Ctrl-C: the
    sources stop, the writer drains, journals and stores what was taken, the ledger runs, and
    the summary is printed (exit 0, ``"interrupted": true``)."""
    import asyncio
    import signal

    from rich.live import Live

    from liveworth.ingest.recorder import record

    stop = asyncio.Event()

    def terminate() -> None:
        outcome["signal"] = ["SIGTERM"]
        stop.set()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not POSIX
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
    if live_view:
        width = console.width
        with Live(view({}, card, quota, width), console=console,
                  refresh_per_second=2) as screen:
            result = await record(sources, db, journal, quota=quota, stop=stop,
                                  rng=random.Random(), stop_when_ended=bool(args.replay),
                                  on_tick=lambda s: screen.update(view(s, card, quota,
                                                                       width)),
                                  on_open=on_open)
    else:
        result = await record(sources, db, journal, quota=quota, stop=stop,
                              rng=random.Random(), stop_when_ended=bool(args.replay),
                              on_open=on_open)
    outcome["rooms"] = result.rooms
    outcome["recovered"] = result.recovered


def cmd_record(args: argparse.Namespace, console: Console) -> int:
    import asyncio
    import signal

    from liveworth.store.database import resolve_db_path

    card = card_from_args(args)
    db = resolve_db_path(args.db)
    journal = Path(args.journal)
    sources, quota = _sources(args, _hosts(args))
    live_view = sys.stdout.isatty() and not args.json and not args.quiet
    web = InProcessServer(db, args.serve, card, console) if args.serve else None
    on_open = web.start if web is not None else None
    outcome: dict[str, list[str]] = {"rooms": [], "recovered": []}
    interrupted = False
    try:
        try:
            asyncio.run(_record_into(outcome, args=args, console=console, sources=sources,
                                     db=db, journal=journal, card=card, quota=quota,
                                     on_open=on_open, live_view=live_view))
        except KeyboardInterrupt:
            interrupted = True
        interrupted = interrupted or bool(outcome.get("signal"))
        # After the recording's loop (which took SIGTERM as stop) a SIGTERM must not cut the
        # report short: it is noted, and only ends a linger.
        signal.signal(signal.SIGTERM, lambda *_: outcome.setdefault("signal", ["SIGTERM"]))
        code = _final_report(args, console, db, journal, card, outcome, interrupted,
                             web.reader() if web is not None else None)
        if web is not None and args.replay and not interrupted and not outcome.get("signal"):
            _linger(console, args.serve, args.linger)
        return code
    finally:
        if web is not None:  # the dashboard answers until the report is out
            web.stop()


class _Stop(Exception):
    """SIGTERM while the dashboard lingers."""


def _linger(console: Console, port: int, seconds: float | None) -> None:
    """After a replay: keep serving the final figures to open pages and overlays until Ctrl-C
    or SIGTERM, or for ``seconds`` (``--linger``)."""
    import signal
    import time

    if seconds == 0:
        return
    how = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
    console.print(f"replay done; the dashboard keeps serving its final figures {how}: "
                  f"http://127.0.0.1:{port}/sessions")

    def stop(*_: object) -> None:
        raise _Stop

    before = signal.signal(signal.SIGTERM, stop)
    try:
        time.sleep(seconds if seconds is not None else 10**9)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, before)


def _final_report(args: argparse.Namespace, console: Console, db: str, journal: Path,
                  card: RateCard, outcome: dict[str, list[str]], interrupted: bool,
                  reader: Opener | None) -> int:
    """Each recorded session's summary (read through the dashboard's connection when it serves:
    DuckDB refuses a read-only open of the file next to it)."""


    from liveworth.analysis.report import session_report
    from liveworth.store.database import Store

    rooms = outcome["rooms"]
    with (reader or (lambda: Store.open(db, read_only=True)))() as store:
        if not rooms:
            rooms = store.rooms()
        reports = [session_report(store, r, card) for r in rooms if r in store.rooms()]
    if args.json:
        print_json(console, {"recovered_journals": outcome["recovered"],
                             "interrupted": interrupted,
                             "sessions": [r.as_dict() for r in reports]})
        return 0
    if outcome["recovered"]:
        console.print(f"recovered after a crash: {term(', '.join(outcome['recovered']))}")
    for rep in reports:
        console.print(f"session {term(rep.room_id)} (@{term(rep.host or '?')}): "
                      f"{count(rep.coins, 'coin')} "
                      f"({rep.coins_unconfirmed:,} unconfirmed) → creator receives "
                      f"{usd(rep.money.creator_usd)}; {count(rep.events, 'event')}")
    console.print(f"journal: {term(journal)}/ · database: {term(db)} · details: liveworth report "
                  "ROOM_ID")
    return 0


def register(command: CommandFactory) -> None:
    p = command("record", cmd_record, "record TikTok LIVEs (or replay recordings) into the db",
                "Wait until each creator is live, connect, and for every raw message: append it "
                "to the journal (durable), decode it, store the events and keep the ledger "
                "current; reconnect with backoff, deduplicate TikTok's replayed backlog, "
                "recover after a crash. --replay feeds journals or collector dumps through the "
                "same path at their recorded pace. Live recording needs the optional TikTokLive "
                "connector: pip install 'liveworth[tiktok]' (AGPL). Ctrl-C or SIGTERM (systemd, "
                "docker) stops cleanly and reports each session.")
    p.add_argument("creators", nargs="*", metavar="@USER", help="creators to record")
    add_db(p)
    p.add_argument("--journal", default=DEFAULT_JOURNAL, metavar="DIR",
                   help=f"raw journal directory (default: ./{DEFAULT_JOURNAL})")
    p.add_argument("--roster", metavar="FILE", help="file with one @creator per line")
    p.add_argument("--replay", nargs="+", metavar="FILE",
                   help="replay journals or collector dumps instead of connecting to TikTok")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                   help="replay speed: a factor, or 'max' for as fast as possible (default 1)")
    p.add_argument("--linger", type=_linger_s, default=None, metavar="SECONDS",
                   help="with --serve and --replay: how long the dashboard keeps serving the "
                   "final figures after the replay (default: until Ctrl-C or SIGTERM; 0: stop "
                   "at once)")
    p.add_argument("--max-gap", type=_max_gap, default=DEFAULT_MAX_GAP_S, metavar="SECONDS",
                   help="a replay waits at most this long at a silence in the recording, in "
                   "replay seconds, or 'none' for the whole silence (default "
                   f"{DEFAULT_MAX_GAP_S:g})")
    q = p.add_argument_group("sign-server quota (the key comes from $SIGN_API_KEY)")
    q.add_argument("--quota-minute", type=_positive_int, default=10, metavar="N",
                   help="sign requests per minute (default 10)")
    q.add_argument("--quota-hour", type=_positive_int, default=60, metavar="N",
                   help="sign requests per hour (default 60)")
    q.add_argument("--quota-day", type=_positive_int, default=100, metavar="N",
                   help="sign requests per day (default 100: the keyless community limit)")
    p.add_argument("--serve", type=port_number, nargs="?", const=8000, metavar="PORT",
                   help="also serve the dashboard, live page and OBS overlay on "
                   "127.0.0.1:PORT (default 8000) from this process while recording")
    p.add_argument("--quiet", action="store_true", help="no live view, only the final summary")
    add_card_options(p, channel=False)
    add_json(p)

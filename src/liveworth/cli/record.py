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

from liveworth.cli.alerts import AlertsRun, add_alerts_option, read_rules
from liveworth.cli.lake import add_lake_target, export_to_lake
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    add_db,
    add_json,
    card_from_args,
    port_number,
    unique_id,
)
from liveworth.cli.record_view import view
from liveworth.cli.termination import Stop, Termination
from liveworth.economy.money import usd
from liveworth.economy.numbers import count, ungrouped
from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.render.terminal import term, visible

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from liveworth.decode.rawsources import RawReject
    from liveworth.ingest.connection import CreatorState, Quota
    from liveworth.ingest.recorder import OnOpen
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


def _seconds(low: float) -> Callable[[str], float]:
    """An option's type: seconds from ``low`` to a day (``--linger`` 0, ``--poll`` 10)."""
    def parse(text: str) -> float:
        try:
            value = float(ungrouped(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:24]!r}") from None
        if not (math.isfinite(value) and low <= value <= 86_400):
            raise argparse.ArgumentTypeError(
                f"must lie between {low:,g} and 86,400 seconds: {text[:24]}")
        return value

    return parse


#: Seconds between live checks of an offline creator (jittered; slower as the quota runs low).
DEFAULT_POLL_S = 60.0


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
    """The creators named on the command line, then those of the --roster file; with
    ``--shard K/N``, only those rendezvous hashing gives shard K (:mod:`liveworth.ingest.
    shards`)."""
    from liveworth.ingest.shards import parse_shard, shard_of

    shard = parse_shard(args.shard) if args.shard else None
    hosts = [unique_id(h) for h in args.creators]
    if args.roster:
        hosts += read_roster(Path(args.roster))
    if shard is None:
        return hosts
    k, n = shard
    if not hosts:
        raise UsageError(f"--shard {k}/{n}: give the creators to share out (--roster FILE)")
    mine = [h for h in hosts if shard_of(h, n) == k]
    if not mine:
        raise UsageError(f"--shard {k}/{n}: none of the {count(len(hosts), 'creator')} falls "
                         "on this shard (see `liveworth shard --roster FILE --of N`)")
    return mine


def _sources(args: argparse.Namespace,
             hosts: list[str]) -> tuple[list[LiveSource], Quota | None]:
    """What to record: the --replay files, or each creator live under the sign-server quota."""
    from liveworth.ingest.connection import Quota

    sources: list[LiveSource] = []
    quota: Quota | None = None
    if args.replay:
        sources.extend(_replay_sources(args, hosts))
    else:
        if not hosts:
            raise UsageError("name at least one @creator, a --roster FILE, or --replay FILE")
        from liveworth.ingest.tiktok import TikTokSource

        quota = Quota(args.quota_minute, args.quota_hour, args.quota_day)
        sources.extend(TikTokSource(h) for h in dict.fromkeys(hosts))
    return sources, quota


def _replay_sources(args: argparse.Namespace, hosts: list[str]) -> list[LiveSource]:
    """The --replay files, one source per creator they hold, all on one replay clock. A file
    of one creator (or none) replays under the first @creator named, if any; of several, naming
    creators replays only theirs. A message without a host goes to the first @creator named,
    else the first host of the files, else "replay"."""
    from liveworth.ingest.sources import load_raw, replay_sources

    for p in args.replay:
        if not Path(p).is_file():
            raise UsageError(f"{p}: no such file")
    messages, rejects = load_raw(args.replay)
    _say_rejects(rejects)
    found = list(dict.fromkeys(m.host for m in messages if m.host))
    named = list(dict.fromkeys(hosts))
    if len(found) <= 1 or not named:
        fallback = named[0] if named else found[0] if found else "replay"
        return list(replay_sources(messages, fallback, args.speed, args.max_gap,
                                   rehost=bool(named)))
    known = {h.casefold() for h in found}  # TikTok's @unique_ids ignore case
    missing = [h for h in named if h.casefold() not in known]
    if missing:
        shown = ", ".join(f"@{h}" for h in found[:5]) + (", ..." if len(found) > 5 else "")
        raise UsageError(f"@{missing[0]}: not among the {count(len(found), 'creator')} of the "
                         f"replayed files ({shown})")
    wanted = {h.casefold() for h in named}
    chosen = [m for m in messages if (m.host or named[0]).casefold() in wanted]
    return list(replay_sources(chosen, named[0], args.speed, args.max_gap))


#: Rejected entries of the --replay files shown one per line; the rest are counted.
MAX_REJECT_LINES = 50


def _say_rejects(rejects: list[RawReject]) -> None:
    """The entries of the --replay files that cannot be replayed, as `import` names them."""
    from liveworth.render.terminal import visible

    for r in rejects[:MAX_REJECT_LINES]:
        sys.stderr.write(f"rejected {visible(r.where)}: {visible(r.reason)}\n")
    if len(rejects) > MAX_REJECT_LINES:
        sys.stderr.write(f"... and {count(len(rejects) - MAX_REJECT_LINES, 'more rejected line')}"
                         "\n")


_WRITING = threading.Lock()


class StateLines:
    """``--json`` while recording: one JSON line per change of a creator's status or reason, and
    a progress line per creator every :data:`PROGRESS_S` seconds, for log collectors; the
    summary is the last line (``"type": "summary"``)."""

    PROGRESS_S = 10.0

    def __init__(self, out: Any) -> None:
        import time

        self.out = out
        self._clock = time.monotonic
        self._next = self._clock() + self.PROGRESS_S

    def write(self, obj: dict[str, Any]) -> None:
        import json

        line = json.dumps(obj, ensure_ascii=False) + "\n"
        with _WRITING:  # the alerts come from the writer's thread
            self.out.write(line)
            self.out.flush()

    def change(self, st: CreatorState) -> None:
        self.write({"type": "state", "time": _iso(st.since_ms), "host": st.host,
                    "status": st.status, "reason": st.reason, "room_id": st.room_id,
                    "reconnects": st.reconnects})

    def tick(self, states: dict[str, CreatorState]) -> None:
        if self._clock() < self._next:
            return
        self._next = self._clock() + self.PROGRESS_S
        for st in states.values():
            self.write({"type": "progress", "time": _iso(None), "host": st.host,
                        "status": st.status, "room_id": st.room_id, "messages": st.messages,
                        "events": st.events, "rejected": st.rejected, "coins": st.coins})


def _iso(ms: int | None) -> str:
    import datetime as dt
    import time

    when = dt.datetime.fromtimestamp((ms if ms else time.time() * 1000) / 1000, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _record_into(outcome: dict[str, Any], *, args: argparse.Namespace,
                       console: Console, sources: list[LiveSource], db: str, journal: Path,
                       card: RateCard, quota: Quota | None, on_open: OnOpen | None,
                       live_view: bool, term: Termination, lines: StateLines | None,
                       alerts: AlertsRun | None = None) -> None:
    """Record until every source ends (or Ctrl-C, or SIGTERM), under the live view when there
    is one; the rooms recorded, the journals recovered and each creator's last state go into
    ``outcome``."""
    import asyncio

    from rich.live import Live

    from liveworth.ingest.recorder import record

    stop = asyncio.Event()
    term.stop_on_term(stop)
    common: dict[str, Any] = dict(
        quota=quota, stop=stop, rng=random.Random(), stop_when_ended=bool(args.replay),
        poll_s=args.poll, on_open=on_open, on_change=lines.change if lines else None,
        on_ledger=alerts.on_ledger if alerts else None,
        on_stored=alerts.watch.note_events if alerts else None)
    try:
        if live_view:
            width = console.width
            with Live(view({}, card, quota, width), console=console,
                      refresh_per_second=2) as screen:
                result = await record(sources, db, journal, **common,
                                      on_tick=lambda s: screen.update(view(s, card, quota,
                                                                           width)))
        else:
            result = await record(sources, db, journal, **common,
                                  on_tick=lines.tick if lines else None)
    finally:
        term.loop_over()
    outcome["rooms"] = result.rooms
    outcome["recovered"] = result.recovered
    outcome["creators"] = list(result.states.values())
    outcome["latency"] = result.latency
    if result.hook_error is not None:
        sys.stderr.write(f"liveworth record: warning: the alerts failed and were left off "
                         f"({visible(result.hook_error)}); the recording went on\n")


def cmd_record(args: argparse.Namespace, console: Console) -> int:
    import asyncio
    import time

    from liveworth.store.database import resolve_db_path
    from liveworth.store.lake import check_lake

    term: Termination = getattr(args, "termination", None) or Termination()
    term.install()  # already done by main(), before the imports; here for a caller of its own
    card = card_from_args(args)
    db = resolve_db_path(args.db)
    journal = Path(args.journal)
    rules = read_rules(args)  # a bad rules file is told before anything starts
    if args.lake:
        check_lake(args.lake, create=True)
    sources, quota = _sources(args, _hosts(args))
    live_view = sys.stdout.isatty() and not args.json and not args.quiet
    lines = StateLines(console.file) if args.json else None
    alerts = AlertsRun(rules, card, console, write_json=lines.write if lines else None) \
        if rules else None
    web = InProcessServer(db, args.serve, card, console) if args.serve else None
    on_open = web.start if web is not None else None
    outcome: dict[str, Any] = {"rooms": [], "recovered": [], "creators": []}
    interrupted = False
    try:
        started = time.monotonic()
        try:
            asyncio.run(_record_into(outcome, args=args, console=console, sources=sources,
                                     db=db, journal=journal, card=card, quota=quota,
                                     on_open=on_open, live_view=live_view, term=term,
                                     lines=lines, alerts=alerts))
        except KeyboardInterrupt:
            interrupted = True
        if alerts is not None:
            outcome["alerts"] = alerts.close()
        outcome["wall_s"] = time.monotonic() - started
        interrupted = interrupted or term.received
        code = _final_report(args, console, db, journal, card, outcome, interrupted,
                             web.reader() if web is not None else None)
        if web is not None and args.replay and not term.received and not interrupted:
            _linger(console, args.serve, args.linger, term)
        return code if code else _not_found(outcome, len(sources))
    finally:
        if web is not None:  # the dashboard answers until the report is out
            web.stop()
        term.done()


def throughput(outcome: dict[str, Any]) -> dict[str, Any]:
    """What anyone can measure a recording or a replay by (the summary line of ``--json``):
    messages taken, the recording's wall time, and the event-to-store latency — per message, how
    long it waited from reaching the writer until stored, in whole ms — at p50 and p99."""
    lat = outcome.get("latency")
    p50, p99 = (lat.quantile_ms(0.50), lat.quantile_ms(0.99)) if lat else (None, None)
    return {"messages": sum(st.messages for st in outcome["creators"]),
            "wall_s": round(float(outcome.get("wall_s") or 0.0), 3),
            "latency_ms": {"p50": p50, "p99": p99, "per": "message",
                           "batches": lat.batches if lat else 0}}


def _not_found(outcome: dict[str, Any], creators: int) -> int:
    """Exit 2 when the one creator named does not exist (a roster goes on without it: its entry
    says ``not found``); the reason was the state's."""
    missing = [st for st in outcome["creators"] if st.status == "not found"]
    if missing and creators == 1:
        print(f"liveworth: error: @{missing[0].host}: {visible(missing[0].reason)}",
              file=sys.stderr)
        return 2
    return 0


def _linger(console: Console, port: int, seconds: float | None, term: Termination) -> None:
    """After a replay: keep serving the final figures to open pages and overlays until Ctrl-C
    or SIGTERM, or for ``seconds`` (``--linger``)."""
    import time

    if seconds == 0:
        return
    how = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
    console.print(f"replay done; the dashboard keeps serving its final figures {how}: "
                  f"http://127.0.0.1:{port}/sessions")
    with contextlib.suppress(KeyboardInterrupt, Stop):
        try:
            term.lingering = True
            if not term.received:
                time.sleep(seconds if seconds is not None else 10**9)
        finally:
            term.lingering = False


def _final_report(args: argparse.Namespace, console: Console, db: str, journal: Path,
                  card: RateCard, outcome: dict[str, Any], interrupted: bool,
                  reader: Opener | None) -> int:
    """Each recorded session's summary (read through the dashboard's connection when it serves:
    DuckDB refuses a read-only open of the file next to it), and each creator's last state."""
    from liveworth.analysis.report import session_report
    from liveworth.store.database import Store

    rooms = outcome["rooms"]
    with (reader or (lambda: Store.open(db, read_only=True)))() as store:
        if not rooms:
            rooms = store.rooms()
        reports = [session_report(store, r, card) for r in rooms if r in store.rooms()]
        if args.lake:  # the sessions of this run, once recorded (journal, then store, then lake)
            outcome["lake"] = export_to_lake(store, args.lake, rooms).as_dict()
    creators = outcome["creators"]
    if args.json:
        StateLines(console.file).write({
            "type": "summary", "recovered_journals": outcome["recovered"],
            "interrupted": interrupted, "sessions": [r.as_dict() for r in reports],
            "creators": [{"host": st.host, "status": st.status, "reason": st.reason}
                         for st in creators],
            **throughput(outcome), **({"alerts": outcome["alerts"]} if "alerts" in outcome
                                      else {}),
            **({"lake": outcome["lake"]} if "lake" in outcome else {})})
        return 0
    if outcome["recovered"]:
        console.print(f"recovered after a crash: {term(', '.join(outcome['recovered']))}")
    for st in creators:
        if st.status in ("not found", "error", "reconnecting", "quota"):
            console.print(f"@{term(st.host)}: {term(st.state)}")
    for rep in reports:
        console.print(f"session {term(rep.room_id)} (@{term(rep.host or '?')}): "
                      f"{count(rep.coins, 'coin')} "
                      f"({rep.coins_unconfirmed:,} unconfirmed) → creator receives "
                      f"{usd(rep.money.creator_usd)}; {count(rep.events, 'event')}")
    if "alerts" in outcome:
        a = outcome["alerts"]
        console.print(f"alerts: {count(a['fired'], 'alert')} fired, {a['delivered']:,} "
                      f"webhook{'s' if a['delivered'] != 1 else ''} delivered, {a['failed']:,} "
                      f"failed{', some still queued' if a['pending'] else ''} "
                      "(liveworth alerts)")
    console.print(f"journal: {term(journal)}/ · database: {term(db)} · "
                  + (f"lake: {term(args.lake)} ({outcome['lake']['rows']:,} new rows) · "
                     if "lake" in outcome else "") + "details: liveworth report ROOM_ID")
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
    p.add_argument("--shard", metavar="K/N", help="record only shard K of N of the creators "
                   "(rendezvous hashing; `liveworth shard --roster FILE --of N` lists them): "
                   "one recorder per machine, each with its own sign-server quota")
    add_lake_target(p, "each session recorded, when the run ends (the database stays the "
                    "recorder's working store)")
    p.add_argument("--replay", nargs="+", metavar="FILE",
                   help="replay journals, collector dumps or event JSONL (`liveworth simulate "
                   "--out`) instead of connecting to TikTok; each creator in them is recorded "
                   "as itself (its own journal), on one replay clock. @USER names the creator "
                   "of a file that has one (or none); with several, @USER replays only theirs")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                   help="replay speed: a factor, or 'max' for as fast as possible (default 1)")
    p.add_argument("--linger", type=_seconds(0), default=None, metavar="SECONDS",
                   help="with --serve and --replay: how long the dashboard keeps serving the "
                   "final figures after the replay (default: until Ctrl-C or SIGTERM; 0: stop "
                   "at once)")
    p.add_argument("--max-gap", type=_max_gap, default=DEFAULT_MAX_GAP_S, metavar="SECONDS",
                   help="a replay waits at most this long at a silence in the recording, in "
                   "replay seconds, or 'none' for the whole silence (default "
                   f"{DEFAULT_MAX_GAP_S:g})")
    p.add_argument("--poll", type=_seconds(10), default=DEFAULT_POLL_S, metavar="SECONDS",
                   help="how often to ask whether an offline creator is live (TikTok's own "
                   f"look-up, no sign-server request), ±20%% jitter (default {DEFAULT_POLL_S:g})")
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
    add_card_options(p)
    add_alerts_option(p)
    add_json(p)

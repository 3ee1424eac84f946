"""What the scenarios share: paths, figures, the money invariants, the CLI runner, the store's
state and reports, and the corpus of sessions they replay."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from liveworth.analysis.report import session_report
from liveworth.economy.money import earnings
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import Store

ROOT = Path(__file__).resolve().parents[1]
DUMPS = Path(__file__).resolve().parents[1] / "tests" / "data" / "real" / "webcast_dumps"
PY = sys.executable
CARD = load_rate_card()
TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One measured figure and what it must be.

    ``ok`` True: meets the requirement; False: does not; None: reported only (``required`` says
    so) or skipped (``skipped`` with the reason in ``note``)."""

    scenario: str
    name: str
    value: Any
    required: str
    ok: bool | None
    note: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        if self.skipped:
            return "SKIP"
        return {True: "PASS", False: "FAIL", None: "INFO"}[self.ok]

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "name": self.name, "value": self.value,
                "required": self.required, "status": self.status, "note": self.note}


def zero(scenario: str, name: str, value: int, note: str = "") -> Figure:
    """A count that must be 0."""
    return Figure(scenario, name, value, "0", value == 0, note)


def at_least(scenario: str, name: str, value: float, low: float, note: str = "") -> Figure:
    return Figure(scenario, name, value, f"≥ {low:g}", value >= low, note)


def equal(scenario: str, name: str, value: Any, want: Any, note: str = "") -> Figure:
    return Figure(scenario, name, value, f"{want}", value == want, note)


def info(scenario: str, name: str, value: Any, note: str = "") -> Figure:
    return Figure(scenario, name, value, "reported", None, note)


def skip(scenario: str, name: str, reason: str) -> Figure:
    return Figure(scenario, name, "skipped", "-", None, reason, skipped=True)


# ---------------------------------------------------------------------------- money invariants


class Invariants:
    """Checks the money invariants on every report, session row and credit it is shown:
    viewer = creator + platform, confirmed + unconfirmed = total, integer coins (and the money
    of a report is the money model's for its coins)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: collections.Counter[str] = collections.Counter()
        self.violations: list[str] = []

    def _fail(self, where: str, what: str) -> None:
        with self.lock:
            self.violations.append(f"{where}: {what}")

    def _count(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.checked[kind] += n

    @staticmethod
    def _coin(value: Any) -> bool:
        return type(value) is int and value >= 0

    def money(self, m: dict[str, Any], coins: int, where: str) -> None:
        """An ``Earnings.as_dict()``-shaped mapping (or a report's money keys)."""
        viewer, creator, platform = (Decimal(str(m[k])) for k in
                                     ("viewer_usd", "creator_usd", "platform_usd"))
        if viewer != creator + platform:
            self._fail(where, f"viewer {viewer} != creator {creator} + platform {platform}")
        if m.get("rate_card") == CARD.name:
            e = earnings(coins, CARD, m.get("channel")).as_dict()
            for k in ("viewer_usd", "creator_usd", "platform_usd", "take_home_usd", "diamonds"):
                if k in m and Decimal(str(m[k])) != Decimal(str(e[k])):
                    self._fail(where, f"{k} {m[k]} is not the money model's {e[k]} for "
                                      f"{coins} coins")

    def report(self, rep: dict[str, Any], where: str) -> None:
        """A ``SessionReport.as_dict()``."""
        self._count("reports")
        where = f"{where} room {rep.get('room_id')}"
        for k in ("coins", "coins_confirmed", "coins_unconfirmed", "guest_coins", "gift_count",
                  "gift_sends", "unique_gifters", "unconfirmed_streaks", "events"):
            if not self._coin(rep.get(k)):
                self._fail(where, f"{k} is not a non-negative integer: {rep.get(k)!r}")
                return
        coins = rep["coins"]
        if rep["coins_confirmed"] + rep["coins_unconfirmed"] != coins:
            self._fail(where, f"confirmed {rep['coins_confirmed']} + unconfirmed "
                              f"{rep['coins_unconfirmed']} != total {coins}")
        if sum(t["coins"] for t in rep["tiers"]) != coins:
            self._fail(where, "gift tiers do not add up to the total coins")
        if sum(m["coins"] for m in rep["coins_per_minute"]) != coins:
            self._fail(where, "coins per minute do not add up to the total coins")
        top = [g["coins"] for g in rep["top_gifters"]]
        if not all(self._coin(c) for c in top) or sum(top) > coins:
            self._fail(where, "top gifters' coins are not integers within the total")
        self.money(rep, coins, where)

    def row(self, row: dict[str, Any], where: str) -> None:
        """A ``SessionRow.as_dict()`` (the sessions list)."""
        self._count("session rows")
        where = f"{where} room {row.get('room_id')}"
        coins, unconfirmed = row.get("coins"), row.get("coins_unconfirmed")
        if not (self._coin(coins) and self._coin(unconfirmed)):
            self._fail(where, f"coins not integers: {coins!r}, {unconfirmed!r}")
            return
        if unconfirmed > coins:
            self._fail(where, f"unconfirmed {unconfirmed} > total {coins}")
        want = earnings(coins, CARD).creator_usd
        if Decimal(str(row["creator_usd"])) != want:
            self._fail(where, f"creator_usd {row['creator_usd']} != {want} for {coins} coins")

    def live(self, state: dict[str, Any], where: str) -> None:
        """A live state (``/api/live/{host}``): coins integers, money consistent."""
        self._count("live states")
        self._walk_coins(state, where)
        coins, unconfirmed = state.get("coins"), state.get("coins_unconfirmed")
        if self._coin(coins) and self._coin(unconfirmed) and unconfirmed > coins:
            self._fail(where, f"unconfirmed {unconfirmed} > total {coins}")
        if self._coin(coins) and state.get("rate_card") == CARD.name:
            e = earnings(coins, CARD, state.get("channel"))
            for k in ("creator_usd", "viewer_usd", "diamonds"):
                if k in state and Decimal(str(state[k])) != getattr(e, k):
                    self._fail(where, f"{k} {state[k]} is not the money model's "
                                      f"{getattr(e, k)} for {coins} coins")

    def _walk_coins(self, obj: Any, where: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == "display":  # the same figures as text for people ("1,234")
                    continue
                if k in ("coins", "coins_confirmed", "coins_unconfirmed") and \
                        not self._coin(v):
                    self._fail(where, f"{k} is not a non-negative integer: {v!r}")
                else:
                    self._walk_coins(v, where)
        elif isinstance(obj, list):
            for v in obj:
                self._walk_coins(v, where)

    def credits(self, db: str | Path, where: str) -> None:
        """Every credit of the ledger: integer coins = coins_each × repeat_count, ≥ 0."""
        with Store.open(str(db), read_only=True) as store:
            n, bad = store.query("""
                SELECT count(*), count(*) FILTER (WHERE coins <> coins_each * repeat_count
                                                  OR coins < 0 OR repeat_count < 1)
                FROM credits""")[0]
        self._count("ledger credits", int(n))
        if bad:
            self._fail(where, f"{bad} credit(s) with coins != coins_each × repeat_count")


# ---------------------------------------------------------------------------- context


@dataclass
class Ctx:
    """What a scenario gets: the mode, the seed, a scratch directory, the invariant checker."""

    short: bool
    seed: int
    work: Path
    inv: Invariants = field(default_factory=Invariants)
    log: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)
    corpus_cache: list[Any] | None = None

    def size(self, full: Any, short: Any) -> Any:
        return short if self.short else full

    def dir(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path


# ---------------------------------------------------------------------------- the CLI


def cli_env(work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIVEWORTH_DB", "LIVEWORTH_DEBUG", "LIVEWORTH_TOKEN")}
    env.update({"LIVEWORTH_CONFIG": str(work / "no-config.toml"), "COLUMNS": "120",
                "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
                .rstrip(os.pathsep), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def cli_cmd(*args: str) -> list[str]:
    return [PY, "-m", "liveworth", *args]


def run_cli(args: Sequence[str], work: Path, timeout: float = 300,
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_cmd(*args), env=kwargs.pop("env", None) or cli_env(work),
                          capture_output=True, text=True, timeout=timeout, cwd=work, **kwargs)


def one_clear_line(stderr: str) -> bool:
    """An error told as one line, without a traceback or an 'internal error'."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return len(lines) == 1 and TRACEBACK not in stderr and "internal error" not in stderr


def cli_commands() -> set[str]:
    """The subcommands this build of the CLI has."""
    import argparse

    from liveworth.cli import build_parser

    parser = build_parser()
    for action in parser._actions:  # argparse has no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


# ---------------------------------------------------------------------------- the store


@dataclass
class State:
    keys: list[tuple[str, str]]
    events: list[tuple[Any, ...]]
    credits: list[tuple[Any, ...]]
    hosts: list[tuple[Any, ...]]


def db_state(db: str | Path) -> State:
    """Everything a report is made of: events, ledger credits and room hosts."""
    with Store.open(str(db), read_only=True) as store:
        return State(
            keys=[(r[0], r[1]) for r in store.query(
                "SELECT room_id, msg_id FROM events ORDER BY room_id, msg_id")],
            events=store.query("SELECT * FROM events ORDER BY ALL"),
            credits=store.query("SELECT * FROM credits ORDER BY ALL"),
            hosts=store.query("SELECT room_id, host FROM rooms ORDER BY ALL"))


def _multiset_diff(a: Iterable[Any], b: Iterable[Any]) -> int:
    ca, cb = collections.Counter(a), collections.Counter(b)
    return sum(((ca - cb) + (cb - ca)).values())


def compare(clean: State, got: State) -> dict[str, int]:
    """Lost, foreign and doubled events, and rows that differ, against the clean run."""
    want, have = set(clean.keys), set(got.keys)
    return {"lost": len(want - have), "foreign": len(have - want),
            "doubled": len(got.keys) - len(have),
            "event rows differing": _multiset_diff(clean.events, got.events),
            "credit rows differing": _multiset_diff(clean.credits, got.credits),
            "room hosts differing": _multiset_diff(clean.hosts, got.hosts)}


def reports(db: str | Path, inv: Invariants, where: str) -> dict[str, dict[str, Any]]:
    """Every session's report (recorder-only 'disconnected' flags left out), each checked
    against the money invariants."""
    out = {}
    with Store.open(str(db), read_only=True) as store:
        for room in store.rooms():
            rep = session_report(store, room, CARD).as_dict()
            inv.report(rep, where)
            rep["flags"] = [f for f in rep["flags"] if f["flag"] != "disconnected"]
            out[room] = rep
    inv.credits(db, where)
    return out


def reports_differing(a: dict[str, Any], b: dict[str, Any]) -> int:
    return sum(1 for room in set(a) | set(b) if a.get(room) != b.get(room))


def clean_import(path: Path, db: Path) -> Path:
    """The reference: ``path`` imported once into a fresh database."""
    from liveworth.ingest.importer import import_paths

    if not db.exists():
        with Store.open(str(db)) as store:
            import_paths(store, [path])
    return db


# ---------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Input:
    """One session (or archive) the recorder replays, and its clean reference database."""

    name: str
    path: Path
    kind: str
    messages: int
    span_s: float
    clean_db: Path


def _retimed(src: Path, dest: Path, seconds: float) -> None:
    """A raw journal of ``src``'s messages with arrival times spread evenly over ``seconds``."""
    import dataclasses

    from liveworth.decode.rawsources import JournalWriter
    from liveworth.ingest.sources import load_raw

    messages, _ = load_raw([src])
    t0 = messages[0].arrival_ms
    step = seconds * 1000 / max(1, len(messages))
    with JournalWriter(dest) as j:
        for i, m in enumerate(messages):
            j.append(dataclasses.replace(m, arrival_ms=t0 + int(i * step)))


#: Simulated sessions: (followers, minutes, seed).
SIMULATED = ((20_000, 20, 11), (400_000, 10, 12), (3_000, 45, 13))


def corpus(ctx: Ctx, small: bool = False) -> list[Input]:
    """The sessions to replay: the real dumps as they are, the real dumps as evenly paced raw
    journals, and simulated sessions encoded as raw journals. Built once per run. ``small``:
    one of each kind only (for the tests)."""
    if ctx.corpus_cache is not None:
        return ctx.corpus_cache
    from faults.simraw import events_to_journal
    from liveworth.ingest.sources import load_raw

    work = ctx.dir("corpus")
    made: list[tuple[str, Path, str]] = []
    dumps = sorted(DUMPS.glob("*.json.gz"))
    if small:
        dumps = [d for d in dumps if d.name == "dupa.json.gz"]
    for dump in dumps:
        made.append((dump.name, dump, "real dump"))
    for dump in dumps:
        dest = work / f"{dump.name.removesuffix('.json.gz')}.retimed.journal.jsonl"
        if not dest.exists():
            _retimed(dump, dest, 3.0)
        made.append((dest.name, dest, "real dump as a raw journal"))
    for followers, minutes, seed in SIMULATED[-1:] if small else SIMULATED:
        name = f"sim-{followers}-{minutes}m-{seed}"
        events, journal = work / f"{name}.jsonl", work / f"{name}.journal.jsonl"
        if not journal.exists():
            room = str(7_100_000_000_000_000_000 + seed)
            done = run_cli(["simulate", "--followers", str(followers), "--minutes",
                            str(minutes), "--seed", str(seed), "--room-id", room,
                            "--out", str(events), "--truth", str(work / f"{name}.truth.json")],
                           work)
            if done.returncode != 0:
                raise RuntimeError(f"simulate failed: {done.stderr.strip()}")
            events_to_journal(events, journal, f"sim_{seed}")
        made.append((journal.name, journal, "simulated session as a raw journal"))
    out = []
    for name, path, kind in made:
        messages, _ = load_raw([path])
        span = (messages[-1].arrival_ms - messages[0].arrival_ms) / 1000 if messages else 0.0
        clean = clean_import(path, work / f"{name}.clean.duckdb")
        out.append(Input(name, path, kind, len(messages), span, clean))
    ctx.corpus_cache = out
    return out


_CLEAN: dict[Path, tuple[State, dict[str, Any]]] = {}
_CLEAN_LOCK = threading.Lock()


def clean_reference(ctx: Ctx, inp: Input) -> tuple[State, dict[str, Any]]:
    """The clean import's state and reports (computed once per input)."""
    with _CLEAN_LOCK:
        if inp.clean_db not in _CLEAN:
            _CLEAN[inp.clean_db] = (db_state(inp.clean_db),
                                    reports(inp.clean_db, ctx.inv, f"clean {inp.name}"))
        return _CLEAN[inp.clean_db]


def truth_coins(inp: Input) -> int | None:
    """The simulator's ground-truth credited coins of a simulated input."""
    truth = inp.path.with_name(inp.path.name.replace(".journal.jsonl", ".truth.json"))
    if inp.kind.startswith("simulated") and truth.exists():
        return int(json.loads(truth.read_text())["coins"])
    return None


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------------------- newer parts


def run_batch(spec: list[dict[str, Any]], work: Path, timeout: float = 1800,
              **env: str) -> list[dict[str, Any]]:
    """Command lines run in one process (``faults/cli_batch.py``): each one's ``code``,
    ``stdout`` and ``stderr``, in order. A process that died (a segfault) leaves the list
    shorter than ``spec``; the caller counts what is missing as failed."""
    work.mkdir(parents=True, exist_ok=True)
    spec_path, out_path = work / "batch-spec.json", work / "batch-out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    subprocess.run([PY, str(ROOT / "faults" / "cli_batch.py"), str(spec_path), str(out_path)],
                   env=cli_env(work, **env), cwd=work, capture_output=True, timeout=timeout)
    result: list[dict[str, Any]] = json.loads(out_path.read_text()) \
        if out_path.exists() else []
    return result


def rehosted(src: Path, dest: Path, host: str, span_s: float | None = None,
             first: int | None = None) -> Path:
    """A raw journal of ``src``'s messages (its ``first`` ones) as creator ``host``'s recording
    (every line's host is ``host``), paced evenly over ``span_s`` seconds when given. Rooms,
    message ids and event times stay the payloads' own."""
    import dataclasses

    from liveworth.decode.rawsources import JournalWriter
    from liveworth.ingest.sources import load_raw

    messages, _ = load_raw([src])
    messages = messages[:first] if first else messages
    t0 = messages[0].arrival_ms
    step = (span_s or 0) * 1000 / max(1, len(messages))
    dest.unlink(missing_ok=True)
    with JournalWriter(dest) as j:
        for i, m in enumerate(messages):
            j.append(dataclasses.replace(
                m, host=host, arrival_ms=t0 + int(i * step) if span_s else m.arrival_ms))
    return dest


def journals_in(directory: Path) -> list[Path]:
    """The journals a recorder start reads from ``directory`` (docs/RECORDING.md)."""
    return sorted(directory.glob("*.journal.jsonl")) if directory.is_dir() else []


def import_fresh(paths: Sequence[Path], db: Path, fmt: str = "journal") -> Path:
    """``paths`` imported once into a new database ``db`` (replaced if it exists)."""
    from liveworth.ingest.importer import import_paths

    for p in (db, Path(f"{db}.wal"), Path(f"{db}.rejects.jsonl")):
        p.unlink(missing_ok=True)
    with Store.open(str(db)) as store:
        if paths:
            import_paths(store, list(paths), fmt)
    return db


#: Per room: events stored, coins credited, of them unconfirmed, to guests, credit rows.
Ledger = dict[str, tuple[int, int, int, int, int]]


def room_ledger(db: str | Path) -> Ledger:
    """Every room's events and ledger totals (sums exact: DuckDB adds BIGINTs as HUGEINT)."""
    if not Path(db).exists():
        return {}
    with Store.open(str(db), read_only=True) as store:
        rows = store.query("""
            WITH e AS (SELECT room_id, count(*) AS n FROM events GROUP BY room_id),
                 c AS (SELECT room_id, sum(coins) AS coins,
                              coalesce(sum(coins) FILTER (WHERE NOT confirmed), 0) AS unconf,
                              coalesce(sum(coins) FILTER (WHERE guest), 0) AS guest,
                              count(*) AS rows
                       FROM credits GROUP BY room_id)
            SELECT coalesce(e.room_id, c.room_id), coalesce(e.n, 0), coalesce(c.coins, 0),
                   coalesce(c.unconf, 0), coalesce(c.guest, 0), coalesce(c.rows, 0)
            FROM e FULL JOIN c ON e.room_id = c.room_id""")
    return {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows}


def ledger_differing(want: Ledger, got: Ledger, rooms: Iterable[str] | None = None) -> list[str]:
    """The rooms (of ``rooms``, default: every room of either) whose events or ledger totals
    differ, each with what differs."""
    out = []
    for room in sorted(set(want) | set(got) if rooms is None else set(rooms)):
        a, b = want.get(room), got.get(room)
        if a != b:
            out.append(f"room {room}: (events, coins, unconfirmed, guest, credits) "
                       f"{b} instead of {a}")
    return out


def stale_rooms(db: Path, scratch: Path) -> int:
    """Rooms whose credits lag their stored events (what a killed writer leaves behind): a copy
    of ``db`` has its whole ledger recomputed, and the rooms whose totals change are counted."""
    from liveworth.store import ledger

    if not db.exists():
        return 0
    copy = scratch / "stale-check.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
        if Path(f"{db}{suffix}").exists():
            import shutil

            shutil.copy(f"{db}{suffix}", f"{copy}{suffix}")
    try:
        before = room_ledger(copy)
        with Store.open(str(copy)) as store:
            store.begin()
            ledger.recompute(store.con, store.rooms())
            store.commit()
        return len(ledger_differing(before, room_ledger(copy)))
    except Exception:  # a database killed during its creation has nothing to lag
        return 0


def sessions_json(db: Path, work: Path, inv: Invariants, where: str
                  ) -> dict[str, dict[str, Any]] | str:
    """``liveworth sessions --json`` of ``db`` by room, each row checked against the money
    invariants; or why the command failed."""
    done = run_cli(["sessions", "--json", "--db", str(db)], work, timeout=120)
    if done.returncode != 0 or TRACEBACK in done.stderr:
        return f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
    rows: dict[str, dict[str, Any]] = {}
    for row in json.loads(done.stdout):
        inv.row(row, where)
        rows[row["room_id"]] = row
    return rows


def session_totals(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """The totals of ``sessions --json`` rows that a clean import must give the same."""
    return {room: (r["coins"], r["coins_unconfirmed"], r["creator_usd"], r["events"],
                   r["unique_gifters"]) for room, r in rows.items()}

"""1b. Crash, then something else: the next start does not touch the killed room.

A recorder killed mid-LIVE is rarely restarted on the same input (which would touch every room
it had and hide what it left behind): the next ``record`` is another creator's, on a journal
directory that holds older journals, some archived (gzip) and some torn. Three parts:

- **another creator's restart** — ``liveworth record --replay A ... --journal J --db D``, paced
  so that its replay lasts about 3 s, is killed at a seeded random moment 0.2 to 3 s after its
  journal began (the crash scenario covers the moments before), half the time with SIGKILL and
  half with SIGTERM (what systemd and docker send first); every other A is a simulated session,
  whose gifts keep its credits behind its events at most moments. The next command is
  ``record`` for another input B on the same J and D: other creators (other journal files) and
  other rooms, so it never touches A's rooms. After **recovery alone**
  (``liveworth.ingest.recorder.recover`` on a copy of D: what every start runs first) and after
  **that restart**, every room's ledger — its events, coins credited, unconfirmed coins, guest
  coins and credit rows — and its report totals (``session_report``, and ``liveworth sessions
  --json`` after the restart) must equal a clean import of the journals (the journal is written
  first: what reached it is what counts);
- **archived journals** — a journal directory that already holds older LIVEs: one never stored
  in D (plain or gzip), one compressed in place after it was closed, one moved to a dated name
  (gzip, some as ``*.journal.jsonl.gz``), and the same creator's *next* journal at the old path,
  smaller than the old checkpoint: either written by a recorder killed at a random moment
  (SIGKILL or SIGTERM) or journaled but never stored (a kill between the journal's fsync and the
  store's commit, made deterministic). After another creator's restart every LIVE of every
  journal must be in D, with the coins of a clean import of all the journals; a new database
  rebuilt from the directory (``record`` with a new ``--db``) must hold every LIVE of its
  ``*.journal.jsonl`` files; and when a creator's closed journal was compressed in place (its
  name kept), every message of that creator's next LIVE that the connection hands over must
  reach a journal (in process, each message counted);
- **torn first lines** — a journal whose first line was cut short (as a full disk leaves it;
  also zero-filled, and a journal that is nothing but that fragment before its creator records
  again). ``record`` for another creator on that directory, the same creator's next ``record``
  (which appends to it), ``import --format journal`` and ``import`` (sniffed) must each keep every
  other line, with exactly one reject.
"""

from __future__ import annotations

import collections
import gzip
import json
import random
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from faults import crash
from faults.common import (
    DUMPS,
    TRACEBACK,
    Ctx,
    Figure,
    Input,
    at_least,
    cli_cmd,
    cli_env,
    compare,
    corpus,
    db_state,
    import_fresh,
    info,
    journals_in,
    ledger_differing,
    rehosted,
    reports,
    reports_differing,
    room_ledger,
    run_batch,
    run_cli,
    session_totals,
    sessions_json,
    stale_rooms,
    zero,
)
from liveworth.decode.rawsources import RawMessage, RawReject, iter_journal
from liveworth.ingest.recorder import journal_path, recover

SCENARIO = "1b. crash, then another creator; archived and torn journals"
SIGNALS = (signal.SIGKILL, signal.SIGTERM)


def _record(paths: list[Path], db: Path, journal: Path, speed: str, *extra: str) -> list[str]:
    return ["record", "--replay", *map(str, paths), "--speed", speed, "--db", str(db),
            "--journal", str(journal), "--quiet", *extra]


def kill_while_recording(cmd: list[str], work: Path, watch: Path, delay: float,
                         sig: signal.Signals) -> str:
    """Run ``cmd``, wait until its journal ``watch`` has its first bytes, let it record for
    ``delay`` more seconds and send it ``sig``. Where the kill landed."""
    proc = subprocess.Popen(cmd, env=cli_env(work), cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and not (
                watch.exists() and watch.stat().st_size > 0):
            time.sleep(0.01)
        proc.wait(timeout=delay)
        return "after the run had ended"
    except subprocess.TimeoutExpired:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # it caught the signal and went on: kill it
            proc.kill()
            proc.wait(timeout=60)
        return "while recording"


def _copy_db(db: Path, dest: Path) -> Path:
    for suffix in ("", ".wal"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", f"{dest}{suffix}")
    return dest


# ---------------------------------------------------------------------------- 1. another creator


_FOOTPRINT: dict[Path, tuple[frozenset[str], frozenset[str]]] = {}
_FIRST_JOURNAL: dict[Path, str] = {}


def footprint(inp: Input) -> tuple[frozenset[str], frozenset[str]]:
    """The journal files a replay of ``inp`` writes and the rooms it touches. A replay records
    each creator of the file as itself, in its own journal (a message without a host goes to
    the first host's); the journal of the first message's creator is written first."""
    if inp.path not in _FOOTPRINT:
        from liveworth.ingest.sources import load_raw, replay_sources

        messages, _ = load_raw([inp.path])
        fallback = next((m.host for m in messages if m.host), "replay")
        sources = replay_sources(messages, fallback, None)  # what `record --replay` makes
        files = frozenset(journal_path(Path("."), s.host).name for s in sources)
        _FIRST_JOURNAL[inp.path] = journal_path(Path("."), sources[0].host).name
        _FOOTPRINT[inp.path] = (files, frozenset(room_ledger(inp.clean_db)))
    return _FOOTPRINT[inp.path]


def first_journal(inp: Input) -> str:
    """The journal file a replay of ``inp`` writes first."""
    footprint(inp)
    return _FIRST_JOURNAL[inp.path]


def partner(inp: Input, inputs: list[Input], rng: random.Random) -> Input | None:
    """Another input that shares no creator (journal file) and no room with ``inp``; the
    smaller half of them, so that restarts stay quick."""
    files, rooms = footprint(inp)
    others = sorted((o for o in inputs if o is not inp and not footprint(o)[0] & files
                     and not footprint(o)[1] & rooms), key=lambda o: (o.messages, o.name))
    others = others[: max(1, (len(others) + 1) // 2)]
    return rng.choice(others) if others else None


@dataclass
class Kill:
    index: int
    a: str
    b: str
    sig: str
    kill_at: float
    phase: str = ""
    rooms_a: int = 0
    stale_at_kill: int = 0
    recovery_differing: list[str] = field(default_factory=list)
    recovery_reports: int = 0
    restart_failed: str = ""
    restart_differing: list[str] = field(default_factory=list)
    rows_differing: int = 0
    restart_reports: int = 0
    sessions_differing: list[str] = field(default_factory=list)


def kill_then_other(ctx: Ctx, index: int, a: Input, b: Input, sig: signal.Signals) -> Kill:
    rng = random.Random(ctx.seed * 7919 + index)
    work = ctx.work / "restart" / f"k{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, journal = work / "rec.duckdb", work / "journal"
    # Once its journal has begun (the crash scenario covers the moments before).
    k = Kill(index, a.name, b.name, sig.name, round(rng.uniform(0.2, crash.REPLAY_S), 3))
    watch = journal / first_journal(a)
    k.phase = kill_while_recording(cli_cmd(*_record([a.path], db, journal, crash._speed(a))),
                                   work, watch, k.kill_at, sig)
    at_kill = journals_in(journal)
    k.stale_at_kill = stale_rooms(db, work)

    # Recovery alone, on a copy (the restart below must do it by itself).
    clean_kill = import_fresh(at_kill, work / "clean-at-kill.duckdb")
    want = room_ledger(clean_kill)
    k.rooms_a = len(want)
    copy = _copy_db(db, work / "recovered.duckdb")
    recover(str(copy), journal)
    k.recovery_differing = ledger_differing(want, room_ledger(copy))
    k.recovery_reports = reports_differing(reports(clean_kill, ctx.inv, "clean at kill"),
                                           reports(copy, ctx.inv, f"restart {index} recovered"))

    # The restart: another creator, other rooms.
    done = subprocess.run(cli_cmd(*_record([b.path], db, journal, "max", "--json")),
                          env=cli_env(work), cwd=work, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0 or TRACEBACK in done.stderr:
        k.restart_failed = f"exit {done.returncode}: {done.stderr.strip()[-240:]}"
        return k
    for rep in json.loads(done.stdout.splitlines()[-1])["sessions"]:  # --json: the summary is last
        ctx.inv.report(rep, f"restart {index} (B)")
    clean_all = import_fresh(journals_in(journal), work / "clean-all.duckdb")
    k.restart_differing = ledger_differing(room_ledger(clean_all), room_ledger(db))
    k.rows_differing = sum(compare(db_state(clean_all), db_state(db)).values())
    k.restart_reports = reports_differing(reports(clean_all, ctx.inv, "clean all"),
                                          reports(db, ctx.inv, f"restart {index}"))
    got = sessions_json(db, work, ctx.inv, f"restart {index} sessions")
    ref = sessions_json(clean_all, work, ctx.inv, "clean sessions")
    if isinstance(got, str) or isinstance(ref, str):
        k.sessions_differing = [f"sessions --json failed: {got if isinstance(got, str) else ref}"]
    else:
        g, w = session_totals(got), session_totals(ref)
        k.sessions_differing = [f"room {r}: {g.get(r)} instead of {w.get(r)}"
                                for r in sorted(set(g) | set(w)) if g.get(r) != w.get(r)]
    return k


def other_creator(ctx: Ctx, moments: int | None = None,
                  workers: int | None = None) -> list[Figure]:
    s = SCENARIO
    n = moments if moments is not None else ctx.size(24, 4)
    inputs = corpus(ctx)
    rng = random.Random(ctx.seed + 1)
    plan: list[tuple[int, Input, Input, signal.Signals]] = []
    # Simulated sessions (gifts every second) for every other kill: their rooms' credits lag
    # their events at most moments; the real dumps for the rest.
    sims = [i for i in inputs if i.kind.startswith("simulated")]
    real = [i for i in inputs if not i.kind.startswith("simulated")]
    rng.shuffle(sims)
    rng.shuffle(real)
    for i in range(n):
        a = sims[i // 2 % len(sims)] if i % 2 == 0 and sims else real[i // 2 % len(real)]
        b = partner(a, inputs, rng)
        if b is None:
            raise RuntimeError(f"no input without {a.name}'s creators and rooms")
        plan.append((i, a, b, SIGNALS[i % 2]))
    ctx.log(f"  restart: {n} kills, each followed by another creator's recording")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        kills = list(pool.map(lambda p: kill_then_other(ctx, *p), plan))
    elapsed = time.monotonic() - t0
    sigs = collections.Counter(k.sig for k in kills)
    phases = collections.Counter(k.phase for k in kills)
    failed = [k for k in kills if k.restart_failed]
    stale = sum(k.stale_at_kill for k in kills)

    def first(attr: str) -> str:
        return "; ".join(f"kill {k.index} ({k.a} then {k.b}): {getattr(k, attr)[0]}"
                         for k in kills if getattr(k, attr))[:600]

    return [
        at_least(s, "kills followed by another creator's recording", len(kills), n,
                 ", ".join(f"{v} {k}" for k, v in sorted(sigs.items()))),
        info(s, "where the kills landed", "; ".join(f"{v} {k}" for k, v in
                                                   sorted(phases.items()))),
        Figure(s, "rooms whose credits lagged their events at the kill (what the next start "
                  "must settle without touching them)", stale, "≥ 1" if n >= 8 else "reported",
               stale >= 1 if n >= 8 else None,
               f"over {sum(k.rooms_a for k in kills)} killed rooms; a run without any would "
               "not test the settling"),
        zero(s, "rooms whose coins differ from a clean import of the journal after recovery "
                "alone", sum(len(k.recovery_differing) for k in kills),
             first("recovery_differing")),
        zero(s, "another creator's restarts that failed (exit ≠ 0 or traceback)", len(failed),
             "; ".join(f"kill {k.index}: {k.restart_failed}" for k in failed[:2])),
        zero(s, "rooms whose coins differ from a clean import after another creator's restart",
             sum(len(k.restart_differing) for k in kills), first("restart_differing")),
        zero(s, "rooms whose `sessions --json` totals differ from a clean import's after the "
                "restart", sum(len(k.sessions_differing) for k in kills),
             first("sessions_differing")),
        zero(s, "event or ledger rows different from a clean import after the restart",
             sum(k.rows_differing for k in kills)),
        zero(s, "reports different from a clean import (recovery alone and restart, session × "
                "kill)", sum(k.recovery_reports + k.restart_reports for k in kills)),
        info(s, "wall time: another creator's restart", f"{elapsed:.0f} s",
             f"2 kills at a time, each 0.2-{crash.REPLAY_S:.0f} s after its journal began"),
    ]


# ---------------------------------------------------------------------------- 2. archived journals


@dataclass
class Lives:
    """The LIVEs of the archive part, as raw journals outside any journal directory."""

    alice1: Path  # alice's earlier LIVE (recorded, then archived)
    alice2: Path  # alice's next LIVE: smaller, at the same path
    bob: Path  # recorded, then compressed in place
    carol: Path  # an older journal found in the directory, never stored in this database
    dave: Path  # the other creator whose recording is the restart
    noop: Path


def lives(ctx: Ctx) -> Lives:
    work = ctx.dir("restart/lives")
    made = Lives(
        alice1=work / "alice1.jsonl", alice2=work / "alice2.jsonl", bob=work / "bob.jsonl",
        carol=work / "carol.jsonl", dave=work / "dave.jsonl", noop=work / "noop.jsonl")
    if not made.noop.exists():
        rehosted(DUMPS / "dupa.json.gz", made.alice1, "alice")
        rehosted(DUMPS / "web.json.gz", made.alice2, "alice", span_s=2.0)
        rehosted(DUMPS / "jw.json.gz", made.bob, "bob")
        rehosted(DUMPS / "giftsCollector.json.gz", made.carol, "carol")
        rehosted(DUMPS / "ab.json.gz", made.dave, "dave")
        made.noop.write_text(json.dumps({"v": 1, "arrival_ms": 1, "room_id": None,
                                         "host": "noop", "method": "FaultsNoop",
                                         "payload": ""}) + "\n")
        rooms = [set(room_ledger(import_fresh([p], work / f"{p.stem}.duckdb")))
                 for p in (made.alice1, made.alice2, made.bob, made.carol, made.dave)]
        if sum(map(len, rooms)) != len(set().union(*rooms)):
            raise RuntimeError("the archive part's LIVEs share rooms (harness)")
    return made


def _gzip_to(src: Path, dest: Path) -> None:
    data = src.read_bytes()
    src.unlink()
    dest.write_bytes(gzip.compress(data))


@dataclass
class Archive:
    index: int
    how: str
    lives: int = 0
    missing: list[str] = field(default_factory=list)
    rows_differing: int = 0
    failed: list[str] = field(default_factory=list)
    rebuilt_missing: list[str] = field(default_factory=list)
    only_in_gz: int = 0


def archive_case(ctx: Ctx, index: int, live: Lives) -> Archive:
    rng = random.Random(ctx.seed * 31 + index)
    killed_next = index % 2 == 0  # else: journaled, never stored (deterministic)
    sig = SIGNALS[index // 2 % 2]
    gz_name = index % 3 == 1  # alice's archive as alice.journal.jsonl.gz, else a dated name
    work = ctx.work / "restart" / f"a{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, journal = work / "rec.duckdb", work / "journal"
    journal.mkdir()
    a = Archive(index, "")

    def cli(args: list[str], what: str) -> None:
        done = run_cli(args, work, timeout=300)
        if done.returncode != 0 or TRACEBACK in done.stderr:
            a.failed.append(f"{what}: exit {done.returncode}: {done.stderr.strip()[-200:]}")

    # An older LIVE found in the directory (never stored here), plain or gzip.
    carol = journal / "carol.journal.jsonl"
    shutil.copy(live.carol, carol)
    if index % 4 in (1, 2):
        _gzip_to(carol, journal / "carol.2023-11-30.journal.jsonl")
    # Earlier LIVEs recorded into this database, then archived once closed.
    cli(_record([live.alice1], db, journal, "max"), "alice's first recording")
    cli(_record([live.bob], db, journal, "max"), "bob's recording")
    alice, bob = journal / "alice.journal.jsonl", journal / "bob.journal.jsonl"
    if not (alice.exists() and bob.exists()):
        a.failed.append("the first recordings left no journal")
        return a
    archived = journal / ("alice.journal.jsonl.gz" if gz_name else
                          "alice.2023-12-05.journal.jsonl")
    _gzip_to(alice, archived)
    bob.write_bytes(gzip.compress(bob.read_bytes()))  # in place, the name kept
    # alice's next LIVE at the old path: smaller than the checkpoint of the first.
    if killed_next:
        kill_at = rng.uniform(0.0, 2.5)  # its replay lasts 2 s
        where = kill_while_recording(cli_cmd(*_record([live.alice2], db, journal, "1")), work,
                                     alice, kill_at, sig)
        a.how = f"next LIVE killed ({sig.name}, {where})"
    else:
        shutil.copy(live.alice2, alice)
        a.how = "next LIVE journaled, never stored"
    a.how += ", archive " + archived.name.replace("alice", "A")
    if alice.exists() and alice.stat().st_size >= live.alice1.stat().st_size:
        a.failed.append("the next journal is not smaller than the first (harness)")
    # Another creator's recording: the restart.
    cli(_record([live.dave], db, journal, "max"), "restart (another creator)")
    every = sorted(p for p in journal.iterdir() if p.is_file())
    clean = import_fresh(every, work / "clean.duckdb")
    want = room_ledger(clean)
    a.lives = len(want)
    a.missing = ledger_differing(want, room_ledger(db))
    a.rows_differing = sum(compare(db_state(clean), db_state(db)).values())
    reports(db, ctx.inv, f"archive case {index}")
    # A new database rebuilt from the directory.
    fresh = work / "fresh.duckdb"
    cli(_record([live.noop], fresh, journal, "max"), "rebuild into a new database")
    readable = import_fresh(journals_in(journal), work / "clean-journals.duckdb")
    a.rebuilt_missing = ledger_differing(room_ledger(readable), room_ledger(fresh),
                                         rooms=room_ledger(readable))
    a.only_in_gz = len(set(want) - set(room_ledger(readable)))
    return a


def archived(ctx: Ctx, cases: int | None = None, workers: int | None = None) -> list[Figure]:
    s = SCENARIO
    n = cases if cases is not None else ctx.size(8, 2)
    live = lives(ctx)
    ctx.log(f"  restart: {n} journal directories with archived journals")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or 2) as pool:
        done = list(pool.map(lambda i: archive_case(ctx, i, live), range(n)))
    failed = [f"case {c.index}: {f}" for c in done for f in c.failed]
    return [
        at_least(s, "journal directories with older, archived (gzip) journals and a creator's "
                    "next journal at the same path", len(done), n,
                 "; ".join(sorted({c.how for c in done}))),
        info(s, "LIVEs in those journals (all cases)", sum(c.lives for c in done)),
        zero(s, "commands that failed there (record, restart, rebuild)", len(failed),
             "; ".join(failed[:2])),
        zero(s, "LIVEs missing (events or coins differ from a clean import of every journal) "
                "after another creator's restart", sum(len(c.missing) for c in done),
             "; ".join(f"case {c.index} ({c.how}): {c.missing[0]}" for c in done
                       if c.missing)[:600]),
        zero(s, "event or ledger rows different from that clean import",
             sum(c.rows_differing for c in done)),
        zero(s, "LIVEs of `*.journal.jsonl` files missing from a database rebuilt from the "
                "directory", sum(len(c.rebuilt_missing) for c in done),
             "; ".join(f"case {c.index}: {c.rebuilt_missing[0]}" for c in done
                       if c.rebuilt_missing)[:400]),
        info(s, "LIVEs only in `*.journal.jsonl.gz` archives, which a rebuild does not read",
             sum(c.only_in_gz for c in done),
             "recovery reads `*.journal.jsonl` files (gzip or plain); an archive renamed "
             "`.gz` stays in the database that recorded it"),
        info(s, "wall time: archived journals", f"{time.monotonic() - t0:.0f} s"),
    ]


def compressed_in_place(ctx: Ctx) -> list[Figure]:
    """A creator's closed journal compressed where it lies (its name kept, as docs/JOURNAL.md
    allows: readers know gzip by its magic bytes), then that creator's next LIVE: every message
    the connection hands over must reach the journal (docs/RECORDING.md) — a new journal, or a
    refusal before anything is taken. In process, so that each message taken is counted."""
    import asyncio

    from faults.storage import Counting
    from liveworth.ingest.recorder import record
    from liveworth.ingest.sources import load_raw

    s = SCENARIO
    live = lives(ctx)
    work = ctx.work / "restart" / "in-place"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, journal = work / "rec.duckdb", work / "journal"
    first = run_cli(_record([live.bob], db, journal, "max"), work, timeout=300)
    path = journal / "bob.journal.jsonl"
    if first.returncode != 0 or not path.exists():
        return [Figure(s, "compressed in place: setup", first.stderr.strip()[-200:], "runs",
                       False)]
    path.write_bytes(gzip.compress(path.read_bytes()))
    messages, _ = load_raw([live.alice2])  # bob's next LIVE (another room)
    source = Counting(messages, "bob", None)
    error = ""
    try:
        asyncio.run(record([source], str(db), journal))
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]}"
    journaled = {(m.method, m.payload) for p in journal.iterdir() if p.is_file()
                 for m in iter_journal(p) if isinstance(m, RawMessage)}
    lost = sum((m.method, m.payload) not in journaled for m in source.delivered)
    return [zero(s, "a creator's next LIVE after their closed journal was compressed in place: "
                    "messages taken from the connection but not journaled", lost,
                 f"{len(source.delivered)} taken; the recorder said: {error or 'nothing'}")]


# ---------------------------------------------------------------------------- 3. torn first lines


def _tears(first: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    body = first.rstrip(b"\n")
    return [("cut after 1 byte", body[:1]),
            ("cut in half", body[: len(body) // 2]),
            ("cut 2 bytes short", body[:-2]),
            ("cut at a random byte", body[: rng.randrange(2, len(body) - 1)]),
            ("zero-filled", b"\0" * len(body)),
            ("cut inside the payload", body[: body.index(b'"payload"') + 20])]


@dataclass
class Torn:
    name: str
    problems: list[str] = field(default_factory=list)


def torn_case(ctx: Ctx, index: int, name: str, fragment: bytes, rest: list[bytes],
              live: Lives, alone: bool) -> Torn:
    """A journal ``fragment + \\n + rest`` (``alone``: the fragment only, without its ``\\n``,
    and then its creator records ``rest``)."""
    t = Torn(name + (", nothing after it" if alone else ""))
    work = ctx.work / "restart" / f"t{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    journal = work / "journal"
    journal.mkdir()
    path = journal / "alice.journal.jsonl"  # the lines' creator: she may record again
    whole = work / "rest.jsonl"
    whole.write_bytes(b"".join(rest))
    want = room_ledger(import_fresh([whole], work / "clean.duckdb"))
    db = work / "rec.duckdb"
    if alone:
        path.write_bytes(fragment)
        more = work / "more.jsonl"
        more.write_bytes(b"".join(rest))
        steps = [_record([more], db, journal, "max"),  # its creator records again: appends
                 _record([live.noop], db, journal, "max")]
    else:
        path.write_bytes(fragment + b"\n" + b"".join(rest))
        steps = [_record([live.noop], db, journal, "max")]  # another creator
    for args in steps:
        done = run_cli(args, work, timeout=300)
        if done.returncode != 0 or TRACEBACK in done.stderr:
            t.problems.append(f"record: exit {done.returncode}: {done.stderr.strip()[-200:]}")
    lost = ledger_differing(want, room_ledger(db), rooms=want)
    if lost:
        t.problems.append(f"record lost lines: {lost[0]}")
    rejects = sum(isinstance(x, RawReject) for x in iter_journal(path))
    kept = sum(isinstance(x, RawMessage) for x in iter_journal(path))
    if (rejects, kept) != (1, len(rest)):
        t.problems.append(f"the journal reads as {kept} lines and {rejects} rejects, not "
                          f"{len(rest)} and 1")
    spec = [{"argv": ["import", "--json", "--db", str(work / f"{fmt}.duckdb"),
                      *(["--format", fmt] if fmt != "auto" else []), str(path)],
             "cwd": str(work)} for fmt in ("journal", "auto")]
    results = run_batch(spec, work / "batch")
    for item, res in zip(spec, results, strict=False):
        fmt = "auto" if "--format" not in item["argv"] else "journal"
        if res["code"] != 0 or TRACEBACK in res["stderr"]:
            t.problems.append(f"import ({fmt}): exit {res['code']}: {res['stderr'][-200:]}")
            continue
        got = json.loads(res["stdout"])
        if got["rejected"] != 1:
            t.problems.append(f"import ({fmt}): {got['rejected']} rejects, not 1")
        if ledger_differing(want, room_ledger(work / f"{fmt}.duckdb")):
            t.problems.append(f"import ({fmt}) lost lines (accepted {got['accepted']})")
    if len(results) < len(spec):
        t.problems.append("the import process died")
    return t


def torn_first_lines(ctx: Ctx, cases: int | None = None) -> list[Figure]:
    s = SCENARIO
    live = lives(ctx)
    rng = random.Random(ctx.seed + 3)
    lines = live.alice1.read_bytes().splitlines(keepends=True)[:150]
    tears = _tears(lines[0], rng)
    n = cases if cases is not None else ctx.size(len(tears) + 2, 3)
    plan = [(i, *tears[i % len(tears)], lines[1:], live, i >= len(tears) or i == n - 1)
            for i in range(n)]
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda p: torn_case(ctx, *p), plan))
    bad = [t for t in done if t.problems]
    return [
        at_least(s, "journals with a torn first line", len(done), n,
                 "; ".join(sorted({t.name for t in done}))),
        zero(s, "torn first lines that lost a line or gave other than one reject (record for "
                "another creator, the same creator's next record, import --format journal, "
                "import)", len(bad),
             "; ".join(f"{t.name}: {t.problems[0]}" for t in bad[:2])),
        info(s, "wall time: torn first lines", f"{time.monotonic() - t0:.0f} s"),
    ]


def run(ctx: Ctx) -> list[Figure]:
    out: list[Figure] = []
    for part in (other_creator, archived, compressed_in_place, torn_first_lines):
        ctx.log(f"  restart: {part.__name__.replace('_', ' ')}")
        out += part(ctx)
    return out

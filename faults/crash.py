"""1. Crash: SIGKILL or SIGTERM the recorder at random moments of replayed sessions, then restart
it.

Each moment (seeded) picks a session of the corpus (real dumps, real dumps as paced raw
journals, simulated sessions as raw journals) and runs, as a user would::

    python -m liveworth record --replay FILE --speed X --db D --journal J --quiet

paced so that the replay lasts about 3 s, and stops it at a moment drawn uniformly over its whole
run (start-up, recovery, replay, ledger, final report): with SIGKILL at even moments, with SIGTERM
(what systemd and docker send) at odd ones. Every fourth moment also SIGKILLs the first restart
(``--speed max``) at a random moment, so that recovery itself is interrupted. Then:

- **a SIGTERM is a clean stop**: exit 0, no traceback, and — before any recovery — every event
  of every journaled message already in the store (the recorder drained, journaled and stored
  what it had taken);
- **recovery alone** (``liveworth.ingest.recorder.recover``, what every recorder start runs first):
  every event of a message that reached the journal must be in the store, once, and the store must
  hold nothing the journal lacks (the journal is written first);
- **the restart** (the same command with ``--speed max``) must exit 0 and leave the store equal
  to a clean import of the same input: no event lost, none counted twice, the same ledger, the
  same report for every session.
"""

from __future__ import annotations

import collections
import itertools
import json
import random
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from faults.common import (
    TRACEBACK,
    Ctx,
    Figure,
    Input,
    at_least,
    clean_reference,
    cli_cmd,
    cli_env,
    compare,
    corpus,
    db_state,
    info,
    reports_differing,
    truth_coins,
    zero,
)
from liveworth.decode.rawsources import RawMessage, RawReject, decode_raw, iter_journal
from liveworth.errors import LiveworthError
from liveworth.ingest.recorder import recover
from liveworth.store.database import Store

SCENARIO = "1. crash (SIGKILL, SIGTERM)"
#: How long a paced replay lasts (s); the recorder's start-up and end come on top.
REPLAY_S = 3.0


@dataclass
class Moment:
    index: int
    input: str
    kill_at: float
    phase: str
    double: bool
    sig: str = "SIGKILL"
    term_bad_exit: int = 0
    term_unstored: int = 0
    term_stderr: str = ""
    journaled: int = 0
    torn: int = 0
    lost_after_recovery: int = 0
    store_ahead_of_journal: int = 0
    doubled_after_recovery: int = 0
    restart_failed: int = 0
    restart_stderr: str = ""
    diff: dict[str, int] = field(default_factory=dict)
    reports_differing: int = 0
    truth_mismatch: int = 0


def _speed(inp: Input) -> str:
    # within what --speed accepts: a dump spanning weeks would otherwise ask for more than its
    # maximum and the paced run would be a usage error, never a recording (as it was before
    # the SIGTERM moments looked at the exit status)
    return f"{min(max(inp.span_s / REPLAY_S, 0.001), 1_000_000):.6g}"


def _record(inp: Input, db: Path, journal: Path, speed: str) -> list[str]:
    return cli_cmd("record", "--replay", str(inp.path), "--speed", speed, "--db", str(db),
                   "--journal", str(journal), "--quiet")


def _handles(pid: int, sig: signal.Signals) -> bool:
    """Whether process ``pid`` catches or ignores ``sig`` now (``/proc``; True if unknown)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    masks = [int(line.split()[1], 16) for line in status.splitlines()
             if line.startswith(("SigCgt:", "SigIgn:"))]
    return not masks or any(m >> (sig - 1) & 1 for m in masks)


def _start_and_kill(cmd: list[str], work: Path, kill_at: float,
                    sig: signal.Signals = signal.SIGKILL) -> tuple[bool, int, str, bool]:
    """Run ``cmd`` and send ``sig`` after ``kill_at`` s: whether it was still running, its exit
    status, the end of its stderr, and whether it handled the signal when it was sent (False:
    the interpreter's own start-up, before any Python of liveworth ran)."""
    with (work / "stderr.txt").open("w+b") as err:
        proc = subprocess.Popen(cmd, env=cli_env(work), cwd=work, stdout=subprocess.DEVNULL,
                                stderr=err)
        handled = True
        try:
            proc.wait(timeout=kill_at)
            killed = False
        except subprocess.TimeoutExpired:
            handled = sig == signal.SIGKILL or _handles(proc.pid, sig)
            proc.send_signal(sig)
            proc.wait(timeout=120)
            killed = True
        err.seek(0)
        return killed, proc.returncode, err.read().decode("utf-8", "replace")[-300:], handled


def _stored(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    Store.open(str(db)).close()  # what any start does: create or finish the schema
    with Store.open(str(db), read_only=True) as store:
        return [(r[0], r[1]) for r in store.query("SELECT room_id, msg_id FROM events")]


def _journal(journal: Path) -> tuple[list[RawMessage], int]:
    messages: list[RawMessage] = []
    torn = 0
    for path in sorted(journal.glob("*.journal.jsonl")) if journal.is_dir() else []:
        for item in iter_journal(path):
            if isinstance(item, RawReject):
                torn += 1
            else:
                messages.append(item)
    return messages, torn


def _keys(messages: list[RawMessage]) -> set[tuple[str, str]]:
    keys = set()
    for m in messages:
        try:
            keys.update((e.room_id, e.msg_id) for e in decode_raw(m))
        except LiveworthError:  # a payload that does not decode adds no event
            continue
    return keys


def one_moment(ctx: Ctx, index: int, inp: Input, overhead_s: float) -> Moment:
    rng = random.Random(ctx.seed * 100_003 + index)
    work = ctx.work / "crash" / f"m{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tm = [time.monotonic()]
    db, journal = work / "rec.duckdb", work / "journal"
    kill_at = rng.uniform(0.0, overhead_s + REPLAY_S)
    double = index % 4 == 3
    sig = signal.SIGTERM if index % 2 == 1 else signal.SIGKILL
    killed, code, stderr, handled = _start_and_kill(_record(inp, db, journal, _speed(inp)), work,
                                                    kill_at, sig)
    phase = ("after the run had ended" if not killed else
             "in the interpreter's start-up" if not handled else
             "before the journal existed" if not journal.exists() else "while recording")
    term_unstored = term_bad_exit = 0
    if sig == signal.SIGTERM:  # a clean stop: exit 0, and stored what it journaled
        # before the handler, the default action: allowed only while nothing can be recorded
        term_bad_exit = int((code != 0 and (handled or journal.exists())) or TRACEBACK in stderr)
        term_unstored = len(_keys(_journal(journal)[0]) - set(_stored(db)))
    if double:
        _start_and_kill(_record(inp, db, journal, "max"), work,
                        rng.uniform(0.0, overhead_s + 1.0))
        phase += ", then during the restart"
    m = Moment(index, inp.name, round(kill_at, 3), phase, double, sig.name, term_bad_exit,
               term_unstored, stderr.strip() if term_bad_exit else "")
    messages, m.torn = _journal(journal)
    m.journaled = len(messages)

    tm.append(time.monotonic())
    # Recovery alone: what every recorder start does first.
    recover(str(db), journal)
    journal_keys = _keys(messages)
    stored = _stored(db)
    m.lost_after_recovery = len(journal_keys - set(stored))
    m.store_ahead_of_journal = len(set(stored) - journal_keys)
    m.doubled_after_recovery = len(stored) - len(set(stored))

    tm.append(time.monotonic())
    # The restart: the same command at full speed; its --json output is the reports it made.
    done = subprocess.run([*_record(inp, db, journal, "max"), "--json"], env=cli_env(work),
                          cwd=work, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or TRACEBACK in done.stderr:
        m.restart_failed = 1
        m.restart_stderr = done.stderr.strip()[-300:]
        return m
    tm.append(time.monotonic())
    clean_state, want = clean_reference(ctx, inp)
    m.diff = compare(clean_state, db_state(db))
    got = {}
    for rep in json.loads(done.stdout.splitlines()[-1])["sessions"]:
        ctx.inv.report(rep, f"crash moment {index}")
        rep["flags"] = [f for f in rep["flags"] if f["flag"] != "disconnected"]
        got[rep["room_id"]] = rep
    m.reports_differing = reports_differing(want, got)
    ctx.inv.credits(db, f"crash moment {index}")
    truth = truth_coins(inp)
    if truth is not None and sum(r["coins"] for r in got.values()) != truth:
        m.truth_mismatch = 1
    tm.append(time.monotonic())
    if index % 10 == 9 or m.restart_failed or m.reports_differing or any(m.diff.values()):
        ctx.log(f"    moment {index + 1} {inp.name} ({m.phase}): "
                + " ".join(f"{b - a:.1f}" for a, b in itertools.pairwise(tm)) + " s")
    return m


def calibrate(ctx: Ctx, inp: Input) -> float:
    """Seconds a paced run spends outside its replay (start-up, recovery, final report)."""
    times = []
    for attempt in range(2):  # the first run warms the caches; the second is the measure
        work = ctx.dir(f"crash/calibrate{attempt}")
        t0 = time.monotonic()
        done = subprocess.run(_record(inp, work / "c.duckdb", work / "j", _speed(inp)),
                              env=cli_env(work), cwd=work, capture_output=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"calibration run failed: {done.stderr!r}")
        times.append(time.monotonic() - t0 - REPLAY_S)
    return max(0.5, times[-1])


def run(ctx: Ctx, moments: int | None = None, workers: int | None = None,
        overhead_s: float | None = None) -> list[Figure]:
    n = moments if moments is not None else ctx.size(100, 10)
    inputs = corpus(ctx)
    rng = random.Random(ctx.seed)
    plan = [inputs[i % len(inputs)] for i in range(n)]
    rng.shuffle(plan)
    paced = next(i for i in inputs if i.name.startswith("dupa.retimed"))
    overhead = overhead_s if overhead_s is not None else calibrate(ctx, paced)
    ctx.log(f"  crash: {n} kill moments over {len({p.name for p in plan})} inputs "
            f"(run overhead {overhead:.1f} s)")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or 3) as pool:
        results = list(pool.map(lambda a: one_moment(ctx, a[0], a[1], overhead),
                                enumerate(plan)))
    elapsed = time.monotonic() - t0
    return figures(results, n, elapsed, overhead)


def figures(results: list[Moment], n: int, elapsed: float, overhead: float) -> list[Figure]:
    s = SCENARIO
    phases = collections.Counter(m.phase for m in results)
    total = collections.Counter[str]()
    for m in results:
        total.update(m.diff)
    failed = [m for m in results if m.restart_failed]
    terms = [m for m in results if m.sig == "SIGTERM"]
    bad = [m for m in terms if m.term_bad_exit]
    early = [m for m in terms if m.phase.startswith("in the interpreter's start-up")]
    out = [
        at_least(s, "kill moments (SIGKILL or SIGTERM at a random moment)", len(results), n,
                 f"{len(results) - len(terms)} SIGKILL, {len(terms)} SIGTERM"),
        zero(s, "SIGTERM stops that were not clean (exit ≠ 0 or traceback)", len(bad),
             "; ".join(f"moment {m.index} ({m.phase}): {m.term_stderr}" for m in bad[:3])
             or f"{len(terms) - len(early)} SIGTERMs once liveworth had taken the signal (its "
                "first step) all stopped cleanly"),
        info(s, "SIGTERMs in the interpreter's start-up (before liveworth's first step)",
             len(early), "the default action (exit 143) while nothing can be recorded yet: "
             "no journal, no store"),
        zero(s, "journaled messages not yet stored when a SIGTERM stop ended (before recovery)",
             sum(m.term_unstored for m in terms)),
        info(s, "sessions replayed", len({m.input for m in results}),
             "8 real dumps as they are, the same as paced raw journals, 3 simulated sessions "
             "as raw journals"),
        info(s, "where the kills landed", "; ".join(f"{v} {k}" for k, v in
                                                   sorted(phases.items()))),
        info(s, "messages in the journal at the kill (all moments)",
             sum(m.journaled for m in results)),
        info(s, "torn journal lines left by the kills", sum(m.torn for m in results),
             "each read back as one rejected line, never a failure"),
        zero(s, "journaled messages missing from the store after recovery",
             sum(m.lost_after_recovery for m in results)),
        zero(s, "events in the store that the journal lacks",
             sum(m.store_ahead_of_journal for m in results)),
        zero(s, "events doubled after recovery", sum(m.doubled_after_recovery for m in results)),
        zero(s, "restarts that failed (exit ≠ 0 or traceback)", len(failed),
             "; ".join(f"moment {m.index}: {m.restart_stderr}" for m in failed[:3])),
        zero(s, "messages lost (events missing vs a clean import)", total["lost"]),
        zero(s, "messages counted twice", total["doubled"]),
        zero(s, "events that a clean import does not have", total["foreign"]),
        zero(s, "event or ledger rows different from a clean import",
             total["event rows differing"] + total["credit rows differing"]),
        zero(s, "reports different from a clean import (session × moment)",
             sum(m.reports_differing for m in results)),
        zero(s, "simulated sessions whose coins differ from the simulator's ground truth",
             sum(m.truth_mismatch for m in results)),
        info(s, "wall time", f"{elapsed:.0f} s", f"3 moments at a time; a run's start-up and "
             f"end take {overhead:.1f} s besides the {REPLAY_S:.0f} s replay"),
    ]
    return out


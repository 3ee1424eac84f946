"""`make bench`: liveworth measured side by side with what users would otherwise use.

Each row runs on data the simulator makes (seeded) or on the real dumps, on this machine, in one
run; timings are medians of several runs. The table is printed and written to
docs/PERFORMANCE.md with the machine, the method and the date. Not part of `make test`.

    python bench/run.py [--quick]     (--quick: small sizes, for trying the harness)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
#: The hand-written section of docs/PERFORMANCE.md, kept when the tables are regenerated.
WHY_HEADING = "## Why the misses"
DUMPS = ROOT / "tests" / "data" / "real" / "webcast_dumps"
sys.path.insert(0, str(ROOT / "src"))

from liveworth.analysis.report import session_report  # noqa: E402
from liveworth.decode import webcast  # noqa: E402
from liveworth.decode.rawsources import RawMessage, iter_dump  # noqa: E402
from liveworth.economy.ratecard import load_rate_card  # noqa: E402
from liveworth.model.estimate import Inputs, estimate  # noqa: E402
from liveworth.model.generative import ModelParams  # noqa: E402
from liveworth.model.simulate import simulate  # noqa: E402
from liveworth.store.database import Store  # noqa: E402


@dataclass
class Row:
    n: int
    what: str
    ours: str
    theirs: str
    ratio: str
    target: str
    met: str


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---------------------------------------------------------------------------- data


def events_file(target: int, seed: int = 7) -> Path:
    """A JSONL file of about ``target`` events: one big simulated LIVE (cached)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"session-{target}.jsonl"
    if path.exists():
        return path
    params = ModelParams.from_prior()
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("w", encoding="utf-8") as f:
        part = 0
        while written < target:
            # One room: parts are consecutive half-hours of the same LIVE (the simulator takes
            # at most 2 M viewer-minutes a session).
            sim = simulate(params, followers=4_300_000, viewers=60_000, minutes=30, rng=rng,
                           room_id="bench-room", host="bench_creator",
                           start_ts=1_700_000_000_000 + part * 1_800_000)
            for ev in sim.events():
                if written >= target:
                    break
                line = json.dumps({**_as_dict(ev), "msg_id": f"{part}-{ev.msg_id}"},
                                  separators=(",", ":"))
                f.write(line + "\n")
                written += 1
            part += 1
    tmp.rename(path)
    return path


def _as_dict(ev: object) -> dict[str, object]:
    from liveworth.decode.events import event_to_dict

    return event_to_dict(ev)  # type: ignore[arg-type]


def with_msg_id(msg: RawMessage, msg_id: int, room_id: str, arrival_ms: int,
                host: str, cycle: int = 0) -> RawMessage:
    """A real message re-stamped with a new message id and room (so it is not a duplicate);
    ``cycle`` > 0 (a later pass over the same messages) gives its gift streaks new ids, as a
    live room has new streaks, not the same ones growing for ever."""
    m = webcast._parse(msg.method, msg.payload)
    m.common.msgId = msg_id
    m.common.roomId = int(room_id)
    if cycle and msg.method == "WebcastGiftMessage" and m.groupId:
        m.groupId = m.groupId + cycle * 10**15  # each pass over the messages: new streaks
    return RawMessage(msg.method, m.SerializeToString(), room_id, arrival_ms, host)


def real_messages() -> list[RawMessage]:
    out = []
    for p in sorted(DUMPS.glob("*.json.gz")):
        out.extend(m for m in iter_dump(p) if isinstance(m, RawMessage)
                   and m.method in webcast.SUPPORTED_METHODS)
    return out


# ---------------------------------------------------------------------------- rows


def row_decode(runs: int) -> Row:
    msgs = real_messages() * 20
    ours = median_time(lambda: [webcast.decode_message(m.method, m.payload,
                                                       arrival_ms=m.arrival_ms) for m in msgs],
                       runs)
    try:
        import TikTokLive.proto as tp

        classes = {m: getattr(tp, m) for m in webcast.SUPPORTED_METHODS if hasattr(tp, m)}
        sample = [m for m in msgs[: len(msgs) // 20] if m.method in classes]
        theirs = median_time(lambda: [classes[m.method]().parse(m.payload) for m in sample],
                             max(1, runs // 2))
        their_rate = len(sample) / theirs
        our_rate = len(msgs) / ours
        ratio = our_rate / their_rate
        return Row(1, "decode raw webcast payloads (real dumps)", f"{our_rate:,.0f} msg/s",
                   f"{their_rate:,.0f} msg/s (TikTokLive betterproto2)", f"{ratio:,.0f}×",
                   "≥ 100×", "yes" if ratio >= 100 else f"no ({ratio:.0f}×)")
    except ImportError:
        return Row(1, "decode raw webcast payloads", f"{len(msgs) / ours:,.0f} msg/s",
                   "TikTokLive not installed", "-", "≥ 100×", "not measured")


def _import_in_subprocess(path: Path, db: Path) -> tuple[float, float]:
    """Import ``path`` into a fresh ``db`` in a new process: (seconds, peak RSS in MB)."""
    code = (f"import sys, time; sys.path.insert(0, {str(ROOT / 'src')!r});"
            "from liveworth.store import Store; from liveworth.ingest.importer import import_paths;"
            f"t = time.perf_counter(); s = Store.open({str(db)!r});"
            f"import_paths(s, [{str(path)!r}]); s.close(); t = time.perf_counter() - t;"
            "import resource; print(t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    for f in (db, Path(str(db) + ".wal")):
        if f.exists():
            f.unlink()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    secs, rss_kb = out.stdout.strip().splitlines()[-1].split()
    return float(secs), int(rss_kb) / 1024


def rows_import(n_events: int, runs: int, out: dict[str, float]) -> list[Row]:
    path = events_file(n_events)
    db = DATA / "bench.duckdb"
    measured = [_import_in_subprocess(path, db) for _ in range(runs)]
    ours = statistics.median(t for t, _ in measured)
    out["import_s"] = ours
    out["rss_mb"] = max(r for _, r in measured)

    def read_json() -> None:
        con = duckdb.connect()
        sql = f"CREATE TABLE t AS SELECT * FROM read_json('{path}', sample_size=-1)"
        con.execute(sql).fetchall()
        con.close()

    theirs = median_time(read_json, runs)
    rows = [Row(2, f"import {n_events:,}-event JSONL, ledger included",
                f"{ours:.1f} s ({n_events / ours:,.0f} ev/s)",
                f"{theirs:.1f} s (DuckDB read_json, auto-detect over the whole file, no ledger)",
                f"{ours / theirs:.1f}× slower",
                "within 2×", "yes" if ours <= 2 * theirs else f"no ({ours / theirs:.1f}×)")]

    lines = path.read_text().splitlines()
    sample = lines[: min(len(lines), 200_000)]

    def sqlite_one_txn(rows: list[str]) -> None:
        con = sqlite3.connect(str(DATA / "hobby.sqlite"))
        con.execute("DROP TABLE IF EXISTS events")
        con.execute("CREATE TABLE events (room_id, msg_id, type, ts, user_id, gift_id, coins, "
                    "repeat_count, repeat_end, data, PRIMARY KEY (room_id, msg_id))")
        for line in rows:
            e = json.loads(line)
            con.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (e["room_id"], e["msg_id"], e["type"], e["ts"], e.get("user_id"),
                         e.get("gift_id"), e.get("coins"), e.get("repeat_count"),
                         e.get("repeat_end"), line))
        con.commit()
        con.close()

    def sqlite_commit_each(rows: list[str]) -> None:
        con = sqlite3.connect(str(DATA / "hobby2.sqlite"))
        con.execute("DROP TABLE IF EXISTS events")
        con.commit()
        con.execute("CREATE TABLE events (room_id, msg_id, type, ts, data, "
                    "PRIMARY KEY (room_id, msg_id))")
        for line in rows:
            e = json.loads(line)
            con.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?)",
                        (e["room_id"], e["msg_id"], e["type"], e["ts"], line))
            con.commit()
        con.close()

    t1 = median_time(lambda: sqlite_one_txn(sample), 1) / len(sample)
    few = sample[:3000]
    t2 = median_time(lambda: sqlite_commit_each(few), 1) / len(few)
    our_per = ours / n_events
    rows.append(Row(3, "same import vs sqlite3 row by row, one transaction",
                    f"{1 / our_per:,.0f} ev/s", f"{1 / t1:,.0f} ev/s (no ledger)",
                    f"{t1 / our_per:.1f}×", "≥ 3×",
                    "yes" if t1 / our_per >= 3 else f"no ({t1 / our_per:.1f}×)"))
    rows.append(Row(3, "same import vs sqlite3, a commit per event",
                    f"{1 / our_per:,.0f} ev/s", f"{1 / t2:,.0f} ev/s (no ledger)",
                    f"{t2 / our_per:,.0f}×", "≥ 300×",
                    "yes" if t2 / our_per >= 300 else f"no ({t2 / our_per:.0f}×)"))

    card = load_rate_card()

    def report() -> None:  # what `liveworth report --json` does
        with Store.open(str(db), read_only=True) as store:
            json.dumps(session_report(store, "bench-room", card).as_dict())

    rep = median_time(report, 3)
    out["report_s"] = rep
    rows.append(Row(4, f"per-session report of a {n_events:,}-event session", f"{rep:.2f} s",
                    "-", "-", "≤ 1 s", "yes" if rep <= 1 else f"no ({rep:.2f} s)"))
    return rows


def row_estimate(runs: int) -> Row:
    inputs = Inputs(followers=50_000)
    ours = median_time(lambda: estimate(inputs, rng=np.random.default_rng(1),
                                        sessions=1_000_000), runs)
    # The same model as a per-viewer Python loop: each typical viewer may gift (the model's
    # gifters per viewer) and a gifter's coins come from the model's spend table.
    import bisect

    from liveworth.model.generative import gifters_per_viewer, median_viewers, spend_table

    params = ModelParams.from_prior()
    rng = random.Random(1)
    viewers = int(median_viewers(params, 50_000))
    table = spend_table(params)
    cum = np.cumsum(table.pmf).tolist()
    values = table.values.tolist()
    p_gift = min(1.0, gifters_per_viewer(params, 60.0, 1.0))

    def loop(n: int) -> None:
        for _ in range(n):
            total = 0
            for _v in range(viewers):
                if rng.random() < p_gift:
                    total += values[min(bisect.bisect(cum, rng.random()), len(values) - 1)]
            _ = total

    t = median_time(lambda: loop(2000), 1) / 2000 * 1_000_000
    return Row(6, "estimate from 1,000,000 simulated sessions", f"{ours:.2f} s",
               f"{t:,.0f} s (per-viewer Python loop, extrapolated from 2,000)",
               f"{t / ours:,.0f}×", "≥ 100×; ≤ 3 s",
               "yes" if t / ours >= 100 and ours <= 3 else "no")


def _command_time(argv: list[str], runs: int) -> float:
    """The median wall time of a fresh process running ``argv`` (its output discarded)."""
    def once() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    once()  # the first start reads the files from disk; the rows time warm starts
    return median_time(once, runs)


def rows_startup(runs: int) -> list[Row]:
    """How fast the command line answers (issue #13): ``--help`` and ``convert`` against a bare
    Python start from the same virtualenv."""
    script = Path(sys.executable).with_name("liveworth")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "liveworth"]
    bare = _command_time([sys.executable, "-c", "pass"], runs)
    rows = []
    for n, args in ((11, ["--help"]), (12, ["convert", "--coins", "100"])):
        ours = _command_time([*cli, *args], runs)
        rows.append(Row(n, f"CLI start-up: `liveworth {' '.join(args)}`", f"{ours * 1000:.0f} ms",
                        f"{bare * 1000:.0f} ms (`python -c pass`)", f"{ours / bare:.1f}×",
                        "≤ 12×", "yes" if ours / bare <= 12 else "no"))
    return rows


def row_live(seconds: float) -> Row:
    from liveworth.ingest.recorder import record
    from liveworth.ingest.sources import ReplaySource

    msgs = real_messages()
    rate = 20_000
    n = int(rate * seconds)
    base = msgs[0].arrival_ms
    stream = [with_msg_id(msgs[i % len(msgs)], 10**12 + i, "900000001", base + i * 1000 // rate,
                          "live", i // len(msgs)) for i in range(n)]
    db = DATA / "live.duckdb"
    if db.exists():
        db.unlink()
    journal = DATA / "live-journal"
    for f in journal.glob("*"):
        f.unlink()
    t = time.perf_counter()
    result = asyncio.run(record([ReplaySource(stream, "live", 1.0)], str(db), journal))
    wall = time.perf_counter() - t
    lat = sorted(result.latency_s)
    p99 = lat[int(len(lat) * 0.99)] if lat else float("nan")
    # Event-to-store latency: per batch, from its oldest message reaching the recorder until the
    # batch is stored (queueing, the batch window and the ledger's turns included).
    e2s = p99
    sustained = wall <= seconds * 1.1 + 1
    return Row(7, f"live path: {rate:,} msg/s for {seconds:.0f} s through journal, decode, "
               "store", f"{n / wall:,.0f} msg/s; p99 ≈ {e2s * 1000:.0f} ms", "-", "-",
               "sustained; p99 ≤ 250 ms",
               "yes" if sustained and e2s <= 0.25 else "no")


def row_rooms(n_rooms: int, seconds: float) -> Row:
    from liveworth.ingest.recorder import record
    from liveworth.ingest.sources import ReplaySource

    msgs = real_messages()
    per_room = int(200 * seconds)
    sources = []
    for r in range(n_rooms):
        base = msgs[0].arrival_ms
        stream = [with_msg_id(msgs[(r + i) % len(msgs)], 10**12 + i, str(800000000 + r),
                              base + i * 5, f"creator{r}", (r + i) // len(msgs))
                  for i in range(per_room)]
        sources.append(ReplaySource(stream, f"creator{r}", 1.0))
    db = DATA / "rooms.duckdb"
    if db.exists():
        db.unlink()
    journal = DATA / "rooms-journal"
    for f in journal.glob("*"):  # else the next run would first re-import this run's journals
        f.unlink()
    t = time.perf_counter()
    asyncio.run(record(sources, str(db), journal))
    wall = time.perf_counter() - t
    ok = wall <= seconds * 1.2 + 2
    return Row(8, f"{n_rooms} rooms at 200 msg/s each for {seconds:.0f} s (replay sources)",
               f"done in {wall:.1f} s", "-", "-", "no backlog growth",
               "yes" if ok else f"no (took {wall:.1f} s)")


# ---------------------------------------------------------------------------- analytics

#: Row 5: one creator's history of this many sessions, about this many events each.
ANALYZE_SESSIONS = 10_000
ANALYZE_EVENTS_PER_SESSION = 5_000
#: Distinct simulated sessions the history is made of (each is replayed under new rooms).
ANALYZE_SAMPLE = 250
#: The first viewers of every session are regulars (the same people each time), so that the
#: analysis sees returning gifters.
REGULARS = 300


def load_simulated(store: Store, sessions: list[object], path: Path) -> None:
    """Store simulated sessions (:class:`~liveworth.model.simulate.SimulatedSession`) as events, by
    the simulator's JSONL read in DuckDB, then run the ledger over their rooms."""
    from liveworth.model.simulate import SimulatedSession
    from liveworth.store import ledger
    from liveworth.store.database import EVENT_COLUMNS

    with path.open("w", encoding="utf-8") as f:
        for s in sessions:
            assert isinstance(s, SimulatedSession)
            s.write_jsonl(f)
    types = {n: sql.replace(" NOT NULL", "") for n, _, sql in EVENT_COLUMNS if n != "extra"}
    columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in {**types, "phase": "VARCHAR"}.items()
                              ) + "}"
    names = ", ".join(f'"{n}"' for n in types)
    store.con.execute(f"""
        INSERT INTO events ({names}, extra)
        SELECT {names}, CASE WHEN phase IS NOT NULL THEN '{{"phase": "' || phase || '"}}' END
        FROM read_json('{path}', format = 'newline_delimited', columns = {columns})""")
    path.unlink()
    ledger.recompute(store.con, sorted({s.room_id for s in sessions}))  # type: ignore[attr-defined]


def analytics_db(db: Path, n_sessions: int, per_session: int, seed: int = 11) -> int:
    """A store holding one creator's ``n_sessions`` sessions (about ``per_session`` events
    each); returns its events.

    :data:`ANALYZE_SAMPLE` sessions are simulated (audiences, lengths and engagement drawn
    around ``per_session`` events) and go through the ledger in memory; then each stored
    session is one of them replayed in SQL under its own room, start time (every 8 h plus up
    to 5 h, so start hours and weekdays vary) and viewers (the first :data:`REGULARS` are the
    same people in every session, the others new), events and credits alike.
    """
    import pyarrow as pa

    from liveworth.store.database import registered

    rng = np.random.default_rng(seed)
    params = ModelParams.from_prior()
    k = min(ANALYZE_SAMPLE, n_sessions)
    sample = []
    for i in range(k):
        minutes = float(rng.uniform(30, 180))
        followers = int(np.clip(rng.lognormal(np.log(per_session * 0.73), 0.6), 500, 200_000))
        sample.append(simulate(params, followers=followers, minutes=minutes,
                               engagement=float(rng.lognormal(0, 0.3)), rng=rng,
                               room_id=f"sample-{i}", host="bench_creator",
                               start_ts=1_600_000_000_000))
    with Store.open(":memory:") as mem:
        mem.con.execute("SET memory_limit = '4GB'")
        load_simulated(mem, sample, db.with_suffix(".jsonl"))
        events = mem.con.sql("SELECT * FROM events ORDER BY room_id, ts").to_arrow_table()
        credits = mem.con.sql("SELECT * FROM credits ORDER BY room_id, ts").to_arrow_table()
    sid = np.arange(n_sessions, dtype=np.int64)
    plan = pa.table({
        "sid": sid, "src": [f"sample-{i % k}" for i in range(n_sessions)],
        "copy": sid // k, "user_base": [sample[i % k].user_base for i in range(n_sessions)],
        "room_id": [str(7_300_000_000_000_000_000 + i) for i in range(n_sessions)],
        "start_ts": 1_600_000_000_000 + sid * 8 * 3_600_000
        + rng.integers(0, 5 * 3_600_000, n_sessions)})
    # A viewer of a replayed session: regulars keep one id, everyone else is new.
    idx = "(e.user_id::BIGINT - p.user_base)"
    who = f"CASE WHEN {idx} < {REGULARS} THEN {idx} ELSE 1000000 + p.sid * 10000000 + {idx} END"
    repl = {"room_id": "p.room_id", "ts": "e.ts + p.start_ts - 1600000000000",
            "user_id": f"(100000000000000000 + {who})::VARCHAR",
            "user": f"'user' || ({who})", "nickname": f"'Viewer ' || ({who})",
            "host_id": "CASE WHEN e.host_id IS NOT NULL THEN '99' END"}
    with Store.open(str(db)) as store:
        con = store.con
        con.execute("SET memory_limit = '4GB'")
        # One copy of the sample at a time, in its order: each room's rows lie together, as
        # imports and recordings store them.
        for table, rows in (("events", events), ("credits", credits)):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            with registered(con, "_sample", rows), registered(con, "_plan", plan):
                for copy in range(-(-n_sessions // k)):
                    con.execute(f"""
                        INSERT INTO {table}
                        SELECT {", ".join(repl.get(c, f'e."{c}"') for c in cols)}
                        FROM _sample e JOIN _plan p ON p.src = e.room_id AND p.copy = {copy}""")
        con.execute("CHECKPOINT")
        return int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])


def row_analyze(n_sessions: int, runs: int) -> Row:
    """``liveworth analyze`` over one creator's ``n_sessions`` sessions, as a user runs it."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="liveworth-bench-") as tmp:
        db = Path(tmp) / "history.duckdb"
        t = time.perf_counter()
        n_events = analytics_db(db, n_sessions, ANALYZE_EVENTS_PER_SESSION)
        made = time.perf_counter() - t
        cmd = [sys.executable, "-m", "liveworth", "analyze", "--db", str(db), "--json"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        ours = median_time(lambda: subprocess.run(cmd, capture_output=True, check=True,
                                                  env=env), runs)
    return Row(5, f"`liveworth analyze` over {n_sessions:,} sessions, {n_events / 1e6:.1f} M "
               f"events (made in {made:.0f} s)", f"{ours:.1f} s", "-", "-", "≤ 10 s",
               "yes" if ours <= 10 else f"no ({ours:.1f} s)")


# ---------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    args = ap.parse_args()
    big = 200_000 if args.quick else 5_000_000
    runs = 1 if args.quick else 3
    started = time.perf_counter()
    extra: dict[str, float] = {}
    rows = [row_decode(runs)]
    rows += rows_import(big, 1, extra)
    small = 500_000 if not args.quick else 50_000
    small_extra: dict[str, float] = {}
    rows_import(small, 1, small_extra)
    rows.append(row_analyze(1_000 if args.quick else ANALYZE_SESSIONS, runs))
    rows.append(row_estimate(runs))
    from web import row_home

    rows.append(row_home(analytics_db, 1_000, ANALYZE_EVENTS_PER_SESSION // 5, runs))
    rows.append(row_live(5 if args.quick else 20))
    rows.append(row_rooms(20 if args.quick else 200, 5 if args.quick else 20))
    rows += rows_startup(5 if args.quick else 20)
    growth = (extra["import_s"] / small_extra["import_s"]) / (big / small)
    elapsed = time.perf_counter() - started
    table = ["| # | what | liveworth | compared with | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r.n} | {r.what} | {r.ours} | {r.theirs} | {r.ratio} | {r.target} | {r.met} |"
              for r in rows]
    notes = [
        f"- Peak RSS of the {big:,}-event import: {extra['rss_mb']:,.0f} MB (target < 1 GB).",
        f"- Cost growth from {small:,} to {big:,} events: import {small_extra['import_s']:.1f} s"
        f" → {extra['import_s']:.1f} s, {growth:.2f}× linear; report "
        f"{small_extra['report_s']:.2f} s → {extra['report_s']:.2f} s.",
        f"- Whole run: {elapsed / 60:.1f} min.",
    ]
    machine = (f"{platform.node() or 'host'}: {platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")
    doc = "\n".join([
        "# Performance", "",
        f"Measured by `make bench` ({'--quick' if args.quick else 'full'}) on "
        f"{dt.date.today().isoformat()}, {machine}. Timings are medians of {runs} run(s); "
        "data from the simulator (seeded) and the real dumps in tests/data.", "",
        *table, "", *notes, "",
        "Method: see bench/run.py — each row is one function there. Rows 7 and 8 replay real "
        "webcast messages at the stated rate through the recorder's own path (journal with "
        "fsync, decode, store, ledger); the p99 is per batch, from its oldest message reaching "
        "the recorder until the batch is stored.", "",
    ])
    print("\n".join(table))
    print("\n".join(notes))
    target = ROOT / "docs" / "PERFORMANCE.md"
    # The analysis written by hand under WHY_HEADING survives a new run (update it by hand).
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    if WHY_HEADING in old:
        doc += "\n" + old[old.index(WHY_HEADING):]
    target.write_text(doc, encoding="utf-8")
    _ = resource


if __name__ == "__main__":
    main()

"""Row 5 of `make bench`: `liveworth analyze` over one creator's long history (and the history
database the dashboard row uses)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, Row, median_time

from liveworth.model.generative import ModelParams
from liveworth.model.simulate import simulate
from liveworth.store.database import Store

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


#: The simulated samples made in this process, by (sessions, events each, seed): rows 5, 13
#: and 14 replay the same one (made once, ~15 s), each then from the generator's same state.
_SAMPLES: dict[tuple[int, int, int], tuple[list[Any], Any, Any, np.random.Generator]] = {}


def _sample(k: int, per_session: int, seed: int,
            scratch: Path) -> tuple[list[Any], Any, Any, np.random.Generator]:
    """``k`` simulated sessions, their events and credits (Arrow, through the ledger in
    memory) and the random generator as it is after drawing them (a copy: callers draw on)."""
    key = (k, per_session, seed)
    if key not in _SAMPLES:
        rng = np.random.default_rng(seed)
        params = ModelParams.from_prior()
        sample = []
        for i in range(k):
            minutes = float(rng.uniform(30, 180))
            followers = int(np.clip(rng.lognormal(np.log(per_session * 0.73), 0.6), 500,
                                    200_000))
            sample.append(simulate(params, followers=followers, minutes=minutes,
                                   engagement=float(rng.lognormal(0, 0.3)), rng=rng,
                                   room_id=f"sample-{i}", host="bench_creator",
                                   start_ts=1_600_000_000_000))
        with Store.open(":memory:") as mem:
            mem.con.execute("SET memory_limit = '4GB'")
            load_simulated(mem, sample, scratch)
            events = mem.con.sql("SELECT * FROM events ORDER BY room_id, ts").to_arrow_table()
            credits = mem.con.sql("SELECT * FROM credits ORDER BY room_id, ts").to_arrow_table()
        _SAMPLES[key] = (sample, events, credits, rng)
    sample, events, credits, rng = _SAMPLES[key]
    return sample, events, credits, copy.deepcopy(rng)


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

    k = min(ANALYZE_SAMPLE, n_sessions)
    sample, events, credits, rng = _sample(k, per_session, seed, db.with_suffix(".jsonl"))
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

"""Rows 2–4 of `make bench`: importing a big JSONL file against DuckDB's `read_json` and sqlite3,
and the report of the imported session."""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from common import DATA, ROOT, Row, events_file, median_time

from liveworth.analysis.report import session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import Store


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


def rows_import(n_events: int, runs: int, out: dict[str, float], detail: bool = True) -> list[Row]:
    """Rows 2–4 for an ``n_events`` file; with ``detail``, also where row 2's time goes (on
    the 1 M-event file, or ``n_events`` if smaller) and the sqlite3 rows."""
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
                "≤ 1.5× (aim 1×)",
                "yes" if ours <= 1.5 * theirs else f"no ({ours / theirs:.1f}×)")]

    if detail:
        rows.append(_row_stages(min(n_events, 1_000_000)))
        rows += _rows_sqlite(path, n_events, runs)
    card = load_rate_card()

    def report() -> None:  # what `liveworth report --json` does
        with Store.open(str(db), read_only=True) as store:
            json.dumps(session_report(store, "bench-room", card).as_dict())

    rep = median_time(report, 3)
    out["report_s"] = rep
    rows.append(Row(4, f"per-session report of a {n_events:,}-event session", f"{rep:.2f} s",
                    "-", "-", "≤ 1 s", "yes" if rep <= 1 else f"no ({rep:.2f} s)"))
    return rows


def rows(quick: bool = False) -> list[Row]:
    """Rows 2–4 standalone, at `make bench`'s sizes (bench/run.py calls :func:`rows_import`
    itself, twice, for the growth note)."""
    return rows_import(200_000 if quick else 5_000_000, 1, {})


def _head(path: Path, n_lines: int) -> Path:
    """The first ``n_lines`` lines of ``path`` as a file of their own (cached)."""
    out = DATA / f"{path.stem}-head{n_lines}.jsonl"
    if not out.exists():
        with path.open("rb") as f, out.open("wb") as g:
            for _, line in zip(range(n_lines), f, strict=False):
                g.write(line)
    return out


def _sqlite_one_txn(path: Path) -> None:
    """The hobbyist's import: read the file, parse each line, INSERT OR IGNORE, one commit."""
    con = sqlite3.connect(str(DATA / "hobby.sqlite"))
    con.execute("DROP TABLE IF EXISTS events")
    con.execute("CREATE TABLE events (room_id, msg_id, type, ts, user_id, gift_id, coins, "
                "repeat_count, repeat_end, data, PRIMARY KEY (room_id, msg_id))")
    with path.open(encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            con.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (e["room_id"], e["msg_id"], e["type"], e["ts"], e.get("user_id"),
                         e.get("gift_id"), e.get("coins"), e.get("repeat_count"),
                         e.get("repeat_end"), line))
    con.commit()
    con.close()


def _sqlite_commit_each(path: Path) -> None:
    """The same with a commit after every event (as a naive live recorder does)."""
    con = sqlite3.connect(str(DATA / "hobby2.sqlite"))
    con.execute("DROP TABLE IF EXISTS events")
    con.commit()
    con.execute("CREATE TABLE events (room_id, msg_id, type, ts, data, "
                "PRIMARY KEY (room_id, msg_id))")
    with path.open(encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            con.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?)",
                        (e["room_id"], e["msg_id"], e["type"], e["ts"], line))
            con.commit()
    con.close()


def _rows_sqlite(path: Path, n_events: int, runs: int) -> list[Row]:
    """Row 3: ours and sqlite3 on the very same sample file (the first lines of row 2's): both
    read and parse the file; sqlite validates nothing and keeps no ledger."""
    rows = []
    db = DATA / "bench-sample.duckdb"
    for n, baseline, kind, target in (
            (min(n_events, 200_000), _sqlite_one_txn, "one transaction", 3),
            (min(n_events, 10_000 if n_events > 200_000 else 2_000), _sqlite_commit_each,
             "a commit per event", 300)):
        sample = _head(path, n)
        ours = statistics.median(_import_in_subprocess(sample, db)[0] for _ in range(runs))
        theirs = median_time(lambda s=sample, b=baseline: b(s), 1)
        ratio = theirs / ours
        rows.append(Row(3, f"import vs sqlite3 row by row, {kind}: the same {n:,}-event file",
                        f"{ours:.2f} s ({n / ours:,.0f} ev/s, ledger included)",
                        f"{theirs:.2f} s ({n / theirs:,.0f} ev/s, no checks, no ledger)",
                        f"{ratio:,.1f}×", f"≥ {target}×",
                        "yes" if ratio >= target else f"no ({ratio:,.1f}×)"))
    return rows


def _row_stages(n_events: int) -> Row:
    """Where the import's time goes, stage by stage, on one ``n_events`` file, in this process:
    the line split (read ahead in a thread, so it overlaps the rest; timed here on its own),
    validating and staging in SQL, storing (dedupe, insert), the ledger, the checkpoint at close;
    and DuckDB's ``read_json`` of the same file in the same run."""
    from liveworth.ingest import importer
    from liveworth.store import eventsql, ledger
    from liveworth.store.database import Store

    path = events_file(n_events)
    spent: dict[str, float] = {"validate + stage": 0.0, "store": 0.0, "ledger": 0.0}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    t = time.perf_counter()
    with path.open("rb") as f:
        for _ in eventsql.line_blocks(f, importer.MAX_LINE):
            pass
    split = time.perf_counter() - t
    db = DATA / "bench-stages.duckdb"
    for old in (db, Path(str(db) + ".wal")):
        old.unlink(missing_ok=True)
    saved = importer.run, Store.stage_flush, ledger.recompute
    importer.run = timed("validate + stage", importer.run)  # type: ignore[method-assign]
    Store.stage_flush = timed("store", Store.stage_flush)  # type: ignore[method-assign]
    ledger.recompute = timed("ledger", ledger.recompute)
    try:
        t = time.perf_counter()
        store = Store.open(str(db))
        importer.import_paths(store, [path])
        t_close = time.perf_counter()
        store.close()
        total = time.perf_counter() - t
    finally:
        importer.run, Store.stage_flush, ledger.recompute = saved  # type: ignore[method-assign]
    spent["checkpoint at close"] = total - (t_close - t)
    spent["other"] = total - sum(spent.values())
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{path}', sample_size=-1)").fetchall()
    theirs = time.perf_counter() - t
    con.close()
    parts = " · ".join(f"{k} {v:.1f} s" for k, v in spent.items())
    return Row("2a", f"where the {n_events:,}-event import's time goes",
               f"{total:.1f} s: {parts}; line split {split:.1f} s alone (overlapped)",
               f"{theirs:.1f} s (read_json, the same file, this run)",
               f"{total / theirs:.1f}×", "-", "-")

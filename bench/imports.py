"""Rows 2–4 of `make bench`: importing a big JSONL file against DuckDB's `read_json` and sqlite3,
and the report of the imported session."""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path

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

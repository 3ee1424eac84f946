"""Row 9 of `make bench`: `liveworth export --format jsonl` against DuckDB's own `COPY … TO …
(FORMAT json)` of the same rows; and the lake rows (issue 20, item 6): `liveworth lake export`
throughput, and `analyze` from the lake against from the store on the same archive.

    cd bench && ../.venv/bin/python -c 'import exports; print(exports.rows(quick=True))'
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, ROOT, Row, events_file, median_time

from liveworth.ingest.importer import import_paths
from liveworth.store.database import EVENT_COLUMNS, MIGRATIONS, Store

#: Row 9's events (one big simulated LIVE, as rows 2-4), and --quick's.
EXPORT_EVENTS, EXPORT_EVENTS_QUICK = 2_600_000, 500_000
#: The lake rows' archive: one creator's sessions of about this many events each
#: (analytics.analytics_db), sized so the rows take under 2 minutes on 2 cores.
LAKE_SESSIONS, LAKE_SESSIONS_QUICK, LAKE_EVENTS_PER_SESSION = 250, 40, 5_000
CLI = [sys.executable, "-m", "liveworth"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _cli(*args: str) -> None:
    """``liveworth ARGS`` in a fresh process as a user runs it, output to a pipe (no bar)."""
    subprocess.run([*CLI, *args], check=True, env=ENV, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def prefix_events_file(n: int) -> Path:
    """:func:`common.events_file` of ``n`` events, cut from a bigger one already made when there
    is one (the simulator is seeded: the first ``n`` lines of a bigger file are the same
    events), else made."""
    path = DATA / f"session-{n}.jsonl"
    bigger = sorted((p for p in DATA.glob("session-*.jsonl") if p.stem[8:].isdigit()
                     and int(p.stem[8:]) > n), key=lambda p: int(p.stem[8:]))
    if path.exists() or not bigger:
        return events_file(n)
    tmp = path.with_suffix(".tmp")
    with bigger[0].open("rb") as src, tmp.open("wb") as dst:
        for _, line in zip(range(n), src, strict=False):
            dst.write(line)
    tmp.rename(path)
    return path


def export_db(n: int) -> Path:
    """A store of :func:`prefix_events_file`'s ``n`` events, imported (cached per schema)."""
    db = DATA / f"export-{n}-v{len(MIGRATIONS)}.duckdb"
    if not db.exists():
        tmp = db.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        with Store.open(str(tmp)) as store:
            import_paths(store, [str(prefix_events_file(n))])
        tmp.rename(db)
    return db


def row_export(n: int, runs: int) -> Row:
    db = export_db(n)
    out = DATA / "export.jsonl"
    ours = median_time(lambda: _cli("export", "--all", "--db", str(db), "--out", str(out)), runs)
    size = out.stat().st_size
    cols = ", ".join(f'"{c}"' for c, _, _ in EVENT_COLUMNS)

    def copy() -> None:
        with Store.open(str(db), read_only=True) as store:
            store.con.execute("SET enable_progress_bar = false")  # its bar on stdout
            store.con.execute(f"COPY (SELECT {cols} FROM events ORDER BY room_id, ts, msg_id) "
                              f"TO '{DATA / 'copy.jsonl'}' (FORMAT json)")

    theirs = median_time(copy, runs)
    out.unlink()
    (DATA / "copy.jsonl").unlink()
    ratio = ours / theirs
    return Row(9, f"`liveworth export --format jsonl` of {n:,} events ({size / 1e6:,.0f} MB, "
               "a progress bar on a terminal)", f"{ours:.1f} s ({n / ours:,.0f} ev/s)",
               f"{theirs:.1f} s (DuckDB COPY … TO (FORMAT json), the same rows and order, "
               "every column)", f"{ratio:.2f}×", "≤ 1.5×",
               "yes" if ratio <= 1.5 else f"no ({ratio:.2f}×)")


def rows_lake(n_sessions: int, runs: int, notes: dict[str, float] | None = None) -> list[Row]:
    """`lake export` of an archive into a new lake (events/s), then `analyze --lake` against
    `analyze --db` of the same archive."""
    from analytics import analytics_db

    with tempfile.TemporaryDirectory(prefix="liveworth-bench-lake-") as name:
        tmp = Path(name)
        db = tmp / "archive.duckdb"
        t = time.perf_counter()
        n_events = analytics_db(db, n_sessions, LAKE_EVENTS_PER_SESSION)
        made = time.perf_counter() - t
        lake = tmp / "lake"

        def export() -> None:  # each time into a new lake: exporting twice adds nothing
            shutil.rmtree(lake, ignore_errors=True)
            _cli("lake", "export", "--db", str(db), "--lake", str(lake))

        exported = median_time(export, runs)
        from_db = median_time(lambda: _cli("analyze", "--db", str(db), "--json"), runs)
        from_lake = median_time(lambda: _cli("analyze", "--lake", str(lake), "--json"), runs)
    if notes is not None:
        notes.update(lake_events=n_events, lake_export_s=exported, analyze_db_s=from_db,
                     analyze_lake_s=from_lake)
    archive = f"{n_sessions:,} sessions, {n_events / 1e6:.1f} M events (made in {made:.0f} s)"
    return [
        Row(13, f"`liveworth lake export` of an archive of {archive} into a new lake",
            f"{exported:.1f} s ({n_events / exported:,.0f} ev/s)", "-", "-", "reported",
            "reported"),
        Row(13, "`liveworth analyze --lake` (the whole lake read into memory, ledger run) vs "
            "`analyze --db` of the same archive", f"{from_lake:.1f} s",
            f"{from_db:.1f} s (--db)", f"{from_lake / from_db:.1f}× slower", "reported",
            "reported"),
    ]


def rows(quick: bool = False, notes: dict[str, float] | None = None) -> list[Row]:
    runs = 1 if quick else 3
    return [row_export(EXPORT_EVENTS_QUICK if quick else EXPORT_EVENTS, runs),
            *rows_lake(LAKE_SESSIONS_QUICK if quick else LAKE_SESSIONS, runs, notes)]

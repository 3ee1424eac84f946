"""`make bench`: liveworth measured side by side with what users would otherwise use.

Each row runs on data the simulator makes (seeded) or on the real dumps, on this machine, in one
run; timings are medians of several runs. The table is printed and written to
docs/PERFORMANCE.md with the machine, the method and the date. Not part of `make test`.

    python bench/run.py [--quick]     (--quick: small sizes, for trying the harness)
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
from analytics import ANALYZE_EVENTS_PER_SESSION, ANALYZE_SESSIONS, analytics_db, row_analyze
from common import ROOT, Row, median_time, real_messages
from exports import rows as export_rows
from imports import rows_import
from live import rows as live_rows
from spark import rows as spark_rows

from liveworth.decode import webcast
from liveworth.model.estimate import Inputs, estimate
from liveworth.model.generative import ModelParams

#: The hand-written section of docs/PERFORMANCE.md, kept when the tables are regenerated.
WHY_HEADING = "## Why the misses"


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
    # An installed liveworth has its bytecode (pip compiles it); an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (as on these machines) would compile every module at each start
    # (~80 ms of `--help`'s 170 here), which no user's warm start pays.
    compileall.compile_dir(ROOT / "src", quiet=1)
    bare = _command_time([sys.executable, "-c", "pass"], runs)
    rows = []
    for n, args in ((11, ["--help"]), (12, ["convert", "--coins", "100"])):
        ours = _command_time([*cli, *args], runs)
        rows.append(Row(n, f"CLI start-up: `liveworth {' '.join(args)}`", f"{ours * 1000:.0f} ms",
                        f"{bare * 1000:.0f} ms (`python -c pass`)", f"{ours / bare:.1f}×",
                        "≤ 12×", "yes" if ours / bare <= 12 else "no"))
    return rows


# ---------------------------------------------------------------------------- main


class _Timed(list[Row]):
    """The table's rows; each group added is timed from the one before (its data made on first
    use included), printed at once and kept for the notes."""

    def __init__(self) -> None:
        super().__init__()
        self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self.last))
        self.last = now
        print(f"[bench] {name}: {self.laps[-1][1]:.0f} s", file=sys.stderr, flush=True)

    def append(self, row: Row) -> None:
        self.lap(f"row {row.n}")
        super().append(row)

    def __iadd__(self, rows: Iterable[Row]) -> _Timed:  # type: ignore[override,misc]
        rows = list(rows)
        self.lap("rows " + ", ".join(dict.fromkeys(str(r.n) for r in rows)))
        return super().__iadd__(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    args = ap.parse_args()
    big = 200_000 if args.quick else 5_000_000
    runs = 1 if args.quick else 3
    started = time.perf_counter()
    extra: dict[str, float] = {}
    rows = _Timed()
    rows.append(row_decode(runs))
    rows += rows_import(big, 1, extra)
    small = 500_000 if not args.quick else 50_000
    small_extra: dict[str, float] = {}
    rows_import(small, 1, small_extra, detail=False)
    rows.lap(f"the {small:,}-event import (growth)")
    rows.append(row_analyze(1_000 if args.quick else ANALYZE_SESSIONS, runs))
    rows.append(row_estimate(runs))
    from web import row_home

    rows.append(row_home(analytics_db, 1_000, ANALYZE_EVENTS_PER_SESSION // 5, runs))
    rows += live_rows(quick=args.quick)
    rows += export_rows(quick=args.quick)
    rows += spark_rows(quick=args.quick)
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
        f"- Whole run: {elapsed / 60:.1f} min (data under bench/.data made on first use "
        "included); by row: " + ", ".join(f"{name} {secs:.0f} s" for name, secs in rows.laps)
        + ".",
    ]
    machine = (f"{platform.node() or 'host'}: {platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")
    doc = "\n".join([
        "# Performance", "",
        f"Measured by `make bench` ({'--quick' if args.quick else 'full'}) on "
        f"{dt.date.today().isoformat()}, {machine}. Timings are medians of {runs} run(s); "
        "data from the simulator (seeded) and the real dumps in tests/data.", "",
        *table, "", *notes, "",
        "Method: see bench/run.py — each row is one function there (rows 7–10: bench/live.py)."
        " Rows 7, 7b, 8, 8b and 10 replay real "
        "webcast messages at the stated rate through the recorder's own path (journal with "
        "fsync, decode, store, ledger); latency is per message, from its reaching the "
        "recorder until its batch is stored; µs/msg is the writer's wall time per step.", "",
    ])
    print("\n".join(table))
    print("\n".join(notes))
    target = ROOT / "docs" / "PERFORMANCE.md"
    # The analysis written by hand under WHY_HEADING survives a new run (update it by hand).
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    if WHY_HEADING in old:
        doc += "\n" + old[old.index(WHY_HEADING):]
    target.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()

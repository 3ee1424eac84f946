"""Row 14: the lake's ledger in Apache Spark, ``local[1]`` against ``local[2]`` on the same
archive (the scaling ratio of one core to two), and the per-core rate docs/SCALE.md sizes a
cluster from.

The archive is :func:`analytics.analytics_db`'s (one creator's simulated sessions), exported to
a lake. Each master runs in its own process (one JVM, one master): Spark starts, one warm-up
pass, then the median of ``runs`` passes of the work ``--engine spark`` gives Spark — scan every
part, keep one copy of each ``(room_id, msg_id)`` in lake order, the ledger (SQL and the fold's
grouped UDF) — written to Spark's ``noop`` sink (everything computed, nothing collected).

Standalone: ``cd bench && ../.venv/bin/python -c 'import spark; print(spark.rows(quick=True))'``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, Row

_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
lake, master, runs, hosts = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.load(open(sys.argv[4]))
t = time.perf_counter()
from liveworth.store.lake import event_parts
from liveworth.store.spark import spark_session
from liveworth.store.spark.engine import kept_events
from liveworth.store.spark.ledger import spark_credits
spark = spark_session(master)
start = time.perf_counter() - t
parts = event_parts(Path(lake))
def once():
    events = kept_events(spark, parts).drop("_place", "_row").persist()
    spark_credits(spark, events, hosts).write.format("noop").mode("overwrite").save()
    n = events.count()
    events.unpersist()
    return n
n = once()
times = []
for _ in range(runs):
    t = time.perf_counter(); once(); times.append(time.perf_counter() - t)
print(json.dumps({"events": n, "start_s": start, "ledger_s": statistics.median(times)}))
"""


def _archive(tmp: Path, quick: bool) -> tuple[Path, Path, int]:
    """The lake of a simulated archive, its rooms' host ids (a JSON file), its events."""
    from analytics import analytics_db

    from liveworth.store import ledger
    from liveworth.store.database import Store
    from liveworth.store.lake import check_lake, export_lake

    db = tmp / "archive.duckdb"
    n_events = analytics_db(db, 50 if quick else 200, 2_000)
    lake = check_lake(tmp / "lake", create=True)
    with Store.open(str(db), read_only=True) as store:
        export_lake(store, lake)
        rooms = [str(r[0]) for r in store.query("SELECT DISTINCT room_id FROM events")]
        hosts = ledger.host_ids(store.con, rooms)
    (tmp / "hosts.json").write_text(json.dumps(hosts))
    return lake, tmp / "hosts.json", n_events


def _measure(lake: Path, hosts: Path, master: str, runs: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(lake), master, str(runs),
                           str(hosts)], capture_output=True, text=True, env=env, check=False,
                          timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"spark bench ({master}) failed: {done.stderr[-1500:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(quick: bool = False) -> list[Row]:
    """Row 14 (``--quick``: 50 sessions; full: 200, about 0.55 M events), one warm-up pass and
    one measured: the archive is sized so that the row stays within ~4 minutes of `make bench`
    on 2 cores (a pass of local[1] runs at 5,000–14,000 events a second)."""
    from liveworth.store.spark.checks import SparkUnavailable, check_java, check_pyspark

    try:
        check_pyspark()
        check_java()
    except SparkUnavailable as exc:
        return [Row(14, "the lake's ledger in Spark, local[1] vs local[2]", "-", str(exc), "-",
                    "≥ 1.6× on 2 cores", "not measured")]
    runs = 1
    with tempfile.TemporaryDirectory(prefix="liveworth-bench-spark-") as tmp:
        lake, hosts, n_events = _archive(Path(tmp), quick)
        one = _measure(lake, hosts, "local[1]", runs)
        two = _measure(lake, hosts, "local[2]", runs)
    ratio = one["ledger_s"] / two["ledger_s"]
    rate = n_events / one["ledger_s"]
    return [Row(14, f"the lake's ledger in Spark (scan, dedupe, ledger) over {n_events:,} "
                f"events: local[2] (Spark started in {two['start_s']:.0f} s)",
                f"{two['ledger_s']:.1f} s ({n_events / two['ledger_s']:,.0f} ev/s)",
                f"local[1]: {one['ledger_s']:.1f} s ({rate:,.0f} ev/s per core)",
                f"{ratio:.2f}×", "≥ 1.6× on 2 cores", "yes" if ratio >= 1.6 else
                f"no ({ratio:.2f}×)")]


if __name__ == "__main__":
    print(rows(quick="--quick" in sys.argv))

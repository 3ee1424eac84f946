"""2. Reconnect storms: the connection drops every 1–10 s and TikTok replays a backlog.

``liveworth.ingest.sources.FlakySource`` (the fake connector) serves a session's raw messages, drops
the connection after a random 1–10 s of message time, and on each reconnect first replays the
last ``backlog`` messages it already sent — what makes naive trackers count gifts twice. The
recorder (``liveworth.ingest.recorder.record``, in process, the path ``liveworth record`` takes)
reconnects with its jittered backoff each time. The store must end equal to a clean import:
the same events, none twice, the same ledger and the same report for every session.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from dataclasses import dataclass

from faults.common import (
    Ctx,
    Figure,
    Input,
    at_least,
    clean_reference,
    compare,
    corpus,
    db_state,
    info,
    reports,
    reports_differing,
    truth_coins,
    zero,
)
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import FlakySource, load_raw
from liveworth.store.database import Store

SCENARIO = "2. reconnect storms"
BACKLOGS = (10, 50, 200)


@dataclass
class Storm:
    input: str
    backlog: int
    connects: int
    handled: int
    messages: int
    gaps: int
    diff: dict[str, int]
    reports_differing: int
    truth_mismatch: int
    seconds: float


def one_storm(ctx: Ctx, index: int, inp: Input, backlog: int) -> Storm:
    work = ctx.work / "storms" / f"s{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    messages, _ = load_raw([inp.path])
    source = FlakySource(messages, "flaky", rng=random.Random(ctx.seed * 7919 + index),
                         drop_every=(1.0, 10.0), backlog=backlog)
    db = work / "storm.duckdb"
    t0 = time.monotonic()
    result = asyncio.run(record([source], str(db), work / "journal", backoff_base_s=0.001,
                                rng=random.Random(ctx.seed + index)))
    seconds = time.monotonic() - t0
    with Store.open(str(db), read_only=True) as store:
        gaps = int(store.query("SELECT count(*) FROM recorder_gaps")[0][0])
    got = reports(db, ctx.inv, f"storm {index}")
    clean_state, want = clean_reference(ctx, inp)
    truth = truth_coins(inp)
    mismatch = int(truth is not None and sum(r["coins"] for r in got.values()) != truth)
    return Storm(inp.name, backlog, source.connects, result.states["flaky"].messages,
                 len(messages), gaps, compare(clean_state, db_state(db)),
                 reports_differing(want, got), mismatch, seconds)


def run(ctx: Ctx, storms: int | None = None) -> list[Figure]:
    # The paced journals span 3 s: too short to storm. The real dumps span minutes to weeks.
    inputs = [i for i in corpus(ctx) if i.span_s >= 30]
    plan = [(inp, b) for b in BACKLOGS for inp in inputs]
    if storms is not None or ctx.short:
        rng = random.Random(ctx.seed)
        plan = rng.sample(plan, storms if storms is not None else 3)
    ctx.log(f"  storms: {len(plan)} storms")
    t0 = time.monotonic()
    results = [one_storm(ctx, i, inp, b) for i, (inp, b) in enumerate(plan)]
    return figures(results, len(plan), time.monotonic() - t0)


def figures(results: list[Storm], n: int, elapsed: float) -> list[Figure]:
    s = SCENARIO
    total: dict[str, int] = {}
    for r in results:
        for k, v in r.diff.items():
            total[k] = total.get(k, 0) + v
    return [
        at_least(s, "storms (drop every 1–10 s, backlog replayed on reconnect)", len(results),
                 n, "backlogs of " + ", ".join(str(b) for b in sorted({r.backlog
                                                                        for r in results}))
                 + " messages"),
        info(s, "sessions stormed", len({r.input for r in results})),
        at_least(s, "connection drops survived", sum(r.connects - 1 for r in results), 1),
        info(s, "backlog messages replayed (sent twice or more)",
             sum(r.handled - r.messages for r in results)),
        info(s, "disconnections kept for the reports (recorder_gaps)",
             sum(r.gaps for r in results)),
        zero(s, "messages lost", total.get("lost", 0)),
        zero(s, "messages counted twice", total.get("doubled", 0)),
        zero(s, "events a clean import does not have", total.get("foreign", 0)),
        zero(s, "event or ledger rows different from a clean import",
             total.get("event rows differing", 0) + total.get("credit rows differing", 0)),
        zero(s, "reports different from a clean import (session × storm)",
             sum(r.reports_differing for r in results),
             "the 'disconnected' flag, which only a recording can have, left aside"),
        zero(s, "simulated sessions whose coins differ from the simulator's ground truth",
             sum(r.truth_mismatch for r in results)),
        info(s, "wall time", f"{elapsed:.0f} s",
             f"slowest storm {max(r.seconds for r in results):.1f} s" if results else ""),
    ]

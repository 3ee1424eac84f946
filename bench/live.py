"""Rows 7 and 8 of `make bench`: the live path (journal, decode, store, ledger) at a big room's
rate, and many rooms at once, replaying real webcast messages through the recorder."""

from __future__ import annotations

import asyncio
import time

from common import DATA, Row, real_messages, with_msg_id


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

"""The live path's parts made for speed (issue #21): the per-message latency, the store's
shortcut for a block of new events, and the journal's one write per batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from liveworth.decode.rawsources import (
    JournalWriter,
    RawMessage,
    decode_raw,
    iter_dump,
    iter_journal,
    journal_line,
)
from liveworth.errors import InputFormatError
from liveworth.ingest.batches import Latency
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import ReplaySource
from liveworth.store.database import Store, events_table

DUMPS = Path(__file__).parent / "data" / "real" / "webcast_dumps"


def test_latency_is_per_message_in_whole_ms() -> None:
    lat = Latency()
    lat.add(8.0, [7.9990234375, 7.875, 7.0])  # 0.98 ms, 125 ms, 1000 ms (exact in binary)
    lat.add(20.0, [19.9921875])  # 7.8 ms
    assert (lat.messages, lat.batches) == (4, 2)
    assert [lat.quantile_ms(q) for q in (0.0, 0.25, 0.5, 0.75, 0.99)] == [0, 7, 125, 1000, 1000]
    assert Latency().quantile_ms(0.99) is None


def _real_events() -> list:
    msgs = [m for m in iter_dump(DUMPS / "link.json.gz") if isinstance(m, RawMessage)]
    out = []
    for m in msgs:
        try:
            out.extend(decode_raw(m))
        except InputFormatError:  # undecodable ones are not the point here
            continue
    return out


def _stored(path: Path, blocks: list[list]) -> tuple[list[tuple], list[int]]:
    inserted = []
    with Store.open(str(path)) as store:
        for block in blocks:
            inserted.append(store.insert_events(events_table(block)))
        rows = store.query("SELECT * FROM events ORDER BY room_id, msg_id")
    return rows, inserted


def test_a_block_of_new_events_is_stored_as_judging_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _real_events()
    assert len(events) > 100
    # new blocks (the shortcut), a block all stored already, a block with a copy inside it
    blocks = [events[:60], events[60:], events[:60], events[10:20] + events[10:12]]
    fast = _stored(tmp_path / "fast.duckdb", blocks)
    monkeypatch.setattr(Store, "_all_new", lambda self: False)
    judged = _stored(tmp_path / "judged.duckdb", blocks)
    assert fast == judged
    assert fast[1] == [60, len(events) - 60, 0, 0]


def test_the_journal_writes_a_batch_as_its_lines(tmp_path: Path) -> None:
    msgs = [m for m in iter_dump(DUMPS / "link.json.gz") if isinstance(m, RawMessage)][:50]
    path = tmp_path / "a.journal.jsonl"
    with JournalWriter(path) as j:
        j.append_lines([journal_line(m) for m in msgs])
        j.flush()
        assert j.size() == path.stat().st_size
    assert list(iter_journal(path)) == msgs


def test_a_pipelined_replay_checkpoints_what_it_stored(tmp_path: Path) -> None:
    """The store thread checkpoints each batch at the size its journaling left; at the end the
    checkpoint is the whole journal and the store holds every journaled message's events."""
    msgs = [m for m in iter_dump(DUMPS / "link.json.gz") if isinstance(m, RawMessage)]
    t0 = msgs[0].arrival_ms
    paced = [RawMessage(m.method, m.payload, m.room_id, t0 + i * 3, m.host)
             for i, m in enumerate(msgs)]
    db, journal = tmp_path / "r.duckdb", tmp_path / "journal"
    result = asyncio.run(record([ReplaySource(paced, "h", 1.0)], str(db), journal))
    assert result.latency.messages == len(paced) and result.latency.batches > 1
    path = journal / "h.journal.jsonl"
    with Store.open(str(db), read_only=True) as store:
        done = store.query("SELECT bytes_done FROM journal_files")
        stored = store.query("SELECT count(*) FROM events")[0][0]
    assert done == [(path.stat().st_size,)]
    with Store.open(str(tmp_path / "clean.duckdb")) as store:
        store.insert_events(events_table([e for m in iter_journal(path)
                                          if isinstance(m, RawMessage)
                                          for e in _decoded(m)]))
        assert store.query("SELECT count(*) FROM events")[0][0] == stored


def _decoded(m: RawMessage) -> list:
    try:
        return decode_raw(m)
    except InputFormatError:
        return []

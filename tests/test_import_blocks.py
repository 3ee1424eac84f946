"""Importing event JSONL block by block: the same result whatever the block size, and an import
cut short completed by importing again."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.ingest.importer import import_paths
from liveworth.store import eventsql
from liveworth.store.database import Store

GIFT = {"v": 1, "type": "gift", "room_id": "r1", "user_id": "1", "user": "a", "nickname": "a",
        "gift_id": 5655, "gift_name": "Rose", "coins": 1, "gift_type": 2, "repeat_count": 1,
        "repeat_end": True, "group_id": "g"}


def _lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        obj: dict[str, Any] = {**GIFT, "ts": 1_700_000_000_000 + i, "msg_id": f"m{i}",
                               "room_id": f"r{i % 3}", "coins": rng.choice([1, 5, 99])}
        if i % 17 == 0:
            obj["note"] = "an extra"  # judged by Python, kept in extra
        out.append(json.dumps(obj))
    out += out[: n // 4]  # repeats, far from their first copy
    out.insert(n // 2, '{"type": "gift", "room_id": "r1"}')  # rejected: no ts
    out.insert(n // 3, "not json")
    return out


def _run(db: Path, path: Path) -> tuple[dict[str, Any], list[tuple[Any, ...]], list[Any]]:
    with Store.open(str(db)) as store:
        rejects: list[Any] = []
        result = import_paths(store, [path], on_reject=rejects.append)
        events = store.query("SELECT room_id, msg_id, ts, coins, extra FROM events ORDER BY 1, 2")
        credits = store.query("SELECT room_id, msg_id, coins FROM credits ORDER BY 1, 2")
    counts = {k: result.as_dict()[k] for k in ("accepted", "duplicates", "rejected")}
    return counts, events + credits, [(r.where.rsplit(":", 1)[1], r.reason) for r in rejects]


def test_block_size_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(_lines(3000, 1)) + "\n")
    whole = _run(tmp_path / "whole.duckdb", path)
    monkeypatch.setattr(eventsql, "BLOCK_BYTES", 4096)  # about 15 lines a block
    small = _run(tmp_path / "small.duckdb", path)
    assert small == whole
    assert whole[0] == {"accepted": 3000, "duplicates": 750, "rejected": 2}
    assert [why for _, why in whole[2]] == ["not JSON (JSONDecodeError)", "field 'ts': missing"]


def test_an_import_cut_short_is_completed_by_importing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(_lines(2000, 2)) + "\n")
    monkeypatch.setattr(eventsql, "BLOCK_BYTES", 8192)
    db = tmp_path / "cut.duckdb"
    seen = [0]

    def stop_half_way(nbytes: int) -> None:
        seen[0] += nbytes
        if seen[0] > path.stat().st_size // 2:
            raise KeyboardInterrupt

    with Store.open(str(db)) as store, pytest.raises(KeyboardInterrupt):
        import_paths(store, [path], progress=stop_half_way)
    with Store.open(str(db)) as store:
        kept = store.query("SELECT count(*) FROM events")[0][0]
    assert 0 < kept < 2000  # the blocks committed before the interruption
    again = _run(db, path)
    fresh = _run(tmp_path / "fresh.duckdb", path)
    assert again[1] == fresh[1] and again[2] == fresh[2]
    assert again[0]["accepted"] == 2000 - kept


@pytest.mark.parametrize("block", [7, 1 << 20])
def test_a_byte_order_mark_is_no_part_of_the_first_line(tmp_path: Path, block: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Some editors start a UTF-8 file with a BOM: the file is still event JSONL (sniffed as
    such) and its first line is an event, not a reject, whatever the block size."""
    monkeypatch.setattr(eventsql, "BLOCK_BYTES", block)
    lines = [json.dumps({**GIFT, "ts": 1_700_000_000_000 + i, "msg_id": f"b{i}"})
             for i in range(5)]
    plain, marked = tmp_path / "plain.jsonl", tmp_path / "bom.jsonl"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    got, want = _run(tmp_path / "b.duckdb", marked), _run(tmp_path / "p.duckdb", plain)
    assert got == want
    assert got[0]["rejected"] == 0


def _conflicting(n: int) -> list[str]:
    """``n`` gifts, then each again with other coins (a conflict) and again unchanged (a
    duplicate), far from the first copy; one conflict comes earlier in time than its first."""
    first = [{**GIFT, "ts": 1_700_000_000_000 + i, "msg_id": f"c{i}", "coins": 1}
             for i in range(n)]
    changed = [{**e, "coins": 7, "ts": e["ts"] - 10_000, "note": "x"} for e in first]
    return [json.dumps(e) for e in first + changed + first]


@pytest.mark.parametrize("block", [64, 700, 1 << 20])
def test_a_conflict_keeps_the_first_copy_whatever_the_block_size(
    tmp_path: Path, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two lines with one (room, msg_id) and different content: the first line is kept, the
    other is a reject naming the conflict — the same at every block size (issue #14, item 8)."""
    monkeypatch.setattr(eventsql, "BLOCK_BYTES", block)
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(_conflicting(20)) + "\n")
    counts, rows, rejects = _run(tmp_path / "c.duckdb", path)
    assert counts == {"accepted": 20, "duplicates": 20, "rejected": 20}
    # every stored event and credit is a first copy
    assert {r[-2] for r in rows if len(r) == 5} == {r[-1] for r in rows if len(r) == 3} == {1}
    assert [int(line) for line, _ in rejects] == list(range(21, 41))
    assert all("different content" in why for _, why in rejects)


def test_a_conflict_with_an_earlier_import_keeps_what_is_stored(tmp_path: Path) -> None:
    lines = _conflicting(5)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:5]) + "\n")
    second.write_text("\n".join(lines[5:]) + "\n")
    db = tmp_path / "x.duckdb"
    _run(db, first)
    counts, rows, rejects = _run(db, second)
    assert counts == {"accepted": 0, "duplicates": 5, "rejected": 5}
    assert {r[-2] for r in rows if len(r) == 5} == {r[-1] for r in rows if len(r) == 3} == {1}
    assert len(rejects) == 5 and all("already kept" in why for _, why in rejects)
    kept = [json.loads(x) for x in (tmp_path / "x.duckdb.rejects.jsonl").read_text().splitlines()]
    assert [k["where"] for k in kept] == [f"{second}:{i}" for i in range(1, 6)]
    # each is kept as the event it would have been: a line that imports again (extras too)
    from liveworth.decode.events import event_from_dict

    back = [event_from_dict(json.loads(k["raw"])) for k in kept]
    assert [(e.msg_id, e.coins, dict(e.extra)) for e in back] == [  # type: ignore[attr-defined]
        (f"c{i}", 7, {"note": "x"}) for i in range(5)]


def test_events_staged_without_lines_keep_their_first_copy(tmp_path: Path) -> None:
    """Raw inputs stage events without a line number: the order they are staged in decides,
    within a flush and across flushes (a batch boundary changes nothing)."""
    from liveworth.decode.events import event_from_dict
    from liveworth.store.database import events_table

    def table(coins: int, ts: int) -> Any:
        return events_table([event_from_dict({**GIFT, "ts": ts, "msg_id": "k", "coins": coins})])

    for split in (False, True):
        with Store.open(str(tmp_path / f"s{split}.duckdb")) as store:
            store.stage_begin()
            store.stage_arrow(table(3, 2_000))
            conflicts = store.stage_flush() if split else []
            store.stage_arrow(table(9, 1_000))  # earlier in time, later in the input
            conflicts += store.stage_flush()
            assert store.stage_commit().conflicts == 1
            assert store.query("SELECT coins FROM events") == [(3,)]
            assert [(c.room_id, c.msg_id, c.event["coins"]) for c in conflicts] == [
                ("r1", "k", 9)]


def test_rejects_are_streamed_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad lines by the tens of thousands: Python's memory stays near one block's worth, the
    rejects file has every one, each kept line cut to MAX_KEPT_RAW (issue #14, item 10)."""
    import tracemalloc

    from liveworth.ingest.rejects import MAX_KEPT_RAW

    monkeypatch.setattr(eventsql, "BLOCK_BYTES", 64 << 10)
    path = tmp_path / "bad.jsonl"
    bad = '{"type": "gift", "room_id": "r1", "ts": "soon", "pad": "' + "x" * 120 + '"}\n'
    long_bad = '{"type": "nope", "pad": "' + "y" * 50_000 + '"}\n'
    with path.open("w") as f:
        f.write(json.dumps({**GIFT, "ts": 1, "msg_id": "ok"}) + "\n" + long_bad)
        for _ in range(60_000):
            f.write(bad)
    warm = tmp_path / "warm.jsonl"  # the modules an import loads the first time are no part
    warm.write_text(json.dumps({**GIFT, "ts": 1, "msg_id": "w"}) + "\n" + bad)
    with Store.open(str(tmp_path / "m.duckdb")) as store:
        import_paths(store, [warm])
        tracemalloc.start()
        result = import_paths(store, [path])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert (result.accepted, result.rejected, result.rejects_kept) == (1, 60_001, 60_001)
    assert peak < 4 << 20, f"{peak:,} bytes of Python objects for {path.stat().st_size:,} bytes"
    kept = (tmp_path / "m.duckdb.rejects.jsonl").read_text().splitlines()[1:]  # after warm's
    assert len(kept) == 60_001
    assert len(json.loads(kept[0])["raw"]) == MAX_KEPT_RAW
    assert json.loads(kept[1])["where"] == f"{path}:3"


@pytest.mark.parametrize("when", ["spooling", "keeping"])
def test_a_full_disk_loses_rejects_not_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              when: str) -> None:
    """The disk fills while rejects are kept: every valid event is committed and the result
    says the rejects are not kept, and why (issue #14, item 9)."""
    import errno

    from liveworth.ingest import rejects

    def full(*_: object, **__: object) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rejects.tempfile if when == "spooling" else rejects.shutil,
                        "TemporaryFile" if when == "spooling" else "copyfileobj", full)
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(_lines(300, 3)) + "\n")
    db = tmp_path / "f.duckdb"
    with Store.open(str(db)) as store:
        result = import_paths(store, [path])
    assert result.committed and result.accepted == 300 and result.rejected == 2
    assert result.rejects_kept == 0 and result.rejects_error == "No space left on device"
    with Store.open(str(db)) as store:
        assert store.query("SELECT count(*) FROM events") == [(300,)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(1, 3),
                          st.sampled_from([1, 5, 99])), min_size=1, max_size=12),
       st.integers(0, 4), st.booleans())
def test_store_batch_is_staging_without_the_stage(rows: list[tuple[int, int, int, int]],
                                                   stored: int, forget_u1: bool) -> None:
    """The recorder's one-batch store (plain batches skip the stage) keeps what staging keeps:
    the same events, ledger marks and counts, with keys stored already, keys given twice
    and forgotten gifters (their names pseudonymized on the way in)."""
    import tempfile

    from liveworth.analysis.crm import forget
    from liveworth.decode.events import event_from_dict
    from liveworth.store.database import events_table

    def event(room: int, key: int, user: int, coins: int, ts: int) -> Any:
        return event_from_dict({**GIFT, "ts": ts, "room_id": f"r{room}", "msg_id": f"m{key}",
                                "user_id": str(user), "user": f"name{user}",
                                "nickname": f"nick{user}", "coins": coins})

    earlier = events_table([event(0, k, 1, 1, 1_000 + k) for k in range(stored)])
    batch = events_table([event(*row, 2_000 + i) for i, row in enumerate(rows)])
    answers = []
    with tempfile.TemporaryDirectory() as tmp:
        for way in ("batch", "stage"):
            with Store.open(f"{tmp}/{way}.duckdb") as store:
                store.insert_events(earlier)
                if forget_u1:
                    forget(store, "1")
                store.query("DELETE FROM ledger_pending")
                if way == "batch":
                    done = store.store_batch(batch)
                else:
                    store.stage_begin()
                    store.stage_arrow(batch)
                    done = store.stage_commit()
                answers.append((done, store.query(
                    'SELECT room_id, msg_id, user_id, "user", nickname, coins, ts FROM events '
                    "ORDER BY 1, 2"), store.query("SELECT * FROM ledger_pending ORDER BY 1")))
    assert answers[0] == answers[1]

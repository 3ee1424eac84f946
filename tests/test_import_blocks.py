"""Importing event JSONL block by block: the same result whatever the block size, and an import
cut short completed by importing again."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

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

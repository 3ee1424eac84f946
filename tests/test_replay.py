"""Replays a creator can rehearse with (issue #16, items 12 and 13): event JSONL (what
``simulate`` writes) replays through the journal like a recording; a replay journals each message
once, each creator under its own host, on one replay clock."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveworth.decode.eventraw import EVENT_METHOD, event_payload
from liveworth.decode.events import EVENT_TYPES, event_from_dict, loads_line
from liveworth.decode.rawsources import RawMessage, RawReject, decode_raw, iter_journal, iter_raw
from liveworth.economy.ratecard import load_rate_card
from liveworth.errors import InputFormatError, UsageError
from liveworth.ingest.importer import Reject, import_paths
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import load_raw, replay_sources
from liveworth.store.database import Store

from conftest import DUMPS, Result, reports

Run = Callable[..., Result]
CARD = load_rate_card()


def event_rows(db: Path) -> list[tuple[Any, ...]]:
    with Store.open(str(db), read_only=True) as store:
        return store.query("SELECT * EXCLUDE (extra), extra::JSON::VARCHAR FROM events "
                           "ORDER BY room_id, msg_id")


def coins(db: Path) -> dict[str, int]:
    return {room: rep["coins"] for room, rep in reports(db).items()}


def imported(paths: list[Path], db: Path, fmt: str = "auto") -> list[tuple[str, str]]:
    """Import ``paths`` into a new ``db``; the rejects, as (where, reason)."""
    rejects: list[Reject] = []
    with Store.open(str(db)) as store:
        import_paths(store, paths, fmt, on_reject=rejects.append)
    return [(r.where, r.reason) for r in rejects]


def journal_lines(journal: Path) -> dict[str, list[RawMessage]]:
    return {p.name: [m for m in iter_journal(p) if isinstance(m, RawMessage)]
            for p in sorted(journal.glob("*.journal.jsonl"))}


def replay(paths: list[Path], db: Path, journal: Path, fallback: str = "replay") -> Any:
    messages, _ = load_raw(paths)
    return asyncio.run(record(replay_sources(messages, fallback, None), str(db), journal))


#: Lines of every kind and shape the importer accepts — extras (a top-level ``extra`` key too),
#: optional fields left out, numbers as strings, no ``v`` — and some it rejects.
ODD_LINES = [
    {"v": 1, "type": "live_start", "room_id": "r2", "ts": 1_700_000_100_000, "msg_id": "s",
     "host_id": "42", "host": "second_host", "followers": "1200", "region": "PL"},
    {"type": "comment", "room_id": "r2", "ts": "1700000100500", "msg_id": 7, "user_id": 5,
     "user": "ann", "nickname": "Ann \u00e9\u2603", "text": "hi \U0001f600 \ud800",
     "extra": {"a": [1]}},
    {"v": 1, "type": "gift", "room_id": "r2", "ts": 1_700_000_101_000, "msg_id": "g1",
     "user_id": "5", "user": "ann", "nickname": "Ann", "gift_id": 5655, "gift_name": "Rose",
     "coins": 1, "gift_type": 1, "repeat_count": 3, "repeat_end": 1, "group_id": "g",
     "to_user_id": "42", "combo": {"x": 1.5, "y": None}},
    {"v": 1, "type": "like", "room_id": "r2", "ts": 1_700_000_101_500, "msg_id": "l1",
     "user_id": "6", "count": 15},
    {"v": 1, "type": "viewers", "room_id": "r2", "ts": 1_700_000_102_000, "msg_id": "v1",
     "current": 12, "total": 40},
    {"v": 1, "type": "battle", "room_id": "r2", "ts": 1_700_000_102_500, "msg_id": "b1",
     "battle_id": "99", "teams": [{"host": "a", "score": 3}]},
    {"v": 1, "type": "join", "room_id": "r3", "ts": 1_700_000_103_000, "msg_id": "j1",
     "user_id": "8", "user": "bo", "nickname": "Bo", "host": "third_host"},
    {"v": 1, "type": "share", "room_id": "r3", "ts": 1_700_000_103_500, "msg_id": "sh",
     "user_id": "8", "user": "bo", "nickname": "Bo"},
    {"v": 1, "type": "follow", "room_id": "r3", "ts": 1_700_000_103_600, "msg_id": "fo",
     "user_id": "8", "user": "bo", "nickname": "Bo"},
    {"v": 1, "type": "subscribe", "room_id": "r2", "ts": 1_700_000_103_700, "msg_id": "su",
     "user_id": "5", "user": "ann", "nickname": "Ann", "months": "2", "price_usd": 4.99},
    {"v": 1, "type": "live_end", "room_id": "r2", "ts": 1_700_000_104_000, "msg_id": "e",
     "reason": "suspended"},
]
BAD_LINES = ['{"v": 1, "type": "gift", "room_id": "r2"', "{\"v\": 1, \"type\": \"dance\", "
             "\"room_id\": \"r2\", \"ts\": 1, \"msg_id\": \"d\"}",
             json.dumps({"v": 1, "type": "gift", "room_id": "r2", "ts": 1, "msg_id": "x",
                         "user_id": "1", "user": "u", "nickname": "n", "gift_id": 1,
                         "gift_name": "g", "coins": -5, "gift_type": 1, "repeat_count": 1,
                         "repeat_end": True, "group_id": "g"})]


@pytest.fixture
def sim(cli: Run, tmp_path: Path) -> Path:
    """A simulated LIVE (as `liveworth simulate` writes it) and the odd lines after it."""
    path = tmp_path / "sim.jsonl"
    r = cli("simulate", "--followers", "20000", "--minutes", "4", "--seed", "5", "--host",
            "sim_host", "--out", str(path))
    assert r.code == 0, r.err
    with path.open("a", encoding="utf-8") as f:
        for i, obj in enumerate(ODD_LINES):
            f.write(json.dumps(obj, ensure_ascii=i % 2 == 1) + "\n")
            if i in (1, 4, 6):
                f.write(BAD_LINES[(1, 4, 6).index(i)] + "\n")
    return path


def test_every_event_round_trips_through_its_raw_message(sim: Path) -> None:
    """decode_raw of an event's raw message gives the event back exactly, extras included."""
    events = []
    for line in sim.read_text(encoding="utf-8").splitlines():
        try:
            events.append(event_from_dict(loads_line(line)))
        except (ValueError, InputFormatError):
            continue  # the bad lines
    assert {e.TYPE for e in events} == set(EVENT_TYPES)
    assert len(events) == len(sim.read_text(encoding="utf-8").splitlines()) - len(BAD_LINES)
    for ev in events:
        msg = RawMessage(EVENT_METHOD, event_payload(ev), ev.room_id, ev.ts, None)
        (back,) = decode_raw(msg)
        assert back == ev and dict(back.extra) == dict(ev.extra)


def test_event_jsonl_replays_through_the_journal_like_an_import(sim: Path,
                                                               tmp_path: Path) -> None:
    """Replay sim.jsonl, import the journal: exactly the events, reports and coins of importing
    sim.jsonl itself; its bad lines are rejected as import rejects them (file:line, reason)."""
    direct = tmp_path / "direct.duckdb"
    want_rejects = imported([sim], direct)
    assert len(want_rejects) == len(BAD_LINES)
    items = list(iter_raw(sim))
    assert [(r.where, r.reason) for r in items if isinstance(r, RawReject)] == want_rejects
    messages = [m for m in items if isinstance(m, RawMessage)]
    assert {m.method for m in messages} == {EVENT_METHOD}
    assert {m.room_id: m.host for m in messages} == {
        "sim-5": "sim_host", "r2": "second_host", "r3": "third_host"}

    db, journal = tmp_path / "rec.duckdb", tmp_path / "journal"
    result = replay([sim], db, journal)
    assert sorted(result.states) == ["second_host", "sim_host", "third_host"]
    rebuilt = tmp_path / "rebuilt.duckdb"
    assert imported(sorted(journal.glob("*.journal.jsonl")), rebuilt) == []
    rows = event_rows(direct)
    assert len(rows) == len(messages)
    assert event_rows(rebuilt) == rows
    assert event_rows(db) == rows
    want = reports(direct)
    assert reports(rebuilt) == want and reports(db) == want
    assert want["sim-5"]["coins"] > 0 and want["r2"]["coins"] == 3


def test_record_replays_a_simulated_live_and_names_its_bad_lines(sim: Path,
                                                                tmp_path: Path) -> None:
    db, journal = tmp_path / "rec.duckdb", tmp_path / "journal"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run([sys.executable, "-m", "liveworth", "record", "--replay", str(sim),
                           "--speed", "max", "--db", str(db), "--journal", str(journal),
                           "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    at = [n for n, line in enumerate(sim.read_text(encoding="utf-8").splitlines(), 1)
          if line in BAD_LINES]
    assert done.stderr.splitlines() == [
        f"rejected {sim}:{at[0]}: not JSON (JSONDecodeError)",
        f"rejected {sim}:{at[1]}: field 'type': unknown event type \"dance\"",
        f"rejected {sim}:{at[2]}: field 'coins': out of range: -5"]
    summary = json.loads(done.stdout.splitlines()[-1])
    assert {s["room_id"]: s["coins"] for s in summary["sessions"]} == coins(db)
    assert {c["host"] for c in summary["creators"]} == {"sim_host", "second_host",
                                                        "third_host"}


def test_replaying_the_same_file_twice_journals_it_once(tmp_path: Path) -> None:
    """ab.json.gz: 838 messages of 256 creators. The second replay appends nothing (it was
    838 -> 1,676 lines), and the store still equals a clean import."""
    dump = DUMPS / "ab.json.gz"
    db, journal = tmp_path / "rec.duckdb", tmp_path / "journal"
    replay([dump], db, journal)
    first = journal_lines(journal)
    assert sum(map(len, first.values())) == 838
    sizes = {p: p.stat().st_size for p in journal.iterdir()}
    result = replay([dump], db, journal)
    assert journal_lines(journal) == first
    assert {p: p.stat().st_size for p in journal.iterdir()} == sizes
    assert sum(st.messages for st in result.states.values()) == 838  # still replayed, stored
    clean = tmp_path / "clean.duckdb"
    imported([dump], clean)
    assert event_rows(db) == event_rows(clean)
    assert reports(db) == reports(clean)


def test_a_multi_host_dump_journals_each_creator_under_its_own_host(tmp_path: Path) -> None:
    """log.json.gz: 847 messages of 256 creators; each is its own creator, its own journal."""
    dump = DUMPS / "log.json.gz"
    messages, _ = load_raw([dump])
    hosts = {m.host for m in messages}
    assert None not in hosts and len(hosts) == 256
    db, journal = tmp_path / "rec.duckdb", tmp_path / "journal"
    result = replay([dump], db, journal)
    assert set(result.states) == hosts
    assert all(st.messages == sum(m.host == h for m in messages)
               for h, st in result.states.items())
    lines = journal_lines(journal)
    assert len(lines) == 256
    for name, got in lines.items():
        assert {m.host for m in got} == {name.removesuffix(".journal.jsonl")}
    clean = tmp_path / "clean.duckdb"
    imported([dump], clean)
    assert coins(db) == coins(clean)
    rebuilt = tmp_path / "rebuilt.duckdb"
    imported(sorted(journal.glob("*.journal.jsonl")), rebuilt)
    assert coins(rebuilt) == coins(clean) and reports(rebuilt) == reports(clean)


def _args(*paths: Path) -> argparse.Namespace:
    return argparse.Namespace(replay=[str(p) for p in paths], speed=None, max_gap=5.0)


def test_naming_a_creator_of_a_multi_host_file_replays_only_theirs() -> None:
    from liveworth.cli.record import _replay_sources

    dump = DUMPS / "giftsCollector.json.gz"  # valeria.viral 151, mryang_english 110, asmr_kto 13
    everyone = _replay_sources(_args(dump), [])
    assert sorted((s.host, len(s.messages)) for s in everyone) == [  # type: ignore[attr-defined]
        ("asmr_kto", 13), ("mryang_english", 110), ("valeria.viral", 151)]
    only = _replay_sources(_args(dump), ["ASMR_kto"])
    assert [(s.host, len(s.messages)) for s in only] == [("asmr_kto", 13)]  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match=r"@nobody: not among the 3 creators"):
        _replay_sources(_args(dump), ["nobody"])
    # one creator in the file: the name given is the creator it is recorded as
    single = _replay_sources(_args(DUMPS / "link.json.gz"), ["someone"])
    assert [(s.host, len(s.messages)) for s in single] == [("someone", 215)]  # type: ignore[attr-defined]


def test_all_creators_of_a_replay_share_one_clock() -> None:
    """Two creators' messages keep their relative timing, and a silence is cut once over all
    of them (not per creator)."""
    t0 = 1_700_000_000_000
    plan = [("a", 0), ("b", 400), ("a", 800), ("b", 60_000), ("a", 60_400)]
    messages = [RawMessage("M", b"x", None, t0 + ms, host) for host, ms in plan]
    sources = replay_sources(messages, "fallback", 1.0, max_gap_s=0.3)
    assert [s.host for s in sources] == ["a", "b"]
    seen: list[tuple[str, int, float]] = []

    async def drain(source: Any, start: float) -> None:
        async for m in source.connect():
            seen.append((m.host, m.arrival_ms - t0, time.monotonic() - start))

    async def both() -> None:
        start = time.monotonic()
        await asyncio.gather(*(drain(s, start) for s in sources))

    asyncio.run(both())
    seen.sort(key=lambda x: x[2])
    assert [(h, ms) for h, ms, _ in seen] == plan
    # due: 0, 0.3 (400 ms cut to 0.3 s), 0.6, 0.9 (the minute's silence cut), 1.2
    for (_, _, at), due in zip(seen, [0.0, 0.3, 0.6, 0.9, 1.2], strict=True):
        assert due - 0.03 <= at <= due + 0.15, seen


def test_a_killed_replay_restarted_journals_each_message_once(tmp_path: Path) -> None:
    """SIGKILL mid-replay, then the same replay again: every message is in the journal once (a
    torn last line aside) and in the store once, as a clean import has it."""
    dump = DUMPS / "link.json.gz"  # 215 messages of one creator over 60 s
    db, journal = tmp_path / "k.duckdb", tmp_path / "journal"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    cmd = [sys.executable, "-m", "liveworth", "record", "--replay", str(dump), "--db", str(db),
           "--journal", str(journal), "--quiet", "--speed"]
    proc = subprocess.Popen([*cmd, "30"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    path = journal / "crecee.saraa.journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (path.exists() and path.stat().st_size > 0):
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = [m for m in iter_journal(path) if isinstance(m, RawMessage)]
    assert 0 < len(before) < 215
    done = subprocess.run([*cmd, "max"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = [m for m in iter_journal(path) if isinstance(m, RawMessage)]
    assert after[:len(before)] == before
    assert len(after) == len(set(after)) == 215
    clean = tmp_path / "clean.duckdb"
    imported([dump], clean)
    assert event_rows(db) == event_rows(clean)
    assert reports(db) == reports(clean)

"""The live recorder: replay, reconnect storms, crash recovery, quota, the TikTokLive seam."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveworth.analysis.report import session_report
from liveworth.decode.rawsources import JournalWriter, RawMessage, decode_raw, iter_journal
from liveworth.economy.ratecard import load_rate_card
from liveworth.ingest.importer import import_paths
from liveworth.ingest.recorder import Backoff, Quota, record
from liveworth.ingest.sources import FlakySource, ReplaySource, load_raw
from liveworth.store.database import Store, events_table

from conftest import DUMPS, Result, reports

Run = Callable[..., Result]
CARD = load_rate_card()
DUMP = DUMPS / "log.json.gz"  # 847 messages from 256 real rooms, recorded 2023-10-04


def event_keys(db: Path | str) -> list[tuple[str, str]]:
    with Store.open(str(db), read_only=True) as store:
        return [(r[0], r[1]) for r in store.query(
            "SELECT room_id, msg_id FROM events ORDER BY room_id, msg_id")]


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dump imported once: what every recording of it must equal."""
    db = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    with Store.open(str(db)) as store:
        import_paths(store, [DUMP])
    return db


@pytest.fixture(scope="module")
def messages() -> list[RawMessage]:
    return load_raw([DUMP])[0]


def test_replay_through_the_recorder_equals_import(
    tmp_path: Path, clean_db: Path, messages: list[RawMessage]
) -> None:
    db = tmp_path / "rec.duckdb"
    result = asyncio.run(record([ReplaySource(messages, "replay", None)], str(db),
                                tmp_path / "journal"))
    assert reports(db) == reports(clean_db)
    assert result.states["replay"].messages == len(messages)
    journal = tmp_path / "journal" / "replay.journal.jsonl"
    assert sum(1 for _ in iter_journal(journal)) == len(messages)


def test_reconnect_storm_with_backlog_replays_counts_once(
    tmp_path: Path, clean_db: Path, messages: list[RawMessage]
) -> None:
    source = FlakySource(messages, "flaky", rng=random.Random(7), drop_every=(1.0, 10.0),
                         backlog=40)
    db = tmp_path / "flaky.duckdb"
    result = asyncio.run(record([source], str(db), tmp_path / "j", backoff_base_s=0.001,
                                rng=random.Random(1)))
    assert source.connects > 5  # it really dropped, many times
    assert result.states["flaky"].reconnects == source.connects - 1
    assert result.states["flaky"].messages > len(messages)  # backlogs were replayed...
    assert event_keys(db) == event_keys(clean_db)  # ...and counted once
    assert reports(db) == reports(clean_db)
    with Store.open(str(db), read_only=True) as store:
        gaps = store.query("SELECT count(*) FROM recorder_gaps")[0][0]
        assert gaps > 0
        room = store.query("SELECT room_id FROM recorder_gaps WHERE room_id IS NOT NULL "
                           "LIMIT 1")[0][0]
        flags = {f["flag"] for f in session_report(store, room, CARD).flags}
    assert "disconnected" in flags


def test_one_failing_creator_does_not_stop_the_others(
    tmp_path: Path, messages: list[RawMessage]
) -> None:
    class Broken:
        host = "broken"
        signed = False

        def __init__(self) -> None:
            self.calls = 0

        async def connect(self) -> Any:
            self.calls += 1
            raise RuntimeError("boom")
            yield  # pragma: no cover

    broken = Broken()

    async def go() -> Any:
        stop = asyncio.Event()

        def tick(states: dict[str, Any]) -> None:
            if states["ok"].messages == 200 and broken.calls > 2:
                stop.set()

        return await record([broken, ReplaySource(messages[:200], "ok", None)],
                            str(tmp_path / "b.duckdb"), tmp_path / "j", stop=stop,
                            backoff_base_s=0.001, on_tick=tick)

    result = asyncio.run(go())
    assert result.states["ok"].messages == 200
    assert "boom" in result.states["broken"].last_error


def _record_cmd(db: Path, journal: Path, speed: str, replay: Path = DUMP,
                max_gap: str = "5") -> list[str]:
    return [sys.executable, "-m", "liveworth", "record", "--replay", str(replay), "--speed",
            speed, "--max-gap", max_gap, "--db", str(db), "--journal", str(journal), "--quiet"]


#: The dump spans 83 days of collector sessions (256 rooms): at 400x with silences cut to 5 ms
#: its replay takes about 2 s after a start-up of about 1.5 s, so a kill between 1.6 and 3.2 s
#: lands while messages flow (measured; without the cut it sits on its first silence).
DENSE = "0.005"


@pytest.mark.parametrize("kill_after", [0.4, 1.9, 2.8])
def test_sigkill_mid_recording_loses_and_doubles_nothing(
    tmp_path: Path, clean_db: Path, kill_after: float
) -> None:
    db, journal = tmp_path / "k.duckdb", tmp_path / "journal"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    proc = subprocess.Popen(_record_cmd(db, journal, "400", max_gap=DENSE), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Restart: recovery re-imports the journal, then the replay runs to the end.
    done = subprocess.run(_record_cmd(db, journal, "max"), env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    keys = event_keys(db)
    assert len(keys) == len(set(keys))  # nothing doubled
    assert keys == event_keys(clean_db)  # nothing lost
    assert reports(db) == reports(clean_db)


@pytest.mark.parametrize("term_after", [2.5, 3.0, 4.5])
def test_sigterm_is_a_normal_stop(tmp_path: Path, term_after: float) -> None:
    """systemd and docker stop a service with SIGTERM: it stops like Ctrl-C — every message
    taken is journaled and stored, the ledger runs, the summary is printed, exit 0 (issue #16,
    item 6); the store then equals a clean import of its journal, coins included."""
    db, journal = tmp_path / "t.duckdb", tmp_path / "journal"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    # link.json.gz: 215 messages over 60 s, at 20x 3 s of replay after ~1.5 s of start-up; the
    # last moment lands after the replay, in the final report (a SIGTERM there too is a stop)
    cmd = [*_record_cmd(db, journal, "20", DUMPS / "link.json.gz")[:-1], "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # The moments count from the first journaled message, not from the process's start (a
    # loaded machine may take longer than ~1.5 s to start; a stop before any message would be
    # another test's case). The first session event (viewers) comes 19 s into the dump: ~0.95 s
    # of replay, so the earliest moment (1.0 s after the first journal write) sees a session.
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not any(
            f.stat().st_size for f in journal.glob("*.journal.jsonl")):
        time.sleep(0.05)
    time.sleep(max(0.0, term_after - 1.5))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    summary = lines[-1]  # --json: state lines, then the summary (issue #16, item 7)
    assert summary["type"] == "summary" and all(x["type"] != "summary" for x in lines[:-1])
    assert [x["status"] for x in lines if x["type"] == "state"][:1] == ["connecting"]
    journaled = sum(1 for _ in iter_journal(next(journal.glob("*.journal.jsonl"))))
    assert summary["sessions"] and 0 < journaled <= 215
    # what a replay is measured by (issue #21): messages, wall time, event-to-store latency
    assert summary["messages"] == journaled and summary["wall_s"] > 0
    lat = summary["latency_ms"]
    assert lat["batches"] > 0 and 0 <= lat["p50"] <= lat["p99"]
    if journaled < 215:  # stopped mid-replay: a real stop, and it says so
        assert summary["interrupted"] is True
    clean = tmp_path / "clean.duckdb"
    with Store.open(str(clean)) as store:
        import_paths(store, sorted(journal.glob("*.journal.jsonl")), "journal")
    assert reports(db) == reports(clean)
    assert _credit_rows(db) == _credit_rows(clean)
    assert {s["room_id"]: s["coins"] for s in summary["sessions"]} == {
        r: rep["coins"] for r, rep in reports(clean).items()}


def test_quota_slows_down_before_running_out() -> None:
    now = [0.0]
    q = Quota(per_minute=10, per_hour=100, per_day=1000, clock=lambda: now[0])
    assert q.delay_factor() == 1.0
    for _ in range(6):
        assert q.try_acquire()
    assert q.delay_factor() > 1.0  # fewer than half of this minute's budget left
    for _ in range(4):
        assert q.try_acquire()
    assert not q.try_acquire()
    assert 0 < q.wait_s() <= 60
    now[0] += 61
    assert q.try_acquire()
    assert q.left()["hour"] == 89


def test_backoff_is_jittered_exponential_and_capped() -> None:
    b = Backoff(random.Random(3), base_s=1.0, cap_s=30.0)
    delays = [b.delay(n) for n in range(1, 10)]
    assert 1.0 <= delays[0] <= 3.0
    assert all(d <= 45.0 for d in delays)
    assert delays[3] > delays[0]


def test_record_needs_a_creator_or_replay(cli: Run) -> None:
    r = cli("record")
    assert r.code == 2 and "creator" in r.err


def test_record_without_the_extra_says_how_to_install(cli: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "TikTokLive", None)
    r = cli("record", "@someone")
    assert r.code == 2
    assert "pip install 'liveworth[tiktok]'" in r.err and r.err.count("\n") == 1


def test_roster_file(tmp_path: Path, cli: Run) -> None:
    from liveworth.cli.record import read_roster

    roster = tmp_path / "roster.txt"
    roster.write_text("# my creators\n@alice\nbob.b  # comment\n\n")
    assert read_roster(roster) == ["alice", "bob.b"]
    roster.write_text("alice\nbad name!\n")
    r = cli("record", "--roster", str(roster), "--replay", str(DUMP))
    assert r.code == 2 and f"{roster}:2" in r.err


@pytest.mark.parametrize("name", ["a" * 101, "@" + "b" * 101, "bad name", "@", "x\x1b[2J"])
def test_a_creator_is_a_tiktok_unique_id_within_the_limit(name: str, tmp_path: Path,
                                                          cli: Run) -> None:
    """Whoever is recorded must fit what the journal and every import accept (a host of at
    most 100 characters): refused before anything is written, in one line."""
    journal = tmp_path / "j"
    r = cli("record", name, "--replay", str(DUMP), "--db", str(tmp_path / "d.duckdb"),
            "--journal", str(journal))
    assert r.code == 2 and "not a TikTok @unique_id" in r.err and len(r.err.splitlines()) == 1
    assert not journal.exists() or not any(journal.iterdir())


def test_tiktoklive_parsing_path_hands_over_the_raw_bytes(messages: list[RawMessage]) -> None:
    pytest.importorskip("TikTokLive", reason="the optional TikTokLive extra is not installed")
    from TikTokLive.proto import ProtoMessageFetchResult

    from liveworth.decode.webcast import encode_response
    from liveworth.ingest.tiktok import _client_class, raw_messages

    sample = messages[:60]
    frame = encode_response([(m.method, m.payload, i + 1) for i, m in enumerate(sample)])
    response = ProtoMessageFetchResult().parse(frame)  # TikTokLive's own protobuf parsing
    got = raw_messages(response, "room", "host", 123)
    assert [(g.method, g.payload) for g in got] == [(m.method, m.payload) for m in sample]

    client_cls = _client_class()
    client = client_cls.__new__(client_cls)  # no network: just the parsing override
    client.sink = asyncio.Queue()
    client.host = "host"
    client._room_id = 42

    async def drain() -> list[RawMessage]:
        emitted = [e async for e in client._parse_webcast_response(response)]
        assert emitted == []  # TikTokLive's own events are never built
        return [client.sink.get_nowait() for _ in range(client.sink.qsize())]

    handed = asyncio.run(drain())
    assert [(h.method, h.payload, h.room_id) for h in handed] == [
        (m.method, m.payload, "42") for m in sample]


def test_record_serves_the_live_api_while_recording(tmp_path: Path) -> None:
    import json
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    example = Path(__file__).resolve().parents[1] / "examples" / "real_live_2023-12-05_a.json.gz"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "liveworth", "record", "--replay", str(example), "--speed", "5",
         "--db", str(tmp_path / "s.duckdb"), "--journal", str(tmp_path / "j"), "--quiet",
         "--serve", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        live: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not live.get("coins"):
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/live/crecee.saraa", timeout=2) as r:
                    live = json.load(r)
            except OSError:
                continue
        assert proc.poll() is None, "the recording was still running"
        assert live.get("coins", 0) > 0 and live["room_id"] == "7309128470994258694"
        # judged by the replay's own clock (2023), not by today's (issue #16, item 10)
        assert live["status"] == "live", live["status"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "7309128470994258694" in out


@pytest.mark.parametrize("stop", ["linger", "SIGTERM"])
def test_the_dashboard_keeps_the_final_figures_after_a_replay(tmp_path: Path, stop: str) -> None:
    """``record --replay --serve`` keeps serving after the replay, so an open overlay gets the
    final figures: until SIGTERM (or Ctrl-C), or for ``--linger`` seconds (issue #16, item 11)."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    linger = ["--linger", "3"] if stop == "linger" else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "liveworth", "record", "--replay", str(DUMP), "--speed", "max",
         "--db", str(tmp_path / "s.duckdb"), "--journal", str(tmp_path / "j"), "--serve",
         str(port), *linger], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline, line = time.monotonic() + 60, ""
        assert proc.stdout is not None
        while time.monotonic() < deadline and "keeps serving" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions", timeout=5) as r:
            rooms = json.load(r)
        assert rooms and proc.poll() is None  # the replay is over; its figures are served
        if stop == "SIGTERM":
            time.sleep(0.5)
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.returncode == 0
        if stop == "linger":
            assert 2.0 < time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_store_failure_ends_with_a_clear_error_and_a_rerun_loses_nothing(
    tmp_path: Path, clean_db: Path, messages: list[RawMessage], monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveworth.errors import StoreError

    t0 = messages[0].arrival_ms
    paced = [RawMessage(m.method, m.payload, m.room_id, t0 + i * 2, m.host)
             for i, m in enumerate(messages)]
    real, calls = Store.store_batch, [0]

    def failing(self: Store, table: object) -> object:
        calls[0] += 1
        if calls[0] == 3:
            raise StoreError("disk full (simulated)")
        return real(self, table)

    db, journal = tmp_path / "f.duckdb", tmp_path / "journal"
    with monkeypatch.context() as m:
        m.setattr(Store, "store_batch", failing)
        with pytest.raises(StoreError, match=r"disk full \(simulated\); recording stopped\. "
                           r"Every message taken is recorded: the last ([\d,]+) messages? taken "
                           r"(is|are) in the journal only") as info:
            asyncio.run(record([ReplaySource(paced, "h", 1.0)], str(db), journal))
    with Store.open(str(db), read_only=True) as store:
        stored_events = store.query("SELECT count(*) FROM events")[0][0]
    # The rerun (no source left to record) loads the journal: the same as a clean import.
    result = asyncio.run(record([], str(db), journal))
    assert result.recovered
    journaled = sum(1 for _ in iter_journal(journal / "h.journal.jsonl"))
    assert 0 < journaled < len(messages)
    only_journal = int(info.value.args[0].split("the last ")[1].split(" ")[0].replace(",", ""))
    first = list(iter_journal(journal / "h.journal.jsonl"))[:journaled - only_journal]
    with Store.open(str(tmp_path / "part.duckdb")) as store:  # what the message says is stored
        store.insert_events(events_table([e for m in first for e in decode_raw(m)]))
        assert store.query("SELECT count(*) FROM events")[0][0] == stored_events
    with Store.open(str(tmp_path / "fresh.duckdb")) as store:
        import_paths(store, [journal / "h.journal.jsonl"])
    assert event_keys(db) == event_keys(tmp_path / "fresh.duckdb")


def test_a_full_journal_disk_says_what_is_lost(
    tmp_path: Path, messages: list[RawMessage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's disk fills: the error says how many messages are not stored, and that the
    journal holds only part of them — never that it "keeps every message" (issue #14, item 9)."""
    import errno

    from liveworth.errors import StoreError

    t0 = messages[0].arrival_ms
    paced = [RawMessage(m.method, m.payload, m.room_id, t0 + i * 2, m.host)
             for i, m in enumerate(messages)]
    real, calls = JournalWriter.flush, [0]

    def full(self: JournalWriter, durable: bool = False) -> None:
        calls[0] += 1
        if calls[0] >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, durable=durable)

    db, journal = tmp_path / "f.duckdb", tmp_path / "journal"
    with monkeypatch.context() as m:
        m.setattr(JournalWriter, "flush", full)
        with pytest.raises(StoreError) as info:
            asyncio.run(record([ReplaySource(paced, "h", 1.0)], str(db), journal))
    text = str(info.value)
    assert "could not be written (No space left on device); recording stopped" in text
    assert "keeps every message" not in text and "the rest is lost" in text
    lost = int(text.split("before the last ")[1].split(" ")[0].replace(",", ""))
    journaled = list(iter_journal(journal / "h.journal.jsonl"))
    assert journaled and lost > 0 and len(journaled) + lost <= len(messages)
    with Store.open(str(tmp_path / "j.duckdb")) as store:  # "every message before is stored"
        store.insert_events(events_table([e for m in journaled for e in decode_raw(m)]))
    assert event_keys(db) == event_keys(tmp_path / "j.duckdb")


# ---------------------------------------------------------------------------- kills and archives
# (issue #14: the restart after a kill must not depend on touching the killed room again)


def _credit_rows(db: Path | str) -> list[tuple[Any, ...]]:
    with Store.open(str(db), read_only=True) as store:
        return store.query("SELECT * FROM credits ORDER BY ALL")


def test_credits_left_behind_by_a_killed_writer_are_settled_by_the_next_start(
    tmp_path: Path, clean_db: Path, messages: list[RawMessage]
) -> None:
    """A writer stores events and dies before its ledger turn (the recorder's once-a-second
    turn; an import between its block commits and its ledger). The next start — another
    creator's, on another journal directory — must leave those rooms' credits as a clean
    import makes them."""
    from liveworth.decode.rawsources import decode_raw
    from liveworth.ingest.recorder import recover
    from liveworth.store import ledger
    from liveworth.store.database import events_table

    db = tmp_path / "killed.duckdb"
    events = [e for m in messages for e in decode_raw(m)]
    with Store.open(str(db)) as store:
        store.insert_events(events_table(events))  # stored, the ledger never ran
        assert ledger.pending(store.con)  # the rooms say so
    assert _credit_rows(db) != _credit_rows(clean_db)
    recover(str(db), tmp_path / "someone-elses-journal")
    assert _credit_rows(db) == _credit_rows(clean_db)
    with Store.open(str(db), read_only=True) as store:
        assert ledger.pending(store.con) == []


def test_an_import_settles_rooms_another_writer_left_pending(
    tmp_path: Path, clean_db: Path, messages: list[RawMessage]
) -> None:
    from liveworth.decode.rawsources import decode_raw
    from liveworth.store.database import events_table

    db = tmp_path / "half.duckdb"
    with Store.open(str(db)) as store:
        store.insert_events(events_table([e for m in messages for e in decode_raw(m)]))
        import_paths(store, [DUMPS / "jw.json.gz"])  # another creator's dump
    clean = set(_credit_rows(clean_db))
    assert clean and clean <= set(_credit_rows(db))


def _journal_of(tmp_path: Path, name: str, messages: list[RawMessage]) -> Path:
    path = tmp_path / name
    with JournalWriter(path) as w:
        for m in messages:
            w.append(m)
    return path


def test_a_new_journal_at_an_archived_journals_path_is_recovered(
    tmp_path: Path, messages: list[RawMessage]
) -> None:
    """docs/JOURNAL.md lets a closed journal be compressed away; the creator's next journal at
    the same path is smaller than the old checkpoint, and must still reach the store."""
    import gzip
    import shutil

    from liveworth.ingest.recorder import recover

    db, journal_dir = tmp_path / "a.duckdb", tmp_path / "journal"
    journal_dir.mkdir()
    first, second = messages[:600], messages[600:700]
    path = _journal_of(journal_dir, "creator.journal.jsonl", first)
    assert recover(str(db), journal_dir) == [str(path)]
    assert recover(str(db), journal_dir) == []  # checkpointed: nothing to do
    with path.open("rb") as src, gzip.open(tmp_path / "archive.jsonl.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    _journal_of(journal_dir, "creator.journal.jsonl", second)  # the next LIVE, smaller
    assert path.stat().st_size < sum(len(m.payload) for m in first)
    assert recover(str(db), journal_dir) == [str(path)]
    clean = tmp_path / "clean.duckdb"
    with Store.open(str(clean)) as store:
        import_paths(store, [tmp_path / "archive.jsonl.gz", path], "journal")
    assert event_keys(db) == event_keys(clean)
    assert _credit_rows(db) == _credit_rows(clean)


def test_the_same_size_but_another_journal_is_recovered(
    tmp_path: Path, messages: list[RawMessage]
) -> None:
    from liveworth.ingest.recorder import recover

    db, journal_dir = tmp_path / "s.duckdb", tmp_path / "journal"
    journal_dir.mkdir()
    path = _journal_of(journal_dir, "c.journal.jsonl", messages[:50])
    recover(str(db), journal_dir)
    size = path.stat().st_size
    other = [RawMessage(m.method, m.payload, m.room_id, m.arrival_ms + 1, m.host)
             for m in messages[50:100]]
    path.unlink()
    _journal_of(journal_dir, "c.journal.jsonl", other)
    with path.open("r+b") as f:  # the same length as the first, to the byte
        f.truncate(size)
    assert path.stat().st_size == size
    assert recover(str(db), journal_dir) == [str(path)]


def test_a_killed_recorder_then_another_creator_leaves_the_killed_rooms_right(
    tmp_path: Path
) -> None:
    """The whole story, as a user meets it: SIGKILL ``record`` at moments across its run, start
    ``record`` for another creator on the same journal directory and database, and the killed
    room's report equals a clean import of its journal."""
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    rng = random.Random(14)
    for moment in range(3):
        work = tmp_path / f"m{moment}"
        work.mkdir()
        db, journal = work / "rec.duckdb", work / "journal"
        # link.json.gz spans 60 s of arrival time: at 30x about 2 s of replay.
        proc = subprocess.Popen(_record_cmd(db, journal, "30", DUMPS / "link.json.gz"),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        done = subprocess.run(_record_cmd(db, journal, "max", DUMPS / "web.json.gz"),
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        killed = sorted(journal.glob("crecee*.journal.jsonl"))
        if not killed:
            continue  # killed before its journal existed: nothing to check
        clean = work / "clean.duckdb"
        with Store.open(str(clean)) as store:
            import_paths(store, killed, "journal")
        want, got = reports(clean), reports(db)
        assert {r: got.get(r) for r in want} == want


def test_a_torn_first_journal_line_is_one_reject_and_blocks_nothing(
    tmp_path: Path, messages: list[RawMessage]
) -> None:
    """A journal whose first line was cut short (a big first message, a full disk): the next
    ``record`` on the directory, ``import --format journal`` and ``import`` (sniffed) each
    keep the rest of the file and reject that one line."""
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    path = _journal_of(journal_dir, "torn.journal.jsonl", messages[:200])
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0][: len(lines[0]) // 2] + b"\n" + b"".join(lines[1:]))
    clean = tmp_path / "clean.duckdb"
    with Store.open(str(clean)) as store:
        whole = import_paths(store, [_journal_of(tmp_path, "whole.jsonl", messages[1:200])],
                             "journal")
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    db = tmp_path / "rec.duckdb"
    done = subprocess.run(_record_cmd(db, journal_dir, "max", DUMPS / "jw.json.gz"), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(event_keys(clean)) <= set(event_keys(db))
    for fmt in ("journal", "auto"):
        with Store.open(str(tmp_path / f"{fmt}.duckdb")) as store:
            result = import_paths(store, [path], fmt)
        assert (result.accepted, result.rejected) == (whole.accepted, 1), fmt


def test_a_replay_waits_out_no_silence_longer_than_max_gap(
    tmp_path: Path, messages: list[RawMessage]
) -> None:
    """A recording with a long silence (a dump spanning weeks) replays its LIVEs, not the weeks:
    each silence waits at most max_gap_s of replay time; arrival times are kept (issue #16,
    item 9)."""
    t0 = messages[0].arrival_ms
    spaced = [RawMessage(m.method, m.payload, m.room_id,
                         t0 + i * 10 + (3_600_000 if i >= 100 else 0), m.host)
              for i, m in enumerate(messages[:200])]  # a one-hour silence after 100 messages

    async def replay(source: ReplaySource) -> tuple[float, list[int]]:
        start = time.monotonic()
        got = [m.arrival_ms async for m in source.connect()]
        return time.monotonic() - start, got

    took, got = asyncio.run(replay(ReplaySource(spaced, "h", 1.0, max_gap_s=0.2)))
    assert got == [m.arrival_ms for m in spaced]
    assert 1.9 < took < 4.0  # 2 s of messages 10 ms apart, and 0.2 s for the hour
    took, _ = asyncio.run(replay(ReplaySource(spaced, "h", 3600.0 * 5, max_gap_s=None)))
    assert 0.15 < took < 1.5  # the whole hour, scaled: 0.2 s


def test_max_gap_option(cli: Run, tmp_path: Path) -> None:
    for bad in ("-1", "soon", "nan", "90000"):
        r = cli("record", "--replay", str(DUMP), "--max-gap", bad, "--db",
                str(tmp_path / "x.duckdb"), "--journal", str(tmp_path / "j"))
        assert r.code == 2 and "--max-gap" in r.err, (bad, r.err)


@pytest.mark.parametrize("width", [60, 80, 120, 160])
def test_the_live_view_fits_the_terminal(width: int) -> None:
    """At 80 columns (or any) no name or state is cut (issue #16, item 7): narrow, each
    creator is a few lines that wrap; wide, a table whose short states are followed by the whole
    state (the failure's reason)."""
    import io

    from rich.console import Console

    from liveworth.cli.record_view import view
    from liveworth.ingest.connection import CreatorState

    host = "tv_a_very_long_name_24ch"
    states = {host: CreatorState(host, status="reconnecting",
                                 reason="connection failed: ConnectError timed out after 10 s",
                                 room_id="7" * 19,
                                 coins=1_234_567, viewers=12_345, messages=98_765, reconnects=3,
                                 top_gifters=[("whale_one", 500_000), ("whale_two", 80_000)]),
              "b": CreatorState("b", status="live")}
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    console.print(view(states, load_rate_card(), Quota(10, 60, 100), width))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    text = out.getvalue()
    assert f"@{host}" in text and "…" not in text
    assert "reconnecting (connection failed: ConnectError timed out after 10 s)" in " ".join(
        text.split())
    assert "1,234,567" in text and "whale_one" in text and "sign-server quota left" in text

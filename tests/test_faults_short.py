"""The fault suite's fast parts, so that `make test` covers them (`make faults` runs it all and
writes docs/RELIABILITY.md): SIGKILL at random moments, a kill followed by another creator's
recording (SIGKILL and SIGTERM), archived and torn journals, a reconnect storm, fuzzing with few
examples (and imports without --format), in-range extremes and hostile text through every output,
storage faults. Then one strict xfail per product bug the suite found: each turns
into a failure ("XPASS(strict)") once the bug is fixed, and its marker should go.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from faults import crash, extremes, fuzz, hostile, restart, sniff, storage, storms  # noqa: E402
from faults.common import PY, Ctx, Figure, cli_env, corpus, one_clear_line  # noqa: E402
from faults.simraw import common, f_bytes, f_int, user  # noqa: E402

from liveworth.decode import webcast  # noqa: E402
from liveworth.decode.events import MAX_TS  # noqa: E402
from liveworth.decode.rawsources import RawMessage, iter_journal  # noqa: E402
from liveworth.economy.ratecard import read_config  # noqa: E402
from liveworth.errors import LiveworthError, StoreError  # noqa: E402
from liveworth.ingest.importer import import_paths  # noqa: E402
from liveworth.ingest.recorder import record  # noqa: E402
from liveworth.ingest.sources import load_raw  # noqa: E402
from liveworth.store.database import Store  # noqa: E402

from conftest import DUMPS, Result  # noqa: E402

Run = Callable[..., Result]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    """A small corpus: one real dump, the same as a paced raw journal, one simulated session."""
    c = Ctx(short=True, seed=7, work=tmp_path_factory.mktemp("faults"), log=lambda _: None)
    corpus(c, small=True)
    return c


def failed(figures: list[Figure]) -> list[str]:
    return [f"{f.name}: {f.value} ({f.note[:300]})" for f in figures if f.status == "FAIL"]


# ---------------------------------------------------------------------------- what must hold


def test_sigkill_and_sigterm_at_random_moments_lose_and_double_nothing(ctx: Ctx) -> None:
    figures = crash.run(ctx, moments=2, workers=2, overhead_s=1.5)
    assert not failed(figures)
    kills = next(f for f in figures if f.name.startswith("kill moments"))
    assert kills.value == 2 and kills.note == "1 SIGKILL, 1 SIGTERM"


def test_a_kill_then_another_creators_recording_leaves_the_killed_rooms_exact(ctx: Ctx) -> None:
    figures = restart.other_creator(ctx, moments=2, workers=2)
    assert not failed(figures)
    kills = next(f for f in figures if f.name.startswith("kills followed"))
    assert kills.value == 2 and kills.note == "1 SIGKILL, 1 SIGTERM"


def test_archived_journals_and_the_next_journal_at_their_path_reach_the_store(ctx: Ctx) -> None:
    figures = restart.archived(ctx, cases=2)
    assert not failed(figures)
    assert next(f for f in figures if f.name.startswith("LIVEs in those")).value >= 2 * 5


def test_a_torn_first_journal_line_is_one_reject_everywhere(ctx: Ctx) -> None:
    figures = restart.torn_first_lines(ctx, cases=3)
    assert not failed(figures)


def test_import_without_format_keeps_every_valid_line_after_damage(ctx: Ctx) -> None:
    figures = sniff.run(ctx)
    assert not failed(figures)
    assert next(f for f in figures if f.name.startswith("damaged files")).value >= 30


@pytest.fixture(scope="module")
def extreme_figures(ctx: Ctx) -> list[Figure]:
    return extremes.run(ctx)


def test_in_range_extremes_give_exact_totals_in_every_command(
        extreme_figures: list[Figure]) -> None:
    assert not failed([f for f in extreme_figures if "local time zone" not in f.name])


@pytest.fixture(scope="module")
def hostile_figures(ctx: Ctx) -> list[Figure]:
    return hostile.run(ctx)


def test_hostile_text_stays_data_in_terminal_csv_and_json(hostile_figures: list[Figure]) -> None:
    assert not failed([f for f in hostile_figures if not f.name.startswith("hosts through")])


def test_reconnect_storms_count_every_message_once(ctx: Ctx) -> None:
    figures = storms.run(ctx, storms=2)
    assert not failed(figures)
    assert next(f for f in figures if f.name == "connection drops survived").value > 10


def test_decoder_fuzz_raises_only_decode_errors(ctx: Ctx) -> None:
    found = fuzz.Findings()
    fuzz.fuzz_decoder(found, 40, ctx.seed)
    assert sum(found.examples.values()) >= 100
    assert not found.problems, dict(found.problems)


def test_importers_keep_valid_data_next_to_bad(ctx: Ctx) -> None:
    found = fuzz.Findings()
    work = ctx.dir("fuzz-test")
    fuzz.fuzz_jsonl(found, 8, ctx.seed, work, known_bugs=False)
    fuzz.fuzz_dumps(found, 6, ctx.seed, work)
    fuzz.fuzz_journals(found, 6, ctx.seed, work, known_bugs=False)
    fuzz.whole_files(found, work)
    assert not found.problems, dict(found.problems)


def test_config_fuzz_gives_a_card_or_a_clear_error(ctx: Ctx) -> None:
    found = fuzz.Findings()
    fuzz.fuzz_config(found, 60, ctx.seed, ctx.dir("fuzz-config"), known_bugs=False)
    assert not found.problems, dict(found.problems)


def test_cli_fuzz_exits_0_1_or_2_without_tracebacks(ctx: Ctx) -> None:
    result = fuzz.fuzz_cli(ctx, 25, ctx.dir("fuzz-cli"), known_bugs=False)
    assert "error" not in result, result
    assert result["examples"] >= 25
    for kind in ("tracebacks", "internal", "bad_codes", "timeouts"):
        assert not result[kind], (kind, result[kind])


def test_read_only_and_locked_database(ctx: Ctx) -> None:
    figures = storage.read_only(ctx) + storage.locked(ctx)
    assert not failed(figures)


def test_lost_database_is_rebuilt_from_the_journal(ctx: Ctx) -> None:
    assert not failed(storage.rebuild_from_journal(ctx))


def test_full_disk_leaves_a_journal_that_recovers(ctx: Ctx) -> None:
    figures = storage.full_disk(ctx, only_shared=True)
    if figures and figures[0].skipped:
        pytest.skip(figures[0].note)
    must = [f for f in figures if "differences" in f.name or "journal lacks" in f.name]
    assert len(must) == 2 and not failed(must)


# ---------------------------------------------------------------------------- bugs the suite found
# (each failed before its fix in src/; kept as regressions)


def test_local_dates_of_the_last_accepted_instant(extreme_figures: list[Figure]) -> None:
    """gifters, roster and analyze with a --tz east of UTC on a session at the last accepted
    instant (an OverflowError before event times ended at 9999-12-31 09:59:59.999 UTC)."""
    assert not failed([f for f in extreme_figures if "local time zone" in f.name])


def test_hosts_shown_by_the_model_commands(hostile_figures: list[Figure]) -> None:
    """estimate --from-history's assumptions and every error line show hostile hosts as data."""
    assert not failed([f for f in hostile_figures if f.name.startswith("hosts through")])


def test_next_live_after_a_journal_compressed_in_place_is_journaled(ctx: Ctx) -> None:
    """A journal compressed in place is set aside as an archive; the creator's next recording
    starts a new journal (before: it journaled nothing and said every message was recorded)."""
    assert not failed(restart.compressed_in_place(ctx))


GIFT = {"v": 1, "type": "gift", "room_id": "r1", "ts": 1_700_000_000_000, "msg_id": "m1",
        "user_id": "1", "user": "a", "nickname": "a", "gift_id": 5655, "gift_name": "Rose",
        "coins": 5, "gift_type": 2, "repeat_count": 1, "repeat_end": True, "group_id": "g"}


def _import(path: Path) -> tuple[int, list[tuple[object, ...]]]:
    with Store.open(":memory:") as store:
        result = import_paths(store, [path])
        return result.accepted, store.query("SELECT msg_id, coins FROM events ORDER BY 1")


def test_bug_duplicate_keys_read_like_format_v1(tmp_path: Path) -> None:
    line = json.dumps(GIFT)[:-1] + ', "coins": -7}\n'
    path = tmp_path / "dup.jsonl"
    path.write_text(line)
    accepted, rows = _import(path)
    assert accepted == 0, rows  # format v1 (the last value, -7) rejects it


def test_bug_truncated_gzip_jsonl_keeps_its_readable_lines(tmp_path: Path) -> None:
    lines = b"".join(json.dumps({**GIFT, "msg_id": f"m{i}"}).encode() + b"\n"
                     for i in range(3000))
    gz = gzip.compress(lines)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gz[: len(gz) * 3 // 4])
    accepted, _ = _import(path)
    assert accepted > 1000


def _journal_line(method: str, payload: bytes, arrival: int) -> str:
    return json.dumps({"v": 1, "arrival_ms": arrival, "room_id": "7", "host": "h",
                       "method": method, "payload": base64.b64encode(payload).decode()}) + "\n"


def _like(msg: int, create_ms: int = 0) -> bytes:
    body = f_int(2, msg) + f_int(3, 7) + (f_int(4, create_ms) if create_ms else b"")
    return f_bytes(1, body) + f_int(2, 3) + f_bytes(5, user(1, "a", "a"))


def test_bug_truncated_gzip_journal_keeps_its_readable_lines(tmp_path: Path) -> None:
    text = "".join(_journal_line("WebcastLikeMessage", _like(i + 1, 1_700_000_000_000 + i), 1)
                   for i in range(2000))
    gz = gzip.compress(text.encode())
    path = tmp_path / "cut.journal.jsonl.gz"
    path.write_bytes(gz[: len(gz) * 3 // 4])
    accepted, _ = _import(path)
    assert accepted > 500


def test_bug_journal_arrival_out_of_range_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "big.journal.jsonl"
    path.write_text(_journal_line("WebcastLikeMessage", _like(1), 2**70)
                    + _journal_line("WebcastLikeMessage", _like(2), 1_700_000_000_000))
    accepted, rows = _import(path)
    assert accepted == 1 and rows[0][0] == "2"


def test_bug_decoder_keeps_ts_within_event_format_v1() -> None:
    payload = (common("WebcastGiftMessage", 7, 9, 2**60) + f_int(2, 5) + f_int(5, 1)
               + f_bytes(7, user(1, "a", "a")) + f_int(9, 1)
               + f_bytes(15, f_int(5, 5) + f_int(11, 2) + f_int(12, 3)))
    try:
        events = webcast.decode_message("WebcastGiftMessage", payload)
    except LiveworthError:
        return
    assert all(0 <= e.ts <= MAX_TS for e in events)


@pytest.mark.parametrize("toml", [
    pytest.param("[channels.x]\npack_usd = 1\npack_coins = inf\n", id="pack_coins-inf"),
    pytest.param('[channels.x]\npack_usd = "NaN"\npack_coins = 5\n', id="pack_usd-NaN"),
    pytest.param('channel = "x"\n[channels.x]\npack_usd = inf\npack_coins = 5\n',
                 id="pack_usd-inf"),
    pytest.param('[rates]\ndiamonds_per_coin = "1e999999"\n', id="diamonds_per_coin-1e999999"),
    pytest.param('[rates]\nmin_withdrawal_usd = "1e30"\n', id="min_withdrawal-1e30"),
    pytest.param('[rates]\npayout_processing_days = 3000000\n', id="processing_days-3e6"),
])
def test_bug_config_values_out_of_range_are_config_errors(toml: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with contextlib.suppress(LiveworthError):
        fuzz.use_card(read_config(path))


@pytest.mark.parametrize("argv", [
    pytest.param(["convert", "--usd", "1e400"], id="convert-usd-1e400"),
    pytest.param(["convert", "--coins", "1" + "0" * 40], id="convert-coins-1e40"),
    pytest.param(["export", "--all", "--out", "OUTDIR", "--db", "DB"],
                 id="export-out-is-a-directory"),
])
def test_bug_cli_inputs_give_clear_errors(argv: list[str], cli: Run, tmp_path: Path) -> None:
    if "DB" in argv:
        db = tmp_path / "e.duckdb"
        with Store.open(str(db)) as store:
            import_paths(store, [DUMPS / "jw.json.gz"])
        argv = [{"DB": str(db), "OUTDIR": str(tmp_path)}.get(a, a) for a in argv]
    r = cli(*argv)
    assert r.code in (0, 2) and "internal error" not in r.err, r.err


def _limited_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("argv", [
    pytest.param(["payout", "--balance-usd", "1000000000000"], id="payout-1e12-hangs"),
    pytest.param(["simulate", "--followers", "1000000000000", "--out", "-"],
                 id="simulate-1e12-followers-memory"),
])
def test_bug_absurd_numbers_are_refused_quickly(argv: list[str], tmp_path: Path) -> None:
    t0 = time.monotonic()
    try:
        done = subprocess.run([PY, "-m", "liveworth", *argv], env=cli_env(tmp_path),
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              preexec_fn=_limited_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {time.monotonic() - t0:.0f} s")
    assert done.returncode in (0, 2) and one_clear_line(done.stderr or "ok\n"), done.stderr


def test_bug_corrupted_database_is_one_clear_error(tmp_path: Path, cli: Run) -> None:
    db = tmp_path / "c.duckdb"
    with Store.open(str(db)) as store:
        import_paths(store, [DUMPS / "log.json.gz"])
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    r = cli("sessions", "--db", str(db))
    assert r.code == 2 and one_clear_line(r.err), r.err


@contextlib.contextmanager
def _reader_holding(db: Path, seconds: float) -> Iterator[None]:
    """Another process with the database open read-only, like a dashboard request."""
    code = ("import duckdb, sys, time\nc = duckdb.connect(sys.argv[1], read_only=True)\n"
            "print('held', flush=True)\ntime.sleep(float(sys.argv[2]))\n")
    proc = subprocess.Popen([PY, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    try:
        yield
    finally:
        proc.wait(timeout=30)


@pytest.mark.parametrize("command", ["import", "record"])
def test_bug_writers_wait_for_a_dashboard_read(command: str, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Store.open(str(db)) as store:
        import_paths(store, [DUMPS / "jw.json.gz"])
    dump = str(DUMPS / "dupa.json.gz")
    args = {"import": ["import", "--db", str(db), dump],
            "record": ["record", "--replay", dump, "--speed", "max", "--db", str(db),
                       "--journal", str(tmp_path / "j"), "--quiet"]}[command]
    with _reader_holding(db, 3.0):
        done = subprocess.run([PY, "-m", "liveworth", *args], env=cli_env(tmp_path),
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_bug_store_failure_keeps_every_taken_message_in_the_journal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    messages, _ = load_raw([DUMPS / "log.json.gz"])
    t0 = messages[0].arrival_ms
    paced = [dataclasses.replace(m, arrival_ms=t0 + i * 3) for i, m in enumerate(messages)]
    calls = {"n": 0}
    real = Store.store_batch

    def failing(self: Store, table: object) -> object:
        calls["n"] += 1
        if calls["n"] == 4:
            raise StoreError("disk full (simulated)")
        return real(self, table)

    monkeypatch.setattr(Store, "store_batch", failing)
    source = storage.Counting(paced, "h", 1.0)
    with pytest.raises(StoreError):
        asyncio.run(record([source], str(tmp_path / "d.duckdb"), tmp_path / "j"))
    journaled = {(m.method, m.payload) for m in iter_journal(tmp_path / "j" / "h.journal.jsonl")
                 if isinstance(m, RawMessage)}
    lost = [m for m in source.delivered if (m.method, m.payload) not in journaled]
    assert not lost, f"{len(lost)} of {len(source.delivered)} taken messages not journaled"


def test_bug_record_serve_answers_until_the_end(ctx: Ctx, tmp_path: Path) -> None:
    import threading
    import urllib.error
    import urllib.request

    from faults.web import free_port

    port = free_port()
    journal = next(i for i in corpus(ctx) if i.kind.startswith("simulated")).path
    with (tmp_path / "err.log").open("w") as err:  # a file: a full pipe would stall it
        proc = subprocess.Popen([PY, "-m", "liveworth", "record", "--replay", str(journal),
                                 "--speed", "max", "--db", str(tmp_path / "s.duckdb"),
                                 "--journal", str(tmp_path / "j"), "--serve", str(port),
                                 "--linger", "0", "--quiet"], env=cli_env(tmp_path), cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=err)
    codes: list[int] = []

    def poll() -> None:
        while proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions",
                                            timeout=10) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
            except OSError:
                time.sleep(0.01)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    proc.wait(timeout=120)
    for t in threads:
        t.join()
    assert proc.returncode == 0, (tmp_path / "err.log").read_text()[-300:]
    assert codes and all(c == 200 for c in codes), sorted(set(codes))


def _mountable() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(f"/tmp/liveworth-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                        capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)], capture_output=True)
    probe.rmdir()
    return ok


@pytest.mark.skipif(not _mountable(), reason="needs root to mount a small tmpfs (a full disk)")
@pytest.mark.parametrize("command", ["import", "record"])
def test_bug_full_disk_is_one_clear_error(command: str, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with storage.tmpfs(disk, "2m") as mounted:
        assert mounted is not None
        db = disk / "f.duckdb"
        if command == "import":
            Store.open(str(db)).close()
            storage._fill(disk, 0)
            args = ["import", "--db", str(db), str(DUMPS / "log.json.gz")]
        else:
            args = ["record", "--replay", str(DUMPS / "log.json.gz"), "--speed", "max",
                    "--db", str(db), "--journal", str(disk / "j"), "--quiet"]
        done = subprocess.run([PY, "-m", "liveworth", *args], env=cli_env(tmp_path),
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and one_clear_line(done.stderr), done.stderr
    assert "space" in done.stderr.lower()

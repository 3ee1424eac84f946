"""The same answers from Apache Spark (issue 20, items 3 and 5): `--engine spark` on the read
commands and the spark-submit job give, byte for byte in --json, the DuckDB engine's answers —
on the real dumps, a lake written by two overlapping exports, by two sharded replays, with a
forgotten gifter, and on frames built to reach every branch of the ledger's fold. Bad input
(no PySpark, no or an old Java, an unreachable master, --db) is one line, exit 2.

One Spark session in local mode (``local[2]``, 4 shuffle partitions, no UI) serves the module;
it skips only where no Java is installed (`make test` checks that there is one)."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from liveworth.analysis.report import list_sessions, session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import EVENT_SCHEMA, Store
from liveworth.store.lake import check_lake, event_parts, export_lake, open_lake
from liveworth.store.spark import checks
from liveworth.store.spark.engine import open_spark_lake
from test_shard import _record, archive  # noqa: F401 (archive: the simulated creators)
from websupport import REAL_HOST, build_db, gift, write_jsonl

from conftest import run_cli

SPARK = ("--engine", "spark", "--spark-master", "local[2]")
READS = (["sessions", "--all"], ["gifters"], ["roster"], ["brief", "--date", "2023-12-05"],
         ["analyze", "--host", REAL_HOST], ["gifters", "--host", REAL_HOST, "--window", "lifetime"],
         ["sessions", "--host", REAL_HOST, "--since", "2023-12-05"])


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if checks.java_command() is None:
        pytest.skip("no Java installed (make test installs the check: Java 17+)")
    from liveworth.store.spark import spark_session

    session = spark_session("local[2]", **{"spark.sql.shuffle.partitions": "4",
                                           "spark.default.parallelism": "2"})
    yield session
    session.stop()


@pytest.fixture(scope="module", autouse=True)
def once_per_lake() -> Iterator[dict[Any, Any]]:
    """``open_spark_lake(collect=True)`` (whole tables collected, as the checks of the
    whole events and credits tables use) computes each lake's tables once in this module; the
    commands (``collect=False``, their data left in Spark) compute theirs each time."""
    from liveworth.store.spark import engine

    real_fill = engine.fill_store
    done: dict[Any, Any] = {}

    def fill(spark: Any, store: Store, parts: list[Path]) -> None:
        key = (tuple(parts), tuple(store.query("SELECT * FROM gifter_forgotten ORDER BY ALL")))
        if key not in done:
            real_fill(spark, store, parts)
            done[key] = [(t, store.con.sql(f"SELECT * FROM {t}").to_arrow_table())
                         for t in ("events", "credits")]
            return
        for table, rows in done[key]:
            store.con.register("_copy", rows)
            store.con.execute(f"INSERT INTO {table} SELECT * FROM _copy")
            store.con.unregister("_copy")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "fill_store", fill)
        yield done


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> tuple[str, Path]:
    d = tmp_path_factory.mktemp("sparklake")
    db = build_db(d / "real.duckdb")
    assert run_cli("lake", "export", "--db", db, "--lake", str(d / "lake")).code == 0
    return db, d / "lake"


def _same(db: str | None, lake: Path, argv: list[str]) -> str:
    """``argv`` answered from ``lake`` by Spark is the DuckDB answer (from ``db``, else from
    the lake by DuckDB)."""
    where = ["--db", db] if db else ["--lake", str(lake)]
    a = run_cli(*argv, *where, "--json")
    b = run_cli(*argv, "--lake", str(lake), "--json", *SPARK)
    assert a.code == b.code == 0, (a.err, b.err)
    assert a.out == b.out, argv
    return b.out


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_every_answer_from_spark_is_duckdbs(real: tuple[str, Path], argv: list[str]) -> None:
    _same(*real, argv)


def test_every_report_and_analysis_from_spark_is_duckdbs(real: tuple[str, Path],
                                                          spark: Any) -> None:
    db, lake = real
    card = load_rate_card()
    with Store.open(db, read_only=True) as s:
        want = {r.room_id: json.dumps(session_report(s, r.room_id, card).as_dict(),
                                      default=str) for r in list_sessions(s, card)}
        tables = {t: s.query(f"SELECT * FROM {t} ORDER BY ALL") for t in ("events", "credits")}
    with open_spark_lake(lake, spark=spark) as s:
        got = {r.room_id: json.dumps(session_report(s, r.room_id, card).as_dict(),
                                     default=str) for r in list_sessions(s, card)}
        assert {t: s.query(f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == tables
    assert got == want and len(want) > 50
    _same(db, lake, ["report", sorted(want)[0]])
    a = run_cli("analyze", "--host", REAL_HOST, "--db", db, "--json").json()
    b = run_cli("analyze", "--host", REAL_HOST, "--lake", str(lake), "--json", *SPARK).json()
    _close(a, b)


def test_the_session_list_stays_in_spark(real: tuple[str, Path], spark: Any) -> None:
    """``collect=False`` (what every read command opens): the events and credits stay in
    Spark — the store has no such tables, so nothing can answer from them — and every portable
    aggregation of the session list (spans, coins, gifters, follows, subscriptions, the hosts
    the ledger credits) equals DuckDB's on the store; a report's focus brings one session."""
    import duckdb

    from liveworth.analysis.rewards import new_followers
    from liveworth.analysis.subscriptions import sessions_subscriptions
    from liveworth.store import ledger, portable

    db, lake = real
    cards = [load_rate_card(), load_rate_card("us-scaled")]
    candidates = ledger.HOST_CANDIDATES_SQL.replace("{rooms}", "")
    with Store.open(db, read_only=True) as s:
        want = [list_sessions(s, c) for c in cards]
        starts = {r.room_id: r.start_ts for r in want[0]}
        follows, subs = new_followers(s), sessions_subscriptions(s, starts)
        hosts = ledger.host_ids(s.con, sorted(starts))
    with open_spark_lake(lake, spark=spark, collect=False) as s:
        assert s.remote is not None
        for table in ("events", "credits"):
            with pytest.raises(duckdb.CatalogException):
                s.query(f"SELECT count(*) FROM {table}")
        assert [list_sessions(s, c) for c in cards] == want
        assert new_followers(s) == follows and sum(follows.values()) > 0
        assert sessions_subscriptions(s, starts) == subs
        got = ledger.pick_hosts(s.con, portable.aggregate(s, candidates), sorted(starts))
        room = want[0][0].room_id  # a report's focus: that session's rows come, no other
        portable.focus(s, [room])
        assert s.query("SELECT DISTINCT room_id FROM events") == [(room,)]
        assert list_sessions(s, cards[0]) == want[0]  # the aggregations still see every one
    assert got == hosts and len(want[0]) > 50 and sum(r.coins for r in want[0]) > 0


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal JSON, numbers to 1e-9."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), path
    else:
        assert a == b, path


def _store_of(tmp_path: Path, name: str, events: list[dict[str, Any]]) -> str:
    path = write_jsonl(tmp_path / f"{name}.jsonl", events)
    db = str(tmp_path / f"{name}.duckdb")
    assert run_cli("import", str(path), "--db", db).code == 0
    return db


def test_two_overlapping_exports_and_a_copied_writer(tmp_path: Path, spark: Any) -> None:
    """Two stores sharing a session export into one lake, and another writer's parts of the
    same rows land beside them: Spark answers as one clean store of the union."""
    ev = [gift(f"r{i % 3}", f"m{i}", 1_700_000_000_000 + 1000 * i, f"u{i % 5}", f"fan{i % 5}",
               1 + i % 7, gift_type=1 + i % 2, end=i % 3 != 0, group=f"g{i % 4}")
          for i in range(120)]
    start = [{"v": 1, "type": "live_start", "room_id": f"r{i}", "msg_id": "s", "ts":
              1_699_999_999_000, "host": f"host{i % 2}", "host_id": "1"} for i in range(3)]
    a = _store_of(tmp_path, "a", start[:2] + [e for e in ev if e["room_id"] != "r2"])
    b = _store_of(tmp_path, "b", start[1:] + [e for e in ev if e["room_id"] != "r0"])
    union = _store_of(tmp_path, "all", start + ev)
    lake, other = tmp_path / "lake", tmp_path / "other"
    for db in (a, b):
        assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    assert run_cli("lake", "export", "--db", union, "--lake", str(other)).code == 0
    for p in event_parts(other):
        target = lake / p.relative_to(other)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)
    for argv in (["sessions", "--all"], ["gifters"], ["roster"], ["report", "r1"]):
        _same(union, lake, argv)


def test_a_conflict_keeps_the_first_copy_in_lake_order(tmp_path: Path, spark: Any) -> None:
    lake = tmp_path / "lake"
    for coins in (7, 5, 9):
        db = _store_of(tmp_path, f"c{coins}", [gift("r", "m", 1_700_000_000_000, "u", "fan",
                                                    coins)])
        out = tmp_path / f"lake{coins}"
        with Store.open(db, read_only=True) as s:
            export_lake(s, check_lake(out, create=True))
        for p in event_parts(out):
            target = lake / p.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)
    with open_lake(lake) as a, open_spark_lake(lake, spark=spark) as b:
        assert a.query("SELECT coins FROM events") == b.query("SELECT coins FROM events")
        assert a.query("SELECT * FROM credits") == b.query("SELECT * FROM credits")


def test_overlapping_sharded_replays_answer_as_one_clean_store(
        archive: tuple[Path, list[Path]], tmp_path: Path, spark: Any) -> None:  # noqa: F811
    from liveworth.ingest.shards import shard_of

    d, files = archive
    roster = str(d / "roster.txt")
    lake = tmp_path / "lake"
    twos = [h for h in ("ana", "bo", "cy", "dee", "eve") if shard_of(h, 2) == 2]
    _record(tmp_path, files, "s1", "--roster", roster, "--shard", "1/2", "--lake", str(lake))
    _record(tmp_path, files, "spare", twos[0], "--lake", str(lake))
    _record(tmp_path, files, "s2", "--roster", roster, "--shard", "2/2", "--lake", str(lake))
    _record(tmp_path, files, "clean")
    clean = str(tmp_path / "clean.duckdb")
    for argv in (["sessions", "--all"], ["gifters"], ["roster"], ["report", f"{twos[0]}-1"]):
        _same(clean, lake, argv)
    a = run_cli("analyze", "--host", twos[0], "--db", clean, "--json").json()
    b = run_cli("analyze", "--host", twos[0], "--lake", str(lake), "--json", *SPARK).json()
    _close(a, b)


def test_a_gifter_forgotten_after_the_export_stays_forgotten(tmp_path: Path,
                                                             spark: Any) -> None:
    """Parts written before the forget hold the real names; Spark pseudonymizes them as the
    store does (names in comment texts too)."""
    ev = [gift("r", f"m{i}", 1_700_000_000_000 + 1000 * i, f"u{i % 2}", f"fan{i % 2}", 3)
          for i in range(10)]
    ev += [{"v": 1, "type": "comment", "room_id": "r", "msg_id": "c1", "ts": 1_700_000_020_000,
            "user_id": "u0", "user": "fan0", "nickname": "fan0", "text": "fan0 says hi fan0"}]
    db = _store_of(tmp_path, "f", ev)
    lake = tmp_path / "lake"
    assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    assert run_cli("gifter", "u0", "--forget", "--db", db).code == 0
    assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    out = _same(db, lake, ["gifters"])
    assert "fan0" not in out and "gifter-" in out
    with Store.open(db, read_only=True) as a, open_spark_lake(lake, spark=spark) as b:
        q = "SELECT * FROM events ORDER BY ALL"
        assert a.query(q) == b.query(q)


def test_a_part_of_an_older_schema_reads_as_duckdb_reads_it(tmp_path: Path,
                                                            spark: Any) -> None:
    """A part written before the subscription columns existed: NULL there, in both engines;
    a part whose column has another type is refused before Spark starts."""
    import pyarrow.parquet as pq

    db = _store_of(tmp_path, "o", [gift("r", f"m{i}", 1_700_000_000_000 + i, "u", "fan", 2)
                                   for i in range(5)])
    lake = tmp_path / "lake"
    assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    (part,) = event_parts(lake)
    pq.write_table(pq.read_table(part).drop_columns(["months", "price_usd", "tier"]),
                   part.with_name("part-old.parquet"))
    part.unlink()
    with open_lake(lake) as a, open_spark_lake(lake, spark=spark) as b:
        for q in ("SELECT * FROM events ORDER BY ALL", "SELECT * FROM credits ORDER BY ALL"):
            assert a.query(q) == b.query(q)
    table = pq.read_table(part.with_name("part-old.parquet"))
    pq.write_table(table.set_column(table.schema.get_field_index("coins"), "coins",
                                    table.column("coins").cast(pa.int32())),
                   part.with_name("part-old.parquet"))
    r = run_cli("sessions", "--lake", str(lake), *SPARK)
    assert r.code == 2 and "'coins' is int32, not int64" in r.err and r.err.count("\n") == 1


def _frames(n: int, seed: int) -> pa.Table:
    """Gift frames built to reach every branch of the fold: NULL and empty user and group ids,
    a NULL gift id, resent finals, late frames, idle gaps, one-shots among streaks."""
    rnd = random.Random(seed)
    ts = 1_700_000_000_000
    rows: list[dict[str, Any]] = [{"room_id": "r0", "msg_id": "s", "type": "live_start",
                                   "ts": ts - 1000, "host_id": "h"}]
    for i in range(n):
        ts += rnd.choice((0, 1, 2, 30, 59, 61, 299, 301, 600)) * 1000
        rows.append({
            "room_id": f"r{rnd.randrange(2)}", "msg_id": f"m{i:04d}", "type": "gift", "ts": ts,
            "user_id": rnd.choice(("u1", "u2", "", None)), "user": "fan", "nickname": "fan",
            "gift_id": rnd.choice((1, 2, None)), "gift_name": "Rose",
            "coins": rnd.choice((1, 5, 99)), "gift_type": rnd.choice((1, 1, 1, 2, None)),
            "repeat_count": rnd.randrange(1, 20),
            "repeat_end": rnd.choice((True, False, False, None)),
            "group_id": rnd.choice(("g1", "g2", "", None)),
            "to_user_id": rnd.choice(("h", "guest", "0", "", None))})
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def test_the_fold_in_spark_gives_the_stores_credits(tmp_path: Path, spark: Any) -> None:
    from liveworth.store import ledger

    with Store.open(":memory:") as s:
        s.insert_events(_frames(1500, 7))
        s.begin()
        ledger.recompute(s.con, ["r0", "r1"])
        s.commit()
        export_lake(s, check_lake(tmp_path / "lake", create=True))
        want = s.query("SELECT * FROM credits ORDER BY ALL")
    assert {c[-1] for c in want} == {"one-shot", "final", "idle", "end"}
    with open_spark_lake(tmp_path / "lake", spark=spark) as b:
        assert b.query("SELECT * FROM credits ORDER BY ALL") == want


def _job(*argv: str) -> Any:
    from liveworth.cli import sparkjob

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = sparkjob.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_spark_job_answers_as_the_command_line(real: tuple[str, Path]) -> None:
    db, lake = real
    code, out, _ = _job("roster", "--lake", str(lake), "--json")
    assert code == 0 and out == run_cli("roster", "--db", db, "--json").out
    assert _job("estimate")[0] == 2 and _job("roster", "--engine", "duckdb")[0] == 2


def test_spark_submit_runs_the_job(tmp_path: Path, spark: Any) -> None:
    """spark-submit itself (its own JVM) on a small lake: the DuckDB engine's answer."""
    ev = [gift("r", f"m{i}", 1_700_000_000_000 + 1000 * i, f"u{i % 3}", f"fan{i % 3}", 1 + i,
               gift_type=1, end=i % 2 == 1, group=f"g{i // 2}") for i in range(20)]
    db = _store_of(tmp_path, "s", ev)
    lake = tmp_path / "lake"
    assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON":
           sys.executable}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    _, path, _ = _job("--path")
    done = subprocess.run([str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                           path.strip(), "gifters", "--lake", str(lake), "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == run_cli("gifters", "--db", db, "--json").out


def _refused(tmp_path: Path, argv: list[str], says: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    r = run_cli(*argv)
    assert r.code == 2 and r.err.count("\n") == 1 and says in r.err, r.err
    assert "Traceback" not in r.err and r.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_input_one_line_exit_2_nothing_written(real: tuple[str, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db, lake = real
    monkeypatch.chdir(tmp_path)
    base = ["sessions", "--lake", str(lake), "--engine", "spark"]
    _refused(tmp_path, ["sessions", "--db", db, "--engine", "spark"], "give --lake DIR")
    _refused(tmp_path, ["sessions", "--lake", str(lake), "--spark-master", "local[2]"],
             "--spark-master needs --engine spark")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _refused(tmp_path, [*base, "--spark-master", f"spark://127.0.0.1:{port}"],
             "cannot reach the master")
    _refused(tmp_path, [*base, "--spark-master", "spark://nowhere.invalid:7077"],
             "cannot reach the master")
    _refused(tmp_path, [*base, "--spark-master", "locale[2]"], "not a Spark master URL")
    _refused(tmp_path, [*base[:2], str(tmp_path / "none"), *base[3:]], "not a lake")
    old = tmp_path / "jdk"
    (old / "bin").mkdir(parents=True)
    (old / "bin" / "java").write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\"' >&2\n")
    (old / "bin" / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(old))
    _refused(tmp_path, base, "is Java 11")
    shutil.rmtree(old)
    _refused(tmp_path, base, "needs Java 17 or newer and found no $JAVA_HOME/bin/java")
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    _refused(tmp_path, base, "found no java on PATH")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    _refused(tmp_path, base, "pip install 'liveworth[spark]'")


def test_a_failure_inside_spark_is_one_line(real: tuple[str, Path], spark: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A part gone between the listing and Spark's read (a compaction ran): one line."""
    from liveworth.errors import UsageError
    from liveworth.store.spark import engine

    _, lake = real
    monkeypatch.setattr(engine, "_check_schemas", lambda parts: None)
    monkeypatch.setattr(engine, "event_parts", lambda _: [lake / "events" / "part-gone.parquet"])
    with pytest.raises(UsageError) as exc:
        open_spark_lake(lake, spark=spark)
    assert str(exc.value).startswith("--engine spark: Spark failed: ")
    assert "\n" not in str(exc.value) and "part-gone" in str(exc.value), exc.value

@pytest.mark.parametrize(("text", "major"), [('openjdk version "17.0.15" 2025-04-15', 17),
                                             ('java version "1.8.0_392"', 8),
                                             ('openjdk version "21" 2023-09-19', 21),
                                             ("no version here", None)])
def test_java_versions_are_read(text: str, major: int | None) -> None:
    assert checks.java_major(text) == major

"""The lake (issue 20, items 1-2): `lake export`, `lake compact`, `--lake` on the read commands,
`import --lake` and import of the project's Parquet/CSV exports and lake parts — the same
answers as the DuckDB store of the same events, byte for byte in --json, on the real dumps,
hostile names and a simulated multi-creator archive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from liveworth.analysis.report import list_sessions, session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import Store
from liveworth.store.lake import (
    check_lake,
    decode_value,
    encode_value,
    event_parts,
    export_lake,
    open_lake,
    partition_dir,
)
from websupport import HOSTILE, REAL_HOST, build_db, gift, write_jsonl

from conftest import run_cli

READS = (["sessions", "--all"], ["gifters"], ["roster"], ["brief", "--date", "2023-12-05"],
         ["analyze", "--host", REAL_HOST], ["gifters", "--host", REAL_HOST, "--window", "lifetime"])


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The real dumps, the hostile sessions and the steady creator: a database and its lake."""
    d = tmp_path_factory.mktemp("lake")
    db = build_db(d / "real.duckdb")
    r = run_cli("lake", "export", "--db", db, "--lake", str(d / "lake"), "--json")
    assert r.code == 0, r.err
    assert r.json()["rows"] > 10_000
    return db, d / "lake"


def _same(db: str, lake: Path, argv: list[str]) -> None:
    a = run_cli(*argv, "--db", db, "--json")
    b = run_cli(*argv, "--lake", str(lake), "--json")
    assert a.code == b.code == 0, (a.err, b.err)
    assert a.out == b.out, argv


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_every_answer_from_the_lake_is_the_stores(real: tuple[str, Path],
                                                   argv: list[str]) -> None:
    _same(*real, argv)


def test_every_report_from_the_lake_is_the_stores(real: tuple[str, Path]) -> None:
    db, lake = real
    card = load_rate_card()
    with Store.open(db, read_only=True) as s:
        want = {r.room_id: json.dumps(session_report(s, r.room_id, card).as_dict(),
                                      default=str) for r in list_sessions(s, card)}
    with open_lake(lake) as s:
        got = {r.room_id: json.dumps(session_report(s, r.room_id, card).as_dict(),
                                     default=str) for r in list_sessions(s, card)}
    assert got == want and len(want) > 50
    room = sorted(want)[0]
    _same(db, lake, ["report", room])


def test_exporting_twice_adds_nothing(real: tuple[str, Path]) -> None:
    db, lake = real
    before = sorted(p.name for p in lake.rglob("*.parquet"))
    r = run_cli("lake", "export", "--db", db, "--lake", str(lake), "--json")
    assert r.code == 0 and r.json()["rows"] == 0 and r.json()["parts"] == 0
    assert sorted(p.name for p in lake.rglob("*.parquet")) == before
    assert not [p for p in lake.rglob("*") if p.name.startswith(".tmp")]


@pytest.mark.parametrize("host", [*HOSTILE, "../../x", "a=b/c", "", ".", "..", "%41",
                                  "__HIVE_DEFAULT_PARTITION__", "~x", "é" * 100, "😀" * 100])
def test_a_hostile_host_stays_one_safe_partition(tmp_path: Path, host: str) -> None:
    value = encode_value(host)
    assert "/" not in value and "=" not in value and value not in (".", "..", "")
    assert len(value.encode()) <= 200
    if len(value) < 160:
        assert decode_value(value) == host
    d = partition_dir(tmp_path, "2024-01-01", host)
    assert d.parent.parent == tmp_path / "events" and d.name == f"host={value}"


def test_overlapping_exports_answer_as_one_store_of_the_union(tmp_path: Path) -> None:
    """Two stores sharing a session export into one lake, and a copy of the other's parts
    (two writers at once) adds duplicates: the answers are one clean store's; compact drops
    them and changes no answer."""
    ev = [gift(f"r{i % 3}", f"m{i}", 1_700_000_000_000 + 1000 * i, f"u{i % 5}", f"fan{i % 5}",
               1 + i % 7) for i in range(90)]
    start = [{"v": 1, "type": "live_start", "room_id": f"r{i}", "msg_id": "s", "ts":
              1_699_999_999_000, "host": f"host{i % 2}", "host_id": "1"} for i in range(3)]
    a = write_jsonl(tmp_path / "a.jsonl", start[:2] + [e for e in ev if e["room_id"] != "r2"])
    b = write_jsonl(tmp_path / "b.jsonl", start[1:] + [e for e in ev if e["room_id"] != "r0"])
    for name, path in (("a", a), ("b", b), ("all", tmp_path / "all.jsonl")):
        if name == "all":
            write_jsonl(path, start + ev)
        assert run_cli("import", str(path), "--db", str(tmp_path / f"{name}.duckdb")).code == 0
    lake, other = tmp_path / "lake", tmp_path / "other"
    for name in ("a", "b"):
        assert run_cli("lake", "export", "--db", str(tmp_path / f"{name}.duckdb"),
                       "--lake", str(lake)).code == 0
    assert run_cli("lake", "export", "--db", str(tmp_path / "all.duckdb"), "--lake",
                   str(other)).code == 0
    for p in event_parts(other):  # another writer's parts, of overlapping rows, land beside
        target = lake / p.relative_to(other)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)
    for argv in (["sessions", "--all"], ["gifters"], ["roster"], ["report", "r1"]):
        _same(str(tmp_path / "all.duckdb"), lake, argv)
    r = run_cli("lake", "compact", "--lake", str(lake), "--json")
    assert r.code == 0 and r.json()["rows_dropped"] > 0
    assert all(len(list(p.parent.glob("part-*"))) == 1 for p in event_parts(lake))
    for argv in (["sessions", "--all"], ["gifters"], ["report", "r1"]):
        _same(str(tmp_path / "all.duckdb"), lake, argv)


def test_a_conflict_keeps_the_first_copy_in_lake_order(tmp_path: Path) -> None:
    """The same (room_id, msg_id) with other content in two parts: the part first by name
    wins, on every read and after compact (the store's rule: the first copy is kept)."""
    lake = tmp_path / "lake"
    for coins in (5, 7):
        db = tmp_path / f"c{coins}.duckdb"
        write_jsonl(tmp_path / f"c{coins}.jsonl", [gift("r", "m", 1_700_000_000_000, "u",
                                                        "fan", coins)])
        assert run_cli("import", str(tmp_path / f"c{coins}.jsonl"), "--db", str(db)).code == 0
        with Store.open(db, read_only=True) as s:
            out = tmp_path / f"lake{coins}"
            export_lake(s, check_lake(out, create=True))
        for p in event_parts(out):
            target = lake / p.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)
    first = event_parts(lake)[0]
    import pyarrow.parquet as pq

    want = pq.read_table(first).column("coins")[0].as_py()
    for _ in range(2):
        with open_lake(lake) as s:
            assert s.query("SELECT coins FROM events") == [(want,)]
        assert run_cli("lake", "compact", "--lake", str(lake)).code == 0


def test_import_reads_parquet_csv_exports_and_lake_parts(real: tuple[str, Path],
                                                         tmp_path: Path) -> None:
    """The project's own exports and lake parts import to the same answers (hostile names,
    formula-looking cells of the CSV included)."""
    db, lake = real
    want = run_cli("sessions", "--all", "--db", db, "--json").out
    parts = [str(p) for p in event_parts(lake)]
    for fmt in ("parquet", "csv"):
        out = tmp_path / f"all.{fmt}"
        assert run_cli("export", "--all", "--format", fmt, "--out", str(out), "--db", db).code == 0
        new = str(tmp_path / f"{fmt}.duckdb")
        r = run_cli("import", str(out), "--db", new, "--json")
        assert r.code == 0 and r.json()["rejected"] == 0, r.err
        assert r.json()["files"][0]["format"] == fmt
        # hosts the dumps name only outside the events come from the lake's partitions
        assert run_cli("import", *parts, "--db", new).code == 0
        assert run_cli("sessions", "--all", "--db", new, "--json").out == want
    with Store.open(str(tmp_path / "csv.duckdb"), read_only=True) as s:
        names = {r[0] for r in s.query("SELECT nickname FROM events")}
    assert set(HOSTILE) <= names


def test_import_into_the_lake_alone_or_beside_the_database(real: tuple[str, Path],
                                                           tmp_path: Path) -> None:
    db, lake = real
    parts = [str(p) for p in event_parts(lake)]
    only, both = tmp_path / "only", tmp_path / "both"
    r = run_cli("import", *parts, "--lake", str(only), "--json")
    assert r.code == 0 and r.json()["lake"]["rows"] > 10_000, r.err
    assert not (tmp_path / "test.duckdb").exists()  # $LIVEWORTH_DB untouched
    r = run_cli("import", *parts, "--lake", str(both), "--db", str(tmp_path / "b.duckdb"))
    assert r.code == 0 and (tmp_path / "b.duckdb").exists()
    want = run_cli("sessions", "--all", "--db", db, "--json").out
    for where in (["--lake", str(only)], ["--lake", str(both)],
                  ["--db", str(tmp_path / "b.duckdb")]):
        assert run_cli("sessions", "--all", *where, "--json").out == want


def _one_line_exit_2(argv: list[str], says: str) -> None:
    r = run_cli(*argv)
    assert r.code == 2, (r.out, r.err)
    assert r.err.count("\n") == 1 and says in r.err and "Traceback" not in r.err, r.err


def test_bad_lakes_one_line_exit_2_nothing_written(real: tuple[str, Path],
                                                   tmp_path: Path) -> None:
    db, _ = real
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    for where, says in ((a_file, "a file"), (plain, "no events/"),
                        (tmp_path / "absent", "no such directory")):
        _one_line_exit_2(["sessions", "--lake", str(where)], "not a lake")
        _one_line_exit_2(["lake", "compact", "--lake", str(where)], says)
    _one_line_exit_2(["lake", "export", "--db", db, "--lake", str(plain)], "not empty")
    _one_line_exit_2(["lake", "export", "--db", db, "--lake", str(a_file)], "a file")
    _one_line_exit_2(["import", str(a_file), "--lake", str(plain)], "not a lake")
    assert sorted(p.name for p in plain.iterdir()) == ["notes.txt"]
    assert not (tmp_path / "test.duckdb").exists()
    _one_line_exit_2(["sessions", "--db", db, "--lake", str(plain)], "not allowed with")
    bad = tmp_path / "bad"
    assert run_cli("lake", "export", "--db", db, "--lake", str(bad)).code == 0
    first = event_parts(bad)[0]
    (first.parent / "part-0000.parquet").write_text("not parquet")
    before = sorted(str(p) for p in bad.rglob("*"))
    _one_line_exit_2(["sessions", "--lake", str(bad)], "not a Parquet file")
    _one_line_exit_2(["lake", "compact", "--lake", str(bad)], "not a Parquet file")
    assert sorted(str(p) for p in bad.rglob("*")) == before


def test_hostile_hosts_written_and_read_back(tmp_path: Path) -> None:
    """Rooms whose hosts try to escape the lake or break hive parsing: every part lands inside
    events/date=/host=, one level each, and the answers are the store's."""
    hosts = ["../../x", "a=b/c", "..", "%2F", *HOSTILE]
    events = []
    for i, host in enumerate(hosts):
        events.append({"v": 1, "type": "live_start", "room_id": f"h{i}", "msg_id": "s",
                       "ts": 1_700_000_000_000, "host": host, "host_id": str(i)})
        events.append(gift(f"h{i}", "g", 1_700_000_001_000, "u", host, 3 + i))
    db = str(tmp_path / "h.duckdb")
    assert run_cli("import", str(write_jsonl(tmp_path / "h.jsonl", events)), "--db", db).code == 0
    lake = tmp_path / "deep" / "lake"
    lake.parent.mkdir()
    assert run_cli("lake", "export", "--db", db, "--lake", str(lake)).code == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".parquet"]
    events_dir = lake / "events"
    parts = [p for p in files if p.is_relative_to(events_dir)]
    assert len(parts) == len(hosts)
    for p in parts:
        rel = p.relative_to(events_dir).parts
        assert len(rel) == 3 and rel[0].startswith("date=") and rel[1].startswith("host=")
        assert rel[1].count("=") == 1
    assert sorted(decode_value(p.parent.name[5:]) or "" for p in parts) == sorted(hosts)
    for argv in (["sessions", "--all"], ["gifters"], ["roster"]):
        _same(db, lake, argv)


def test_a_compaction_cut_short_leaves_duplicates_never_a_loss(
        real: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, lake = real
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    first = event_parts(copy)[0]
    shutil.copy(first, first.with_name("part-0" + first.name[5:]))  # a second writer's copy
    from liveworth.store import lake as lakemod

    def crash(self: Path, missing_ok: bool = False) -> None:
        raise KeyboardInterrupt  # killed between the merged part and the removals

    monkeypatch.setattr(Path, "unlink", crash)
    with pytest.raises(KeyboardInterrupt):
        lakemod.compact(copy)
    monkeypatch.undo()
    assert len(list(first.parent.glob("part-*.parquet"))) >= 2
    _same(db, copy, ["sessions", "--all"])
    assert lakemod.compact(copy).partitions >= 1
    assert len(list(first.parent.glob("part-*.parquet"))) == 1
    _same(db, copy, ["sessions", "--all"])

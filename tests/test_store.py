"""The store's storage faults: which DuckDB errors are told as one clear StoreError (a damaged
file, a full disk, a lock held by another process) and which stay bugs; atomic migrations; the
writer's wait for a reader to let go of the file."""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from liveworth.errors import StoreError
from liveworth.ingest.importer import import_paths
from liveworth.store import database as store_module
from liveworth.store.database import MIGRATIONS, Store, run, storage_error

from conftest import DUMPS, Result

Run = Callable[..., Result]
DB = "/data/x.duckdb"


def _raised(sql: str) -> duckdb.Error:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO t VALUES (1)")
    try:
        con.execute(sql).fetchall()
    except duckdb.Error as exc:
        return exc
    finally:
        con.close()
    raise AssertionError(f"{sql!r} did not fail")


# ---------------------------------------------------------------------------- classification


@pytest.mark.parametrize("sql", [
    "SELEC 1",  # ParserException
    "SELECT nope FROM t",  # BinderException
    "SELECT * FROM no_such_table",  # CatalogException
    "INSERT INTO t VALUES (1)",  # ConstraintException
    "SELECT CAST('x' AS INTEGER)",  # ConversionException
    "COMMIT",  # TransactionException: no transaction is active
])
def test_mistakes_in_our_sql_stay_bugs(sql: str) -> None:
    exc = _raised(sql)
    assert storage_error(exc, DB) is None, type(exc).__name__


@pytest.mark.parametrize("exc", [
    duckdb.IOException('IO Error: Could not read enough bytes from file "/data/x.duckdb": '
                       "attempted to read 262144 bytes from location 1060864"),
    duckdb.Error("Corrupt database file: computed checksum 1 does not match stored checksum 2 "
                 "in block at location 1060864"),
    duckdb.SerializationException("Serialization Error: Failed to deserialize: field id "
                                  "mismatch"),
    duckdb.FatalException("FATAL Error: Failed: database has been invalidated because of a "
                          "previous fatal error"),
    duckdb.InternalException("INTERNAL Error: Attempting to dereference an optional pointer"),
])
def test_a_damaged_file_names_it_and_the_rebuild(exc: duckdb.Error) -> None:
    err = storage_error(exc, DB)
    assert err is not None
    text = str(err)
    assert text.startswith(f"{DB}: the database file is damaged or unreadable (")
    assert "journal" in text and "docs/RECORDING.md" in text and "\n" not in text


@pytest.mark.parametrize("exc", [
    duckdb.TransactionException('TransactionContext Error: Failed to commit: Could not write '
                                'file "/data/x.duckdb.wal": No space left on device'),
    duckdb.IOException('IO Error: Could not write file "/data/x.duckdb": No space left on '
                       "device"),
    duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block: No space left "
                                "on device (temp directory)"),
])
def test_a_full_disk_says_so(exc: duckdb.Error) -> None:
    err = storage_error(exc, DB)
    assert err is not None
    assert str(err).startswith(f"{DB}: no space left on device: the database cannot be written")


def test_an_os_error_names_its_own_file() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/j/h.journal.jsonl")
    err = storage_error(full, DB)
    assert err is not None and str(err).startswith("/j/h.journal.jsonl: no space left on device")
    assert DB not in str(err)
    nameless = storage_error(OSError(errno.EDQUOT, "Disk quota exceeded"), DB)
    assert nameless is not None and str(nameless).startswith("no space left on device")
    assert storage_error(OSError(errno.ENOENT, "No such file", "/x"), DB) is None
    assert storage_error(ValueError("no space left on device"), DB) is None


def test_other_storage_failures() -> None:
    locked = storage_error(duckdb.IOException(
        'IO Error: Could not set lock on file "/data/x.duckdb": Conflicting lock is held in '
        "/usr/bin/python3 (PID 4242)"), DB)
    assert locked is not None and "locked by process 4242" in str(locked)
    memory = storage_error(duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to allocate data of size 1.0 GiB (512 MiB/512 MiB used)"), DB)
    assert memory is not None and "out of memory" in str(memory)
    assert "LIVEWORTH_MEMORY_LIMIT" in str(memory)
    io = storage_error(duckdb.IOException("IO Error: Cannot open file: Permission denied"), DB)
    assert io is not None and str(io).startswith(f"{DB}: I/O error on the database file")


# ---------------------------------------------------------------------------- a damaged file


@pytest.fixture
def truncated(tmp_path: Path) -> Path:
    """A real database cut to a third: DuckDB opens it and fails at the first read of a lost
    block (it checks each block it reads)."""
    db = tmp_path / "c.duckdb"
    with Store.open(str(db)) as store:
        import_paths(store, [DUMPS / "log.json.gz"])
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    return db


def test_queries_on_a_damaged_file_are_store_errors(truncated: Path) -> None:
    with Store.open(str(truncated), read_only=True) as store:
        with pytest.raises(StoreError, match=r"damaged or unreadable") as caught:
            store.query("SELECT count(*), sum(coins) FROM events")
        assert str(truncated) in str(caught.value)
        with pytest.raises(StoreError, match=str(truncated)):  # the module-level run() too
            run(store.con, "SELECT max(ts), sum(coins) FROM events")
        with pytest.raises(duckdb.ParserException):  # our own mistake stays a bug
            store.query("SELEC 1")


def test_cli_on_a_damaged_file_is_one_line(truncated: Path, cli: Run) -> None:
    for argv in (["sessions"], ["import", str(DUMPS / "dupa.json.gz")]):
        r = cli(argv[0], "--db", str(truncated), *argv[1:])
        assert r.code == 2, r.err
        assert len(r.err.strip().splitlines()) == 1 and "internal error" not in r.err
        assert str(truncated) in r.err and "journal" in r.err


def test_cli_keeps_a_duckdb_bug_an_internal_error(tmp_path: Path, cli: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Store) -> int:
        return int(self._run("SELEC max(version) FROM schema_migrations")[0][0])

    Store.open(str(tmp_path / "ok.duckdb")).close()
    monkeypatch.setattr(Store, "schema_version", broken)
    monkeypatch.delenv("LIVEWORTH_DEBUG", raising=False)
    r = cli("sessions", "--db", str(tmp_path / "ok.duckdb"))
    assert r.code == 1 and "internal error: ParserException" in r.err, r.err


def test_an_empty_file_is_explained(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    db.write_bytes(b"")
    with pytest.raises(StoreError, match="the file is empty, not a database"):
        Store.open(str(db))


# ---------------------------------------------------------------------------- migrations


def _tables(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                .fetchall()}
    finally:
        con.close()


def test_a_failed_first_migration_leaves_nothing_half_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.duckdb"
    bad = ((1, "half of it fails", "CREATE TABLE a (x INT); CREATE TABLE a (x INT);"),)
    monkeypatch.setattr(store_module, "MIGRATIONS", bad)
    with pytest.raises(StoreError, match=r"migration 1 \(half of it fails\) failed"):
        Store.open(str(db))
    assert _tables(db) == set()  # not even schema_migrations: one transaction
    with pytest.raises(StoreError, match="never fully created"):
        Store.open(str(db), read_only=True)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store.open(str(db)) as store:  # the next writable open finishes it
        assert store.schema_version() == len(MIGRATIONS)


def test_a_failed_later_migration_keeps_the_version_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.duckdb"
    Store.open(str(db)).close()
    n = len(MIGRATIONS)
    more = (*MIGRATIONS, (n + 1, "fails halfway", "CREATE TABLE b (x INT); SELECT nope;"))
    monkeypatch.setattr(store_module, "MIGRATIONS", more)
    with pytest.raises(StoreError, match=rf"migration {n + 1} \(fails halfway\) failed"):
        Store.open(str(db))
    assert "b" not in _tables(db)
    with pytest.raises(StoreError, match=r"older liveworth .*interrupted"):
        Store.open(str(db), read_only=True)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store.open(str(db), read_only=True) as store:
        assert store.schema_version() == n


# ---------------------------------------------------------------------------- the lock


@contextmanager
def _reader(db: Path, seconds: float) -> Iterator[int]:
    """Another process holding the database read-only (like a dashboard request)."""
    code = ("import duckdb, sys, time\nc = duckdb.connect(sys.argv[1], read_only=True)\n"
            "print('held', flush=True)\ntime.sleep(float(sys.argv[2]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_writer_waits_for_a_reader(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    Store.open(str(db)).close()
    with _reader(db, 1.0):
        t0 = time.monotonic()
        with Store.open(str(db), lock_timeout_s=30) as store:
            waited = time.monotonic() - t0
            assert store.schema_version() == len(MIGRATIONS)
    assert 0.3 < waited < 20


def test_a_writer_gives_up_naming_the_holder(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    Store.open(str(db)).close()
    monkeypatch.setenv("LIVEWORTH_LOCK_TIMEOUT", "0.5")
    with _reader(db, 30) as pid:
        t0 = time.monotonic()
        with pytest.raises(StoreError) as caught:
            Store.open(str(db))
        waited = time.monotonic() - t0
        t1 = time.monotonic()
        with pytest.raises(StoreError, match=rf"locked by process {pid} .*; try again when"):
            Store.open(str(db), lock_timeout_s=0)  # 0: no wait at all
        assert time.monotonic() - t1 < 0.4
    text = str(caught.value)
    assert f"locked by process {pid}" in text and "within 0.5 s" in text, text
    assert 0.4 < waited < 10


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_lock_timeout_is_one_line(value: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEWORTH_LOCK_TIMEOUT", value)
    with pytest.raises(StoreError, match="LIVEWORTH_LOCK_TIMEOUT: not a number of seconds"):
        Store.open(str(tmp_path / "x.duckdb"))


@pytest.mark.parametrize("name, content", [("events.jsonl", b'{"v":1}\n'), ("t.csv", b"a,b\n1,2\n"),
                                           ("x.parquet", b"PAR1" + b"\0" * 64)])
def test_a_db_that_is_another_kind_of_file_is_refused(tmp_path: Path, name: str,
                                                      content: bytes) -> None:
    """``--db events.jsonl`` by mistake: DuckDB would open it as an in-memory view and an import
    would store nothing; the file is left as it was (issue #14, item 7)."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a DuckDB database"):
        Store.open(str(path))
    assert path.read_bytes() == content


def test_a_planted_symlink_for_the_rejects_file_is_not_followed(tmp_path: Path) -> None:
    """``<db>.rejects.jsonl`` as a symlink to another file: hostile rejected lines must not land
    there (issue #14, item 11); the valid lines are still imported and the error says so."""
    from liveworth.ingest.importer import import_paths

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    db = tmp_path / "s.duckdb"
    (tmp_path / "s.duckdb.rejects.jsonl").symlink_to(victim)
    src = tmp_path / "in.jsonl"
    src.write_text('{"v":1,"type":"join","room_id":"r","ts":1,"msg_id":"a","user_id":"1",'
                   '"user":"u","nickname":"n"}\nnot json: $(rm -rf ~)\n')
    with Store.open(str(db)) as store, pytest.raises(StoreError, match="symbolic link"):
        import_paths(store, [src])
    assert victim.read_text() == "precious\n"
    with Store.open(str(db), read_only=True) as store:
        assert store.query("SELECT count(*) FROM events")[0][0] == 1


def _older(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database as the liveworth before the last migration left it, with one event."""
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:-1])
    with Store.open(str(db)) as store:
        store.con.execute("INSERT INTO events (room_id, msg_id, type, ts) VALUES "
                          "('r', 'm', 'live_end', 5)")
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)


def test_a_read_only_open_of_an_older_database_upgrades_it_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    """A new liveworth's report on an old store: migrated once, then read (it stopped with
    'open it for writing once' before)."""
    db = tmp_path / "old.duckdb"
    _older(db, monkeypatch)
    with Store.open(str(db), read_only=True) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.query("SELECT msg_id FROM events") == [("m",)]
    _older(tmp_path / "old2.duckdb", monkeypatch)
    r = cli("sessions", "--db", str(tmp_path / "old2.duckdb"), "--json", "--all")
    assert r.code == 0, r.err
    assert [s["room_id"] for s in r.json()] == ["r"]


def test_an_older_database_another_process_holds_says_how_to_upgrade_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dashboard (another process) reads the old file: this read-only open can read, not
    upgrade — it says so, with the reason; once the file is free, the next open upgrades it."""
    db = tmp_path / "old.duckdb"
    _older(db, monkeypatch)
    with _reader(db, 30), pytest.raises(
            StoreError, match=r"older liveworth .* \(upgrading it now failed: .*locked"):
        Store.open(str(db), read_only=True)
    with Store.open(str(db), read_only=True) as store:
        assert store.schema_version() == len(MIGRATIONS)

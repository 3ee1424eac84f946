"""The store: one embedded DuckDB file holding events, the ledger's credits and import history.

- The path is ``--db``, else ``$LIVEWORTH_DB``, else ``./liveworth.duckdb``.
- The schema is versioned: :data:`MIGRATIONS` are applied in order, each once, in a transaction.
- Every write goes through one :class:`Store` opened for writing. Readers (reports, the web app)
  open it read-only.
- Events are identified by ``(room_id, msg_id)``: inserting one again changes nothing, so imports
  are idempotent and overlapping inputs count each event once (counting rule 1).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import re
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pyarrow as pa

from liveworth.decode.events import Event
from liveworth.errors import StoreError
from liveworth.store.forgotten import PSEUDONYMIZE_STAGE
from liveworth.store.schema import EVENT_COLUMNS as EVENT_COLUMNS
from liveworth.store.schema import MIGRATIONS as MIGRATIONS
from liveworth.store.staging import Conflict, Staged, judge_stage_sql

if TYPE_CHECKING:
    from liveworth.store.portable import Remote

DEFAULT_DB = "liveworth.duckdb"
T = TypeVar("T")
#: DuckDB's memory budget (it spills to disk beyond it), so that imports stay in bounded memory.
DEFAULT_MEMORY_LIMIT = "512MB"
#: How long opening for writing waits for another process (a dashboard read, a report) to let go
#: of the file before giving up; ``$LIVEWORTH_LOCK_TIMEOUT`` (seconds) overrides it.
DEFAULT_LOCK_TIMEOUT_S = 10.0
#: Where a lost or damaged database is told how to be rebuilt.
REBUILD_HINT = ("rebuild it into a new file from the journal and your inputs "
                "(docs/RECORDING.md, 'A damaged or lost database')")

EVENT_SCHEMA = pa.schema([(name, typ) for name, typ, _ in EVENT_COLUMNS])
_COLUMN_NAMES = [name for name, _, _ in EVENT_COLUMNS]
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMN_NAMES)
_JUDGE_STAGE = judge_stage_sql(_COLUMN_NAMES)


def resolve_db_path(path: str | os.PathLike[str] | None) -> str:
    """``path``, else ``$LIVEWORTH_DB``, else ``./liveworth.duckdb``."""
    if path:
        return str(path)
    return os.environ.get("LIVEWORTH_DB") or DEFAULT_DB


def events_table(events: Iterable[Event]) -> pa.Table:
    """Events as an Arrow table with :data:`EVENT_SCHEMA` (one wide row per event).

    Column by column: each column is one pass of ``getattr`` over the events (a field an event
    type does not have is NULL), which is several times faster than building rows.
    """
    evs = events if isinstance(events, list) else list(events)
    cols: dict[str, list[Any]] = {}
    for name in _COLUMN_NAMES:
        if name == "type":
            cols[name] = [ev.TYPE for ev in evs]
        elif name == "extra":
            cols[name] = [json.dumps(ev.extra, ensure_ascii=False, sort_keys=True)
                          if ev.extra else None for ev in evs]
        else:
            cols[name] = [getattr(ev, name, None) for ev in evs]
    return pa.table(cols, schema=EVENT_SCHEMA)


class _Outdated(StoreError):
    """A read-only open found the schema older than this liveworth's."""


class Store:
    """A liveworth database. Open with :meth:`open`; use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        #: Where the events and credits are when not here (Spark: :mod:`.portable`).
        self.remote: Remote | None = None
        _PATHS[con] = path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
             lock_timeout_s: float | None = None, _upgraded: bool = False) -> Store:
        """Open (creating and migrating when writable) the database at ``path``.

        Opening for writing waits up to ``lock_timeout_s`` (default ``$LIVEWORTH_LOCK_TIMEOUT``,
        else :data:`DEFAULT_LOCK_TIMEOUT_S`) while another process holds the file — a dashboard
        request or a report reading it — retrying with a short backoff; a read-only open does
        not wait (the web app's readers have their own, shorter, wait). A read-only open of a
        database an older liveworth made upgrades it first (one writable open, no waiting), so
        that a new version's reports read an old store; when it cannot (another process holds
        the file, it is read-only), it says how.
        """
        db = resolve_db_path(path)
        if read_only and db != ":memory:" and not Path(db).exists():
            raise StoreError(f"{db}: no such database (import something first)")
        if db != ":memory:":
            parent = Path(db).parent
            if not parent.exists():
                raise StoreError(f"{db}: directory {parent} does not exist")
            _refuse_other_files(db)
        timeout = 0.0 if read_only else _lock_timeout(lock_timeout_s)
        con = _connect(db, read_only, timeout)
        store = cls(con, db, read_only)
        try:
            store._setup()
        except _Outdated as exc:  # read-only on an older schema: upgrade it once, if we may
            con.close()
            if not read_only or _upgraded:
                raise
            cls._upgrade(db, exc)
            return cls.open(db, read_only=True, _upgraded=True)
        except BaseException:
            con.close()
            raise
        return store

    @classmethod
    def _upgrade(cls, db: str, outdated: _Outdated) -> None:
        """Open ``db`` for writing (without waiting) to apply the migrations a read-only open
        found missing; when that cannot be done now (another process holds the file, the file
        is read-only, a migration fails), the read-only open's own message, with the reason."""
        try:
            cls.open(db, lock_timeout_s=0).close()
        except StoreError as exc:
            raise StoreError(f"{outdated} (upgrading it now failed: {exc})") from None

    def _setup(self) -> None:
        memory = os.environ.get("LIVEWORTH_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
        try:
            self.con.execute(f"SET memory_limit = '{memory.replace(chr(39), '')}'")
        except duckdb.Error:
            raise StoreError(f"LIVEWORTH_MEMORY_LIMIT: not a memory size: {memory!r}") from None
        if not self.read_only:
            self.migrate()
            return
        version = self.schema_version()
        if version == 0:
            raise _Outdated(f"{self.path}: the database was never fully created (a first "
                            "`liveworth import` or `record` interrupted?); open it for writing "
                            "once (e.g. `liveworth import`) to finish it")
        if version < len(MIGRATIONS):
            raise _Outdated(f"{self.path}: database is from an older liveworth (or its upgrade "
                            "was interrupted); open it for writing once (e.g. `liveworth "
                            "import`) to migrate it")

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.remote is not None:  # Spark's persisted events and credits
            self.remote.close()
            self.remote = None
        _PATHS.pop(self.con, None)
        self.con.close()

    def _run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Execute one statement; storage failures (a damaged file, a full disk) become a
        :class:`StoreError` naming the file, mistakes in our SQL stay what they are."""
        return run(self.con, sql, params)

    # ------------------------------------------------------------------ schema

    def schema_version(self) -> int:
        exists = self._run(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        )[0]
        if not exists or not exists[0]:
            return 0
        row = self._run("SELECT coalesce(max(version), 0) FROM schema_migrations")[0]
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Apply every migration not yet applied, each in one transaction together with its
        entry in ``schema_migrations`` (the first one also creates that table): a migration
        interrupted at any moment (``kill -9``) leaves the database as it was before it, and the
        next writable open applies it again."""
        current = self.schema_version()
        for version, name, sql in MIGRATIONS:
            if version <= current:
                continue
            self.begin()
            try:
                self._run(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
                )
                self._run(sql)
                self._run(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
                )
                self.commit()
            except StoreError:  # the file or the disk failed: that is the error to tell
                self.rollback()
                raise
            except duckdb.Error as exc:
                self.rollback()
                raise StoreError(f"{self.path}: migration {version} ({name}) failed: "
                                 f"{_first_line(exc)}") from None

    # ------------------------------------------------------------------ writes

    # Writes go through a staging table: events are staged (from Arrow or from SQL), then
    # :meth:`stage_commit` inserts those not yet stored, in one anti-join (counting rule 1).

    def stage_begin(self) -> None:
        """Start staging the events of one input (see :meth:`stage_flush`)."""
        self._new_stage()
        self._staged = 0
        self._inserted = 0
        self._sequence = 0  # the staging order of events without an input line
        self._staged_rooms: set[str] = set()
        self._conflicts = 0

    def stage_arrow(self, table: pa.Table) -> None:
        """Stage events given as an Arrow table of :data:`EVENT_SCHEMA` (plus ``line_no``).
        Events without a line number are numbered in the order they are staged."""
        if table.num_rows == 0:
            return
        if "line_no" not in table.column_names:
            start = self._sequence + 1
            self._sequence += table.num_rows
            table = table.append_column("line_no", pa.array(range(start, start + table.num_rows),
                                                            pa.int64()))
        with registered(self.con, "_batch", table):
            self._run(f"INSERT INTO _stage (line_no, {_QUOTED}) "
                      f"SELECT line_no, {_QUOTED} FROM _batch")

    def stage_flush(self) -> list[Conflict]:
        """Store the staged events that are new and empty the stage, so that an input of any
        size is stored in bounded memory, one block at a time. Returns the conflicts.

        Of the copies of one ``(room_id, msg_id)`` the first is kept (:mod:`.staging`).
        """
        staged = int(self._run("SELECT count(*) FROM _stage")[0][0])
        if not staged:
            return []
        self._staged += staged
        self._staged_rooms.update(r[0] for r in self._run("SELECT DISTINCT room_id FROM _stage"))
        # The rooms' credits lag their events until the ledger runs (store.ledger clears the
        # mark in its own transaction): marked first, so that no kill leaves a room with new
        # events and no mark, whatever the caller's transactions.
        self._run("INSERT INTO ledger_pending SELECT DISTINCT room_id FROM _stage "
                  "ON CONFLICT DO NOTHING")
        self._run(PSEUDONYMIZE_STAGE)  # forgotten gifters stay forgotten (store.forgotten)
        if self._all_new():  # the live path's usual block: nothing to judge, all are kept
            inserted = self._run(f"INSERT INTO events ({_QUOTED}) SELECT {_QUOTED} FROM _stage")
            self._inserted += int(inserted[0][0]) if inserted else 0
            self._new_stage()
            return []
        self._run(_JUDGE_STAGE)
        inserted = self._run(f"INSERT INTO events ({_QUOTED}) SELECT {_QUOTED} FROM _judged "
                             "WHERE NOT stored AND rank = 1")  # DuckDB answers the row count
        self._inserted += int(inserted[0][0]) if inserted else 0
        conflicts = [Conflict(int(row[0]), row[1], row[2], dict(zip(_COLUMN_NAMES, row[1:],
                                                                     strict=True)))
                     for row in self._run(f"SELECT line_no, {_QUOTED} FROM _judged "
                                          "WHERE differs ORDER BY line_no")]
        self._conflicts += len(conflicts)
        self._run("DROP TABLE _judged")
        self._new_stage()  # not DELETE: a temporary table keeps deleted rows, scans slow down
        return conflicts

    def _all_new(self) -> bool:
        """Whether no staged key is stored already or staged twice: then every staged event is
        kept and none conflicts, which the judging (~25 ms a block, whatever its size) would
        only confirm."""
        row = self._run("""
            SELECT count(*) = count(DISTINCT (room_id, msg_id)) AND NOT EXISTS (
                SELECT 1 FROM _stage s SEMI JOIN events e
                ON e.room_id = s.room_id AND e.msg_id = s.msg_id) FROM _stage""")
        return bool(row[0][0])

    def _new_stage(self) -> None:
        self._run(f"CREATE OR REPLACE TEMP TABLE _stage (line_no BIGINT, "
                  f"{', '.join(f'{chr(34)}{n}{chr(34)} {sql}' for n, _, sql in EVENT_COLUMNS)})")

    def stage_commit(self) -> Staged:
        """Flush what is still staged and end staging: what the whole input staged (flush
        first to see the last conflicts)."""
        self.stage_flush()
        self._run("DROP TABLE _stage")
        return Staged(self._staged, self._inserted, sorted(self._staged_rooms), self._conflicts)

    def store_batch(self, table: pa.Table) -> Staged:
        """Store one batch of events (an Arrow table of :data:`EVENT_SCHEMA`), as
        :meth:`stage_begin`, :meth:`stage_arrow` and :meth:`stage_commit` would.

        The live path's usual batch — no key stored already or given twice, no forgotten
        gifter — needs none of the staging: one query proves that, then the rooms' ledger marks
        and the events are inserted straight from the batch (3 statements instead of ~11: the
        store's fixed cost a batch, which bounds how small a recorder's batches can be). Any
        other batch is staged and judged as usual."""
        if table.num_rows == 0:
            return Staged(0, 0, [], 0)
        with registered(self.con, "_batch", table):
            plain, rooms = self._run("""
                SELECT count(*) = count(DISTINCT (room_id, msg_id)) AND NOT EXISTS (
                           SELECT 1 FROM _batch b SEMI JOIN events e
                           ON e.room_id = b.room_id AND e.msg_id = b.msg_id)
                       AND NOT EXISTS (
                           SELECT 1 FROM _batch b SEMI JOIN gifter_forgotten f
                           ON f.user_id = b.user_id),
                       list(DISTINCT room_id ORDER BY room_id)
                FROM _batch""")[0]
            if plain:
                self._run("INSERT INTO ledger_pending SELECT unnest(?::VARCHAR[]) "
                          "ON CONFLICT DO NOTHING", [rooms])  # marked first (stage_flush)
                inserted = self._run(f"INSERT INTO events ({_QUOTED}) SELECT {_QUOTED} "
                                     "FROM _batch")
                return Staged(table.num_rows, int(inserted[0][0]) if inserted else 0,
                              list(rooms), 0)
        self.stage_begin()
        self.stage_arrow(table)
        return self.stage_commit()

    def insert_events(self, table: pa.Table) -> int:
        """Insert events not yet stored; returns how many were new."""
        return self.store_batch(table).inserted

    def note_rooms(self, hosts: Mapping[str, str | None], source: str) -> None:
        """Remember the host of rooms whose events do not say it (e.g. collector dumps), in one
        statement (a recorder of 200 creators meets 200 rooms in its first batch)."""
        if not hosts:
            return
        self._run(
            """
            INSERT INTO rooms (room_id, host, source)
            SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?
            ON CONFLICT (room_id) DO UPDATE
            SET host = coalesce(rooms.host, excluded.host)
            """,
            [list(hosts), list(hosts.values()), source],
        )

    def log_import(self, path: str, fmt: str, accepted: int, duplicates: int,
                   rejected: int) -> None:
        self._run(
            "INSERT INTO imports (path, format, accepted, duplicates, rejected) "
            "VALUES (?, ?, ?, ?, ?)",
            [path, fmt, accepted, duplicates, rejected],
        )

    def begin(self) -> None:
        self._run("BEGIN TRANSACTION")

    def commit(self) -> None:
        self._run("COMMIT")

    def rollback(self) -> None:
        """Undo the open transaction. Called while an error propagates, so a rollback that fails
        (e.g. none is open after a failed COMMIT) never replaces the error that led here."""
        with suppress(duckdb.Error, StoreError):
            self.con.execute("ROLLBACK")

    # ------------------------------------------------------------------ reads

    def rooms(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT room_id FROM events ORDER BY room_id")]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query with bound parameters (never build SQL from user strings)."""
        return run(self.con, sql, list(params))

    def query_many(self, sql: str, params: Sequence[Any],
                   make: Callable[[tuple[Any, ...]], T]) -> tuple[T, ...]:
        """:meth:`query` for a result of many rows, each made into ``make(row)``, with the
        cyclic garbage collector paused: hundreds of thousands of new tuples otherwise set off
        full collections (0.15 s of the 228,092 gifters of a 5,000,000-event session)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return tuple(map(make, run(self.con, sql, list(params))))
        finally:
            if paused:
                gc.enable()


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """Make an Arrow table visible to SQL as ``name`` for the duration of the block."""
    con.register(name, table)
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # after a failed statement, the error that matters is raised
            con.unregister(name)


def run(con: duckdb.DuckDBPyConnection, sql: str,
        params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute one statement and fetch its whole result (DuckDB wants every result consumed).

    A storage failure (see :func:`storage_error`) is raised as a :class:`StoreError` naming the
    database file; any other DuckDB error (a mistake in our SQL) is raised as it is.
    """
    try:
        return con.execute(sql, params).fetchall() if params is not None else \
            con.execute(sql).fetchall()
    except duckdb.Error as exc:
        err = storage_error(exc, _PATHS.get(con))
        if err is None:
            raise
        raise err from exc


#: The file each open :class:`Store` connection reads (to name it in errors from :func:`run`).
_PATHS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, str] = weakref.WeakKeyDictionary()

#: DuckDB errors that mean our own SQL or data is wrong: bugs, never hidden behind a StoreError.
_OUR_MISTAKES: tuple[type[duckdb.Error], ...] = (
    duckdb.ProgrammingError,  # ParserException, BinderException, CatalogException, ...
    duckdb.DataError, duckdb.IntegrityError, duckdb.NotSupportedError,
    duckdb.ConnectionException, duckdb.InterruptException, duckdb.DependencyException,
    duckdb.SequenceException, duckdb.PermissionException, duckdb.TransactionException,
)
_FULL = ("no space left on device", "disk quota exceeded", "file too large")
_DAMAGED = ("corrupt", "checksum", "could not read", "not a valid duckdb", "invalidated",
            "serializ", "failed to read", "out of range of the file")
_LOCK = ("could not set lock", "conflicting lock")
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_error(exc: BaseException, path: str | None) -> StoreError | None:
    """The :class:`StoreError` a storage failure of the database at ``path`` is told as, one
    line; None for an error that is a bug (e.g. a syntax error in our SQL).

    - a full disk (DuckDB's I/O error or an ``OSError`` with ENOSPC/EDQUOT/EFBIG, at any
      moment, a failed COMMIT included): says so;
    - a damaged file (a failed checksum, a file cut short, an unreadable block found by a query
      long after the open): names the file and how to rebuild it from the journal;
    - the file locked by another process; DuckDB running out of memory; other I/O errors.
    """
    where = path or "the database"
    first = _first_line(exc)
    low = str(exc).lower()
    if isinstance(exc, OSError):  # which file failed is its own to say: the journal, an output
        if exc.errno in _FULL_ERRNOS:
            name = f"{exc.filename}: " if exc.filename else ""
            return StoreError(f"{name}no space left on device ({exc.strerror}); free some "
                              "space and run the command again")
        return None
    if not isinstance(exc, duckdb.Error):
        return None
    if any(m in low for m in _FULL):
        return StoreError(f"{where}: no space left on device: the database cannot be written "
                          f"({first}); free some space and run the command again")
    if isinstance(exc, duckdb.TransactionException) and "failed to commit" in low:
        return StoreError(f"{where}: the database could not be written: {first}")
    if isinstance(exc, _OUR_MISTAKES):
        return None
    if any(m in low for m in _LOCK):
        return StoreError(f"{where}: {_lock_holder(exc)}")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return StoreError(f"{where}: out of memory ({first}); free some memory or change "
                          "LIVEWORTH_MEMORY_LIMIT")
    damaged = any(m in low for m in _DAMAGED)
    if isinstance(exc, duckdb.IOException) and not damaged:
        return StoreError(f"{where}: I/O error on the database file: {first}")
    if damaged or isinstance(exc, (duckdb.IOException, duckdb.SerializationException,
                                   duckdb.InternalException, duckdb.FatalException)) \
            or type(exc) is duckdb.Error:
        return StoreError(f"{where}: the database file is damaged or unreadable ({first}); "
                          f"{REBUILD_HINT}")
    return None


def _lock_holder(exc: BaseException) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    who = f"process {pid.group(1)}" if pid else "another process"
    return (f"the database is locked by {who} (a dashboard, `liveworth serve`, a report, "
            "`import` or `record` reading or writing it)")


def _lock_timeout(given: float | None) -> float:
    if given is not None:
        return max(0.0, given)
    text = os.environ.get("LIVEWORTH_LOCK_TIMEOUT", "")
    if not text.strip():
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:  # also refuses nan and inf
        raise StoreError(f"LIVEWORTH_LOCK_TIMEOUT: not a number of seconds (0 to 86400): "
                         f"{text!r}")
    return value


def _refuse_other_files(db: str) -> None:
    """An existing file that is not a DuckDB database (an events ``.jsonl``, a ``.csv``, a
    ``.parquet`` given to ``--db`` by mistake): DuckDB would open it as a view over that file in
    an in-memory database, and an import would say "imported" and store nothing."""
    path = Path(db)
    if not path.is_file() or path.stat().st_size == 0:
        return  # absent (created) or empty (told apart when connecting)
    with path.open("rb") as f:
        head = f.read(12)
    if head[8:12] != b"DUCK":
        raise StoreError(f"{db}: not a DuckDB database (is it an input file? give it to "
                         "`liveworth import`, and --db the database to write)")


def _connect(db: str, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    """Connect; while another process holds the file, retry (5 ms doubling to 50 ms: the web
    app's reader leaves the file free for 0.1 s at least once a second) for ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            return duckdb.connect(db, read_only=read_only)
        except duckdb.Error as exc:
            low = str(exc).lower()
            locked = any(m in low for m in _LOCK)
            left = deadline - time.monotonic()
            if locked and left > 0:
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.05)
                continue
            if locked:
                waited = (f", and did not let go of it within {timeout_s:g} s "
                          "(LIVEWORTH_LOCK_TIMEOUT)") if timeout_s > 0 else ""
                raise StoreError(f"{db}: {_lock_holder(exc)}{waited}; try again when it is "
                                 "done") from None
            if "not a valid duckdb" in low and Path(db).is_file() \
                    and Path(db).stat().st_size == 0:
                raise StoreError(f"{db}: the file is empty, not a database (its creation was "
                                 "interrupted?); delete it and run the command again") from None
            err = storage_error(exc, db)
            if err is not None and "damaged" in str(err):
                raise err from None
            raise StoreError(f"{db}: cannot open database: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__

"""Import: files of events or raw webcast messages into the store, then the ledger.

Inputs (``--format auto`` sniffs each file): event format v1 JSONL (``events``), collector dumps
(``webcast-dump``), the project's raw journal (``journal``) and serialized ``WebcastResponse``
frames (``webcast-response``); gzip or plain.

A bad line or message is rejected — named by file and line on the ``on_reject`` callback and kept
in the rejects file next to the database — and every valid one is still imported. With
``strict=True`` nothing is imported when anything is rejected. Imports are idempotent: events are
keyed by ``(room_id, msg_id)`` and the ledger is recomputed from the stored events of every room
touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from liveworth.decode.events import Event, event_from_dict, loads_line
from liveworth.decode.formats import FORMATS as FORMATS
from liveworth.decode.rawsources import (
    RawMessage,
    RawReject,
    decode_raw,
    gzip_damage,
    iter_raw,
    open_binary,
    sniff_format,
)
from liveworth.errors import InputFormatError, StoreError, UsageError
from liveworth.ingest.rejects import MAX_KEPT_RAW, RejectSpool
from liveworth.ingest.rejects import Reject as Reject
from liveworth.ingest.rejects import rejects_path_for as rejects_path_for
from liveworth.ingest.tables import TABLE_FORMATS, import_table_file, sniff_table
from liveworth.store import eventsql, ledger
from liveworth.store.database import EVENT_COLUMNS, Store, events_table, registered, run

BATCH = 50_000
#: The write-ahead log an import may grow before DuckDB checkpoints (at the end, in practice).
IMPORT_CHECKPOINT = "64GB"
#: Blocks staged (up to ~125,000 lines or 50,000 rows each) before they are stored and, unless
#: strict, committed. The insert into the events table runs one core per ~122,880-row group of
#: the stage, so one block at a time left a core idle for most of it (1,000,000-event import
#: 6.2-6.6 s -> 5.1-5.8 s, runs alternated; peak RSS 550 -> 610 MB; four blocks took 1.4 GB
#: and no less time). It counts blocks, not staged rows: a block's lines registered in a
#: transaction stay in memory until it ends, so a file of rejects alone must commit too.
FLUSH_BLOCKS = 2
MAX_LINE = 1 << 20  # 1 MiB: longer lines are rejected unread


@dataclass(slots=True)
class FileResult:
    path: str
    format: str
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "format": self.format, "accepted": self.accepted,
                "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass(slots=True)
class ImportResult:
    files: list[FileResult] = field(default_factory=list)
    rooms: list[str] = field(default_factory=list)
    committed: bool = True
    rejects_path: str | None = None
    rejects_kept: int = 0  # how many of this import's rejects the rejects file holds
    rejects_error: str | None = None  # why the others are not kept (e.g. a full disk)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "committed": self.committed,
            "rooms": self.rooms,
            "rejects_file": self.rejects_path,
            "rejects_kept": self.rejects_kept,
            "rejects_error": self.rejects_error,
            "files": [f.as_dict() for f in self.files],
        }


Progress = Callable[[int], None]  # called with bytes (or items) consumed since the last call


def read_raw_events(
    path: Path, hosts: dict[str, str | None], progress: Progress | None = None,
    kind: str | None = None,
) -> Iterator[Event | Reject]:
    """Decoded events of a raw input (dump, journal, response frame; ``kind``, else sniffed),
    rejects for bad messages. ``hosts`` collects room → host unique id where the input names
    it."""
    for item in iter_raw(path, kind):
        if progress:
            progress(1)
        if isinstance(item, RawReject):
            yield Reject(item.where, item.reason)
            continue
        try:
            events = decode_raw(item)
        except InputFormatError as exc:
            yield Reject(f"{path}:{item.method}@{item.arrival_ms}", exc.reason or str(exc))
            continue
        _note_host(item, events, hosts)
        yield from events


def _note_host(item: RawMessage, events: Sequence[Event], hosts: dict[str, str | None]) -> None:
    if item.host:
        for ev in events:
            if hosts.get(ev.room_id) is None:
                hosts[ev.room_id] = item.host


_T = TypeVar("_T")


def _read_ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """``items``, the next one made in a thread while the caller works on this one: a file's
    next block is read and split into lines while DuckDB validates and stores this one (both
    let go of the GIL). An exception is raised where its item would have been; a caller that
    stops early stops the thread."""
    slot: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    with contextlib.suppress(queue.Full):
                        slot.put((True, item), timeout=0.1)
                        break
                if stop.is_set():
                    return
            slot.put((False, None))
        except BaseException as exc:  # handed to the caller, raised there
            slot.put((False, exc))

    thread = threading.Thread(target=produce, name="liveworth-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = slot.get()
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            slot.get_nowait()  # a producer waiting to put sees the stop
        thread.join()


def _why(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def _import_events_file(
    store: Store, path: Path, hosts: dict[str, str | None],
    report: Callable[[list[Reject]], None], progress: Progress | None, flush: Callable[[], None],
) -> None:
    """Stage one event-format-v1 file: SQL validates in bulk, Python judges the rest."""
    try:
        f = open_binary(path)
    except OSError as exc:
        raise InputFormatError(f"cannot read ({exc.strerror or exc})", where=str(path)) from None
    sql = eventsql.valid_sql()
    cols = ", ".join(f'"{n}"' for n, _, _ in EVENT_COLUMNS)
    lines_seen = 0
    lines = eventsql.line_blocks(f, MAX_LINE, eventsql.BLOCK_BYTES,
                                 cut_short=lambda: gzip_damage(f) is not None)
    with f, contextlib.closing(_read_ahead(lines)) as blocks:  # the thread ends, then the file
        while True:
            try:
                block = next(blocks, None)
            except OSError as exc:
                report([Reject(f"{path}:{lines_seen + 1}", f"unreadable input ({_why(exc)}); "
                                                           "the rest of the file is lost")])
                return
            if block is None:
                damage = gzip_damage(f)
                if damage:
                    report([Reject(f"{path}:{lines_seen + 1}",
                                   f"{damage}: the rest of the file is lost")])
                return
            table, too_long, nbytes = block
            if table.num_rows:
                lines_seen = int(table.column("line_no")[-1].as_py())
            lines_seen = max([lines_seen, *(n for n, _ in too_long)])
            if progress:
                progress(nbytes)
            report([Reject(f"{path}:{n}", f"line longer than {MAX_LINE} bytes ({size} bytes)")
                    for n, size in too_long])
            if table.num_rows == 0:
                continue
            first = int(table.column("line_no")[0].as_py())
            with registered(store.con, "_lines", _scan_batches(table)):
                # Plainly valid lines go straight to the stage; the others (blank lines aside)
                # are those of the block the stage lacks, judged by Python.
                staged = run(store.con, f"INSERT INTO _stage (line_no, {cols}) "
                                        f"SELECT line_no, {cols} FROM ({sql})")
                # Every line plainly valid (the common case): nothing left to judge.
                doubtful = [] if staged and staged[0][0] == table.num_rows else run(
                    store.con, f"""
                    SELECT line_no, line FROM _lines l
                    WHERE trim(line, ' \t\r\n') <> '' AND NOT EXISTS (
                        SELECT 1 FROM _stage s WHERE s.line_no >= {first}
                                                 AND s.line_no = l.line_no)
                    ORDER BY line_no""")
            _judge_in_python(store, path, doubtful, hosts, report)
            flush()


def _scan_batches(table: pa.Table) -> pa.Table:
    """``table`` cut (without a copy) into one record batch per core: DuckDB scans an Arrow
    table one batch per thread, so a block in one batch was validated on one core (the
    1,000,000-event import's validate + stage: 3.3 s in one batch a block, 2.2 s in two)."""
    per = -(-table.num_rows // max(2, os.cpu_count() or 1))
    return pa.Table.from_batches(table.to_batches(max_chunksize=max(1, per)), table.schema)


def _judge_in_python(store: Store, path: Path, rows: Sequence[tuple[int, str]],
                     hosts: dict[str, str | None],
                     report: Callable[[list[Reject]], None]) -> None:
    """Lines the SQL fast path did not accept: exact errors, or accepted after all."""
    events: list[Event] = []
    line_nos: list[int] = []
    rejects: list[Reject] = []
    for line_no, line in rows:
        where = f"{path}:{line_no}"
        try:
            ev = event_from_dict(loads_line(line, where), where)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = ("not UTF-8 text" if "\ufffd" in line and not _is_json(line)
                      else f"not JSON ({exc.__class__.__name__})")
            rejects.append(Reject(where, reason, line[:MAX_KEPT_RAW].rstrip("\n")))
            continue
        except InputFormatError as exc:
            rejects.append(Reject(where, str(exc).removeprefix(where + ": "),
                                  line[:MAX_KEPT_RAW].rstrip("\n")))
            continue
        host = ev.extra.get("host")
        if isinstance(host, str) and host and hosts.get(ev.room_id) is None:
            hosts[ev.room_id] = host
        events.append(ev)
        line_nos.append(line_no)
    report(rejects)
    if events:
        table = events_table(events).append_column("line_no", pa.array(line_nos, pa.int64()))
        store.stage_arrow(table)


def _event_line(columns: dict[str, object]) -> str:
    """A stored row as its event format v1 line (extras back at the top level, as export
    writes them): what a rejected conflicting copy is kept as."""
    extra = columns.get("extra")
    out = {k: v for k, v in columns.items() if v is not None and k != "extra"}
    if isinstance(extra, str):
        out.update({k: v for k, v in json.loads(extra).items() if k not in out})
    return json.dumps({"v": 1, **out}, ensure_ascii=False)


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _import_raw_file(
    store: Store, path: Path, kind: str, hosts: dict[str, str | None],
    report: Callable[[list[Reject]], None], progress: Progress | None, flush: Callable[[], None],
) -> None:
    """Stage the decoded events of one raw input (dump, journal, response frame)."""
    events: list[Event] = []
    for item in read_raw_events(path, hosts, progress, kind):
        if isinstance(item, Reject):
            report([item])
        else:
            events.append(item)
        if len(events) >= BATCH:
            store.stage_arrow(events_table(events))
            flush()
            events = []
    if events:
        store.stage_arrow(events_table(events))


@dataclass(slots=True)
class _Importing:
    """What one import shares across its files: the rooms and hosts seen, the rejects."""

    store: Store
    strict: bool
    on_reject: Callable[[Reject], None] | None
    progress: Progress | None
    rejects: RejectSpool
    rooms: set[str] = field(default_factory=set)
    hosts: dict[str, str | None] = field(default_factory=dict)
    _file: tuple[Path, FileResult] | None = None
    _held: int = 0  # blocks staged since the last store

    def report(self, rejects: list[Reject]) -> None:
        """Count and keep the rejects of the file being imported."""
        assert self._file is not None
        self._file[1].rejected += len(rejects)
        for r in rejects:
            self.rejects.add(r)
            if self.on_reject:
                self.on_reject(r)

    def flush(self, *, final: bool = False) -> None:
        """Called after each block: store what is staged every :data:`FLUSH_BLOCKS` blocks (and
        when ``final``); unless strict, commit it (memory stays flat; see import_paths). A
        conflict (a key kept already, other content) is a reject of the file, reported when it
        is stored."""
        assert self._file is not None
        self._held += 1
        if not final and self._held < FLUSH_BLOCKS:
            return
        self._held = 0
        path, fr = self._file
        conflicts = self.store.stage_flush()
        self.report([Reject(f"{path}:{c.line_no}" if fr.format == "events" else str(path),
                            f"conflicts with the event already kept for msg_id {c.msg_id!r} "
                            f"of room {c.room_id!r}: different content (the first copy is "
                            "kept)", _event_line(c.event))
                     for c in conflicts])
        if not self.strict:
            self.store.commit()
            self.store.begin()

    def import_file(self, path: Path, fr: FileResult) -> None:
        """Stage and store one file, counting its events and rejects in ``fr``."""
        store = self.store
        self._file = (path, fr)
        store.stage_begin()
        if fr.format in TABLE_FORMATS:
            import_table_file(store, path, fr.format, self.hosts, self.report, self.flush)
        elif fr.format == "events":
            _import_events_file(store, path, self.hosts, self.report, self.progress,
                                self.flush)
        else:
            _import_raw_file(store, path, fr.format, self.hosts, self.report, self.progress,
                             self.flush)
        self.flush(final=True)
        staged = store.stage_commit()
        # a conflict is neither new nor a duplicate: it is one of the file's rejects
        fr.accepted, fr.duplicates = staged.inserted, staged.staged - staged.inserted - (
            staged.conflicts)
        self.rooms.update(staged.rooms)
        store.log_import(str(path), fr.format, fr.accepted, fr.duplicates, fr.rejected)


def _input_files(paths: Sequence[str | os.PathLike[str]], fmt: str) -> list[Path]:
    """``paths`` as paths, once ``fmt`` is known and every one is a file."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    files = [Path(p) for p in paths]
    for p in files:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
    return files


def import_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    fmt: str = "auto",
    *,
    strict: bool = False,
    on_reject: Callable[[Reject], None] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``paths`` into ``store`` and recompute the ledger of every room touched.

    Events are staged block by block (about 32 MiB of input, or 50,000 raw messages, at a
    time), stored and, unless ``strict``, committed every :data:`FLUSH_BLOCKS` blocks, so memory
    stays flat whatever the input's size; the ledger is recomputed once at the end. An import
    cut short (killed, crashed, an error) keeps the events it committed, their rooms marked as
    pending in the store: the next writer — any import, any recorder start — brings their
    credits up to date, and importing the same files again adds nothing twice and completes it.
    With ``strict`` the whole import is one transaction.
    """
    files = _input_files(paths, fmt)
    result = ImportResult(rejects_path=rejects_path_for(store.path))
    kinds = [sniff_table(p) or sniff_format(p) if fmt == "auto" else fmt
             for p in files]  # refuse before writing
    spool = RejectSpool(None if strict or result.rejects_path is None
                        else os.path.dirname(os.path.abspath(result.rejects_path)))
    state = _Importing(store, strict, on_reject, progress, spool)
    # Checkpoint once, at the end, not each time the write-ahead log passes 16 MiB (a block's
    # commit each): per-block checkpoints cost a third of a large import's time.
    run(store.con, f"SET checkpoint_threshold = '{IMPORT_CHECKPOINT}'")
    store.begin()
    try:
        for path, kind in zip(files, kinds, strict=True):
            fr = FileResult(str(path), kind)
            result.files.append(fr)
            state.import_file(path, fr)
        if strict and spool.count:
            store.rollback()
            result.committed = False
            return result
        store.note_rooms(state.hosts, "import")
        # every room it touched, and any an earlier writer left with credits lagging
        ledger.recompute(store.con, sorted(state.rooms | set(ledger.pending(store.con))))
        store.commit()
    except BaseException:
        store.rollback()
        spool.close()
        raise
    finally:
        with contextlib.suppress(StoreError):
            run(store.con, "RESET checkpoint_threshold")
    result.rooms = sorted(state.rooms)
    if result.rejects_path:
        spool.keep(result.rejects_path)
    result.rejects_kept, result.rejects_error = spool.spooled, spool.error
    return result

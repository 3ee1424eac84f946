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

import datetime as dt
import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from liveworth import ledger
from liveworth.errors import InputFormatError, LiveworthError, UsageError
from liveworth.events import Event, event_from_dict
from liveworth.rawsources import RawMessage, RawReject, decode_raw, iter_raw, sniff_format
from liveworth.store import Store, events_table

FORMATS = ("auto", "events", "webcast-dump", "journal", "webcast-response")
BATCH = 50_000
MAX_LINE = 1 << 20  # 1 MiB: longer lines are rejected unread


@dataclass(frozen=True, slots=True)
class Reject:
    """One input line or message that was not imported, and why."""

    where: str
    reason: str
    raw: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"where": self.where, "reason": self.reason, "raw": self.raw}


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
            "files": [f.as_dict() for f in self.files],
        }


Progress = Callable[[int], None]  # called with bytes (or items) consumed since the last call


def rejects_path_for(db_path: str) -> str | None:
    """The rejects file kept next to the database (none for an in-memory database)."""
    return None if db_path == ":memory:" else db_path + ".rejects.jsonl"


def _open_lines(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def read_event_lines(
    path: Path, progress: Progress | None = None
) -> Iterator[Event | Reject]:
    """Events of an event-format-v1 JSONL file, and a :class:`Reject` for every bad line."""
    name = str(path)
    try:
        f = _open_lines(path)
    except OSError as exc:
        raise InputFormatError(f"cannot read ({exc.strerror or exc})", where=name) from None
    with f:
        lineno = 0
        while True:
            try:
                line = f.readline(MAX_LINE + 1)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                yield Reject(f"{name}:{lineno + 1}", f"unreadable input ({_why(exc)}); "
                             "the rest of the file is lost")
                return
            if not line:
                return
            lineno += 1
            if progress:
                progress(len(line))
            where = f"{name}:{lineno}"
            if len(line) > MAX_LINE:
                while line and not line.endswith(b"\n"):  # skip the rest of the huge line
                    line = f.readline(MAX_LINE)
                yield Reject(where, f"line longer than {MAX_LINE} bytes")
                continue
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
                yield event_from_dict(json.loads(text), where)
            except UnicodeDecodeError:
                yield Reject(where, "not UTF-8 text", line[:200].decode("utf-8", "replace"))
            except (json.JSONDecodeError, RecursionError) as exc:
                yield Reject(where, f"not JSON ({exc.__class__.__name__})", _clip(line))
            except InputFormatError as exc:
                yield Reject(where, str(exc).removeprefix(where + ": "), _clip(line))


def read_raw_events(
    path: Path, hosts: dict[str, str | None], progress: Progress | None = None
) -> Iterator[Event | Reject]:
    """Decoded events of a raw input (dump, journal, response frame), rejects for bad messages.

    ``hosts`` collects room → host unique id where the raw input names it.
    """
    for item in iter_raw(path):
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


def _noting_hosts(items: Iterable[Event | Reject],
                  hosts: dict[str, str | None]) -> Iterator[Event | Reject]:
    """Pass items through, noting the optional ``host`` field some event lines carry."""
    for item in items:
        if isinstance(item, Event):
            host = item.extra.get("host")
            if isinstance(host, str) and host and hosts.get(item.room_id) is None:
                hosts[item.room_id] = host
        yield item


def _clip(line: bytes) -> str:
    return line[:10_000].decode("utf-8", "replace").rstrip("\n")


def _why(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def _batches(items: Iterable[Event | Reject], size: int) -> Iterator[tuple[list[Event],
                                                                            list[Reject]]]:
    events: list[Event] = []
    rejects: list[Reject] = []
    for item in items:
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            events.append(item)
        if len(events) >= size:
            yield events, rejects
            events, rejects = [], []
    if events or rejects:
        yield events, rejects


def import_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    fmt: str = "auto",
    *,
    strict: bool = False,
    on_reject: Callable[[Reject], None] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``paths`` into ``store`` and recompute the ledger of every room touched."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    files = [Path(p) for p in paths]
    for p in files:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
    result = ImportResult(rejects_path=rejects_path_for(store.path))
    rooms: set[str] = set()
    hosts: dict[str, str | None] = {}
    all_rejects: list[Reject] = []
    store.begin()
    try:
        for path in files:
            kind = sniff_format(path) if fmt == "auto" else fmt
            fr = FileResult(str(path), kind)
            result.files.append(fr)
            items = (_noting_hosts(read_event_lines(path, progress), hosts) if kind == "events"
                     else read_raw_events(path, hosts, progress))
            for events, rejects in _batches(items, BATCH):
                fr.rejected += len(rejects)
                all_rejects.extend(rejects)
                if on_reject:
                    for r in rejects:
                        on_reject(r)
                if events:
                    new = store.insert_events(events_table(events))
                    fr.accepted += new
                    fr.duplicates += len(events) - new
                    rooms.update(ev.room_id for ev in events)
            store.log_import(str(path), kind, fr.accepted, fr.duplicates, fr.rejected)
        if strict and all_rejects:
            store.rollback()
            result.committed = False
            return result
        store.note_rooms(hosts, "import")
        ledger.recompute(store.con, sorted(rooms))
        store.commit()
    except LiveworthError:
        store.rollback()
        raise
    except BaseException:
        store.rollback()
        raise
    result.rooms = sorted(rooms)
    if all_rejects and result.rejects_path:
        _keep_rejects(result.rejects_path, all_rejects)
    return result


def _keep_rejects(path: str, rejects: Sequence[Reject]) -> None:
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with open(path, "a", encoding="utf-8") as f:
        for r in rejects:
            f.write(json.dumps({"at": at, **r.as_dict()}, ensure_ascii=False) + "\n")

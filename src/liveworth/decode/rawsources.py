"""Readers and the writer of raw webcast messages: the bytes before any decoding.

Three on-disk shapes hold raw messages:

* **webcast dumps** — what TikTokLiveJava's events collector writes: one JSON object mapping each
  method name to a list of ``{"eventData": <base64>, "uniqueId": <host>, "ts": <local time>}``;
* **the raw journal** — liveworth's own append-only JSONL, one raw message per line
  (``docs/JOURNAL.md``), written by :class:`JournalWriter` while recording live;
* **a WebcastResponse file** — one serialized ``WebcastResponse`` frame.

Event format v1 JSONL is read as raw messages too, one event each under the reserved method
:data:`~liveworth.decode.eventraw.EVENT_METHOD` (:mod:`liveworth.decode.eventraw`), so that a
simulated LIVE replays through the recorder like a recorded one.

Readers yield :class:`RawMessage` records and, for entries that cannot be read, a
:class:`RawReject` naming the place and the reason, and keep going. A file that cannot be read at
all raises :class:`InputFormatError` naming it. :func:`decode_raw` turns a raw message into events.
Gzip-compressed files are recognised by their magic bytes, whatever their name.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

from liveworth.decode import webcast
from liveworth.decode.eventraw import EVENT_METHOD, decode_event, iter_events
from liveworth.decode.events import MAX_TS, Event
from liveworth.decode.formats import MAX_HOST, MAX_ROOM_ID, MAX_TS_TEXT
from liveworth.decode.reading import (
    _GZIP_MAGIC,
    GzipStream,
    _b64,
    _read_all,
    _reading,
    gzip_damage,
    open_binary,
)
from liveworth.errors import DecodeError, InputFormatError

__all__ = [
    "JOURNAL_VERSION",
    "GzipStream",
    "JournalWriter",
    "RawItem",
    "RawMessage",
    "RawReject",
    "decode_raw",
    "gzip_damage",
    "iter_dump",
    "iter_journal",
    "iter_raw",
    "iter_response_file",
    "open_binary",
    "parse_dump_ts",
    "sniff_format",
]

#: Version of the raw journal line format (the ``v`` key of every line).
JOURNAL_VERSION: Final = 1

_SNIFF_BYTES: Final = 64 * 1024
#: Lines and bytes the sniffer tries (a damaged first line is skipped, not trusted).
_SNIFF_LINES: Final = 20
_SNIFF_LIMIT: Final = 4 << 20
_BOM: Final = b"\xef\xbb\xbf"
#: The largest WebcastResponse file read (TikTok's frames are kilobytes; more is no frame).
MAX_FRAME: Final = 64 << 20

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One raw webcast message as received: its method, protobuf payload and arrival time.

    ``method`` is :data:`liveworth.decode.webcast.RESPONSE_METHOD` when ``payload`` is a whole
    ``WebcastResponse`` frame. ``room_id`` and ``host`` are what the recorder knew, if anything.
    ``msg_id`` is the id the frame gave the message (its ``Message.msgId``), if any: one rule on
    every path, live or imported — a payload's own ``Common.msgId`` comes first, this id is the
    fallback, and a message with neither is rejected.
    """

    method: str
    payload: bytes
    room_id: str | None
    arrival_ms: int
    host: str | None
    msg_id: str | None = None


@dataclass(frozen=True, slots=True)
class RawReject:
    """An entry of a raw input that could not be read: ``where`` (``file:line`` or
    ``file:TYPE[index]``) and why."""

    where: str
    reason: str


RawItem = RawMessage | RawReject


# --------------------------------------------------------------------------------------------
# Webcast dumps
# --------------------------------------------------------------------------------------------

_DUMP_TS: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
)


def parse_dump_ts(text: str) -> int:
    """Milliseconds since the epoch of a dump's ``ts`` (ISO time, up to 9 fractional digits).

    A time without zone is taken as UTC; ``Z`` and ``+02:00`` style offsets are honoured. (In the
    real dumps, zone-less times are the collector's local time, 1-2 hours ahead of UTC, so those
    arrival times are off by that much; event times come from the payload's own ``createTime``
    and are not affected.) Raises ValueError when unreadable.
    """
    m = _DUMP_TS.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"bad ts {text[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        moment = dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ValueError(f"bad ts {text[:40]!r}") from None
    ms = calendar.timegm(moment.timetuple()) * 1000 + int((m.group(7) or "0").ljust(3, "0")[:3])
    zone = m.group(8)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return ms


def _dump_entry(method: str, entry: object) -> RawMessage:
    """One dump entry as a raw message; raises ValueError with the reason it cannot be read."""
    if not isinstance(entry, dict):
        raise ValueError("entry is not a JSON object")
    if "eventData" not in entry:
        raise ValueError("missing eventData")
    payload = _b64(entry["eventData"])
    if not payload:
        raise ValueError("empty eventData")
    ts = entry.get("ts")
    if not isinstance(ts, str):
        raise ValueError("missing ts")
    arrival_ms = parse_dump_ts(ts)
    if arrival_ms < 0:
        raise ValueError(f"ts before 1970 {ts[:40]!r}")
    host = entry.get("uniqueId")
    return RawMessage(method, payload, None, arrival_ms,
                      _checked_id(host, "host") if isinstance(host, str) else None)


def _load_dump(path: Path) -> dict[str, list[Any]]:
    """The dump's top-level object, checked for shape; raises InputFormatError naming the file."""
    try:
        top = json.loads(_read_all(path))
    except (ValueError, RecursionError) as exc:
        reason = "not JSON" if not isinstance(exc, UnicodeDecodeError) else "not UTF-8 text"
        raise InputFormatError(f"{reason} (not a webcast dump)", where=str(path)) from None
    if not isinstance(top, dict) or not all(
        isinstance(k, str) and isinstance(v, list) for k, v in top.items()
    ):
        raise InputFormatError(
            "not a webcast dump: expected an object of method name -> list of entries",
            where=str(path),
        )
    return top


def iter_dump(path: StrPath) -> Iterator[RawItem]:
    """Raw messages of a collector dump (gzip or plain), in arrival order (stable).

    Entries that cannot be read come first, as :class:`RawReject` (``file:TYPE[index]``), in file
    order. Raises :class:`InputFormatError` when the file is not a readable dump at all.
    """
    path = Path(path)
    messages: list[RawMessage] = []
    for method, entries in _load_dump(path).items():
        for index, entry in enumerate(entries):
            try:
                messages.append(_dump_entry(method, entry))
            except ValueError as exc:
                yield RawReject(f"{path}:{method}[{index}]", str(exc))
    messages.sort(key=lambda m: m.arrival_ms)
    yield from messages


# --------------------------------------------------------------------------------------------
# The raw journal (docs/JOURNAL.md)
# --------------------------------------------------------------------------------------------


def journal_line(msg: RawMessage) -> bytes:
    """One journal line (with its newline) for ``msg``; raises ValueError for a message without
    a method or with a negative arrival time.

    Built by hand on the hot path: the base64 payload needs no JSON escaping, so only the short
    strings go through :func:`json.dumps` (the same bytes as dumping the whole record).
    """
    if not msg.method:
        raise ValueError("a raw message needs a method")
    if msg.arrival_ms < 0:
        raise ValueError("arrival_ms must not be negative")
    head = f'{{"v":{JOURNAL_VERSION},"arrival_ms":{int(msg.arrival_ms)},'.encode()
    if msg.msg_id is not None:
        head += f'"msg_id":{json.dumps(msg.msg_id)},'.encode()
    return (head + _journal_fields(msg.room_id, msg.host, msg.method)
            + base64.b64encode(msg.payload) + b'"}\n')


@functools.lru_cache(maxsize=4096)
def _journal_fields(room_id: str | None, host: str | None, method: str) -> bytes:
    """The JSON of a journal line's short fields, up to the opening quote of the payload."""
    dump = functools.partial(json.dumps, ensure_ascii=False)
    return (f'"room_id":{dump(room_id)},"host":{dump(host)},"method":{dump(method)},'
            '"payload":"').encode()


def _optional_str(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} is not a string or null")
    return _checked_id(value, key)


def _checked_id(value: str | None, key: str) -> str | None:
    """A room id or host within the one limit of every input (``decode.formats``)."""
    limit = MAX_ROOM_ID if key == "room_id" else MAX_HOST
    if value is not None and len(value) > limit:
        raise ValueError(f"{key} longer than {limit} characters ({len(value):,})")
    return value


def _journal_record(line: bytes) -> RawMessage:
    """Parse one journal line; raises ValueError with the reason it cannot be read."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if type(record.get("v")) is not int or record["v"] != JOURNAL_VERSION:  # not true, 1.0
        raise ValueError(f"unsupported journal version {record.get('v')!r}")
    arrival = record.get("arrival_ms")
    if isinstance(arrival, bool) or not isinstance(arrival, int) or arrival < 0:
        raise ValueError("arrival_ms is not a non-negative integer")
    if arrival > MAX_TS:
        raise ValueError(f"arrival_ms out of range: {arrival} (at most {MAX_TS}, {MAX_TS_TEXT})")
    method = record.get("method")
    if not isinstance(method, str) or not method:
        raise ValueError("method is missing or empty")
    payload = _b64(record.get("payload"))
    msg_id = record.get("msg_id")
    if msg_id is not None and not (isinstance(msg_id, str) and _MSG_ID.fullmatch(msg_id)):
        raise ValueError("msg_id is not a message id (1 to 20 digits)")
    return RawMessage(method, payload, _optional_str(record, "room_id"), arrival,
                      _optional_str(record, "host"), msg_id)


_MSG_ID: Final = re.compile(r"-?[0-9]{1,20}", re.ASCII)


def iter_journal(path: StrPath) -> Iterator[RawItem]:
    """Raw messages of a journal, in file order (the order they were recorded).

    A bad line becomes a :class:`RawReject` (``file:line``) and reading goes on. A final line
    without its newline is what a crash mid-write leaves: it is read if it is complete and
    otherwise reported with reason ``"torn final line"``, never raised.
    """
    path = Path(path)
    with _reading(path) as f:
        lineno = 0
        for lineno, line in enumerate(f, 1):
            if not line.endswith(b"\n") and gzip_damage(f):
                break  # the line the damage cut: reported below
            if not line.strip():
                continue
            try:
                yield _journal_record(line)
            except ValueError as exc:
                torn = not line.endswith(b"\n")
                yield RawReject(f"{path}:{lineno}", "torn final line" if torn else str(exc))
        else:
            lineno += 1
        damage = gzip_damage(f)
        if damage:
            yield RawReject(f"{path}:{lineno}", f"{damage}: the rest of the file is lost")


class JournalWriter:
    """Appends raw messages to a journal file, one JSON line each.

    Lines are buffered; :meth:`flush` makes them durable (``fsync``). Opening a journal whose last
    line was torn by a crash first ends that line, so the torn fragment stays one rejected line
    and never corrupts the next record. Use as a context manager; closing flushes durably.
    """

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = self.path.open("a+b")
        try:
            self._prepare_tail()
        except BaseException:
            self._file.close()
            raise

    def _prepare_tail(self) -> None:
        """Refuse a compressed journal; end a torn last line so new lines start clean."""
        if self._file.seek(0, os.SEEK_END) == 0:
            return
        self._file.seek(0)
        if self._file.read(2) == _GZIP_MAGIC:
            raise InputFormatError("is gzip-compressed; cannot append to it", where=str(self.path))
        self._file.seek(-1, os.SEEK_END)
        if self._file.read(1) != b"\n":
            self._file.write(b"\n")

    def append(self, msg: RawMessage) -> None:
        """Write one raw message as one line (buffered until :meth:`flush`)."""
        self._file.write(journal_line(msg))

    def append_lines(self, lines: list[bytes]) -> None:
        """Write lines made by :func:`journal_line`, in one write (buffered until
        :meth:`flush`)."""
        self._file.write(b"".join(lines))

    def flush(self, durable: bool = True) -> None:
        """Hand buffered lines to the OS; with ``durable``, also wait until they are on disk."""
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())

    def size(self) -> int:
        """The file's size: after :meth:`flush`, everything written so far."""
        return os.fstat(self._file.fileno()).st_size

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Flush durably and close; closing twice is harmless."""
        if not self._file.closed:
            try:
                self.flush(durable=True)
            finally:
                self._file.close()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# WebcastResponse files
# --------------------------------------------------------------------------------------------


def iter_response_file(path: StrPath) -> Iterator[RawMessage]:
    """The messages of a file holding one serialized ``WebcastResponse`` frame (gzip or plain).

    Their arrival time is the frame's ``now`` when it has one, otherwise the file's modification
    time. Raises :class:`InputFormatError` naming the file when the frame is not valid protobuf.
    """
    path = Path(path)
    try:
        messages, now_ms = webcast.split_response(_read_all(path, MAX_FRAME))
    except DecodeError as exc:
        raise InputFormatError(exc.reason, where=str(path)) from None
    arrival_ms = now_ms if now_ms is not None else path.stat().st_mtime_ns // 1_000_000
    for method, payload, msg_id in messages:
        yield RawMessage(method, payload, None, arrival_ms, None, str(msg_id) if msg_id else None)


# --------------------------------------------------------------------------------------------
# Format detection and decoding
# --------------------------------------------------------------------------------------------

_DUMP_START: Final = re.compile(rb'\s*\{\s*"[^"\\]*"\s*:\s*\[')


def _first_lines(path: Path) -> list[bytes]:
    """The first non-blank lines of the (decompressed) content, at most :data:`_SNIFF_LINES`
    of them within the first :data:`_SNIFF_LIMIT` bytes, read one at a time (memory stays
    bounded by the longest of them whatever the input; a line cut by the limit is not a
    candidate)."""
    lines: list[bytes] = []
    budget = _SNIFF_LIMIT
    with _reading(path) as f:
        while budget > 0 and len(lines) < _SNIFF_LINES:
            line = f.readline(budget)
            if not line:
                break
            budget -= len(line)
            if not line.endswith(b"\n") and budget <= 0:
                break  # cut by the limit
            if budget + len(line) == _SNIFF_LIMIT:
                line = line.removeprefix(_BOM)
            if line.strip():
                lines.append(line)
    return lines


def _line_kind(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    if "type" in obj and ("v" in obj or "msg_id" in obj):
        return "events"
    if "v" in obj and "method" in obj and "payload" in obj:
        return "journal"
    if obj and all(isinstance(v, list) for v in obj.values()):
        return "webcast-dump"
    return None


def _sniff_lines(path: Path) -> str | None:
    """The format told by the first line that reads as one of the line formats: a torn,
    damaged or foreign first line (text, a JSON array or scalar) is skipped, not trusted."""
    for line in _first_lines(path):
        kind = _line_kind(line)
        if kind is not None:
            return kind
    return None


def _is_response(path: Path) -> bool:
    """Whether the file is one WebcastResponse frame holding messages with method names."""
    try:
        messages, _ = webcast.split_response(_read_all(path, MAX_FRAME))
    except InputFormatError:
        return False
    return bool(messages) and all(m.method.isascii() and m.method.isidentifier() for m in messages)


def sniff_format(path: StrPath) -> str:
    """Which input ``path`` holds: ``"webcast-dump"``, ``"journal"``, ``"events"`` (event format
    v1 JSONL) or ``"webcast-response"``. Raises :class:`InputFormatError` when none fits."""
    path = Path(path)
    with _reading(path) as f:
        head = f.read(_SNIFF_BYTES).removeprefix(_BOM)
    kind = _sniff_lines(path) if head.strip() else None
    if kind is not None:
        return kind
    if _DUMP_START.match(head):
        return "webcast-dump"
    if head and not head.lstrip().startswith((b"{", b"[")) and _is_response(path):
        return "webcast-response"
    raise InputFormatError(
        "unknown input format (expected a webcast dump, raw journal, events JSONL "
        "or WebcastResponse frame)",
        where=str(path),
    )


def iter_raw(path: StrPath, kind: str | None = None) -> Iterator[RawItem]:
    """Raw messages of an input in format ``kind`` (sniffed when not given); event JSONL gives
    one :data:`~liveworth.decode.eventraw.EVENT_METHOD` message per event."""
    kind = kind or sniff_format(path)
    if kind == "webcast-dump":
        return iter_dump(path)
    if kind == "journal":
        return iter_journal(path)
    if kind == "webcast-response":
        return iter_response_file(path)
    if kind == "events":
        return iter_events(path)
    raise InputFormatError(f"holds {kind}, not raw webcast messages", where=str(path))


def decode_raw(msg: RawMessage) -> list[Event]:
    """The events of one raw message (a single webcast message, a whole response frame, or an
    event of format v1).

    Raises :class:`DecodeError` when its payload cannot be decoded.
    """
    if msg.method == EVENT_METHOD:
        return decode_event(msg.payload)
    if msg.method == webcast.RESPONSE_METHOD:
        return webcast.decode_response(msg.payload, room_id=msg.room_id, arrival_ms=msg.arrival_ms)
    return webcast.decode_message(
        msg.method, msg.payload, room_id=msg.room_id, arrival_ms=msg.arrival_ms, msg_id=msg.msg_id
    )

"""Events as raw messages: event format v1 JSONL replayed through the recorder's raw path.

``liveworth record --replay sim.jsonl`` reads what ``liveworth simulate`` (or ``export``) writes and
feeds it through the same journal → decode → store path as a recorded LIVE, so that a creator can
drive the live page and the overlay with a simulated LIVE before ever going live.

Each event becomes one :class:`~liveworth.decode.rawsources.RawMessage` whose ``method`` is the
reserved name :data:`EVENT_METHOD` (no webcast method has a dot in it) and whose ``payload`` is the
event's canonical v1 JSON line (:func:`liveworth.decode.events.dumps`, UTF-8, no newline). Its
``arrival_ms`` is the event's ``ts``, its ``room_id`` the event's room and its ``host`` the room's
host: the ``host`` of the room's first ``live_start`` (a ``live_start`` gives its own), else the
first ``host`` extra of the room (what ``import`` notes), else unknown (``None``). Decoding
(:func:`decode_event`) parses the payload with the event importer's own parser
(:func:`~liveworth.decode.events.loads_line` and :func:`~liveworth.decode.events.event_from_dict`),
so every type, optional field and extra comes back exactly: importing a journal of such lines gives
the events of importing the JSONL itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from liveworth.decode.events import Event, LiveStart, dumps, event_from_dict, loads_line
from liveworth.decode.reading import _reading, gzip_damage
from liveworth.errors import DecodeError, InputFormatError

if TYPE_CHECKING:
    import io

    from liveworth.decode.rawsources import RawItem, StrPath

#: The method of a raw message that holds one event of format v1 (docs/JOURNAL.md).
EVENT_METHOD: Final = "liveworth.Event"
#: Lines longer than this are rejected unread, as ``import`` rejects them.
MAX_LINE: Final = 1 << 20
_BOM: Final = b"\xef\xbb\xbf"


def event_payload(event: Event) -> bytes:
    """The payload of ``event``'s raw message: its canonical v1 line, UTF-8."""
    return dumps(event).encode("utf-8")


def decode_event(payload: bytes) -> list[Event]:
    """The one event of an :data:`EVENT_METHOD` payload; raises :class:`DecodeError` with the
    reason when it is not a valid event of format v1."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("event payload is not UTF-8 text") from None
    try:
        return [event_from_dict(loads_line(text))]
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DecodeError(f"event payload is not JSON ({exc.__class__.__name__})") from None
    except InputFormatError as exc:
        raise DecodeError(f"event payload: {exc}") from None


def _parse_line(line: bytes, where: str) -> Event | str:
    """The event of one JSONL line, or why it is rejected (the importer's words)."""
    text = line.decode("utf-8", errors="replace")
    try:
        return event_from_dict(loads_line(text, where), where)
    except (json.JSONDecodeError, RecursionError) as exc:
        if "\ufffd" in text and not _is_json(text):
            return "not UTF-8 text"
        return f"not JSON ({exc.__class__.__name__})"
    except InputFormatError as exc:
        return str(exc).removeprefix(where + ": ")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _lines(f: io.BufferedReader) -> Iterator[tuple[bytes, int]]:
    """The lines of ``f`` (a BOM before the first dropped); a line longer than
    :data:`MAX_LINE` (its newline included, as ``import`` counts) is skipped without being held
    whole and given as ``(b"", its length)``."""
    first = True
    while True:
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if first:
            line, first = line.removeprefix(_BOM), False
        if len(line) <= MAX_LINE:
            yield line, 0
            continue
        size = len(line)
        while line and not line.endswith(b"\n"):
            line = f.readline(MAX_LINE)
            size += len(line)
        yield b"", size


def _read(path: Path) -> Iterator[Event | tuple[str, str]]:
    """The events of an event JSONL file in file order, and ``(where, reason)`` for each line
    that is not one."""
    with _reading(path) as f:
        lineno = 0
        for lineno, (line, too_long) in enumerate(_lines(f), 1):
            where = f"{path}:{lineno}"
            if too_long:
                yield where, f"line longer than {MAX_LINE} bytes ({too_long} bytes)"
                continue
            if not line.endswith(b"\n") and gzip_damage(f):
                break  # the line the damage cut: reported below
            if not line.strip():
                continue
            got = _parse_line(line, where)
            yield got if isinstance(got, Event) else (where, got)
        else:
            lineno += 1
        damage = gzip_damage(f)
        if damage:
            yield f"{path}:{lineno}", f"{damage}: the rest of the file is lost"


def room_hosts(events: list[Event]) -> dict[str, str]:
    """Each room's host: the first ``live_start``'s, else the room's first ``host`` extra."""
    hosts: dict[str, str] = {}
    extra: dict[str, str] = {}
    for ev in events:
        if isinstance(ev, LiveStart) and ev.host:
            hosts.setdefault(ev.room_id, ev.host)
        host = ev.extra.get("host")
        if isinstance(host, str) and host:
            extra.setdefault(ev.room_id, host)
    return {**extra, **hosts}


def iter_events(path: StrPath) -> Iterator[RawItem]:
    """The events of an event format v1 JSONL file (gzip or plain) as raw messages, in file
    order; a line that is no event becomes a :class:`RawReject` (``file:line`` and the reason
    ``import`` gives) and reading goes on. The whole file is read before the first message is
    given (a room's host may come after its first events)."""
    from liveworth.decode.rawsources import RawMessage, RawReject

    items = list(_read(Path(path)))
    hosts = room_hosts([i for i in items if isinstance(i, Event)])
    for item in items:
        if not isinstance(item, Event):
            yield RawReject(*item)
            continue
        host = item.host if isinstance(item, LiveStart) and item.host else hosts.get(item.room_id)
        yield RawMessage(EVENT_METHOD, event_payload(item), item.room_id, item.ts, host)

"""Event format v1: liveworth's own small, frozen, typed records of what happened in a LIVE.

Every source (raw webcast decoding, the JSONL importer, the simulator, the live recorder) produces
these records; nothing downstream sees protobuf or TikTokLive types. The public JSONL form of the
format is documented in ``docs/EVENTS.md``: one JSON object per line, with ``v`` (1), ``type``,
``room_id`` (string), ``ts`` (integer ms since the epoch) and ``msg_id`` (string, unique in the
room) on every line. Unknown extra fields are kept in :attr:`Event.extra` and written back out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import IO, Any, ClassVar, TypeAlias

from liveworth.decode.formats import MAX_HOST, MAX_ROOM_ID, MAX_TS_TEXT
from liveworth.decode.formats import MAX_INT as MAX_INT
from liveworth.decode.formats import MAX_TS as MAX_TS
from liveworth.errors import InputFormatError

FORMAT_VERSION = 1



@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event carries. ``extra`` keeps unknown fields of the input, untouched."""

    TYPE: ClassVar[str] = ""

    room_id: str
    ts: int
    msg_id: str
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def type(self) -> str:
        return self.TYPE


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveStart(Event):
    TYPE: ClassVar[str] = "live_start"
    host_id: str
    host: str
    followers: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveEnd(Event):
    TYPE: ClassVar[str] = "live_end"


@dataclass(frozen=True, slots=True, kw_only=True)
class Gift(Event):
    """One gift frame as TikTok sends it.

    ``coins`` is the coin price of one unit (TikTok's ``diamond_count``); ``gift_type`` 1 marks a
    streakable gift whose frames carry a cumulative ``repeat_count`` and end with ``repeat_end``.
    Counting these frames into credited coins is the ledger's job, not this record's.
    """

    TYPE: ClassVar[str] = "gift"
    user_id: str
    user: str
    nickname: str
    gift_id: int
    gift_name: str
    coins: int
    gift_type: int
    repeat_count: int
    repeat_end: bool
    group_id: str
    to_user_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment(Event):
    TYPE: ClassVar[str] = "comment"
    user_id: str
    user: str
    nickname: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Like(Event):
    TYPE: ClassVar[str] = "like"
    user_id: str
    count: int
    total: int | None = None
    user: str | None = None
    nickname: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Join(Event):
    TYPE: ClassVar[str] = "join"
    user_id: str
    user: str
    nickname: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Follow(Event):
    TYPE: ClassVar[str] = "follow"
    user_id: str
    user: str
    nickname: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Share(Event):
    TYPE: ClassVar[str] = "share"
    user_id: str
    user: str
    nickname: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewers(Event):
    TYPE: ClassVar[str] = "viewers"
    current: int
    total: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Battle(Event):
    """A battle update; teams and scores stay free-form in ``extra`` as TikTok sends them."""

    TYPE: ClassVar[str] = "battle"
    battle_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Event):
    """A viewer's LIVE subscription (TikTok's ``WebcastSubNotifyMessage``): ``months`` is the
    subscription's month (1 = new). ``price_usd`` (exact decimal text, e.g. ``"4.99"``) and
    ``tier`` are what the viewer paid and chose when the source knows them; TikTok's message
    carries neither, so reports price it from the rate card (``docs/RATES.md``)."""

    TYPE: ClassVar[str] = "subscribe"
    user_id: str
    user: str
    nickname: str
    months: int
    price_usd: str | None = None
    tier: str | None = None


AnyEvent: TypeAlias = (
    LiveStart | LiveEnd | Gift | Comment | Like | Join | Follow | Share | Viewers | Battle
    | Subscribe
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (LiveStart, LiveEnd, Gift, Comment, Like, Join, Follow, Share, Viewers, Battle,
                Subscribe)
}

#: A subscription price as event format v1 holds it: plain decimal text, at most 4 places.
PRICE_TEXT = re.compile(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?")

_COMMON = ("room_id", "ts", "msg_id")
_RESERVED = frozenset({"v", "type", *_COMMON, "extra"})  # no type-specific field
_KNOWN = frozenset({"v", "type", *_COMMON})  # keys of every line read into fields


def _field_specs(cls: type[Event]) -> list[tuple[str, str, bool]]:
    """(name, kind, required) of the type-specific fields of ``cls``; kind is int/str/bool."""
    out: list[tuple[str, str, bool]] = []
    for f in fields(cls):
        if f.name in _RESERVED:
            continue
        ann = str(f.type)
        kind = "int" if "int" in ann else "bool" if "bool" in ann else "str"
        required = f.default is MISSING and f.default_factory is MISSING
        out.append((f.name, kind, required))
    return out


_SPECS: dict[str, list[tuple[str, str, bool]]] = {
    t: _field_specs(c) for t, c in EVENT_TYPES.items()
}


def field_specs(event_type: str) -> list[tuple[str, str, bool]]:
    """The documented fields of one event type: ``(name, kind, required)``."""
    return list(_SPECS[event_type])


_DIGITS = re.compile(r"-?[0-9]{1,29}")


def _int(value: Any, name: str, where: str) -> int:
    number: int
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise InputFormatError(f"expected an integer, got {_short(value)}", where=where,
                               field=name)
    if not -MAX_INT <= number <= MAX_INT:
        raise InputFormatError(f"integer out of range: {number}", where=where, field=name)
    return number


def _str(value: Any, name: str, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputFormatError(f"expected a string, got {_short(value)}", where=where, field=name)


def _bool(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InputFormatError(f"expected true or false, got {_short(value)}", where=where,
                           field=name)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


_CONVERT = {"int": _int, "str": _str, "bool": _bool}


def event_from_dict(obj: Any, where: str = "") -> Event:
    """Validate one decoded JSON object of event format v1 and build its record.

    Raises :class:`InputFormatError` naming ``where`` and the offending field.
    """
    if not isinstance(obj, dict):
        raise InputFormatError("expected a JSON object", where=where)
    v = obj.get("v")
    if v is not None and (type(v) is not int or v != FORMAT_VERSION):  # not true, not 1.0
        raise InputFormatError(f"unsupported format version {_short(v)}", where=where, field="v")
    etype = obj.get("type")
    if not isinstance(etype, str) or etype not in EVENT_TYPES:
        raise InputFormatError(f"unknown event type {_short(etype)}", where=where, field="type")
    kwargs: dict[str, Any] = {}
    for name in _COMMON:
        if obj.get(name) is None:
            raise InputFormatError("missing", where=where, field=name)
    kwargs["room_id"] = _str(obj["room_id"], "room_id", where)
    kwargs["msg_id"] = _str(obj["msg_id"], "msg_id", where)
    kwargs["ts"] = _int(obj["ts"], "ts", where)
    if not 0 <= kwargs["ts"] <= MAX_TS:
        raise InputFormatError(f"must lie between 0 and {MAX_TS} ({MAX_TS_TEXT}), got "
                               f"{kwargs['ts']}", where=where, field="ts")
    if not kwargs["room_id"] or not kwargs["msg_id"]:
        raise InputFormatError("must not be empty", where=where,
                               field="room_id" if not kwargs["room_id"] else "msg_id")
    _no_longer(kwargs["room_id"], MAX_ROOM_ID, "room_id", where)
    if etype == "subscribe" and isinstance(obj.get("price_usd"), float):
        obj = {**obj, "price_usd": repr(obj["price_usd"])}  # 4.99 read as its text "4.99"
    for name, kind, required in _SPECS[etype]:
        value = obj.get(name)
        if value is None:
            if required:
                raise InputFormatError("missing", where=where, field=name)
            continue
        kwargs[name] = _CONVERT[kind](value, name, where)
    _check_ranges(etype, kwargs, where)
    known = _KNOWN | {n for n, _, _ in _SPECS[etype]}
    extra = {k: val for k, val in obj.items() if k not in known}  # an input key "extra" too
    for host in (kwargs.get("host"), extra.get("host")):
        if isinstance(host, str):
            _no_longer(host, MAX_HOST, "host", where)
    if extra:
        kwargs["extra"] = extra
    return EVENT_TYPES[etype](**kwargs)


def _check_ranges(etype: str, kwargs: Mapping[str, Any], where: str) -> None:
    """The counts, amounts and prices of one event's fields, checked to be in range."""
    if etype == "gift":
        for name in ("coins", "repeat_count"):
            if kwargs[name] < (1 if name == "repeat_count" else 0):
                raise InputFormatError(f"out of range: {kwargs[name]}", where=where, field=name)
        if kwargs["coins"] * kwargs["repeat_count"] > MAX_INT:  # what the ledger credits
            raise InputFormatError(f"coins × repeat_count is above 2^53: {kwargs['coins']} × "
                                   f"{kwargs['repeat_count']}", where=where, field="coins")
    elif etype == "subscribe":
        if kwargs["months"] < 1:
            raise InputFormatError(f"must be 1 or more: {kwargs['months']}", where=where,
                                   field="months")
        if "price_usd" in kwargs and not PRICE_TEXT.fullmatch(kwargs["price_usd"]):
            raise InputFormatError(f"expected a price in dollars such as \"4.99\", got "
                                   f"{_short(kwargs['price_usd'])}", where=where,
                                   field="price_usd")
    elif etype in ("like", "viewers"):
        for name in ("count", "current", "total"):
            if kwargs.get(name, 0) < 0:
                raise InputFormatError(f"must not be negative: {kwargs[name]}", where=where,
                                       field=name)


def _no_longer(text: str, limit: int, name: str, where: str) -> None:
    if len(text) > limit:
        raise InputFormatError(f"longer than {limit} characters ({len(text):,})", where=where,
                               field=name)


#: A UTF-16 surrogate on its own (JSON's ``"\\ud800"``): no character, and no UTF-8 for it.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: The longest integer a line may hold: every count and price is at most 2^53 (16 digits);
#: thousands of digits would only cost time (and Python refuses over 4,300).
MAX_DIGITS = 32


def _text(value: Any) -> Any:
    """``value`` with lone surrogates in its strings replaced by U+FFFD, as invalid UTF-8 is."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _whole_number(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_DIGITS:
        raise _TooLong(digits)
    return int(text)


class _TooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    pairs = [(_text(k), _text(v)) for k, v in pairs]
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return obj


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def loads_line(line: str | bytes, where: str = "") -> Any:
    """One JSONL line decoded as JSON, refusing an object that gives a key twice or an integer
    of more than :data:`MAX_DIGITS` digits; a lone surrogate in a string becomes U+FFFD.

    ``{"coins": 5, "coins": -7}`` is valid JSON whose meaning readers disagree on (DuckDB keeps the
    first value, Python's ``json`` the last), so format v1 rejects it: :class:`InputFormatError`
    naming the key. Text that is not JSON raises :class:`json.JSONDecodeError` (or
    ``RecursionError`` when nested too deep), as :func:`json.loads` does.
    """
    try:
        return json.loads(line, object_pairs_hook=_no_duplicate_keys, parse_int=_whole_number)
    except _DuplicateKey as exc:
        raise InputFormatError("key given twice", where=where, field=exc.key) from None
    except _TooLong as exc:
        raise InputFormatError(f"a number of {exc.digits:,} digits (at most {MAX_DIGITS})",
                               where=where) from None


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON object of one event in format v1 (``None`` optionals left out, extras kept)."""
    out: dict[str, Any] = {"v": FORMAT_VERSION, "type": event.TYPE}
    for f in fields(event):
        if f.name == "extra":
            continue
        value = getattr(event, f.name)
        if value is not None:
            out[f.name] = value
    for k, val in event.extra.items():
        out.setdefault(k, val)
    return out


def dumps(event: Event) -> str:
    """One line of JSONL (no trailing newline), compact and with stable key order."""
    return json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))


def write_jsonl(events: Iterable[Event], out: IO[str]) -> int:
    """Write events as JSONL; returns how many were written."""
    n = 0
    for event in events:
        out.write(dumps(event))
        out.write("\n")
        n += 1
    return n


def read_jsonl(lines: Iterable[str], source: str = "<input>") -> Iterator[Event]:
    """Parse JSONL lines strictly: the first bad line raises :class:`InputFormatError`.

    The importer has its own tolerant path that keeps going and records rejects; this reader is
    for callers that want all-or-nothing.
    """
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            obj = loads_line(line, where)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputFormatError(f"not JSON ({exc.__class__.__name__})", where=where) from None
        yield event_from_dict(obj, where)

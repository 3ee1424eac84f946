"""Decode raw TikTok webcast protobuf payloads into liveworth events.

This is the only module that knows TikTok's wire format (with :mod:`.battles`, the battle
message's fields). It turns the bytes of one webcast message (its ``method`` name and protobuf
``payload``) or of one whole ``WebcastResponse`` frame into the project's own
:mod:`liveworth.decode.events` records; nothing downstream sees protobuf types.

The schema is a small ``.proto`` built in Python at first use: just the fields listed in
``WEBCAST_FIELDS.md`` (field numbers of the public TikTok webcast schema). Every other field TikTok
sends is skipped by the protobuf runtime as unknown. Decoding is a pure function of its inputs, so
replaying a raw journal gives byte-for-byte the same events as the live run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeAlias

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError as _ProtobufDecodeError
from google.protobuf.message import Message

from liveworth.decode.battles import BATTLE_SCHEMA, battle_extra
from liveworth.decode.battles import Field as _Field
from liveworth.decode.events import (
    MAX_INT,
    MAX_TS,
    Battle,
    Comment,
    Event,
    Follow,
    Gift,
    Join,
    Like,
    LiveEnd,
    Share,
    Subscribe,
    Viewers,
)
from liveworth.decode.subscriptions import SUBSCRIPTION_SCHEMA, months_of
from liveworth.errors import DecodeError

__all__ = [
    "RESPONSE_METHOD",
    "SUPPORTED_METHODS",
    "ResponseMessage",
    "decode_message",
    "decode_response",
    "encode_response",
    "normalise_ms",
    "split_response",
]

#: The ``method`` a raw record carries when its payload is a whole ``WebcastResponse`` frame.
RESPONSE_METHOD: Final = "WebcastResponse"

#: Smallest epoch value read as milliseconds; anything below it (but above 0) is seconds.
_MS_THRESHOLD: Final = 10**11

# --------------------------------------------------------------------------------------------
# The schema: (field name, number, type, repeated). A type is a scalar name or a message name.
# --------------------------------------------------------------------------------------------


_PACKAGE: Final = "liveworth.decode.webcast"

_SCHEMA: Final[Mapping[str, Sequence[_Field]]] = {
    "Text": (_Field("key", 1, "string"),),
    "Common": (
        _Field("method", 1, "string"),
        _Field("msgId", 2, "int64"),
        _Field("roomId", 3, "int64"),
        _Field("createTime", 4, "int64"),
        _Field("displayText", 8, "Text"),
    ),
    "FollowInfo": (
        _Field("followingCount", 1, "int64"),
        _Field("followerCount", 2, "int64"),
        _Field("followStatus", 3, "int64"),
    ),
    "User": (
        _Field("id", 1, "int64"),
        _Field("nickname", 3, "string"),
        _Field("followInfo", 22, "FollowInfo"),
        _Field("displayId", 38, "string"),
        _Field("secUid", 46, "string"),
    ),
    "GiftStruct": (
        _Field("id", 5, "int64"),
        _Field("combo", 10, "bool"),
        _Field("type", 11, "int32"),
        _Field("diamondCount", 12, "int32"),
        _Field("name", 16, "string"),
    ),
    "WebcastGiftMessage": (
        _Field("common", 1, "Common"),
        _Field("giftId", 2, "int64"),
        _Field("fanTicketCount", 3, "int64"),
        _Field("groupCount", 4, "int32"),
        _Field("repeatCount", 5, "int32"),
        _Field("comboCount", 6, "int32"),
        _Field("user", 7, "User"),
        _Field("toUser", 8, "User"),
        _Field("repeatEnd", 9, "int32"),
        _Field("groupId", 11, "int64"),
        _Field("gift", 15, "GiftStruct"),
        _Field("sendType", 17, "int64"),
        _Field("orderId", 28, "string"),
    ),
    "WebcastChatMessage": (
        _Field("common", 1, "Common"),
        _Field("user", 2, "User"),
        _Field("content", 3, "string"),
        _Field("contentLanguage", 14, "string"),
    ),
    "WebcastLikeMessage": (
        _Field("common", 1, "Common"),
        _Field("count", 2, "int32"),
        _Field("total", 3, "int32"),
        _Field("user", 5, "User"),
    ),
    "WebcastMemberMessage": (
        _Field("common", 1, "Common"),
        _Field("user", 2, "User"),
        _Field("memberCount", 3, "int32"),
        _Field("action", 10, "int32"),
    ),
    "WebcastSocialMessage": (
        _Field("common", 1, "Common"),
        _Field("user", 2, "User"),
        _Field("shareType", 3, "int64"),
        _Field("action", 4, "int64"),
        _Field("shareTarget", 5, "string"),
        _Field("followCount", 6, "int64"),
        _Field("shareCount", 8, "int64"),
    ),
    # ranksList = 2 (top viewers) is left out: liveworth does not read it.
    "WebcastRoomUserSeqMessage": (
        _Field("common", 1, "Common"),
        _Field("total", 3, "int64"),
        _Field("popularity", 6, "int64"),
        _Field("totalUser", 7, "int32"),
    ),
    "WebcastControlMessage": (
        _Field("common", 1, "Common"),
        _Field("action", 2, "int32"),
    ),
    "WebcastLinkMicArmies": (_Field("common", 1, "Common"), _Field("id", 2, "int64")),
    "Message": (
        _Field("method", 1, "string"),
        _Field("payload", 2, "bytes"),
        _Field("msgId", 3, "int64"),
        _Field("msgType", 4, "int32"),
    ),
    "WebcastResponse": (
        _Field("messages", 1, "Message", repeated=True),
        _Field("cursor", 2, "string"),
        _Field("fetchInterval", 3, "int64"),
        _Field("now", 4, "int64"),
    ),
    **BATTLE_SCHEMA,  # the battle message's settings, hosts and results (decode/battles.py)
    **SUBSCRIPTION_SCHEMA,  # a viewer's LIVE subscription (decode/subscriptions.py)
}

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS: Final[Mapping[str, descriptor_pb2.FieldDescriptorProto.Type.ValueType]] = {
    "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES,
    "int64": _FDP.TYPE_INT64,
    "int32": _FDP.TYPE_INT32,
    "bool": _FDP.TYPE_BOOL,
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The schema as a ``FileDescriptorProto``.

    proto2 syntax on purpose: proto3 rejects a whole message when one string field holds invalid
    UTF-8, while proto2 hands the raw bytes over (see :func:`_text`), so one odd nickname cannot
    make a gift disappear.
    """
    fdp = descriptor_pb2.FileDescriptorProto(
        name="liveworth/webcast.proto", package=_PACKAGE, syntax="proto2"
    )
    for message_name, fields in _SCHEMA.items():
        message = fdp.message_type.add(name=message_name)
        for f in fields:
            field = message.field.add(
                name=f.name,
                number=f.number,
                label=_FDP.LABEL_REPEATED if f.repeated else _FDP.LABEL_OPTIONAL,
            )
            if f.type in _SCALARS:
                field.type = _SCALARS[f.type]
            else:
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = f".{_PACKAGE}.{f.type}"
    return fdp


#: A message of the runtime-built schema. The type checker cannot know its fields, so decoders
#: read them as ``Any`` and convert each one explicitly (``int()``, ``str()``, :func:`_text`).
_Proto: TypeAlias = Any


@functools.cache
def _message_classes() -> Mapping[str, type[Message]]:
    """Build the schema's message classes once, in a private descriptor pool, on first use."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_descriptor())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name in _SCHEMA
    }


def _parse(type_name: str, payload: bytes) -> _Proto:
    """Parse ``payload`` as the schema's message ``type_name``, or raise :class:`DecodeError`."""
    message = _message_classes()[type_name]()
    try:
        message.ParseFromString(payload)
    except _ProtobufDecodeError:
        raise DecodeError(
            f"invalid {type_name} payload: not valid protobuf ({len(payload)} bytes)"
        ) from None
    return message


# --------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A string field's value: proto2 gives ``bytes`` for invalid UTF-8, which we repair."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _count(value: int, name: str, method: str) -> int:
    """A count or price field, checked to be in the range event format v1 accepts."""
    number = int(value)
    if not 0 <= number <= MAX_INT:
        raise DecodeError(f"invalid {method} payload: {name} out of range ({number})")
    return number


def normalise_ms(value: int) -> int | None:
    """An epoch time as TikTok sends it, in milliseconds; ``None`` when absent (0 or less).

    Real dumps carry ``createTime`` in milliseconds for most message types but in seconds for
    some (``WebcastRoomMessage``): values below 10**11 (before 1973 as milliseconds) are seconds.
    A time beyond what event format v1 holds (``MAX_TS``, 9999-12-31 09:59:59.999 UTC) counts as
    absent too, so the message keeps its data and takes the caller's fallback time (its
    arrival), as a message without ``createTime`` does.
    """
    if value <= 0:
        return None
    ms = value * 1000 if value < _MS_THRESHOLD else value
    return ms if ms <= MAX_TS else None


@dataclass(frozen=True, slots=True)
class _Context:
    """What the caller knows about a message besides its bytes (the fallbacks)."""

    method: str
    room_id: str | None
    arrival_ms: int | None
    msg_id: str | None


class _Envelope(NamedTuple):
    room_id: str
    msg_id: str
    ts: int


def _envelope(message: _Proto, ctx: _Context) -> _Envelope:
    """The fields every event carries, read from ``Common`` with the caller's fallbacks."""
    common = message.common
    room = int(common.roomId)
    msg = int(common.msgId)
    room_id = str(room) if room else ctx.room_id
    msg_id = str(msg) if msg else ctx.msg_id
    ts = normalise_ms(int(common.createTime))
    if ts is None:
        ts = ctx.arrival_ms
    if not room_id or not msg_id or ts is None:
        missing = [n for n, v in (("room id", room_id), ("msg id", msg_id)) if not v]
        missing += ["time"] if ts is None else []
        raise DecodeError(f"{ctx.method} has no {' or '.join(missing)} and none was given")
    return _Envelope(room_id, msg_id, ts)


class _Who(NamedTuple):
    user_id: str
    user: str
    nickname: str


def _who(user: _Proto) -> _Who:
    """The sender of a message: numeric id, @unique id and display nickname."""
    return _Who(
        str(int(user.id)),
        _text(user.displayId),
        _text(user.nickname),
    )


# --------------------------------------------------------------------------------------------
# One decoder per message type: parsed message + context -> 0 or more events
# --------------------------------------------------------------------------------------------


def _gift(m: _Proto, ctx: _Context) -> list[Event]:
    """A gift frame. ``gift_type`` is ``GiftStruct.type``: the gift message has no type of its
    own, and in the real dumps type 1 frames are exactly the streakable (combo) gifts, whose
    frames share ``groupId`` and carry a cumulative ``repeatCount``."""
    gift = m.gift
    gift_id = int(m.giftId) or int(gift.id)
    if gift_id <= 0:
        raise DecodeError(f"invalid {ctx.method} payload: no gift id")
    env = _envelope(m, ctx)
    who = _who(m.user)
    to_user_id = None
    if m.HasField("toUser"):
        to_id = int(m.toUser.id)
        to_user_id = str(to_id) if to_id else None
    return [
        Gift(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            user_id=who.user_id,
            user=who.user,
            nickname=who.nickname,
            gift_id=gift_id,
            gift_name=_text(gift.name),
            coins=_count(gift.diamondCount, "diamondCount", ctx.method),
            gift_type=int(gift.type),
            repeat_count=max(_count(m.repeatCount, "repeatCount", ctx.method), 1),
            repeat_end=int(m.repeatEnd) == 1,
            group_id=str(int(m.groupId)),
            to_user_id=to_user_id,
        )
    ]


def _chat(m: _Proto, ctx: _Context) -> list[Event]:
    env = _envelope(m, ctx)
    who = _who(m.user)
    return [
        Comment(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            user_id=who.user_id,
            user=who.user,
            nickname=who.nickname,
            text=_text(m.content),
        )
    ]


def _like(m: _Proto, ctx: _Context) -> list[Event]:
    env = _envelope(m, ctx)
    who = _who(m.user)
    total = _count(m.total, "total", ctx.method)
    return [
        Like(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            user_id=who.user_id,
            user=who.user,
            nickname=who.nickname,
            count=_count(m.count, "count", ctx.method),
            total=total or None,
        )
    ]


#: ``WebcastMemberMessage.action`` of a viewer entering the room. Every one of the 148 member
#: messages in the real dumps has action 1 (display key ``live_room_enter_toast``); other actions
#: are other member notices and are not joins.
_MEMBER_JOINED: Final = 1


def _member(m: _Proto, ctx: _Context) -> list[Event]:
    if int(m.action) != _MEMBER_JOINED:
        return []
    env = _envelope(m, ctx)
    who = _who(m.user)
    return [
        Join(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            user_id=who.user_id,
            user=who.user,
            nickname=who.nickname,
        )
    ]


def _social(m: _Proto, ctx: _Context) -> list[Event]:
    """Follow or share, told by the display-text key (e.g. ``pm_mt_guidance_share``)."""
    key = _text(m.common.displayText.key).lower()
    kind: type[Follow] | type[Share]
    if "follow" in key:
        kind = Follow
    elif "share" in key:
        kind = Share
    else:
        return []
    env = _envelope(m, ctx)
    who = _who(m.user)
    return [
        kind(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            user_id=who.user_id,
            user=who.user,
            nickname=who.nickname,
        )
    ]


def _viewers(m: _Proto, ctx: _Context) -> list[Event]:
    env = _envelope(m, ctx)
    total = _count(m.totalUser, "totalUser", ctx.method)
    return [
        Viewers(
            room_id=env.room_id,
            msg_id=env.msg_id,
            ts=env.ts,
            current=_count(m.total, "total", ctx.method),
            total=total or None,
        )
    ]


#: ``WebcastControlMessage.action`` values that end the LIVE (1 = paused, 2 = unpaused): 3 the
#: creator ended it, 4 TikTok suspended it. TikTokLive and TikTok-Live-Connector treat both as the
#: end; a suspension's ``live_end`` says so in its extra ``reason``.
CONTROL_ENDS: Final = {3: None, 4: "suspended"}


def control_action(payload: bytes) -> int:
    """The ``action`` of a ``WebcastControlMessage`` payload (raises :class:`DecodeError`)."""
    return int(_parse("WebcastControlMessage", payload).action)


def _control(m: _Proto, ctx: _Context) -> list[Event]:
    action = int(m.action)
    if action not in CONTROL_ENDS:
        return []
    env = _envelope(m, ctx)
    reason = CONTROL_ENDS[action]
    return [LiveEnd(room_id=env.room_id, msg_id=env.msg_id, ts=env.ts,
                    extra={"reason": reason} if reason else {})]


def _battle(m: _Proto, ctx: _Context) -> list[Event]:
    """A battle update; one without a battle id cannot be told apart from others, so none."""
    battle = int(m.id)
    if not battle:
        return []
    env = _envelope(m, ctx)
    extra = battle_extra(m) if ctx.method == "WebcastLinkMicBattle" else {}
    return [Battle(room_id=env.room_id, msg_id=env.msg_id, ts=env.ts, battle_id=str(battle),
                   extra=extra)]


def _subscribe(m: _Proto, ctx: _Context) -> list[Event]:
    env, who = _envelope(m, ctx), _who(m.user)
    return [Subscribe(room_id=env.room_id, msg_id=env.msg_id, ts=env.ts, user_id=who.user_id,
                      user=who.user, nickname=who.nickname, months=months_of(m))]


_Decoder = Callable[[_Proto, _Context], list[Event]]

_DECODERS: Final[Mapping[str, _Decoder]] = {
    "WebcastGiftMessage": _gift,
    "WebcastChatMessage": _chat,
    "WebcastLikeMessage": _like,
    "WebcastMemberMessage": _member,
    "WebcastSocialMessage": _social,
    "WebcastRoomUserSeqMessage": _viewers,
    "WebcastControlMessage": _control,
    "WebcastLinkMicBattle": _battle,
    "WebcastLinkMicArmies": _battle,
    "WebcastSubNotifyMessage": _subscribe,
}

#: The webcast methods that can produce events; every other method decodes to no events.
SUPPORTED_METHODS: Final = frozenset(_DECODERS)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def decode_message(
    method: str,
    payload: bytes,
    *,
    room_id: str | None = None,
    arrival_ms: int | None = None,
    msg_id: str | None = None,
) -> list[Event]:
    """Decode one webcast message into 0 or more events.

    ``room_id`` and ``msg_id`` are used only when the payload's ``Common`` lacks them, and
    ``arrival_ms`` only when it has no ``createTime``. Methods liveworth does not read give ``[]``.
    Raises :class:`DecodeError` when the payload is not valid protobuf or lacks what the event
    needs.
    """
    decoder = _DECODERS.get(method)
    if decoder is None:
        return []
    message = _parse(method, payload)
    return decoder(message, _Context(method, room_id, arrival_ms, msg_id))


class ResponseMessage(NamedTuple):
    """One message of a ``WebcastResponse`` frame."""

    method: str
    payload: bytes
    msg_id: int


def split_response(frame: bytes) -> tuple[list[ResponseMessage], int | None]:
    """The messages of a serialized ``WebcastResponse`` and its ``now`` in ms (``None`` if absent).

    Raises :class:`DecodeError` when the frame is not valid protobuf.
    """
    response = _parse(RESPONSE_METHOD, frame)
    messages = [
        ResponseMessage(
            _text(item.method),
            bytes(item.payload),
            int(item.msgId),
        )
        for item in response.messages
    ]
    return messages, normalise_ms(int(response.now))


def decode_response(
    frame: bytes, *, room_id: str | None = None, arrival_ms: int | None = None
) -> list[Event]:
    """Decode every message of a serialized ``WebcastResponse`` frame, in frame order.

    A message's own ``msgId`` is the fallback message id; the frame's ``now`` is the fallback time
    when ``arrival_ms`` is not given. A bad message fails the whole frame with
    :class:`DecodeError` naming its index and method.
    """
    messages, now_ms = split_response(frame)
    arrival = arrival_ms if arrival_ms is not None else now_ms
    events: list[Event] = []
    for index, (method, payload, msg_id) in enumerate(messages):
        try:
            events += decode_message(
                method,
                payload,
                room_id=room_id,
                arrival_ms=arrival,
                msg_id=str(msg_id) if msg_id else None,
            )
        except DecodeError as exc:
            raise DecodeError(f"message {index} of {RESPONSE_METHOD}: {exc.reason}") from None
    return events


def encode_response(messages: Sequence[tuple[str, bytes, int]], *, now_ms: int = 0) -> bytes:
    """Serialize ``(method, payload, msg_id)`` triples as one ``WebcastResponse`` frame."""
    response: _Proto = _message_classes()[RESPONSE_METHOD]()
    for method, payload, msg_id in messages:
        response.messages.add(method=method, payload=payload, msgId=msg_id)
    if now_ms:
        response.now = now_ms
    return bytes(response.SerializeToString())

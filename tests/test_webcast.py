"""Decoding raw TikTok webcast payloads, checked against the real 2023 dumps in tests/data.

The dumps hold public user names; tests compare ids, not names.
"""

from __future__ import annotations

import base64
import csv
import gzip
import json
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveworth.decode import webcast
from liveworth.decode.events import (
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
    event_from_dict,
    event_to_dict,
)
from liveworth.decode.webcast import (
    RESPONSE_METHOD,
    SUPPORTED_METHODS,
    ResponseMessage,
    decode_message,
    decode_response,
    encode_response,
    normalise_ms,
    split_response,
)
from liveworth.errors import DecodeError, InputFormatError

DATA = Path(__file__).resolve().parent / "data"
DUMPS = DATA / "real" / "webcast_dumps"
DUMP_FILES = sorted(p.name for p in DUMPS.glob("*.json.gz"))


@cache
def _dump(name: str) -> dict[str, list[dict[str, Any]]]:
    with gzip.open(DUMPS / name, "rt", encoding="utf-8") as f:
        data: dict[str, list[dict[str, Any]]] = json.load(f)
    return data


def payloads(name: str, method: str) -> list[bytes]:
    """The raw payloads of one method in one real dump, in file order."""
    return [base64.b64decode(e["eventData"]) for e in _dump(name).get(method, [])]


def decode_all(name: str, method: str) -> list[Event]:
    return [ev for p in payloads(name, method) for ev in decode_message(method, p)]


def gifts(name: str) -> list[Gift]:
    out = decode_all(name, "WebcastGiftMessage")
    assert all(isinstance(g, Gift) for g in out)
    return [g for g in out if isinstance(g, Gift)]


# ---- a tiny protobuf writer for synthetic payloads --------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_int(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def f_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


def common(room: int = 0, msg: int = 0, create: int = 0, key: str = "") -> bytes:
    body = b""
    if msg:
        body += f_int(2, msg)
    if room:
        body += f_int(3, room)
    if create:
        body += f_int(4, create)
    if key:
        body += f_bytes(8, f_bytes(1, key.encode()))
    return f_bytes(1, body)


def user(uid: int, display: bytes = b"someone", nick: bytes = b"Some One") -> bytes:
    return f_int(1, uid) + f_bytes(3, nick) + f_bytes(38, display)


# ---- the first real gift, field by field ------------------------------------------------------


def test_first_gift_of_ab_has_its_real_values() -> None:
    (gift,) = decode_message("WebcastGiftMessage", payloads("ab.json.gz", "WebcastGiftMessage")[0])
    assert isinstance(gift, Gift)
    assert (gift.room_id, gift.msg_id, gift.ts) == (
        "7291268239881964294",
        "7291285105539058450",
        1697634623696,
    )
    assert (gift.gift_id, gift.gift_name, gift.coins, gift.gift_type) == (5655, "Rose", 1, 1)
    assert (gift.repeat_count, gift.repeat_end, gift.group_id) == (4, False, "1697634617041")
    assert gift.user_id == "7007533916341928962"
    assert gift.user and gift.nickname  # present; not republished here
    assert gift.to_user_id is None


def test_gift_prices_and_types_agree_with_the_official_catalogue() -> None:
    """``coins`` is GiftStruct.diamondCount and ``gift_type`` is GiftStruct.type: every real gift
    that is in TikTok's own gift list carries exactly that list's price and type."""
    with (DATA / "gifts" / "official_gifts_2023_2024.csv").open(encoding="utf-8") as f:
        catalogue = {int(r["gift_id"]): r for r in csv.DictReader(f)}
    checked = 0
    for name in DUMP_FILES:
        for g in gifts(name):
            if g.gift_id in catalogue:
                row = catalogue[g.gift_id]
                assert (g.coins, g.gift_type) == (int(row["diamond_count"]), int(row["type"]))
                checked += 1
    assert checked > 100


# ---- streaks ------------------------------------------------------------------------------------


def test_streak_frames_carry_a_cumulative_repeat_count() -> None:
    """One viewer's Rose streak in ab.json.gz: frames arrive out of order, but by event time their
    repeat counts climb by one, all under one group id."""
    frames = [
        g
        for g in gifts("ab.json.gz")
        if g.group_id == "1697634617495" and g.user_id == "7289623405162660910"
    ]
    assert [g.repeat_count for g in frames] != sorted(g.repeat_count for g in frames)  # arrival
    by_time = sorted(frames, key=lambda g: g.ts)
    assert [g.repeat_count for g in by_time] == list(range(13, 24))
    assert all(g.gift_type == 1 and not g.repeat_end for g in frames)
    assert len({g.msg_id for g in frames}) == len(frames)


def test_streak_ends_with_a_final_frame_under_its_own_msg_id() -> None:
    frames = sorted(
        (g for g in gifts("link.json.gz") if g.group_id == "1701792311393"), key=lambda g: g.ts
    )
    steps = [g for g in frames if not g.repeat_end]
    (final,) = [g for g in frames if g.repeat_end]
    assert [g.repeat_count for g in steps] == [1, 3, 7, 10, 11]
    assert final.repeat_count == 11
    assert final.msg_id not in {g.msg_id for g in steps}
    assert 2_000 <= final.ts - steps[-1].ts <= 4_000  # the final comes about 3 s later


def test_every_real_streak_is_monotonic_and_its_final_holds_the_maximum() -> None:
    streaks: dict[tuple[str, ...], list[Gift]] = defaultdict(list)
    for name in DUMP_FILES:
        for g in gifts(name):
            if g.gift_type == 1:
                streaks[(name, g.room_id, g.user_id, str(g.gift_id), g.group_id)].append(g)
    finals = 0
    for frames in streaks.values():
        steps = sorted((g for g in frames if not g.repeat_end), key=lambda g: g.ts)
        counts = [g.repeat_count for g in steps]
        assert counts == sorted(counts)
        for final in (g for g in frames if g.repeat_end):
            finals += 1
            assert final.repeat_count >= max(counts, default=1)
    assert len(streaks) > 50 and finals > 30


def test_non_streak_gift_has_no_group() -> None:
    """Type 4 gifts (e.g. 7934) are not streakable and come without a group id."""
    (heart,) = [g for g in gifts("link.json.gz") if g.gift_id == 7934]
    assert (heart.gift_type, heart.coins, heart.repeat_count, heart.group_id) == (4, 1, 1, "0")


# ---- every real message of the supported methods ------------------------------------------------

EXPECTED_TYPES: dict[str, set[type[Event]]] = {
    "WebcastGiftMessage": {Gift},
    "WebcastChatMessage": {Comment},
    "WebcastLikeMessage": {Like},
    "WebcastMemberMessage": {Join},
    "WebcastSocialMessage": {Follow, Share},
    "WebcastRoomUserSeqMessage": {Viewers},
    "WebcastControlMessage": {LiveEnd},
    "WebcastLinkMicBattle": {Battle},
    "WebcastLinkMicArmies": {Battle},
    "WebcastSubNotifyMessage": {Subscribe},
}


def test_supported_methods() -> None:
    assert set(EXPECTED_TYPES) == SUPPORTED_METHODS


@pytest.mark.parametrize("name", DUMP_FILES)
def test_every_real_message_decodes(name: str) -> None:
    """All messages of the supported methods decode without error and without any fallback, to
    events of the right type that survive event format v1 unchanged."""
    decoded = 0
    for method in SUPPORTED_METHODS:
        for payload in payloads(name, method):
            events = decode_message(method, payload)
            decoded += 1
            assert len(events) <= 1
            for ev in events:
                assert type(ev) in EXPECTED_TYPES[method]
                assert ev.room_id.isdigit() and ev.msg_id.isdigit()
                assert 1_690_000_000_000 < ev.ts < 1_710_000_000_000
                assert event_from_dict(event_to_dict(ev)) == ev
    assert decoded > 0


def test_the_eight_files_hold_all_supported_methods() -> None:
    assert len(DUMP_FILES) == 8
    present = {m for name in DUMP_FILES for m in _dump(name)}
    assert present >= SUPPORTED_METHODS


@pytest.mark.parametrize("name", DUMP_FILES)
def test_every_member_message_is_a_join(name: str) -> None:
    """In the real dumps every member message has action 1, a viewer entering."""
    raw = payloads(name, "WebcastMemberMessage")
    assert len(decode_all(name, "WebcastMemberMessage")) == len(raw) > 0


def test_social_messages_split_into_follows_and_shares() -> None:
    events = [ev for n in DUMP_FILES for ev in decode_all(n, "WebcastSocialMessage")]
    raw = sum(len(payloads(n, "WebcastSocialMessage")) for n in DUMP_FILES)
    assert len(events) == raw
    assert sum(isinstance(e, Follow) for e in events) == 83
    assert sum(isinstance(e, Share) for e in events) == 53


def test_only_control_action_3_ends_the_live() -> None:
    events = [ev for n in DUMP_FILES for ev in decode_all(n, "WebcastControlMessage")]
    raw = sum(len(payloads(n, "WebcastControlMessage")) for n in DUMP_FILES)
    assert raw == 33 and len(events) == 13
    assert all(isinstance(e, LiveEnd) for e in events)


def test_viewer_counts_come_from_total_and_total_user() -> None:
    first = decode_all("jw.json.gz", "WebcastRoomUserSeqMessage")[0]
    assert first == Viewers(
        room_id="7300993857827228449",
        msg_id="7300994701992643361",
        ts=1699895296876,
        current=2,
        total=1,
    )


def test_battles_carry_their_battle_id() -> None:
    for method in ("WebcastLinkMicBattle", "WebcastLinkMicArmies"):
        events = decode_all("ab.json.gz", method)
        assert len(events) == 10
        assert all(isinstance(e, Battle) and e.battle_id.isdigit() for e in events)


# ---- times, ids and fallbacks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1697634623696, 1697634623696),
        (1697634623, 1697634623000),  # seconds
        (0, None),
        (-5, None),
        (253402250399999, 253402250399999),  # 9999-12-31 09:59:59.999 UTC
        (253402250400000, None),  # beyond event format v1: absent
        (2**53, None),
        (2**60, None),
    ],
)
def test_normalise_ms(value: int, expected: int | None) -> None:
    assert normalise_ms(value) == expected


def end_message(create: int = 0, room: int = 7, msg: int = 9) -> bytes:
    return common(room=room, msg=msg, create=create) + f_int(2, 3)


def test_create_time_in_seconds_is_read_as_seconds() -> None:
    (end,) = decode_message("WebcastControlMessage", end_message(create=1697634623))
    assert end == LiveEnd(room_id="7", msg_id="9", ts=1697634623000)


def test_missing_create_time_falls_back_to_arrival() -> None:
    (end,) = decode_message("WebcastControlMessage", end_message(), arrival_ms=1_700_000_000_123)
    assert end.ts == 1_700_000_000_123


def test_create_time_beyond_format_v1_falls_back_to_arrival() -> None:
    payload = end_message(create=2**60)
    (end,) = decode_message("WebcastControlMessage", payload, arrival_ms=1_700_000_000_123)
    assert end.ts == 1_700_000_000_123
    with pytest.raises(DecodeError, match="no time"):
        decode_message("WebcastControlMessage", payload)


def test_missing_create_time_without_arrival_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="no time"):
        decode_message("WebcastControlMessage", end_message())


def test_missing_room_and_msg_id_fall_back_to_the_arguments() -> None:
    payload = end_message(create=1_700_000_000_000, room=0, msg=0)
    (end,) = decode_message("WebcastControlMessage", payload, room_id="r1", msg_id="m1")
    assert (end.room_id, end.msg_id) == ("r1", "m1")
    with pytest.raises(DecodeError, match="room id or msg id"):
        decode_message("WebcastControlMessage", payload)


def test_other_control_actions_and_unknown_methods_give_no_events() -> None:
    paused = common(room=7, msg=9, create=1_700_000_000_000) + f_int(2, 1)
    assert decode_message("WebcastControlMessage", paused) == []
    assert decode_message("WebcastSomethingNew", b"\xff\xff not protobuf") == []
    assert decode_message("WebcastRoomMessage", payloads("jw.json.gz", "RoomMessage")[0]) == []


def synthetic_gift(*extra: bytes, gift_id: int = 5655) -> bytes:
    gift_struct = f_int(5, gift_id) + f_int(11, 1) + f_int(12, 1) + f_bytes(16, b"Rose")
    return (
        common(room=7, msg=9, create=1_700_000_000_000)
        + f_int(2, gift_id)
        + f_bytes(7, user(42))
        + f_bytes(15, gift_struct)
        + b"".join(extra)
    )


def test_gift_to_a_guest_carries_to_user_id() -> None:
    (gift,) = decode_message("WebcastGiftMessage", synthetic_gift(f_bytes(8, user(77))))
    assert isinstance(gift, Gift)
    assert gift.to_user_id == "77"
    (gift,) = decode_message("WebcastGiftMessage", synthetic_gift(f_bytes(8, user(0))))
    assert isinstance(gift, Gift)
    assert gift.to_user_id is None


def test_gift_defaults_repeat_count_to_one_and_reads_the_final_flag() -> None:
    (gift,) = decode_message("WebcastGiftMessage", synthetic_gift(f_int(9, 1)))
    assert isinstance(gift, Gift)
    assert (gift.repeat_count, gift.repeat_end, gift.user_id) == (1, True, "42")


def test_gift_without_any_gift_id_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="no gift id"):
        decode_message("WebcastGiftMessage", synthetic_gift(gift_id=0))


def test_invalid_utf8_in_a_name_does_not_lose_the_gift() -> None:
    bad_nick = (
        common(room=7, msg=9, create=1_700_000_000_000)
        + f_bytes(2, user(5, nick=b"caf\xe9"))
        + f_bytes(3, b"hi")
    )
    (comment,) = decode_message("WebcastChatMessage", bad_nick)
    assert isinstance(comment, Comment)
    assert (comment.nickname, comment.text) == ("caf\ufffd", "hi")


# ---- malformed bytes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: p[:20],  # cut inside the Common header
        lambda p: b"\xff\xff\xff\xff",  # not a field at all
        lambda p: p[:1] + b"\xff\xff\xff\xff\x0f" + p[2:],  # absurd length
    ],
    ids=["truncated", "garbage", "bad-length"],
)
def test_corrupted_payload_raises_one_clear_decode_error(corrupt: Any) -> None:
    payload = corrupt(payloads("ab.json.gz", "WebcastGiftMessage")[0])
    with pytest.raises(DecodeError) as info:
        decode_message("WebcastGiftMessage", payload)
    assert isinstance(info.value, InputFormatError)
    assert "invalid WebcastGiftMessage payload" in str(info.value)
    assert "\n" not in str(info.value)


# ---- WebcastResponse frames ---------------------------------------------------------------------


def real_messages(name: str) -> list[tuple[str, bytes, int]]:
    return [
        (method, p, i + 1)
        for method in sorted(_dump(name))
        for i, p in enumerate(payloads(name, method))
    ]


def test_response_round_trip_on_real_messages() -> None:
    messages = real_messages("ab.json.gz")
    frame = encode_response(messages, now_ms=1_697_634_625_000)
    split, now = split_response(frame)
    assert [tuple(m) for m in split] == messages
    assert now == 1_697_634_625_000
    expected = [ev for method, p, _ in messages for ev in decode_message(method, p)]
    assert decode_response(frame) == expected
    assert len(expected) == 150


def test_response_message_ids_and_now_are_fallbacks() -> None:
    frame = encode_response(
        [("WebcastControlMessage", end_message(room=0, msg=0), 55)], now_ms=1_700_000_000_000
    )
    (end,) = decode_response(frame, room_id="r")
    assert end == LiveEnd(room_id="r", msg_id="55", ts=1_700_000_000_000)
    (end,) = decode_response(frame, room_id="r", arrival_ms=1_800_000_000_000)
    assert end.ts == 1_800_000_000_000


def test_bad_message_in_a_frame_names_its_index() -> None:
    good = payloads("ab.json.gz", "WebcastGiftMessage")[0]
    frame = encode_response([("WebcastGiftMessage", good, 1), ("WebcastGiftMessage", b"\xff", 2)])
    with pytest.raises(DecodeError, match="message 1 of WebcastResponse"):
        decode_response(frame)


def test_corrupted_frame_raises_decode_error() -> None:
    frame = encode_response(real_messages("jw.json.gz"))
    with pytest.raises(DecodeError, match=f"invalid {RESPONSE_METHOD} payload"):
        decode_response(frame[: len(frame) // 2])


@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=30),
            st.binary(max_size=200),
            st.integers(min_value=0, max_value=2**63 - 1),
        ),
        max_size=20,
    ),
    st.integers(min_value=0, max_value=2**62),
)
def test_encode_split_round_trip(messages: list[tuple[str, bytes, int]], now: int) -> None:
    split, now_ms = split_response(encode_response(messages, now_ms=now))
    assert split == [ResponseMessage(*m) for m in messages]
    assert now_ms == normalise_ms(now)


# ---- module hygiene -----------------------------------------------------------------------------


def test_schema_is_built_lazily_not_at_import() -> None:
    code = (
        "import liveworth.decode.webcast as w;"
        "print(w._message_classes.cache_info().currsize);"
        "w.decode_message('WebcastChatMessage', b'', room_id='r', msg_id='m', arrival_ms=1);"
        "print(w._message_classes.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "1"]


def test_public_api_is_pinned() -> None:
    assert sorted(webcast.__all__) == [
        "RESPONSE_METHOD",
        "ResponseMessage",
        "SUPPORTED_METHODS",
        "decode_message",
        "decode_response",
        "encode_response",
        "normalise_ms",
        "split_response",
    ]

"""Reading raw webcast messages: collector dumps (the real 2023 ones), the raw journal and
WebcastResponse files; sniffing which is which; decoding them into events."""

from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.decode import rawsources
from liveworth.decode.events import Gift, dumps
from liveworth.decode.formats import MAX_TS
from liveworth.decode.rawsources import (
    JournalWriter,
    RawMessage,
    RawReject,
    decode_raw,
    iter_dump,
    iter_journal,
    iter_raw,
    iter_response_file,
    parse_dump_ts,
    sniff_format,
)
from liveworth.decode.webcast import (
    RESPONSE_METHOD,
    SUPPORTED_METHODS,
    decode_message,
    encode_response,
)
from liveworth.errors import DecodeError, InputFormatError

DUMPS = Path(__file__).resolve().parent / "data" / "real" / "webcast_dumps"
DUMP_FILES = sorted(DUMPS.glob("*.json.gz"))
AB = DUMPS / "ab.json.gz"


def ab_json() -> dict[str, list[dict[str, Any]]]:
    with gzip.open(AB, "rt", encoding="utf-8") as f:
        data: dict[str, list[dict[str, Any]]] = json.load(f)
    return data


def split(items: list[RawMessage | RawReject]) -> tuple[list[RawMessage], list[RawReject]]:
    return (
        [i for i in items if isinstance(i, RawMessage)],
        [i for i in items if isinstance(i, RawReject)],
    )


def sample(n: int = 3) -> list[RawMessage]:
    """The first real raw messages of ab.json.gz that liveworth turns into events."""
    messages, _ = split(list(iter_dump(AB)))
    return [m for m in messages if m.method in SUPPORTED_METHODS][:n]


# ---- dump timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-18T15:10:23.771002900", 1697641823771),  # 9 digits, no zone: UTC
        ("2023-10-18T15:10:23", 1697641823000),
        ("2023-10-18T15:10:23.7", 1697641823700),
        ("2023-09-13T18:49:50.293Z", 1694630990293),
        ("2023-10-18T17:10:23.771+02:00", 1697641823771),
    ],
)
def test_parse_dump_ts(text: str, expected: int) -> None:
    assert parse_dump_ts(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2023-13-18T15:10:23", "2023-10-18T15:10:23.1234567890"]
)
def test_parse_dump_ts_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bad ts"):
        parse_dump_ts(text)


# ---- real dumps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DUMP_FILES, ids=lambda p: p.name)
def test_real_dump_reads_whole_in_arrival_order_and_decodes(path: Path) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        entries = sum(len(v) for v in json.load(f).values())
    messages, rejects = split(list(iter_dump(path)))
    assert rejects == []
    assert len(messages) == entries
    assert [m.arrival_ms for m in messages] == sorted(m.arrival_ms for m in messages)
    assert all(m.host and m.room_id is None for m in messages)
    n_events = sum(len(decode_raw(m)) for m in messages)
    assert n_events >= 40


def test_dump_entry_fields() -> None:
    first = ab_json()["WebcastGiftMessage"][0]
    messages, _ = split(list(iter_dump(AB)))
    (msg,) = [m for m in messages if m.payload == base64.b64decode(first["eventData"])]
    assert msg.method == "WebcastGiftMessage"
    assert msg.arrival_ms == 1697641823771  # "2023-10-18T15:10:23.771002900" read as UTC
    assert msg.host == first["uniqueId"]
    (gift,) = decode_raw(msg)
    assert isinstance(gift, Gift)
    assert (gift.gift_id, gift.msg_id) == (5655, "7291285105539058450")


def test_dump_is_detected_by_magic_bytes_not_name(tmp_path: Path) -> None:
    plain = tmp_path / "looks-compressed.json.gz"
    plain.write_bytes(gzip.decompress(AB.read_bytes()))
    packed = tmp_path / "looks-plain.json"
    packed.write_bytes(AB.read_bytes())
    assert list(iter_dump(plain)) == list(iter_dump(packed)) == list(iter_dump(AB))


def test_bad_entries_are_rejected_and_the_rest_is_read(tmp_path: Path) -> None:
    data = ab_json()
    gifts = data["WebcastGiftMessage"]
    gifts[1]["eventData"] = "not base64 at all!"
    del gifts[2]["eventData"]
    gifts[3]["ts"] = "yesterday"
    gifts[4] = "not an object"  # type: ignore[call-overload]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(data))
    messages, rejects = split(list(iter_dump(path)))
    assert rejects == [
        RawReject(f"{path}:WebcastGiftMessage[1]", "bad base64"),
        RawReject(f"{path}:WebcastGiftMessage[2]", "missing eventData"),
        RawReject(f"{path}:WebcastGiftMessage[3]", "bad ts 'yesterday'"),
        RawReject(f"{path}:WebcastGiftMessage[4]", "entry is not a JSON object"),
    ]
    assert len(messages) == sum(len(v) for v in data.values()) - 4


def test_truncated_gzip_dump_is_an_input_format_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.json.gz"
    blob = AB.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputFormatError, match="damaged gzip") as info:
        list(iter_dump(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"WebcastGiftMessage": [', "not JSON"),
        (b"[1, 2, 3]", "not a webcast dump"),
        (b'{"WebcastGiftMessage": {"eventData": "x"}}', "not a webcast dump"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_whole_file_problems_raise(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InputFormatError, match=message) as info:
        list(iter_dump(path))
    assert str(path) in str(info.value)


# ---- the raw journal ----------------------------------------------------------------------------

raw_messages = st.builds(
    RawMessage,
    method=st.text(min_size=1, max_size=40),
    payload=st.binary(max_size=300),
    room_id=st.none() | st.text(max_size=20),
    arrival_ms=st.integers(min_value=0, max_value=MAX_TS),
    host=st.none() | st.text(max_size=20),
)


@settings(max_examples=60, deadline=None)  # fsync on a shared machine
@given(st.lists(raw_messages, max_size=15))
def test_journal_round_trip(messages: list[RawMessage]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        with JournalWriter(path) as journal:
            for msg in messages:
                journal.append(msg)
        assert list(iter_journal(path)) == messages


def test_journal_appends_across_writers(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first, second, third = sample()
    with JournalWriter(path) as journal:
        journal.append(first)
    with JournalWriter(path) as journal:
        journal.append(second)
        journal.append(third)
    assert list(iter_journal(path)) == [first, second, third]
    line = json.loads(path.read_text().splitlines()[0])
    assert list(line) == ["v", "arrival_ms", "room_id", "host", "method", "payload"]
    assert line["v"] == 1


def test_torn_final_line_is_a_reject_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first, second, third = sample()
    with JournalWriter(path) as journal:
        journal.append(first)
        journal.append(second)
    with path.open("ab") as f:  # a crash in the middle of writing the third line
        f.write(b'{"v":1,"arrival_ms":17,"room_id":null,"host":null,"method":"Webcast')
    assert list(iter_journal(path)) == [first, second, RawReject(f"{path}:3", "torn final line")]

    with JournalWriter(path) as journal:  # reopening ends the torn line first
        journal.append(third)
    assert list(iter_journal(path)) == [first, second, RawReject(f"{path}:3", "not JSON"), third]


def test_complete_final_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    (msg,) = sample(1)
    with JournalWriter(path) as journal:
        journal.append(msg)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert list(iter_journal(path)) == [msg]


def test_bad_journal_lines_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    (msg,) = sample(1)
    good = {"v": 1, "arrival_ms": 5, "room_id": None, "host": None, "method": "M", "payload": ""}
    lines = [
        "not json",
        json.dumps({**good, "v": 2}),
        json.dumps({**good, "payload": "%%%"}),
        json.dumps({**good, "method": ""}),
        json.dumps({**good, "arrival_ms": -1}),
        json.dumps({**good, "room_id": 7}),
        "[1]",
        "",
        json.dumps({**good, "extra_key": "kept going"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    with JournalWriter(path) as journal:
        journal.append(msg)
    items = list(iter_journal(path))
    assert [(i.where.rsplit(":", 1)[1], i.reason) for i in items if isinstance(i, RawReject)] == [
        ("1", "not JSON"),
        ("2", "unsupported journal version 2"),
        ("3", "bad base64"),
        ("4", "method is missing or empty"),
        ("5", "arrival_ms is not a non-negative integer"),
        ("6", "room_id is not a string or null"),
        ("7", "not a JSON object"),
    ]
    assert [i for i in items if isinstance(i, RawMessage)] == [
        RawMessage("M", b"", None, 5, None),
        msg,
    ]


def test_journal_arrival_beyond_the_year_9999_is_one_reject(tmp_path: Path) -> None:
    good = {"v": 1, "arrival_ms": 5, "room_id": None, "host": None, "method": "M", "payload": ""}
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps({**good, "arrival_ms": a}) + "\n"
                            for a in (2**70, 2**53, MAX_TS + 1, MAX_TS)))
    items = list(iter_journal(path))
    assert [type(i) for i in items] == [RawReject, RawReject, RawReject, RawMessage]
    assert items[0].reason == (f"arrival_ms out of range: {2**70} (at most {MAX_TS}, "  # type: ignore
                               "9999-12-31 09:59:59.999 UTC)")


def _gz_read(data: bytes, tmp_path: Path) -> tuple[bytes, str | None]:
    path = tmp_path / "x.gz"
    path.write_bytes(data)
    with rawsources.open_binary(path) as f:
        return f.read(), rawsources.gzip_damage(f)


def test_gzip_stream_reads_members_and_padding_like_gzip(tmp_path: Path) -> None:
    a, b = os.urandom(300_000).hex().encode(), b"second member\n"
    both = gzip.compress(a) + gzip.compress(b)
    assert _gz_read(both, tmp_path) == (a + b, None)
    assert _gz_read(both + b"\0" * 100, tmp_path) == (a + b, None)
    assert _gz_read(gzip.compress(b""), tmp_path) == (b"", None)


def test_gzip_stream_keeps_what_precedes_the_damage(tmp_path: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(200_000))
    gz = gzip.compress(data)
    for cut in (len(gz) // 3, len(gz) - 5, 15):
        got, damage = _gz_read(gz[:cut], tmp_path)
        assert damage == "damaged gzip (cut short)"
        assert data.startswith(got) and len(got) >= len(zlib.decompressobj(31).decompress(
            gz[:cut])) - 256
    bad = bytearray(gz)
    bad[len(gz) // 2] ^= 0xFF
    got, damage = _gz_read(bytes(bad), tmp_path)
    assert damage is not None and damage.startswith("damaged gzip")
    assert len(got) > len(data) // 3  # what came before the bad byte is kept
    with pytest.raises(InputFormatError, match="damaged gzip"):
        rawsources._read_all(tmp_path / "x.gz")


def test_gzip_journal_cut_short_keeps_its_complete_lines(tmp_path: Path) -> None:
    msgs = [RawMessage("M", os.urandom(40), "7", 1_700_000_000_000 + i, "h") for i in range(3000)]
    plain = tmp_path / "j.jsonl"
    with JournalWriter(plain) as journal:
        for m in msgs:
            journal.append(m)
    gz = gzip.compress(plain.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gz[: len(gz) // 2])
    items = list(iter_journal(path))
    rejects = [i for i in items if isinstance(i, RawReject)]
    read = [i for i in items if isinstance(i, RawMessage)]
    assert len(rejects) == 1 and rejects[0].reason.startswith("damaged gzip (cut short)")
    assert rejects[0].where == f"{path}:{len(read) + 1}"
    assert 1000 < len(read) < 3000 and read == msgs[: len(read)]


def test_gzip_journal_is_read(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    messages = sample()
    with JournalWriter(path) as journal:
        for msg in messages:
            journal.append(msg)
    packed = tmp_path / "archived"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert list(iter_journal(packed)) == messages


def test_writer_refuses_to_append_to_a_compressed_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl.gz"
    archived = gzip.compress(b"{}\n")
    path.write_bytes(archived)
    with pytest.raises(InputFormatError, match="gzip-compressed"):
        JournalWriter(path)
    assert path.read_bytes() == archived


def test_flush_is_durable_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    journal = JournalWriter(tmp_path / "j.jsonl")
    journal.append(sample(1)[0])
    journal.flush(durable=False)
    assert synced == []
    assert (tmp_path / "j.jsonl").read_bytes().endswith(b"\n")
    journal.flush()
    assert len(synced) == 1
    journal.close()
    journal.close()
    assert journal.closed and len(synced) == 2


def test_writer_refuses_what_the_reader_would_reject(tmp_path: Path) -> None:
    with JournalWriter(tmp_path / "j.jsonl") as journal:
        with pytest.raises(ValueError):
            journal.append(RawMessage("", b"", None, 1, None))
        with pytest.raises(ValueError):
            journal.append(RawMessage("M", b"", None, -1, None))


def test_journaled_response_frame_decodes_like_its_messages(tmp_path: Path) -> None:
    messages = sample(20)
    frame = encode_response([(m.method, m.payload, i + 1) for i, m in enumerate(messages)])
    path = tmp_path / "j.jsonl"
    with JournalWriter(path) as journal:
        journal.append(RawMessage(RESPONSE_METHOD, frame, "7291268239881964294", 1, "host"))
    (record,) = list(iter_journal(path))
    assert isinstance(record, RawMessage)
    expected = [ev for m in messages for ev in decode_message(m.method, m.payload)]
    assert decode_raw(record) == expected != []


# ---- WebcastResponse files ----------------------------------------------------------------------


def test_response_file_yields_its_messages_with_now_as_arrival(tmp_path: Path) -> None:
    messages = sample(5)
    path = tmp_path / "frame.bin"
    triples = [(m.method, m.payload, i + 1) for i, m in enumerate(messages)]
    path.write_bytes(encode_response(triples, now_ms=1_697_634_625_000))
    assert list(iter_response_file(path)) == [  # each with its frame's id (issue #16, item 4)
        RawMessage(m.method, m.payload, None, 1_697_634_625_000, None, str(i + 1))
        for i, m in enumerate(messages)
    ]


def test_a_message_without_its_own_id_gets_its_frames_id_on_every_path(tmp_path: Path) -> None:
    """One rule, live or imported (issue #16, item 4): a payload whose Common has no msgId takes
    the id its frame gave it — from a saved frame file, from the live connector's RawMessage, and
    after a journal round trip — and one with neither is rejected on every path."""
    from faults.simraw import common, f_bytes, f_str, user

    from liveworth.decode.webcast import decode_response
    from liveworth.errors import DecodeError

    # a real-shaped chat whose Common has a room and a time but no msgId
    chat = (common("WebcastChatMessage", 7, 0, 1_697_634_625_000)
            + f_bytes(2, user(11, "viewer", "Viewer")) + f_str(3, "hi"))
    frame = encode_response([("WebcastChatMessage", chat, 4242)], now_ms=1_697_634_625_000)
    (from_file,) = decode_response(frame)
    live = RawMessage("WebcastChatMessage", chat, "7", 1_697_634_625_000, "h", "4242")
    (from_live,) = decode_raw(live)
    path = tmp_path / "j.journal.jsonl"
    with JournalWriter(path) as journal:
        journal.append(live)
    (again,) = list(iter_journal(path))
    assert again == live
    assert from_file.msg_id == from_live.msg_id == decode_raw(again)[0].msg_id == "4242"
    with pytest.raises(DecodeError, match="msg id"):
        decode_raw(RawMessage("WebcastChatMessage", chat, "7", 1, "h"))
    with pytest.raises(DecodeError, match="msg id"):
        decode_response(encode_response([("WebcastChatMessage", chat, 0)]))


def test_response_file_without_now_uses_the_file_time(tmp_path: Path) -> None:
    path = tmp_path / "frame.bin"
    path.write_bytes(encode_response([(m.method, m.payload, 1) for m in sample(2)]))
    os.utime(path, ns=(1_700_000_000_123_000_000, 1_700_000_000_123_000_000))
    assert {m.arrival_ms for m in iter_response_file(path)} == {1_700_000_000_123}


def test_corrupt_response_file_is_an_input_format_error(tmp_path: Path) -> None:
    path = tmp_path / "frame.bin"
    frame = encode_response([(m.method, m.payload, 1) for m in sample(2)])
    path.write_bytes(frame[:-10])
    with pytest.raises(InputFormatError, match="invalid WebcastResponse payload") as info:
        list(iter_response_file(path))
    assert str(path) in str(info.value)
    assert not isinstance(info.value, DecodeError)


# ---- sniffing -----------------------------------------------------------------------------------


def write_inputs(tmp: Path) -> dict[str, Path]:
    """One file of each kind (and some look-alikes), by expected format."""
    messages = sample(3)
    journal = tmp / "journal.jsonl"
    with JournalWriter(journal) as writer:
        for msg in messages:
            writer.append(msg)
    events = tmp / "events.jsonl"
    events.write_text("\n" + "\n".join(dumps(ev) for m in messages for ev in decode_raw(m)))
    response = tmp / "frame.bin"
    response.write_bytes(encode_response([(m.method, m.payload, 1) for m in messages]))
    plain_dump = tmp / "dump.json"
    plain_dump.write_bytes(gzip.decompress(AB.read_bytes()))
    compact_dump = tmp / "compact.json"
    compact_dump.write_text(json.dumps({"WebcastGiftMessage": []}))
    return {
        "webcast-dump": AB,
        "journal": journal,
        "events": events,
        "webcast-response": response,
        "plain dump": plain_dump,
        "compact dump": compact_dump,
    }


def test_sniff_format(tmp_path: Path) -> None:
    files = write_inputs(tmp_path)
    for kind in ("webcast-dump", "journal", "events", "webcast-response"):
        assert sniff_format(files[kind]) == kind
    assert sniff_format(files["plain dump"]) == "webcast-dump"
    assert sniff_format(files["compact dump"]) == "webcast-dump"
    gz = tmp_path / "journal.gz"
    gz.write_bytes(gzip.compress(files["journal"].read_bytes()))
    assert sniff_format(gz) == "journal"


@pytest.mark.parametrize("damage", ["torn", "garbage", "bom", "blank-lines", "gzip-torn",
                                    "json-array", "json-array-of-lines", "json-scalar"])
@pytest.mark.parametrize("kind", ["journal", "events"])
def test_sniff_format_skips_a_damaged_first_line(tmp_path: Path, kind: str, damage: str) -> None:
    """A torn first line (a big first message and a full disk), a damaged one or a UTF-8 BOM
    must not hide the format of the good lines after it (issue #14)."""
    good = write_inputs(tmp_path)[kind].read_bytes()
    first = good.splitlines(keepends=True)[0]
    content = {"torn": first[: len(first) // 2] + b"\n" + good,
               "garbage": b"{not json at all\n" + good,
               "bom": b"\xef\xbb\xbf" + good,
               "blank-lines": b"\n  \n" + good,
               "gzip-torn": first[: len(first) // 3] + b"\n" + good,
               "json-array": b"[1, 2]\n" + good,
               "json-array-of-lines": b"[" + first.rstrip() + b"]\n" + good,
               "json-scalar": b'"hello"\n' + good}[damage]
    path = tmp_path / f"damaged.{kind}"
    path.write_bytes(gzip.compress(content) if damage == "gzip-torn" else content)
    assert sniff_format(path) == kind


def test_event_lines_without_v_are_events(tmp_path: Path) -> None:
    """``v`` may be left out on import (docs/EVENTS.md): such lines still read as events."""
    lines = write_inputs(tmp_path)["events"].read_text().split("\n")
    bare = [json.dumps({k: v for k, v in json.loads(line).items() if k != "v"})
            for line in lines if line]
    path = tmp_path / "no-v.jsonl"
    path.write_text("\n".join(bare) + "\n")
    assert sniff_format(path) == "events"


def test_sniff_reads_a_bounded_prefix(tmp_path: Path) -> None:
    """A first line of many megabytes is not read whole to tell the format."""
    journal = write_inputs(tmp_path)["journal"].read_bytes()
    path = tmp_path / "huge-first-line.jsonl"
    path.write_bytes(b'{"v":1,"method":"x","payload":"' + b"A" * (32 << 20) + b'"}\n' + journal)
    with pytest.raises(InputFormatError):  # the long line is no evidence; nothing else fits
        sniff_format(path)
    assert rawsources._SNIFF_LIMIT < 32 << 20


def test_an_explicit_format_is_not_sniffed_again(tmp_path: Path) -> None:
    journal = write_inputs(tmp_path)["journal"].read_bytes().splitlines(keepends=True)
    path = tmp_path / "only-damage-first.jsonl"
    path.write_bytes(b"torn\n" * 30 + b"".join(journal))  # beyond what the sniffer tries
    with pytest.raises(InputFormatError):
        sniff_format(path)
    items = list(iter_raw(path, "journal"))
    assert sum(isinstance(i, rawsources.RawReject) for i in items) == 30
    assert sum(isinstance(i, RawMessage) for i in items) == len(journal)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world\n", b'{"name": "x"}\n', b"\x00\x01\x02", b"[1, 2]", b"\x1f\x8b\x08"],
    ids=["empty", "text", "other-json", "binary", "json-list", "cut-gzip"],
)
def test_sniff_format_rejects_unknown_inputs(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mystery"
    path.write_bytes(content)
    with pytest.raises(InputFormatError) as info:
        sniff_format(path)
    assert str(path) in str(info.value)


def test_iter_raw_reads_every_kind_events_too(tmp_path: Path) -> None:
    """Event JSONL reads as one raw message per event, which decodes to that event (issue #16,
    item 12: a simulated LIVE replays like a recorded one)."""
    files = write_inputs(tmp_path)
    assert len(list(iter_raw(files["webcast-dump"]))) == 838
    assert len(list(iter_raw(files["journal"]))) == 3
    assert len(list(iter_raw(files["webcast-response"]))) == 3
    events = [ev for m in iter_raw(files["journal"]) if isinstance(m, RawMessage)
              for ev in decode_raw(m)]
    got = list(iter_raw(files["events"]))
    assert all(isinstance(m, RawMessage) and m.method == "liveworth.Event" for m in got)
    assert [ev for m in got if isinstance(m, RawMessage) for ev in decode_raw(m)] == events
    assert [m.arrival_ms for m in got if isinstance(m, RawMessage)] == [e.ts for e in events]


def test_decode_raw_propagates_decode_errors() -> None:
    with pytest.raises(DecodeError):
        decode_raw(RawMessage("WebcastGiftMessage", b"\xff\xff", None, 1, None))


def test_public_api_is_pinned() -> None:
    assert sorted(rawsources.__all__) == [
        "GzipStream",
        "JOURNAL_VERSION",
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


def test_a_huge_input_is_never_read_whole_to_tell_its_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small gzip can hold gigabytes: neither sniffing nor the WebcastResponse reader reads
    more than MAX_FRAME of it (issue #14, item 10)."""
    monkeypatch.setattr(rawsources, "MAX_FRAME", 1 << 16)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\x08" * (32 << 20)))
    seen = [0]
    real = rawsources.GzipStream.readinto

    def counting(self: Any, b: Any) -> int:
        n: int = real(self, b)
        seen[0] += n
        return n

    monkeypatch.setattr(rawsources.GzipStream, "readinto", counting)
    with pytest.raises(InputFormatError, match="unknown input format"):
        sniff_format(path)
    with pytest.raises(InputFormatError, match="more than 65,536 bytes"):
        list(iter_raw(path, "webcast-response"))
    # the line sniffer's bound, the frame's, and the read-ahead of each read: never all 32 MiB
    assert 0 < seen[0] <= rawsources._SNIFF_LIMIT + (4 << 20)

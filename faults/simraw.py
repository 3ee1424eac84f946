"""Simulated sessions as raw webcast messages: event format v1 → protobuf payloads → a journal.

``liveworth simulate`` writes *events*; the recorder eats *raw* messages. To drive simulated
sessions through the raw path (journal → decode → store → ledger), each event is encoded as the
webcast message TikTok would have sent, with the field numbers of WEBCAST_FIELDS.md, by a tiny
protobuf writer of our own (no product code involved), and written to a raw journal
(docs/JOURNAL.md) with the event time as arrival time. ``live_start`` has no webcast message
that liveworth decodes, so it is left out (the reference run is an import of the same journal,
so both agree).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


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


def f_str(number: int, value: str) -> bytes:
    return f_bytes(number, value.encode("utf-8"))


def common(method: str, room: int, msg: int, create_ms: int, key: str = "") -> bytes:
    body = f_str(1, method) + f_int(2, msg) + f_int(3, room) + f_int(4, create_ms)
    if key:
        body += f_bytes(8, f_str(1, key))
    return f_bytes(1, body)


def user(uid: int, display: str, nick: str) -> bytes:
    return f_int(1, uid) + f_str(3, nick) + f_str(38, display)


def encode_event(ev: dict[str, Any]) -> tuple[str, bytes] | None:
    """``(method, payload)`` of the webcast message that carries ``ev``; None for live_start (and
    an event type no webcast message carries)."""
    kind = ev["type"]
    room, msg, ts = int(ev["room_id"]), int(ev["msg_id"]), int(ev["ts"])

    def who(field: int) -> bytes:
        return f_bytes(field, user(int(ev["user_id"]), ev.get("user") or "",
                                   ev.get("nickname") or ""))

    if kind == "gift":
        method = "WebcastGiftMessage"
        gift = (f_int(5, ev["gift_id"]) + f_int(11, ev["gift_type"]) + f_int(12, ev["coins"])
                + f_str(16, ev["gift_name"]))
        body = (common(method, room, msg, ts) + f_int(2, ev["gift_id"])
                + f_int(5, ev["repeat_count"]) + who(7)
                + f_int(9, 1 if ev["repeat_end"] else 0) + f_int(11, int(ev["group_id"]))
                + f_bytes(15, gift))
        if ev.get("to_user_id"):
            body += f_bytes(8, user(int(ev["to_user_id"]), "", ""))
        return method, body
    if kind == "comment":
        method = "WebcastChatMessage"
        return method, common(method, room, msg, ts) + who(2) + f_str(3, ev["text"])
    if kind == "like":
        method = "WebcastLikeMessage"
        return method, (common(method, room, msg, ts) + f_int(2, ev["count"])
                        + f_int(3, ev.get("total") or 0) + who(5))
    if kind == "join":
        method = "WebcastMemberMessage"
        return method, common(method, room, msg, ts) + who(2) + f_int(10, 1)
    if kind in ("follow", "share"):
        method = "WebcastSocialMessage"
        key = f"pm_mt_guidance_{kind}"
        return method, common(method, room, msg, ts, key) + who(2)
    if kind == "viewers":
        method = "WebcastRoomUserSeqMessage"
        return method, (common(method, room, msg, ts) + f_int(3, ev["current"])
                        + f_int(7, ev.get("total") or 0))
    if kind == "live_end":
        method = "WebcastControlMessage"
        return method, common(method, room, msg, ts) + f_int(2, 3)
    if kind == "battle":
        method = "WebcastLinkMicBattle"
        return method, common(method, room, msg, ts) + f_int(2, int(ev["battle_id"]))
    if kind == "subscribe":  # the viewer (field 2) and subMonth (field 4); TikTok sends no price
        method = "WebcastSubNotifyMessage"
        return method, common(method, room, msg, ts) + who(2) + f_int(4, int(ev["months"]))
    return None


def journal_lines(events: Iterable[dict[str, Any]], host: str) -> Iterator[str]:
    """Raw journal lines (docs/JOURNAL.md) of the events, in event-time order."""
    for ev in sorted(events, key=lambda e: (int(e["ts"]), str(e["msg_id"]))):
        encoded = encode_event(ev)
        if encoded is None:
            continue
        method, payload = encoded
        yield json.dumps({"v": 1, "arrival_ms": int(ev["ts"]), "room_id": str(ev["room_id"]),
                          "host": host, "method": method,
                          "payload": base64.b64encode(payload).decode("ascii")},
                         separators=(",", ":")) + "\n"


def events_to_journal(events_jsonl: Path, journal: Path, host: str) -> int:
    """Write the journal of a simulated session's JSONL; returns how many lines it has."""
    with events_jsonl.open(encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    n = 0
    with journal.open("w", encoding="utf-8") as out:
        for line in journal_lines(events, host):
            out.write(line)
            n += 1
    return n

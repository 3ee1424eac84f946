"""LIVE subscriptions: TikTok's ``WebcastSubNotifyMessage`` decoded into ``subscribe`` events,
stored, exported and reported apart from gift money, with the creator's share by region and date
(issue #19, item 2)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faults.simraw import common, f_bytes, f_int, user

from liveworth.decode.events import Subscribe, event_from_dict, event_to_dict, read_jsonl
from liveworth.decode.webcast import SUPPORTED_METHODS, decode_message, decode_response
from liveworth.errors import InputFormatError
from liveworth.store.database import Store

from conftest import DUMPS, Result

ROOM = "7301027923362859808"  # @asmr_kto's room in giftsCollector.json.gz (2023-11-13)
T_2025_11 = 1_762_000_000_000  # 2025-11-01 12:26:40 UTC: after the 2025-10-01 change
T_2025_09 = 1_758_000_000_000  # 2025-09-16: before it


def _real_sub() -> bytes:
    with gzip.open(DUMPS / "giftsCollector.json.gz", "rt", encoding="utf-8") as f:
        (entry,) = json.load(f)["WebcastSubNotifyMessage"]
    return base64.b64decode(entry["eventData"])


def _sub_payload(months: int | None, uid: int = 42, msg: int = 7) -> bytes:
    """A WebcastSubNotifyMessage by the fault suite's protobuf writer (subMonth = field 4)."""
    body = common("WebcastSubNotifyMessage", 555, msg, T_2025_11) + f_bytes(2, user(
        uid, "fan42", "Fan"))
    return body + (f_int(4, months) if months is not None else b"")


# ---- decoding -----------------------------------------------------------------------------


def test_the_real_subscription_message_decodes_to_a_subscribe_event() -> None:
    (ev,) = decode_message("WebcastSubNotifyMessage", _real_sub())
    assert ev == Subscribe(room_id=ROOM, msg_id="7301050224389131010", ts=1699908267948,
                           user_id="7229075882751919110", user="pepinmarie123",
                           nickname="Marie Marie", months=1)
    assert "WebcastSubNotifyMessage" in SUPPORTED_METHODS
    assert event_from_dict(event_to_dict(ev)) == ev


def test_sub_month_is_the_months_and_an_absent_one_is_the_first() -> None:
    (ev,) = decode_message("WebcastSubNotifyMessage", _sub_payload(3))
    assert isinstance(ev, Subscribe)
    assert (ev.room_id, ev.msg_id, ev.user_id, ev.user, ev.nickname, ev.months,
            ev.price_usd, ev.tier) == ("555", "7", "42", "fan42", "Fan", 3, None, None)
    (first,) = decode_message("WebcastSubNotifyMessage", _sub_payload(None))
    assert isinstance(first, Subscribe) and first.months == 1


# ---- event format v1 ----------------------------------------------------------------------

_LINE = {"v": 1, "type": "subscribe", "room_id": "1", "ts": T_2025_11, "msg_id": "a",
         "user_id": "9", "user": "u9", "nickname": "N"}


def test_price_and_tier_are_optional_and_a_number_price_reads_as_its_text() -> None:
    ev = event_from_dict({**_LINE, "months": 2, "price_usd": 9.99, "tier": "gold"})
    assert isinstance(ev, Subscribe) and (ev.price_usd, ev.tier, ev.months) == ("9.99", "gold", 2)
    assert event_to_dict(ev)["price_usd"] == "9.99"


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"months": 0}, "months", "must be 1 or more: 0"),
    ({"months": 1, "price_usd": "abc"}, "price_usd", 'expected a price in dollars such as'),
    ({"months": 1, "price_usd": "-1"}, "price_usd", 'expected a price in dollars such as'),
    ({"months": 1, "price_usd": 1e-05}, "price_usd", 'expected a price in dollars such as'),
    ({}, "months", "missing"),
])
def test_bad_subscribe_lines_name_their_field(extra: dict[str, Any], field: str,
                                              message: str) -> None:
    with pytest.raises(InputFormatError, match=message) as err:
        event_from_dict({**_LINE, **extra}, "x.jsonl:1")
    assert err.value.field == field


def _jsonl(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_import_stores_subscriptions_and_export_gives_them_back(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    """The fast DuckDB path and the Python path agree: good lines stored with their months,
    price and tier, bad ones rejected; ``export`` JSONL is the same events."""
    src = _jsonl(tmp_path / "s.jsonl", {**_LINE, "months": 1},
                 {**_LINE, "msg_id": "b", "months": 3, "price_usd": "4.99", "tier": "gold"},
                 {**_LINE, "msg_id": "c", "months": 2, "price_usd": 9.99},
                 {**_LINE, "msg_id": "d", "months": 0},
                 {**_LINE, "msg_id": "e", "months": 1, "price_usd": "4.999999"})
    db = tmp_path / "s.duckdb"
    res = cli("import", str(src), "--db", str(db), "--json")
    assert res.code == 0, res.err
    assert (res.json()["accepted"], res.json()["rejected"]) == (3, 2)
    with Store.open(db, read_only=True) as store:
        assert store.query("SELECT msg_id, months, price_usd, tier FROM events "
                           "ORDER BY msg_id") == [("a", 1, None, None), ("b", 3, "4.99", "gold"),
                                                  ("c", 2, "9.99", None)]
    out = tmp_path / "out.jsonl"
    assert cli("export", "--all", "--db", str(db), "--out", str(out)).code == 0
    again = list(read_jsonl(out.read_text(encoding="utf-8").splitlines()))
    want = list(read_jsonl(src.read_text(encoding="utf-8").splitlines()[:3]))
    assert again == want


def test_a_store_of_migration_4_gains_the_columns(tmp_path: Path) -> None:
    """An older database (migrations 1-4) is migrated: its events stay, subscribe fields come."""
    import duckdb

    from liveworth.store.schema import MIGRATIONS

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP DEFAULT current_timestamp)")
    for version, name, sql in MIGRATIONS[:4]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [version, name])
    con.execute("INSERT INTO events (room_id, msg_id, type, ts) VALUES ('1', 'x', 'live_end', 5)")
    con.close()
    with Store.open(db) as store:
        assert store.schema_version() == 5
        assert store.query("SELECT msg_id, months, price_usd, tier FROM events") == [
            ("x", None, None, None)]


def test_a_response_frame_with_a_subscription_decodes_it() -> None:
    from liveworth.decode.webcast import encode_response

    frame = encode_response([("WebcastSubNotifyMessage", _sub_payload(2), 7)])
    (ev,) = decode_response(frame)
    assert isinstance(ev, Subscribe) and ev.months == 2


def test_the_fault_suite_journals_a_subscribe_event_as_its_webcast_message() -> None:
    """faults/simraw (simulated LIVEs as raw journals) carries subscriptions too: the message
    decodes back to the event, less the price TikTok's message does not hold."""
    from faults.simraw import encode_event

    from liveworth.decode.rawsources import RawMessage, decode_raw

    ev = {"v": 1, "type": "subscribe", "room_id": "7", "msg_id": "8", "ts": 1_700_000_000_000,
          "user_id": "42", "user": "fan", "nickname": "Fan", "months": 3, "price_usd": "4.99"}
    encoded = encode_event(ev)
    assert encoded is not None
    method, payload = encoded
    (back,) = decode_raw(RawMessage(method, payload, "7", ev["ts"], None))
    assert (back.TYPE, back.user_id, back.user, back.nickname, back.months, back.price_usd) == \
        ("subscribe", "42", "fan", "Fan", 3, None)

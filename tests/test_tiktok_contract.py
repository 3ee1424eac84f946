"""The TikTokLive contract (issue #16, items 1–5): TikTokLive's real client, unchanged, against a
local WebSocket server that speaks TikTok's push protocol with real recorded payloads. Only its
HTTP look-ups (is the creator live, the room id, the sign server's first response) are faked;
the WebSocket handshake, push frames, gzip, acks and TikTokLive's response parsing are its own.

A TikTokLive release that changes the private method liveworth overrides, or the shape of what it
hands over, fails here, not for a user."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("TikTokLive", reason="the optional TikTokLive extra is not installed")

from liveworth.decode.rawsources import JournalWriter, RawMessage, iter_dump, iter_journal
from liveworth.decode.webcast import encode_response
from liveworth.ingest.connection import Quota
from liveworth.ingest.importer import import_paths
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import Disconnected, UserNotFound
from liveworth.ingest.tiktok import TikTokSource, failure
from liveworth.store.database import Store

from conftest import DUMPS

ROOM = 7309128470994258694  # link.json.gz: a real LIVE of @crecee.saraa, 215 messages


def _real(name: str = "link.json.gz") -> list[RawMessage]:
    return [m for m in iter_dump(DUMPS / name) if isinstance(m, RawMessage)]


def _control(action: int, room: int = ROOM, msg_id: int = 99) -> bytes:
    """A WebcastControlMessage payload (Common, then the action), by the fault suite's own
    protobuf writer."""
    from faults.simraw import common, f_int

    return common("WebcastControlMessage", room, msg_id, 1_701_800_000_000) + f_int(2, action)


class TikTokLike:
    """A local push server: after the WebSocket handshake it sends ``frames`` (each a list of
    ``(method, payload, msg_id)``) as gzip ``msg`` push frames, then holds the socket open
    (TikTok's behaviour after an end message) or closes it with ``close_code``."""

    def __init__(self, frames: Sequence[Sequence[tuple[str, bytes, int]]],
                 close_code: int | None = None) -> None:
        self.frames, self.close_code = frames, close_code
        self.received_types: list[str] = []
        self.open_since: float | None = None
        self.closed_by_client_at: float | None = None

    async def handler(self, ws: Any) -> None:
        from TikTokLive.proto import PushHeader, WebcastPushFrame

        async def listen() -> None:
            async for data in ws:
                self.received_types.append(WebcastPushFrame().parse(data).payload_type)

        listener = asyncio.create_task(listen())
        for n, frame in enumerate(self.frames):
            body = gzip.compress(encode_response(list(frame), now_ms=1_701_800_000_000 + n))
            push = WebcastPushFrame(payload_type="msg", payload_encoding="pb", log_id=n + 1,
                                    payload=body,
                                    headers=[PushHeader(key="compress_type", value="gzip")])
            await ws.send(bytes(push))
        self.open_since = time.monotonic()
        if self.close_code is not None:
            # TikTokLive stops reading once the socket is closed: a close right behind the
            # last frame loses that frame in TikTokLive itself, so the close comes a little later
            await asyncio.sleep(0.5)
            await ws.close(self.close_code, "going")
        try:
            await listener  # ends when the client closes
        except Exception:
            pass
        finally:
            self.closed_by_client_at = time.monotonic()


async def _serve(server: TikTokLike) -> tuple[Any, str]:
    from websockets.asyncio.server import serve

    ws_server = await serve(server.handler, "127.0.0.1", 0, subprotocols=["echo-protocol"])
    port = ws_server.sockets[0].getsockname()[1]
    return ws_server, f"ws://127.0.0.1:{port}/webcast/im/push/v2/"


def _fake_lookups(source: TikTokSource, push_url: str, *, live: bool = True,
                  not_found: bool = False) -> dict[str, int]:
    """Replace the client's HTTP look-ups (and only those) with answers a live room gives."""
    from TikTokLive.client.errors import UserNotFoundError
    from TikTokLive.proto import ProtoMessageFetchResult

    calls = {"is_live": 0, "room_id": 0, "sign": 0}
    web = source.client().web

    async def is_live(**_: Any) -> bool:
        calls["is_live"] += 1
        if not_found:
            raise UserNotFoundError(source.host, "user_not_found")
        return live

    async def room_id(_unique_id: str) -> str:
        calls["room_id"] += 1
        return str(ROOM)

    async def signed(*_: Any, **__: Any) -> Any:
        calls["sign"] += 1
        return ProtoMessageFetchResult(cursor="c1", push_server=push_url,
                                       route_params={"internal_ext": "x"}, is_first=True)

    web.fetch_is_live = is_live
    web.fetch_room_id_from_html = room_id
    web.fetch_signed_websocket = signed
    return calls


def _frames(messages: Sequence[RawMessage], per: int = 20,
            end: int | None = 3) -> list[list[tuple[str, bytes, int]]]:
    items = [(m.method, m.payload, 1000 + i) for i, m in enumerate(messages)]
    frames = [items[i:i + per] for i in range(0, len(items), per)]
    if end is not None:
        frames.append([("WebcastControlMessage", _control(end), 5000)])
    return frames


def _record_through_tiktoklive(server: TikTokLike, db: Path, journal: Path) -> Any:
    """``record()`` of one creator whose TikTokSource talks to ``server``."""
    async def go() -> Any:
        ws_server, url = await _serve(server)
        source = TikTokSource("crecee.saraa")
        _fake_lookups(source, url)
        try:
            return await asyncio.wait_for(record([source], str(db), journal,
                                                 quota=Quota(10, 60, 100)), 60)
        finally:
            ws_server.close()

    return asyncio.run(go())


def _coins(db: Path) -> dict[str, int]:
    with Store.open(str(db), read_only=True) as store:
        return {r[0]: int(r[1]) for r in store.query(
            "SELECT room_id, sum(coins) FROM credits GROUP BY room_id")}


async def _connect_all(source: TikTokSource) -> list[RawMessage]:
    return [m async for m in source.connect()]


def test_tiktoklives_real_client_hands_over_the_same_payload_bytes_and_stops_at_the_end() -> None:
    """Every payload byte sent reaches liveworth in order with the frame's message id, and the
    end message stops the connection within 2 s although the server keeps the socket open."""
    messages = _real()
    server = TikTokLike(_frames(messages))

    async def go() -> tuple[list[RawMessage], float, dict[str, int]]:
        ws_server, url = await _serve(server)
        source = TikTokSource("crecee.saraa")
        calls = _fake_lookups(source, url)
        assert await source.check_live() is True
        got = await asyncio.wait_for(_connect_all(source), 30)
        ended = time.monotonic()
        for _ in range(40):
            if server.closed_by_client_at is not None:
                break
            await asyncio.sleep(0.05)
        await source.close()
        ws_server.close()
        assert server.closed_by_client_at is not None, "the client never closed the socket"
        return got, server.closed_by_client_at - ended, calls

    got, lag, calls = asyncio.run(go())
    sent = [m.payload for m in messages] + [_control(3)]
    assert [m.payload for m in got] == sent
    assert [m.method for m in got][:-1] == [m.method for m in messages]
    assert all(m.room_id == str(ROOM) and m.host == "crecee.saraa" for m in got)
    assert [m.msg_id for m in got] == [str(1000 + i) for i in range(len(messages))] + ["5000"]
    assert lag < 2.0
    assert calls == {"is_live": 1, "room_id": 1, "sign": 1}
    assert "im_enter_room" in server.received_types  # TikTokLive's own handshake ran


def test_the_recorder_through_tiktoklive_counts_what_an_import_counts(tmp_path: Path) -> None:
    """End to end: record() on TikTokLive's client against the local server journals every
    message once and stores the same coins as decoding the sent messages directly; the LIVE's
    end ends a single creator's recording with the reason."""
    messages = _real()
    result = _record_through_tiktoklive(TikTokLike(_frames(messages)), tmp_path / "r.duckdb",
                                        tmp_path / "journal")
    st = result.states["crecee.saraa"]
    assert (st.status, st.reason) == ("ended", "the LIVE ended")
    journal = [m for m in iter_journal(next((tmp_path / "journal").glob("*.journal.jsonl")))
               if isinstance(m, RawMessage)]
    assert [m.payload for m in journal] == [m.payload for m in messages] + [_control(3)]
    # the reference: the sent messages imported as a journal, nothing of the live path involved
    sent = tmp_path / "sent.journal.jsonl"
    with JournalWriter(sent) as w:
        for m in messages:
            w.append(RawMessage(m.method, m.payload, str(ROOM), m.arrival_ms, "crecee.saraa"))
    with Store.open(str(tmp_path / "clean.duckdb")) as store:
        import_paths(store, [sent], "journal")
    want = _coins(tmp_path / "clean.duckdb")
    assert want[str(ROOM)] > 0 and _coins(tmp_path / "r.duckdb") == want


def test_a_suspension_is_the_end_and_its_reason_is_kept(tmp_path: Path) -> None:
    """Action 4 (TikTok suspended the stream) ends the connection like an end message, records
    a live_end whose reason is 'suspended', and flags the session report."""
    from liveworth.analysis.report import session_report
    from liveworth.economy.ratecard import load_rate_card

    result = _record_through_tiktoklive(TikTokLike(_frames(_real()[:60], end=4)),
                                        tmp_path / "s.duckdb", tmp_path / "journal")
    assert result.states["crecee.saraa"].reason == "TikTok suspended the LIVE"
    with Store.open(str(tmp_path / "s.duckdb"), read_only=True) as store:
        ends = store.query("SELECT extra FROM events WHERE type = 'live_end'")
        rep = session_report(store, str(ROOM), load_rate_card())
    assert ends == [('{"reason": "suspended"}',)]
    assert "suspended" in [f["flag"] for f in rep.flags]


def test_a_socket_closed_without_an_end_is_a_disconnect_with_its_code() -> None:
    server = TikTokLike(_frames(_real()[:30], end=None), close_code=1011)

    async def go() -> tuple[list[RawMessage], BaseException | None]:
        ws_server, url = await _serve(server)
        source = TikTokSource("crecee.saraa")
        _fake_lookups(source, url)
        got: list[RawMessage] = []
        error: BaseException | None = None
        try:
            async for m in source.connect():
                got.append(m)
        except Disconnected as exc:
            error = exc
        await source.close()
        ws_server.close()
        return got, error

    got, error = asyncio.run(go())
    assert len(got) == 30
    assert error is not None and str(error).startswith("TikTok closed the connection")


def test_a_user_that_does_not_exist_is_said_once_not_retried() -> None:
    async def go() -> tuple[BaseException | None, dict[str, int]]:
        source = TikTokSource("no_such_creator_x")
        calls = _fake_lookups(source, "ws://127.0.0.1:9/", not_found=True)
        try:
            await source.check_live()
        except UserNotFound as exc:
            return exc, calls
        finally:
            await source.close()
        return None, calls

    error, calls = asyncio.run(go())
    assert error is not None and "@no_such_creator_x" in str(error)
    assert calls["sign"] == 0


def test_failures_keep_their_real_reason() -> None:
    """Each failure TikTokLive, httpx or websockets raises becomes one line with its real
    reason; a rate limit carries its reset time and how long to wait."""
    import httpx
    from TikTokLive.client.errors import (
        SignAPIError,
        SignatureRateLimitError,
        UserOfflineError,
        WebcastBlockedError,
    )
    from websockets.exceptions import ConnectionClosedError
    from websockets.frames import Close

    from liveworth.ingest.sources import NotLive

    reset = int(time.time()) + 600
    limited = httpx.Response(429, headers={"RateLimit-Reset": str(reset),
                                           "RateLimit-Remaining": "600"},
                             request=httpx.Request("GET", "https://sign.example/"))
    rate = failure(SignatureRateLimitError("slow down", "try again in %s seconds",
                                           response=limited), "x")
    assert isinstance(rate, Disconnected)
    assert str(rate).startswith("sign server rate limited: next request at ")
    assert time.strftime("%H:%M", time.gmtime(reset)) in str(rate)
    assert rate.retry_after_s is not None and 590 < rate.retry_after_s <= 600
    cases = {
        "no network: [Errno -3] Temporary failure in name resolution":
            httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
        "no network: cannot reach the sign server":
            SignAPIError(SignAPIError.ErrorReason.CONNECT_ERROR, "failed"),
    }
    for want, exc in cases.items():
        assert str(failure(exc, "x")) == want
    blocked = failure(WebcastBlockedError("WebSocket rejected by TikTok due to \"400\""), "x")
    assert str(blocked).startswith("TikTok refused: WebSocket rejected")
    closed = failure(ConnectionClosedError(Close(1006, ""), None), "x")
    assert str(closed) == "TikTok closed the connection (code 1006)"
    assert isinstance(failure(UserOfflineError(), "x"), NotLive)
    assert "\n" not in str(failure(RuntimeError("a\nb\n\tc"), "x"))

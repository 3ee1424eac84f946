"""The live TikTok connection — the ONLY module that imports TikTokLive.

TikTokLive (https://github.com/isaackogan/TikTokLive) is licensed under a modified AGPL-3.0, so it
is an optional extra (``pip install 'liveworth[tiktok]'``) and liveworth's core never imports it.
It is used as a transport only: it signs the connection (Euler Stream sign server; the key comes
from the ``SIGN_API_KEY`` environment variable, which TikTokLive reads itself), opens the
WebSocket and hands over each ``WebcastResponse``. liveworth takes the raw message bytes from it
— method, protobuf payload, arrival time — and decodes and counts them itself; TikTokLive's own
event objects are never built.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from liveworth.decode.rawsources import RawMessage
from liveworth.errors import UsageError
from liveworth.ingest.sources import Disconnected, NotLive

INSTALL_HINT = ("live recording needs the TikTokLive connector (AGPL-licensed): "
                "pip install 'liveworth[tiktok]'")


def available() -> bool:
    try:
        import TikTokLive  # noqa: F401
    except ImportError:
        return False
    return True


def raw_messages(response: Any, room_id: str | None, host: str,
                 arrival_ms: int) -> list[RawMessage]:
    """The raw messages of one TikTokLive ``ProtoMessageFetchResult`` (a WebcastResponse)."""
    out = []
    for m in response.messages:
        if m is None or not m.method:
            continue
        out.append(RawMessage(method=str(m.method), payload=bytes(m.payload),
                              room_id=room_id, arrival_ms=arrival_ms, host=host))
    return out


def _client_class() -> type[Any]:
    try:
        from TikTokLive import TikTokLiveClient
    except ImportError:
        raise UsageError(INSTALL_HINT) from None

    class RawClient(TikTokLiveClient):  # type: ignore[misc]
        """TikTokLive's client, handing raw responses to a queue instead of parsing them."""

        sink: asyncio.Queue[RawMessage]
        host: str

        async def _parse_webcast_response(self, webcast_response: Any) -> AsyncIterator[Any]:
            now = int(time.time() * 1000)
            room = str(self._room_id) if self._room_id else None
            for msg in raw_messages(webcast_response, room, self.host, now):
                self.sink.put_nowait(msg)
            return
            yield  # an async generator that yields nothing

    return RawClient


class TikTokSource:
    """One creator on TikTok LIVE, through TikTokLive's signed WebSocket."""

    signed = True

    def __init__(self, host: str) -> None:
        self.host = host.lstrip("@")
        self._cls = _client_class()

    async def connect(self) -> AsyncIterator[RawMessage]:
        from TikTokLive.client.errors import UserOfflineError

        client = self._cls(unique_id=self.host)
        client.sink = asyncio.Queue()
        client.host = self.host
        try:
            task = await client.start(fetch_room_info=False)
        except UserOfflineError:
            raise NotLive(self.host) from None
        except Exception as exc:
            raise Disconnected(f"connect failed: {exc.__class__.__name__}") from None
        ended = False
        try:
            while True:
                getter = asyncio.ensure_future(client.sink.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    msg = getter.result()
                    if msg.method == "WebcastControlMessage":
                        ended = ended or _is_end(msg.payload)
                    yield msg
                    continue
                getter.cancel()
                while not client.sink.empty():
                    yield client.sink.get_nowait()
                break
        finally:
            with contextlib.suppress(Exception):
                await client.disconnect()
        if not ended:
            raise Disconnected("connection closed")


def _is_end(payload: bytes) -> bool:
    from liveworth.decode.events import LiveEnd
    from liveworth.decode.webcast import decode_message

    try:
        return any(isinstance(e, LiveEnd) for e in decode_message("WebcastControlMessage",
                                                                   payload, arrival_ms=0))
    except Exception:
        return False

"""The live TikTok connection — the ONLY module that imports TikTokLive.

TikTokLive (https://github.com/isaackogan/TikTokLive) is licensed under a modified AGPL-3.0, so it
is an optional extra (``pip install 'liveworth[tiktok]'``) and liveworth's core never imports it.
It is used as a transport only: it asks TikTok whether the creator is live, signs the connection
(Euler Stream sign server; the key comes from the ``SIGN_API_KEY`` environment variable, which
TikTokLive reads itself), opens the WebSocket and hands over each ``WebcastResponse``. liveworth
takes the raw message bytes from it — method, protobuf payload, the frame's message id, arrival
time — and decodes and counts them itself; TikTokLive's own event objects are never built.

What this module owns (issue #16):

- :meth:`TikTokSource.check_live` — TikTok's own look-up (``TikTokLiveClient.is_live``), which
  costs no sign-server request; only a live creator is connected to.
- The LIVE's end: an end or suspension control message (action 3 or 4) ends the connection at
  once — TikTok may leave the socket open for minutes — and :attr:`TikTokSource.end_reason`
  says which.
- :func:`failure`: every TikTokLive, httpx and websockets error as the recorder's
  ``NotLive`` / ``UserNotFound`` / ``Disconnected`` with its real reason in one line (no network,
  TikTok refused, sign server refused or rate limited with its reset time).

Tested TikTokLive range: ``>=6.4,<8`` (pyproject). liveworth overrides one private method,
``TikTokLiveClient._parse_webcast_response``; tests/test_tiktok_contract.py drives TikTokLive's
real client against a local WebSocket server, so a release that changes it fails a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

from liveworth.decode.rawsources import RawMessage
from liveworth.errors import UsageError
from liveworth.ingest.sources import Disconnected, NotLive, UserNotFound

INSTALL_HINT = ("live recording needs the TikTokLive connector (AGPL-licensed): "
                "pip install 'liveworth[tiktok]'")

#: ``WebcastControlMessage`` actions that end the LIVE, and how the recorder says so.
END_ACTIONS = {3: "the LIVE ended", 4: "TikTok suspended the LIVE"}


def available() -> bool:
    try:
        import TikTokLive  # noqa: F401
    except ImportError:
        return False
    return True


def raw_messages(response: Any, room_id: str | None, host: str,
                 arrival_ms: int) -> list[RawMessage]:
    """The raw messages of one TikTokLive ``ProtoMessageFetchResult`` (a WebcastResponse), each
    with the id its frame gave it (the fallback id, as for an imported frame file)."""
    out = []
    for m in response.messages:
        if m is None or not m.method:
            continue
        frame_id = int(getattr(m, "msg_id", 0) or 0)
        out.append(RawMessage(method=str(m.method), payload=bytes(m.payload),
                              room_id=room_id, arrival_ms=arrival_ms, host=host,
                              msg_id=str(frame_id) if frame_id else None))
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

    def __init__(self, host: str, client_kwargs: dict[str, Any] | None = None) -> None:
        self.host = host.lstrip("@")
        self._cls = _client_class()
        self._kwargs = client_kwargs or {}
        self._client: Any = None
        #: How the last connection ended ("the LIVE ended", "TikTok suspended the LIVE").
        self.end_reason = ""

    def client(self) -> Any:
        """The TikTokLive client, one for the source's life (its HTTP session and cookies are
        kept between live checks and connections)."""
        if self._client is None:
            self._client = self._cls(unique_id=self.host, **self._kwargs)
            self._client.host = self.host
        return self._client

    async def check_live(self) -> bool:
        """Whether the creator is live now: TikTok's look-up, no sign-server request."""
        try:
            return bool(await self.client().is_live())
        except Exception as exc:
            found = failure(exc, self.host)
            if isinstance(found, NotLive):
                return False
            raise found from None

    async def connect(self) -> AsyncIterator[RawMessage]:
        client = self.client()
        client.sink = asyncio.Queue()
        self.end_reason = ""
        try:
            task = await client.start(fetch_room_info=False, fetch_live_check=False)
        except Exception as exc:
            raise failure(exc, self.host) from None
        try:
            async for msg in _messages(client, task, self):
                yield msg
        finally:
            with contextlib.suppress(Exception):
                await client.disconnect()
        if not self.end_reason:
            raise _closed(task)

    async def close(self) -> None:
        """Close the client's HTTP session (after the last connection). Not
        ``TikTokLiveClient.close``: in 7.0 it runs a loop of its own inside the running one."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.web.close()


async def _messages(client: Any, task: asyncio.Task[Any],
                    source: TikTokSource) -> AsyncIterator[RawMessage]:
    """The connection's messages until the socket closes or the LIVE ends: after an end or
    suspension message, the messages already received with it, then no more."""
    while True:
        getter = asyncio.ensure_future(client.sink.get())
        done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            break
        msg = getter.result()
        yield msg
        if msg.method == "WebcastControlMessage":
            ended = end_action(msg.payload)
            if ended is not None:
                source.end_reason = END_ACTIONS[ended]
                break
    while not client.sink.empty():
        yield client.sink.get_nowait()


def end_action(payload: bytes) -> int | None:
    """The control message's action when it ends the LIVE (3 or 4), else None."""
    from liveworth.decode.webcast import control_action

    try:
        action = control_action(payload)
    except Exception:
        return None
    return action if action in END_ACTIONS else None


def _closed(task: asyncio.Task[Any]) -> Disconnected:
    """Why the socket closed without an end message."""
    if task.done() and not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        assert exc is not None
        found = failure(exc, "")
        return found if isinstance(found, Disconnected) else Disconnected(str(found))
    return Disconnected("TikTok closed the connection")


# ---------------------------------------------------------------------------- failures


def failure(exc: BaseException, host: str) -> Exception:
    """``exc`` (TikTokLive's, httpx's, websockets' or the OS's) as what the recorder acts on:
    :class:`NotLive`, :class:`UserNotFound`, or :class:`Disconnected` with the real reason in
    one line (and ``retry_after_s`` when the sign server says when to come back).

    Classes are told by name along the MRO, so a TikTokLive release that moves or drops one
    degrades to its class name instead of failing here."""
    names = [c.__name__ for c in type(exc).__mro__]
    detail = _one_line(exc)
    if "UserOfflineError" in names:
        return NotLive(host)
    if "UserNotFoundError" in names:
        return UserNotFound(f"no TikTok user @{host} who can go LIVE (TikTok: user not found)")
    if "SignatureRateLimitError" in names:
        return _rate_limited(exc)
    if "SignAPIError" in names:
        return Disconnected(_sign_refused(exc, detail))
    if "AgeRestrictedError" in names:
        return Disconnected("TikTok refused: the LIVE is age-restricted (needs a logged-in "
                            "session)")
    for name in ("WebcastBlockedError", "InitialCursorMissingError", "WebsocketURLMissingError",
                 "FailedParseRoomIdError", "MissingRoomIdInResponse"):
        if name in names:
            return Disconnected(f"TikTok refused: {detail}")
    return _transport(exc, names, detail)


def _transport(exc: BaseException, names: list[str], detail: str) -> Disconnected:
    """httpx, websockets and OS errors."""
    if "HTTPStatusError" in names:
        code = getattr(getattr(exc, "response", None), "status_code", "?")
        return Disconnected(f"TikTok refused: HTTP {code}")
    if "InvalidStatusCode" in names or "InvalidStatus" in names:
        code = getattr(exc, "status_code", None) or getattr(
            getattr(exc, "response", None), "status_code", "?")
        return Disconnected(f"TikTok refused the WebSocket: HTTP {code}")
    if "ConnectionClosed" in names:
        code = getattr(getattr(exc, "rcvd", None), "code", None)
        return Disconnected("TikTok closed the connection" + (f" (code {code})" if code else ""))
    if any(n in names for n in ("TimeoutException", "TimeoutError")):
        return Disconnected(f"no network: timed out ({detail})")
    if any(n in names for n in ("NetworkError", "ConnectError", "OSError", "TransportError")):
        return Disconnected(f"no network: {detail}")
    if any(n in names for n in ("JSONDecodeError", "KeyError", "DecodeError")):
        return Disconnected(f"TikTok answered something unexpected ({type(exc).__name__})")
    return Disconnected(f"{type(exc).__name__}: {detail}")


def _rate_limited(exc: BaseException) -> Disconnected:
    reset: int | None = None
    with contextlib.suppress(Exception):
        reset = int(exc.reset_time)  # type: ignore[attr-defined]
    if reset is None:
        with contextlib.suppress(Exception):
            reset = int(time.time()) + int(exc.retry_after)  # type: ignore[attr-defined]
    if reset is None:
        return Disconnected("sign server rate limited: no reset time given", 60.0)
    at = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Disconnected(f"sign server rate limited: next request at {at}",
                        max(1.0, reset - time.time()))


def _sign_refused(exc: BaseException, detail: str) -> str:
    reason = getattr(getattr(exc, "reason", None), "name", "")
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if reason == "CONNECT_ERROR":
        return "no network: cannot reach the sign server"
    if reason == "SIGN_NOT_200":
        return f"sign server refused: HTTP {status or '?'}"
    if reason == "EMPTY_PAYLOAD":
        return "sign server refused: empty answer (TikTok may be detecting the connection)"
    if reason == "PREMIUM_ENDPOINT":
        return "sign server refused: the endpoint needs a paid SIGN_API_KEY"
    if reason == "EMPTY_COOKIES":
        return "sign server refused: no cookies in its answer"
    return f"sign server refused: {reason.lower().replace('_', ' ') or detail}"


def _one_line(exc: BaseException) -> str:
    """The error's text in one short line, without TikTokLive's version prefix."""
    text = " ".join(str(exc).split())
    if "->" in text and text.startswith("TikTokLive v"):
        text = text.split("->", 1)[1].strip()
    text = text or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"

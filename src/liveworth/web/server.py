"""How the app is served: the one place for uvicorn's settings, shared by ``liveworth serve`` and
``liveworth record --serve`` (docs/WEB.md, "Limits").

- **The socket** is bound here, before anything is printed or recorded (:func:`listen`), and
  handed to uvicorn: a busy port is one line naming it, never uvicorn's raw error.
- **The HTTP parser** is h11 with a bounded request head (:data:`MAX_HEAD_BYTES`; beyond it the
  answer is 400 and the connection closes), never httptools, whose parser has no such bound.
- **Slow heads.** A request head must arrive whole within :data:`HEAD_TIMEOUT_S` of the first
  byte of the request (of the connection, for the first request): bytes trickling in do not extend
  it. Then 408 and the connection closes. Between requests, keep-alive connections wait
  :data:`KEEP_ALIVE_S`.
- **Connections.** At most :data:`MAX_CONNECTIONS` (fewer when the process may open fewer files):
  a new connection beyond that closes the oldest one that is waiting for a request head (idle
  keep-alive or slow), never one whose answer is in progress. Thousands of half-open connections
  therefore cost a bounded amount of memory and cannot keep a real request out.
- **Logs.** The access log never shows a query string (``?token=…``).
"""

from __future__ import annotations

import asyncio
import copy
import errno
import logging
import socket
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from liveworth.errors import UsageError

#: Seconds a request head may take, from its first byte (or from the connection, for the first).
HEAD_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_S = 5
#: Open connections at most (see :func:`connection_cap`).
MAX_CONNECTIONS = 1000
#: Bytes a request line and its headers may take (h11's buffer; 400 beyond).
MAX_HEAD_BYTES = 32 * 1024
#: Connections the kernel may queue before they are accepted.
BACKLOG = 2048
#: Seconds a stop waits for the answers in progress (live streams end at once).
GRACE_S = 5


@dataclass(frozen=True)
class Limits:
    head_timeout_s: float = HEAD_TIMEOUT_S
    keep_alive_s: int = KEEP_ALIVE_S
    max_connections: int = MAX_CONNECTIONS
    max_head_bytes: int = MAX_HEAD_BYTES
    grace_s: int = GRACE_S


def connection_cap(wanted: int) -> int:
    """``wanted``, or half the files this process may open when that is fewer (a server out of
    file descriptors accepts nothing at all)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft // 2))


# ---------------------------------------------------------------------------- the socket


def listen(host: str, port: int, *, option: str = "--port") -> list[socket.socket]:
    """Sockets listening on every address of ``host`` at ``port`` (as uvicorn would bind them),
    or a :class:`UsageError` that names the port (``option``: how to choose another)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror or exc}") from None
    addresses = list(dict.fromkeys((i[0], i[1], i[2], i[4]) for i in infos))
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, address in addresses:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL and len(addresses) > 1:
                    sockets.pop().close()  # that family is off on this machine: skip it
                    continue
                raise
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, "no usable address")
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise UsageError(_why(host, port, exc, option)) from None
    return sockets


def _why(host: str, port: int, exc: OSError, option: str) -> str:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use ({reason}): another program listens there; "
                f"stop it or pick another port with {option}")
    if exc.errno == errno.EACCES and port < 1024:
        return f"cannot listen on port {port} of {host} ({reason}: ports below 1024 are " \
               f"privileged); pick another with {option}"
    return f"cannot listen on port {port} of {host} ({reason})"


# ---------------------------------------------------------------------------- the protocol


class _Slots:
    """One server's connections: how many are open, and those waiting for a request head
    (oldest first: the first to go when a new one needs room)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.waiting: dict[GuardedH11, None] = {}


_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"connection: close\r\ncontent-length: 30\r\n\r\nthe request head took too long")


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for request heads and a cap on connections."""

    slots: ClassVar[_Slots]
    head_timeout_s: ClassVar[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False
        self._counted = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        slots = self.slots
        slots.open += 1
        self._counted = True
        self._arm_head_timer()
        slots.waiting[self] = None
        while slots.open > slots.limit and slots.waiting:
            next(iter(slots.waiting))._drop()  # this one itself when no other waits

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:  # the head is not complete yet
            self._head_begun = True
            if self._head_timer is None:  # a request after an idle keep-alive wait
                self._arm_head_timer()
        else:
            self._head_done()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._counted and not self.transport.is_closing() and \
                self.conn.their_state is h11.IDLE:
            self._head_begun = False
            self.slots.waiting[self] = None  # idle: uvicorn's keep-alive timer runs

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _head_done(self) -> None:
        self.slots.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._head_begun:
            self.transport.write(_TIMEOUT)
        self._drop()

    def _drop(self) -> None:
        self._release()
        self.transport.close()

    def _release(self) -> None:
        self._head_done()
        if self._counted:
            self._counted = False
            self.slots.open -= 1


def protocol(limits: Limits) -> type[GuardedH11]:
    """A protocol class of its own for one server (its connections are counted together)."""

    class LiveworthH11(GuardedH11):
        slots = _Slots(connection_cap(limits.max_connections))
        head_timeout_s = limits.head_timeout_s

    return LiveworthH11


# ---------------------------------------------------------------------------- logs and server


class NoQuery(logging.Filter):
    """Keeps query strings (``?token=…``) out of uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].partition("?")[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": NoQuery}
    config["loggers"]["uvicorn.access"]["filters"] = ["no_query"]
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config


def make_server(app: Any, *, log_level: str = "warning",
                limits: Limits | None = None) -> uvicorn.Server:
    """A uvicorn server for ``app`` with liveworth's limits; run it with ``run(sockets=…)``
    (:func:`listen`)."""
    limits = limits or Limits()
    http = protocol(limits)
    config = uvicorn.Config(
        app, log_level=log_level, log_config=log_config(), http=http, ws="none",
        server_header=False, proxy_headers=False, timeout_keep_alive=limits.keep_alive_s,
        h11_max_incomplete_event_size=limits.max_head_bytes, backlog=BACKLOG,
        # a backstop on answers in progress; the connection cap above acts first
        limit_concurrency=2 * http.slots.limit, timeout_graceful_shutdown=limits.grace_s)
    return uvicorn.Server(config)

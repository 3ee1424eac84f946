"""The app's guard: a pure ASGI middleware in front of every route, static files included.

- **Token.** When the app has a token, every request must carry it: ``Authorization: Bearer T``,
  or ``?token=T`` (for OBS browser sources, which cannot send headers; the answer then sets an
  HttpOnly, SameSite=Strict cookie so the page's own requests carry it), or that cookie.
  Anything else gets 401.
- **Host.** The Host header must be a name, an IPv4 address or a bracketed IPv6 address with an
  optional ``:port`` (anything else is 400). Without a token the app only answers requests
  addressed to a loopback name (``127.0.0.1``, ``localhost``, ``::1``), so a web page cannot
  reach it through DNS rebinding.
- **Headers.** Every answer gets a strict Content-Security-Policy (scripts and styles only from
  the app itself, no inline script), ``X-Content-Type-Options: nosniff``, no referrer (tokens in
  URLs stay put) and ``Cache-Control: no-store`` outside ``/static``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveworth.errors import UsageError

COOKIE = "liveworth_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: A token must be URL- and cookie-safe and long enough not to be guessed.
TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{16,256}")

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors {ancestors}")
#: Dashboard pages may not be framed at all; the overlay may be framed by the app itself (a
#: preview). OBS and TikTok LIVE Studio load a browser source as a top-level page.
CSP_PAGES = _CSP.format(ancestors="'none'")
CSP_OVERLAY = _CSP.format(ancestors="'self'")


def check_token(token: str) -> str:
    """``token`` if it is usable, else :class:`UsageError`."""
    if not TOKEN_RE.fullmatch(token):
        raise UsageError("a token must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ -")
    return token


#: A Host header (RFC 9110 7.2): a name, an IPv4 address or a bracketed IPv6 address, then an
#: optional ``:port`` — nothing else.
_HOST_RE = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9_-]+(?:\.[a-z0-9_-]+)*))"
                      r"(?::(?P<port>[0-9]{1,5}))?")


def parse_host(host_header: str) -> str | None:
    """The host of a Host header, lower case (``[::1]:8000`` → ``::1``, ``a:80`` → ``a``), or
    None when the header is not one: ``[::1]evil.example``, ``localhost:evil``, ``a:1:2``, …"""
    m = _HOST_RE.fullmatch(host_header.strip().lower())
    if m is None or (m["port"] is not None and int(m["port"]) > 65535):
        return None
    if m["v6"] is None:
        return m["name"]
    try:
        return str(ipaddress.IPv6Address(m["v6"]))  # one spelling: [0:0::1] is ::1
    except ValueError:
        return None


def security_headers(path: str) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", CSP_OVERLAY if path.startswith("/overlay/") else CSP_PAGES),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "SAMEORIGIN" if path.startswith("/overlay/") else "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if not path.startswith("/static/"):
        headers.append(("cache-control", "no-store"))
    return headers


class Guard:
    """Token and Host checks plus security headers, around ``app``."""

    def __init__(self, app: ASGIApp, *, token: str | None,
                 allowed_hosts: Iterable[str] | None) -> None:
        self.app = app
        self.token = check_token(token) if token is not None else None
        self.allowed_hosts = None if allowed_hosts is None else frozenset(
            h.lower() for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        path: str = scope["path"]  # not conn.url: that parses the Host header, checked below
        extra = security_headers(path)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        given = conn.headers.get("host")  # HTTP/1.0 may leave it out; h11 requires it in 1.1
        host = "" if given is None else parse_host(given)
        if host is None:
            await _refuse(send_secured, path, 400, "the Host header is not a host name or "
                          "address with an optional :port")
            return
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            await _refuse(send_secured, path, 400, "this server answers only on loopback "
                          "addresses (127.0.0.1, localhost, ::1)")
            return
        if self.token is not None:
            via = self._credential(conn)
            if via is None:
                await _refuse(send_secured, path, 401, "a token is required: send "
                              "'Authorization: Bearer TOKEN' or add ?token=TOKEN to the URL",
                              [("www-authenticate", 'Bearer realm="liveworth"')])
                return
            if via == "query":
                extra.append(("set-cookie", f"{COOKIE}={self.token}; HttpOnly; "
                              "SameSite=Strict; Path=/"))
        await self.app(scope, receive, send_secured)

    def _credential(self, conn: HTTPConnection) -> str | None:
        """How the request carries the right token (header, query or cookie), or None."""
        assert self.token is not None
        scheme, _, value = conn.headers.get("authorization", "").partition(" ")
        candidates = (
            ("header", value.strip() if scheme.lower() == "bearer" else ""),
            ("query", conn.query_params.get("token", "")),
            ("cookie", conn.cookies.get(COOKIE, "")),
        )
        want = self.token.encode()
        for via, given in candidates:
            if given and secrets.compare_digest(given.encode(), want):
                return via
        return None


async def _refuse(send: Send, path: str, status: int, detail: str,
                  headers: list[tuple[str, str]] | None = None) -> None:
    """Answer ``status`` with ``detail`` (JSON for the API, plain text for pages)."""
    if path.startswith("/api/") or path == "/openapi.json":
        body, kind = json.dumps({"detail": detail}).encode(), "application/json"
    else:
        body, kind = f"{status}: {detail}\n".encode(), "text/plain; charset=utf-8"
    raw = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers or []]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

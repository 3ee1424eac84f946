"""Serve the web app the way ``liveworth serve`` does, for builds whose CLI lacks ``serve``; and
the slow-client part of scenario 6 (:func:`slow_clients`).

    python faults/webserver.py --db FILE [--host H] [--port P] [--token T]

The suite prefers ``liveworth serve``; while the command is not registered in the CLI yet, this
runs the same thing: ``liveworth.web.create_app`` under the shared server
(``liveworth.web.server``), with the token rules of ``liveworth.cli.serve`` (a token is
generated and printed when bound beyond loopback; a given one is printed masked).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faults.common import Ctx, Figure

#: Half-open connections of the slow-client flood (more than the server keeps: some are pushed
#: out), and oversized heads, each a header that never ends, sent up to 5 MB.
SLOW = 2000
OVERSIZED, OVERSIZED_BYTES = 20, 5 << 20
HALF_HEAD = b"GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--token")
    args = ap.parse_args()

    from liveworth.cli.serve import TOKEN_ENV, mask, resolve_token
    from liveworth.web import create_app
    from liveworth.web.server import listen, make_server

    token, generated = resolve_token(args.host, args.token or os.environ.get(TOKEN_ENV))
    app = create_app(args.db, token=token)
    sockets = listen(args.host, args.port)
    if token:
        shown = token if generated else mask(token)
        print(f"token ({'generated' if generated else 'given'}; every request needs it): "
              f"{shown}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        make_server(app).run(sockets=sockets)
    return 0


# ---------------------------------------------------------------------------- slow clients


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _files_for(n: int) -> int:
    """Raise this process's open-file limit towards ``n`` (+ spare); how many it allows."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 200
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return n if soft == resource.RLIM_INFINITY else min(n, soft - 200)


def _still_open(socks: list[socket.socket]) -> int:
    """How many of ``socks`` the server has not closed (nothing to read: no EOF, no answer)."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    return len(socks) - len(poller.poll(0))


def _endless_head(port: int) -> int | None:
    """Bytes sent of a header that never ends before the server cut it off (None: never)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        sent = 0
        try:
            s.sendall(HALF_HEAD)
            chunk = b"a" * 65536
            while sent < OVERSIZED_BYTES:
                s.sendall(chunk)
                sent += len(chunk)
            s.settimeout(3)
            data = s.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return sent
        except TimeoutError:
            return None
        return sent if data == b"" or data.startswith(b"HTTP/1.1 4") else None


def _flood(port: int, n: int) -> tuple[list[socket.socket], float]:
    socks, t0 = [], time.monotonic()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(HALF_HEAD)
        socks.append(s)
    return socks, time.monotonic() - t0


def _real_requests(port: int, n: int) -> tuple[list[float], list[int]]:
    from faults.web import fetch

    seconds, statuses = [], []
    for _ in range(n):
        try:
            r = fetch(port, "/api/sessions", timeout=10)
            seconds.append(r.seconds)
            statuses.append(r.status)
        except Exception:
            seconds.append(10.0)
            statuses.append(-1)
    return seconds, statuses


def slow_clients(ctx: Ctx, site: Any) -> list[Figure]:
    """A flood of half-open connections and heads that never end, while real requests come."""
    from faults.web import Server
    from liveworth.web.server import HEAD_TIMEOUT_S

    n = _files_for(SLOW + OVERSIZED) - OVERSIZED
    with Server(ctx.dir("web/slow-clients"), Path(site.db)) as server:
        assert server.proc is not None
        _real_requests(server.port, 3)  # warm: the first answers open the store
        rss0 = _rss_mb(server.proc.pid)
        socks, flood_s = _flood(server.port, n)
        try:
            cut = [_endless_head(server.port) for _ in range(OVERSIZED)]
            latency, statuses = _real_requests(server.port, 20)
            held = _still_open(socks)
            rss1 = _rss_mb(server.proc.pid)
            time.sleep(HEAD_TIMEOUT_S + 2)
            left = _still_open(socks)
        finally:
            for s in socks:
                s.close()
    cuts = [c for c in cut if c is not None]
    bad = sum(1 for s in statuses if s != 200)
    return _figures(n, flood_s, held, left, cuts, latency, bad, rss1 - rss0)


def _figures(n: int, flood_s: float, held: int, left: int, cuts: list[int],
             latency: list[float], bad: int, growth: float) -> list[Figure]:
    from faults.common import Figure, at_least, info, zero
    from faults.web import SC6
    from liveworth.web.server import HEAD_TIMEOUT_S, MAX_CONNECTIONS, MAX_HEAD_BYTES

    worst = max(latency)
    return [
        info(SC6, "slow clients: half-open connections opened / held by the server at once",
             f"{n:,} / {held:,}", f"opened in {flood_s:.1f} s; the server keeps at most "
             f"{MAX_CONNECTIONS:,} (a new one pushes out the oldest still waiting for its head)"),
        Figure(SC6, "slow clients: real request latency during the flood, max",
               f"{worst * 1000:.0f} ms", "< 2000 ms", worst < 2, f"20 requests, median "
               f"{statistics.median(latency) * 1000:.0f} ms"),
        zero(SC6, "slow clients: real requests not answered 200", bad),
        zero(SC6, f"slow clients: heads that never end ({OVERSIZED} × up to "
             f"{OVERSIZED_BYTES >> 20} MB) not cut off", OVERSIZED - len(cuts),
             f"the server refuses a head beyond {MAX_HEAD_BYTES >> 10} KB (400, then closes); "
             f"the client had pushed at most {max(cuts, default=0) >> 10} KB into its socket "
             "by then"),
        Figure(SC6, "slow clients: server memory growth (RSS) under the flood",
               f"{growth:.0f} MB", "< 100 MB", growth < 100),
        at_least(SC6, "slow clients: half-open connections closed "
                 f"{HEAD_TIMEOUT_S + 2:.0f} s later", n - left, n,
                 f"{left} still open; a head must arrive within {HEAD_TIMEOUT_S:.0f} s"),
    ]


if __name__ == "__main__":
    sys.exit(main())

"""5. Concurrency and 6. web load and abuse, against ``liveworth serve`` in its own process.

Skipped, with the reason, when ``liveworth.web`` cannot be imported. The server is started with
``liveworth serve`` when the CLI has the command, else with ``faults/webserver.py`` (the same
app and token rules). Requests go through a small HTTP/1.1 client of our own over raw sockets:
cheap enough for 200 concurrent clients on two cores, and it sends paths exactly as written
(no ``..`` normalisation), which the traversal probes need.

5. **Concurrency** — readers poll the JSON API while ``liveworth import`` and ``liveworth record
   --replay`` write the same database from other processes. DuckDB lets one process hold a file
   for writing, or any number hold it for reading, never both: we count the writers refused
   with a lock error, the answers 503 (busy), any 500, and reads that saw half an import.
6. **Load and abuse** — 200 concurrent keep-alive clients for 60 s (10 s in --short) over the
   pages and their JSON twins: errors and latency percentiles; a slow-client flood (half-open
   connections and heads that never end) against real requests; schemathesis against
   ``/openapi.json`` (every check, server errors counted apart); an XSS corpus in nicknames,
   user names, comments, gift names, host names and room ids, loaded in Chromium (with the CSP
   and with the CSP switched off, to test the escaping alone), including a live page that
   receives hostile gifts while open; bound beyond loopback, every route without the token; and
   path traversal through ``/static`` and every path parameter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import shutil
import socket
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from faults.common import (
    DUMPS,
    PY,
    ROOT,
    Ctx,
    Figure,
    at_least,
    cli_cmd,
    cli_commands,
    cli_env,
    info,
    run_cli,
    skip,
    wait_until,
    zero,
)
from faults.webserver import slow_clients

HOW5 = """.

Readers poll the JSON API of `liveworth serve` while `liveworth import` and `liveworth record
--replay` write the same database from other processes. DuckDB lets one process hold a file for
writing, or any number of processes hold it for reading, never both: the dashboard keeps one
read-only connection and hands the file back every second for 0.1 s, writers retry their open
meanwhile, and while a writer holds the file the pages wait 2 s and answer 503. Counted:
writers refused, answers 503, any 500, and reads that saw half an import (each import is one
transaction). Light load = 2 live pages open (their server-sent streams poll the store every
0.5 s); heavy load = 20 clients polling the API."""
HOW6 = """.

200 concurrent keep-alive clients for 60 s (10 s with --short) over the pages and their JSON
twins, on loopback, through a small HTTP/1.1 client over raw sockets: errors and latency
percentiles. Slow clients: 2,000 connections that send half a request head and stall (more
than the server keeps open) and 20 heads that never end (up to 5 MB each) while real requests
come: their latency, the server's memory growth, and that the stalled ones are closed once the
head timeout has passed. Schemathesis against `/openapi.json` (every check; server errors
counted apart).
An XSS corpus of 31 payloads in nicknames, user names, comments, gift names, host names, room
ids and reflected query values, loaded in Chromium with the CSP and again with the CSP switched
off (the escaping alone), including a live page that receives hostile gifts while open. Bound
beyond loopback: every route without the right token. Path traversal: `..` in 15 encodings
through `/static`, every path parameter and the root, checked for the contents of /etc/passwd,
the app's source, the rate card, pyproject.toml and the database."""
SC5 = "5. concurrency"
SC6 = "6. web load and abuse"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def web_missing() -> str | None:
    """Why the web parts cannot run (None when they can)."""
    try:
        import uvicorn  # noqa: F401

        import liveworth.web  # noqa: F401
    except ImportError as exc:
        return f"the web app is not available: {exc} (liveworth.web, fastapi, uvicorn)"
    return None


# ---------------------------------------------------------------------------- a raw HTTP client


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Conn:
    """One keep-alive HTTP/1.1 connection; paths are sent as given."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, path: str, headers: dict[str, str] | None = None,
                      method: str = "GET", host_header: str | None = None,
                      timeout: float = 60.0, first_chunk_only: bool = False) -> Reply:
        t0 = time.monotonic()
        try:
            return await asyncio.wait_for(self._request(path, headers or {}, method,
                                                        host_header, first_chunk_only, t0),
                                          timeout)
        except BaseException:
            await self.close()
            raise

    async def _request(self, path: str, headers: dict[str, str], method: str,
                       host_header: str | None, first_chunk_only: bool, t0: float) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header or f'127.0.0.1:{self.port}'}",
                 *(f"{k}: {v}" for k, v in headers.items()), "Connection: keep-alive", "", ""]
        self.writer.write("\r\n".join(lines).encode("utf-8", "surrogateescape"))
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for ln in header_lines:
            if ":" in ln:
                k, v = ln.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        body = b""
        if method == "HEAD" or status in (204, 304):
            pass
        elif "content-length" in hdrs:
            body = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
                if first_chunk_only:
                    await self.close()
                    break
        else:
            body = await self.reader.read()
            await self.close()
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, hdrs, body, time.monotonic() - t0)


async def _fetch(port: int, path: str, **kw: Any) -> Reply:
    conn = Conn("127.0.0.1", port)
    try:
        return await conn.request(path, **kw)
    finally:
        await conn.close()


def fetch(port: int, path: str, **kw: Any) -> Reply:
    return asyncio.run(_fetch(port, path, **kw))


# ---------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``liveworth serve`` (or its stand-in) in a process of its own."""

    def __init__(self, work: Path, db: Path, host: str = "127.0.0.1",
                 token: str | None = None) -> None:
        self.work, self.db, self.host, self.token = work, db, host, token
        self.port = free_port()
        self.log = work / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.via = ""

    def __enter__(self) -> Server:
        args = ["--db", str(self.db), "--host", self.host, "--port", str(self.port)]
        if self.token:
            args += ["--token", self.token]
        if "serve" in cli_commands():
            cmd, self.via = cli_cmd("serve", *args), "liveworth serve"
        else:
            cmd = [PY, str(ROOT / "faults" / "webserver.py"), *args]
            self.via = "faults/webserver.py (the CLI has no `serve` command yet)"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=cli_env(self.work), cwd=self.work,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server died: {self.log.read_text()[-500:]}"
            with contextlib.suppress(OSError), socket.create_connection(
                    (self.address, self.port), timeout=0.5):
                break
            time.sleep(0.1)
        if self.token is None:
            self.token = self.printed_token()
        return self

    @property
    def address(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "localhost") else self.host

    def printed_token(self) -> str | None:
        for _ in range(50):
            m = re.search(r"token \((?:generated|given)[^\n]*?: (\S+)", self.log.read_text())
            if m:
                return m.group(1)
            time.sleep(0.1)
        return None

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()  # uvicorn waits for open streams; do not wait for long
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


# ---------------------------------------------------------------------------- the data

XSS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>",
    '"><script>alert(4)</script>', "'><img src=x onerror=alert(5)>", "javascript:alert(6)",
    "</title><script>alert(7)</script>", "</textarea><script>alert(8)</script>",
    "</style><script>alert(9)</script>", '<iframe srcdoc="<script>alert(10)</script>">',
    '<a href="javascript:alert(11)">x</a>', "<body onload=alert(12)>",
    "<details open ontoggle=alert(13)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(14)>",
    "{{7*7}}${alert(15)}", "`-alert(16)-`", "\\u003cscript\\u003ealert(17)\\u003c/script\\u003e",
    "<scr<script>ipt>alert(18)</script>", '"onmouseover="alert(19)',
    "' onfocus='alert(20)' autofocus='", '<object data="javascript:alert(21)">',
    '<base href="javascript:alert(22)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(23)">',
    "]]></x><script>alert(24)</script>", "%3Cscript%3Ealert(25)%3C/script%3E",
    "&lt;script&gt;alert(26)&lt;/script&gt;",
    "<svg><animate onbegin=alert(27) attributeName=x dur=1s>",
    "<input autofocus onfocus=alert(28)>", "data:text/html,<script>alert(29)</script>",
    "</script><script>alert(30)</script>", "<noscript><p title=\"</noscript><img src=x "
    "onerror=alert(31)>\">",
]
T0 = 1_700_000_000_000
XSS_ROOM, XSS_HOST = "xss-room", "xss_host"
EVIL_HOST = "<img src=x onerror=alert(901)>"
EVIL_ROOM = "<svg onload=alert(902)>"
LIVE_ROOM, LIVE_HOST = "xss-live-room", "xss_live"


def _gift(room: str, i: int, ts: int, name: str, coins: int, tag: str = "g") -> dict[str, Any]:
    return {"v": 1, "type": "gift", "room_id": room, "msg_id": f"{tag}{i}", "ts": ts,
            "user_id": f"u{i}", "user": name, "nickname": name, "gift_id": 5655,
            "gift_name": name, "coins": coins, "gift_type": 2, "repeat_count": 1 + i % 3,
            "repeat_end": True, "group_id": f"grp{i}"}


def hostile_events(now_ms: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rooms = ((XSS_ROOM, XSS_HOST, T0), ("evil-host-room", EVIL_HOST, T0),
             (EVIL_ROOM, "evil_room_host", T0), (LIVE_ROOM, LIVE_HOST, now_ms - 60_000))
    for room, host, t in rooms:
        out.append({"v": 1, "type": "live_start", "room_id": room, "msg_id": "start", "ts": t,
                    "host_id": "999", "host": host})
        out.append({"v": 1, "type": "viewers", "room_id": room, "msg_id": "v", "ts": t + 5,
                    "current": 42})
        for i, text in enumerate(XSS):
            ts = t + 1000 * (i + 1)
            out.append(_gift(room, i, ts, text, 10 * (i + 1)))
            for kind in ("comment", "join", "follow", "share"):
                ev = {"v": 1, "type": kind, "room_id": room, "msg_id": f"{kind}{i}",
                      "ts": ts + 1, "user_id": f"u{i}", "user": text, "nickname": text}
                if kind == "comment":
                    ev["text"] = text
                out.append(ev)
    return out


@dataclass
class Site:
    db: Path
    rooms: list[str]
    hosts: list[str]
    big_room: str
    real_room: str
    real_host: str
    extra: dict[str, Any] = field(default_factory=dict)


def build_site(ctx: Ctx, name: str) -> Site:
    """A database of the real dumps, a simulated session and the hostile sessions."""
    from liveworth.ingest.importer import import_paths
    from liveworth.store.database import Store

    work = ctx.dir("web")
    db = work / f"{name}.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    jsonl = work / f"{name}-hostile.jsonl"
    jsonl.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n"
                             for e in hostile_events(int(time.time() * 1000))),
                     encoding="utf-8")
    sims = sorted((ctx.work / "corpus").glob("sim-*.jsonl"))
    sims = [p for p in sims if not p.name.endswith(".journal.jsonl")][:1]
    with Store.open(str(db)) as store:
        result = import_paths(store, [*sorted(DUMPS.glob("*.json.gz")), jsonl, *sims])
        rooms = store.rooms()
        big = store.query("SELECT room_id FROM events GROUP BY 1 ORDER BY count(*) DESC "
                          "LIMIT 1")[0][0]
        real = store.query("SELECT e.room_id, r.host FROM events e JOIN rooms r USING "
                           "(room_id) WHERE r.host IS NOT NULL AND e.type = 'gift' GROUP BY "
                           "1, 2 ORDER BY count(*) DESC LIMIT 1")[0]
    assert result.rejected == 0, "the hostile corpus must import cleanly"
    hosts = sorted({XSS_HOST, EVIL_HOST, LIVE_HOST, str(real[1])})
    return Site(db, rooms, hosts, str(big), str(real[0]), str(real[1]))


def q(segment: str) -> str:
    return quote(segment, safe="")


# ---------------------------------------------------------------------------- load


@dataclass
class LoadStats:
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    by_route: Counter[str] = field(default_factory=Counter)


def routes(site: Site) -> list[tuple[str, str, int]]:
    """(route label, path, weight) of what the load clients ask for."""
    real, big, host = q(site.real_room), q(site.big_room), q(site.real_host)
    return [("/api/sessions", "/api/sessions", 15), ("/sessions", "/sessions", 10),
            ("/api/sessions/{room}", f"/api/sessions/{real}", 15),
            ("/api/sessions/{room} (simulated, 7k events)", f"/api/sessions/{big}", 5),
            ("/sessions/{room}", f"/sessions/{real}", 10),
            ("/sessions/{room} (hostile)", f"/sessions/{q(XSS_ROOM)}", 5),
            ("/api/live/{host}", f"/api/live/{host}", 15),
            ("/live/{host}", f"/live/{q(LIVE_HOST)}", 5),
            ("/overlay/{host}", f"/overlay/{host}?goal=1000", 10),
            ("/static/liveworth.css", "/static/liveworth.css", 5),
            ("/openapi.json", "/openapi.json", 5)]


async def _load(ctx: Ctx, port: int, site: Site, clients: int, seconds: float,
                stats: LoadStats) -> None:
    table = routes(site)
    labels = [r[0] for r in table]
    paths = {r[0]: r[1] for r in table}
    weights = [r[2] for r in table]
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        rng = random.Random(ctx.seed * 1000 + n)
        conn = Conn("127.0.0.1", port)
        await asyncio.sleep(rng.random() * 0.5)
        while time.monotonic() < deadline:
            label = rng.choices(labels, weights)[0]
            try:
                reply = await conn.request(paths[label], timeout=120)
            except Exception as exc:
                stats.failures[f"{label}: {exc.__class__.__name__}"] += 1
                continue
            stats.statuses[reply.status] += 1
            stats.by_route[label] += 1
            stats.latencies.append(reply.seconds)
            if reply.status != 200:
                stats.failures[f"{label}: HTTP {reply.status}"] += 1
            elif rng.random() < 0.05:
                _check_json(ctx, label, reply)
        await conn.close()

    await asyncio.gather(*(client(i) for i in range(clients)))


def _check_json(ctx: Ctx, label: str, reply: Reply) -> None:
    if not label.startswith("/api/"):
        return
    data = reply.json()
    if label == "/api/sessions":
        for row in data:
            ctx.inv.row(row, "web /api/sessions")
    elif label.startswith("/api/sessions/"):
        ctx.inv.report(data, "web /api/sessions/{room}")
    elif label.startswith("/api/live/"):
        ctx.inv.live(data, "web /api/live/{host}")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))]


def load(ctx: Ctx, site: Site) -> list[Figure]:
    clients, seconds = 200, ctx.size(60, 10)
    stats = LoadStats()
    with Server(ctx.dir("web"), site.db) as server:
        ctx.log(f"  web: {clients} clients for {seconds} s ({server.via})")
        t0 = time.monotonic()
        asyncio.run(_load(ctx, server.port, site, clients, seconds, stats))
        elapsed = time.monotonic() - t0
    n = sum(stats.statuses.values())
    lat = stats.latencies
    errors = sum(stats.failures.values())
    return [
        Figure(SC6, "load: concurrent clients × seconds", f"{clients} × {seconds}",
               f"200 × {seconds}", True, f"{server.via}; keep-alive connections on loopback"),
        at_least(SC6, "load: requests answered", n, 1,
                 f"{n / elapsed:.0f} requests/s over {elapsed:.0f} s; " + ", ".join(
                     f"{k} {v}" for k, v in stats.by_route.most_common())),
        zero(SC6, "load: errors (non-200 answers, failed or timed-out requests)", errors,
             "; ".join(f"{k}: {v}" for k, v in stats.failures.most_common(4))),
        info(SC6, "load: latency p50 / p95 / p99 / max",
             f"{pct(lat, 50) * 1000:.0f} / {pct(lat, 95) * 1000:.0f} / "
             f"{pct(lat, 99) * 1000:.0f} / {max(lat, default=0) * 1000:.0f} ms",
             f"mean {statistics.fmean(lat) * 1000:.0f} ms" if lat else ""),
    ]


# ---------------------------------------------------------------------------- concurrency


async def _readers(ctx: Ctx, port: int, site: Site, stop: asyncio.Event, n: int,
                   seen: list[tuple[float, int, Any]], live_hosts: list[str]) -> None:
    """``n`` readers of /api/sessions (and live streams of ``live_hosts``) until ``stop``."""

    async def reader(i: int) -> None:
        conn = Conn("127.0.0.1", port)
        while not stop.is_set():
            asked = time.monotonic()  # when the request was made (what `seen` records)
            try:
                r = await conn.request("/api/sessions", timeout=60)
            except Exception:
                seen.append((asked, -1, None))
                await asyncio.sleep(0.05)
                continue
            seen.append((asked, r.status, r.json() if r.status == 200 else None))
        await conn.close()

    async def watcher(host: str) -> None:  # a live page: one SSE stream, polled by the server
        while not stop.is_set():
            conn = Conn("127.0.0.1", port)
            with contextlib.suppress(Exception):
                await conn.request(f"/api/live/{q(host)}/events", timeout=5,
                                   first_chunk_only=True)
            await conn.close()
            await asyncio.sleep(0.5)

    await asyncio.gather(*(reader(i) for i in range(n)), *(watcher(h) for h in live_hosts))


def _while_reading(ctx: Ctx, port: int, site: Site, n: int, live_hosts: list[str],
                   writer: list[str], work: Path) -> tuple[subprocess.CompletedProcess[str],
                                                           list[tuple[float, int, Any]]]:
    seen: list[tuple[float, int, Any]] = []

    async def go() -> subprocess.CompletedProcess[str]:
        stop = asyncio.Event()
        task = asyncio.create_task(_readers(ctx, port, site, stop, n, seen, live_hosts))
        await asyncio.sleep(1.0)
        done = await asyncio.to_thread(run_cli, writer, work, 300)
        await asyncio.sleep(1.0)
        stop.set()
        await task
        return done

    return asyncio.run(go()), seen


def concurrency(ctx: Ctx, site: Site) -> list[Figure]:
    work = ctx.dir("web/concurrency")
    db = work / "c.duckdb"
    shutil.copy(site.db, db)
    sims = sorted((ctx.work / "corpus").glob("sim-*.jsonl"))
    new_events = [p for p in sims if not p.name.endswith(".journal.jsonl")][-1]
    journal = sorted((ctx.work / "corpus").glob("sim-*.journal.jsonl"))[0]
    attempts = ctx.size(4, 2)
    out: list[Figure] = []
    statuses: Counter[int] = Counter()
    half_seen = 0
    with Server(work, db) as server:
        for load_name, n, live in (("2 live pages open", 0, [LIVE_HOST, site.real_host]),
                                   ("20 API readers", 20, [])):
            refused, ok = [], 0
            for a in range(attempts):
                fresh = work / f"n{a}.jsonl"
                shutil.copy(new_events, fresh)
                room = f"conc-{load_name[:2].strip()}-{a}"
                _rename_room(fresh, room)
                done, seen = _while_reading(ctx, server.port, site, n, live,
                                            ["import", "--db", str(db), str(fresh)], work)
                statuses.update(s for _, s, _ in seen)
                if done.returncode == 0:
                    ok += 1
                    half_seen += _half_imports(ctx, seen, room, db)
                else:
                    refused.append(done.stderr.strip().splitlines()[-1][:200]
                                   if done.stderr.strip() else f"exit {done.returncode}")
            out.append(zero(SC5, f"`liveworth import` while the dashboard serves ({load_name}):"
                                 " imports refused with a lock error", len(refused),
                            f"{ok} of {attempts} got in; " + (refused[0] if refused else "")))
        # The recorder started while readers poll: does it get in?
        done, seen = _while_reading(
            ctx, server.port, site, 5, [],
            ["record", "--replay", str(journal), "--speed", "max", "--db", str(db),
             "--journal", str(work / "journal"), "--quiet"], work)
        statuses.update(s for _, s, _ in seen)
        # The recorder already running: what do readers get meanwhile?
        rec_db_busy, rec_done = _readers_while_recording(ctx, server.port, site, db, journal,
                                                         work)
        statuses.update(rec_db_busy)
    served = _record_and_serve(ctx, site, db, journal, work)
    rec_refused = int(done.returncode != 0)
    busy = rec_db_busy.get(503, 0)
    total = sum(rec_db_busy.values())
    rec_failed = int(rec_done.returncode != 0)
    out += [
        zero(SC5, "`liveworth record` while the dashboard serves: recordings refused",
             rec_refused, done.stderr.strip().splitlines()[-1][:200] if rec_refused and
             done.stderr.strip() else ""),
        zero(SC5, "`liveworth record` started before the readers: recordings failed",
             rec_failed, rec_done.stderr.strip()[-200:] if rec_failed else ""),
        info(SC5, "while the recorder runs: dashboard answers 503 (database busy)",
             f"{busy} of {total}" + (f" ({busy / total:.0%})" if total else ""),
             "the recorder holds the file for writing from start to end, so readers in other "
             "processes wait 2 s and get 503"),
        *served,
        zero(SC5, "server errors (500) while writers run", statuses.get(500, 0)),
        zero(SC5, "reads that saw half an import (a session with part of its coins)",
             half_seen, "each import is one transaction: a reader sees all of it or none"),
        info(SC5, "answers while writers ran", ", ".join(f"HTTP {k}: {v}" for k, v in
                                                         sorted(statuses.items()))),
    ]
    return out


def _readers_while_recording(ctx: Ctx, port: int, site: Site, db: Path, journal: Path,
                             work: Path) -> tuple[Counter[int],
                                                  subprocess.CompletedProcess[str]]:
    """Start a paced recording (about 8 s), then poll the dashboard until it ends."""
    seen: list[tuple[float, int, Any]] = []
    cmd = cli_cmd("record", "--replay", str(journal), "--speed", "150", "--db", str(db),
                  "--journal", str(work / "journal2"), "--quiet")
    log = work / "record-while-reading.log"
    with log.open("w") as sink:  # a file, not a pipe: a full pipe would stall the recorder
        proc = subprocess.Popen(cmd, env=cli_env(work), cwd=work, stdout=sink, stderr=sink,
                                text=True)
    journal_file = work / "journal2"
    wait_until(lambda: journal_file.exists() or proc.poll() is not None, 30)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(_readers(ctx, port, site, stop, 5, seen, []))
        while proc.poll() is None:
            await asyncio.sleep(0.2)
        stop.set()
        await task

    asyncio.run(go())
    proc.wait(timeout=120)
    out, err = "", log.read_text()
    for _, status, data in seen:
        if status == 200:
            for row in data:
                ctx.inv.row(row, "web while recording")
    return Counter(s for _, s, _ in seen), subprocess.CompletedProcess(cmd, proc.returncode,
                                                                       out, err)


def _record_and_serve(ctx: Ctx, site: Site, db: Path, journal: Path,
                      work: Path) -> list[Figure]:
    """`liveworth record --serve PORT`: the dashboard served by the recording process itself
    (reads through the writer's own connection). Readers poll it while it records."""
    if "--serve" not in run_cli(["record", "--help"], work).stdout:
        return [skip(SC5, "`record --serve`: dashboard answers while recording",
                     "this build's `liveworth record` has no --serve")]
    port = free_port()
    cmd = cli_cmd("record", "--replay", str(journal), "--speed", "150", "--db", str(db),
                  "--journal", str(work / "journal3"), "--serve", str(port), "--linger", "0",
                  "--quiet")
    log = work / "record-serve.log"
    with log.open("w") as sink:  # a file, not a pipe: a full pipe would stall the recorder
        proc = subprocess.Popen(cmd, env=cli_env(work), cwd=work, stdout=sink, stderr=sink,
                                text=True)

    def up() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        return proc.poll() is not None

    wait_until(up, 30)
    seen: list[tuple[float, int, Any]] = []

    async def go() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(_readers(ctx, port, site, stop, 5, seen, [LIVE_HOST]))
        while proc.poll() is None:
            await asyncio.sleep(0.1)
        ended = time.monotonic()
        stop.set()
        await task
        return ended

    ended = asyncio.run(go())
    proc.wait(timeout=120)
    err = log.read_text()
    # Connection errors once the server has stopped at the end (no request made later was
    # answered: the process then exits) are expected; a gap while it serves is not.
    last_ok = max((t for t, s, _ in seen if s == 200), default=0.0)
    answered = [(t, s, d) for t, s, d in seen if s != -1 or (t < ended - 0.3 and t < last_ok)]
    bad = Counter(s for _, s, _ in answered if s != 200)
    for _, status, data in answered:
        if status == 200:
            for row in data:
                ctx.inv.row(row, "web: record --serve")
    crash = next((ln for ln in err.splitlines() if "FATAL" in ln or "terminate" in ln), "")
    return [
        zero(SC5, "`record --serve` (dashboard in the recording process): runs that failed",
             int(proc.returncode != 0), f"exit {proc.returncode}: {crash or err[-200:]}"
             if proc.returncode else ""),
        zero(SC5, "`record --serve`: answers other than 200 (-1: no answer)",
             sum(bad.values()), f"{len(answered)} answers to 5 API readers and a live page "
             "while the process ran; " + ", ".join(f"HTTP {k}: {v}" for k, v in
                                                  bad.most_common(3))
             + ("; the server keeps answering after the writer closed its connection: "
                "'Connection already closed'" if "already closed" in err else "")),
    ]


def _rename_room(path: Path, room: str) -> None:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        ev["room_id"] = room
        lines.append(json.dumps(ev, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _half_imports(ctx: Ctx, seen: list[tuple[float, int, Any]], room: str, db: Path) -> int:
    from liveworth.analysis.report import list_sessions
    from liveworth.store.database import Store

    with Store.open(str(db), read_only=True) as store:
        final = {r.room_id: r.coins for r in list_sessions(store, _card())}
    bad = 0
    for _, status, data in seen:
        if status != 200:
            continue
        rows = {r["room_id"]: r for r in data}
        for r in data:
            ctx.inv.row(r, "web while importing")
        if room in rows and rows[room]["coins"] != final.get(room):
            bad += 1
    return bad


def _card() -> Any:
    from faults.common import CARD

    return CARD


# ---------------------------------------------------------------------------- schemathesis


def schemathesis(ctx: Ctx, site: Site) -> list[Figure]:
    exe = Path(PY).parent / "schemathesis"
    if not exe.exists():
        found = shutil.which("schemathesis")
        if not found:
            return [skip(SC6, "schemathesis against /openapi.json",
                         "schemathesis is not installed (`pip install schemathesis`)")]
        exe = Path(found)
    work = ctx.dir("web/schemathesis")
    report = work / "report.json"
    report.unlink(missing_ok=True)
    examples = ctx.size(40, 5)
    with Server(work, site.db) as server:
        ctx.log(f"  web: schemathesis ({examples} examples per operation and phase)")
        done = subprocess.run(
            [str(exe), "run", f"http://127.0.0.1:{server.port}/openapi.json", "--checks", "all",
             "--max-examples", str(examples), "--seed", str(ctx.seed), "--workers", "1",
             "--exclude-path-regex", "/events$", "--request-timeout", "120",
             "--suppress-health-check", "all", "--report", "json", "--report-json-path",
             str(report)], cwd=work, env=cli_env(work), capture_output=True, text=True,
            timeout=1800)
    if not report.exists():
        return [Figure(SC6, "schemathesis", "did not run", "runs", False,
                       (done.stdout + done.stderr)[-400:])]
    data = json.loads(report.read_text())
    failures = data.get("failures", [])
    server_errors = [f for f in failures if "server" in (f.get("type", "") + f.get("title", ""))
                     .lower()]
    others = [f for f in failures if f not in server_errors]
    return [
        at_least(SC6, "schemathesis: test cases generated", data["test_cases"]["generated"], 1,
                 f"{data['operations']['tested']} operations (the SSE stream left out), every "
                 f"check, seed {ctx.seed}"),
        zero(SC6, "schemathesis: server errors (5xx)", sum(f.get("count", 1)
                                                           for f in server_errors),
             "; ".join(f"{f['title']}: {', '.join(f['operations'])}" for f in server_errors)),
        zero(SC6, "schemathesis: requests that errored (network, timeouts)",
             len(data.get("errors", [])) + data["test_cases"].get("errored", 0)),
        info(SC6, "schemathesis: other check failures (schema conformance)",
             sum(f.get("count", 1) for f in others),
             "; ".join(f"{f['code']} {f['title']}: {', '.join(f['operations'])}"
                       for f in others)),
    ]


# ---------------------------------------------------------------------------- XSS in Chromium

_INJECTED_JS = """() => {
  let n = 0;
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) n++;
      if (['href', 'src', 'action', 'data', 'formaction'].includes(a.name)
          && /^\\s*(javascript|data):/i.test(a.value)) n++;
    }
    const t = el.tagName.toLowerCase();
    if (t === 'script' && !el.src) n++;
    if (['iframe', 'object', 'embed', 'base'].includes(t)) n++;
    if (t === 'meta' && (el.httpEquiv || '').toLowerCase() === 'refresh') n++;
  }
  return n;
}"""


def xss_urls(site: Site) -> list[str]:
    urls = ["/sessions", f"/sessions/{q(XSS_ROOM)}", f"/sessions/{q('evil-host-room')}",
            f"/sessions/{q(EVIL_ROOM)}", f"/sessions/{q(LIVE_ROOM)}", f"/live/{q(XSS_HOST)}",
            f"/live/{q(EVIL_HOST)}", f"/live/{q(LIVE_HOST)}", f"/overlay/{q(XSS_HOST)}?goal=100",
            f"/overlay/{q(EVIL_HOST)}?goal=100&goal_label={q(XSS[1])}",
            f"/sessions/{q(XSS_ROOM)}?redact=true"]
    for payload in XSS[:8]:  # reflected: error pages, unknown hosts and rooms, query values
        urls += [f"/sessions/{q(payload)}", f"/live/{q(payload)}",
                 f"/sessions/{q(XSS_ROOM)}?channel={q(payload)}",
                 f"/estimate?followers={q(payload)}",
                 f"/overlay/{q(LIVE_HOST)}?goal_label={q(payload)}&goal=5&hide={q(payload)}"]
    return urls


def xss(ctx: Ctx, site: Site) -> list[Figure]:
    if not CHROMIUM.exists():
        return [skip(SC6, "XSS corpus in Chromium", f"{CHROMIUM} is missing "
                                                     "(apt-get install chromium)")]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [skip(SC6, "XSS corpus in Chromium", "playwright is not installed "
                                                     "(pip install playwright)")]
    work = ctx.dir("web/xss")
    db = work / "x.duckdb"
    shutil.copy(site.db, db)
    urls = xss_urls(site)
    results: dict[bool, dict[str, Any]] = {}
    unescaped = 0
    with Server(work, db) as server:
        base = f"http://127.0.0.1:{server.port}"
        for u in urls:  # the HTML as served: no payload may appear unescaped
            r = fetch(server.port, u)
            body = r.body.decode("utf-8", "replace")
            unescaped += sum(1 for p in XSS if "<" in p and p in body)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for bypass in (False, True):
                    ctx.log(f"  web: XSS corpus in Chromium ({len(urls)} pages, CSP "
                            f"{'off' if bypass else 'on'})")
                    results[bypass] = _browse(ctx, browser, base, urls, db, bypass)
            finally:
                browser.close()
    on, off = results[False], results[True]
    return [
        info(SC6, "XSS: payloads × places", f"{len(XSS)} × 7",
             "nicknames, user names, comments, gift names, host names, room ids, query values "
             f"(reflected in error pages); {len(urls)} pages, each twice"),
        zero(SC6, "XSS: payloads that ran (dialogs) in Chromium", on["dialogs"],
             f"pages {on['pages']}; live page updated with hostile gifts: "
             f"{on['live_updated']}"),
        zero(SC6, "XSS: payloads that ran with the CSP switched off (escaping alone)",
             off["dialogs"], f"live page updated: {off['live_updated']}"),
        zero(SC6, "XSS: script-capable elements injected into the DOM",
             on["injected"] + off["injected"], "event-handler attributes, inline scripts, "
             "javascript: URLs, iframes, objects, base, meta refresh"),
        zero(SC6, "XSS: payloads served unescaped in the HTML", unescaped),
        zero(SC6, "XSS: Content-Security-Policy violations (injection attempts the CSP caught)",
             on["csp"]),
        zero(SC6, "XSS: JavaScript errors in the pages", on["errors"] + off["errors"],
             "; ".join((on["error_texts"] + off["error_texts"])[:2])),
    ]


def _browse(ctx: Ctx, browser: Any, base: str, urls: list[str], db: Path,
            bypass: bool) -> dict[str, Any]:
    context = browser.new_context(bypass_csp=bypass)
    page = context.new_page()
    out: dict[str, Any] = {"dialogs": 0, "csp": 0, "errors": 0, "injected": 0, "pages": 0,
                           "live_updated": False, "error_texts": []}

    def on_dialog(d: Any) -> None:
        out["dialogs"] += 1
        d.dismiss()

    def on_console(m: Any) -> None:
        if "Content Security Policy" in m.text:
            out["csp"] += 1

    def on_error(e: Any) -> None:
        out["errors"] += 1
        out["error_texts"].append(str(e)[:120])

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", on_error)
    for u in urls:
        page.goto(base + u, wait_until="load")
        page.wait_for_timeout(100)
        out["injected"] += page.evaluate(_INJECTED_JS)
        out["pages"] += 1
    # a live page receiving hostile gifts while it is open (rendered by live.js)
    page.goto(f"{base}/live/{q(LIVE_HOST)}", wait_until="load")
    marker = f"fresh {'off' if bypass else 'on'} {random.Random(ctx.seed).randrange(10**6)}"
    now = int(time.time() * 1000)
    _write_events(db, [_gift(LIVE_ROOM, 100 + i, now + i, f"{p} {marker}", 5000,
                             tag=f"late-{bypass}-")
                       for i, p in enumerate(XSS)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # (wait_for_function would need 'unsafe-eval')
        if marker in page.inner_text("body"):
            out["live_updated"] = True
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)
    out["injected"] += page.evaluate(_INJECTED_JS)
    for host in (LIVE_HOST,):
        page.goto(f"{base}/overlay/{q(host)}?goal=100", wait_until="load")
        page.wait_for_timeout(700)
        out["injected"] += page.evaluate(_INJECTED_JS)
    context.close()
    return out


def _write_events(db: Path, events: list[dict[str, Any]]) -> None:
    """Store events and recompute their rooms' ledger, as the recorder does (waiting while the
    app's readers hold the file)."""
    from liveworth.decode.events import event_from_dict
    from liveworth.errors import StoreError
    from liveworth.store import ledger
    from liveworth.store.database import Store, events_table

    table = events_table([event_from_dict(e) for e in events])
    deadline = time.monotonic() + 20
    while True:
        try:
            store = Store.open(str(db))
            break
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    try:
        store.begin()
        store.insert_events(table)
        ledger.recompute(store.con, sorted({e["room_id"] for e in events}))
        store.commit()
    finally:
        store.close()


# ---------------------------------------------------------------------------- token and paths


def _local_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))
        addr = str(s.getsockname()[0])
        if not addr.startswith("127."):
            return addr
    return None


def _all_paths(site: Site) -> list[str]:
    real, host = q(site.real_room), q(site.real_host)
    return ["/", "/favicon.ico", "/sessions", "/api/sessions", f"/sessions/{real}",
            f"/api/sessions/{real}", "/estimate", "/api/estimate?followers=1000",
            f"/live/{host}", f"/api/live/{host}", f"/overlay/{host}", "/openapi.json",
            "/static/liveworth.css", "/static/live.js", "/docs", "/redoc", "/nope",
            f"/api/live/{host}/events"]


def token_beyond_loopback(ctx: Ctx, site: Site) -> list[Figure]:
    work = ctx.dir("web/token")
    addr = _local_address()
    bind = addr or "0.0.0.0"
    paths = _all_paths(site)
    let_in: list[str] = []
    ok_with_token = 0
    probes = 0
    with Server(work, site.db, host=bind) as server:
        token = server.token
        if not token:
            return [Figure(SC6, "bound beyond loopback: a token is generated", "no token",
                           "a token", False, server.log.read_text()[-300:])]
        wrong = [None, {"Authorization": "Bearer wrong-token-0123456789"},
                 {"Authorization": f"Bearer {token[:-1]}"},
                 {"Authorization": f"Bearer {token}x"},
                 {"Authorization": f"Bearer {token.swapcase()}"},
                 {"Authorization": f"Basic {token}"}, {"Authorization": "Bearer "},
                 {"Cookie": "liveworth_token=wrong-token-0123456789"},
                 {"X-Token": token}, {"Authorization": token}]

        async def probe() -> None:
            nonlocal ok_with_token, probes
            for i, path in enumerate(paths):
                sep = "&" if "?" in path else "?"
                tries: list[tuple[str, str, dict[str, str]]] = [
                    ("GET", path, h or {}) for h in wrong]
                tries += [("GET", f"{path}{sep}token=", {}),
                          ("GET", f"{path}{sep}token={token[:-1]}", {}),
                          ("GET", f"{path}{sep}token={token}%00", {})]
                if i % 4 == 0:
                    tries += [(m, path, {}) for m in ("HEAD", "POST", "OPTIONS", "PUT")]
                for method, p, headers in tries:
                    probes += 1
                    r = await _fetch_to(addr, server.port, p, headers, method)
                    if r is None or r.status < 400 or (r.status != 401 and len(r.body) > 300):
                        let_in.append(f"{method} {p} {headers} → "
                                      f"{r.status if r else 'no answer'}")
                for how in ({"Authorization": f"Bearer {token}"},
                            {"Cookie": f"liveworth_token={token}"}, "query"):
                    if how == "query":
                        p, hdrs = f"{path}{sep}token={token}", {}
                    else:
                        p, hdrs = path, dict(how)  # type: ignore[arg-type]
                    r = await _fetch_to(addr, server.port, p, hdrs, "GET")
                    if r is not None and r.status < 400:
                        ok_with_token += 1
        asyncio.run(probe())
    out = [
        info(SC6, "token: server bound to", bind,
             "the machine's own non-loopback address" if addr else "0.0.0.0 (no other address)"),
        zero(SC6, "token: requests without the right token that got in", len(let_in),
             f"{probes} probes: {len(paths)} routes (pages, API, static files, OpenAPI, SSE, "
             "unknown) × no, wrong, truncated, extended, re-cased, Basic, empty, cookie and "
             "query tokens, and HEAD/POST/OPTIONS/PUT. " + "; ".join(let_in[:3])),
        info(SC6, "token: routes answered with the right token (header, cookie, query)",
             f"{ok_with_token} of {len(paths) * 3}", "/docs, /redoc and /nope are 404 by design"),
    ]
    # on loopback without a token: a page reached through another Host name (DNS rebinding)
    with Server(work, site.db) as server:
        rebound = 0
        for path in paths:
            r = fetch(server.port, path, host_header="evil.example:80")
            if r.status < 400:
                rebound += 1
    out.append(zero(SC6, "token: loopback server answering another Host name (DNS rebinding)",
                    rebound, f"{len(paths)} routes with Host: evil.example"))
    return out


async def _fetch_to(addr: str | None, port: int, path: str, headers: dict[str, str],
                    method: str) -> Reply | None:
    conn = Conn(addr or "127.0.0.1", port)
    try:
        return await conn.request(path, headers, method, host_header=f"{addr or 'lan-host'}:"
                                  f"{port}", timeout=20, first_chunk_only=True)
    except Exception:
        return None
    finally:
        await conn.close()


CANARIES = {"root:x:0:0": "/etc/passwd", "def create_app": "the app's source",
            "[parameters.diamonds_per_coin]": "the bundled rate card",
            "liveworth contributors": "pyproject.toml", "DUCK": "the database file",
            "BEGIN OPENSSH": "an ssh key"}


def traversal(ctx: Ctx, site: Site) -> list[Figure]:
    ups = ["../", "..%2f", "..%2F", "%2e%2e/", "%2e%2e%2f", ".%2e/", "%2e./", "..%5c", "..\\",
           "....//", "..;/", "%252e%252e%252f", "%c0%ae%c0%ae/", "..%00/", "%2e%2e%5c"]
    targets = ["etc/passwd", "app.py", "liveworth/web/app.py", "data/ratecard.toml",
               "pyproject.toml", f"{site.db.name}"]
    prefixes = ["/static/", "/sessions/", "/api/sessions/", "/live/", "/api/live/",
                "/overlay/", "/api/live/x/events/", "/"]
    paths = []
    for prefix in prefixes:
        for up in ups:
            for depth in (1, 4):
                for target in targets:
                    paths.append(prefix + up * depth + target)
    paths += ["/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/file:///etc/passwd",
              f"/static/{ROOT}/pyproject.toml", "/static/liveworth.css/../../app.py",
              "/static/../app.py", "//etc/passwd", "/static/%00", "/static/.",
              "/static/..", "/static/%2e%2e", "/api/sessions/x?channel=../../etc/passwd",
              "/overlay/h?goal_label=../../etc/passwd"]
    leaks: list[str] = []
    statuses: Counter[int] = Counter()

    async def go(port: int) -> None:
        conn = Conn("127.0.0.1", port)
        for p in paths:
            try:
                r = await conn.request(p, timeout=30, first_chunk_only=True)
            except Exception:
                statuses[-1] += 1
                continue
            statuses[r.status] += 1
            text = r.body.decode("latin-1")
            for canary, what in CANARIES.items():
                if canary in text and not (canary == "DUCK" and r.status >= 400):
                    leaks.append(f"{p} → {r.status}: {what}")
        await conn.close()

    with Server(ctx.dir("web/traversal"), site.db) as server:
        asyncio.run(go(server.port))
    return [
        zero(SC6, "path traversal: files outside the app served", len(leaks),
             f"{len(paths)} paths (.. in {len(ups)} encodings × 2 depths × {len(targets)} "
             "targets under /static, every path parameter and the root); " + "; ".join(leaks[:3])),
        zero(SC6, "path traversal: server errors (5xx)",
             sum(v for k, v in statuses.items() if k >= 500 or k < 0)),
        info(SC6, "path traversal: answers", ", ".join(f"HTTP {k}: {v}"
                                                      for k, v in sorted(statuses.items())),
             "the web app has no export or file route besides /static; `liveworth export "
             "--out` writes where its own user says"),
    ]


# ---------------------------------------------------------------------------- the scenarios


@contextlib.contextmanager
def timed(ctx: Ctx, what: str) -> Iterator[None]:
    t0 = time.monotonic()
    yield
    ctx.log(f"  web: {what} took {time.monotonic() - t0:.0f} s")


def run_concurrency(ctx: Ctx) -> list[Figure]:
    reason = web_missing()
    if reason:
        return [skip(SC5, "import and record while the dashboard serves", reason)]
    site = _site(ctx)
    with timed(ctx, "concurrency"):
        return concurrency(ctx, site)


def run_web(ctx: Ctx) -> list[Figure]:
    reason = web_missing()
    if reason:
        return [skip(SC6, name, reason) for name in (
            "200 concurrent clients, p99", "slow clients",
            "schemathesis against /openapi.json",
            "XSS corpus in Chromium", "token beyond loopback", "path traversal")]
    site = _site(ctx)
    out: list[Figure] = []
    for part in (load, slow_clients, schemathesis, xss, token_beyond_loopback, traversal):
        with timed(ctx, part.__name__):
            try:
                out += part(ctx, site)
            except Exception as exc:  # one part's harness failure must not hide the others
                out.append(Figure(SC6, f"{part.__name__}: harness error",
                                  f"{exc.__class__.__name__}", "runs", False, str(exc)[:300]))
    return out


def _site(ctx: Ctx) -> Site:
    if "site" not in ctx.__dict__:
        from faults.common import corpus

        corpus(ctx)  # the simulated sessions
        ctx.__dict__["site"] = build_site(ctx, "site")
    site: Site = ctx.__dict__["site"]
    return site

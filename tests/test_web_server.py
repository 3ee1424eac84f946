"""The web server around the app (``liveworth serve`` and ``liveworth record --serve``): slow and
oversized requests, the connection limit, a busy port, the token kept out of what is printed and
logged, HEAD, and the Host header parsed strictly.

The end-to-end tests run the real command in a process of its own on a free loopback port; the
limits themselves are checked on the shared server (:mod:`liveworth.web.server`) in a thread,
with short timeouts so that the suite stays fast.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from liveworth.web import create_app

from conftest import REPO

PY = sys.executable
EXAMPLE = REPO / "examples" / "real_live_2023-12-05_a.json.gz"
GIVEN = "given-token-Zq81mXv0Lr2"
HALF_HEAD = b"GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LIVEWORTH_TOKEN", "LIVEWORTH_DEBUG")}
    env.update({"LIVEWORTH_CONFIG": str(tmp_path / "none.toml"), "COLUMNS": "120",
                "LIVEWORTH_DB": str(tmp_path / "unused.duckdb"), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def wait_listening(port: int, proc: subprocess.Popen[Any] | None = None,
                   seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, "the server died"
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[tuple[int, Path]]:
    """``liveworth serve`` on a free port; yields the port and the file of its output."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([PY, "-m", "liveworth", "serve", "--db",
                                 str(tmp_path / "w.duckdb"), "--port", str(port), *args],
                                env=cli_env(tmp_path, **env), cwd=tmp_path, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30  # printed once the port is ours: not someone else's
        while "serving" not in log.read_text() and '"url"' not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        wait_listening(port, proc)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def get(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
        timeout: float = 5) -> tuple[int, dict[str, str], bytes, float]:
    """Status, headers, body and seconds taken of one request on a connection of its own."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body, time.monotonic() - t0
    finally:
        conn.close()


def stalled(port: int, n: int) -> list[socket.socket]:
    """``n`` connections that send half a request head and then nothing."""
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(HALF_HEAD)
        out.append(s)
    return out


def closed_by_server(s: socket.socket, timeout: float = 3) -> bool:
    """Whether the server closed ``s`` (or answered it with an error) within ``timeout``."""
    s.settimeout(timeout)
    try:
        data = s.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return data == b"" or data.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4"))


def endless_head(port: int, limit: int = 1 << 20) -> bool:
    """Send a header that never ends, up to ``limit`` bytes: whether the server cut it off."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(HALF_HEAD)
        chunk, sent = b"a" * 16384, 0
        try:
            while sent < limit:
                s.sendall(chunk)
                sent += len(chunk)
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            return True
        return closed_by_server(s)
    finally:
        s.close()


def close_all(socks: list[socket.socket]) -> None:
    for s in socks:
        s.close()


# ---------------------------------------------------------------------------- item 14: limits


def test_slow_and_oversized_heads_do_not_keep_out_a_real_request(tmp_path: Path) -> None:
    with serving(tmp_path) as (port, _):
        held = stalled(port, 250)
        try:
            cut = [endless_head(port) for _ in range(3)]
            status, _, _, seconds = get(port, "/openapi.json")
            assert status == 200 and seconds < 2, (status, seconds)
            assert all(cut), "a header that never ends must be cut off (431, 400 or closed)"
            status, _, _, seconds = get(port, "/sessions")
            assert status == 200 and seconds < 2, (status, seconds)
        finally:
            close_all(held)


@contextmanager
def threaded(app: Any, **limits: Any) -> Iterator[int]:
    """The shared server (the one both commands run) in a thread, with ``limits``."""
    from liveworth.web.server import Limits, listen, make_server

    sockets = listen("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    server = make_server(app, limits=Limits(**limits))
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(tmp_path / "none.duckdb", stream_lifetime_s=0.2, poll_s=0.05)


def test_a_head_not_finished_in_time_is_dropped(app: Any) -> None:
    with threaded(app, head_timeout_s=0.5) as port:
        idle = socket.create_connection(("127.0.0.1", port))
        slow = stalled(port, 3)
        try:
            t0 = time.monotonic()
            assert closed_by_server(idle) and all(closed_by_server(s) for s in slow)
            assert time.monotonic() - t0 < 2.5
            status, _, _, _ = get(port, "/openapi.json")
            assert status == 200
        finally:
            close_all([idle, *slow])


def test_a_trickled_head_is_dropped_too(app: Any) -> None:
    """Bytes that keep coming do not extend the time a head may take."""
    with threaded(app, head_timeout_s=0.6) as port:
        s = socket.create_connection(("127.0.0.1", port))
        try:
            s.sendall(HALF_HEAD)
            t0, dropped = time.monotonic(), False
            while time.monotonic() - t0 < 3 and not dropped:
                try:
                    s.sendall(b"a")
                except OSError:
                    dropped = True
                    break
                time.sleep(0.1)
                dropped = closed_by_server(s, timeout=0.01)
            assert dropped and time.monotonic() - t0 < 2
        finally:
            s.close()


def test_a_connection_is_kept_alive_between_requests(app: Any) -> None:
    with threaded(app, head_timeout_s=0.3) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            for _ in range(3):
                conn.request("GET", "/openapi.json")
                r = conn.getresponse()
                r.read()
                assert r.status == 200
                time.sleep(0.5)  # longer than the head timeout: idle is not a slow head
        finally:
            conn.close()


def test_connections_beyond_the_limit_push_out_the_oldest_waiting(app: Any) -> None:
    with threaded(app, max_connections=20) as port:
        held = stalled(port, 100)
        try:
            for _ in range(5):
                status, _, _, seconds = get(port, "/openapi.json")
                assert status == 200 and seconds < 2, (status, seconds)
            time.sleep(0.2)
            gone = sum(closed_by_server(s, timeout=0.05) for s in held)
            assert gone >= 80, f"only {gone} of 100 waiting connections were closed"
        finally:
            close_all(held)


def test_busy_connections_are_not_pushed_out(app: Any) -> None:
    """An answer in progress (a live stream) keeps its connection when new ones come."""
    with threaded(app, max_connections=5) as port:
        stream = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            stream.sendall(b"GET /api/live/nobody/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert stream.recv(12).startswith(b"HTTP/1.1 200")
            held = stalled(port, 20)
            status, _, _, _ = get(port, "/openapi.json")
            close_all(held)
            assert status == 200
            stream.settimeout(5)
            rest = stream.recv(65536)  # the stream goes on (it ends after stream_lifetime_s)
            assert rest
        finally:
            stream.close()


# ---------------------------------------------------------------------------- item 15: the token


@pytest.mark.parametrize("how", ["env", "option"])
def test_a_given_token_is_neither_printed_nor_logged(tmp_path: Path, how: str) -> None:
    args, env = ("--log-level", "info"), {}
    if how == "env":
        env["LIVEWORTH_TOKEN"] = GIVEN
    else:
        args += ("--token", GIVEN)
    with serving(tmp_path, *args, **env) as (port, log):
        assert get(port, f"/api/sessions?token={GIVEN}")[0] == 200
        assert get(port, f"/sessions?token={GIVEN}&x=1")[0] == 200
        assert get(port, "/api/sessions?token=wrong-token-000000000")[0] == 401
        time.sleep(0.3)
    out = log.read_text()
    assert GIVEN not in out and "wrong-token" not in out, out
    assert "GET /api/sessions HTTP/1.1" in out  # the access log is on, without the query
    assert f"{GIVEN[:2]}…" in out


def test_a_given_token_is_not_in_the_json_either(tmp_path: Path) -> None:
    with serving(tmp_path, "--json", LIVEWORTH_TOKEN=GIVEN) as (port, log):
        assert get(port, "/api/sessions", headers={"authorization": f"Bearer {GIVEN}"})[0] == 200
    out = log.read_text()
    assert GIVEN not in out and '"token_required": true' in out


def test_a_generated_token_is_printed_in_full() -> None:
    import io

    from rich.console import Console

    from liveworth.cli.serve import _print_start

    buf = io.StringIO()
    _print_start(Console(file=buf, width=200), "db", "http://192.0.2.1:8000", "Abc" * 8, True)
    assert "Abc" * 8 in buf.getvalue()
    buf = io.StringIO()
    _print_start(Console(file=buf, width=200), "db", "http://127.0.0.1:8000", "Abc" * 8, False)
    assert "Abc" * 8 not in buf.getvalue() and "Ab…" in buf.getvalue()


# ---------------------------------------------------------------------------- item 16


@contextmanager
def occupied() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _one_line_naming(port: int, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0] and "in use" in lines[0], lines[0]
    assert "Traceback" not in done.stderr


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with occupied() as port:
        done = subprocess.run([PY, "-m", "liveworth", "serve", "--db", str(tmp_path / "w.duckdb"),
                               "--port", str(port)], env=cli_env(tmp_path), cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    _one_line_naming(port, done)
    assert "serving" not in done.stdout and "http://" not in done.stdout


def test_record_serve_on_a_busy_port_records_nothing(tmp_path: Path) -> None:
    db, journal = tmp_path / "s.duckdb", tmp_path / "j"
    with occupied() as port:
        done = subprocess.run([PY, "-m", "liveworth", "record", "--replay", str(EXAMPLE),
                               "--speed", "max", "--db", str(db), "--journal", str(journal),
                               "--quiet", "--serve", str(port)], env=cli_env(tmp_path),
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    _one_line_naming(port, done)
    assert "dashboard" not in done.stdout
    assert not db.exists() and not journal.exists()


def test_head_answers_like_get_without_a_body(app: Any) -> None:
    with threaded(app) as port:
        for path in ("/sessions", "/api/sessions", "/openapi.json", "/static/live.js",
                     "/api/live/nobody", "/overlay/nobody", "/estimate", "/nothing-here"):
            g_status, g_headers, g_body, _ = get(port, path)
            h_status, h_headers, h_body, _ = get(port, path, method="HEAD")
            assert (h_status, h_body) == (g_status, b""), path
            if "content-length" in h_headers:
                assert int(h_headers["content-length"]) == len(g_body), path
            assert h_headers.get("content-type") == g_headers.get("content-type"), path
            assert h_headers["content-security-policy"] == g_headers["content-security-policy"]
        status, headers, body, seconds = get(port, "/api/live/nobody/events", method="HEAD")
        assert status == 200 and body == b"" and seconds < 2
        assert headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize("host", ["[::1]evil.example", "localhost:evil", "[::1]:80:80",
                                  "127.0.0.1:80x", "localhost:", "localhost@evil.example",
                                  "evil.example#localhost", "[::1", "::1", "127.0.0.1 x",
                                  "localhost:99999999", "[evil.example]:80", ""])
def test_malformed_or_foreign_host_headers_are_refused(app: Any, host: str) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/openapi.json", headers={"host": host}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:1",
                                  "[::1]", "[::1]:8000", "[0:0:0:0:0:0:0:1]:8000"])
def test_loopback_host_headers_are_answered(app: Any, host: str) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/openapi.json", headers={"host": host}).status_code == 200


def test_with_a_token_a_malformed_host_is_refused_but_any_name_is_answered(
        tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(tmp_path / "none.duckdb", token=GIVEN)
    auth = {"authorization": f"Bearer {GIVEN}"}
    with TestClient(app, base_url="http://192.0.2.1") as c:
        assert c.get("/openapi.json", headers={**auth, "host": "dash.example:80"}).status_code \
            == 200
        assert c.get("/openapi.json", headers={**auth, "host": "a:b:c"}).status_code == 400

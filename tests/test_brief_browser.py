"""The daily brief in a real headless Chromium: the mailable ``--html`` file opened from disk and
the ``/brief`` page of the web app, with hostile host names, alert texts and rule names shown
as text — no script runs, no console error (a CSP violation is one), nothing is fetched."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from liveworth.cli import main
from liveworth.store.database import Store
from websupport import EVIL_HOST, XSS, XSS_HOST, hostile_events, write_jsonl

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The hostile sessions start on 2023-11-14 (UTC): the brief made for the 15th covers them.
DATE = "2023-11-15"
RULE = "<b onmouseover=alert(2)>whale</b>"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _run(*argv: str) -> int:
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        try:
            return main(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("brief-browser")
    path = str(folder / "b.duckdb")
    assert _run("import", str(write_jsonl(folder / "h.jsonl", hostile_events())), "--db",
                path) == 0
    with Store.open(path) as store:
        for i, (host, text) in enumerate(((EVIL_HOST, XSS[0]), (XSS_HOST, XSS[1]))):
            store.query('INSERT INTO alerts (room_id, rule, "key", kind, ts, host, text) '
                        "VALUES ($1, $2, $3, 'gift', $4, $5, $6)",
                        ["xss-room", RULE, f"k{i}", 1_700_000_000_000 + i, host, text])
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class _Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


def _watched(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(f"{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: trouble.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (trouble.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: trouble.append(f"fetched {r.url}")
            if not r.url.startswith(("file://", "http://127.0.0.1")) else None)
    return context, page, trouble


def _check_hostile_text(page: Any) -> None:
    hosts = [t.strip() for t in page.locator("#creators td.host").all_text_contents()]
    assert hosts == ["@" + EVIL_HOST, "@" + XSS_HOST]  # sorted by host, shown as typed
    alerts = [t.strip() for t in page.locator("#alerts td.alert").all_text_contents()]
    assert alerts == [XSS[0], XSS[1]]
    assert page.locator("#alerts td", has_text="whale").first.text_content() == RULE
    assert page.locator("main img, body > img, #creators img, #alerts img, b[onmouseover]") \
        .count() == 0
    assert page.locator("script").count() == 0


def test_mailable_html_file_in_chromium(db: str, browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "brief.html"
    assert _run("brief", "--db", db, "--date", DATE, "--html", str(out)) == 0
    context, page, trouble = _watched(browser)
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert page.locator("h1").text_content() == "Daily brief for 2023-11-14"
    _check_hostile_text(page)
    context.close()
    assert not trouble, trouble


def test_brief_page_in_chromium(db: str, browser: Any) -> None:
    from liveworth.web import create_app

    with _Server(create_app(db)) as server:
        context, page, trouble = _watched(browser)
        response = page.goto(f"{server.url}/brief?date={DATE}&tz=UTC")
        assert response.status == 200
        page.wait_for_load_state("load")
        assert page.locator("main h1").text_content() == "Daily brief for 2023-11-14"
        _check_hostile_text(page)
        page.get_by_test_id("json-twin").click()
        page.wait_for_url("**/api/brief?date=2023-11-15")
        assert '"date":"2023-11-14"' in page.content()
        context.close()
    assert not trouble, trouble

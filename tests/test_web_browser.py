"""The web app in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The app runs under uvicorn in a background thread on a free loopback port. Every page loads
without a console error (a Content-Security-Policy violation is one); the live page and the
overlay follow gifts recorded into the store during the test; hostile viewer names run nothing.
Screenshots go to out/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from liveworth.web import create_app
from websupport import (
    EVIL_HOST,
    REAL_HOST,
    REAL_ROOM,
    STEADY_HOST,
    TOKEN,
    XSS_HOST,
    XSS_ROOM,
    build_db,
    gift,
    live_start_events,
    record,
)

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "out" / "screenshots"
#: How long a page may take to show a gift recorded into the store (the app polls every 0.5 s).
UPDATE_TIMEOUT_MS = 5000

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install playwright)")


class Server:
    """The app under uvicorn in a thread, on a loopback port picked by the system."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("browser") / "browser.duckdb")


@pytest.fixture(scope="module")
def server(db: str) -> Iterator[Server]:
    with Server(create_app(db, stream_lifetime_s=60)) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are all kept."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, url: str) -> Any:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        return response

    def shot(self, name: str, **kw: Any) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled", **kw)

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.text_content()).strip()

    def wait_text(self, selector: str, text: str) -> float:
        """Seconds until ``selector``'s text is ``text``."""
        t0 = time.monotonic()
        self.page.wait_for_function(
            "([sel, want]) => { const el = document.querySelector(sel);"
            " return el !== null && el.textContent.trim() === want; }",
            arg=[selector, text], timeout=UPDATE_TIMEOUT_MS)
        return time.monotonic() - t0

    def wait_streaming(self) -> None:
        """Until the page has rendered a state from the event stream."""
        self.page.wait_for_selector("[data-live][data-updated]", state="attached",
                                    timeout=UPDATE_TIMEOUT_MS)


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    w = Watched(context.new_page())
    w.page.on("console", lambda m: w.errors.append(f"{m.type}: {m.text}")
              if m.type == "error" else None)
    w.page.on("pageerror", lambda e: w.errors.append(f"uncaught: {e}"))

    def on_dialog(dialog: Any) -> None:  # an alert() means a payload ran: the test fails
        w.dialogs.append(dialog.message)
        dialog.dismiss()

    w.page.on("dialog", on_dialog)
    yield w
    context.close()
    assert not w.dialogs, f"a script from the data ran: {w.dialogs}"
    assert not w.errors, f"console errors: {w.errors}"


def new_live(db: str, name: str) -> tuple[str, str, int]:
    """A LIVE of its own for one test, started just now: (room, host, start ms); 5 coins."""
    room, host, t0 = f"room-{name}", f"host_{name}", int(time.time() * 1000)
    record(db, live_start_events(room, host, t0))
    return room, host, t0


# ---------------------------------------------------------------------------- every page


def pages() -> list[tuple[str, str]]:
    return [
        ("sessions", "/sessions"),
        ("session-real", f"/sessions/{REAL_ROOM}"),
        ("session-hostile", f"/sessions/{XSS_ROOM}"),
        ("estimate-form", "/estimate"),
        ("estimate", "/estimate?followers=5000&minutes=60&per_week=3"),
        ("live-hostile", f"/live/{XSS_HOST}"),
        ("overlay-hostile", f"/overlay/{XSS_HOST}?goal=1000&top=5"),
        ("live-evil-host", f"/live/{quote(EVIL_HOST, safe='')}"),
        ("analysis", f"/creators/{STEADY_HOST}/analysis"),
        ("analysis-too-few", f"/creators/{REAL_HOST}/analysis"),
        ("analysis-evil-host", f"/creators/{quote(EVIL_HOST, safe='')}/analysis"),
        ("gifters", "/gifters"),
        ("gifters-host", f"/gifters?host={STEADY_HOST}"),
        ("gifters-hostile", f"/gifters?host={XSS_HOST}"),
        ("roster", "/roster?as_of=2024-06-20"),
        ("roster-week", "/roster?period=week&as_of=2024-06-20"),
        ("error-404", "/sessions/no-such-room"),
        ("error-404-analysis", "/creators/nobody_here/analysis"),
    ]


@pytest.mark.parametrize(("name", "path"), pages())
def test_page_loads_clean(server: Server, page: Watched, name: str, path: str) -> None:
    response = page.goto(server.url + path)
    if name.startswith("error"):
        assert response.status == 404
        page.errors[:] = [e for e in page.errors if "status of 404" not in e]  # the document's
    else:
        assert response.status == 200
    assert page.page.locator("main, .ov").count() == 1
    if "/live/" in path or "/overlay/" in path:
        page.wait_streaming()
    page.shot(name, full_page=True)


def test_pages_link_to_their_json_twin(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/sessions/{REAL_ROOM}")
    page.page.get_by_test_id("json-twin").click()
    page.page.wait_for_url(f"**/api/sessions/{REAL_ROOM}")
    assert f'"room_id":"{REAL_ROOM}"' in page.page.content()


def test_analysis_gifters_and_roster_are_linked(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/sessions")
    page.page.locator(f'a[href="/creators/{STEADY_HOST}/analysis"]').first.click()
    page.page.wait_for_url(f"**/creators/{STEADY_HOST}/analysis")
    assert page.page.get_by_test_id("too-few").count() == 0
    assert page.text("h1") == f"@{STEADY_HOST}: what drives the money"
    page.page.locator("nav.top a", has_text="Gifters").click()
    page.page.wait_for_url("**/gifters")
    page.page.fill("input[name=host]", STEADY_HOST)  # the filter form, a plain GET
    page.page.click("form.filter:not(.card-options) button")
    page.page.wait_for_url(f"**/gifters?host={STEADY_HOST}*")
    assert page.text("h1") == f"Gifters of @{STEADY_HOST}"
    page.page.locator("nav.top a", has_text="Roster").click()
    page.page.wait_for_url("**/roster")
    assert page.text("h1") == "Roster by month"


# ---------------------------------------------------------------------------- live updates


def test_live_page_follows_recorded_gifts(server: Server, page: Watched, db: str) -> None:
    room, host, t0 = new_live(db, "livepage")
    page.goto(f"{server.url}/live/{host}")
    assert page.text('[data-field="coins"]') == "5"
    assert page.text('[data-field="status"]') == "LIVE"
    page.wait_streaming()
    started = time.monotonic()
    record(db, [gift(room, "big", t0 + 60_000, "whale", "Big Whale", 29_999)])
    waited = page.wait_text('[data-field="coins"]', "30,004")
    assert time.monotonic() - started < UPDATE_TIMEOUT_MS / 1000
    assert page.text('[data-field="creator_usd"]') == "$150.02"
    page.wait_text('[data-list="top_gifters"] li .who', "Big Whale")
    assert page.text('[data-list="recent_gifts"] li .what') == "Rose ×1"
    record(db, [{"v": 1, "type": "viewers", "room_id": room, "msg_id": "v9",
                 "ts": t0 + 61_000, "current": 4321}])
    page.wait_text('[data-field="viewers"]', "4,321")
    page.shot("live-updated", full_page=True)
    print(f"live page updated {waited:.2f} s after the gift was recorded")


def test_overlay_follows_recorded_gifts(server: Server, page: Watched, db: str) -> None:
    room, host, t0 = new_live(db, "overlay")
    page.goto(f"{server.url}/overlay/{host}?goal=1000&goal_label=Goal&top=3")
    fill = page.page.locator("[data-goal-fill]")
    # 5 of 1,000 coins, before any event
    assert fill.evaluate("el => parseFloat(el.style.width)") == 0.5
    page.wait_streaming()
    for selector in ("html", "body"):  # a transparent browser source
        assert page.page.locator(selector).evaluate(
            "el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    record(db, [gift(room, "half", t0 + 30_000, "fan2", "Second Fan", 495)])
    waited = page.wait_text('[data-field="coins"]', "500")
    assert page.text('[data-field="creator_usd"]') == "$2.50"
    page.page.wait_for_function(
        "() => parseFloat(document.querySelector('[data-goal-fill]').style.width) === 50",
        timeout=UPDATE_TIMEOUT_MS)
    assert page.text('[data-field="goal_pct"]') == "50 %"
    page.wait_text('[data-list="top_gifters"] li .who', "Second Fan")
    page.shot("overlay-updated", omit_background=True)
    print(f"overlay updated {waited:.2f} s after the gift was recorded")


def test_overlay_goal_in_dollars(server: Server, page: Watched, db: str) -> None:
    room, host, t0 = new_live(db, "usdgoal")
    page.goto(f"{server.url}/overlay/{host}?goal=10&goal_unit=usd&theme=light&size=l")
    page.wait_streaming()
    record(db, [gift(room, "usd", t0 + 30_000, "fan3", "fan3", 495)])  # $2.50 of $10
    page.page.wait_for_function(
        "() => parseFloat(document.querySelector('[data-goal-fill]').style.width) === 25",
        timeout=UPDATE_TIMEOUT_MS)
    page.shot("overlay-usd-light", omit_background=True)


# ---------------------------------------------------------------------------- hostile input


def test_hostile_names_execute_nothing(server: Server, page: Watched, db: str) -> None:
    room, host, t0 = new_live(db, "hostile")
    for path in (f"/sessions/{XSS_ROOM}", f"/live/{XSS_HOST}", f"/overlay/{XSS_HOST}?top=10",
                 f"/overlay/{quote(EVIL_HOST, safe='')}?top=10", "/sessions",
                 f"/creators/{quote(EVIL_HOST, safe='')}/analysis", f"/gifters?host={XSS_HOST}",
                 "/roster", f"/live/{host}"):
        page.goto(server.url + path)
        if path.startswith(("/live/", "/overlay/")):
            page.wait_streaming()
    # and names arriving live, through the event stream, are text too
    record(db, [gift(room, f"x{i}", t0 + 40_000 + i, f"bad{i}", name, 100 + i, gift_name=name)
                for i, name in enumerate(("<script>alert(1)</script>",
                                          "<img src=x onerror=alert(1)>"))])
    page.wait_text('[data-list="top_gifters"] li .who', "<img src=x onerror=alert(1)>")
    page.page.wait_for_timeout(300)  # give an injected handler the time to fire
    assert page.page.evaluate("document.querySelectorAll('img, svg[onload], main script, "
                              ".ov script').length") == 0
    page.shot("hostile-live", full_page=True)


# ---------------------------------------------------------------------------- the token


def test_token_from_the_url_carries_the_overlay(browser: Any, db: str) -> None:
    token = TOKEN
    with Server(create_app(db, token=token, stream_lifetime_s=60)) as guarded:
        context = browser.new_context()
        try:
            p = Watched(context.new_page())
            p.page.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
            denied = p.goto(f"{guarded.url}/overlay/{XSS_HOST}")
            assert denied.status == 401
            room, host, t0 = new_live(db, "token")
            assert p.goto(f"{guarded.url}/overlay/{host}?token={token}&goal=100").status == 200
            p.wait_streaming()
            record(db, [gift(room, "t1", t0 + 30_000, "fan", "fan", 45)])
            p.wait_text('[data-field="coins"]', "50")
            cookies = {c["name"]: c for c in context.cookies()}
            assert cookies["liveworth_token"]["httpOnly"]
            assert cookies["liveworth_token"]["sameSite"] == "Strict"
            assert p.page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
        finally:
            context.close()


# ---------------------------------------------------------------------------- alerts


def test_live_page_and_overlay_show_new_alerts_as_text(server: Server, page: Watched,
                                                       db: str) -> None:
    """An alert the recorder stores reaches the live page's list and the overlay's toast
    (?alerts=1) through the event stream; its text (a viewer's comment) is only text."""
    from websupport import writer

    room, host, t0 = new_live(db, "alerting")
    evil = "<img src=x onerror=alert(1)> gg"
    page.goto(f"{server.url}/overlay/{host}?alerts=1")
    page.wait_streaming()
    assert page.page.locator("[data-alert-toast]").is_hidden()
    with writer(db) as store:
        store.con.execute(
            'INSERT INTO alerts (room_id, rule, "key", kind, ts, host, text) VALUES '
            "(?, 'gg', 'comment:c1', 'keyword', ?, ?, ?)", [room, t0 + 1000, host, evil])
    record(db, [gift(room, "after-alert", t0 + 2000, "fan9", "fan9", 1)])  # the data changes
    page.page.wait_for_selector("[data-alert-toast]:not([hidden])", timeout=UPDATE_TIMEOUT_MS)
    assert page.text("[data-alert-toast]") == evil
    page.shot("overlay-alert", omit_background=True)
    page.goto(f"{server.url}/live/{host}")
    assert page.text('[data-list="alerts"] li .what') == evil
    assert page.text('[data-list="alerts"] li .rule') == "gg"
    page.page.wait_for_timeout(300)
    assert page.page.evaluate("document.querySelectorAll('img').length") == 0
    page.goto(f"{server.url}/alerts?host={host}")
    assert page.page.locator("table.alerts tbody tr").count() == 1
    assert evil in page.text("table.alerts tbody")

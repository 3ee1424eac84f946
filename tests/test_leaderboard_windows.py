"""Leaderboards by window (``gifters --window``, ``/gifters?window=``, ``/overlay/{host}?board=``)
and the end-of-LIVE credits (``/overlay/{host}/credits``, the report's ``credits``).

The history is simulated (``liveworth simulate --sessions``) for two creators; every window's
sums are checked against an independent count over the ledger's credits in Python. The overlays
run in headless Chromium with hostile gifter names.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.analysis.boards import board
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import Store
from liveworth.web import create_app
from websupport import XSS, TestClient, record

from conftest import Result

DAY = 86_400_000
HOST, OTHER = "sim_windows", "sim_other"
LOCAL = "http://127.0.0.1"
CLI = Callable[..., Result]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from liveworth.cli import main

    tmp = tmp_path_factory.mktemp("windows")
    path = str(tmp / "w.duckdb")
    for host, seed, start in ((HOST, "11", "2024-03-01"), (OTHER, "12", "2024-03-04")):
        out = tmp / f"{host}.jsonl"
        assert main(["simulate", "--followers", "2000", "--sessions", "9", "--per-week", "4",
                     "--seed", seed, "--start", start, "--host", host, "--room-id", host,
                     "--out", str(out)]) == 0
        assert main(["import", "--db", path, str(out)]) == 0
    return path


def credits_rows(db: str) -> list[tuple[str, str, int, str | None, int]]:
    """(room, host, ts, user_id, coins) of every credit to a host, read plainly."""
    with Store.open(db, read_only=True) as store:
        hosts = dict(store.query("SELECT room_id, any_value(host) FROM events "
                                 "WHERE type = 'live_start' GROUP BY room_id"))
        rows = store.query("SELECT room_id, ts, user_id, coins FROM credits WHERE NOT guest")
    return [(r, hosts[r], int(ts), u, int(c)) for r, ts, u, c in rows]


def latest(db: str) -> int:
    with Store.open(db, read_only=True) as store:
        return int(store.query("SELECT max(ts) FROM events")[0][0])


def starts(db: str) -> dict[str, int]:
    with Store.open(db, read_only=True) as store:
        return {r: int(t) for r, t in store.query(
            "SELECT room_id, min(ts) FROM events WHERE type = 'live_start' GROUP BY room_id")}


def expected(db: str, host: str | None, window: str, as_of: int) -> dict[str | None, int]:
    """The coins per gifter of a window, counted independently of the library's SQL."""
    rows = [r for r in credits_rows(db) if host is None or r[1] == host]
    if window == "live":
        st_ = {r: t for r, t in starts(db).items() if t <= as_of}
        room = max((r for r in st_ if any(x[0] == r for x in rows)), key=lambda r: st_[r])
        rows = [r for r in rows if r[0] == room]
    elif window in ("7d", "30d"):
        days = 7 if window == "7d" else 30
        rows = [r for r in rows if as_of - days * DAY < r[2]]
    out: dict[str | None, int] = defaultdict(int)
    for _, _, ts, user, coins in rows:
        if ts <= as_of:
            out[user] += coins
    return dict(out)


def end_of(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp() * 1000) \
        + DAY - 1


@pytest.mark.parametrize("window", ["live", "7d", "30d", "lifetime"])
@pytest.mark.parametrize("as_of", [None, "2024-03-10", "2024-03-20"])
def test_window_sums_are_exact(cli: CLI, db: str, window: str, as_of: str | None) -> None:
    args = ["--as-of", as_of] if as_of else []
    r = cli("gifters", "--db", db, "--host", f"@{HOST}", "--window", window, "--json", *args)
    assert r.code == 0, r.err
    got = {g["user_id"]: g["coins"] for g in r.json()}
    want = expected(db, HOST, window, end_of(as_of) if as_of else latest(db))
    assert got == want
    assert len(got) > 0
    coins = [g["coins"] for g in r.json()]
    assert coins == sorted(coins, reverse=True)
    total = sum(want.values())
    assert all(g["share"] == round(g["coins"] / total, 4) for g in r.json())


def test_windows_over_every_creator_and_live_needs_a_host(cli: CLI, db: str) -> None:
    r = cli("gifters", "--db", db, "--window", "30d", "--json")
    assert {g["user_id"]: g["coins"] for g in r.json()} == expected(db, None, "30d", latest(db))
    r = cli("gifters", "--db", db, "--window", "live")
    assert r.code == 2 and "--host" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("gifters", "--db", db, "--window", "7d", "--as-of", "2024-02-30")
    assert r.code == 2 and "2024-02-30" in r.err
    table = cli("gifters", "--db", db, "--host", HOST, "--window", "7d")
    assert table.code == 0 and "the 7 days up to" in table.out


@pytest.fixture(scope="module")
def card() -> Any:
    return load_rate_card()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=0, max_value=40 * DAY))
def test_windows_nest(db: str, card: Any, offset: int) -> None:
    """Whatever the as-of day: the 7 days' coins of each gifter ≤ the 30 days' ≤ lifetime's,
    and every window adds up to the independent count."""
    day = (dt.date(2024, 3, 1) + dt.timedelta(milliseconds=offset)).isoformat()
    with Store.open(db, read_only=True) as store:
        boards = {w: {r.stats.user_id: r.stats.coins
                      for r in board(store, card, host=HOST, window=w, as_of=day).rows}
                  for w in ("7d", "30d", "lifetime")}
    for user, coins in boards["7d"].items():
        assert coins <= boards["30d"][user] <= boards["lifetime"][user]
    assert boards["30d"] == expected(db, HOST, "30d", end_of(day))


# ---------------------------------------------------------------------------- web twins


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db), base_url=LOCAL) as c:
        yield c


def test_web_windows_equal_the_cli(cli: CLI, api: TestClient, db: str) -> None:
    for window in ("live", "7d", "30d", "lifetime"):
        web = api.get(f"/api/gifters?host={HOST}&window={window}&as_of=2024-03-20")
        assert web.status_code == 200
        r = cli("gifters", "--db", db, "--host", HOST, "--window", window, "--as-of",
                "2024-03-20", "--json")
        assert web.json() == r.json(), window
    page = api.get(f"/gifters?host={HOST}&window=7d")
    assert page.status_code == 200 and 'href="/api/gifters?host=sim_windows&amp;window=7d"' \
        in page.text
    assert api.get("/api/gifters?window=9d").status_code == 422
    assert api.get("/api/gifters?as_of=2024-13-01").status_code == 400
    assert api.get("/api/gifters?window=live").status_code == 400
    overdue = api.get(f"/api/gifters?host={HOST}&overdue=true").json()
    assert overdue == cli("gifters", "--db", db, "--host", HOST, "--overdue", "--json").json()
    assert all(g["overdue"] for g in overdue)


def test_gifter_page_and_twin(cli: CLI, api: TestClient, db: str) -> None:
    top = api.get(f"/api/gifters?host={HOST}&top=1").json()[0]
    uid = top["user_id"]
    twin = api.get(f"/api/gifters/{HOST}/{uid}")
    assert twin.status_code == 200
    assert twin.json() == cli("gifter", uid, "--db", db, "--host", HOST, "--json").json()
    assert twin.json()["coins"] == top["coins"] and twin.json()["rank"] == 1
    assert sum(s["coins"] for s in twin.json()["gift_sessions"]) == top["coins"]
    page = api.get(f"/gifters/{HOST}/{uid}")
    assert page.status_code == 200 and f"/api/gifters/{HOST}/{uid}" in page.text
    assert f'href="/gifters/{HOST}/{uid}"' in api.get(f"/gifters?host={HOST}").text
    assert api.get(f"/api/gifters/{HOST}/nobody").status_code == 404
    assert api.get(f"/gifters/{HOST}/nobody").status_code == 404


def test_credits_twin_is_the_live_window_and_the_report(cli: CLI, api: TestClient,
                                                        db: str) -> None:
    c = api.get(f"/api/overlay/{HOST}/credits").json()
    live = {u: n for u, n in expected(db, HOST, "live", latest(db)).items()}
    assert {g["user_id"]: g["coins"] for g in c["gifters"]} == live
    assert c["coins"] == sum(live.values()) and c["gifters_total"] == len(live)
    rep = cli("report", c["room_id"], "--db", db, "--json").json()
    assert [(g["user_id"], g["coins"]) for g in rep["credits"]] == [
        (g["user_id"], g["coins"]) for g in c["gifters"]]
    assert sum(g["coins"] for g in rep["credits"]) == rep["coins"]
    assert api.get(f"/api/sessions/{c['room_id']}").json()["credits"] == rep["credits"]
    text = cli("report", c["room_id"], "--db", db)
    assert "Credits" in text.out
    assert api.get("/api/overlay/nobody_here/credits").json()["gifters"] == []
    assert api.get(f"/api/overlay/{HOST}/credits?top=2").json()["gifters"] == c["gifters"][:2]


def test_report_html_lists_the_credits(cli: CLI, db: str, tmp_path: Path) -> None:
    room = min(r for r in starts(db) if r.startswith(HOST))
    out = tmp_path / "r.html"
    assert cli("report", room, "--db", db, "--html", str(out)).code == 0
    html = out.read_text(encoding="utf-8")
    rep = cli("report", room, "--db", db, "--json").json()
    assert "<h2>Credits</h2>" in html
    assert html.count("<li><span class='who'>") == len(rep["credits"]) > 0


# ---------------------------------------------------------------------------- Chromium

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = "evil_credits"


class Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> Server:
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


def evil_session(t0: int, names: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"v": 1, "type": "live_start", "room_id": "evil-room",
                                  "msg_id": "start", "ts": t0, "host": EVIL, "host_id": "66"}]
    for i, name in enumerate(names):
        out.append({"v": 1, "type": "gift", "room_id": "evil-room", "msg_id": f"e{i}",
                    "ts": t0 + 1000 * (i + 1), "user_id": f"evil{i}", "user": name,
                    "nickname": name, "gift_id": 1, "gift_name": "Rose",
                    "coins": 100 - i, "gift_type": 2, "repeat_count": 1, "repeat_end": True,
                    "group_id": "g"})
    return out


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("credits") / "c.duckdb")
    with Store.open(path):
        pass
    record(path, evil_session(int(time.time() * 1000), XSS))
    return path


@pytest.fixture(scope="module")
def page_of(browser_db: str) -> Iterator[Callable[..., Any]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with Server(create_app(browser_db)) as server, sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        problems: list[str] = []

        def open_page(path: str, motion: str = "no-preference") -> Any:
            ctx = b.new_context(viewport={"width": 800, "height": 600}, reduced_motion=motion)
            pg = ctx.new_page()
            pg.on("dialog", lambda d: (problems.append(d.message), d.dismiss()))
            pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.goto(server.url + path)
            pg.wait_for_load_state("load")
            return pg

        yield open_page
        b.close()
        assert not problems, problems


def names_in(pg: Any, selector: str) -> list[str]:
    return [str(t) for t in pg.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")]


def test_credits_roll_shows_hostile_names_as_text_and_follows_the_live(
        page_of: Callable[..., Any], browser_db: str) -> None:
    pg = page_of(f"/overlay/{EVIL}/credits?refresh=1&seconds=30")
    pg.wait_for_selector("[data-credits][data-updated]", state="attached", timeout=5000)
    assert names_in(pg, ".credits-list .who") == list(XSS)
    assert pg.locator(".credits-list img, .credits-list script").count() == 0
    roll = pg.eval_on_selector("[data-roll]", "e => [getComputedStyle(e).animationName, "
                               "getComputedStyle(e).animationDuration]")
    assert roll == ["credits-roll", "30s"]
    bg = pg.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor")
    assert bg == "rgba(0, 0, 0, 0)"  # transparent for OBS
    t0 = int(time.time() * 1000)
    record(browser_db, [{"v": 1, "type": "gift", "room_id": "evil-room", "msg_id": "late",
                         "ts": t0, "user_id": "late1", "user": "late_fan",
                         "nickname": "Late <b>Fan</b>", "gift_id": 1, "gift_name": "Lion",
                         "coins": 500, "gift_type": 2, "repeat_count": 1,
                         "repeat_end": True, "group_id": "g"}])
    pg.wait_for_function("() => document.querySelector('.credits-list .who').textContent"
                         " === 'Late <b>Fan</b>'", timeout=5000)


def test_credits_honour_reduced_motion(page_of: Callable[..., Any]) -> None:
    pg = page_of(f"/overlay/{EVIL}/credits", motion="reduce")
    assert pg.eval_on_selector("[data-roll]", "e => getComputedStyle(e).animationName") == "none"
    assert pg.locator(".credits-list li").first.is_visible()


def test_overlay_board_option_lists_the_window(page_of: Callable[..., Any]) -> None:
    pg = page_of(f"/overlay/{EVIL}?board=7d&top=3")
    pg.wait_for_selector("[data-board][data-updated]", state="attached", timeout=5000)
    assert pg.locator(".ov-board-title").text_content() == "top gifters · 7 days"
    shown = names_in(pg, "[data-list=board] .who")
    assert len(shown) == 3 and set(shown) <= {*XSS, "Late <b>Fan</b>"}
    assert pg.locator("[data-list=board] img").count() == 0
    # the board list is the window's, not the live state's (live.js leaves it alone)
    pg.wait_for_selector("[data-live][data-updated]", state="attached", timeout=5000)
    assert names_in(pg, "[data-list=board] .who") == shown
    assert json.loads(pg.evaluate("() => JSON.stringify([...document.querySelectorAll("
                                  "'[data-list=top_gifters]')].length)")) == 0
    assert quote(EVIL) in pg.url


def test_gifter_page_and_leaderboard_show_hostile_tags_as_text(
        page_of: Callable[..., Any], browser_db: str) -> None:
    from liveworth.analysis.crm import change
    from websupport import writer

    with writer(browser_db) as store:
        change(store, EVIL, "evil1", tag=[XSS[0]], note=XSS[1])
    pg = page_of(f"/gifters?host={EVIL}")
    assert pg.locator("table.gifters .tag").first.text_content() == XSS[0].lower()
    pg.locator(f'a[href="/gifters/{EVIL}/evil1"]').click()
    pg.wait_for_url(f"**/gifters/{EVIL}/evil1")
    assert pg.locator("h1").first.text_content().startswith(XSS[1])
    assert pg.locator("[data-testid=tags] .tag").text_content() == XSS[0].lower()
    assert pg.locator("[data-testid=notes] li").first.text_content().startswith(XSS[1])
    assert pg.locator("main img, main script").count() == 0

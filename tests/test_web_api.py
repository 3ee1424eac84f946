"""The web app in-process: every JSON route, its page, the token, hostile input, the store's
locking, the estimator's absence and the OpenAPI description."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from markupsafe import escape

from liveworth.analysis.report import list_sessions, session_report
from liveworth.analysis.sessionlist import is_empty
from liveworth.decode.events import event_from_dict
from liveworth.economy.ratecard import load_rate_card
from liveworth.store import ledger
from liveworth.store.database import Store, events_table
from liveworth.web import create_app
from liveworth.web.db import SharedConnection
from liveworth.web.estimator import estimator
from liveworth.web.live import IDLE_MS, live_state
from liveworth.web.security import COOKIE
from websupport import (
    EVIL_HOST,
    EVIL_HOST_ROOM,
    HOSTILE,
    LIVE_HOST,
    LIVE_ROOM,
    REAL_HOST,
    REAL_ROOM,
    STEADY_HOST,
    STEADY_SESSIONS,
    T0,
    TOKEN,
    XSS,
    XSS_HOST,
    XSS_ROOM,
    TestClient,
    build_db,
    gift,
    record,
    writer,
)

from conftest import REPO, Result

CARD = load_rate_card()
LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("web") / "web.duckdb")


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    """A database of its own, for tests that write."""
    return build_db(tmp_path / "fresh.duckdb", real=False)


def client(db: str, **kw: Any) -> TestClient:
    kw.setdefault("stream_lifetime_s", 0.3)
    kw.setdefault("poll_s", 0.05)
    return TestClient(create_app(db, **kw), base_url=LOCAL)


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with client(db) as c:
        yield c


def events_of(body: str) -> list[dict[str, Any]]:
    """The ``state`` events of a server-sent event stream."""
    out = []
    for block in body.split("\n\n"):
        lines = block.splitlines()
        if "event: state" in lines:
            out.append(json.loads("".join(ln[6:] for ln in lines if ln.startswith("data: "))))
    return out


# ---------------------------------------------------------------------------- JSON routes


def test_api_sessions_is_the_session_list(api: TestClient, db: str) -> None:
    r = api.get("/api/sessions?all=true")  # empty sessions too (hidden by default)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    with Store.open(db, read_only=True) as store:
        rows = list_sessions(store, CARD)
        assert r.json() == [row.as_dict() for row in rows]
    assert {s["room_id"] for s in r.json()} >= {REAL_ROOM, XSS_ROOM, LIVE_ROOM}
    assert api.get("/api/sessions").json() == [row.as_dict() for row in rows
                                               if not is_empty(row)]


def test_api_session_is_the_report_json_for_every_session(api: TestClient, db: str) -> None:
    with Store.open(db, read_only=True) as store:
        expected = {room: session_report(store, room, CARD).as_dict() for room in store.rooms()}
    assert len(expected) > 60
    for room, report in expected.items():
        r = api.get(f"/api/sessions/{quote(room, safe='')}")
        assert r.status_code == 200, room
        assert r.json() == report


def test_api_session_of_the_real_recording(api: TestClient) -> None:
    rep = api.get(f"/api/sessions/{REAL_ROOM}").json()
    assert (rep["host"], rep["coins"], rep["creator_usd"]) == (REAL_HOST, 77, "0.385")


def test_api_session_options(api: TestClient) -> None:
    web = api.get(f"/api/sessions/{REAL_ROOM}?channel=web").json()
    assert web["channel"] == "web" and web["viewer_usd"] == "0.814"  # 77 × 0.74 / 70
    assert api.get(f"/api/sessions/{REAL_ROOM}?channel=nope").status_code == 400
    redacted = api.get(f"/api/sessions/{REAL_ROOM}?redact=true").json()
    assert all(g["user"].startswith("viewer-") and not g["nickname"]
               for g in redacted["top_gifters"])


def test_api_session_unknown_is_404(api: TestClient) -> None:
    r = api.get("/api/sessions/no-such-room")
    assert r.status_code == 404 and "no session" in r.json()["detail"]
    assert api.get("/sessions/no-such-room").status_code == 404


def test_api_live_of_a_recorded_host(api: TestClient, db: str) -> None:
    r = api.get(f"/api/live/{REAL_HOST}")
    assert r.status_code == 200
    s = r.json()
    assert (s["room_id"], s["coins"], s["creator_usd"]) == (REAL_ROOM, 77, "0.385")
    assert s["status"] == "idle"  # no live_end, recorded in 2023
    assert s["display"]["creator_usd"] == "$0.38" and len(s["top_gifters"]) == 5
    with Store.open(db, read_only=True) as store:
        same = live_state(store, REAL_HOST, CARD, now_ms=s["last_ts"] + IDLE_MS + 1)
    assert same.as_dict() == s


@pytest.mark.parametrize("spelling", ["@crecee.saraa", "CRECEE.SARAA", " crecee.saraa "])
def test_api_live_matches_the_host_loosely(api: TestClient, spelling: str) -> None:
    assert api.get(f"/api/live/{quote(spelling)}").json()["room_id"] == REAL_ROOM


def test_api_live_matches_live_start_host(api: TestClient) -> None:
    s = api.get(f"/api/live/{LIVE_HOST}?top=1&recent=1").json()
    assert (s["room_id"], s["coins"], s["viewers"], s["gifters"]) == (LIVE_ROOM, 5, 120, 1)
    assert len(s["top_gifters"]) == 1 and s["top_gifters"][0]["name"] == "first_fan"


def test_api_live_of_an_unknown_host_waits(api: TestClient) -> None:
    s = api.get("/api/live/nobody_here").json()
    assert (s["status"], s["room_id"], s["coins"], s["creator_usd"]) == ("none", None, 0, "0")


@pytest.mark.parametrize("query", ["top=21", "top=-1", "recent=x"])
def test_api_live_checks_its_query(api: TestClient, query: str) -> None:
    assert api.get(f"/api/live/{LIVE_HOST}?{query}").status_code == 422


def test_api_live_events_stream_the_state(api: TestClient) -> None:
    r = api.get(f"/api/live/{LIVE_HOST}/events")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text.startswith("retry: ")
    states = events_of(r.text)
    assert len(states) == 1  # sent when the stream opens; nothing changed since
    assert states[0] == api.get(f"/api/live/{LIVE_HOST}").json()


def test_live_follows_what_is_recorded(fresh_db: str) -> None:
    with client(fresh_db) as c:
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 5
        record(fresh_db, [gift(LIVE_ROOM, "big", T0 + 60_000, "whale", "whale", 29_999)])
        s = c.get(f"/api/live/{LIVE_HOST}").json()
        assert (s["coins"], s["creator_usd"]) == (30_004, "150.02")
        assert s["top_gifters"][0]["name"] == "whale"
        assert s["recent_gifts"][0]["coins"] == 29_999
        record(fresh_db, [{"v": 1, "type": "live_end", "room_id": LIVE_ROOM, "msg_id": "end",
                           "ts": T0 + 70_000}])
        assert c.get(f"/api/live/{LIVE_HOST}").json()["status"] == "ended"


def test_live_status_is_idle_after_a_quiet_while(db: str) -> None:
    with Store.open(db, read_only=True) as store:
        def status(now: int | None) -> str:
            return live_state(store, LIVE_HOST, CARD, now_ms=now).status

        assert status(None) == status(T0 + IDLE_MS) == "live"
        assert status(T0 + 20 + IDLE_MS + 1) == "idle"


@pytest.mark.skipif(estimator() is None, reason="liveworth.model.estimate is not installed")
def test_api_estimate(api: TestClient) -> None:
    r = api.get("/api/estimate?followers=5000&seed=7")
    assert r.status_code == 200
    e = r.json()
    usd = [float(e["per_session"]["creator_usd"][p]) for p in ("p10", "p50", "p90")]
    assert usd == sorted(usd) and usd[0] > 0
    assert e["seed"] == 7 and e["inputs"]["followers"] == 5000
    assert sum(b["share"] for b in e["histogram"]) == pytest.approx(1.0, abs=1e-3)
    assert api.get("/api/estimate?followers=5000&seed=7").json() == e  # same seed, same answer
    assert api.get("/api/estimate?followers=5000&seed=8").json() != e


@pytest.mark.parametrize("query", ["", "followers=x", "followers=-1", "followers=10&minutes=0",
                                   "followers=10&sessions=10000000"])
def test_api_estimate_checks_its_query(api: TestClient, query: str) -> None:
    r = api.get(f"/api/estimate?{query}")  # checked as `estimate` checks it: one line, 400
    assert r.status_code == 400 and isinstance(r.json()["detail"], str)


@pytest.mark.skipif(estimator() is None, reason="liveworth.model.estimate is not installed")
def test_estimate_page_draws_the_distribution(api: TestClient) -> None:
    assert "<form" in api.get("/estimate").text
    page = api.get("/estimate?followers=5000&viewers=&minutes=60&seed=7")
    assert page.status_code == 200
    assert "<svg" in page.text and "p50 $" in page.text and 'role="graphics-symbol"' in page.text
    p50 = api.get("/api/estimate?followers=5000&seed=7").json()["per_session"]["creator_usd"]
    assert f'data-testid="per_session-p50">${float(p50["p50"]):,.2f}' in page.text
    bad = api.get("/estimate?followers=-5")
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]


def test_estimator_missing_is_said_not_hidden(api: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "liveworth.model.estimate", None)  # import now fails
    assert estimator() is None
    r = api.get("/api/estimate?followers=5000")
    assert r.status_code == 501 and "not available" in r.json()["detail"]
    page = api.get("/estimate?followers=5000")
    assert page.status_code == 200 and "not available" in page.text


# ---------------------------------------------------------------------------- across sessions


def test_api_analysis_is_the_cli_json(api: TestClient, db: str, cli: Any) -> None:
    for host, args in ((STEADY_HOST, []), (STEADY_HOST, ["--since", "2024-06-10", "--seed", "3"]),
                       (REAL_HOST, []), (EVIL_HOST, [])):
        out: Result = cli("analyze", "--db", db, "--host", host, "--json", *args)
        assert out.code == 0, out.err
        q = "?" + "&".join(f"{k[2:]}={v}" for k, v in zip(args[::2], args[1::2], strict=True))
        r = api.get(f"/api/creators/{quote(host, safe='')}/analysis{q}")
        assert r.status_code == 200, (host, r.text)
        assert r.json() == out.json(), host
    a = api.get(f"/api/creators/@{STEADY_HOST.upper()}/analysis").json()
    assert a["host"] == STEADY_HOST and a["totals"]["sessions"] == STEADY_SESSIONS
    assert any(d["effect"] is not None for d in a["drivers"])
    assert api.get(f"/api/creators/{STEADY_HOST}/analysis").json() == a  # seeded: the same


def test_api_analysis_errors(api: TestClient) -> None:
    r = api.get("/api/creators/nobody_here/analysis")
    assert r.status_code == 404 and "no session of @nobody_here" in r.json()["detail"]
    assert api.get("/creators/nobody_here/analysis").status_code == 404
    gone = api.get(f"/api/creators/{STEADY_HOST}/analysis?since=2030-01-01")
    assert gone.status_code == 404 and "since 2030-01-01" in gone.json()["detail"]
    assert api.get(f"/api/creators/{STEADY_HOST}/analysis?since=June").status_code == 400
    assert api.get(f"/api/creators/{STEADY_HOST}/analysis?tz=Nowhere/Town").status_code == 400
    assert api.get(f"/api/creators/{STEADY_HOST}/analysis?seed=-1").status_code == 422


def test_api_gifters_is_the_cli_json(api: TestClient, db: str, cli: Any) -> None:
    for args in ([], ["--host", STEADY_HOST], ["--host", XSS_HOST, "--top", "2"],
                 ["--since", "2024-06-10", "--tz", "Europe/Berlin"]):
        out: Result = cli("gifters", "--db", db, "--json", *args)
        assert out.code == 0, out.err
        q = "?" + "&".join(f"{k[2:]}={quote(v, safe='')}"
                           for k, v in zip(args[::2], args[1::2], strict=True))
        r = api.get(f"/api/gifters{q}")
        assert r.status_code == 200, r.text
        assert r.json() == out.json(), args
    board = api.get("/api/gifters").json()
    assert len(board) > 60 and [g["rank"] for g in board] == list(range(1, len(board) + 1))
    assert {g["nickname"] for g in api.get(f"/api/gifters?host={XSS_HOST}").json()} == set(
        HOSTILE)
    assert api.get("/api/gifters?host=").json() == board  # an empty form field: every creator
    assert api.get("/api/gifters?host=nobody_here").status_code == 404
    assert api.get("/api/gifters?since=yesterday").status_code == 400
    assert api.get("/api/gifters?top=0").status_code == 422


def test_api_roster_is_the_cli_json(api: TestClient, db: str, cli: Any) -> None:
    for args in ([], ["--as-of", "2024-06-20"], ["--period", "week", "--as-of", "2024-06-20"],
                 ["--as-of", "2024-06-20", "--tier", "A:1000:2", "--tier", "B:50000:5:3"],
                 ["--since", "2024-01-01", "--tz", "Europe/Berlin", "--as-of", "2024-06-20"]):
        out: Result = cli("roster", "--db", db, "--json", *args)
        assert out.code == 0, out.err
        q = "?" + "&".join(f"{k[2:].replace('-', '_')}={quote(v, safe='')}"
                           for k, v in zip(args[::2], args[1::2], strict=True))
        r = api.get(f"/api/roster{q}")
        assert r.status_code == 200, r.text
        assert r.json() == out.json(), args
    r = api.get("/api/roster?as_of=2024-06-20").json()
    steady = next(c for c in r["creators"] if c["host"] == STEADY_HOST)
    assert (steady["period"], steady["sessions"]) == ("2024-06", STEADY_SESSIONS)
    assert steady["pace"]["days_elapsed"] == 20
    assert api.get("/api/roster?period=year").status_code == 422
    assert api.get("/api/roster?tier=A").status_code == 400
    assert api.get("/api/roster?as_of=tomorrow").status_code == 400


def test_empty_database_across_sessions(tmp_path: Path) -> None:
    with client(str(tmp_path / "not-yet.duckdb")) as c:
        assert c.get("/api/gifters").json() == []
        assert "No gifts" in c.get("/gifters").text
        r = c.get("/api/roster?as_of=2024-06-20").json()
        assert (r["creators"], r["totals"], r["as_of"]) == ([], [], "2024-06-20")
        assert "No sessions" in c.get("/roster").text
        assert c.get(f"/api/creators/{STEADY_HOST}/analysis").status_code == 404
        assert c.get("/api/gifters?host=someone").status_code == 404


# ---------------------------------------------------------------------------- pages


def test_pages_render(api: TestClient) -> None:
    sessions = api.get("/sessions").text
    assert f'href="/sessions/{REAL_ROOM}"' in sessions and 'href="/api/sessions"' in sessions
    report = api.get(f"/sessions/{REAL_ROOM}").text
    for text in ("$0.38", "creator receives", "Top gifters", "Gift price tiers", "<svg",
                 "Data quality", f'href="/api/sessions/{REAL_ROOM}"'):
        assert text in report
    live = api.get(f"/live/{LIVE_HOST}").text
    assert f'data-events-url="/api/live/{LIVE_HOST}/events?top=10&amp;recent=10"' in live
    assert '<b data-field="coins">5</b>' in live
    home = api.get("/", follow_redirects=False)  # several creators: the list of them
    assert home.status_code == 200 and f'href="/creators/{REAL_HOST}"' in home.text


def test_analysis_page(api: TestClient) -> None:
    a = api.get(f"/api/creators/{STEADY_HOST}/analysis").json()
    page = api.get(f"/creators/{STEADY_HOST}/analysis").text
    for text in (f"@{STEADY_HOST}: what drives the money", "Recommendations", "Drivers of coins",
                 "Whale dependence", "<svg", 'class="marks ci"', "steady-00",
                 f'href="/api/creators/{STEADY_HOST}/analysis"', 'href="/sessions/steady-00"',
                 str(escape(a["recommendations"][0]["strategy"]))):
        assert text in page, text
    assert 'data-testid="too-few"' not in page
    few = api.get(f"/creators/{REAL_HOST}/analysis").text
    assert 'data-testid="too-few"' in few and "1 recorded, at least" in few
    q = api.get(f"/creators/{STEADY_HOST}/analysis?since=2024-06-10&seed=3&tz=").text
    assert f'href="/api/creators/{STEADY_HOST}/analysis?since=2024-06-10&amp;seed=3"' in q
    missing = api.get("/creators/nobody_here/analysis")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "no session of @nobody_here" in missing.text


def test_gifters_page(api: TestClient) -> None:
    board = api.get("/api/gifters").json()
    page = api.get("/gifters").text
    gifters = f"{len(board):,} gifter{'' if len(board) == 1 else 's'} over"
    assert gifters in page and 'href="/api/gifters"' in page
    assert "<form" in page and 'action="/gifters"' in page
    top = board[0]
    assert f'<td class="n">{top["coins"]:,}</td>' in page
    mine = api.get(f"/gifters?host={STEADY_HOST}&top=3").text
    assert f"Gifters of @{STEADY_HOST}" in mine and "the first 3 shown" in mine
    assert f'href="/api/gifters?host={STEADY_HOST}&amp;top=3"' in mine
    assert api.get("/gifters?host=nobody_here").status_code == 404


def test_roster_page(api: TestClient) -> None:
    page = api.get("/roster?as_of=2024-06-20").text
    for text in ("Roster by month", "2024-06", f'href="/creators/{STEADY_HOST}/analysis"',
                 "placeholders", 'href="/roster?period=week&amp;as_of=2024-06-20"',
                 'href="/api/roster?period=month&amp;as_of=2024-06-20"', "on pace for"):
        assert text in page, text
    week = api.get("/roster?period=week&as_of=2024-06-20").text
    assert "Roster by week" in week and "2024-W2" in week and "on pace for" not in week
    assert "tier thresholds as given" in api.get("/roster?tier=A:10:1").text


def test_pages_link_the_new_pages(api: TestClient) -> None:
    sessions = api.get("/sessions").text
    for link in ('href="/gifters"', 'href="/roster"', f'href="/creators/{STEADY_HOST}/analysis"',
                 f'href="/gifters?host={STEADY_HOST}"'):
        assert link in sessions, link
    assert f'href="/creators/{REAL_HOST}/analysis"' in api.get(f"/sessions/{REAL_ROOM}").text


def test_overlay_options(api: TestClient) -> None:
    page = api.get(f"/overlay/{LIVE_HOST}?goal=100&goal_label=Road+to+100").text
    assert 'data-goal="100"' in page and 'data-goal-unit="coins"' in page
    assert "Road to 100" in page and "100 coins" in page and "data-goal-fill" in page
    assert 'class="overlay theme-dark size-m align-left"' in page
    usd = api.get(f"/overlay/{LIVE_HOST}?goal=25.5&goal_unit=usd&theme=light&size=xl").text
    assert "$25.50" in usd and 'data-goal-unit="usd"' in usd and "theme-light size-xl" in usd
    bare = api.get(f"/overlay/{LIVE_HOST}?hide=coins,gifters,recent").text
    assert 'data-field="coins"' not in bare and "data-goal-fill" not in bare  # no goal given
    assert 'data-field="creator_usd"' in bare and 'data-list="top_gifters"' not in bare
    assert api.get(f"/overlay/{LIVE_HOST}?hide=everything").status_code == 400
    assert api.get(f"/overlay/{LIVE_HOST}?theme=neon").status_code == 422
    assert api.get(f"/overlay/{LIVE_HOST}?goal=-1").status_code == 422


def test_missing_database_reads_as_empty(tmp_path: Path) -> None:
    with client(str(tmp_path / "not-yet.duckdb")) as c:
        assert c.get("/api/sessions").json() == []
        assert "No sessions" in c.get("/sessions").text
        assert c.get("/api/live/someone").json()["status"] == "none"
        assert c.get("/overlay/someone").status_code == 200
        assert c.get("/api/sessions/1").status_code == 404


# ---------------------------------------------------------------------------- hostile input

XSS_PAGES = [f"/sessions/{XSS_ROOM}", f"/sessions/{quote(EVIL_HOST_ROOM)}", "/sessions",
             f"/live/{XSS_HOST}", f"/overlay/{XSS_HOST}?goal=100&top=5",
             f"/live/{quote(EVIL_HOST)}", f"/overlay/{quote(EVIL_HOST, safe='')}",
             f"/creators/{XSS_HOST}/analysis", f"/creators/{quote(EVIL_HOST, safe='')}/analysis",
             "/gifters", f"/gifters?host={XSS_HOST}", f"/gifters?host={quote(EVIL_HOST, safe='')}",
             "/roster", "/roster?period=week"]


@pytest.mark.parametrize("url", XSS_PAGES)
def test_hostile_names_come_out_escaped(api: TestClient, url: str) -> None:
    r = api.get(url)
    assert r.status_code == 200
    html = r.text
    for raw in (*XSS, "<svg onload"):
        assert raw not in html
    assert any(str(escape(x)) in html for x in XSS)  # shown, as text
    # the only scripts are the app's own files, without a body
    for tag in re.findall(r"<script\b[^>]*>(?:.*?)</script>", html, flags=re.S):
        assert re.fullmatch(r'<script src="/static/[a-z]+\.js" defer></script>', tag), tag
    # no event handler attribute: outside quoted attribute values (escaped text, e.g. a form
    # field holding the name) no tag has " on…"
    tags = re.sub(r"&[a-z]+;|&#\d+;", "", "".join(re.findall(r"<[^>]*>", html)))
    assert " on" not in re.sub(r'"[^"]*"|\'[^\']*\'', '""', tags)


def test_hostile_names_stay_data_in_json(api: TestClient) -> None:
    rep = api.get(f"/api/sessions/{XSS_ROOM}").json()
    assert {g["nickname"] for g in rep["top_gifters"]} == set(HOSTILE)
    assert api.get(f"/api/sessions/{XSS_ROOM}").headers["x-content-type-options"] == "nosniff"
    s = api.get(f"/api/live/{quote(EVIL_HOST, safe='')}").json()
    assert s["room_id"] == "evil-host-room" and s["host"] == EVIL_HOST


def test_hostile_error_messages_come_out_escaped(api: TestClient) -> None:
    for url in ("/creators/nobody_here/analysis", "/gifters?host=nobody_here",
                f"/gifters?host={quote(XSS[0], safe='')}",
                f"/creators/{quote(XSS[0], safe='')}/analysis?since={quote(XSS[1], safe='')}"):
        r = api.get(url)
        assert r.status_code in (400, 404), url
        for raw in XSS:
            assert raw not in r.text, url


def test_hostile_names_stay_data_in_the_new_json(api: TestClient) -> None:
    a = api.get(f"/api/creators/{quote(EVIL_HOST, safe='')}/analysis").json()
    assert a["host"] == EVIL_HOST and {g["nickname"] for g in a["top_gifters"]} == set(HOSTILE)
    roster = api.get("/api/roster").json()
    assert EVIL_HOST in {c["host"] for c in roster["creators"]}


def test_sql_in_a_request_is_just_a_string(api: TestClient) -> None:
    for host in ("'; DROP TABLE events; --", "x' OR '1'='1"):
        assert api.get(f"/api/live/{quote(host, safe='')}").json()["status"] == "none"
        assert api.get(f"/api/creators/{quote(host, safe='')}/analysis").status_code == 404
        assert api.get(f"/api/gifters?host={quote(host, safe='')}").status_code == 404
    assert api.get("/api/sessions/' OR 1=1 --").status_code == 404
    assert len(api.get("/api/sessions?all=true").json()) > 60


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2fapp.py",
    "/static/....//app.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/static/..%5capp.py", "/static/templates/../../app.py",
])
def test_static_files_refuse_traversal(api: TestClient, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404
    assert "create_app" not in r.text and "root:" not in r.text


def test_static_files_are_served(api: TestClient) -> None:
    js = api.get("/static/live.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "eval(" not in js.text
    assert api.get("/static/overlay.css").status_code == 200
    assert api.get("/favicon.ico").status_code == 200


# ---------------------------------------------------------------------------- security


def test_security_headers(api: TestClient) -> None:
    for url in ("/sessions", "/api/sessions", "/static/live.js", "/nowhere",
                f"/overlay/{XSS_HOST}"):
        h = api.get(url).headers
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in api.get("/sessions").headers["content-security-policy"]
    overlay = api.get(f"/overlay/{XSS_HOST}").headers["content-security-policy"]
    assert "frame-ancestors 'self'" in overlay
    assert api.get("/api/sessions").headers["cache-control"] == "no-store"


def test_loopback_server_refuses_other_host_names(db: str) -> None:
    with client(db) as c:
        assert c.get("/api/sessions", headers={"host": "evil.example"}).status_code == 400
        assert c.get("/api/sessions", headers={"host": "localhost:8000"}).status_code == 200
        assert c.get("/api/sessions", headers={"host": "[::1]:8000"}).status_code == 200


ROUTES = ["/sessions", "/api/sessions", f"/sessions/{REAL_ROOM}", f"/api/sessions/{REAL_ROOM}",
          "/estimate", "/api/estimate?followers=100&sessions=100", f"/live/{LIVE_HOST}",
          f"/api/live/{LIVE_HOST}", f"/api/live/{LIVE_HOST}/events", f"/overlay/{LIVE_HOST}",
          f"/creators/{STEADY_HOST}/analysis", f"/api/creators/{STEADY_HOST}/analysis",
          "/gifters", f"/api/gifters?host={STEADY_HOST}", "/roster", "/api/roster?period=week",
          "/openapi.json", "/static/live.js", "/favicon.ico", "/"]


@pytest.fixture(scope="module")
def guarded(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db, token=TOKEN, stream_lifetime_s=0.1),
                    base_url="http://192.0.2.10:8000") as c:
        yield c


@pytest.mark.parametrize("url", ROUTES)
def test_token_required_on_every_route(guarded: TestClient, url: str) -> None:
    guarded.cookies.clear()
    r = guarded.get(url, follow_redirects=False)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    for wrong in ({"authorization": "Bearer nope"}, {"authorization": f"Basic {TOKEN}"}):
        assert guarded.get(url, headers=wrong, follow_redirects=False).status_code == 401
    ok = guarded.get(url, headers={"authorization": f"Bearer {TOKEN}"}, follow_redirects=False)
    assert ok.status_code in (200, 303, 301)


def test_token_in_the_query_sets_a_strict_cookie(guarded: TestClient) -> None:
    guarded.cookies.clear()
    assert guarded.get(f"/overlay/{LIVE_HOST}?token=wrong").status_code == 401
    r = guarded.get(f"/overlay/{LIVE_HOST}?token={TOKEN}&goal=10")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert guarded.get(f"/api/live/{LIVE_HOST}").status_code == 200  # the cookie carries it
    guarded.cookies.clear()
    assert guarded.get(f"/api/live/{LIVE_HOST}").status_code == 401


def test_401_says_how_in_json_for_the_api(guarded: TestClient) -> None:
    guarded.cookies.clear()
    assert "token" in guarded.get("/api/sessions").json()["detail"]


@pytest.mark.parametrize("bad", ["short", "has space in it here", "x" * 300, "quote'quote'quote'"])
def test_unusable_tokens_are_refused(db: str, bad: str) -> None:
    from liveworth.errors import UsageError

    with pytest.raises(UsageError):
        create_app(db, token=bad)


# ---------------------------------------------------------------------------- the store's lock


def test_busy_database_answers_503_then_recovers(fresh_db: str) -> None:
    with client(fresh_db, busy_timeout_s=0.2) as c:
        with writer(fresh_db):  # this process writes: no read-only open meanwhile
            r = c.get("/api/sessions")
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert "busy" in r.json()["detail"]
            assert c.get("/sessions").status_code == 503
        assert c.get("/api/sessions").status_code == 200


def test_another_process_writing_blocks_readers(fresh_db: str) -> None:
    code = ("import sys; from liveworth.store.database import Store; s = Store.open(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read(); s.close()")
    proc = subprocess.Popen([sys.executable, "-c", code, fresh_db], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        with client(fresh_db, busy_timeout_s=0.2) as c:
            assert c.get(f"/api/live/{LIVE_HOST}").status_code == 503
    finally:
        proc.communicate("", timeout=30)
    with client(fresh_db) as c:
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 5


def test_shared_connection_reads_what_the_writer_committed(fresh_db: str) -> None:
    with writer(fresh_db) as w, client(fresh_db, opener=SharedConnection(w.con, w.path)) as c:
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 5
        w.begin()
        w.insert_events(events_table([event_from_dict(
            gift(LIVE_ROOM, "more", T0 + 30, "fan2", "fan2", 100))]))
        ledger.recompute(w.con, [LIVE_ROOM])
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 5  # not committed yet
        w.commit()
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 105


def test_shared_connection_outlives_the_writers_and_refuses_after_close(fresh_db: str) -> None:
    with writer(fresh_db) as w:
        shared = SharedConnection(w.con, w.path)
    # the writer has closed its connection: the pages' own one still reads
    with client(fresh_db, opener=shared) as c:
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 5
        shared.close()
        r = c.get(f"/api/live/{LIVE_HOST}")
        assert r.status_code == 503 and r.headers["retry-after"] == "1"


def test_answers_are_remembered_until_the_data_changes(fresh_db: str) -> None:
    from liveworth.web.db import ReadOnlyStore

    opener = ReadOnlyStore(fresh_db)
    with client(fresh_db, opener=opener) as c:
        first = c.get(f"/api/live/{LIVE_HOST}").json()
        assert first["coins"] == 5
        version = opener.current_version()
        assert c.get(f"/api/live/{LIVE_HOST}").json() == first
        assert opener.current_version() == version  # reading changes nothing
        record(fresh_db, [gift(LIVE_ROOM, "later", T0 + 40, "fan3", "fan3", 1000)])
        assert opener.current_version() != version
        assert c.get(f"/api/live/{LIVE_HOST}").json()["coins"] == 1005
        assert c.get(f"/live/{LIVE_HOST}").text.count("1,005") >= 1  # the page too


def test_a_writer_in_another_process_gets_in_while_readers_keep_asking(fresh_db: str) -> None:
    """The shared read-only connection is handed back to the file every second; a writer that
    retries its open meanwhile gets in, and the readers then see what it wrote."""
    import threading

    stop = threading.Event()
    statuses: list[int] = []
    code = ("import sys, time; from liveworth.store import Store; from liveworth.errors import "
            "StoreError\nend = time.monotonic() + 20\nwhile True:\n    try:\n"
            "        s = Store.open(sys.argv[1]); break\n    except StoreError:\n"
            "        if time.monotonic() > end: raise\n        time.sleep(0.02)\n"
            "s.close(); print('in', flush=True)")
    with client(fresh_db) as c:
        def read() -> None:
            while not stop.is_set():
                statuses.append(c.get(f"/api/live/{LIVE_HOST}?top={len(statuses) % 5}")
                                .status_code)

        readers = [threading.Thread(target=read) for _ in range(4)]
        for t in readers:
            t.start()
        try:
            done = subprocess.run([sys.executable, "-c", code, fresh_db], capture_output=True,
                                  text=True, timeout=60)
        finally:
            stop.set()
            for t in readers:
                t.join()
    assert done.returncode == 0 and done.stdout.strip() == "in", done.stderr[-300:]
    assert statuses and set(statuses) <= {200, 503}, set(statuses)


# ---------------------------------------------------------------------------- OpenAPI and docs


def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_openapi_values_it_describes_are_accepted(api: TestClient) -> None:
    """Query values the schema allows are answered (never 400): time zones and channels are
    enums, dates and tiers patterns."""
    spec = api.get("/openapi.json").json()
    zones = spec["components"]["schemas"]["TimeZone"]["enum"]
    assert {"", "UTC", "Europe/Berlin", "Pacific/Kiritimati"} <= set(zones)
    params = {p["name"]: p["schema"] for p in
              spec["paths"]["/api/sessions/{room_id}"]["get"]["parameters"]}
    assert set(params["channel"]["enum"]) == {"", *CARD.channels}
    for tz in zones[::40]:
        assert api.get(f"/api/gifters?tz={quote(tz)}&since=0001-01-01").status_code == 200, tz
        assert api.get(f"/api/roster?tz={quote(tz)}&as_of=9999-12-31").status_code == 200, tz
    for channel in params["channel"]["enum"]:
        assert api.get(f"/api/sessions/{REAL_ROOM}?channel={channel}").status_code == 200
    roster = {p["name"]: p["schema"] for p in spec["paths"]["/api/roster"]["get"]["parameters"]}
    assert re.fullmatch(roster["tier"]["items"]["pattern"].strip("^$"), "Gold:250000:12:40")
    assert api.get("/api/roster?tier=Gold:250000:12:40&tier=x:0").status_code == 200
    overlay = {p["name"]: p["schema"] for p in
               spec["paths"]["/overlay/{host}"]["get"]["parameters"]}
    assert re.match(overlay["hide"]["pattern"], "coins, usd,goal")
    assert not re.match(overlay["hide"]["pattern"], "coinsusd")
    assert api.get(f"/overlay/{LIVE_HOST}?hide=coins,%20usd,goal&goal=0.5").status_code == 200
    page = spec["paths"]["/gifters"]["get"]["responses"]
    assert set(page) >= {"200", "400", "404", "422", "503"}
    assert "text/html" in page["422"]["content"]


def test_openapi_describes_every_route(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/sessions", "/api/sessions", "/sessions/{room_id}", "/api/sessions/{room_id}",
                 "/estimate", "/api/estimate", "/live/{host}", "/api/live/{host}",
                 "/api/live/{host}/events", "/overlay/{host}", "/creators/{host}/analysis",
                 "/api/creators/{host}/analysis", "/gifters", "/api/gifters", "/roster",
                 "/api/roster"):
        assert "get" in paths[path], path
    for path in ("/api/sessions", "/api/sessions/{room_id}", "/api/estimate",
                 "/api/live/{host}", "/api/creators/{host}/analysis", "/api/gifters",
                 "/api/roster"):
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in schema or "items" in schema, path
    assert "text/event-stream" in paths["/api/live/{host}/events"]["get"]["responses"]["200"][
        "content"]
    assert {"SessionReportOut", "SessionRowOut", "LiveStateOut", "EstimateOut", "AnalysisOut",
            "GifterStatsOut", "RosterOut", "DriverOut", "PaceOut"} <= set(
        spec["components"]["schemas"])


def test_docs_describe_routes_and_overlay_options(api: TestClient) -> None:
    doc = (REPO / "docs" / "WEB.md").read_text(encoding="utf-8")
    spec = api.get("/openapi.json").json()
    for path in spec["paths"]:
        assert f"`{path}" in doc, path
    for param in spec["paths"]["/overlay/{host}"]["get"]["parameters"]:
        assert f"`{param['name']}" in doc, param["name"]
    for word in ("OBS", "token", "Content-Security-Policy", "read-only", "503"):
        assert word in doc


# ---------------------------------------------------------------------------- the command


def serve_parser() -> argparse.ArgumentParser:
    from liveworth.cli import serve as cli_web

    parser = argparse.ArgumentParser(prog="liveworth")
    sub = parser.add_subparsers(dest="command")

    def command(name: str, handler: Any, help_: str, desc: str) -> argparse.ArgumentParser:
        assert help_ and desc
        p = sub.add_parser(name, help=help_, description=desc)
        p.set_defaults(handler=handler)
        return p

    cli_web.register(command)
    return parser


@pytest.mark.parametrize(("host", "given", "needs"), [
    ("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
    ("127.0.0.1", TOKEN, True), ("0.0.0.0", None, True), ("192.168.1.5", None, True),
    ("example.com", None, True), ("0.0.0.0", TOKEN, True),
])
def test_serve_requires_a_token_beyond_loopback(host: str, given: str | None,
                                                needs: bool) -> None:
    from liveworth.cli.serve import resolve_token

    token, generated = resolve_token(host, given)
    assert (token is not None) == needs
    assert generated == (needs and given is None)
    if generated:
        assert token and len(token) >= 32 and token != resolve_token(host, None)[0]


def test_serve_prints_the_token_and_serves_the_app(db: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn
    from rich.console import Console

    from liveworth.web import server as web_server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(web_server, "listen",
                        lambda host, port, **kw: seen.update(host=host, port=port) or [])
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets=None: seen.update(app=self.config.app))
    monkeypatch.delenv("LIVEWORTH_TOKEN", raising=False)
    args = serve_parser().parse_args(["serve", "--db", db, "--host", "0.0.0.0", "--port", "8123"])
    assert args.handler(args, Console(width=200)) == 0
    out = capsys.readouterr().out
    token = re.search(r"token \(generated; every request needs it\): (\S+)", out)
    assert token and seen["host"] == "0.0.0.0" and seen["port"] == 8123
    with TestClient(seen["app"], base_url="http://192.0.2.1:8123") as c:
        assert c.get("/api/sessions").status_code == 401
        assert c.get("/api/sessions",
                     headers={"authorization": f"Bearer {token.group(1)}"}).status_code == 200
    args = serve_parser().parse_args(["serve", "--db", db, "--token", TOKEN, "--json"])
    assert args.handler(args, Console(width=200)) == 0
    assert json.loads(capsys.readouterr().out) == {
        "url": "http://127.0.0.1:8000/sessions", "db": db, "host": "127.0.0.1", "port": 8000,
        "token": None, "token_required": True, "token_generated": False}  # not repeated
    with pytest.raises(SystemExit):
        serve_parser().parse_args(["serve", "--help"])
    help_text = capsys.readouterr().out
    assert len(help_text) > 200  # what tests/test_cli_foundation.py asks of every command
    for option in ("--db", "--host", "--port", "--token", "--json", "127.0.0.1"):
        assert option in help_text

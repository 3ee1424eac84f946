"""A creator's home (``/creators/{host}``, ``/api/creators/{host}``) and the creators' index
(``/``, ``/creators``): every part equals the command that answers it (forecast, sessions,
gifters), the parts add up, nothing after ``as_of`` counts, and hostile names stay text."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liveworth.web.app import create_app
from websupport import EVIL_HOST, HOSTILE, TestClient, hostile_events, write_jsonl

from conftest import run_cli

HOST = "home_creator"
OTHER = "second_creator"
AS_OF = "2026-10-20"
SEED = 0


def _simulate(tmp: Path, host: str, seed: int, sessions: int, start: str) -> Path:
    out = tmp / f"{host}.jsonl"
    r = run_cli("simulate", "--followers", "8000", "--minutes", "40", "--sessions", str(sessions),
                "--per-week", "5", "--start", start, "--seed", str(seed), "--host", host,
                "--room-id", f"{host}-r", "--out", str(out))
    assert r.code == 0, r.err
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("home")
    return {"main": _simulate(tmp, HOST, 11, 40, "2026-09-01"),
            "other": _simulate(tmp, OTHER, 12, 12, "2026-10-01"),
            "hostile": write_jsonl(tmp / "hostile.jsonl", hostile_events()), "dir": tmp}


@pytest.fixture(scope="module")
def db(files: dict[str, Path]) -> str:
    path = files["dir"] / "home.duckdb"
    r = run_cli("import", "--db", str(path), str(files["main"]), str(files["other"]),
                str(files["hostile"]))
    assert r.code == 0, r.err
    return str(path)


@pytest.fixture(scope="module")
def client(db: str) -> TestClient:
    return TestClient(create_app(db), base_url="http://127.0.0.1")


def _json(*argv: str) -> Any:
    r = run_cli(*argv, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def _home(client: TestClient, host: str = HOST, **params: str) -> dict[str, Any]:
    r = client.get(f"/api/creators/{host}", params={"as_of": AS_OF, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_json_twin_has_the_issue_keys(client: TestClient) -> None:
    h = _home(client)
    assert {"month_to_date", "forecast", "last_session", "trend", "top_gifters"} <= set(h)
    assert h["host"] == HOST and h["as_of"] == AS_OF


def test_month_and_forecast_equal_the_forecast_command(client: TestClient, db: str) -> None:
    h = _home(client)
    f = _json("forecast", "--db", db, "--host", HOST, "--as-of", AS_OF, "--seed", str(SEED),
              "--sessions", str(h["forecast"]["simulations"]))
    assert h["month_to_date"] == {"month": f["month"], **f["month_to_date"]}
    assert h["forecast"]["projection"] == f["projection"]
    assert h["forecast"]["tiers"] == f["tiers"]
    assert Decimal(h["month_to_date"]["creator_usd"]) > 0  # the month has sessions


def test_last_session_and_trend_equal_the_sessions_list(client: TestClient, db: str) -> None:
    h = _home(client)
    rows = [r for r in _json("sessions", "--db", db) if r["host"] == HOST]
    end = int(dt.datetime(2026, 10, 21, tzinfo=dt.UTC).timestamp() * 1000)
    first = int(dt.datetime(2026, 7, 23, tzinfo=dt.UTC).timestamp() * 1000)  # 90 days
    upto = [r for r in rows if r["start_ts"] < end]
    latest = max(upto, key=lambda r: r["start_ts"])
    assert h["last_session"]["room_id"] == latest["room_id"]
    assert h["last_session"]["coins"] == latest["coins"]
    assert Decimal(h["last_session"]["creator_usd"]) == Decimal(latest["creator_usd"])
    window = sorted((r for r in upto if r["start_ts"] >= first), key=lambda r: r["start_ts"])
    points = h["trend"]["points"]
    assert [p["room_id"] for p in points] == [r["room_id"] for r in window]
    assert [p["coins"] for p in points] == [r["coins"] for r in window]
    assert sum(Decimal(p["creator_usd"]) for p in points) == Decimal(h["trend"]["creator_usd"])
    assert h["trend"]["sessions"] == len(points) == h["sessions"] == len(upto)


def test_top_gifters_equal_the_30_day_board(client: TestClient, db: str) -> None:
    h = _home(client)
    board = _json("gifters", "--db", db, "--host", HOST, "--window", "30d", "--as-of", AS_OF)
    mine = [(g["user_id"], g["coins"], g["creator_usd"]) for g in h["top_gifters"]["gifters"]]
    theirs = [(g["user_id"], g["coins"], g["creator_usd"]) for g in board][:10]
    assert mine == theirs and len(mine) == 10


def test_nothing_after_as_of_counts(files: dict[str, Path], db: str,
                                    tmp_path: Path) -> None:
    """The same home from a store holding only the sessions by ``as_of``: identical."""
    end = int(dt.datetime(2026, 10, 21, tzinfo=dt.UTC).timestamp() * 1000)
    rows = [json.loads(line) for line in files["main"].read_text().splitlines()]
    starts = {e["room_id"]: e["ts"] for e in rows if e["type"] == "live_start"}
    kept = [e for e in rows if starts.get(e["room_id"], 0) < end]
    assert len(kept) < len(rows)  # there is something after as_of to leave out
    cut = tmp_path / "cut.duckdb"
    assert run_cli("import", "--db", str(cut), str(write_jsonl(tmp_path / "cut.jsonl", kept)),
                   str(files["other"]), str(files["hostile"])).code == 0
    full = TestClient(create_app(db), base_url="http://127.0.0.1")
    part = TestClient(create_app(str(cut)), base_url="http://127.0.0.1")
    assert _home(full) == _home(part)


def test_goal_in_dollars_and_the_tier_goal(client: TestClient) -> None:
    h = _home(client, goal_usd="1000")
    g, mtd = h["goal"], Decimal(h["month_to_date"]["creator_usd"])
    assert g["kind"] == "usd" and len(g["parts"]) == 1
    assert Decimal(g["parts"][0]["done"]) == mtd
    assert g["share"] == round(float(mtd / 1000), 4) and g["reached"] == (mtd >= 1000)
    assert _home(client, goal_usd="0.01")["goal"]["reached"] is True
    tier = _home(client)["goal"]
    assert tier["kind"] == "tier" and len(tier["parts"]) == 3 and tier["reached"] is False
    assert tier["share"] == min(p["share"] for p in tier["parts"])
    assert [p["what"] for p in tier["parts"]] == ["diamonds", "active_days", "hours"]


def test_the_page_shows_the_twins_figures(client: TestClient) -> None:
    h = _home(client)
    r = client.get(f"/creators/@{HOST}", params={"as_of": AS_OF})
    assert r.status_code == 200
    html = r.text
    usd = Decimal(h["month_to_date"]["creator_usd"]).quantize(Decimal("0.01"))
    assert f'data-testid="mtd-usd">${usd:,}<' in html
    assert f"/sessions/{h['last_session']['room_id']}" in html
    assert f"/api/creators/{HOST}?as_of={AS_OF}" in html  # the JSON twin link
    assert "<svg" in html  # the trend chart


def test_a_quiet_month_links_to_the_last_one(client: TestClient) -> None:
    r = client.get(f"/creators/{HOST}", params={"as_of": "2026-12-15"})
    assert r.status_code == 200
    assert 'data-testid="quiet-month"' in r.text
    h = _home(client, as_of="2026-12-15")
    assert h["month_to_date"]["sessions"] == 0 and h["trend"]["sessions"] > 0


def test_index_lists_each_creators_month(client: TestClient) -> None:
    rows = client.get("/api/creators", params={"as_of": AS_OF}).json()
    by_host = {r["host"]: r for r in rows}
    assert {HOST, OTHER} <= set(by_host)
    for host in (HOST, OTHER):
        assert by_host[host]["month_creator_usd"] == \
            _home(client, host)["month_to_date"]["creator_usd"]
    usd = [Decimal(r["month_creator_usd"]) for r in rows]
    assert usd == sorted(usd, reverse=True)
    page = client.get("/creators", params={"as_of": AS_OF})
    assert page.status_code == 200 and f'href="/creators/{HOST}"' in page.text


def test_root_redirects_to_the_only_creator(files: dict[str, Path], tmp_path: Path) -> None:
    one = tmp_path / "one.duckdb"
    assert run_cli("import", "--db", str(one), str(files["other"])).code == 0
    c = TestClient(create_app(str(one)), base_url="http://127.0.0.1")
    for path, where in (("/", f"/creators/{OTHER}"), ("/analysis", f"/creators/{OTHER}/analysis"),
                        ("/live", f"/live/{OTHER}")):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == where
    empty = TestClient(create_app(str(tmp_path / "none.duckdb")), base_url="http://127.0.0.1")
    assert empty.get("/", follow_redirects=False).headers["location"] == "/sessions"


def test_several_creators_get_the_list(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 200 and 'data-testid="creators"' in r.text
    assert client.get("/analysis", follow_redirects=False).headers["location"] == \
        "/creators?to=analysis"


@pytest.mark.parametrize(("params", "needle"), [
    ({"as_of": "2026-13-01"}, "not a date"),
    ({"goal_usd": "-5"}, "goal_usd"),
    ({"goal_usd": "=1+1"}, "goal_usd"),
    ({"goal_usd": "NaN"}, "goal_usd"),
    ({"tz": "Mars/Olympus"}, "time zone"),
])
def test_bad_values_are_one_clear_line(client: TestClient, params: dict[str, str],
                                       needle: str) -> None:
    r = client.get(f"/api/creators/{HOST}", params=params)
    assert r.status_code == 400 and needle in r.json()["detail"]
    page = client.get(f"/creators/{HOST}", params=params)
    assert page.status_code == 400 and "Traceback" not in page.text


def test_unknown_creator_is_404(client: TestClient) -> None:
    assert client.get("/api/creators/nobody_here").status_code == 404
    assert client.get("/creators/nobody_here").status_code == 404


def test_hostile_host_and_names_stay_text(client: TestClient) -> None:
    r = client.get(f"/creators/{EVIL_HOST}", params={"as_of": "2023-11-14"})
    assert r.status_code == 200, r.text
    for bad in ("<script>alert(1)</script>", "<img src=x onerror", '"><svg onload'):
        assert bad not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text  # the host, as text
    h = client.get(f"/api/creators/{EVIL_HOST}", params={"as_of": "2023-11-14"}).json()
    names = {g["nickname"] for g in h["top_gifters"]["gifters"]}
    assert set(HOSTILE) & names  # the names travel as data, unchanged, in the JSON
    index = client.get("/creators").text
    assert "<img src=x" not in index



def test_preset_and_channel_as_forecast_takes_them(client: TestClient, db: str) -> None:
    h = _home(client, preset="us-scaled", channel="ios")
    f = _json("forecast", "--db", db, "--host", HOST, "--as-of", AS_OF, "--seed", str(SEED),
              "--sessions", str(h["forecast"]["simulations"]), "--preset", "us-scaled",
              "--channel", "ios")
    assert h["month_to_date"] == {"month": f["month"], **f["month_to_date"]}
    assert h["forecast"]["projection"] == f["projection"]
    assert h["rate_card"] != _home(client)["rate_card"] or \
        h["month_to_date"]["viewer_usd"] != _home(client)["month_to_date"]["viewer_usd"]
    page = client.get(f"/creators/{HOST}", params={"as_of": AS_OF, "preset": "us-scaled"})
    assert page.status_code == 200 and 'value="us-scaled" selected' in page.text
    bad = client.get(f"/api/creators/{HOST}", params={"preset": "<script>"})
    assert bad.status_code == 400 and "\n" not in bad.json()["detail"]
    index = client.get("/api/creators", params={"as_of": AS_OF, "preset": "us-scaled"}).json()
    mine = next(r for r in index if r["host"] == HOST)
    assert mine["month_creator_usd"] == h["month_to_date"]["creator_usd"]


def test_analyze_prices_each_session_as_sessions_does_under_missions(db: str) -> None:
    """us-scaled: every session at its own LIVE's reward rate in analyze (and so the home's
    trend and the creators' list), as in sessions and the report — not at one flat rate."""
    listed = {r["room_id"]: r["creator_usd"]
              for r in _json("sessions", "--db", db, "--host", HOST, "--preset", "us-scaled")}
    analyzed = {s["room_id"]: s["creator_usd"]
                for s in _json("analyze", "--db", db, "--host", HOST, "--preset",
                               "us-scaled")["sessions"]}
    assert analyzed == listed and len(listed) == 40
    rates = {Decimal(v) / c for v, c in (
        (analyzed[r["room_id"]], r["coins"]) for r in _json(
            "sessions", "--db", db, "--host", HOST, "--preset", "us-scaled")) if c}
    assert len(rates) > 1  # the missions differ between sessions: a flat rate would not

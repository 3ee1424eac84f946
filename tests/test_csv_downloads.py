"""CSV downloads of sessions, gifters and roster (issue 18, item 5): text/csv attachments with the
query of their JSON twins, formula-safe cells (``=HYPERLINK(`` as a host, a gifter and a gift name
stays text), coins as integers and money as exact decimals whose sums equal the JSON's; the one
rule (economy.csvsafe) in export and ``adjust --csv`` too."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from listsupport import FORMULA, FORMULA_HOST, FORMULA_ROOM, FORMULAS, SIM_HOSTS, add_simulated
from liveworth.economy.csvsafe import FORMULA_START, cell, csv_text, safe_text
from liveworth.economy.ratecard import load_rate_card
from liveworth.render.csvtables import filename
from liveworth.web.app import create_app
from websupport import HOSTILE, XSS, TestClient, build_db

from conftest import run_cli

CARD = load_rate_card()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("csv")
    path = build_db(work / "csv.duckdb")
    add_simulated(path, work)
    return path


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db, card=CARD), base_url="http://127.0.0.1") as client:
        yield client


def parsed(answer: Any) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="')
    assert answer.headers["content-disposition"].endswith('.csv"')
    return list(csv.DictReader(io.StringIO(answer.text, newline="")))


def guarded(text: str) -> bool:
    """A cell a spreadsheet would not run: it starts with none of the formula characters."""
    return not text.startswith(FORMULA_START)


# ---------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("start", FORMULA_START)
def test_every_formula_start_gets_an_apostrophe(start: str) -> None:
    assert safe_text(start + "x") == "'" + start + "x"
    assert cell(start + "1") == "'" + start + "1"
    assert safe_text("a" + start) == "a" + start


def test_numbers_stay_numbers_and_money_exact() -> None:
    assert cell(-300) == -300 and cell(Decimal("-0.50")) == "-0.5"
    assert cell(Decimal("0.3850")) == "0.385" and cell(Decimal("1E+2")) == "100"
    assert cell(None) == "" and cell(True) == "true"
    text = csv_text(("a", "b"), [[FORMULA, Decimal("1.005")]])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["'" + FORMULA, "1.005"]]


def test_a_download_name_cannot_forge_a_header() -> None:
    assert filename("sessions", 'a"b\r\nX-Evil: 1', "2024-03-01") == \
        "sessions-a_b__X-Evil__1-2024-03-01.csv"
    assert filename("sessions", XSS[0]).isascii()
    assert filename() == "liveworth.csv"


# ---------------------------------------------------------------------------- sessions.csv


@pytest.mark.parametrize("query", ["", "?all=true", "?host=sim_beta", "?min_coins=10&sort=-coins",
                                   "?since=2024-03-01&until=2024-03-31", "?sort=host&limit=7"])
def test_sessions_csv_is_the_json_list(api: TestClient, query: str) -> None:
    rows = parsed(api.get("/api/sessions.csv" + query))
    sep = "&" if "?" in query else "?"
    want = api.get("/api/sessions" + query + (sep + "limit=1000" if "limit" not in query
                                              else "")).json()
    assert [r["room_id"] for r in rows] == [w["room_id"] for w in want]
    for r, w in zip(rows, want, strict=True):
        for key in ("coins", "total_coins", "adjusted_coins", "unique_gifters", "events",
                    "start_ts", "end_ts"):
            assert int(r[key]) == w[key], key
        for key in ("creator_usd", "total_creator_usd", "viewer_usd", "adjusted_creator_usd"):
            assert Decimal(r[key]) == Decimal(w[key]) and r[key] == w[key], key
    assert sum(int(r["total_coins"]) for r in rows) == sum(w["total_coins"] for w in want)
    assert sum(Decimal(r["total_creator_usd"]) for r in rows) == \
        sum(Decimal(w["total_creator_usd"]) for w in want)


def test_sessions_csv_has_every_matching_row_and_a_named_file(api: TestClient) -> None:
    every = api.get("/api/sessions.csv?all=true")
    assert len(parsed(every)) == int(api.get("/api/sessions?all=true").headers["x-total-count"])
    named = api.get("/api/sessions.csv?host=@Sim_Beta&since=2024-03-01")
    assert named.headers["content-disposition"] == \
        'attachment; filename="sessions-sim_beta-2024-03-01.csv"'


def test_a_formula_host_stays_text_in_the_sessions_csv(api: TestClient) -> None:
    rows = parsed(api.get("/api/sessions.csv?all=true"))
    mine = [r for r in rows if r["room_id"] == FORMULA_ROOM]
    assert [r["host"] for r in mine] == ["'" + FORMULA_HOST]
    for r in rows:
        assert all(guarded(v) for k, v in r.items() if k not in ("adjusted_creator_usd",))
    hostile = [r["host"] for r in rows if r["host"] in HOSTILE]
    assert hostile  # the XSS host: text as it is (not a formula), escaped nowhere in CSV


def test_the_sessions_page_links_its_csv(api: TestClient) -> None:
    page = api.get("/sessions?host=sim_alpha&sort=-coins&offset=2").text
    assert '<a href="/api/sessions.csv?host=sim_alpha&amp;sort=-coins" download' in page


# ---------------------------------------------------------------------------- gifters.csv


@pytest.mark.parametrize("query", ["", "?host=sim_alpha", "?window=30d&as_of=2024-03-31",
                                   "?top=5", f"?host={SIM_HOSTS[2]}&since=2024-03-05"])
def test_gifters_csv_is_the_json_board(api: TestClient, query: str) -> None:
    rows = parsed(api.get("/api/gifters.csv" + query))
    want = api.get("/api/gifters" + query).json()
    assert len(rows) == len(want)
    for r, w in zip(rows, want, strict=True):
        assert (int(r["rank"]), int(r["coins"]), int(r["sessions"])) == \
            (w["rank"], w["coins"], w["sessions"])
        assert r["creator_usd"] == w["creator_usd"] and r["viewer_usd"] == w["viewer_usd"]
        assert r["user_id"] == (w["user_id"] or "")
    assert sum(int(r["coins"]) for r in rows) == sum(w["coins"] for w in want)
    assert sum(Decimal(r["creator_usd"]) for r in rows) == \
        sum(Decimal(w["creator_usd"]) for w in want)


def test_formula_gifters_stay_text(api: TestClient) -> None:
    rows = parsed(api.get("/api/gifters.csv", params={"host": FORMULA_HOST}))
    names = {r["user"] for r in rows} | {r["nickname"] for r in rows}
    assert names == {"'" + n for n in FORMULAS}
    for r in rows:
        assert all(guarded(v) for v in r.values())
    raw = api.get("/api/gifters.csv", params={"host": FORMULA_HOST}).text
    assert "\n=HYPERLINK" not in raw and ',=HYPERLINK' not in raw and '"=HYPERLINK' not in raw


def test_the_gifters_page_links_its_csv(api: TestClient) -> None:
    page = api.get("/gifters?host=sim_alpha&since=2024-03-01").text
    assert 'href="/api/gifters.csv?host=sim_alpha&amp;since=2024-03-01" download' in page
    bad = api.get("/api/gifters.csv?host=nobody_known_here")
    assert bad.status_code == 404 and "\n" not in bad.json()["detail"]
    assert api.get("/api/gifters.csv?as_of=soon").status_code == 400


# ---------------------------------------------------------------------------- roster.csv


@pytest.mark.parametrize("query", ["?as_of=2024-03-31", "?period=week&as_of=2024-03-31",
                                   "?as_of=2024-03-31&tier=gold:100:1:1"])
def test_roster_csv_rows_add_up_to_the_totals_of_the_json(api: TestClient, query: str) -> None:
    rows = parsed(api.get("/api/roster.csv" + query))
    want = api.get("/api/roster" + query).json()
    creators = [r for r in rows if r["row"] == "creator"]
    totals = [r for r in rows if r["row"] == "total"]
    assert len(creators) == len(want["creators"]) and len(totals) == len(want["totals"])
    for r, w in zip(creators, want["creators"], strict=True):
        assert r["host"] in (w["host"], "'" + w["host"])
        assert (int(r["coins"]), r["creator_usd"], r["diamonds"]) == \
            (w["coins"], w["creator_usd"], w["diamonds"])
    for t, w in zip(totals, want["totals"], strict=True):
        mine = [r for r in creators if r["period"] == t["period"]]
        assert int(t["coins"]) == w["coins"] == sum(int(r["coins"]) for r in mine)
        assert Decimal(t["total_creator_usd"]) == Decimal(w["total_creator_usd"]) == \
            sum(Decimal(r["total_creator_usd"]) for r in mine)
        assert t["host"] == ""


def test_roster_csv_guards_a_formula_host_and_is_linked(api: TestClient) -> None:
    rows = parsed(api.get("/api/roster.csv?as_of=2023-11-30"))
    assert "'" + FORMULA_HOST in {r["host"] for r in rows}
    assert all(guarded(v) for r in rows for v in r.values())
    page = api.get("/roster?as_of=2024-03-31&period=week").text
    assert 'href="/api/roster.csv?period=week&amp;as_of=2024-03-31" download' in page
    assert api.get("/api/roster.csv?period=year").status_code == 422
    assert api.get("/api/roster.csv?tier=bad").status_code == 400


# ---------------------------------------------------------------------------- the same rule


def test_export_and_adjust_use_the_same_rule(db: str, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    r = run_cli("export", FORMULA_ROOM, "--db", db, "--format", "csv", "--out", str(out))
    assert r.code == 0, r.err
    with out.open(encoding="utf-8", newline="") as f:  # a CR in a cell stays a CR
        events = list(csv.DictReader(f))
    gifts = [e for e in events if e["type"] == "gift"]
    assert {e["gift_name"] for e in gifts} == {"'" + n for n in FORMULAS}
    assert {e["host"] for e in events if e["type"] == "live_start"} == {"'" + FORMULA_HOST}
    adj = tmp_path / "adjust.csv"
    r = run_cli("adjust", "--list", "--db", db, "--csv", str(adj))
    assert r.code == 0, r.err
    made = list(csv.DictReader(io.StringIO(adj.read_text(encoding="utf-8"), newline="")))
    assert [(m["room_id"], m["coins"]) for m in made] == [("tie-a", "300")]


def test_sessions_csv_on_the_command_line_is_the_web_download(api: TestClient, db: str,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "sessions.csv"
    r = run_cli("sessions", "--db", db, "--host", "@sim_beta", "--sort=-coins", "--all",
                "--csv", str(out), "--json")
    assert r.code == 0, r.err
    web = api.get("/api/sessions.csv?host=sim_beta&sort=-coins&all=true")
    assert out.read_bytes() == web.content
    r = run_cli("sessions", "--db", db, "--csv", db)
    assert r.code == 2 and "that is the database" in r.err

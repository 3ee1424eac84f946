"""The sessions list that scales (issue 18, item 3): filters, sort, pages and empty sessions on
``/sessions``, ``/api/sessions`` and ``liveworth sessions``, all from one function
(:mod:`liveworth.analysis.sessionlist`), on the real dumps and a simulated multi-creator store
(three creators, empty sessions, a tie, an adjustment, hostile hosts); ``report --latest``."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from listsupport import (
    EMPTY_ROOMS,
    FORMULA_HOST,
    SIM_HOSTS,
    SIM_SESSIONS,
    TIE_ROOMS,
    add_simulated,
)
from liveworth.analysis.report import SessionRow, list_sessions
from liveworth.analysis.sessionlist import (
    EMPTY_S,
    SORT_KEYS,
    SessionFilter,
    is_empty,
    select,
    session_filter,
)
from liveworth.economy.ratecard import load_rate_card
from liveworth.errors import UsageError
from liveworth.store.database import Store
from liveworth.web.app import create_app
from websupport import EVIL_HOST, HOSTILE, REAL_HOST, REAL_ROOM, XSS, TestClient, build_db

from conftest import run_cli

CARD = load_rate_card()
LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("lists")
    path = build_db(work / "lists.duckdb")
    add_simulated(path, work)
    return path


@pytest.fixture(scope="module")
def rows(db: str) -> list[SessionRow]:
    with Store.open(db, read_only=True) as store:
        return list_sessions(store, CARD)


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db, card=CARD), base_url=LOCAL) as client:
        yield client


def ids(answer: Any) -> list[str]:
    return [r["room_id"] for r in answer.json()]


def ms(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp() * 1000)


def newest_first(chosen: list[SessionRow]) -> list[str]:
    return [r.room_id for r in sorted(sorted(chosen, key=lambda r: r.room_id),
                                      key=lambda r: r.start_ts, reverse=True)]


# ---------------------------------------------------------------------------- filters


def test_the_store_has_what_the_tests_need(rows: list[SessionRow]) -> None:
    hosts = {(r.host or "").lower() for r in rows}
    assert {h.lower() for h in SIM_HOSTS} <= hosts and REAL_HOST in hosts
    assert {r.room_id for r in rows if is_empty(r)} >= set(EMPTY_ROOMS)
    assert sum(is_empty(r) for r in rows) > 50  # the collector dumps' dozens
    assert len(rows) > 100


def test_default_hides_empty_sessions_and_counts_them(api: TestClient,
                                                      rows: list[SessionRow]) -> None:
    r = api.get("/api/sessions")
    empty = [x for x in rows if is_empty(x)]
    assert ids(r) == newest_first([x for x in rows if not is_empty(x)])
    assert r.headers["x-hidden-empty"] == str(len(empty))
    assert r.headers["x-total-count"] == str(len(rows) - len(empty))
    everything = api.get("/api/sessions?all=true")
    assert ids(everything) == newest_first(rows) and everything.headers["x-hidden-empty"] == "0"
    for x in empty:  # under a minute with not one gift
        assert x.duration_s < EMPTY_S and x.coins == 0 and x.gifters == 0
    page = api.get("/sessions").text
    assert f"{len(empty)} empty sessions (under a minute with no gift) hidden" in page
    assert 'href="/sessions?all=true" data-testid="show-empty"' in page
    shown = api.get("/sessions?all=true").text
    assert "Empty sessions are listed" in shown and "hidden." not in shown


@pytest.mark.parametrize("given", ["sim_alpha", "@SIM_ALPHA", "  @sim_alpha ", "sim_beta"])
def test_host_filter_any_case_with_or_without_at(api: TestClient, rows: list[SessionRow],
                                                 given: str) -> None:
    want = given.strip().lstrip("@").lower()
    r = api.get("/api/sessions", params={"host": given, "all": "true"})
    assert ids(r) == newest_first([x for x in rows if (x.host or "").lower() == want])
    assert len(ids(r)) >= SIM_SESSIONS


def test_date_filters_until_takes_in_the_whole_day(api: TestClient,
                                                   rows: list[SessionRow]) -> None:
    since, until = "2024-03-05", "2024-03-20"
    lo, hi = ms(since), ms("2024-03-21") - 1
    r = api.get("/api/sessions", params={"since": since, "until": until, "all": "true"})
    want = [x for x in rows if lo <= x.start_ts <= hi]
    assert ids(r) == newest_first(want) and want
    # a session starting late on the until day is in (TIE_ROOMS start 16:00 on 2024-03-09)
    day = api.get("/api/sessions", params={"since": "2024-03-09", "until": "2024-03-09"})
    assert set(TIE_ROOMS) <= set(ids(day))
    # an ISO date-time is an instant: until 15:59:59 leaves the 16:00 sessions out
    before = api.get("/api/sessions", params={"since": "2024-03-09",
                                              "until": "2024-03-09T15:59:59"})
    assert not set(TIE_ROOMS) & set(ids(before))
    offset = api.get("/api/sessions", params={"since": "2024-03-09T17:00:00+01:00",
                                              "until": "2024-03-09T16:00:00Z"})
    assert set(TIE_ROOMS) <= set(ids(offset))


def test_min_coins_counts_the_adjusted_coins(api: TestClient, rows: list[SessionRow]) -> None:
    r = api.get("/api/sessions", params={"min_coins": "100", "all": "true"})
    assert ids(r) == newest_first([x for x in rows if x.total_coins >= 100])
    tie = {x.room_id: x for x in rows if x.room_id in TIE_ROOMS}
    assert tie["tie-a"].coins == 7 and tie["tie-a"].total_coins == 307  # + 300 adjusted
    assert "tie-a" in ids(r) and "tie-b" not in ids(r)
    assert ids(api.get("/api/sessions?min_coins=0&all=true")) == newest_first(rows)
    assert ids(api.get("/api/sessions?min_coins=1,000")) == ids(
        api.get("/api/sessions?min_coins=1000"))


def test_filters_combine(api: TestClient, rows: list[SessionRow]) -> None:
    q = {"host": "@sim_gamma", "since": "2024-03-03", "min_coins": "1"}
    want = [x for x in rows if x.host == "sim_gamma" and x.start_ts >= ms("2024-03-03")
            and x.total_coins >= 1]
    assert ids(api.get("/api/sessions", params=q)) == newest_first(want)


# ---------------------------------------------------------------------------- sort


@pytest.mark.parametrize("column", list(SORT_KEYS))
def test_sort_both_ways_with_a_room_id_tiebreak(api: TestClient, rows: list[SessionRow],
                                                column: str) -> None:
    key = SORT_KEYS[column]
    for sign in ("", "-"):
        got = ids(api.get("/api/sessions", params={"sort": sign + column, "all": "true"}))
        want = sorted(sorted(rows, key=lambda r: r.room_id), key=key, reverse=bool(sign))
        assert got == [r.room_id for r in want], sign + column
        by_id = {r.room_id: r for r in rows}
        for a, b in itertools.pairwise(got):  # equal keys: room ids ascending
            if key(by_id[a]) == key(by_id[b]):
                assert a < b


def test_the_tie_is_broken_by_room_id_both_ways(api: TestClient) -> None:
    q = {"host": "sim_beta", "since": "2024-03-09", "until": "2024-03-09"}
    assert ids(api.get("/api/sessions", params={**q, "sort": "started"})) == ["tie-a", "tie-b"]
    assert ids(api.get("/api/sessions", params={**q, "sort": "-started"})) == ["tie-a", "tie-b"]
    assert ids(api.get("/api/sessions", params={**q, "sort": "-coins"})) == ["tie-a", "tie-b"]


def test_sort_aliases_and_headers_link_both_ways(api: TestClient) -> None:
    assert ids(api.get("/api/sessions?sort=-total_coins")) == ids(
        api.get("/api/sessions?sort=-coins"))
    assert ids(api.get("/api/sessions?sort=room_id")) == ids(api.get("/api/sessions?sort=room"))
    page = api.get("/sessions?sort=-coins").text
    assert 'href="/sessions?sort=coins" data-testid="sort-coins">coins ▼' in page
    assert 'aria-sort="descending"' in page
    assert 'href="/sessions?sort=room" data-testid="sort-room"' in page  # text: A to Z first
    assert 'href="/sessions?sort=-duration" data-testid="sort-duration"' in page
    assert 'href="/sessions?sort=-started"' in api.get("/sessions?sort=started").text


# ---------------------------------------------------------------------------- pages


def test_paging_math(api: TestClient, rows: list[SessionRow]) -> None:
    visible = newest_first([x for x in rows if not is_empty(x)])
    total, size = len(visible), 7
    seen: list[str] = []
    for offset in range(0, total, size):
        r = api.get("/api/sessions", params={"limit": size, "offset": offset})
        assert r.headers["x-total-count"] == str(total)
        assert (r.headers["x-offset"], r.headers["x-limit"]) == (str(offset), str(size))
        rels = {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                                                     r.headers["link"])}
        assert ("next" in rels) == (offset + size < total)
        assert ("prev" in rels) == (offset > 0)
        last = (total - 1) // size * size
        assert rels["last"].endswith(f"offset={last}") and "offset" not in rels["first"]
        seen += ids(r)
    assert seen == visible  # every row once, in order
    past = api.get("/api/sessions", params={"limit": size, "offset": total + 100})
    assert past.json() == [] and past.headers["x-total-count"] == str(total)
    assert 'rel="prev"' in past.headers["link"]


def test_the_page_says_where_it_is_and_links_keep_the_filters(api: TestClient,
                                                              rows: list[SessionRow]) -> None:
    visible = [x for x in rows if not is_empty(x)]
    assert 40 < len(visible) < 50 < len(rows)
    page = api.get("/sessions?limit=20&offset=20").text
    assert f"Showing 21–40 of {len(visible)} sessions" in page
    assert 'href="/sessions?limit=20" rel="first"' in page and 'data-testid="prev"' in page
    assert 'href="/sessions?limit=20&amp;offset=40" rel="next"' in page
    first = api.get("/sessions").text  # one page of 50
    assert f"Showing 1–{len(visible)} of {len(visible)} sessions" in first
    assert 'data-testid="pager"' not in first
    every = api.get("/sessions?all=true").text  # the default 50 stays out of the links
    assert f"Showing 1–50 of {len(rows)} sessions" in every
    assert 'href="/sessions?all=true&amp;offset=50" rel="next"' in every
    end = api.get(f"/sessions?all=true&offset={(len(rows) - 1) // 50 * 50}").text
    assert f"of {len(rows)} sessions" in end and 'data-testid="next"' not in end
    q = "host=sim_alpha&since=2024-03-01&min_coins=0&sort=-coins&limit=2"
    kept = api.get(f"/sessions?{q}").text
    assert 'href="/sessions?host=sim_alpha&amp;since=2024-03-01&amp;min_coins=0&amp;' \
        'sort=-coins&amp;limit=2&amp;offset=2" rel="next"' in kept
    assert 'value="sim_alpha"' in kept and 'value="2024-03-01"' in kept
    assert 'href="/api/sessions.csv?host=sim_alpha&amp;since=2024-03-01&amp;min_coins=0' \
        '&amp;sort=-coins"' in kept  # the CSV: every matching row
    past = api.get("/sessions?offset=100000").text
    assert 'data-testid="past-end"' in past and "Last page" in past
    none = api.get("/sessions?host=nobody_at_all").text
    assert 'data-testid="no-match"' in none


def test_the_filter_form_is_a_plain_get_form(api: TestClient) -> None:
    page = api.get("/sessions").text
    form = page[page.index('<form class="filter"'):page.index("</form>")]
    assert 'method="get" action="/sessions"' in form
    for name in ("host", "since", "until", "min_coins", "all"):
        assert f'name="{name}"' in form
    # an empty form submitted as is (every field empty) is the default list
    empty = api.get("/sessions?host=&since=&until=&min_coins=")
    assert empty.status_code == 200
    assert empty.text.count("<tr>") == page.count("<tr>")


# ---------------------------------------------------------------------------- bad input


BAD = [("min_coins", "-1"), ("since", "tomorrowish"), ("sort", "nosuchcol"), ("limit", "0"),
       ("limit", "1001"), ("offset", "-5"), ("until", "2024-13-01"), ("all", "maybe"),
       ("min_coins", "1e3"), ("host", "@"), ("since", "2024-03-02&until=2024-03-01")]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_values_are_one_line_400(api: TestClient, name: str, value: str) -> None:
    query = f"{name}={quote(value, safe='=&')}"
    r = api.get(f"/api/sessions?{query}")
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(detail) < 300
    page = api.get(f"/sessions?{query}")
    assert page.status_code == 400 and "Error 400" in page.text
    csv = api.get(f"/api/sessions.csv?{query}")
    if (name, value) == ("limit", "1001"):  # a download has no cap
        assert csv.status_code == 200
    else:
        assert csv.status_code == 400 and csv.json()["detail"][:12] == detail[:12]


def test_hostile_filter_values_stay_text(api: TestClient) -> None:
    for value in HOSTILE:
        r = api.get("/sessions", params={"host": value, "since": "", "min_coins": ""})
        assert r.status_code in (200, 400)
        for bad in XSS:
            assert bad not in r.text
    evil = api.get("/api/sessions", params={"host": EVIL_HOST})
    assert [x["host"] for x in evil.json()] == [EVIL_HOST]
    page = api.get("/sessions", params={"host": EVIL_HOST}).text
    assert EVIL_HOST not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    formula = api.get("/api/sessions", params={"host": FORMULA_HOST})
    assert [x["host"] for x in formula.json()] == [FORMULA_HOST]
    sql = api.get("/api/sessions", params={"host": "' OR 1=1 --", "sort": "-coins"})
    assert sql.status_code == 200 and sql.json() == []


# ---------------------------------------------------------------------------- the CLI


def cli_ids(db: str, *argv: str) -> list[str]:
    r = run_cli("sessions", "--db", db, "--json", *argv)
    assert r.code == 0, r.err
    return [x["room_id"] for x in r.json()]


@pytest.mark.parametrize("query", [
    {}, {"all": "true"}, {"host": "@Sim_Beta"}, {"since": "2024-03-05", "until": "2024-03-20"},
    {"min_coins": "50", "sort": "-coins"}, {"sort": "host", "limit": "10", "offset": "5"},
    {"sort": "-duration", "all": "true", "limit": "3"}, {"host": EVIL_HOST},
    {"until": "2023-12-01T00:00:00"},
])
def test_cli_filters_equal_the_web_filters(api: TestClient, db: str,
                                           query: dict[str, str]) -> None:
    argv: list[str] = []
    for k, v in query.items():
        opt = "--" + k.replace("_", "-")
        argv += [opt] if k == "all" else [f"{opt}={v}"]
    web = api.get("/api/sessions?" + urlencode(query))
    assert cli_ids(db, *argv) == ids(web)
    full = run_cli("sessions", "--db", db, "--json", *argv).json()
    assert [{k: v for k, v in x.items() if k != "subscriptions"} for x in full] == web.json()


def test_cli_footer_says_what_is_hidden_and_where_the_page_is(db: str,
                                                              rows: list[SessionRow]) -> None:
    empty = sum(is_empty(x) for x in rows)
    r = run_cli("sessions", "--db", db, "--limit", "5")
    assert r.code == 0
    flat = " ".join(r.out.split())
    assert f"showing 1-5 of {len(rows) - empty:,} sessions (--offset 5 for the next)" in flat
    assert f"{empty} empty sessions (under a minute with no gift) hidden; --all shows them" \
        in flat
    j = run_cli("sessions", "--db", db, "--json")
    assert f"{empty} empty sessions" in j.err and j.out.lstrip().startswith("[")
    everything = run_cli("sessions", "--db", db, "--all", "--json")
    assert len(everything.json()) == len(rows) and everything.err == ""


@pytest.mark.parametrize("argv", [["--min-coins", "-1"], ["--since", "tomorrowish"],
                                  ["--sort", "nosuchcol"], ["--limit", "0"],
                                  ["--offset", "x"], ["--until", "2024-02-30"]])
def test_cli_bad_values_one_line_exit_2(db: str, argv: list[str]) -> None:
    r = run_cli("sessions", "--db", db, *argv)
    assert r.code == 2 and r.out == ""
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


def test_one_function_below_web_and_cli(rows: list[SessionRow]) -> None:
    f = session_filter(host="@SIM_ALPHA", sort="-coins", limit="2", offset="1")
    assert f == SessionFilter(host="sim_alpha", sort="-coins", limit=2, offset=1)
    page = select(rows, f)
    assert page.first == 2 and page.last == 3 and page.total == SIM_SESSIONS
    assert page.hidden_empty == len(EMPTY_ROOMS)
    with pytest.raises(UsageError, match="limit"):
        session_filter(limit="5000")
    assert session_filter(limit="5000", max_limit=None).limit == 5000


# ---------------------------------------------------------------------------- report --latest


def test_report_latest_of_a_host(db: str, rows: list[SessionRow]) -> None:
    mine = [x for x in rows if x.host == SIM_HOSTS[0] and not is_empty(x)]
    latest = newest_first(mine)[0]
    r = run_cli("report", "--db", db, "--latest", "@SIM_ALPHA", "--json")
    assert r.code == 0, r.err
    assert r.json()["room_id"] == latest
    # the empty sessions are later than every real one of this creator, and are passed over
    assert max(x.start_ts for x in rows if x.room_id in EMPTY_ROOMS) > \
        max(x.start_ts for x in mine)
    real = run_cli("report", "--db", db, "--latest", REAL_HOST, "--json")
    assert real.json()["room_id"] == REAL_ROOM
    assert run_cli("report", "--db", db, REAL_ROOM, "--json").json() == real.json()


@pytest.mark.parametrize(("argv", "says"), [
    (["--latest", "@nobody_here"], "no session of @nobody_here"),
    (["--latest"], "creators: name one"),
    ([REAL_ROOM, "--latest", REAL_HOST], "not both"),
    ([], "--latest"),
])
def test_report_latest_refusals(db: str, argv: list[str], says: str) -> None:
    r = run_cli("report", "--db", db, *argv)
    assert r.code == 2 and says in r.err and len(r.err.strip().splitlines()) == 1


def test_report_latest_alone_with_one_creator(tmp_path: Path) -> None:
    db = str(tmp_path / "one.duckdb")
    r = run_cli("simulate", "--followers", "500", "--minutes", "5", "--sessions", "3",
                "--seed", "4", "--host", "only_me", "--out", f"{tmp_path}/sim/")
    assert r.code == 0, r.err
    assert run_cli("import", "--db", db, *map(str, (tmp_path / "sim").glob("*.jsonl"))).code == 0
    with Store.open(db, read_only=True) as store:
        want = newest_first([x for x in list_sessions(store, CARD) if not is_empty(x)])[0]
    out = run_cli("report", "--db", db, "--latest", "--json")
    assert out.code == 0 and out.json()["room_id"] == want


# ---------------------------------------------------------------------------- fast enough


def test_selecting_from_10000_sessions_is_fast() -> None:
    """The filter, sort and page of the cached list: milliseconds for 10,000 sessions."""
    base = 1_700_000_000_000
    many = [SessionRow(f"r{i:05d}", f"host{i % 25}", base + i * 3_600_000,
                       base + i * 3_600_000 + (30 if i % 7 == 0 else 3_000) * 1000,
                       (i * 37) % 5000 if i % 7 else 0, 0, Decimal(i % 900) / 100,
                       i % 40 if i % 7 else 0, 100) for i in range(10_000)]
    queries = [session_filter(), session_filter(sort="-coins", limit="50", offset="5000"),
               session_filter(host="host3", since="2023-12-01", min_coins="100", sort="host"),
               session_filter(show_empty=True, sort="duration")]
    for q in queries:
        start = time.perf_counter()
        page = select(many, q)
        took = time.perf_counter() - start
        assert took < 0.25, (q, took)  # ~10 ms here; generous for a loaded machine
        assert page.total + page.hidden_empty <= 10_000

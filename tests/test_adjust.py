"""Manual adjustments (``liveworth adjust``): stored apart from the counted coins, shown apart in
every report and total, audited, undoable, and the ledger's credits never touched."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.store.database import Store
from websupport import T0, TestClient, gift, write_jsonl

from conftest import Result

Cli = Callable[..., Result]
#: What the creator receives per coin under the default rate card: 1 diamond a coin, $0.01 a
#: diamond, 50 % reward rate (economy/data/ratecard.toml).
CREATOR_PER_COIN = Decimal("0.005")
#: Coins of each gift in room r1 (host alice) and r2 (host bob).
R1_GIFTS = (1000, 250, 5, 1)
R2_GIFTS = (30, 20)
HOSTILE_REASON = "=HYPERLINK(\"x\")<script>alert(1)</script>\x1b[31m red [bold]b[/bold]"
HOUR = 3_600_000


def _events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for room, host, gifts, t0 in (("r1", "alice", R1_GIFTS, T0), ("r2", "bob", R2_GIFTS,
                                                                 T0 + 30 * HOUR)):
        out.append({"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": t0,
                    "host_id": "h-" + host, "host": host})
        for i, coins in enumerate(gifts):
            out.append(gift(room, f"g{i}", t0 + 60_000 * (i + 1), f"u{i}", f"fan{i}", coins,
                            gift_type=1, group=f"grp{i}"))
        out.append({"v": 1, "type": "live_end", "room_id": room, "msg_id": "e",
                    "ts": t0 + HOUR, "host_id": "h-" + host, "host": host})
    return out


@pytest.fixture
def db(tmp_path: Path, cli: Cli) -> str:
    path = tmp_path / "adj.duckdb"
    got = cli("import", str(write_jsonl(tmp_path / "events.jsonl", _events())), "--db",
              str(path))
    assert got.code == 0, got.err
    return str(path)


def _credits(db: str) -> list[tuple[Any, ...]]:
    with Store.open(db, read_only=True) as store:
        return store.query("SELECT * FROM credits ORDER BY room_id, msg_id")


def _adjust(cli: Cli, db: str, *args: str) -> Result:
    return cli("adjust", *args, "--db", db)


def _ok(r: Result) -> Result:
    assert r.code == 0, r.err
    return r


def _usd(coins: int) -> str:
    return format((CREATOR_PER_COIN * coins).normalize(), "f") if coins else "0"


def test_report_json_shows_counted_and_adjusted_apart(cli: Cli, db: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "dee")
    counted = sum(R1_GIFTS)
    before = _credits(db)
    _ok(_adjust(cli, db, "r1", "--coins", "300", "--reason", "off-stream gift", "--user",
                "u9", "--by", "ann"))
    _ok(_adjust(cli, db, "r1", "--coins=-1,000", "--reason", "TikTok correction"))
    rep = _ok(cli("report", "r1", "--db", db, "--json")).json()
    assert (rep["coins"], rep["counted_coins"], rep["adjusted_coins"], rep["total_coins"]) == \
        (counted, counted, -700, counted - 700)
    assert rep["creator_usd"] == _usd(counted)
    assert rep["adjusted_creator_usd"] == "-3.5"
    assert rep["total_creator_usd"] == _usd(counted - 700)
    assert [(a["id"], a["coins"], a["reason"], a["user_id"], a["made_by"], a["active"])
            for a in rep["adjustments"]] == [
        (1, 300, "off-stream gift", "u9", "ann", True),
        (2, -1000, "TikTok correction", None, "dee", True)]
    assert _credits(db) == before  # the counted coins never change


def test_made_by_defaults_to_user(cli: Cli, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "agency_bob")
    got = _ok(_adjust(cli, db, "r2", "--coins", "7", "--reason", "missed segment",
                      "--json")).json()
    assert (got["id"], got["made_by"], got["counted_coins"], got["adjusted_coins"],
            got["total_coins"]) == (1, "agency_bob", 50, 7, 57)


def test_undo_restores_and_keeps_the_audit(cli: Cli, db: str) -> None:
    plain = _ok(cli("report", "r1", "--db", db, "--json")).json()
    credits = _credits(db)
    _ok(_adjust(cli, db, "r1", "--coins", "40", "--reason", "a"))
    _ok(_adjust(cli, db, "r2", "--coins", "2", "--reason", "b"))
    undone = _ok(_adjust(cli, db, "--undo", "1", "--by", "carl", "--json")).json()
    assert (undone["id"], undone["active"], undone["undone_by"], undone["adjusted_coins"]) == \
        (1, False, "carl", 0)
    rep = _ok(cli("report", "r1", "--db", db, "--json")).json()
    listed = rep.pop("adjustments")
    assert plain.pop("adjustments") == []
    assert rep == plain  # every figure back to what it was
    assert [(a["id"], a["active"]) for a in listed] == [(1, False)]
    listing = _ok(_adjust(cli, db, "--list", "--json")).json()
    assert [(a["id"], a["room_id"], a["coins"], a["active"]) for a in listing] == \
        [(1, "r1", 40, False), (2, "r2", 2, True)]
    assert [a["id"] for a in _ok(_adjust(cli, db, "--list", "r2", "--json")).json()] == [2]
    # ids are max + 1, never reused after an undo
    assert _ok(_adjust(cli, db, "r1", "--coins", "1", "--reason", "c", "--json")).json()[
        "id"] == 3
    assert _credits(db) == credits


@pytest.mark.parametrize(("args", "says"), [
    (("nope", "--coins", "5", "--reason", "x"), "no session 'nope'"),
    (("r1", "--coins", "0", "--reason", "x"), "--coins 0 changes nothing"),
    (("r1", "--coins", "1000000000000001", "--reason", "x"), "beyond what liveworth counts"),
    (("r1", "--coins", "12abc", "--reason", "x"), "not a whole number of coins"),
    (("r1", "--coins", "5", "--reason", "   "), "--reason must not be empty"),
    (("r1", "--coins", "5"), "needs --coins N and --reason TEXT"),
    (("r1", "--coins=-1257", "--reason", "x"), "counted 1,256 + adjusted 0 - 1,257 would be "
                                               "below 0"),
    (("--undo", "9",), "no adjustment 9"),
    (("--undo", "0",), "adjustment ids start at 1"),
    (("--undo", "1", "--coins", "4"), "--undo takes no --coins"),
    (("--list", "nope"), "no session 'nope'"),
    ((), "name the session's ROOM"),
])
def test_bad_input_is_one_line_and_exit_2(cli: Cli, db: str, args: tuple[str, ...],
                                          says: str) -> None:
    credits = _credits(db)
    got = _adjust(cli, db, *args)
    assert got.code == 2, got
    assert says in got.err and got.err.count("\n") == 1 and "Traceback" not in got.err
    assert _credits(db) == credits


def test_already_undone_and_undo_that_would_go_below_zero(cli: Cli, db: str) -> None:
    _ok(_adjust(cli, db, "r2", "--coins", "100", "--reason", "off-stream"))
    _ok(_adjust(cli, db, "r2", "--coins=-150", "--reason", "correction"))  # 50 + 100 - 150 = 0
    got = _adjust(cli, db, "--undo", "1")
    assert got.code == 2 and "below 0 coins" in got.err
    _ok(_adjust(cli, db, "--undo", "2"))
    again = _adjust(cli, db, "--undo", "2")
    assert again.code == 2 and "already undone" in again.err
    assert _ok(cli("report", "r2", "--db", db, "--json")).json()["total_coins"] == 150


def test_sessions_show_counted_adjusted_and_the_total(cli: Cli, db: str) -> None:
    _ok(_adjust(cli, db, "r2", "--coins", "1,950", "--reason", "off-stream"))
    rows = {r["room_id"]: r for r in _ok(cli("sessions", "--db", db, "--json")).json()}
    r2 = rows["r2"]
    assert (r2["coins"], r2["adjusted_coins"], r2["total_coins"]) == (50, 1950, 2000)
    assert (r2["creator_usd"], r2["adjusted_creator_usd"], r2["total_creator_usd"]) == \
        ("0.25", "9.75", "10")
    assert (rows["r1"]["adjusted_coins"], rows["r1"]["total_coins"]) == (0, sum(R1_GIFTS))
    text = _ok(cli("sessions", "--db", db)).out
    line = next(x for x in text.splitlines() if "r2" in x)
    assert "50" in line and "+1,950" in line and "2,000" in line and "$10.00" in line
    assert "counted + manual adjustments" in text


def test_terminal_report_shows_the_parts_and_the_whole(cli: Cli, db: str) -> None:
    _ok(_adjust(cli, db, "r1", "--coins", "300", "--reason", "off-stream"))
    out = _ok(cli("report", "r1", "--db", db)).out
    assert "counted 1,256 + adjusted 300 = 1,556 coins" in " ".join(out.split())
    assert "counted $6.28 + adjusted $1.50 = $7.78" in " ".join(out.split())


def test_hostile_reason_is_text_everywhere(cli: Cli, db: str, tmp_path: Path) -> None:
    _ok(_adjust(cli, db, "r1", "--coins", "5", "--reason", HOSTILE_REASON))
    listed = _ok(_adjust(cli, db, "--list", "--json")).json()
    assert listed[0]["reason"] == HOSTILE_REASON  # JSON: exactly what was given
    out = _ok(_adjust(cli, db, "--list")).out + _ok(cli("report", "r1", "--db", db)).out
    assert "\x1b" not in out and "\\x1b" in out  # the escape is shown, never obeyed
    assert "[bold]b[/bold]" in " ".join(out.split())  # Rich markup printed as itself
    table = tmp_path / "adj.csv"
    _ok(_adjust(cli, db, "--list", "--csv", str(table)))
    with table.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["reason"] == "'" + HOSTILE_REASON  # a spreadsheet shows it as text
    html = tmp_path / "r1.html"
    _ok(cli("report", "r1", "--db", db, "--html", str(html)))
    page = html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "counted 1,256 + adjusted\n5 = 1,261 coins" in page


def test_web_session_page_and_json_twin(db: str, cli: Cli) -> None:
    from liveworth.web import create_app

    _ok(_adjust(cli, db, "r1", "--coins", "44", "--reason", HOSTILE_REASON))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        got = client.get("/api/sessions/r1").json()
        assert (got["counted_coins"], got["adjusted_coins"], got["total_coins"]) == \
            (1256, 44, 1300)
        assert got["total_creator_usd"] == "6.5"
        assert got["adjustments"][0]["reason"] == HOSTILE_REASON
        rows = {r["room_id"]: r for r in client.get("/api/sessions").json()}
        assert rows["r1"]["total_coins"] == 1300
        page = client.get("/sessions/r1").text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
        assert "counted 1,256 + adjusted 44 = 1,300 coins" in " ".join(page.split())
        listing = client.get("/sessions").text
        assert "counted + adjusted 44 = 1,300" in listing
    assert json.loads(cli("adjust", "--list", "--db", db, "--json").out)[0]["coins"] == 44


def test_roster_and_analyze_totals(cli: Cli, db: str) -> None:
    _ok(_adjust(cli, db, "r1", "--coins", "300", "--reason", "off-stream"))
    r = _ok(cli("roster", "--db", db, "--as-of", "2023-11-20", "--json")).json()
    alice = next(row for row in r["creators"] if row["host"] == "alice")
    assert (alice["coins"], alice["adjusted_coins"], alice["total_coins"]) == (1256, 300, 1556)
    assert (alice["creator_usd"], alice["total_creator_usd"]) == ("6.28", "7.78")
    # the pace on counted + adjusted diamonds: 1,556 in 20 of November's 30 days
    assert alice["pace"]["projected_diamonds"] == "2334"
    total = r["totals"][0]
    assert (total["coins"], total["adjusted_coins"], total["total_coins"]) == \
        (1306, 300, 1606)
    text = " ".join(_ok(cli("roster", "--db", db, "--as-of", "2023-11-20")).out.split())
    assert "1,256" in text and "(+300)" in text and "(adjusted)" in text  # may wrap
    assert "2023-11 with manual adjustments: counted 1,306 + adjusted 300 = 1,606 coins" in text
    a = _ok(cli("analyze", "--db", db, "--host", "alice", "--json")).json()["totals"]
    assert (a["coins"], a["adjusted_coins"], a["total_coins"], a["total_creator_usd"]) == \
        (1256, 300, 1556, "7.78")
    out = " ".join(_ok(cli("analyze", "--db", db, "--host", "alice")).out.split())
    assert "counted 1,256 + adjusted 300 = 1,556 coins" in out
    assert "counted $6.28 + adjusted $1.50 = $7.78" in out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.just("add"), st.integers(-2_000, 2_000)),
                          st.tuples(st.just("undo"), st.integers(1, 12))), max_size=12))
def test_any_sequence_keeps_the_invariants(ops: list[tuple[str, int]]) -> None:
    """Whatever is added and undone: the total never goes below 0, adjusted is the sum of the
    adjustments not undone, nothing is ever deleted, ids are 1, 2, 3 … and credits never change;
    every refusal is a LiveworthError and changes nothing."""
    from liveworth.decode.events import event_from_dict
    from liveworth.errors import LiveworthError
    from liveworth.store import ledger
    from liveworth.store.adjustments import add_adjustment, adjusted_coins, undo_adjustment
    from liveworth.store.database import events_table

    counted = sum(R1_GIFTS)
    with Store.open(":memory:") as store:
        store.insert_events(events_table([event_from_dict(e) for e in _events()]))
        ledger.recompute(store.con, ["r1", "r2"])
        credits = store.query("SELECT * FROM credits ORDER BY room_id, msg_id")
        made: dict[int, int] = {}  # id -> coins, of every adjustment recorded
        undone: set[int] = set()
        for op, n in ops:
            active = sum(c for i, c in made.items() if i not in undone)
            try:
                if op == "add":
                    got = add_adjustment(store, "r1", n, "r")
                    assert n != 0 and counted + active + n >= 0
                    assert got.id == len(made) + 1
                    made[got.id] = n
                else:
                    undo_adjustment(store, n)
                    assert n in made and n not in undone
                    assert counted + active - made[n] >= 0
                    undone.add(n)
            except LiveworthError:
                ok_add = op == "add" and n != 0 and counted + active + n >= 0
                ok_undo = op == "undo" and n in made and n not in undone and \
                    counted + active - made[n] >= 0
                assert not (ok_add or ok_undo), (op, n)
            active = sum(c for i, c in made.items() if i not in undone)
            assert adjusted_coins(store).get("r1", 0) == active
            assert counted + active >= 0
        assert store.query("SELECT count(*) FROM adjustments")[0][0] == len(made)
        assert store.query("SELECT * FROM credits ORDER BY room_id, msg_id") == credits


def test_roster_page_shows_adjustments_apart(cli: Cli, db: str) -> None:
    from liveworth.web import create_app

    _ok(_adjust(cli, db, "r2", "--coins=-20", "--reason", "TikTok correction"))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        page = " ".join(client.get("/roster", params={"as_of": "2023-11-20"}).text.split())
        got = client.get("/api/roster", params={"as_of": "2023-11-20"}).json()
    assert '50 <span class="sub adjusted">(-20 adjusted)</span>' in page
    assert '1,306 <span class="sub adjusted">(-20 adjusted)</span>' in page
    assert got == _ok(cli("roster", "--db", db, "--as-of", "2023-11-20", "--json")).json()
    assert got["totals"][0]["total_coins"] == 1286


def test_the_analysis_pages_show_the_adjusted_total_apart(cli: Cli, db: str,
                                                          tmp_path: Path) -> None:
    """analyze --html and the web analysis page: counted + adjusted = total, a correction with
    its sign, the parts adding up to the total shown."""
    from fastapi.testclient import TestClient

    from liveworth.web import create_app

    _ok(_adjust(cli, db, "r1", "--coins", "-57", "--reason", "TikTok correction"))
    page = tmp_path / "a.html"
    _ok(cli("analyze", "--db", db, "--host", "alice", "--html", str(page)))
    # 1,199 coins are $5.995 exactly, shown $6.00: the correction is shown as the difference
    want = ("Creator received, counted $6.28 + adjusted -$0.28 = $6.00 (coins: counted 1,256 "
            "+ adjusted -57 = 1,199;")
    assert want in " ".join(page.read_text(encoding="utf-8").split())
    _ok(_adjust(cli, db, "--undo", "1"))
    _ok(cli("analyze", "--db", db, "--host", "alice", "--html", str(page)))
    assert 'data-testid="adjusted"' not in page.read_text(encoding="utf-8")
    _ok(_adjust(cli, db, "r1", "--coins", "-57", "--reason", "the same, again"))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        html = client.get("/creators/alice/analysis").text
    assert want in " ".join(html.split())

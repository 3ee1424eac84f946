"""Battles (issue #17): coins during battles against outside them, per opponent, results.

- The real dumps: which hold battle messages, what the decoder reads from them (opponents,
  results, scores, the planned length), and the analysis of three real creators' battles.
- A hand-made history whose every figure is written out by hand: a battle sent whole, one with
  only TikTok's planned end, a draw, two battles of one room overlapping, one with updates only.
- A simulated history (``liveworth simulate --sessions``): every battle, its coins against an
  independent count over the credits, during + outside = the whole.
- The terminal section, the JSON twin through TestClient, both pages (hostile names escaped).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.decode.events import Battle
from liveworth.decode.webcast import decode_message
from liveworth.store.database import Store
from websupport import XSS, TestClient, gift, write_jsonl

from conftest import DUMPS, Result

MIN = 60_000
T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC
HOST, HOST_ID = "duelist", "1"
RIVAL_A = {"user_id": "2", "user": "rival_a", "nickname": "Rival A"}
RIVAL_B = {"user_id": "3", "user": "rival_b", "nickname": XSS[0]}
ME = {"user_id": HOST_ID, "user": HOST, "nickname": "Duelist"}


# ---------------------------------------------------------------------------- real dumps


def _battle_messages(name: str) -> list[dict[str, Any]]:
    with gzip.open(DUMPS / name, "rt", encoding="utf-8") as f:
        return list(json.load(f).get("WebcastLinkMicBattle", []))


def test_which_real_dumps_hold_battles() -> None:
    holding = sorted(p.name for p in DUMPS.glob("*.json.gz") if _battle_messages(p.name))
    assert holding == ["WebcastLog2.json.gz", "ab.json.gz", "log.json.gz"]
    assert len(_battle_messages("ab.json.gz")) == 10


def test_the_decoder_reads_opponents_results_and_length() -> None:
    """team.lish's finished battle, as TikTok sent it (the proto3 win is a missing result)."""
    item = next(m for m in _battle_messages("ab.json.gz")
                if m["uniqueId"] == "team.lish" and "2023-10-04T19:19:17" in m["ts"])
    (ev,) = decode_message("WebcastLinkMicBattle", base64.b64decode(item["eventData"]))
    assert isinstance(ev, Battle) and ev.battle_id == "7286183703490841377"
    assert ev.extra == {
        "action": 5, "phase": "end", "start_ms": 1696446852102, "duration_s": 301,
        "kind": "normal",
        "anchors": [{"user_id": "6634154394286817285", "user": "team.lish",
                     "nickname": "⚜️𝐒αгα𝕙.𝕃𝕚𝐒𝕙ää𝐒⚜️"},
                    {"user_id": "6649262773665366022", "user": "itzmarcelo91",
                     "nickname": "⚡️⚜️🅼🅰🆁🅲🅴🅻🅾 ⚜️⚡️"}],
        "results": [{"user_id": "6634154394286817285", "result": "win", "score": 1512},
                    {"user_id": "6649262773665366022", "result": "lose", "score": 44}]}


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from liveworth.cli import main

    path = str(tmp_path_factory.mktemp("realbattles") / "real.duckdb")
    assert main(["import", "--db", path, *map(str, sorted(DUMPS.glob("*.json.gz")))]) == 0
    return path


def _battles(cli: Callable[..., Result], db: str, *args: str) -> dict[str, Any]:
    got = cli("analyze", "--db", db, *args, "--json")
    assert got.code == 0, got.err
    return dict(got.json()["battles"])


@pytest.mark.parametrize(("host", "opponent", "results", "scores"), [
    ("team.lish", "itzmarcelo91", ["win", "unknown"], [(1512, 44), (None, None)]),
    ("ferrekisskall", "andrea.salcedo9", ["lose", "unknown"], [(565, 21323), (None, None)]),
    ("little.satan3", "game_master_fanclub", ["lose", "unknown"], [(782, 1170), (None, None)]),
    ("itzcouple", "nicovatoo", ["win"], [(2958, 500)]),
    # a 2 v 2 team battle: the opponent is the host with the other result
    ("paulodasilva750", "donfilipe00", ["lose"], [(3, 9)]),
    # score updates only (WebcastLinkMicArmies): a battle, nobody named, no result
    ("milicjatv", "unknown", ["unknown"], [(None, None)]),
])
def test_real_creators_battles(real_db: str, cli: Callable[..., Result], host: str,
                               opponent: str, results: list[str],
                               scores: list[tuple[int | None, int | None]]) -> None:
    b = _battles(cli, real_db, "--host", host)
    assert [r["opponent"] for r in b["list"]] == [opponent] * len(results)
    assert [r["result"] for r in b["list"]] == results
    assert [(r["score"], r["opponent_score"]) for r in b["list"]] == scores
    assert b["during"]["coins"] == b["outside"]["coins"] == 0  # the dumps' battle rooms: no gift
    assert [(o["opponent"], o["battles"]) for o in b["opponents"]] == [(opponent, len(results))]


def test_a_real_finished_battle_runs_from_its_start_to_its_end(real_db: str,
                                                              cli: Callable[..., Result]) -> None:
    """ferrekisskall's room opens on the finishing message (TikTok's start_ms is 5 minutes
    earlier, before anything was recorded): the battle is clipped to the session; the open
    battle without an end runs to its planned end, clipped to the last event."""
    b = _battles(cli, real_db, "--host", "ferrekisskall")
    first, second = b["list"]
    assert (first["start_ts"], first["end_ts"], first["timing"]) == \
        (1696447145248, 1696447145248, "sent")
    assert (second["start_ts"], second["end_ts"], second["timing"]) == \
        (1696447176986, 1696447177114, "planned end")


# ---------------------------------------------------------------------------- hand-made


def battle(room: str, msg: str, minute: float, battle_id: str, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "type": "battle", "room_id": room, "msg_id": msg,
            "ts": T0 + int(minute * MIN), "battle_id": battle_id, **extra}


def start(room: str, minutes: int) -> list[dict[str, Any]]:
    return [{"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": T0,
             "host_id": HOST_ID, "host": HOST},
            {"v": 1, "type": "live_end", "room_id": room, "msg_id": "e",
             "ts": T0 + minutes * MIN}]


def coins(room: str, minute: float, amount: int, n: int) -> dict[str, Any]:
    return gift(room, f"g{n}", T0 + round(minute * MIN), f"u{n}", f"fan{n}", amount)


HISTORY = [
    *start("r1", 60),
    battle("r1", "a1", 10, "A", phase="start", anchors=[ME, RIVAL_A]),
    battle("r1", "a2", 15, "A", phase="end", anchors=[ME, RIVAL_A],
           results=[{"user_id": HOST_ID, "result": "win", "score": 300},
                    {"user_id": "2", "result": "lose", "score": 120}]),
    battle("r1", "b1", 30, "B", phase="start", start_ms=T0 + 30 * MIN, duration_s=300,
           anchors=[ME, RIVAL_B]),
    coins("r1", 5, 100, 1), coins("r1", 12, 500, 2), coins("r1", 15, 50, 3),
    coins("r1", 15 - 1 / MIN, 7, 4), coins("r1", 33, 40, 5), coins("r1", 36, 10, 6),
    *start("r2", 30),
    battle("r2", "c1", 5, "C", phase="start", anchors=[ME, RIVAL_A]),
    battle("r2", "c2", 10, "C", phase="end",
           results=[{"user_id": HOST_ID, "result": "draw", "score": 50},
                    {"user_id": "2", "result": "draw", "score": 50}]),
    battle("r2", "f1", 8, "F", phase="start", anchors=[ME, RIVAL_B]),
    battle("r2", "f2", 12, "F", phase="end", anchors=[ME, RIVAL_B],
           results=[{"user_id": HOST_ID, "result": "lose", "score": 10},
                    {"user_id": "3", "result": "win", "score": 90}]),
    battle("r2", "d1", 20, "D"),
    coins("r2", 7, 60, 7), coins("r2", 11, 30, 8),
]


@pytest.fixture
def db(tmp_path: Path, cli: Callable[..., Result]) -> str:
    path = str(tmp_path / "battles.duckdb")
    done = cli("import", "--db", path, str(write_jsonl(tmp_path / "b.jsonl", HISTORY)))
    assert done.code == 0, done.err
    return path


def span(minutes: float, coins_: int) -> dict[str, Any]:
    return {"minutes": minutes, "coins": coins_,
            "coins_per_minute": round(coins_ / minutes, 3) if minutes else None}


def test_hand_made_battles_figure_by_figure(db: str, cli: Callable[..., Result]) -> None:
    b = _battles(cli, db)
    # during: A [10, 15) and B [30, 35) in r1, C ∪ F = [5, 12) in r2 (their 7 minutes once)
    assert b["during"] == span(17, 500 + 7 + 40 + 60 + 30)
    assert b["outside"] == span(90 - 17, 100 + 50 + 10)
    assert b["during_vs_outside"] == round((637 / 17) / (160 / 73), 4)
    assert (b["battles"], b["sessions"], b["sessions_with_battles"]) == (5, 2, 2)
    assert b["results"] == {"wins": 1, "losses": 1, "draws": 1, "unknown_result": 2}
    rows = {r["battle_id"]: r for r in b["list"]}
    assert [r["battle_id"] for r in b["list"]] == ["A", "B", "C", "F", "D"]
    assert {k: (r["minutes"], r["coins"], r["timing"], r["opponent"], r["result"], r["score"],
                r["opponent_score"]) for k, r in rows.items()} == {
        "A": (5, 507, "sent", "rival_a", "win", 300, 120),
        "B": (5, 40, "planned end", "rival_b", "unknown", None, None),
        "C": (5, 60, "sent", "rival_a", "draw", 50, 50),
        "F": (4, 30, "sent", "rival_b", "lose", 10, 90),
        "D": (0, 0, "updates only", "unknown", "unknown", None, None)}
    assert [(o["opponent"], o["user_ids"], o["battles"], o["wins"], o["losses"], o["draws"],
             o["unknown_result"], o["minutes"], o["coins"]) for o in b["opponents"]] == [
        ("rival_a", ["2"], 2, 1, 0, 1, 0, 10, 567),
        ("rival_b", ["3"], 2, 0, 1, 0, 1, 9, 70),
        ("unknown", [], 1, 0, 0, 0, 1, 0, 0)]
    assert b["opponents"][2]["coins_per_minute"] is None


def test_terminal_section(db: str, cli: Callable[..., Result]) -> None:
    got = cli("analyze", "--db", db)
    assert got.code == 0, got.err
    assert "battles: 5 battles in 2 of 2 sessions; during battles 37.5 coins/min (637 coins in " \
        "17.0 min), outside 2.2 coins/min (160 coins in 73.0 min): 17.10× the rate" \
        in " ".join(got.out.split())
    assert "results: 1 won, 1 lost, 1 drawn, 2 unknown" in got.out
    assert "rival_a" in got.out and "rival_b" in got.out


def test_json_twin_and_pages(db: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    from liveworth.web import create_app

    want = cli("analyze", "--db", db, "--json").json()["battles"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/creators/{HOST}/analysis")
        assert api.status_code == 200
        assert api.json()["battles"] == want
        page = client.get(f"/creators/{HOST}/analysis").text
    out = tmp_path / "a.html"
    assert cli("analyze", "--db", db, "--html", str(out)).code == 0
    for html in (page, out.read_text(encoding="utf-8")):
        assert "<h2 id=\"battles\">Battles</h2>" in html or "<h2>Battles</h2>" in html
        assert "5 battles in 2 of\n2 sessions: 1 won, 1 lost, 1 drawn,\n2 with no result" in html
        assert "<tr><th scope='row'>during battles</th><td class='n'>17.0</td>" \
            "<td class='n'>637</td><td class='n'>37.5</td></tr>" in html
        assert XSS[0] not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---------------------------------------------------------------------------- simulated


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    from liveworth.cli import main

    tmp = tmp_path_factory.mktemp("simbattles")
    jsonl, path = tmp / "history.jsonl", str(tmp / "sim.duckdb")
    assert main(["simulate", "--followers", "3000", "--sessions", "10", "--minutes", "120",
                 "--seed", "5", "--out", str(jsonl)]) == 0
    assert main(["import", "--db", path, str(jsonl)]) == 0
    return path, jsonl


def test_simulated_battles_against_an_independent_count(simulated: tuple[str, Path],
                                                        cli: Callable[..., Result]) -> None:
    db, jsonl = simulated
    spans: dict[tuple[str, str], dict[str, int]] = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if ev["type"] == "battle":
            spans.setdefault((ev["room_id"], ev["battle_id"]), {})[ev["phase"]] = ev["ts"]
    assert len(spans) >= 5
    with Store.open(db, read_only=True) as store:
        gifts = store.query("SELECT room_id, ts, coins FROM credits WHERE NOT guest")
    want = {k: sum(int(c) for room, ts, c in gifts if room == k[0] and s["start"] <= ts < s["end"])
            for k, s in spans.items()}
    a = cli("analyze", "--db", db, "--json").json()
    b = a["battles"]
    assert {(r["room_id"], r["battle_id"]): r["coins"] for r in b["list"]} == want
    assert {r["minutes"] for r in b["list"]} == {5.0}  # the model's battle_minutes
    assert b["results"]["unknown_result"] == b["battles"] == len(spans)
    assert [o["opponent"] for o in b["opponents"]] == ["unknown"]
    assert b["during"]["coins"] + b["outside"]["coins"] == a["totals"]["coins"]
    assert b["during"]["coins"] == sum(want.values())  # no two simulated battles overlap
    live_min = sum(s["end_ts"] - s["start_ts"] for s in a["sessions"]) / MIN
    assert round(b["during"]["minutes"] + b["outside"]["minutes"], 3) == round(live_min, 3)
    assert b["sessions_with_battles"] == len({room for room, _ in spans})


def test_battles_section_in_chromium(db: str) -> None:
    """The page in a real browser: the section reads as text (a hostile nickname runs nothing),
    the split table's header cells name each row, and no console error."""
    browser_tests = pytest.importorskip("test_web_browser")
    from liveworth.web import create_app

    with browser_tests.Server(create_app(db)) as server, \
            browser_tests.sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(browser_tests.CHROMIUM),
                              args=browser_tests.CHROMIUM_ARGS)
        page = b.new_page()
        errors: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server.url}/creators/{HOST}/analysis")
        rows = page.locator("table.battle-split tbody th[scope=row]").all_text_contents()
        names = page.locator("table.opponents tbody td:first-child").all_text_contents()
        b.close()
    assert not errors and not dialogs, (errors, dialogs)
    assert rows == ["during battles", "outside battles"]
    assert names == ["rival_aRival A", f"rival_b{XSS[0]}", "unknown"]


# ---------------------------------------------------------------------------- the whole


_EVENT = st.tuples(st.sampled_from(["start", "end", "update"]), st.integers(-5, 70),
                   st.sampled_from("XYZ"), st.sampled_from(["win", "lose", "draw", None]))


@settings(max_examples=12, deadline=None)
@given(length=st.integers(0, 60), battle_events=st.lists(_EVENT, max_size=8),
       gifts=st.lists(st.tuples(st.integers(-5, 70), st.integers(1, 1000)), max_size=12))
def test_during_and_outside_are_the_whole(length: int,
                                          battle_events: list[tuple[str, int, str, str | None]],
                                          gifts: list[tuple[int, int]]) -> None:
    """Any battles (ends missing, outside the session, overlapping) and any gifts: during +
    outside is every coin and minute; during is the gifts inside some battle's span (a count of
    its own); results and opponents add up to the battles."""
    import tempfile

    from liveworth.analysis.analytics import analyze
    from liveworth.economy.ratecard import load_rate_card
    from liveworth.ingest.importer import import_paths

    events = start("p", length)
    for i, (phase, minute, bid, result) in enumerate(battle_events):
        extra: dict[str, Any] = {"anchors": [ME, RIVAL_A]}
        if phase != "update":
            extra["phase"] = phase
        if phase == "end" and result:
            extra["results"] = [{"user_id": HOST_ID, "result": result, "score": i}]
        events.append(battle("p", f"b{i}", minute, bid, **extra))
    events += [coins("p", m, c, i) for i, (m, c) in enumerate(gifts)]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(Path(tmp) / "p.jsonl", events)
        with Store.open(str(Path(tmp) / "p.duckdb")) as store:
            import_paths(store, [path])
            a = analyze(store, load_rate_card())
    b = a.battles
    assert b is not None
    assert b.during.coins + b.outside.coins == a.coins
    assert b.during.ms + b.outside.ms == sum(s.end_ts - s.start_ts for s in a.sessions)
    s = a.sessions[0]
    spans = [(r.start_ts, r.end_ts) for r in b.rows]
    assert all(s.start_ts <= lo <= hi <= s.end_ts for lo, hi in spans)
    inside = sum(c for m, c in gifts if any(lo <= T0 + m * MIN < hi for lo, hi in spans))
    assert b.during.coins == inside
    assert sum(b.results().values()) == sum(o.battles for o in b.opponents) == b.count
    assert b.count == len({bid for _, _, bid, _ in battle_events})

"""The gifter CRM (docs/CRM.md): tags and notes per (host, gifter), one row per user id across
renames, the usual gap and overdue rule on a hand-made history, forget (totals kept, names gone
from events, credits, alerts and exports; later imports pseudonymized) and export.

The hand-made history: creator ``hosta``, one session a day at noon on the days listed in
:data:`DAYS`; ``u1`` gives on days 0, 2, 4, 6 (and renames on day 4), ``u2`` on days 0, 3, 10,
``u3`` on day 20 only, and ``u4`` also gives to a second creator ``hostb``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveworth.analysis.crm import is_overdue, usual_gap
from liveworth.store.database import Store
from liveworth.store.forgotten import pseudonym

from conftest import Result

DAY = 86_400_000
T0 = 1_717_243_200_000  # 2024-06-01 12:00 UTC
DAYS = (0, 2, 3, 4, 6, 10, 20)
#: (day, user id, user name, nickname, coins)
GIFTS = [
    (0, "u1", "alice", "Alice", 100), (2, "u1", "alice", "Alice", 50),
    (4, "u1", "alice_new", "Ally", 25), (6, "u1", "alice_new", "Ally", 5),
    (0, "u2", "bob", "Bob", 10), (3, "u2", "bob", "Bob", 20), (10, "u2", "bob", "Bob", 30),
    (20, "u3", "carol", "Carol", 1),
]
CLI = Callable[..., Result]


def session(room: str, host: str, t: int, gifts: list[tuple[int, str, str, str, int]],
            ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"v": 1, "type": "live_start", "room_id": room,
                                  "msg_id": "start", "ts": t, "host_id": "h-" + host,
                                  "host": host}]
    for i, (_, uid, user, nick, coins) in enumerate(gifts):
        out.append({"v": 1, "type": "gift", "room_id": room, "msg_id": f"g{i}",
                    "ts": t + 60_000 * (i + 1), "user_id": uid, "user": user, "nickname": nick,
                    "gift_id": 5655, "gift_name": "Rose", "coins": coins, "gift_type": 2,
                    "repeat_count": 1, "repeat_end": True, "group_id": "g"})
        out.append({"v": 1, "type": "comment", "room_id": room, "msg_id": f"c{i}",
                    "ts": t + 60_000 * (i + 1) + 1, "user_id": uid, "user": user,
                    "nickname": nick, "text": f"hi from {user}"})
    return out


def history() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in DAYS:
        events += session(f"a{day:02d}", "hosta", T0 + day * DAY,
                          [g for g in GIFTS if g[0] == day])
    events += session("b00", "hostb", T0 + 5 * DAY, [(5, "u4", "dave", "Dave", 7)])
    events += session("a05x", "hosta", T0 + 5 * DAY + 3_600_000, [(5, "u4", "dave", "Dave", 3)])
    return events


def write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path, cli: CLI) -> str:
    path = str(tmp_path / "crm.duckdb")
    r = cli("import", "--db", path, str(write(tmp_path / "h.jsonl", history())))
    assert r.code == 0, r.err
    return path


def board(cli: CLI, db: str, *args: str) -> dict[str, dict[str, Any]]:
    r = cli("gifters", "--db", db, "--json", *args)
    assert r.code == 0, r.err
    return {row["user_id"]: row for row in r.json()}


def last_event_ts() -> int:
    return max(e["ts"] for e in history())


# ---------------------------------------------------------------------------- habit


def test_usual_gap_and_overdue_exact_on_a_hand_made_history(cli: CLI, db: str) -> None:
    rows = board(cli, db, "--host", "@hosta")
    as_of = last_event_ts()
    u1, u2, u3 = rows["u1"], rows["u2"], rows["u3"]
    assert (u1["gifting_sessions"], u1["usual_gap_days"]) == (4, 2.0)
    assert u1["days_since_last_gift"] == round((as_of - (T0 + 6 * DAY + 4 * 60_000)) / DAY, 2)
    assert u1["overdue"] is True  # ~14 days > max(2 × 2, 2 + 7) = 9
    assert (u2["gifting_sessions"], u2["usual_gap_days"]) == (3, 5.0)  # gaps 3 and 7
    assert u2["overdue"] is False  # ~10 days, not > max(10, 12)
    assert (u3["gifting_sessions"], u3["usual_gap_days"], u3["overdue"]) == (1, None, False)
    overdue = cli("gifters", "--db", db, "--host", "hosta", "--overdue", "--json").json()
    assert [r["user_id"] for r in overdue] == ["u1"]
    # measured at the end of day 14 (as-of), u1's 8 days are not yet overdue (> 9 needed)
    early = board(cli, db, "--host", "hosta", "--as-of", "2024-06-15")
    assert early["u1"]["overdue"] is False and "u3" not in early
    late = board(cli, db, "--host", "hosta", "--as-of", "2024-06-17")  # day 16: > 9 days
    assert late["u1"]["overdue"] is True


def test_overdue_rule_edges() -> None:
    assert usual_gap([3 * DAY, 0, DAY]) == 1.5
    assert usual_gap([5]) is None
    assert not is_overdue(2, 1.0, 100.0)  # not a regular
    assert not is_overdue(3, 1.0, 8.0) and is_overdue(3, 1.0, 8.01)  # usual + 7 rules
    assert not is_overdue(3, 10.0, 20.0) and is_overdue(3, 10.0, 20.01)  # 2 × usual rules


# ---------------------------------------------------------------------------- tags, notes, names


def test_tags_and_notes_persist_and_renames_stay_one_row(cli: CLI, db: str) -> None:
    r = cli("gifter", "u1", "--db", db, "--tag", "VIP", "--tag", "whale", "--note",
            "birthday  in May")
    assert r.code == 0, r.err
    assert "vip, whale" in r.out and "birthday in May" in r.out
    r = cli("gifter", "u1", "--db", db, "--untag", "whale", "--json")
    card = r.json()
    assert card["tags"] == ["vip"] and [n["note"] for n in card["notes"]] == ["birthday in May"]
    assert (card["coins"], card["sessions"], card["host"]) == (180, 4, "hosta")
    assert [(s["room_id"], s["coins"]) for s in card["gift_sessions"]] == [
        ("a00", 100), ("a02", 50), ("a04", 25), ("a06", 5)]
    assert [(n["user"], n["nickname"], n["first_ts"]) for n in card["names"]] == [
        ("alice", "Alice", T0 + 60_000), ("alice_new", "Ally", T0 + 4 * DAY + 60_000)]
    assert card["names"][1]["last_seen"] == "2024-06-07"
    rows = board(cli, db)
    assert rows["u1"]["tags"] == ["vip"] and rows["u1"]["coins"] == 180
    assert rows["u1"]["user"] == "alice_new"  # the latest name, one row
    assert len([r for r in rows.values() if r["user"].startswith("alice")]) == 1
    assert rows["u2"]["tags"] == [] and rows["u2"]["notes"] == []


def test_host_is_needed_when_the_gifter_gave_to_several(cli: CLI, db: str) -> None:
    r = cli("gifter", "u4", "--db", db, "--tag", "x")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "@hosta, @hostb" in r.err and "--host" in r.err
    r = cli("gifter", "u4", "--db", db, "--host", "@HostB", "--tag", "x", "--json")
    assert r.code == 0 and r.json()["coins"] == 7 and r.json()["tags"] == ["x"]
    assert board(cli, db, "--host", "hosta")["u4"]["tags"] == []  # tags are per host
    assert board(cli, db, "--host", "hostb")["u4"]["tags"] == ["x"]


@pytest.mark.parametrize("argv", [
    ("gifter", "nobody"), ("gifter", "  "), ("gifter", "u1", "--tag", " "),
    ("gifter", "u1", "--as-of", "2024-02-30"), ("gifter", "u1", "--forget", "--tag", "x"),
    ("gifter", "u1", "--export", "--forget"), ("gifters", "--window", "1y"),
    ("gifters", "--as-of", "June"), ("gifters", "--since", "2024-13-01"),
    ("gifters", "--window", "7d", "--overdue"), ("gifters", "--window", "live"),
])
def test_bad_input_is_one_line_and_exit_2(cli: CLI, db: str, argv: tuple[str, ...]) -> None:
    r = cli(*argv, "--db", db)
    assert r.code == 2, (r.out, r.err)
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err, r.err


# ---------------------------------------------------------------------------- forget, export


def _every_text(db: str) -> str:
    """Every text value of every table that can name a person, as one string."""
    with Store.open(db, read_only=True) as store:
        parts = []
        for table in ("events", "credits", "alerts", "gifter_tags", "gifter_notes"):
            cols = [r[0] for r in store.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND data_type = 'VARCHAR'", [table])]
            for row in store.query(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} "
                                   f"FROM {table}"):
                parts += [str(v) for v in row if v is not None]
    return "\n".join(parts)


def test_forget_keeps_totals_and_removes_every_name(cli: CLI, db: str, tmp_path: Path) -> None:
    with Store.open(db) as store:  # an alert naming u1 (the alert engine's table)
        store.query("INSERT INTO alerts (room_id, rule, \"key\", kind, ts, host, text, "
                    "user_id, who) VALUES ('a02', 'big', 'k', 'gift', 1, 'hosta', "
                    "'alice_new (Ally) sent 50 coins', 'u1', 'Ally')")
    cli("gifter", "u1", "--db", db, "--tag", "vip", "--note", "calls herself Ally")
    before = board(cli, db)
    r = cli("gifter", "u1", "--db", db, "--forget", "--json")
    alias = pseudonym("u1")
    assert r.code == 0 and r.json() == {"user_id": "u1", "pseudonym": alias, "forgotten": True}
    assert alias.startswith("gifter-") and len(alias) == len("gifter-") + 8
    after = board(cli, db)
    assert {u: g["coins"] for u, g in after.items()} == {u: g["coins"] for u, g in before.items()}
    assert after["u1"]["user"] == after["u1"]["nickname"] == alias
    assert after["u1"]["tags"] == [] and after["u1"]["notes"] == []
    text = _every_text(db)
    for name in ("alice", "Alice", "Ally"):
        assert name not in text, name
    assert "bob" in text  # others untouched
    exported = cli("gifter", "u1", "--db", db, "--export")
    assert exported.code == 0
    dump = exported.json()
    assert dump["forgotten"]["pseudonym"] == alias and dump["tags"] == dump["notes"] == []
    assert len(dump["events"]) == 8 and sum(c["coins"] for c in dump["credits"]) == 180
    assert dump["alerts"][0]["who"] == alias and dump["alerts"][0]["text"].startswith(alias)
    for name in ("alice", "Alice", "Ally"):
        assert name not in exported.out
    assert "u1" not in alias and "alice" not in alias
    # the same events imported again, and a new session under the old names: pseudonymized
    later = session("a30", "hosta", T0 + 30 * DAY, [(30, "u1", "alice", "Alice", 9)])
    r = cli("import", "--db", db, str(write(tmp_path / "again.jsonl", history() + later)))
    assert r.code == 0 and "0 rejected" in r.out, r.out
    assert "conflict" not in r.out.lower()
    text = _every_text(db)
    for name in ("alice", "Alice", "Ally"):
        assert name not in text, name
    assert board(cli, db)["u1"]["coins"] == 189
    assert cli("gifter", "u1", "--db", db, "--forget").code == 0  # idempotent


def test_export_holds_everything_about_one_gifter(cli: CLI, db: str) -> None:
    cli("gifter", "u2", "--db", db, "--tag", "regular", "--note", "<b>bold</b>\x1b[31m")
    r = cli("gifter", "u2", "--db", db, "--export")
    dump = r.json()
    assert set(dump) == {"user_id", "forgotten", "names", "tags", "notes", "events", "credits",
                         "alerts"}
    assert dump["forgotten"] is None and [t["tag"] for t in dump["tags"]] == ["regular"]
    assert [e["type"] for e in dump["events"]] == ["gift", "comment"] * 3
    assert [c["coins"] for c in dump["credits"]] == [10, 20, 30]
    assert dump["notes"][0]["note"] == "<b>bold</b>\x1b[31m"
    shown = cli("gifter", "u2", "--db", db)
    assert "\x1b[31m" not in shown.out  # terminal output is made visible, never run


def test_export_lists_alerts_that_name_them_without_their_id(cli: CLI, db: str) -> None:
    with Store.open(db) as store:
        store.query("INSERT INTO alerts (room_id, rule, \"key\", kind, ts, host, text, who) "
                    "VALUES ('a00', 'kw', 'c0', 'keyword', 2, 'hosta', 'Bob said hi', 'Bob')")
    dump = cli("gifter", "u2", "--db", db, "--export").json()
    assert [a["rule"] for a in dump["alerts"]] == ["kw"]
    assert cli("gifter", "u2", "--db", db, "--forget").code == 0
    assert "Bob" not in _every_text(db)


# ---------------------------------------------------------------------------- a simulated history


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A simulated history of 10 sessions (``liveworth simulate --sessions``), as events."""
    from liveworth.cli import main

    out = tmp_path_factory.mktemp("simcrm") / "sim.jsonl"
    assert main(["simulate", "--followers", "3000", "--sessions", "10", "--per-week", "3",
                 "--seed", "21", "--start", "2024-05-01", "--host", "simhost", "--out",
                 str(out)]) == 0
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return out, events


def _regular(events: list[dict[str, Any]]) -> str:
    """The gifter with gifts in the most sessions (ties: the smallest user id)."""
    rooms: dict[str, set[str]] = {}
    for e in events:
        if e["type"] == "gift" and e.get("user_id"):
            rooms.setdefault(e["user_id"], set()).add(e["room_id"])
    return min(rooms, key=lambda u: (-len(rooms[u]), u))


def test_simulated_history_renames_habits_and_forget(
        cli: CLI, tmp_path: Path, simulated: tuple[Path, list[dict[str, Any]]]) -> None:
    _, events = simulated
    uid = _regular(events)
    rooms = sorted({e["room_id"] for e in events}, key=lambda r: min(
        x["ts"] for x in events if x["room_id"] == r))
    later = set(rooms[5:])
    renamed = [{**e, "user": "renamed_one", "nickname": "Re Named"}
               if e.get("user_id") == uid and e["room_id"] in later else e for e in events]
    db = str(tmp_path / "sim.duckdb")
    assert cli("import", "--db", db, str(write(tmp_path / "r.jsonl", renamed))).code == 0
    assert cli("gifter", uid, "--db", db, "--tag", "regular", "--note", "thank on stream").code == 0
    rows = board(cli, db)
    assert len(rows) == len({g[2] for g in _credits(db)})
    me = rows[uid]
    with Store.open(db, read_only=True) as store:
        coins = store.query("SELECT sum(coins) FROM credits WHERE user_id = ? AND NOT guest",
                            [uid])[0][0]
    assert me["coins"] == coins and me["tags"] == ["regular"] and me["user"] == "renamed_one"
    assert [n["user"] for n in me["names"]] == [next(e["user"] for e in events
                                                    if e.get("user_id") == uid), "renamed_one"]
    first_renamed = min(e["ts"] for e in renamed if e.get("user") == "renamed_one")
    assert me["names"][1]["first_ts"] == first_renamed
    # every gifter's habit against an independent count over the credits
    as_of = max(e["ts"] for e in events)
    firsts: dict[str, dict[str, int]] = {}
    lasts: dict[str, int] = {}
    for room, ts, u in _credits(db):
        firsts.setdefault(u, {})[room] = min(ts, firsts.get(u, {}).get(room, ts))
        lasts[u] = max(ts, lasts.get(u, ts))
    for user, row in rows.items():
        times = sorted(firsts[user].values())
        gaps = sorted((times[i + 1] - times[i]) / DAY for i in range(len(times) - 1))
        usual = None if not gaps else (gaps[len(gaps) // 2] if len(gaps) % 2 else
                                       (gaps[len(gaps) // 2 - 1] + gaps[len(gaps) // 2]) / 2)
        since = (as_of - lasts[user]) / DAY
        assert row["gifting_sessions"] == len(times), user
        assert row["usual_gap_days"] == (None if usual is None else round(usual, 2)), user
        assert row["overdue"] == (len(times) >= 3 and since > max(2 * usual, usual + 7)), user
    overdue = [r["overdue"] for r in rows.values() if r["gifting_sessions"] >= 3]
    assert any(overdue) and not all(overdue)  # the rule tells regulars apart
    # forget: totals kept, no name left anywhere; the original (un-renamed) history imported
    # again and a later import of the same person stay pseudonymized
    before = {u: r["coins"] for u, r in rows.items()}
    assert cli("gifter", uid, "--db", db, "--forget").code == 0
    assert cli("import", "--db", db, str(write(tmp_path / "o.jsonl", events))).code == 0
    after = board(cli, db)
    assert {u: r["coins"] for u, r in after.items()} == before
    old_names = {e[k] for e in events if e.get("user_id") == uid for k in ("user", "nickname")}
    text = _every_text(db) + "\n" + cli("gifter", uid, "--db", db, "--export").out
    for name in old_names | {"renamed_one", "Re Named"}:  # as a whole word ("Viewer 5936" stays)
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text), name
    assert "Viewer" in text  # the others keep theirs


_CREDITS: dict[str, list[tuple[str, int, str]]] = {}


def _credits(db: str) -> list[tuple[str, int, str]]:
    """(room, ts, user id) of every credit to the host, read once per database."""
    if db not in _CREDITS:
        with Store.open(db, read_only=True) as store:
            _CREDITS[db] = [(str(r), int(t), str(u)) for r, t, u in store.query(
                "SELECT room_id, ts, user_id FROM credits WHERE NOT guest "
                "AND user_id IS NOT NULL")]
    return _CREDITS[db]

"""Alerts (issue #17): the rules file, the engine's kinds, and alerts fired by replays — stored
once, delivered to local webhooks, never delaying the store."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.alerts.delivery import Delivery, body
from liveworth.alerts.engine import Alert, Item, RoomAlerts
from liveworth.alerts.rules import Webhook, load_rules, parse_rules
from liveworth.errors import UsageError
from liveworth.store.database import Store

Run = Callable[..., Any]


def rules(text: str, tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- the rules file

BAD_FILES = [
    ("[[alert]]\nname = 'a'\nkind = 'gfit'\ncoins = 5\n", "alert 1 ('a'): kind: must be one of"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoin = 5\n", "unknown key 'coin' for kind 'gift'"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\n", "alert 1 ('a'): coins: missing"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = 0\n", "coins: must be from 1 to"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = true\n", "coins: must be a whole number"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = 5\n[[alert]]\nname = 'a'\nkind = 'goal'\n"
     "target = 9\n", "alert 2: name 'a' is used by an earlier rule"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = 5\nwebhook = 'ftp://x/y'\n",
     "webhook: must be an http:// or https:// URL"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = 5\nwebhook = {url = 'https://t.me/x', "
     "kind = 'telegram'}\n", "a telegram webhook needs chat_id"),
    ("[[alert]]\nname = 'a'\nkind = 'keyword'\nwords = []\n", "words: missing"),
    ("[[alert]]\nname = 'a'\nkind = 'gifter_joined'\n", "give coins (lifetime coins"),
    ("[[alert]]\nname = 'a'\nkind = 'gift_spike'\nfactor = 1\n", "factor: must be above 1"),
    ("[[alert]]\nname = 'a'\nkind = 'goal'\ntarget = 'x'\nunit = 'creator_usd'\n",
     "target: not an amount of USD"),
    ("[[alert]]\nname = 'a'\nkind = 'gift'\ncoins = 5\ncooldown_s = -1\n",
     "cooldown_s: must be from 0 to"),
    ("[[alert]]\nname = \"a\\u0007\"\nkind = 'gift'\ncoins = 5\n", "control characters"),
    ("[[alert]\nname = 'a'\n", "not valid TOML"),
    ("[rules]\n", "unknown top-level key 'rules'"),
    ("", "no [[alert]] rules"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_rules_file_is_one_line_naming_the_file_rule_and_field(
        text: str, message: str, tmp_path: Path, cli: Run) -> None:
    path = rules(text, tmp_path)
    with pytest.raises(UsageError, match=re.escape(message)):
        load_rules(path)
    r = cli("alerts", "--check", str(path))
    assert r.code == 2 and r.out == ""
    (line,) = r.err.splitlines()
    assert line.startswith(f"liveworth alerts: error: {path}: ") and message in line


def test_record_refuses_a_bad_rules_file_before_recording(tmp_path: Path, cli: Run) -> None:
    path = rules("[[alert]]\nname = 'x'\nkind = 'gift'\n", tmp_path)
    db = tmp_path / "x.duckdb"
    r = cli("record", "--replay", str(tmp_path / "none.jsonl"), "--alerts", str(path),
            "--db", str(db))
    assert r.code == 2 and "coins: missing" in r.err and not db.exists()
    r = cli("record", "--replay", "x.jsonl", "--alerts", str(tmp_path / "missing.toml"))
    assert r.code == 2 and "no such alerts file" in r.err


def test_check_shows_every_rule_and_never_a_webhook_secret(tmp_path: Path, cli: Run) -> None:
    path = rules("""
[[alert]]
name = "big"
kind = "gift"
coins = 1000
host = "@Some.Creator"
[[alert.webhook]]
url = "https://discord.com/api/webhooks/123/SECRET"
[[alert.webhook]]
url = "https://api.telegram.org/botSECRET/sendMessage"
kind = "telegram"
chat_id = -1001
[[alert]]
name = "words"
kind = "keyword"
words = ["GG", "love  you"]
""", tmp_path)
    r = cli("alerts", "--check", str(path), "--json")
    assert r.code == 0, r.err
    assert "SECRET" not in r.out
    got = json.loads(r.out)
    assert got[0]["host"] == "some.creator" and got[0]["coins"] == 1000
    assert got[0]["webhooks"] == [{"kind": "json", "where": "https://discord.com"},
                                  {"kind": "telegram", "where": "https://api.telegram.org"}]
    assert got[1]["words"] == ["GG", "love you"] and got[1]["cooldown_s"] == 30
    r = cli("alerts", "--check", str(path))
    assert r.code == 0 and "2 rules, all valid" in r.out and "SECRET" not in r.out


# ---------------------------------------------------------------------------- the engine

def rule_set(text: str) -> Any:
    import tomllib

    return parse_rules(tomllib.loads(text), "test")


def credit(ts: int, key: str, coins: int, user: str = "u1", gift: str = "Rose",
           n: int = 1) -> Item:
    return Item(ts, "credit", f"credit:{key}", user, f"name-{user}", coins, gift, n)


def comment(ts: int, key: str, text: str, user: str = "u1") -> Item:
    return Item(ts, "comment", f"comment:{key}", user, f"name-{user}", text=text)


def join(ts: int, key: str, user: str) -> Item:
    return Item(ts, "join", f"join:{key}", user, f"name-{user}")


def test_gift_fires_at_its_threshold_once_per_credit_and_respects_the_cooldown() -> None:
    rs = rule_set("[[alert]]\nname='g'\nkind='gift'\ncoins=100\ncooldown_s=60\n")
    room = RoomAlerts("r", "host", rs)
    got = room.feed([credit(1000, "a", 99), credit(2000, "b", 100, n=4),
                     credit(30_000, "c", 5000), credit(62_000, "d", 100)])
    assert [(a.key, a.ts) for a in got] == [("credit:b", 2000), ("credit:d", 62_000)]
    assert got[0].text == "name-u1 sent Rose ×4: 100 coins"
    assert room.feed([credit(2000, "b", 100)]) == []  # the same credit again: nothing


def test_keyword_matches_whole_words_case_insensitively() -> None:
    rs = rule_set("[[alert]]\nname='k'\nkind='keyword'\nwords=['gg', 'love you']\n"
                  "cooldown_s=0\n")
    room = RoomAlerts("r", "h", rs)
    texts = ["GG!", "eggs", "gg_wp", "I LOVE   you", "lovely", "(gg)", "ggg", "love yours"]
    got = room.feed([comment(i, str(i), t) for i, t in enumerate(texts)])
    assert [a.detail["comment"] for a in got] == ["GG!", "I LOVE you", "(gg)"]


def test_a_gifter_arrives_once_per_live_by_lifetime_coins_or_tag() -> None:
    rs = rule_set("[[alert]]\nname='vip'\nkind='gifter_joined'\ncoins=1000\ntag='vip'\n")
    room = RoomAlerts("r", "h", rs, lifetime={"old": 1000, "low": 999},
                      tags={"tagged": frozenset({"vip"})})
    got = room.feed([join(1, "1", "old"), join(2, "2", "low"), join(3, "3", "tagged"),
                     join(4, "4", "old"), credit(5, "c", 1, user="low"), join(6, "6", "low")])
    assert [(a.user_id, a.key) for a in got] == [("old", "joined:old"),
                                                  ("tagged", "joined:tagged"),
                                                  ("low", "joined:low")]
    assert "1,000 coins to @h" in got[0].text and "tagged 'vip'" in got[1].text


def test_a_goal_fires_once_when_the_credited_coins_reach_it() -> None:
    rs = rule_set("[[alert]]\nname='c'\nkind='goal'\ntarget=300\n"
                  "[[alert]]\nname='u'\nkind='goal'\ntarget=1.5\nunit='creator_usd'\n")
    room = RoomAlerts("r", "h", rs, creator_usd=lambda c: Decimal(c) / 100)
    got = room.feed([credit(1, "a", 100), credit(2, "b", 149), credit(3, "c", 51),
                     credit(4, "d", 900)])
    assert [(a.rule, a.ts, a.detail["coins"]) for a in got] == [("u", 2, 249), ("c", 3, 300)]


def test_a_spike_fires_on_crossing_above_the_median_window_and_rearms() -> None:
    rs = rule_set("[[alert]]\nname='s'\nkind='gift_spike'\nwindow_s=10\nfactor=3\n"
                  "warmup_s=50\nmin_coins=10\ncooldown_s=0\n")
    room = RoomAlerts("r", "h", rs, start_ts=0)
    steady = [credit(t * 10_000 + 5000, f"s{t}", 10) for t in range(10)]  # 10 coins / 10 s
    burst = [credit(100_000 + i, f"b{i}", 10) for i in range(3)]  # 30 coins within 10 s
    # quiet again (re-arms), then a second burst over a baseline still 10 a window
    later = [credit(125_000, "q", 10)] + [credit(140_000 + i, f"c{i}", 10) for i in range(3)]
    got = room.feed(steady + burst + later)
    # b1: 95,000's 10 + b0 + b1 = 30 in (90,001, 100,001] = 3 × the median of nine 10s
    assert [a.key for a in got] == ["credit:b1", "credit:c2"]
    assert got[0].detail == {"coins": 30, "baseline": 10.0, "window_s": 10.0}


def test_no_spike_during_the_warm_up() -> None:
    rs = rule_set("[[alert]]\nname='s'\nkind='gift_spike'\nwindow_s=10\nwarmup_s=600\n"
                  "min_coins=1\n")
    room = RoomAlerts("r", "h", rs, start_ts=0)
    assert room.feed([credit(1000 * i, str(i), 1000) for i in range(100)]) == []


ITEMS = st.lists(st.one_of(
    st.builds(lambda t, c, u: credit(t, f"{t}-{c}-{u}", c, user=u),
              st.integers(0, 600_000), st.integers(1, 3000), st.sampled_from(["a", "b", "c"])),
    st.builds(lambda t, w, u: comment(t, f"{t}-{w}-{u}", w, user=u),
              st.integers(0, 600_000), st.sampled_from(["gg", "hi", "GG wp", "love you"]),
              st.sampled_from(["a", "b"])),
    st.builds(lambda t, u: join(t, f"{t}-{u}", u), st.integers(0, 600_000),
              st.sampled_from(["a", "b", "c"]))), max_size=60)
ALL_KINDS = """
[[alert]]\nname='g'\nkind='gift'\ncoins=1000\ncooldown_s=20
[[alert]]\nname='s'\nkind='gift_spike'\nwindow_s=10\nwarmup_s=60\nmin_coins=500
[[alert]]\nname='j'\nkind='gifter_joined'\ncoins=2000
[[alert]]\nname='m'\nkind='gifter_comment'\ncoins=3000\ncooldown_s=5
[[alert]]\nname='k'\nkind='keyword'\nwords=['gg']
[[alert]]\nname='o'\nkind='goal'\ntarget=8000
"""


@settings(max_examples=150, deadline=None)
@given(ITEMS, st.lists(st.integers(0, 60), max_size=6))
def test_feeding_in_time_order_by_any_chunks_gives_the_same_alerts(
        items: list[Item], cuts: list[int]) -> None:
    """A live recording feeds a room batch by batch; a restart feeds its history at once: the
    alerts (and their order) are the same."""
    rs = rule_set(ALL_KINDS)
    items = sorted(items, key=lambda i: (i.ts, i.kind, i.key))
    whole = RoomAlerts("r", "h", rs, start_ts=0).feed(items)
    room = RoomAlerts("r", "h", rs, start_ts=0)
    chunked: list[Alert] = []
    at = 0
    for cut in [*sorted(cuts), len(items)]:
        chunked += room.feed(items[at:max(at, cut)])
        at = max(at, cut)
    chunked += room.feed(items)  # everything again: nothing new
    assert chunked == whole
    keys = [(a.rule, a.key) for a in whole]
    assert len(keys) == len(set(keys))


def test_webhook_bodies_by_kind() -> None:
    a = Alert("room", "host", "big", "credit:1", "gift", 1_700_000_000_123,
              "@everyone sent Lion: 29,999 coins", "u", "@everyone", {"coins": 29999})
    plain = body(a, Webhook("https://x"))
    assert plain["time"] == "2023-11-14T22:13:20.123Z" and plain["rule"] == "big"
    assert {"kind", "rule", "room_id", "host", "ts", "text"} <= set(plain)
    assert body(a, Webhook("https://x", "discord")) == {
        "content": "[@host] @everyone sent Lion: 29,999 coins",
        "allowed_mentions": {"parse": []}}
    assert body(a, Webhook("https://x", "telegram", "-100"))["chat_id"] == "-100"


def test_a_failing_webhook_is_retried_then_told_once_per_rule() -> None:
    calls: list[str] = []
    told: list[str] = []

    def post(url: str, data: bytes, timeout: float) -> int:
        calls.append(url)
        return 503 if "bad" in url else 200

    rs = rule_set("[[alert]]\nname='g'\nkind='gift'\ncoins=1\n"
                  "webhook=['http://bad.example/SECRET', 'http://ok.example/']\n")
    d = Delivery(rs, log=told.append, post=post, backoff_s=0.0, retries=2)
    for i in range(3):
        d(Alert("r", "h", "g", str(i), "gift", i, "t"))
    assert d.close(5.0)
    assert calls.count("http://bad.example/SECRET") == 9 and calls.count("http://ok.example/") == 3
    assert d.stats.delivered == 3 and d.stats.failed == 3
    assert told == ["alert rule 'g': webhook http://bad.example failed: HTTP 503 (further "
                    "failures of this rule are not shown)"]


# ---------------------------------------------------------------------------- end to end

class Receiver:
    """A local webhook: records each POSTed JSON body; ``mode`` ok, 500 or hang."""

    def __init__(self, mode: str = "ok") -> None:
        self.bodies: list[dict[str, Any]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if mode == "hang":
                    outer.release.wait(60)
                    return
                outer.bodies.append(json.loads(data))
                self.send_response(500 if mode == "500" else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def receivers() -> Iterator[Callable[[str], Receiver]]:
    made: list[Receiver] = []

    def make(mode: str = "ok") -> Receiver:
        made.append(Receiver(mode))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "sim.jsonl"
    done = subprocess.run([sys.executable, "-m", "liveworth", "simulate", "--followers",
                           "50000", "--minutes", "30", "--seed", "3", "--host", "sim_host",
                           "--out", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return path


RULES = """
[[alert]]
name = "big gift"
kind = "gift"
coins = 500
webhook = "{url}"

[[alert]]
name = "gg"
kind = "keyword"
words = ["gg"]
cooldown_s = 0
webhook = ["{url}", "{url2}"]

[[alert]]
name = "goal"
kind = "goal"
target = 5000
host = "@SIM_HOST"

[[alert]]
name = "other creator"
kind = "gift"
coins = 1
host = "someone_else"
"""


def replay(sim: Path, db: Path, journal: Path, rules_file: Path, *extra: str,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIVEWORTH_CONFIG": str(db.parent / "none.toml")}
    return subprocess.run([sys.executable, "-m", "liveworth", "record", "--replay", str(sim),
                           "--speed", "max", "--db", str(db), "--journal", str(journal),
                           "--alerts", str(rules_file), "--json", *extra], env=env,
                          capture_output=True, text=True, timeout=timeout)


def stored(db: Path) -> list[tuple[Any, ...]]:
    with Store.open(str(db), read_only=True) as store:
        return store.query('SELECT room_id, rule, "key", kind, ts, text FROM alerts ORDER BY ALL')


def expected(db: Path) -> dict[str, set[tuple[str, int]]]:
    """What the rules must fire, computed from the stored credits and comments directly."""
    with Store.open(str(db), read_only=True) as store:
        gifts = {(f"credit:{m}", int(t)) for m, t in store.query(
            "SELECT msg_id, ts FROM credits WHERE coins >= 500 AND NOT guest")}
        comments = store.query("SELECT msg_id, ts, text FROM events WHERE type = 'comment'")
        credits = store.query("SELECT ts, msg_id, coins FROM credits WHERE NOT guest "
                              "ORDER BY ts, msg_id")
    gg = {(f"comment:{m}", int(t)) for m, t, text in comments
          if "gg" in re.split(r"[^0-9a-z_]+", (text or "").lower())}
    total, goal = 0, set()
    for ts, _, c in credits:
        total += c
        if total >= 5000:
            goal = {("goal", int(ts))}
            break
    return {"big gift": gifts, "gg": gg, "goal": goal}


def test_a_replay_fires_stores_and_delivers_each_alert_once(
        sim: Path, tmp_path: Path, receivers: Callable[[str], Receiver]) -> None:
    one, two = receivers("ok"), receivers("ok")
    path = rules(RULES.format(url=one.url, url2=two.url), tmp_path)
    db, journal = tmp_path / "a.duckdb", tmp_path / "journal"
    done = replay(sim, db, journal, path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    rows = stored(db)
    want = expected(db)
    assert all(want.values())  # the simulated LIVE triggers every rule
    got = {rule: {(k, ts) for _, r, k, _, ts, _ in rows if r == rule} for rule in want}
    assert got == want
    assert {r[1] for r in rows} == set(want)  # never another creator's rule
    # told as JSON lines while recording, counted in the summary
    told = [x for x in lines if x["type"] == "alert"]
    assert sorted((x["rule"], x["key"]) for x in told) == sorted((r[1], r[2]) for r in rows)
    summary = lines[-1]
    n_gifts, n_gg = len(want["big gift"]), len(want["gg"])
    assert summary["alerts"] == {"fired": len(rows), "delivered": n_gifts + 2 * n_gg,
                                 "failed": 0, "dropped": 0, "pending": False}
    assert sorted((b["rule"], b["key"]) for b in one.bodies) == sorted(
        (r[1], r[2]) for r in rows if r[1] in ("big gift", "gg"))
    assert sorted(b["key"] for b in two.bodies) == sorted(k for k, _ in want["gg"])
    assert {b["host"] for b in one.bodies} == {"sim_host"}
    # the same replay again (or a restart over the same store): nothing stored or sent twice
    again = replay(sim, db, journal, path)
    assert again.returncode == 0, again.stderr
    assert stored(db) == rows
    assert json.loads(again.stdout.splitlines()[-1])["alerts"]["fired"] == 0
    assert len(one.bodies) == n_gifts + n_gg


def test_a_hanging_or_failing_webhook_never_changes_or_stops_the_recording(
        sim: Path, tmp_path: Path, receivers: Callable[[str], Receiver]) -> None:
    clean_db = tmp_path / "clean.duckdb"
    plain = rules(RULES.replace('webhook = "{url}"\n', "").replace(
        'webhook = ["{url}", "{url2}"]\n', ""), tmp_path)
    assert replay(sim, clean_db, tmp_path / "j0", plain).returncode == 0
    hang, fail = receivers("hang"), receivers("500")
    path = tmp_path / "bad.toml"
    path.write_text(RULES.format(url=hang.url, url2=fail.url), encoding="utf-8")
    db = tmp_path / "a.duckdb"
    started = time.monotonic()
    done = replay(sim, db, tmp_path / "j1", path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 120  # bounded by the close grace, not by the hang
    assert stored(db) == stored(clean_db)
    warnings = [x for x in done.stderr.splitlines() if "webhook" in x]
    # one line per failing rule: 'gg' fails on the 500 first; 'big gift' only hangs (times
    # out) — told when its retries end, or left pending at the close
    assert len([w for w in warnings if "'gg'" in w]) == 1
    assert all("/hook" not in w for w in warnings)  # never the URL's path (a secret)
    summary = json.loads(done.stdout.splitlines()[-1])["alerts"]
    assert summary["fired"] == len(stored(clean_db))
    assert len(fail.bodies) >= len(expected(db)["gg"])  # each gg tried (and retried)


def test_a_killed_replay_restarted_stores_the_alerts_of_a_clean_run(
        sim: Path, tmp_path: Path) -> None:
    """SIGKILL mid-replay, then the replay again: the alerts table is the clean run's — none
    lost, none twice (the second run rebuilds each rule's state from the stored events)."""
    path = rules("[[alert]]\nname='big gift'\nkind='gift'\ncoins=500\n"
                 "[[alert]]\nname='gg'\nkind='keyword'\nwords=['gg']\ncooldown_s=45\n",
                 tmp_path)
    clean = tmp_path / "clean.duckdb"
    assert replay(sim, clean, tmp_path / "j0", path).returncode == 0
    db, journal = tmp_path / "a.duckdb", tmp_path / "j1"
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    proc = subprocess.Popen([sys.executable, "-m", "liveworth", "record", "--replay", str(sim),
                             "--speed", "300", "--db", str(db), "--journal", str(journal),
                             "--alerts", str(path), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # kill once some alerts are stored, before the end
        if '"type": "alert"' in line:
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    partial = stored(db) if db.exists() else []
    assert len(partial) < len(stored(clean))
    done = replay(sim, db, journal, path)
    assert done.returncode == 0, done.stderr
    assert stored(db) == stored(clean)


def test_alerts_lists_what_is_stored_with_filters(sim: Path, tmp_path: Path, cli: Run) -> None:
    path = rules("[[alert]]\nname='big'\nkind='gift'\ncoins=500\n", tmp_path)
    db = tmp_path / "a.duckdb"
    assert replay(sim, db, tmp_path / "j", path).returncode == 0
    rows = stored(db)
    r = cli("alerts", "--db", str(db), "--json")
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert [(a["rule"], a["key"], a["ts"]) for a in got] == sorted(
        ((x[1], x[2], x[4]) for x in rows), key=lambda t: (t[2], t[1]))
    assert json.loads(cli("alerts", "--db", str(db), "--json", "--host", "@nobody").out) == []
    assert len(json.loads(cli("alerts", "--db", str(db), "--json", "--limit", "2").out)) == 2
    late = json.loads(cli("alerts", "--db", str(db), "--json", "--since", "2099-01-01").out)
    assert late == []
    r = cli("alerts", "--db", str(db))
    assert r.code == 0 and "big" in r.out
    for bad in (["--since", "2024-13-01"], ["--limit", "0"], ["--limit", "+5"],
                ["--limit", "0_0_5"], ["--since", "2024-01-01", "--tz",
                                                               "Mars/Base"]):
        r = cli("alerts", "--db", str(db), *bad)
        assert r.code == 2 and len(r.err.splitlines()) == 1, (bad, r.err)


# ---------------------------------------------------------------------------- the web

WEB_RULES = ("[[alert]]\nname='big gift'\nkind='gift'\ncoins=500\n"
             "[[alert]]\nname='gg'\nkind='keyword'\nwords=['gg']\ncooldown_s=0\n")


def test_the_live_json_and_alerts_json_show_the_stored_alerts(sim: Path, tmp_path: Path,
                                                              cli: Run) -> None:
    from fastapi.testclient import TestClient

    from liveworth.web import create_app

    db = tmp_path / "a.duckdb"
    assert replay(sim, db, tmp_path / "j", rules(WEB_RULES, tmp_path)).returncode == 0
    newest = sorted(stored(db), key=lambda r: (r[4], r[1], r[2]), reverse=True)
    client = TestClient(create_app(str(db)), base_url="http://127.0.0.1")
    live = client.get("/api/live/sim_host?recent=7").json()
    assert [(a["rule"], a["key"], a["ts"]) for a in live["alerts"]] == [
        (r[1], r[2], r[4]) for r in newest[:7]]
    listed = client.get("/api/alerts?host=@SIM_HOST").json()
    assert listed == [{k: v for k, v in a.items() if k != "time"}
                      for a in json.loads(cli("alerts", "--db", str(db), "--json").out)]
    assert client.get("/api/alerts?since=2099-01-01").json() == []
    assert client.get("/api/alerts?since=2024-13-01").status_code == 400
    assert client.get("/alerts").status_code == 200


def test_serve_alerts_shows_what_the_rules_fire_over_a_store_recorded_without_them(
        sim: Path, tmp_path: Path) -> None:
    """serve --alerts over a LIVE recorded without rules: the live JSON shows the alerts the
    recorder would have stored (the same, read-only, stored nowhere)."""
    from fastapi.testclient import TestClient

    from liveworth.web import create_app

    path = rules(WEB_RULES, tmp_path)
    with_rules, without = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert replay(sim, with_rules, tmp_path / "j1", path).returncode == 0
    env = {**os.environ, "LIVEWORTH_CONFIG": str(tmp_path / "none.toml")}
    assert subprocess.run([sys.executable, "-m", "liveworth", "record", "--replay", str(sim),
                           "--speed", "max", "--db", str(without), "--journal",
                           str(tmp_path / "j2")], env=env, capture_output=True,
                          timeout=120).returncode == 0
    client = TestClient(create_app(str(without), rules=load_rules(path)),
                        base_url="http://127.0.0.1")
    live = client.get("/api/live/sim_host?recent=20").json()
    want = sorted(stored(with_rules), key=lambda r: (r[4], r[1], r[2]), reverse=True)[:20]
    assert [(a["rule"], a["key"], a["text"]) for a in live["alerts"]] == [
        (r[1], r[2], r[5]) for r in want]
    assert stored(without) == []  # shown, never stored
    assert client.get("/api/alerts").json() == []


def test_a_streak_left_open_long_ago_fires_when_the_recording_stops(tmp_path: Path) -> None:
    """A streak without its final, 40 minutes before the end of a recording with no live_end:
    the ledger credits it (unconfirmed) only at the end; its gift alert fires then, though its
    time is far behind the last events the watcher had read."""
    from websupport import gift

    t0 = 1_700_000_000_000
    room = "open-streak"
    events: list[dict[str, Any]] = [{"v": 1, "type": "live_start", "room_id": room,
                                     "msg_id": "s", "ts": t0, "host_id": "1", "host": "h"}]
    events += [gift(room, f"f{i}", t0 + 1000 * i, "whale", "Whale", 100, gift_type=1,
                    repeat=i, end=False, group="combo") for i in range(1, 11)]
    events += [{"v": 1, "type": "comment", "room_id": room, "msg_id": f"c{i}",
                "ts": t0 + 60_000 * i, "user_id": "u", "user": "u", "nickname": "u",
                "text": "hi"} for i in range(1, 41)]
    sim = tmp_path / "open.jsonl"
    sim.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    path = rules("[[alert]]\nname='big'\nkind='gift'\ncoins=1000\n", tmp_path)
    db = tmp_path / "a.duckdb"
    done = replay(sim, db, tmp_path / "j", path, "--speed", "2000", "--max-gap", "0.05")
    assert done.returncode == 0, done.stderr
    assert [(r[1], r[2], r[4]) for r in stored(db)] == [("big", "credit:f10", t0 + 10_000)]


def test_a_hostile_comment_that_fires_a_keyword_stays_text_in_every_later_output(
        tmp_path: Path, cli: Run) -> None:
    """A viewer's comment quoted by a keyword alert: `liveworth alerts` on the terminal shows its
    control characters as escapes and its markup as text; the JSON gives it back exactly."""
    evil = "gg \x1b[31mred\x1b[0m [bold]x[/bold] <script>alert(1)</script> \u202eevil"
    t0 = 1_700_000_000_000
    events = [{"v": 1, "type": "live_start", "room_id": "h", "msg_id": "s", "ts": t0,
               "host_id": "1", "host": "hostile_host"},
              {"v": 1, "type": "comment", "room_id": "h", "msg_id": "c", "ts": t0 + 1000,
               "user_id": "u", "user": "[red]u[/red]", "nickname": "\x07bell", "text": evil}]
    src = tmp_path / "h.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    path = rules("[[alert]]\nname='k'\nkind='keyword'\nwords=['gg']\n", tmp_path)
    db = tmp_path / "h.duckdb"
    done = replay(src, db, tmp_path / "j", path)
    assert done.returncode == 0, done.stderr
    got = json.loads(cli("alerts", "--db", str(db), "--json").out)
    assert len(got) == 1 and evil.split()[-1] in got[0]["text"] and got[0]["who"] == "\x07bell"
    r = cli("alerts", "--db", str(db))
    assert r.code == 0
    assert "\x1b" not in r.out and "\x07" not in r.out and "\u202e" not in r.out
    assert "[bold]x[/bold]" in " ".join(r.out.split()) and "<script>" in r.out

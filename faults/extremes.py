"""3c. Extreme values within range, downstream: every command on what the door lets in.

docs/EVENTS.md decides the ranges once, at import: event times from 0 to 253402300799999
(9999-12-31 09:59:59.999 UTC), a gift's ``coins × repeat_count`` at most 2^53, sums exact
whatever their size. So a file at those edges must import without a reject, and then every
command must work on it with exact figures. The file (seeded) holds a session spanning the whole
range (from ts 0 to the last instant), one wholly at ts 0, one wholly at the last instant, and
one with thousands of gifts each worth exactly 2^53 coins — one-shots split every way
(``coins = 2^k``, ``repeat_count = 2^(53-k)``), confirmed streaks and unconfirmed ones — and of
2^53 - 1 (odd sums: no total is a float by chance), from a few gifters, so that a session's, a
gifter's and the whole store's sums pass 2^63 (and 2^64 in the full form). The expected totals
are computed here, in Python integers, by the counting rules of docs/EVENTS.md. Run through the
command line (one process, ``faults/cli_batch.py``): ``import``; ``sessions`` and ``sessions
--json``; ``report ROOM``, ``--json`` and ``--html`` for every session; ``gifters`` and
``gifters --json``; ``roster --json`` and ``analyze --json``, in UTC and in local time zones
east and west of UTC (where the last instant falls on 10000-01-01 and ts 0 on 1969-12-31);
``export --format jsonl/csv/parquet``; and the exported JSONL imported again.
Required: every command exits 0 without a traceback; every total shown is exact (coins,
confirmed and unconfirmed coins, gifts, sends, per gifter, start and end times; money is the
money model's for the exact coins); every exported value equals the input's.
"""

from __future__ import annotations

import collections
import csv
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from faults.common import (
    CARD,
    TRACEBACK,
    Ctx,
    Figure,
    info,
    run_batch,
    zero,
)
from liveworth.decode.formats import MAX_TS  # docs/EVENTS.md
from liveworth.economy.money import earnings

SCENARIO = "3c. extreme values within range, downstream"
TOP = 2**53
#: 2^53 - 1 = 6361 × 69431 × 20394401: gifts worth an odd number of coins, so that no total is
#: a float by chance (sums of powers of two would survive a float on the way).
ODD = ((1, TOP - 1), (6361, (TOP - 1) // 6361), (69431 * 6361, (TOP - 1) // (69431 * 6361)),
       (20394401, (TOP - 1) // 20394401))


@dataclass
class Room:
    coins: int = 0
    unconfirmed: int = 0
    gifts: int = 0  # units: the sum of the credited repeat counts
    sends: int = 0  # credits
    start: int | None = None
    end: int | None = None
    users: collections.Counter[str] = field(default_factory=collections.Counter)


@dataclass
class Expected:
    lines: list[dict[str, Any]] = field(default_factory=list)
    rooms: dict[str, Room] = field(default_factory=dict)
    user_coins: collections.Counter[str] = field(default_factory=collections.Counter)
    user_gifts: collections.Counter[str] = field(default_factory=collections.Counter)
    user_sends: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, room: str, ts: int, kind: str, **more: Any) -> dict[str, Any]:
        ev = {"v": 1, "type": kind, "room_id": room, "ts": ts,
              "msg_id": f"m{len(self.lines)}", **more}
        self.lines.append(ev)
        r = self.rooms.setdefault(room, Room())
        r.start = ts if r.start is None else min(r.start, ts)
        r.end = ts if r.end is None else max(r.end, ts)
        return ev

    def gift(self, room: str, ts: int, user: str, coins: int, count: int, *,
             streak: bool = False, end: bool = True, group: str = "") -> None:
        self.add(room, ts, "gift", user_id=user, user=user, nickname=user, gift_id=5655,
                 gift_name="Rose", coins=coins, gift_type=1 if streak else 2,
                 repeat_count=count, repeat_end=end, group_id=group or f"g{len(self.lines)}")

    def credit(self, room: str, user: str, coins: int, count: int, confirmed: bool) -> None:
        r = self.rooms[room]
        r.coins += coins * count
        r.unconfirmed += 0 if confirmed else coins * count
        r.gifts += count
        r.sends += 1
        r.users[user] += coins * count
        self.user_coins[user] += coins * count
        self.user_gifts[user] += count
        self.user_sends[user] += 1


def build(n: int, rng: random.Random) -> Expected:
    x = Expected()
    # A session over the whole range of event times.
    x.add("x-span", 0, "live_start", host_id="900", host="extreme")
    x.gift("x-span", 0, "whale", TOP, 1)
    x.credit("x-span", "whale", TOP, 1, True)
    x.gift("x-span", MAX_TS, "u1", 1, TOP)
    x.credit("x-span", "u1", 1, TOP, True)
    x.gift("x-span", MAX_TS - 7, "u1", 1, TOP - 1)
    x.credit("x-span", "u1", 1, TOP - 1, True)
    for i, count in enumerate((1, 2, 3, 4)):  # a streak ending at the last instant
        x.gift("x-span", MAX_TS - 3 + i, "u2", 2**51, count, streak=True, end=count == 4,
               group="span-streak")
    x.credit("x-span", "u2", 2**51, 4, True)
    x.add("x-span", MAX_TS // 2, "comment", user_id="u1", user="u1", nickname="u1", text="mid")
    x.add("x-span", MAX_TS, "live_end")
    # A session wholly at ts 0, and one wholly at the last instant.
    for room, ts in (("x-zero", 0), ("x-max", MAX_TS)):
        x.add(room, ts, "live_start", host_id="900", host="extreme")
        for user in ("whale", "u1", "u2"):
            x.gift(room, ts, user, TOP, 1)
            x.credit(room, user, TOP, 1, True)
        x.add(room, ts, "like", user_id="u3", user="u3", nickname="u3", count=7)
        for count in (1, 4, 8):  # a streak without its final frame: unconfirmed, at 8
            x.gift(room, ts, "u3", 2**50, count, streak=True, end=False, group=f"{room}-open")
        x.credit(room, "u3", 2**50, 8, False)
    # Thousands of gifts of exactly 2^53 coins each.
    t0 = 1_700_000_000_000
    for i in range(n):
        ts, user = t0 + i * 1000, "whale" if i % 7 else f"u{i % 5}"
        k = rng.randrange(0, 54)
        if i % 10 == 3 and k <= 51:  # a streak: three frames, the last one final
            coins = 2**k
            for j, count in enumerate((2**(51 - k), 2**(52 - k), 2**(53 - k))):
                x.gift("x-big", ts + j, user, coins, count, streak=True, end=j == 2,
                       group=f"s{i}")
            x.credit("x-big", user, coins, 2**(53 - k), True)
        elif i % 25 == 7 and k <= 52:  # a streak that never got its final frame
            coins = 2**k
            for j, count in enumerate((2**(52 - k), 2**(53 - k))):
                x.gift("x-big", ts + j, user, coins, count, streak=True, end=False,
                       group=f"u{i}")
            x.credit("x-big", user, coins, 2**(53 - k), False)
        elif i % 3 == 1:
            coins, count = ODD[rng.randrange(len(ODD))]
            x.gift("x-big", ts, user, coins, count)
            x.credit("x-big", user, coins, count, True)
        else:
            x.gift("x-big", ts, user, 2**k, 2**(53 - k))
            x.credit("x-big", user, 2**k, 2**(53 - k), True)
    return x


# ---------------------------------------------------------------------------- checks


class Checks:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.failed: list[str] = []  # commands that did not exit 0 cleanly
        self.wrong: list[str] = []  # figures that are not exact
        self.values = 0  # exact values compared

    def ran(self, what: str, res: dict[str, Any] | None) -> dict[str, Any] | None:
        if res is None:
            self.failed.append(f"{what}: the process died")
            return None
        if res["code"] != 0 or TRACEBACK in res["stderr"] or "internal error" in res["stderr"]:
            self.failed.append(f"{what}: exit {res['code']}: {res['stderr'].strip()[-200:]}")
            return None
        return res

    def same(self, what: str, got: Any, want: Any) -> None:
        self.values += 1
        if got != want or type(got) is not type(want):
            self.wrong.append(f"{what}: {got!r} instead of {want!r}")

    def shown(self, what: str, text: str, want: int) -> None:
        """``want`` printed in full, with thousands separators, somewhere in ``text``."""
        self.values += 1
        if f"{want:,}" not in text:
            self.wrong.append(f"{what}: {want:,} not shown")


def _money(c: Checks, what: str, usd: str, coins: int) -> None:
    c.same(f"{what} creator_usd", Decimal(usd), earnings(coins, CARD).creator_usd)


def check_sessions(c: Checks, x: Expected, rows: list[dict[str, Any]], where: str) -> None:
    got = {r["room_id"]: r for r in rows}
    c.same(f"{where}: sessions", sorted(got), sorted(x.rooms))
    for room, want in x.rooms.items():
        row = got.get(room)
        if row is None:
            continue
        c.ctx.inv.row(row, f"extremes {where}")
        c.same(f"{where} {room} coins", row["coins"], want.coins)
        c.same(f"{where} {room} coins_unconfirmed", row["coins_unconfirmed"], want.unconfirmed)
        c.same(f"{where} {room} start_ts", row["start_ts"], want.start)
        c.same(f"{where} {room} end_ts", row["end_ts"], want.end)
        _money(c, f"{where} {room}", row["creator_usd"], want.coins)


def check_report(c: Checks, room: str, want: Room, rep: dict[str, Any]) -> None:
    c.ctx.inv.report(rep, "extremes report")
    w = f"report {room} --json"
    for key, value in (("coins", want.coins), ("coins_unconfirmed", want.unconfirmed),
                       ("coins_confirmed", want.coins - want.unconfirmed),
                       ("gift_count", want.gifts), ("gift_sends", want.sends),
                       ("start_ts", want.start), ("end_ts", want.end),
                       ("unique_gifters", len(want.users))):
        c.same(f"{w} {key}", rep.get(key), value)
    c.same(f"{w} top gifters", {g["user_id"]: g["coins"] for g in rep["top_gifters"]},
           {u: v for u, v in want.users.items() if any(g["user_id"] == u
                                                        for g in rep["top_gifters"])})
    c.same(f"{w} sum of tiers", sum(t["coins"] for t in rep["tiers"]), want.coins)
    c.same(f"{w} sum of coins per minute", sum(m["coins"] for m in rep["coins_per_minute"]),
           want.coins)


def check_gifters(c: Checks, x: Expected, rows: list[dict[str, Any]]) -> None:
    got = {r["user_id"]: r for r in rows}
    c.same("gifters --json: gifters", sorted(got), sorted(x.user_coins))
    for user, coins in x.user_coins.items():
        row = got.get(user)
        if row is None:
            continue
        c.same(f"gifters --json {user} coins", row["coins"], coins)
        c.same(f"gifters --json {user} gifts", row["gifts"], x.user_gifts[user])
        c.same(f"gifters --json {user} sends", row["sends"], x.user_sends[user])
        _money(c, f"gifters --json {user}", row["creator_usd"], coins)


_INTS = ("ts", "coins", "repeat_count", "gift_id", "gift_type", "count")


def check_export(c: Checks, x: Expected, jsonl: Path, csv_path: Path, parquet: Path) -> None:
    want = {(e["room_id"], e["msg_id"]): e for e in x.lines}
    got = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        got[(ev["room_id"], ev["msg_id"])] = ev
    c.same("export jsonl: events", len(got), len(want))
    bad = [k for k, ev in want.items()
           if any(got.get(k, {}).get(f) != ev[f] for f in _INTS if f in ev)]
    c.values += len(want)
    if bad:
        c.wrong.append(f"export jsonl: {len(bad)} events with other numbers, e.g. {bad[0]}: "
                       f"{got.get(bad[0])}")
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = {(r["room_id"], r["msg_id"]): r for r in csv.DictReader(f)}
    bad = [k for k, ev in want.items()
           if any(rows.get(k, {}).get(f) != str(ev[f]) for f in _INTS if f in ev)]
    c.values += len(want)
    if bad or len(rows) != len(want):
        c.wrong.append(f"export csv: {len(rows)} rows, {len(bad)} with other numbers"
                       + (f", e.g. {rows.get(bad[0])}" if bad else ""))
    import pyarrow.parquet as pq

    table = pq.read_table(parquet).to_pylist()
    prow = {(r["room_id"], r["msg_id"]): r for r in table}
    bad = [k for k, ev in want.items()
           if any(prow.get(k, {}).get(f) != ev[f] for f in _INTS if f in ev)]
    c.values += len(want)
    if bad or len(prow) != len(want):
        c.wrong.append(f"export parquet: {len(prow)} rows, {len(bad)} with other numbers")


def check_local(c: Checks, x: Expected, what: str, tz: str, got: Any) -> None:
    """``gifters``, ``roster`` and ``analyze`` ``--json`` in time zone ``tz``: the same coins
    wherever the days begin."""
    if what.startswith("gifters"):
        c.same(f"{what}: coins by gifter", {g["user_id"]: g["coins"] for g in got},
               dict(x.user_coins))
    elif what.startswith("roster"):  # as of 9999-12-31 local: the last instant has that date
        c.same(f"{what}: coins of every period", sum(r["coins"] for r in got["creators"]),  # in
               sum(r.coins for r in x.rooms.values()))  # every zone (docs/EVENTS.md, ts)
    else:
        c.same(f"{what}: @extreme's coins", got["totals"]["coins"],
               sum(r.coins for room, r in x.rooms.items() if room != "x-big"))


#: Local time zones: the last instant is 9999-12-31 23:59:59.999 in UTC+14 (Kiritimati), ts 0 is
#: 1969-12-31 west of UTC.
ZONES = ("Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12")
LOCAL = (("gifters --json", ["gifters", "--json"]),
         ("roster --json", ["roster", "--json", "--as-of", "9999-12-31"]),
         ("analyze --json", ["analyze", "--host", "@extreme", "--json"]))


def run(ctx: Ctx, gifts: int | None = None) -> list[Figure]:
    s = SCENARIO
    t0 = time.monotonic()
    n = gifts if gifts is not None else ctx.size(3000, 1100)
    work = ctx.dir("extremes")
    for p in work.iterdir():
        if p.is_file():
            p.unlink()
    x = build(n, random.Random(ctx.seed + 7))
    src = work / "extremes.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in x.lines), encoding="utf-8")
    db, again = str(work / "x.duckdb"), str(work / "again.duckdb")
    rooms = sorted(x.rooms)
    steps: list[tuple[str, list[str]]] = [
        ("import", ["import", "--json", "--db", db, str(src)]),
        ("sessions --json", ["sessions", "--json", "--db", db]),
        ("sessions", ["sessions", "--db", db]),
        ("gifters --json", ["gifters", "--json", "--db", db]),
        ("gifters", ["gifters", "--db", db]),
    ]
    for room in rooms:
        steps += [(f"report {room} --json", ["report", room, "--json", "--db", db]),
                  (f"report {room}", ["report", room, "--db", db]),
                  (f"report {room} --html", ["report", room, "--html",
                                             str(work / f"{room}.html"), "--db", db])]
    for fmt in ("jsonl", "csv", "parquet"):
        steps.append((f"export --format {fmt}", ["export", "--all", "--format", fmt, "--out",
                                                 str(work / f"export.{fmt}"), "--db", db]))
    steps += [("import of the exported JSONL", ["import", "--db", again,
                                                str(work / "export.jsonl")]),
              ("sessions --json of the re-import", ["sessions", "--json", "--db", again])]
    local = [(f"{what} --tz UTC", [*argv, "--db", db]) for what, argv in LOCAL[1:]]
    zoned = [(f"{what} --tz {tz}", [*argv, "--tz", tz, "--db", db])
             for tz in ZONES for what, argv in LOCAL]
    steps += local + zoned
    spec = [{"argv": argv, "cwd": str(work)} for _, argv in steps]
    results = run_batch(spec, work / "batch", COLUMNS="250")
    c, z = Checks(ctx), Checks(ctx)  # z: the commands in a local time zone
    out: dict[str, dict[str, Any]] = {}
    for i, (what, _) in enumerate(steps):
        res = (z if " --tz " in what and "UTC" not in what else c).ran(
            what, results[i] if i < len(results) else None)
        if res is not None:
            out[what] = res
    for what, _ in local + zoned:
        if what in out:
            check_local(c, x, what, what.rsplit(" ", 1)[-1], json.loads(out[what]["stdout"]))
    if "import" in out:
        imp = json.loads(out["import"]["stdout"])
        c.same("import accepted", imp["accepted"], len(x.lines))
        c.same("import rejected", imp["rejected"], 0)
    for what, where in (("sessions --json", "sessions --json"),
                        ("sessions --json of the re-import", "re-import of the export")):
        if what in out:
            check_sessions(c, x, json.loads(out[what]["stdout"]), where)
    for room in rooms:
        want = x.rooms[room]
        if f"report {room} --json" in out:
            check_report(c, room, want, json.loads(out[f"report {room} --json"]["stdout"]))
        if f"report {room}" in out:
            c.shown(f"report {room}", out[f"report {room}"]["stdout"], want.coins)
        if f"report {room} --html" in out:
            html = work / f"{room}.html"
            c.shown(f"report {room} --html", html.read_text(encoding="utf-8")
                    if html.exists() else "", want.coins)
        if "sessions" in out:
            c.shown(f"sessions ({room})", out["sessions"]["stdout"], want.coins)
    if "gifters --json" in out:
        check_gifters(c, x, json.loads(out["gifters --json"]["stdout"]))
    if "gifters" in out:
        top = x.user_coins.most_common(1)[0][1]
        c.shown("gifters (the top gifter)", out["gifters"]["stdout"], top)
    if all(f"export --format {f}" in out for f in ("jsonl", "csv", "parquet")):
        check_export(c, x, work / "export.jsonl", work / "export.csv", work / "export.parquet")
    total = sum(r.coins for r in x.rooms.values())
    return [
        zero(s, "commands failing on in-range extremes (exit ≠ 0, traceback)", len(c.failed),
             f"{len(steps) - len(zoned)} commands; " + "; ".join(c.failed[:3])),
        zero(s, "commands failing on in-range extremes in a local time zone (gifters, roster, "
                "analyze --json with --tz east and west of UTC)", len(z.failed),
             f"{len(zoned)} commands ({', '.join(ZONES)}); " + "; ".join(z.failed[:2])),
        zero(s, "totals or exported values not exact (sessions, report, --json, --html, "
                "gifters, export)", len(c.wrong),
             f"{c.values:,} values compared; " + "; ".join(c.wrong[:3])),
        info(s, "events at the edges; the biggest sums checked",
             f"{len(x.lines):,} events; a session {max(r.coins for r in x.rooms.values()):,} "
             f"coins, all {total:,} (2^63 = {2**63:,})",
             "times 0 and {MAX_TS} (9999-12-31 09:59:59.999 UTC); coins × repeat_count = "
             "2^53 or 2^53 - 1 on every gift of the big session"),
        info(s, "wall time", f"{time.monotonic() - t0:.0f} s"),
    ]

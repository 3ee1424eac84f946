"""3d. Hostile text in the terminal, CSV and JSON: names are data, never commands.

Names, nicknames, hosts, room ids, gift names and comments are whatever viewers and creators
typed (docs/EVENTS.md, "Text from TikTok is data"). An event file puts in every one of those
fields Rich markup (``[/]``, ``[bold red]``, a link), ANSI and OSC escape sequences
(``\\x1b[2J``, ``\\x1b]0;x\\x07``), a C1 control, right-to-left overrides and isolates, lone
UTF-16 surrogates (JSON's ``"\\ud800"``), spreadsheet formulas (``=cmd|' /C calc'!A0``, ``+1``,
``-1``, ``@SUM``, a leading tab or carriage return), NULs, DEL, backspaces and newlines (and, in
the full form, seeded strings made of two or three of them) — and a second file hostile lines
that are rejected (their reasons quote the text). Through ``import``,
``sessions``, ``report`` (every session), ``gifters``, ``export --format csv/jsonl`` and the
``--json`` outputs (one process, ``faults/cli_batch.py``). Required:

- no command fails;
- the terminal (stdout and stderr) gets no raw ESC, C0 (but the newline), C1, DEL or bidi
  character: each is shown as a visible escape (``\\x1b``, ``\\u202e``);
- no markup is read: every name a command shows appears literally, as its visible form;
- every CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
  prefixed with ``'``, and otherwise holds exactly the text;
- JSON gives back every string exactly (a lone surrogate as U+FFFD);
- the commands about one creator — ``roster``, ``analyze``, ``estimate --from-history`` and
  ``forecast``, for each hostile host (``--host``, and a database whose only creator they pick
  by themselves) — fail on none, and show the host as itself.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
from pathlib import Path
from typing import Any

from faults.common import TRACEBACK, Ctx, Figure, info, one_clear_line, run_batch, zero

SCENARIO = "3d. hostile text in the terminal, CSV and JSON"

HOSTILE = (
    "[/]", "[bold red]boss[/]", "[link=https://evil.example]click[/link]", "[blink]x",
    "\x1b[2J\x1b[31mFAKE 1,000,000", "\x1b]0;pwned\x07", "\x1b]8;;https://evil.example\x07l",
    "\x9b31mC1", "abc\u202eevil", "\u2066iso\u2069", "\u200fmark",
    "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1+1)", "\tTAB", "\rCR",
    "nul\x00byte", "new\nline", "del\x7f", "ab\x08\x08XY", "\ud800lone", "x\udfffy",
)
#: Markup that Rich would read without failing (it would only restyle or hide the text), in a
#: database of its own: where reading it changes what is shown rather than crashing.
MARKUP = ("[bold red]boss[/]", "[link=https://evil.example]click[/link]", "[blink]x",
          "[italic]i[/italic]", "[reverse]R", "[dim]", "a[on red] b")
MARKUP_ROOM = "[i]quiet[/i]"
#: Room ids: the command line passes them (no NUL in an argv).
ROOMS = ("[bold]room[/]", '=HYPERLINK("x")', "r\x1b[2Jx", "r\u202eoom", "+r\tx", "\ud800r")
#: What the terminal must never get raw: C0 (but \n), DEL, C1 and the bidi formatting characters.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What a terminal shows as an escape inside a name (the newline too).
SHOWN_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")
TEXT = ("room_id", "user_id", "user", "nickname", "gift_name", "group_id", "text", "host",
        "host_id")


def stored(s: str) -> str:
    """What the store keeps of ``s``: a lone surrogate becomes U+FFFD (docs/EVENTS.md)."""
    return _SURROGATE.sub("\ufffd", s)


def visible(s: str) -> str:
    """How a terminal must show ``s``: unsafe characters as ``\\xNN`` / ``\\uNNNN``."""
    def esc(m: re.Match[str]) -> str:
        c = ord(m.group(0))
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    return SHOWN_ESCAPED.sub(esc, stored(s))


def composed(rng: random.Random, n: int) -> tuple[str, ...]:
    """``n`` seeded strings of two or three of the hostile ones and some plain text."""
    parts = (*HOSTILE, *MARKUP, "ü", "💎", " ", "x", "\\")
    return tuple("".join(rng.choice(parts) for _ in range(rng.randint(2, 3))) for _ in range(n))


def events(texts: tuple[str, ...] = HOSTILE, rooms: tuple[str, ...] = ROOMS
           ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = len(texts)
    for r, room in enumerate(rooms):
        t0 = 1_700_000_000_000 + r * 10_000_000
        out.append({"v": 1, "type": "live_start", "room_id": room, "ts": t0, "msg_id": "start",
                    "host_id": texts[(r * 5 + 1) % n], "host": texts[(r * 5) % n]})
        for i, h in enumerate(texts):
            who = {"user_id": h, "user": texts[(i + 3) % n], "nickname": texts[(i + 7) % n]}
            out.append({"v": 1, "type": "gift", "room_id": room, "ts": t0 + i * 1000 + 1,
                        "msg_id": f"g{i}", **who, "gift_id": 5655 + i,
                        "gift_name": texts[(i + 11) % n], "coins": 5 + i, "gift_type": 2,
                        "repeat_count": 1, "repeat_end": True, "group_id": h})
            out.append({"v": 1, "type": "comment", "room_id": room, "ts": t0 + i * 1000 + 2,
                        "msg_id": f"c{i}", **who, "text": texts[(i + 13) % n]})
    return out


def rejected_lines() -> list[str]:
    """Lines rejected at import whose reasons quote hostile text."""
    out = []
    for i, h in enumerate(HOSTILE):
        out += [json.dumps({"v": 1, "type": h, "room_id": "r", "ts": 1, "msg_id": f"t{i}"}),
                json.dumps({"v": 1, "type": "like", "room_id": h, "ts": h, "msg_id": f"s{i}",
                            "user_id": "1", "count": 1}),
                json.dumps({"v": 1, "type": "like", "room_id": "r", "ts": 1, "msg_id": f"k{i}",
                            "user_id": "1", "count": 1})[:-1] + f', {json.dumps(h)}: 1, '
                f'{json.dumps(h)}: 2}}']
    return out


# ---------------------------------------------------------------------------- checks


class Found:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.raw: list[str] = []  # unsafe characters reaching the terminal
        self.literal: list[str] = []  # names not shown as themselves
        self.csv: list[str] = []
        self.json: list[str] = []
        self.checked = 0

    def terminal(self, what: str, text: str) -> None:
        self.checked += 1
        for m in UNSAFE.finditer(text):
            a = max(0, m.start() - 20)
            self.raw.append(f"{what}: raw U+{ord(m.group(0)):04X} in {text[a:m.end() + 20]!r}")
            break

    def shows(self, what: str, text: str, value: str | None) -> None:
        if value is None:
            return
        self.checked += 1
        if visible(value) not in text:
            self.literal.append(f"{what}: {visible(value)!r} not shown as itself")

    def same(self, where: list[str], what: str, got: Any, want: Any) -> None:
        self.checked += 1
        if got != want:
            where.append(f"{what}: {got!r} instead of {want!r}")


def _json(found: Found, what: str, res: dict[str, Any]) -> Any:
    try:
        return json.loads(res["stdout"])  # strict: a raw control character is not JSON
    except ValueError as exc:
        found.json.append(f"{what}: not JSON: {exc}")
        return None


def check_csv(found: Found, text: str, evs: list[dict[str, Any]]) -> None:
    want = {(stored(e["room_id"]), e["msg_id"]): e for e in evs}
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    found.same(found.csv, "csv rows", len(rows), len(evs))
    for row in rows:
        for column, cell in row.items():
            found.checked += 1
            if cell and cell.startswith(FORMULA):
                found.csv.append(f"column {column}: {cell!r} starts a formula")
        key = next((k for k in want if _csv_text(k[0]) == row.get("room_id")
                    and k[1] == row.get("msg_id")), None)
        if key is None:
            found.csv.append(f"a row of no input event: {row.get('room_id')!r} "
                             f"{row.get('msg_id')!r}")
            continue
        for column in TEXT:
            if column in want[key]:
                found.same(found.csv, f"csv {column} of {key}", row.get(column),
                           _csv_text(stored(want[key][column])))


def _csv_text(s: str) -> str:
    return "'" + s if s.startswith(FORMULA) else s


def check_exported(found: Found, text: str, evs: list[dict[str, Any]]) -> None:
    want = {(stored(e["room_id"]), e["msg_id"]): e for e in evs}
    n = 0
    for line in text.splitlines():
        try:
            ev = json.loads(line)
        except ValueError as exc:
            found.json.append(f"export jsonl: a line that is not JSON: {exc}")
            continue
        n += 1
        src = want.get((ev.get("room_id"), ev.get("msg_id")))
        if src is None:
            found.json.append(f"export jsonl: an event of no input line: {ev.get('room_id')!r}")
            continue
        for key in TEXT:
            if key in src:
                found.same(found.json, f"export jsonl {key}", ev.get(key), stored(src[key]))
    found.same(found.json, "export jsonl events", n, len(evs))


def commands(work: Path, tag: str, src: Path, rooms: list[str]) -> list[tuple[str, list[str]]]:
    db = str(work / f"{tag}.duckdb")
    steps: list[tuple[str, list[str]]] = [
        (f"{tag}: import --json", ["import", "--json", "--db", db, str(src)]),
        (f"{tag}: sessions", ["sessions", "--db", db]),
        (f"{tag}: sessions --json", ["sessions", "--json", "--db", db]),
        (f"{tag}: gifters", ["gifters", "--db", db]),
        (f"{tag}: gifters --json", ["gifters", "--json", "--db", db]),
        (f"{tag}: export csv", ["export", "--all", "--format", "csv", "--out",
                                str(work / f"{tag}.csv"), "--db", db]),
        (f"{tag}: export jsonl", ["export", "--all", "--format", "jsonl", "--out",
                                  str(work / f"{tag}.jsonl"), "--db", db]),
    ]
    for room in rooms:
        steps += [(f"{tag}: report {room!r}", ["report", room, "--db", db]),
                  (f"{tag}: report {room!r} --json", ["report", room, "--json", "--db", db])]
    return steps


def check_db(found: Found, work: Path, tag: str, evs: list[dict[str, Any]], rooms: list[str],
             out: dict[str, dict[str, Any]]) -> None:
    """What the commands of :func:`commands` showed of the events ``evs``."""
    def res(what: str) -> dict[str, Any] | None:
        return out.get(f"{tag}: {what}")

    imp = res("import --json")
    got_import = _json(found, f"{tag}: import --json", imp) if imp else None
    if got_import is not None and (got_import["accepted"], got_import["rejected"]) != \
            (len(evs), 0):
        found.failed.append(f"{tag}: import: accepted {got_import['accepted']}, rejected "
                            f"{got_import['rejected']} of {len(evs)} valid lines")
    hosts = {stored(e["room_id"]): e for e in evs if e["type"] == "live_start"}
    if (r := res("sessions")) is not None:
        for room in rooms:
            found.shows(f"{tag}: sessions", r["stdout"], room)
            found.shows(f"{tag}: sessions", r["stdout"], hosts[room]["host"])
    if (r := res("sessions --json")) is not None:
        got = _json(found, f"{tag}: sessions --json", r) or []
        found.same(found.json, f"{tag}: sessions --json rooms and hosts",
                   sorted((x["room_id"], x["host"]) for x in got),
                   sorted((x, stored(hosts[x]["host"])) for x in rooms))
    people = {stored(e["user_id"]): e for e in evs if e["type"] == "gift"}
    for room in rooms:
        r = res(f"report {room!r} --json")
        rep = _json(found, f"{tag}: report {room!r} --json", r) if r else None
        if rep is None:
            continue
        found.same(found.json, f"{tag}: report {room!r} --json room and host",
                   (rep["room_id"], rep["host"], rep["host_id"]),
                   (room, stored(hosts[room]["host"]), stored(hosts[room]["host_id"])))
        for g in rep["top_gifters"]:
            src_ev = people.get(g["user_id"], {})
            found.same(found.json, f"{tag}: report {room!r} --json gifter",
                       (g["user"], g["nickname"]),
                       (stored(src_ev.get("user", "?")), stored(src_ev.get("nickname", "?"))))
        if (t := res(f"report {room!r}")) is not None:
            found.shows(f"{tag}: report {room!r}", t["stdout"], room)
            found.shows(f"{tag}: report {room!r}", t["stdout"], hosts[room]["host"])
            for g in rep["top_gifters"]:
                found.shows(f"{tag}: report {room!r} top gifters", t["stdout"],
                            g["user"] or g["user_id"])
    if (r := res("gifters --json")) is not None:
        got = _json(found, f"{tag}: gifters --json", r) or []
        found.same(found.json, f"{tag}: gifters --json",
                   sorted((g["user_id"], g["user"], g["nickname"]) for g in got),
                   sorted((u, stored(e["user"]), stored(e["nickname"]))
                          for u, e in people.items()))
        if (t := res("gifters")) is not None:
            for g in got[:25]:
                found.shows(f"{tag}: gifters", t["stdout"], g["user"] or g["user_id"])
                found.shows(f"{tag}: gifters", t["stdout"], g["nickname"])
    if res("export csv") is not None:
        with (work / f"{tag}.csv").open(encoding="utf-8", newline="") as f:  # CRs as they are
            check_csv(found, f.read(), evs)
    if res("export jsonl") is not None:
        check_exported(found, (work / f"{tag}.jsonl").read_text(encoding="utf-8"), evs)


#: The commands about a creator: roster, analyze, estimate and forecast from the history.
MODEL_COMMANDS = (("roster", ["roster"]), ("analyze", ["analyze"]),
                  ("estimate --from-history", ["estimate", "--from-history", "--followers", "10",
                                               "--seed", "1"]),
                  ("forecast", ["forecast", "--followers", "10", "--seed", "1"]))


def model_commands(work: Path, hosts: list[str | None]) -> list[tuple[str, list[str], str]]:
    """(what, argv, the host it must show) of every model command for every host (None: the
    only creator of the markup database, chosen by the command itself from the data)."""
    out = []
    for host in hosts:
        db = str(work / ("markup.duckdb" if host is None else "hostile.duckdb"))
        who = MARKUP[0] if host is None else host
        for what, argv in MODEL_COMMANDS:
            if what == "roster" and host is not None:
                continue  # every creator's: once, below
            pick = [] if host is None or what == "roster" else ["--host", host]
            out.append((f"{what} {'' if host is None else '--host '}{who!r}",
                        [*argv, *pick, "--db", db], who))
    out.append(("roster (every creator)", ["roster", "--db", str(work / "hostile.duckdb")], ""))
    return out


def run(ctx: Ctx) -> list[Figure]:
    s = SCENARIO
    t0 = time.monotonic()
    work = ctx.dir("hostile")
    for p in work.iterdir():
        if p.is_file():
            p.unlink()
    texts = tuple(dict.fromkeys(HOSTILE + composed(random.Random(ctx.seed + 11),
                                                   ctx.size(40, 0))))
    sets = {"hostile": (events(texts), [stored(r) for r in ROOMS]),
            "markup": (events(MARKUP, (MARKUP_ROOM,)), [MARKUP_ROOM])}
    steps: list[tuple[str, list[str]]] = []
    for tag, (evs, rooms) in sets.items():
        src = work / f"{tag}-events.jsonl"
        src.write_text("".join(json.dumps(e) + "\n" for e in evs), encoding="utf-8")
        steps += commands(work, tag, src, rooms)
    bad = work / "rejected.jsonl"
    bad.write_text("\n".join(rejected_lines()) + "\n", encoding="utf-8")
    steps.append(("import of rejected lines", ["import", "--db", str(work / "r.duckdb"),
                                               str(bad)]))
    hosts = sorted({stored(e["host"]) for e in sets["hostile"][0] if e["type"] == "live_start"})
    models = model_commands(work, [None, *hosts])
    results = run_batch([{"argv": a, "cwd": str(work)} for _, a in steps]
                        + [{"argv": a, "cwd": str(work)} for _, a, _ in models], work / "batch",
                        COLUMNS="250")
    shown = Found()  # the model commands
    for i, (what, _, who) in enumerate(models):
        res = results[len(steps) + i] if len(steps) + i < len(results) else None
        if res is None:
            shown.failed.append(f"{what}: the process died")
            continue
        clear = res["code"] == 2 and one_clear_line(res["stderr"])  # e.g. no such creator
        if (res["code"] != 0 and not clear) or TRACEBACK in res["stderr"] \
                or "internal error" in res["stderr"]:
            shown.failed.append(f"{what}: exit {res['code']}: {res['stderr'].strip()[-160:]}")
        shown.terminal(what, res["stdout"] + res["stderr"])
        if res["code"] == 0 and who:
            shown.shows(what, res["stdout"], who)
    found = Found()
    out: dict[str, dict[str, Any]] = {}
    for i, (what, _) in enumerate(steps):
        res = results[i] if i < len(results) else None
        if res is None:
            found.failed.append(f"{what}: the process died")
        elif res["code"] != 0 or TRACEBACK in res["stderr"] or "internal error" in res["stderr"]:
            found.failed.append(f"{what}: exit {res['code']}: {res['stderr'].strip()[-200:]}")
        else:
            out[what] = res
        if res is not None:  # JSON may hold any character (escaped or not): not a terminal
            found.terminal(what, (res["stdout"] if "--json" not in what else "")
                           + res["stderr"])
    for tag, (evs, rooms) in sets.items():
        check_db(found, work, tag, evs, rooms, out)
    n_events = sum(len(e) for e, _ in sets.values())
    return [
        zero(s, "commands failing on hostile text (exit ≠ 0, traceback, valid lines rejected)",
             len(found.failed), f"{len(steps)} commands; " + "; ".join(found.failed[:2])),
        zero(s, "terminal outputs with a raw ESC, C0, C1, DEL or bidi character",
             len(found.raw), "; ".join(found.raw[:2])),
        zero(s, "names not shown literally in the terminal (markup read, or text changed)",
             len(found.literal), "; ".join(found.literal[:3])),
        zero(s, "CSV cells starting a formula, or not holding the exact text after the ' prefix",
             len(found.csv), "; ".join(found.csv[:3])),
        zero(s, "JSON strings not given back exactly (U+FFFD for a lone surrogate)",
             len(found.json), "; ".join(found.json[:3])),
        zero(s, "hosts through roster, analyze, estimate --from-history and forecast: commands "
                "failing, raw control or bidi characters, or the host not shown literally",
             len(shown.failed) + len(shown.raw) + len(shown.literal),
             f"{len(models)} commands; " + "; ".join((shown.failed + shown.raw
                                                      + shown.literal)[:3])),
        info(s, "hostile strings; checks made", f"{len(texts) + len(MARKUP)} strings in "
             f"{len(TEXT)} fields of {n_events} events and {len(ROOMS) + 1} room ids; "
             f"{found.checked:,} checks",
             "sessions, report (each session), gifters, import (and rejects quoting the text), "
             "export csv and jsonl, --json"),
        info(s, "wall time", f"{time.monotonic() - t0:.0f} s"),
    ]

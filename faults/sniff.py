"""3b. Bad input without ``--format``: ``liveworth import FILE`` tells the format itself.

What users run is ``liveworth import FILE``, with no ``--format``: the format is sniffed from the
file's first lines (docs/EVENTS.md, "How a file is imported"). Each case takes a real input —
event JSONL exported from a real dump and from the simulator, raw journals of a real dump and of
a simulated session, real webcast dumps — plain or gzip, and damages its beginning: a byte order
mark, a torn, garbage, NUL-filled or text first line, a first line that is a JSON array (holding
a valid line) or a scalar, a first line without ``v`` or of another version, blank and CRLF
lines, a first line over the 1 MiB line limit, and, for gzip, the file cut short (alone and
after a torn first line). Every command runs in one process (``faults/cli_batch.py``), each into
its own database. Required:

- never a traceback or an "internal error"; exit 0, or 2 with one line;
- every valid line after the damage is kept: the store holds exactly the events of importing
  the undamaged lines alone (with the right ``--format``), and nothing else but what the damaged
  line itself may still hold — a dump, one JSON document, is kept whole or refused in one line;
- a first line beyond the sniffer's 4 MiB window may end in one clear line (exit 2) instead.
"""

from __future__ import annotations

import collections
import gzip
import json
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faults.common import (
    DUMPS,
    TRACEBACK,
    Ctx,
    Figure,
    at_least,
    import_fresh,
    info,
    one_clear_line,
    rehosted,
    run_batch,
    run_cli,
    zero,
)
from faults.simraw import events_to_journal
from liveworth.store.database import Store

SCENARIO = "3b. bad input without --format (sniffing)"
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Base:
    """A clean input: its format and its lines (a dump: its whole text as one item)."""

    name: str
    fmt: str
    lines: tuple[bytes, ...]


@dataclass
class Case:
    name: str
    base: Base
    content: bytes
    kept: tuple[bytes, ...]  # the clean lines that must all be imported
    extra: tuple[bytes, ...] = ()  # damaged lines whose events may be imported too
    may_refuse: bool = False  # a clear one-line refusal (exit 2) is a right answer too


def bases(ctx: Ctx) -> list[Base]:
    """The clean inputs (built once per run)."""
    work = ctx.dir("sniff/bases")
    sim = work / "sim.jsonl"
    if not sim.exists():
        done = run_cli(["simulate", "--followers", "3000", "--minutes", "8", "--seed", "5",
                        "--room-id", "7200000000000000005", "--out", str(sim)], work)
        if done.returncode != 0:
            raise RuntimeError(f"simulate failed: {done.stderr.strip()[-200:]}")
    real = work / "real.jsonl"
    if not real.exists():
        db = import_fresh([DUMPS / "dupa.json.gz"], work / "real.duckdb", "webcast-dump")
        done = run_cli(["export", "--all", "--format", "jsonl", "--out", str(real), "--db",
                        str(db)], work)
        if done.returncode != 0:
            raise RuntimeError(f"export failed: {done.stderr.strip()[-200:]}")
    journal = rehosted(DUMPS / "web.json.gz", work / "real.journal.jsonl", "sniffed",
                       first=120) if not (work / "real.journal.jsonl").exists() else \
        work / "real.journal.jsonl"
    simj = work / "sim.journal.jsonl"
    if not simj.exists():
        events_to_journal(sim, simj, "sim_sniff")

    def lines(p: Path, n: int) -> tuple[bytes, ...]:
        return tuple(p.read_bytes().splitlines(keepends=True)[:n])

    return [
        Base("events JSONL (a real dump exported)", "events", lines(real, 400)),
        Base("events JSONL (simulated)", "events", lines(sim, 400)),
        Base("raw journal (a real dump)", "journal", lines(journal, 120)),
        Base("raw journal (simulated)", "journal", lines(simj, 300)),
        Base("webcast dump (real, as written)", "webcast-dump",
             (gzip.decompress((DUMPS / "jw.json.gz").read_bytes()),)),
        Base("webcast dump (real, on one line)", "webcast-dump",
             (json.dumps(json.loads(gzip.decompress((DUMPS / "web.json.gz").read_bytes())),
                         separators=(",", ":")).encode(),)),
    ]


# ---------------------------------------------------------------------------- damage


def _without(line: bytes, key: str, value: Any = None) -> bytes:
    obj = json.loads(line)
    obj.pop(key, None)
    if value is not None:
        obj[key] = value
    return json.dumps(obj).encode() + b"\n"


def _huge(size: int, fmt: str | None) -> bytes:
    """A first line of ``size`` bytes: well-formed in format ``fmt`` (an event with a long
    comment, a journal line with a long payload), or garbage."""
    if fmt == "events":
        return (b'{"v":1,"type":"comment","room_id":"r-huge","ts":1,"msg_id":"h","user_id":"1",'
                b'"user":"u","nickname":"n","text":"' + b"x" * size + b'"}\n')
    if fmt == "journal":
        return (b'{"v":1,"arrival_ms":1,"room_id":"7","host":"h","method":"WebcastChatMessage",'
                b'"payload":"' + b"QUFB" * (size // 4) + b'"}\n')
    return b"x" * size + b"\n"


#: (name, make): ``make(lines, rng)`` gives (the damaged lines, the clean ones that must be kept,
#: the damaged ones that may be kept too, whether a one-line refusal is right too).
Damage = Callable[[list[bytes], random.Random], tuple[list[bytes], list[bytes], list[bytes],
                                                      bool]]


def _line_damages(fmt: str) -> list[tuple[str, Damage]]:
    def keep_all(head: bytes) -> Damage:
        return lambda ls, rng: ([head, *ls], ls, [], False)

    def torn(ls: list[bytes], rng: random.Random) -> tuple[list[bytes], list[bytes],
                                                           list[bytes], bool]:
        first = ls[0].rstrip(b"\n")
        return [first[: rng.randrange(1, len(first) - 1)] + b"\n", *ls[1:]], ls[1:], [], False

    def blanks(ls: list[bytes], rng: random.Random) -> tuple[list[bytes], list[bytes],
                                                             list[bytes], bool]:
        out = [b"\n", b"   \n", b"\t\n", b"\r\n"]
        for line in ls:
            out.append(line)
            if rng.random() < 0.1:
                out.append(rng.choice([b"\n", b" \n", b"\r\n"]))
        return out, ls, [], False

    def garbage(ls: list[bytes], rng: random.Random) -> tuple[list[bytes], list[bytes],
                                                              list[bytes], bool]:
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        return [junk.replace(b"\n", b" ") + b"\n", *ls], ls, [], False

    return [
        ("a byte order mark", lambda ls, rng: ([BOM + ls[0], *ls[1:]], ls, [], False)),
        ("a byte order mark, then a blank line", keep_all(BOM + b"\n")),
        ("a torn first line", torn),
        ("a garbage first line", garbage),
        ("a text first line", keep_all(b"this is not JSON at all\n")),
        ("a NUL-filled first line", keep_all(b"\0" * 300 + b"\n")),
        ("a JSON array first line (holding a valid line)",
         lambda ls, rng: ([b"[" + ls[0].rstrip(b"\n") + b"]\n", *ls], ls, [], False)),
        ("a scalar first line", lambda ls, rng: ([rng.choice([b"42\n", b'"text"\n', b"null\n",
                                                               b"true\n", b"1e999\n"]), *ls],
                                                  ls, [], False)),
        ("a first line without v", lambda ls, rng: ([_without(ls[0], "v"), *ls[1:]], ls[1:],
                                                    [ls[0]], False)),
        ("a first line of version 2", lambda ls, rng: ([_without(ls[0], "v", 2), *ls[1:]],
                                                       ls[1:], [], False)),
        ("blank lines before and between", blanks),
        ("CRLF line ends", lambda ls, rng: ([x.rstrip(b"\n") + b"\r\n" for x in ls], ls, [],
                                            False)),
        ("a first line over 1 MiB (well-formed)", keep_all(_huge(3 << 19, fmt))),
        ("a first line over 1 MiB (garbage)", keep_all(_huge(3 << 19, None))),
        ("a first line of 5 MiB (beyond the sniffer's 4 MiB)",
         lambda ls, rng: ([_huge(5 << 20, None), *ls], ls, [], True)),
    ]


def _dump_damages() -> list[tuple[str, Damage]]:
    # A dump is one JSON document: kept whole, or refused in one line when it is damaged (the
    # messages before the damage may be kept too).
    def head(prefix: bytes, refuse: bool) -> Damage:
        return lambda ls, rng: ([prefix + ls[0]], [] if refuse else ls, ls if refuse else [],
                                refuse)

    return [
        ("a byte order mark", head(BOM, False)),
        ("blank lines first", head(b"\n\n  \r\n", False)),
        ("a byte order mark, then blank lines", head(BOM + b"\n\n", False)),
        ("a text first line", head(b"this is not JSON\n", True)),
        ("a JSON array first line", head(b"[1, 2]\n", True)),
        ("a scalar first line", head(b"42\n", True)),
        ("cut in half", lambda ls, rng: ([ls[0][: len(ls[0]) // 2]], [], ls, True)),
    ]


def _readable_lines(gz: bytes) -> list[bytes]:
    """The complete lines a gzip stream cut short still gives."""
    data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(gz)
    return data[: data.rfind(b"\n") + 1].splitlines(keepends=True)


def cases(bs: list[Base], rng: random.Random, per_damage: int, short: bool) -> list[Case]:
    """Every damage of every base, plain and gzip, ``per_damage`` times (``short``: each damage
    once per format, on its bases and plain or gzip by turns)."""
    out: list[Case] = []
    for base in bs:
        group = [b.name for b in bs if b.fmt == base.fmt]
        gi, gn = group.index(base.name), len(group)
        damages = _dump_damages() if base.fmt == "webcast-dump" else _line_damages(base.fmt)
        for di, (name, make) in enumerate(damages):
            if short and di % gn != gi:
                continue
            for gz in [(di // gn + gi) % 2 == 1] if short else [False, True]:
                for _ in range(1 if short else per_damage):
                    lines, kept, extra, refuse = make(list(base.lines), rng)
                    body = b"".join(lines)
                    out.append(Case(f"{name}{', gzip' if gz else ''}", base,
                                    gzip.compress(body) if gz else body, tuple(kept),
                                    tuple(extra), refuse))
        # A gzip file cut short: alone, and after a torn first line.
        def undamaged(ls: list[bytes], rng: random.Random) -> tuple[list[bytes], list[bytes],
                                                                    list[bytes], bool]:
            return ls, ls, [], False

        for name, make in [("", undamaged), *((f"{n}, then ", m) for n, m in damages
                                              if n == "a torn first line")]:
            lines, kept, extra, _ = make(list(base.lines), rng)
            packed = gzip.compress(b"".join(lines))
            cut = packed[: int(len(packed) * rng.uniform(0.5, 0.95))]
            if base.fmt == "webcast-dump":
                out.append(Case(f"{name}gzip cut short", base, cut, (), base.lines, True))
                continue
            readable = _readable_lines(cut)
            whole = [x for x in readable if x in set(kept)]
            out.append(Case(f"{name}gzip cut short", base, cut, tuple(whole), tuple(extra)))
    return out


# ---------------------------------------------------------------------------- checks


def _events(db: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    with Store.open(str(db), read_only=True) as store:
        return {(r[0], r[1]): tuple(r[2:]) for r in
                store.query("SELECT room_id, msg_id, * FROM events")}


_REF: dict[tuple[str, str, tuple[bytes, ...]], dict[tuple[str, str], tuple[Any, ...]]] = {}


def reference(work: Path, base: Base, lines: tuple[bytes, ...]
              ) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The events of ``lines`` imported alone with the right --format (cached)."""
    key = (base.name, base.fmt, lines)
    if key not in _REF:
        src = work / f"ref-{len(_REF)}.txt"
        src.write_bytes(b"".join(lines))
        _REF[key] = _events(import_fresh([src], work / "ref.duckdb", base.fmt)) if lines else {}
    return _REF[key]


@dataclass
class Outcome:
    crash: str = ""  # a traceback, an internal error, a bad exit status, an unclear refusal
    loss: str = ""  # valid lines lost or changed, foreign events
    refused: int = 0
    kept: int = 0


def check(work: Path, case: Case, index: int, res: dict[str, Any] | None) -> Outcome:
    o = Outcome()
    where = f"{case.base.name}, {case.name}"
    if res is None:
        o.crash = f"{where}: the process died"
        return o
    code, err = res["code"], res["stderr"]
    if TRACEBACK in err or "internal error" in err or code not in (0, 2):
        o.crash = f"{where}: exit {code}: {err.strip()[-200:]}"
        return o
    if code == 2:
        if not one_clear_line(err):
            o.crash = f"{where}: exit 2 without one clear line: {err.strip()[-200:]}"
        elif case.may_refuse:
            o.refused = 1
        else:
            o.loss = (f"{where}: refused ({err.strip()[-160:]}); {len(case.kept)} valid lines "
                      "lost")
        return o
    got = _events(work / f"case{index}.duckdb")
    want = reference(work, case.base, case.kept)
    allowed = set(want) | set(reference(work, case.base, case.kept + case.extra))
    missing = [k for k in want if k not in got]
    wrong = [k for k in want if k in got and got[k] != want[k]]
    foreign = [k for k in got if k not in allowed]
    o.kept = len(want) - len(missing)
    files = json.loads(res["stdout"]).get("files") or [{}]
    fmt = files[0].get("format")
    if missing or wrong or foreign or (want and fmt != case.base.fmt):
        o.loss = (f"{where}: {len(missing)} of {len(want)} events missing, {len(wrong)} "
                  f"different, {len(foreign)} foreign; read as {fmt}")
    return o


def run_cases(ctx: Ctx, all_cases: list[Case], work: Path) -> list[Outcome]:
    spec = []
    for i, case in enumerate(all_cases):
        src = work / f"case{i}.in"
        src.write_bytes(case.content)
        spec.append({"argv": ["import", "--json", "--db", str(work / f"case{i}.duckdb"),
                              str(src)], "cwd": str(work)})
    results = run_batch(spec, work)
    return [check(work, c, i, results[i] if i < len(results) else None)
            for i, c in enumerate(all_cases)]


def run(ctx: Ctx, per_damage: int | None = None) -> list[Figure]:
    s = SCENARIO
    t0 = time.monotonic()
    work = ctx.dir("sniff/cases")
    for p in work.glob("case*"):
        p.unlink()
    bs = bases(ctx)
    rng = random.Random(ctx.seed + 5)
    all_cases = cases(bs, rng, per_damage if per_damage is not None else 2, ctx.short)
    ctx.log(f"  sniff: {len(all_cases)} damaged files through `liveworth import FILE`")
    outcomes = run_cases(ctx, all_cases, work)
    kinds = collections.Counter(c.base.fmt for c in all_cases)
    crashed = [o.crash for o in outcomes if o.crash]
    lost = [o.loss for o in outcomes if o.loss]
    return [
        at_least(s, "damaged files imported without --format", len(all_cases),
                 len(_line_damages("events")) * 2 + len(_dump_damages()),
                 ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))),
        zero(s, "imports ending in a traceback, an internal error, an exit status other than "
                "0 or 2, or exit 2 without one clear line", len(crashed), "; ".join(crashed[:2])),
        zero(s, "files with a valid line lost or changed, or a foreign event added (against "
                "importing the undamaged lines alone)", len(lost), "; ".join(lost[:3])),
        info(s, "valid events kept next to the damage", sum(o.kept for o in outcomes),
             f"{sum(o.refused for o in outcomes)} files refused in one clear line where that "
             "is right (a dump cut or preceded by junk, a first line beyond 4 MiB)"),
        info(s, "wall time", f"{time.monotonic() - t0:.0f} s"),
    ]

"""4. Storage faults: a read-only, locked, full or corrupted database.

Each fault is met through the command line, as a user meets it (``liveworth import``, ``record
--replay``, ``sessions``, ``report``, ``export``). Required every time: exit status 2 with one
clear line (no traceback, no "internal error"); the journal keeps every message the recorder
took; and once the fault is gone, a later run recovers to exactly what a clean import gives.

- **read-only**: the database file 0444 in a 0555 directory (run as ``nobody`` when we are root,
  since root ignores permissions);
- **locked**: another process holds the file for writing (or reading: DuckDB lets one writing
  process in, or any number of readers, never both);
- **full disk**: a 2 MiB tmpfs (``mount -t tmpfs``; skipped where mounting is not allowed) for
  the database and the journal together, for the database alone (the journal elsewhere, with a
  recorder fed in process so that every message it took can be counted), and for an import;
- **corrupted**: garbage, a truncated file, zeroed blocks and flipped bytes at seeded random
  places; then the journal rebuilds the store into a fresh database.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from faults.common import (
    DUMPS,
    PY,
    ROOT,
    Ctx,
    Figure,
    cli_env,
    compare,
    db_state,
    info,
    one_clear_line,
    reports,
    run_cli,
    skip,
    zero,
)
from liveworth.decode.rawsources import RawMessage, RawReject, decode_raw, iter_journal
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import ReplaySource, load_raw
from liveworth.store.database import Store

SCENARIO = "4. storage faults"
SMALL = DUMPS / "dupa.json.gz"  # one real room, 282 messages
BIG = DUMPS / "log.json.gz"  # 847 messages, 20 rooms; its journal is larger than 2 MiB


@dataclasses.dataclass
class Outcome:
    """One command met with a fault."""

    what: str
    code: int
    stderr: str

    @property
    def clear(self) -> bool:
        return self.code == 2 and one_clear_line(self.stderr)

    def describe(self) -> str:
        line = self.stderr.strip().splitlines()[-1] if self.stderr.strip() else "(nothing)"
        return f"{self.what}: exit {self.code}: {line[:220]}"


def _cli(ctx: Ctx, args: list[str], work: Path, **env: str) -> Outcome:
    done = run_cli(args, work, timeout=300, env=cli_env(work, **env))
    return Outcome(" ".join(["liveworth", args[0], *(a for a in args[1:] if a.startswith("--")
                                                     and a not in ("--db", "--journal"))]),
                   done.returncode, done.stderr)


def _rec(path: Path, db: Path, journal: Path, *extra: str) -> list[str]:
    return ["record", "--replay", str(path), "--speed", "max", "--db", str(db), "--journal",
            str(journal), "--quiet", *extra]


def _clean(ctx: Ctx, path: Path) -> Path:
    db = ctx.dir("storage") / f"clean-{path.name}.duckdb"
    if not db.exists():
        with Store.open(str(db)) as store:
            from liveworth.ingest.importer import import_paths

            import_paths(store, [path])
    return db


def _same_as_clean(ctx: Ctx, db: Path, clean: Path, where: str) -> int:
    """Differences from the clean import (0 when the store recovered exactly)."""
    diff = compare(db_state(clean), db_state(db))
    reports(db, ctx.inv, where)
    return sum(diff.values())


def _journal_check(journal: Path, db: Path) -> tuple[int, int, int]:
    """(messages journaled, torn lines, events stored that the journal lacks)."""
    keys: set[tuple[str, str]] = set()
    n = torn = 0
    for path in sorted(journal.glob("*.journal.jsonl")) if journal.is_dir() else []:
        for item in iter_journal(path):
            if isinstance(item, RawReject):
                torn += 1
                continue
            n += 1
            with contextlib.suppress(Exception):
                keys.update((e.room_id, e.msg_id) for e in decode_raw(item))
    ahead = 0
    if db.exists():
        with contextlib.suppress(Exception), Store.open(str(db), read_only=True) as store:
            stored = {(r[0], r[1]) for r in store.query("SELECT room_id, msg_id FROM events")}
            ahead = len(stored - keys)
    return n, torn, ahead


# ---------------------------------------------------------------------------- read-only


def read_only(ctx: Ctx) -> list[Figure]:
    s = SCENARIO
    work = ctx.work / "storage" / "readonly"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    journal = work / "journal"
    with _read_only_dir(work / "ro") as (rodir, how):
        if rodir is None:
            return [skip(s, "read-only database", how)]
        db = rodir / "ro.duckdb"
        outcomes = [
            _cli(ctx, ["import", "--db", str(db), str(DUMPS / "web.json.gz")], work),
            _cli(ctx, _rec(SMALL, db, journal), work),
        ]
        readers = [_cli(ctx, ["sessions", "--db", str(db)], work)]
        if not ctx.short:
            readers.append(_cli(ctx, ["report", "--db", str(db), _room(db)], work))
        n, _, _ = _journal_check(journal, db)
        later_db = work / "writable.duckdb"
        shutil.copy(db, later_db)
    later = _cli(ctx, _rec(SMALL, later_db, journal), work)
    unclear = [o for o in outcomes if not o.clear]
    return [
        zero(s, "read-only database: writes without one clear line (exit 2)", len(unclear),
             how + " | " + " | ".join(o.describe() for o in (unclear or outcomes))),
        zero(s, "read-only database: reads that failed", sum(o.code != 0 for o in readers),
             " | ".join(o.describe() for o in readers if o.code != 0)),
        info(s, "read-only database: messages the recorder took before refusing", n,
             "it opens the database before it connects, so it takes nothing it cannot keep"),
        zero(s, "read-only database: differences from a clean import once writable again",
             (later.code != 0) + _same_as_clean(ctx, later_db, _clean(ctx, SMALL),
                                                "read-only later"),
             later.describe() if later.code else ""),
    ]


@contextlib.contextmanager
def _read_only_dir(path: Path) -> Iterator[tuple[Path | None, str]]:
    """A directory holding a database (of SMALL) that cannot be written: a tmpfs remounted
    read-only when we are root (root ignores file modes), else mode 0444 in a 0555 directory."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        db = path / "ro.duckdb"
        with Store.open(str(db)) as store:
            from liveworth.ingest.importer import import_paths

            import_paths(store, [SMALL])
        db.chmod(0o444)
        path.chmod(0o555)
        try:
            yield path, "database file mode 0444 in a directory of mode 0555"
        finally:
            path.chmod(0o755)
            db.chmod(0o644)
        return
    with tmpfs(path, "16m") as disk:
        if disk is None:
            yield None, ("as root, file modes do not stop writes, and mounting a read-only "
                         "file system is not allowed here")
            return
        with Store.open(str(disk / "ro.duckdb")) as store:
            from liveworth.ingest.importer import import_paths

            import_paths(store, [SMALL])
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            yield disk, "database on a file system mounted read-only (we run as root)"
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], capture_output=True)


def _room(db: Path) -> str:
    with Store.open(str(db), read_only=True) as store:
        return store.rooms()[0]


# ---------------------------------------------------------------------------- locked


@contextlib.contextmanager
def held(db: Path, read_only: bool) -> Iterator[None]:
    """Another process holding ``db`` (for writing, or reading) until the block ends."""
    code = ("import duckdb, sys, time\n"
            f"c = duckdb.connect(sys.argv[1], read_only={read_only})\n"
            "print('held', flush=True)\nsys.stdin.read()\n")
    proc = subprocess.Popen([PY, "-c", code, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


def locked(ctx: Ctx) -> list[Figure]:
    s = SCENARIO
    work = ctx.work / "storage" / "locked"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, journal = work / "l.duckdb", work / "journal"
    with Store.open(str(db)) as store:
        from liveworth.ingest.importer import import_paths

        import_paths(store, [SMALL])
    outcomes = []
    wait = {"LIVEWORTH_LOCK_TIMEOUT": "1"}  # held for good: writers give up after 1 s, not 10
    with held(db, read_only=False):
        outcomes += [
            _cli(ctx, ["import", "--db", str(db), str(DUMPS / "web.json.gz")], work, **wait),
            _cli(ctx, _rec(SMALL, db, journal), work, **wait),
        ]
        if not ctx.short:
            outcomes += [_cli(ctx, ["sessions", "--db", str(db)], work),
                         _cli(ctx, ["report", "--db", str(db), "x"], work)]
    with held(db, read_only=True):
        outcomes.append(_cli(ctx, ["import", "--db", str(db), str(DUMPS / "web.json.gz")],
                             work, **wait))
        if not ctx.short:
            outcomes.append(_cli(ctx, _rec(SMALL, db, journal), work, **wait))
    n, _, _ = _journal_check(journal, db)
    later = _cli(ctx, _rec(SMALL, db, journal), work)
    unclear = [o for o in outcomes if not o.clear]
    return [
        zero(s, "locked database (held by another process): commands without one clear line",
             len(unclear), " | ".join(o.describe() for o in (unclear or outcomes[:1]))),
        info(s, "locked database: messages the recorder took before refusing", n),
        zero(s, "locked database: differences from a clean import once released",
             (later.code != 0) + _same_as_clean(ctx, db, _clean(ctx, SMALL), "locked later"),
             later.describe() if later.code else ""),
    ]


# ---------------------------------------------------------------------------- full disk


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path | None]:
    """A small tmpfs at ``path`` (None when mounting is not allowed here)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield path
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        else:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(path: Path, leave: int) -> None:
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with (path / "filler").open("wb") as f:
        f.write(b"\0" * max(0, free - leave))


class Counting(ReplaySource):
    """A replay that counts every message it hands to the recorder (what a live connection
    would have delivered)."""

    def __init__(self, messages: list[RawMessage], host: str, speed: float | None) -> None:
        super().__init__(messages, host, speed)
        self.delivered: list[RawMessage] = []

    async def connect(self) -> AsyncIterator[RawMessage]:
        async for m in super().connect():
            self.delivered.append(m)
            yield m


def full_disk(ctx: Ctx, only_shared: bool = False) -> list[Figure]:
    s = SCENARIO
    base = ctx.work / "storage" / "full"
    shutil.rmtree(base, ignore_errors=True)
    out: list[Figure] = []
    with tmpfs(base / "disk", "2m") as disk:
        if disk is None:
            return [skip(s, "full disk", "mounting a tmpfs is not allowed here (needs root "
                                         "or CAP_SYS_ADMIN); run `make faults` as root")]
        # 1. database and journal on the same full disk
        db, journal = disk / "f.duckdb", disk / "journal"
        hit = _cli(ctx, _rec(BIG, db, journal), base)
        n, torn, ahead = _journal_check(journal, db)
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        later = _cli(ctx, _rec(BIG, db, journal), base)
        out += [
            zero(s, "full disk (database and journal): no clear one-line error",
                 int(not hit.clear), hit.describe()),
            info(s, "full disk: messages journaled before the disk filled; torn lines",
                 f"{n}; {torn}"),
            zero(s, "full disk: events stored that the journal lacks", ahead),
            zero(s, "full disk: differences from a clean import after space is freed",
                 (later.code != 0) + _same_as_clean(ctx, db, _clean(ctx, BIG), "full later"),
                 later.describe() if later.code else ""),
        ]
        if only_shared:
            return out
        # 2. an import into a database on a full disk
        for p in disk.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        subprocess.run(["mount", "-o", "remount,size=2m", str(disk)], check=True)
        idb = disk / "i.duckdb"
        Store.open(str(idb)).close()
        _fill(disk, 0)
        imp = _cli(ctx, ["import", "--db", str(idb), str(BIG)], base)
        (disk / "filler").unlink()
        again = _cli(ctx, ["import", "--db", str(idb), str(BIG)], base)
        out += [
            zero(s, "full disk (import): no clear one-line error", int(not imp.clear),
                 imp.describe()),
            zero(s, "full disk (import): differences from a clean import after space is freed",
                 (again.code != 0) + _same_as_clean(ctx, idb, _clean(ctx, BIG), "import later"),
                 again.describe() if again.code else ""),
        ]
    out += _full_database_only(ctx, base)
    return out


def _full_database_only(ctx: Ctx, base: Path) -> list[Figure]:
    """The database's disk fills while the journal's does not: does the recorder keep every
    message it took? (In process, so that every message handed over can be counted.)"""
    s = SCENARIO
    messages, _ = load_raw([DUMPS / "log.json.gz", DUMPS / "ab.json.gz",
                            DUMPS / "WebcastLog2.json.gz"])
    t0 = messages[0].arrival_ms
    paced = [dataclasses.replace(m, arrival_ms=t0 + i * 6000 // len(messages))
             for i, m in enumerate(messages)]
    journal = base / "journal-elsewhere"
    with tmpfs(base / "dbdisk", "2m") as disk:
        if disk is None:
            return []
        db = disk / "d.duckdb"
        Store.open(str(db)).close()
        _fill(disk, 12 << 10)
        source = Counting(paced, "elsewhere", 1.0)
        error = ""
        try:
            asyncio.run(record([source], str(db), journal))
        except Exception as exc:
            error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:160]}"
        journaled = {(m.method, m.payload) for p in journal.glob("*.journal.jsonl")
                     for m in iter_journal(p) if isinstance(m, RawMessage)}
        lost = sum(1 for m in source.delivered if (m.method, m.payload) not in journaled)
    return [
        info(s, "database disk full, journal elsewhere: what the recorder raised",
             error or "nothing", "the CLI shows this as its one line"),
        zero(s, "database disk full, journal elsewhere: messages taken but not journaled",
             lost, f"{len(source.delivered)} messages delivered by the connection, "
                   f"{len(journaled)} journaled; a live connection cannot send the rest again"),
    ]


# ---------------------------------------------------------------------------- corrupted


def _corruptions(data: bytes, rng: random.Random, n: int) -> Iterator[tuple[str, bytes]]:
    yield "random bytes", bytes(rng.randrange(256) for _ in range(len(data)))
    yield "truncated to a third", data[: len(data) // 3]
    yield "first 4 KiB zeroed", b"\0" * 4096 + data[4096:]
    yield "empty file", b""
    for i in range(n):
        buf = bytearray(data)
        flips = rng.choice([1, 8, 64, 512])
        for _ in range(flips):
            j = rng.randrange(4096, len(buf))
            buf[j] ^= 1 << rng.randrange(8)
        yield f"{flips} bit flip(s), seed {i}", bytes(buf)


def _recorded(ctx: Ctx) -> tuple[Path, Path, Path] | Figure:
    """A database and its journal, recorded from BIG (shared by the corruption checks)."""
    work = ctx.work / "storage" / "corrupt"
    good, journal = work / "good.duckdb", work / "journal"
    if not good.exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        first = _cli(ctx, _rec(BIG, good, journal), work)
        if first.code != 0:
            return Figure(SCENARIO, "corrupted database: setup", first.describe(), "runs", False)
    return work, good, journal


def corrupted(ctx: Ctx) -> list[Figure]:
    return corruption_messages(ctx) + rebuild_from_journal(ctx)


def corruption_messages(ctx: Ctx) -> list[Figure]:
    """Every command on a damaged file: one clear line, or a normal answer."""
    s = SCENARIO
    made = _recorded(ctx)
    if isinstance(made, Figure):
        return [made]
    work, good, _ = made
    data = good.read_bytes()
    room = _room(good)
    rng = random.Random(ctx.seed)
    cases = list(_corruptions(data, rng, ctx.size(24, 4)))
    commands = [["sessions"], ["report", room, "--json"], ["export", "--all", "--out", "x.jsonl"],
                ["import", str(SMALL)], ["record", "--replay", str(SMALL), "--speed", "max",
                                          "--quiet", "--journal", str(work / "j2")]]
    spec = []
    for i, (name, content) in enumerate(cases):
        src = work / f"case{i}.duckdb"
        src.write_bytes(content)
        for cmd in commands:
            spec.append({"name": name, "argv": [cmd[0], "--db", str(work / "bad.duckdb"),
                                                *cmd[1:]],
                         "fresh": [str(src), str(work / "bad.duckdb")], "cwd": str(work)})
    results = batch(ctx, spec, work)
    clear = worked = 0
    unclear: list[str] = []
    for item, res in zip(spec, results, strict=False):
        o = Outcome(f"liveworth {item['argv'][0]}", int(res["code"]), str(res["stderr"]))
        if o.code == 0:
            worked += 1
        elif o.clear:
            clear += 1
        else:
            unclear.append(f"{item['name']}: {o.describe()}")
    if len(results) < len(spec):
        unclear.append(f"the process died (signal?) at: {spec[len(results)]['name']} "
                       f"{spec[len(results)]['argv'][0]}")
    return [
        info(s, "corrupted database: cases × commands",
             f"{len(cases)} × {len(commands)}", f"{clear} clear errors, {worked} ran "
             "(damage in unused space: DuckDB checks every block it reads)"),
        zero(s, "corrupted database: outcomes without one clear line (exit 2)", len(unclear),
             " | ".join(_distinct(unclear, 3))),
    ]


def rebuild_from_journal(ctx: Ctx) -> list[Figure]:
    """The database is lost: the journal rebuilds it into a fresh file."""
    s = SCENARIO
    made = _recorded(ctx)
    if isinstance(made, Figure):
        return [made]
    work, _, journal = made
    fresh = work / "fresh.duckdb"
    for p in (fresh, Path(f"{fresh}.wal")):
        p.unlink(missing_ok=True)
    noop = work / "noop.journal.jsonl"
    noop.write_text(json.dumps({"v": 1, "arrival_ms": 1, "room_id": None, "host": "noop",
                                "method": "FaultsNoop", "payload": base64.b64encode(b"").decode()})
                    + "\n")
    rebuilt = _cli(ctx, ["record", "--replay", str(noop), "--db", str(fresh), "--journal",
                         str(journal), "--speed", "max", "--quiet"], work)
    diff = (rebuilt.code != 0) + _same_as_clean(ctx, fresh, _clean(ctx, BIG), "rebuilt")
    return [
        zero(s, "corrupted database: differences after rebuilding from the journal into a "
                "fresh database", diff, rebuilt.describe() if rebuilt.code else
             "`liveworth record` on the same journal directory with a new --db re-imports "
             "every journal"),
    ]


def batch(ctx: Ctx, spec: list[dict[str, object]], work: Path) -> list[dict[str, object]]:
    """Run command lines in one process (``faults/cli_batch.py``); their codes and stderr."""
    spec_path, out_path = work / "batch-spec.json", work / "batch-out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    subprocess.run([PY, str(ROOT / "faults" / "cli_batch.py"), str(spec_path), str(out_path)],
                   env=cli_env(work), cwd=work, capture_output=True, timeout=1800)
    result: list[dict[str, object]] = json.loads(out_path.read_text()) \
        if out_path.exists() else []
    return result


def _distinct(items: list[str], n: int) -> list[str]:
    seen: dict[str, str] = {}
    for it in items:
        key = it.split(": ", 1)[-1][:60]
        seen.setdefault(key, it)
    return list(seen.values())[:n]


def run(ctx: Ctx) -> list[Figure]:
    t0 = time.monotonic()
    out: list[Figure] = []
    for part in (read_only, locked, full_disk, corrupted):
        ctx.log(f"  storage: {part.__name__.replace('_', ' ')}")
        out += part(ctx)
    out.append(info(SCENARIO, "wall time", f"{time.monotonic() - t0:.0f} s"))
    return out


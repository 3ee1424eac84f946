"""Random command lines through ``liveworth.cli.main``, in a process of their own.

    python faults/cli_fuzz.py --examples N --seed S --work DIR --out FILE.json

The argv come from the parser itself (every subcommand, every option, its choices) mixed with
hostile values: numbers out of range, NaN and infinities, empty strings, paths that do not exist
or cannot be written, directories, unicode. Each runs in this process (fast) with its own working
directory, a database holding a real dump, no user config, an address-space cap and a 20 s alarm.
Outputs only go to the scratch directory. ``serve`` is left out (it would serve forever) and
``record`` always replays a file (it would otherwise connect to TikTok).

An outcome is wrong when the exit status is not 0, 1 or 2, when stderr holds a traceback, or when
it says "internal error" (an exception the CLI did not expect). The JSON summary lists each.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import resource
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
DUMPS = ROOT / "tests" / "data" / "real" / "webcast_dumps"
TIMEOUT_S = 20
#: Commands that never end on their own or reach the network, and such options.
LEFT_OUT = {"serve"}
LEFT_OUT_OPTIONS = {"--serve"}


class Hung(BaseException):
    """Raised by the alarm: the command ran longer than TIMEOUT_S."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hung()


def grammar() -> dict[str, list[argparse.Action]]:
    from liveworth.cli import build_parser

    for action in build_parser()._actions:  # argparse has no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            return {name: [a for a in sub._actions if not isinstance(a, argparse._HelpAction)
                           and not set(a.option_strings) & LEFT_OUT_OPTIONS]
                    for name, sub in action.choices.items() if name not in LEFT_OUT}
    return {}


def values(work: Path, room: str) -> st.SearchStrategy[str]:
    paths = [str(work / "in.json.gz"), str(work / "missing.jsonl"), str(work),
             str(work / "out" / "x.jsonl"), str(work / "nodir" / "deeper" / "x.json"),
             "/proc/version/x", "/dev/null", "-", str(work / "ümlaut ☃.jsonl"),
             str(work / "db.duckdb"), str(work / "in.txt")]
    words = ["0", "1", "-1", "-0", "1.5", "1e9", "1e309", "-1e309", "nan", "NaN", "inf",
             "-inf", "99999999999999999999999", "1_000", "12,5", "$5", "0x10", "", " ",
             "typical", "high", "low", "max", "web", "ios", "default", "us-scaled", room,
             "nope", "../../etc/passwd", "2024-02-30", "2024-01-01", "reward_rate=0.5",
             "reward_rate=2", "bogus=1", "=", "@user", "a" * 300, "ü", "☃", "--", "-x",
             "1440", "1441", "100000000", "0.000001", "minutes=90", "per_week=50"]
    return st.sampled_from(paths) | st.sampled_from(words) | st.integers(-10**12, 10**15).map(
        str) | st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)


def good_values(work: Path, room: str, host: str,
                known_bugs: bool = True) -> dict[str, list[str]]:
    """Plausible values by an option's ``dest`` (so that most command lines get past the
    parser and reach the code behind it)."""
    inp = str(work / "in.json.gz")
    return {
        "db": [str(work / "db.duckdb")], "paths": [inp, str(work / "events.jsonl")],
        "replay": [inp], "room_id": [room], "host": [host, f"@{host}"], "creators": [host],
        "out": [str(work / "out" / "o.jsonl"), str(work / "out" / "o.parquet")],
        "html": [str(work / "out" / "r.html")], "truth": [str(work / "out" / "t.json")],
        "journal": [str(work / "journal")], "roster": [str(work / "roster.txt")],
        "config": [str(work / "config.toml"), str(work / "no-config.toml"),
                   str(work / "bad-config.toml")],
        "followers": ["0", "1000", "250000"], "viewers": ["5", "120"],
        "minutes": ["30", "90"], "per_week": ["1", "5"], "sessions": ["200", "2000"],
        "engagement": ["typical", "low", "high", "1.5"], "seed": ["1", "42"],
        "coins": ["0", "29999"], "diamonds": ["100"], "usd": ["0.99", "100"],
        "balance_usd": ["0", "2500"], "target_usd_month": ["100", "5000"],
        "start": ["2024-01-01"], "month": ["2023-10"], "as_of": ["2023-10-31"],
        "since": ["2023-01-01"], "tz": ["UTC", "Europe/Berlin"], "top": ["3", "50"],
        "speed": ["max", "1000"], "what_if": ["minutes=90", "per_week=5"],
        "overrides": ["reward_rate=0.6", "agency_cut=0.1"], "reward_rate": ["0.5"],
        "agency_cut": ["0.2"], "tax_rate": ["0.25"], "thresholds": ["100,1000"],
        "start_ts": ["1700000000000"], "id": ["5655"], "name": ["Rose"], "search": ["rose"],
        "min_coins": ["1"], "max_coins": ["100"], "quota_minute": ["5"], "quota_hour": ["50"],
        "quota_day": ["100"], "tiers": ["100,1000"], "tier": ["1000"], "channel": ["web"],
    }


def argv_strategy(work: Path, room: str, host: str,
                  known_bugs: bool = True) -> st.SearchStrategy[list[str]]:
    spec = grammar()
    vals = values(work, room)
    good = good_values(work, room, host, known_bugs)

    def value_for(draw: Any, action: argparse.Action) -> str:
        if action.choices is not None and draw(st.integers(0, 3)) > 0:
            return str(draw(st.sampled_from(sorted(map(str, action.choices)))))
        if action.dest in good and draw(st.integers(0, 9)) < 7:
            return str(draw(st.sampled_from(good[action.dest])))
        return str(draw(vals))

    @st.composite
    def one(draw: Any) -> list[str]:
        if draw(st.integers(0, 14)) == 0:  # anything at all
            return list(draw(st.lists(vals | st.sampled_from(sorted(spec)), max_size=6)))
        name = draw(st.sampled_from(sorted(spec)))
        argv = [name]
        actions = spec[name]
        required = [a for a in actions if a.required or (not a.option_strings and
                                                           a.nargs in (None, "+"))]
        optional = [a for a in actions if a not in required]
        chosen = [a for a in required if draw(st.integers(0, 19)) > 0]
        chosen += draw(st.lists(st.sampled_from(optional), max_size=5)) if optional else []
        for action in chosen:
            if action.option_strings:
                argv.append(draw(st.sampled_from(action.option_strings)))
                if action.nargs == 0:
                    continue
            argv.append(value_for(draw, action))
        if name == "record":  # never the network: always a replay, as fast as possible
            argv += ["--replay", str(work / "in.json.gz"), "--quiet"]
            for i, a in enumerate(argv[:-1]):  # a paced replay of a dump spanning days
                if a == "--speed" and _positive(argv[i + 1]):
                    argv[i + 1] = "max"
            if "--speed" not in argv:
                argv += ["--speed", "max"]
        return argv

    return one()


def _positive(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def run_one(argv: list[str], work: Path) -> tuple[int | None, str, str]:
    """(exit status or None when it hung, stderr, what went wrong inside if it raised)."""
    from liveworth.cli import main

    case = work / "case"
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir()
    os.chdir(case)
    err, out = io.StringIO(), io.StringIO()
    raised = ""
    signal.alarm(TIMEOUT_S)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code: int | None = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None
                                                                  else 1)
    except Hung:
        code = None
    except Exception:
        code = -1
        raised = traceback.format_exc().strip().splitlines()[-1]
    finally:
        signal.alarm(0)
        os.chdir(work)
    return code, err.getvalue(), raised


def main_quiet(argv: list[str]) -> int:
    from liveworth.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli(argv)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-known-bugs", action="store_true")
    args = ap.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "out").mkdir(parents=True)
    dump = sorted(DUMPS.glob("*.json.gz"))[0]
    shutil.copy(dump, work / "in.json.gz")  # a copy: an --out may overwrite it
    (work / "in.txt").write_text("not an input\n")
    os.environ.update({"LIVEWORTH_CONFIG": str(work / "no-config.toml"),
                       "LIVEWORTH_DB": str(work / "db.duckdb"), "COLUMNS": "100"})
    os.environ.pop("LIVEWORTH_DEBUG", None)
    from liveworth.ingest.importer import import_paths
    from liveworth.store.database import Store

    with Store.open(str(work / "db.duckdb")) as store:
        room = import_paths(store, [work / "in.json.gz"]).rooms[0]
        host = str(store.query("SELECT coalesce(max(host), 'someone') FROM rooms")[0][0])
    (work / "roster.txt").write_text(f"# roster\n@{host}\n")
    (work / "config.toml").write_text('preset = "default"\n[rates]\nreward_rate = "0.55"\n')
    (work / "bad-config.toml").write_text('channel = "x"\n[channels.x]\npack_usd = 1\n'
                                          'pack_coins = inf\n')
    events = work / "events.jsonl"
    done = main_quiet(["simulate", "--followers", "5000", "--minutes", "20", "--seed", "3",
                       "--out", str(events)])
    assert done == 0, "simulate must work to seed the fuzz"
    limit = 6 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    os.chdir(work)
    summary: dict[str, Any] = {"examples": 0, "codes": collections.Counter(), "tracebacks": [],
                               "internal": [], "bad_codes": [], "timeouts": []}

    explicit = [["payout", "--balance-usd", "1000000000000"],
                ["convert", "--usd", "1e400"], ["convert", "--coins", "1" + "0" * 40],
                ["simulate", "--followers", "1000000000000", "--out", str(work / "out" / "s")],
                ["estimate", "--followers", "1000", "--sessions", "100000000000"],
                ["gifts", "--min-coins", "99999999999999999999999"],
                ["report", room, "--channel", "nope"], ["export", "--out", "/proc/x", "--all"],
                ["export", "--out", str(work), "--all"], ["report", room, "--html", str(work)],
                ["simulate", "--followers", "10", "--viewers", "1e12", "--out", "-"],
                ["simulate", "--followers", "10", "--start-ts", "1e300", "--out", "-"],
                ["convert", "--diamonds", "1e999999"],
                ["plan", "--target-usd-month", "1e999999", "--followers", "1000"],
                ["payout", "--balance-usd", "2500", "--start", "9999-12-31"]]

    @seed(args.seed)
    @settings(max_examples=args.examples, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(argv_strategy(work, room, host, not args.no_known_bugs))
    def fuzz(argv: list[str]) -> None:
        summary["examples"] += 1
        code, stderr, raised = run_one(argv, work)
        shown = " ".join(json.dumps(a, ensure_ascii=False) if (not a or " " in a) else a
                         for a in argv)
        summary["codes"][str(code)] += 1
        if code is None:
            summary["timeouts"].append(f"liveworth {shown}")
        elif raised or "Traceback (most recent call last)" in stderr:
            summary["tracebacks"].append(f"liveworth {shown} → {raised or stderr[-200:]}")
        elif "internal error" in stderr:
            line = next(ln for ln in stderr.splitlines() if "internal error" in ln)
            summary["internal"].append(f"liveworth {shown} → {line.split('internal error: ')[-1]}"
                                       .removesuffix(" (set LIVEWORTH_DEBUG=1 for details)"))
        elif code not in (0, 1, 2):
            summary["bad_codes"].append(f"liveworth {shown} → exit {code}")

    for argv in explicit:  # known nasty inputs, always tried (short form too: issue #9 fixed)
        fuzz.hypothesis.inner_test(argv)  # type: ignore[attr-defined]
    fuzz()
    args.out.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

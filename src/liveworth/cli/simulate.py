"""``liveworth simulate``: one simulated LIVE session, or a creator's history of them, as event
format v1 JSONL with the ground truth (:mod:`liveworth.model.simulate`,
:mod:`liveworth.model.simulate_history`). NumPy and the model load only when it runs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from liveworth.cli.estimate import _number, optional_number, seeded_rng
from liveworth.cli.options import (
    CommandFactory,
    add_json,
    print_json,
    unique_id,
    writable_file,
)
from liveworth.economy.numbers import count
from liveworth.errors import UsageError
from liveworth.render.terminal import term

if TYPE_CHECKING:
    from rich.console import Console

    from liveworth.model.simulate_history import HistorySession

#: The rows of a session's truth the terminal shows.
_TRUTH_ROWS = (("events", "events written"), ("minutes", "minutes"),
               ("typical_viewers", "typical concurrent viewers"),
               ("unique_viewers", "unique viewers"), ("comments", "comments"),
               ("unique_gifters", "gifters"), ("gifts", "gifts (units)"),
               ("coins", "coins credited"), ("coins_unconfirmed", "of which unconfirmed"),
               ("missing_finals", "streaks without a final"), ("resent_finals", "resent finals"))


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    if any(v is not None for v in (args.sessions, args.per_week, args.start, args.returning)):
        return _cmd_history(args, console)
    from liveworth.model.generative import ModelParams, engagement_value
    from liveworth.model.simulate import simulate

    rng, seed = seeded_rng(args.seed)
    session = simulate(
        ModelParams.from_prior(),
        followers=int(_number(args.followers, "--followers", whole=True)),
        viewers=optional_number(args.viewers, "--viewers"),
        minutes=_number(args.minutes, "--minutes"),
        engagement=engagement_value(args.engagement),
        rng=rng,
        room_id=args.room_id or f"sim-{seed}",
        start_ts=int(_number(args.start_ts or "1700000000000", "--start-ts", whole=True)),
        host=unique_id(args.host) if args.host else "sim_creator",
    )
    if args.out == "-":
        session.write_jsonl(sys.stdout)
    else:
        _write(_out_file(args.out), session.write_jsonl)
    truth = {**session.truth.as_dict(), "seed": seed}
    if args.truth:
        _write(Path(args.truth),
               lambda f: f.write(json.dumps(truth, indent=2, ensure_ascii=False) + "\n"))
    if args.out == "-":
        return 0
    if args.json:
        print_json(console, truth)
        return 0
    _print_truth(console, truth, f"Simulated session {term(truth['room_id'])} (seed {seed}) → "
                 f"{term(args.out)}")
    return 0


def _print_truth(console: Console, truth: dict[str, Any], title: str) -> None:
    from rich.table import Table

    t = Table("what", "simulated", title=title, title_justify="left")
    for key, label in _TRUTH_ROWS:
        value = truth[key]
        t.add_row(label, f"{value:,}" if isinstance(value, int) else f"{value:,.1f}")
    console.print(t)


def _history_plan(args: argparse.Namespace, seed: int) -> Any:
    from liveworth.model.generative import engagement_value
    from liveworth.model.simulate_history import HistoryPlan

    if args.start_ts is not None and args.start is not None:
        raise UsageError("--start and --start-ts: give one")
    if args.start is not None:
        try:
            start = dt.date.fromisoformat(args.start)
        except ValueError:
            raise UsageError(f"--start: not a date YYYY-MM-DD: {args.start[:40]!r}") from None
    else:
        ms = int(_number(args.start_ts or "1700000000000", "--start-ts", whole=True))
        start = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()
    return HistoryPlan(
        host=unique_id(args.host) if args.host else "sim_creator",
        followers=int(_number(args.followers, "--followers", whole=True)),
        sessions=int(_number(args.sessions or "10", "--sessions", whole=True)),
        per_week=_number(args.per_week or "3", "--per-week"),
        start=start, minutes=_number(args.minutes, "--minutes"),
        engagement=engagement_value(args.engagement),
        viewers=optional_number(args.viewers, "--viewers"),
        returning=_number(args.returning or "0.35", "--returning"),
        room_prefix=args.room_id or f"sim-{seed}")


def _cmd_history(args: argparse.Namespace, console: Console) -> int:
    from liveworth.model.generative import ModelParams
    from liveworth.model.simulate_history import simulate_history

    if args.out == "-":
        raise UsageError("--out -: a history is written to a file or a directory (DIR/)")
    rng, seed = seeded_rng(args.seed)
    plan = _history_plan(args, seed)
    to_dir = args.out.endswith(("/", "\\")) or Path(args.out).is_dir()
    rows: list[dict[str, Any]] = []
    sessions = simulate_history(ModelParams.from_prior(), plan, rng)
    if to_dir:
        folder = Path(args.out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{folder}: cannot make the directory ({exc.strerror})") from None
        for h in sessions:
            _write(folder / f"{h.session.room_id}.jsonl", h.session.write_jsonl)
            rows.append(_row(h))
    else:
        def write_all(f: IO[str]) -> None:
            for h in sessions:
                h.session.write_jsonl(f)
                rows.append(_row(h))
        _write(_out_file(args.out), write_all)
    truth = {"host": plan.host, "seed": seed, "returning": plan.returning,
             "per_week": plan.per_week, "sessions": rows}
    if args.truth:
        _write(Path(args.truth),
               lambda f: f.write(json.dumps(truth, indent=2, ensure_ascii=False) + "\n"))
    if args.json:
        print_json(console, truth)
    else:
        _print_history(console, truth, args.out)
    return 0


def _row(h: HistorySession) -> dict[str, Any]:
    start = dt.datetime.fromtimestamp(h.start_ts / 1000, dt.UTC)
    return {**h.session.truth.as_dict(), "start": start.isoformat(timespec="seconds"),
            "start_ts": h.start_ts, "returning_gifters": h.returning_gifters}


def _print_history(console: Console, truth: dict[str, Any], out: str) -> None:
    from rich.table import Table

    rows = truth["sessions"]
    t = Table("session", "start (UTC)", "minutes", "viewers", "gifters", "returning", "coins",
              title=f"Simulated history of @{term(truth['host'])}: "
              f"{count(len(rows), 'session')} (seed {truth['seed']}) → {term(out)}",
              title_justify="left")
    for r in rows:
        t.add_row(term(r["room_id"]), r["start"][:16].replace("T", " "), f"{r['minutes']:,.0f}",
                  f"{r['typical_viewers']:,.0f}", f"{r['unique_gifters']:,}",
                  f"{r['returning_gifters']:,}", f"{r['coins']:,}")
    t.add_section()
    t.add_row("all", "", f"{sum(r['minutes'] for r in rows):,.0f}", "",
              f"{sum(r['unique_gifters'] for r in rows):,}",
              f"{sum(r['returning_gifters'] for r in rows):,}",
              f"{sum(r['coins'] for r in rows):,}", style="bold")
    console.print(t)


def _out_file(out: str) -> Path:
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"{path}: is a directory (a history may be written there: give "
                         "--sessions N)")
    return path


def _write(path: Path, writer: Callable[[IO[str]], object]) -> None:
    try:
        with path.open("w", encoding="utf-8") as f:
            writer(f)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})"
                         ) from None


def _output(text: str) -> str:
    """``--out``: a writable file, ``-``, or a directory (``DIR/`` or an existing one) whose
    parent exists."""
    if text.endswith(("/", "\\")) or Path(text).is_dir():
        parent = Path(text).parent if not Path(text).is_dir() else Path(text)
        if not parent.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: {str(parent)!r} does not exist")
        return text
    return writable_file(text)


def register(command: CommandFactory) -> None:
    """Add ``simulate``."""
    p = command("simulate", cmd_simulate, "write realistic simulated LIVE sessions as JSONL",
                "Simulate one LIVE session with the model (viewers arrive and leave, chat, "
                "likes, gifts in streaks, whales, battles) and write it in event format v1 — "
                "streak frames and finals, occasional resent and missing finals — ready for "
                "`liveworth import`. With --sessions (or --per-week, --start) it simulates one "
                "creator's history: one audience size the sessions vary around, regulars who "
                "return and gift again (--returning), days spaced like a schedule. --truth "
                "writes the ground truth of every session.")
    p.add_argument("--followers", required=True, metavar="N", help="followers of the account")
    p.add_argument("--viewers", metavar="V",
                   help="typical concurrent viewers, if known (default: from followers)")
    p.add_argument("--minutes", default="60", metavar="M",
                   help="minutes of the session (a history's vary around it; default 60)")
    p.add_argument("--engagement", default="typical", metavar="E",
                   help="chat and likes per viewer relative to a typical LIVE: a number "
                   "(1 = typical) or low, typical, high (default typical)")
    p.add_argument("--seed", metavar="S", help="random seed (default: a fresh one, printed)")
    p.add_argument("--host", metavar="NAME", help="the creator's @unique id (default sim_creator)")
    h = p.add_argument_group("a creator's history")
    h.add_argument("--sessions", metavar="N", help="how many sessions (default 10 with "
                   "another of these options; at most 1,000)")
    h.add_argument("--per-week", metavar="K", help="sessions a week on average (default 3)")
    h.add_argument("--start", metavar="YYYY-MM-DD", help="day of the first session (UTC)")
    h.add_argument("--returning", metavar="SHARE",
                   help="share of a session's gifters and viewers who came to an earlier "
                   "one, 0 to 1 (default 0.35)")
    p.add_argument("--out", type=_output, required=True, metavar="FILE.jsonl",
                   help="where to write (- for stdout; DIR/ for one file per session of a "
                   "history)")
    p.add_argument("--truth", type=writable_file, metavar="FILE.json",
                   help="also write the ground truth here")
    p.add_argument("--room-id", help="room id of the session, or the prefix of a history's "
                   "(default sim-SEED)")
    p.add_argument("--start-ts", default=None, metavar="MS",
                   help="start time, ms since the epoch (default 1700000000000)")
    add_json(p)

"""`make faults`: liveworth's fault and abuse suite. Prints its figures and writes them, with the
machine and the date, to docs/RELIABILITY.md.

    python faults/run.py            the full suite (about 15 minutes on 2 cores)
    python faults/run.py --short    the CI form (a few minutes): fewer kills, a 10 s web load
    python faults/run.py --only crash,storms   some scenarios only

1. crash (SIGKILL the recorder at random moments) · 1b. restart (a kill, then another creator's
recording; archived and torn journals) · 2. reconnect storms · 3. bad input (fuzzing) · 3b. sniff
(import without --format) · 3c. extremes (in-range extremes downstream) · 3d. hostile (text in
the terminal, CSV and JSON) · 4. storage faults · 5. concurrency · 6. web load and abuse · 7. money
invariants (checked on every report, session row, live state and ledger credit the others
produce).
Seeds are fixed (``--seed``), so a run repeats; what depends on timing (where a kill lands,
latencies) varies a little from run to run. Exit status 1 when a figure misses its requirement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `faults` and `liveworth` importable
    sys.path.insert(0, str(ROOT))
    sys.path.insert(1, str(ROOT / "src"))

from faults import crash, extremes, fuzz, hostile, restart, sniff, storage, storms, web  # noqa: E402
from faults.common import Ctx, Figure, zero  # noqa: E402

SCENARIOS: dict[str, tuple[str, Callable[[Ctx], list[Figure]]]] = {
    "crash": (crash.SCENARIO, crash.run),
    "restart": (restart.SCENARIO, restart.run),
    "storms": (storms.SCENARIO, storms.run),
    "fuzz": (fuzz.SCENARIO, fuzz.run),
    "sniff": (sniff.SCENARIO, sniff.run),
    "extremes": (extremes.SCENARIO, extremes.run),
    "hostile": (hostile.SCENARIO, hostile.run),
    "storage": (storage.SCENARIO, storage.run),
    "concurrency": (web.SC5, web.run_concurrency),
    "web": (web.SC6, web.run_web),
}
MONEY = "7. money invariants"
HOW = {
    crash.SCENARIO: crash.__doc__,
    restart.SCENARIO: restart.__doc__,
    storms.SCENARIO: storms.__doc__,
    fuzz.SCENARIO: fuzz.__doc__,
    sniff.SCENARIO: sniff.__doc__,
    extremes.SCENARIO: extremes.__doc__,
    hostile.SCENARIO: hostile.__doc__,
    storage.SCENARIO: storage.__doc__,
    web.SC5: web.HOW5,
    web.SC6: web.HOW6,
}


def machine() -> dict[str, str]:
    import duckdb

    from liveworth import __version__

    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return {"cpu": f"{cpu}, {os.cpu_count()} cores", "memory": mem,
            "system": platform.platform(), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "liveworth": __version__,
            "commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "user": "root" if os.geteuid() == 0 else "not root"}


def unmount_under(path: Path) -> None:
    """Leftover tmpfs mounts of an interrupted run."""
    with open("/proc/mounts", encoding="utf-8") as f:
        points = [line.split()[1] for line in f]
    for point in sorted(points, reverse=True):
        if point.startswith(str(path) + "/"):
            subprocess.run(["umount", "-l", point], capture_output=True)


def money_figures(ctx: Ctx) -> list[Figure]:
    inv = ctx.inv
    checked = ", ".join(f"{v:,} {k}" for k, v in sorted(inv.checked.items()))
    return [
        Figure(MONEY, "money checks made", sum(inv.checked.values()), "> 0",
               sum(inv.checked.values()) > 0, checked),
        zero(MONEY, "violations: viewer ≠ creator + platform, confirmed + unconfirmed ≠ total, "
                    "coins not integers, money not the model's for the coins",
             len(inv.violations), "; ".join(inv.violations[:3])),
    ]


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _how(doc: str | None) -> str:
    """A module docstring (reStructuredText-ish) as Markdown, without its title line."""
    if not doc:
        return ""
    out = []
    for p in doc.strip().split("\n\n")[1:]:
        if p.startswith("    "):
            out.append("```\n" + textwrap.dedent(p) + "\n```")
        else:
            out.append(p.replace("``", "`").removesuffix("::").rstrip() +
                       (":" if p.rstrip().endswith("::") else ""))
    return "\n\n".join(out)


def write_markdown(path: Path, figures: list[Figure], info: dict[str, str], short: bool,
                   seed: int, seconds: float) -> None:
    fails = [f for f in figures if f.status == "FAIL"]
    skips = [f for f in figures if f.status == "SKIP"]
    passes = [f for f in figures if f.status == "PASS"]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability: faults, bad input and load, with figures",
        "",
        "Written by `make faults` (`python faults/run.py`" + (" --short" if short else "")
        + f"). Do not edit by hand: run it again. Seed {seed}; what depends on timing (where a "
        "kill lands, latencies) varies a little between runs.",
        "",
        f"- **Date**: {when} · **mode**: {'short (CI)' if short else 'full'} · "
        f"**took**: {seconds / 60:.1f} min",
        f"- **Machine**: {info['cpu']}, {info['memory']}; {info['system']} (run as "
        f"{info['user']})",
        f"- **Software**: liveworth {info['liveworth']} at {info['commit']}, Python "
        f"{info['python']}, DuckDB {info['duckdb']}",
        "",
        f"**{len(passes)} figures meet their requirement, {len(fails)} do not, {len(skips)} "
        "skipped**; the rest are reported for information.",
        "",
    ]
    if fails:
        lines += ["## Not met", ""]
        lines += [f"- {f.scenario} — {f.name}: **{_cell(f.value)}** (required {f.required})"
                  for f in fails]
        lines.append("")
    order = list(dict.fromkeys(f.scenario for f in figures))
    for scenario in order:
        lines += [f"## {scenario}", ""]
        how = _how(HOW.get(scenario))
        if how:
            lines += [how, ""]
        lines += ["| figure | measured | required | | notes |", "|---|---|---|---|---|"]
        for f in (x for x in figures if x.scenario == scenario):
            mark = {"PASS": "✅", "FAIL": "❌", "SKIP": "⏭ skipped", "INFO": "ℹ️"}[f.status]
            lines.append(f"| {_cell(f.name)} | {_cell(f.value)} | {_cell(f.required)} | "
                         f"{mark} | {_cell(f.note)} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--short", action="store_true", help="the CI form: a few minutes")
    ap.add_argument("--seed", type=int, default=20231004)
    ap.add_argument("--only", help=f"comma-separated scenarios of: {', '.join(SCENARIOS)}")
    ap.add_argument("--out", type=Path, help="where to write the figures (default: "
                    "docs/RELIABILITY.md; out/RELIABILITY-short.md with --short)")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "faults",
                    help="scratch directory (wiped at start)")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else list(SCENARIOS)
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    out = args.out or (ROOT / "out" / "RELIABILITY-short.md" if args.short or args.only
                       else ROOT / "docs" / "RELIABILITY.md")
    work = args.work.resolve()
    if work.exists():
        unmount_under(work)
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.pop("LIVEWORTH_DB", None)
    os.environ["LIVEWORTH_CONFIG"] = str(work / "no-config.toml")
    ctx = Ctx(short=args.short, seed=args.seed, work=work)
    figures: list[Figure] = []
    t0 = time.monotonic()
    for key in only:
        title, fn = SCENARIOS[key]
        ctx.log(f"{title} ...")
        t = time.monotonic()
        try:
            got = fn(ctx)
        except Exception as exc:  # a broken harness is a failure, never a pass
            import traceback

            traceback.print_exc()
            got = [Figure(title, "harness error", exc.__class__.__name__, "runs", False,
                          str(exc)[:300])]
        figures += got
        for f in got:
            print(f"  {f.status:4} {f.name}: {f.value}" + (f"  (required {f.required})"
                                                         if f.ok is not None else ""),
                  flush=True)
        ctx.log(f"  ({time.monotonic() - t:.0f} s)")
    figures += money_figures(ctx)
    for f in figures[-2:]:
        print(f"  {f.status:4} {f.name}: {f.value}", flush=True)
    seconds = time.monotonic() - t0
    write_markdown(out, figures, machine(), args.short, args.seed, seconds)
    fails = [f for f in figures if f.status == "FAIL"]
    print(f"\n{len(figures)} figures, {len(fails)} not met, in {seconds / 60:.1f} min; "
          f"written to {out}")
    for f in fails:
        print(f"  NOT MET  {f.scenario} — {f.name}: {f.value} (required {f.required})")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

"""Absurd numbers and unwritable outputs on the command line: one clear line, exit status 2,
before any work (issue #9). Each limit is documented in docs/RATES.md or docs/MODEL.md."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Result

Run = Callable[..., Result]


def clear_error(r: Result, *needles: str) -> None:
    assert r.code == 2, (r.code, r.err)
    assert r.err.count("\n") == 1 and "Traceback" not in r.err and "internal" not in r.err, r.err
    for needle in needles:
        assert needle in r.err, r.err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("convert", "--usd", "1e400"), "from 0 to 10,000,000,000,000"),
        (("convert", "--usd", "nan"), "--usd"),
        (("convert", "--usd", "0.0000000000001"), "at most 12 decimal places"),
        (("convert", "--coins", "1" + "0" * 40), "between 0 and 1,000,000,000,000,000"),
        (("convert", "--coins", "1" + "0" * 5000), "not a whole number"),
        (("convert", "--diamonds", "1e999999"), "--diamonds"),
        (("convert", "--coins", "5", "--reward-rate", "1e-999999"), "decimal places"),
        (("convert", "--coins", "5", "--set", "usd_per_diamond=1e999999"),
         "command line: usd_per_diamond must lie between 0 and 100"),
        (("payout", "--balance-usd", "1e12"), "at most 3,660"),
        (("payout", "--balance-usd", "1e14"), "--balance-usd"),
        (("payout", "--balance-usd", "2500", "--start", "9999-12-30"), "year 9999"),
        (("payout", "--balance-usd", "2500", "--set", "max_withdrawal_per_day_usd=0.01",
          "--set", "min_withdrawal_usd=0"), "at most 3,660"),
        (("gifts", "--min-coins", "99999999999999999999999"), "--min-coins"),
        (("simulate", "--followers", "1e12", "--out", "-"), "followers"),
        (("simulate", "--followers", "100000000", "--out", "-"), "too large to simulate"),
        (("simulate", "--followers", "10", "--viewers", "1e12", "--out", "-"), "--viewers"),
        (("simulate", "--followers", "10", "--engagement", "1e12", "--out", "-"), "engagement"),
        (("simulate", "--followers", "10", "--start-ts", "1e300", "--out", "-"), "--start-ts"),
        (("simulate", "--followers", "10", "--start-ts", "253402240000000", "--out", "-"),
         "start time"),
        (("simulate", "--followers", "10", "--seed", "1e300", "--out", "-"), "--seed"),
        (("estimate", "--followers", "1000", "--sessions", "1e300"), "--sessions"),
        (("estimate", "--followers", "1e300"), "--followers"),
        (("estimate", "--followers", "1000", "--what-if", "followers=1e300"), "(301 digits)"),
        (("plan", "--target-usd-month", "1e999999", "--followers", "1000"),
         "--target-usd-month"),
        (("forecast", "--followers", "1e300"), "--followers"),
        (("forecast", "--as-of", "9999-12-01"), "forecasts end in 9999-11"),
        (("forecast", "--month", "9999-12", "--as-of", "9999-11-01"), "forecasts end in"),
    ],
)
def test_absurd_numbers_are_one_clear_error(cli: Run, argv: tuple[str, ...], needle: str
                                            ) -> None:
    t0 = time.monotonic()
    clear_error(cli(*argv), needle)
    assert time.monotonic() - t0 < 60  # refused up front, not after the work (which hangs)


def test_the_largest_amounts_still_work(cli: Run) -> None:
    r = cli("convert", "--coins", "1000000000000000", "--json")
    assert r.code == 0 and '"creator_usd": "5000000000000"' in r.out, r.err
    r = cli("convert", "--usd", "10000000000000", "--channel", "web", "--json")
    assert r.code == 0 and '"coins": 945945945945945' in r.out, r.err
    r = cli("payout", "--balance-usd", "3660000", "--start", "2026-01-01", "--json")
    assert r.code == 0 and r.out.count('"requested"') == 3660, r.err


@pytest.mark.parametrize("kind", ["directory", "missing parent", "parent is a file", "proc"])
@pytest.mark.parametrize("command", ["export", "report", "simulate"])
def test_unwritable_outputs_are_refused_up_front(cli: Run, tmp_path: Path, kind: str,
                                                 command: str) -> None:
    (tmp_path / "file").write_text("x")
    out = {"directory": str(tmp_path), "missing parent": str(tmp_path / "no" / "x.jsonl"),
           "parent is a file": str(tmp_path / "file" / "x.jsonl"), "proc": "/proc/x"}[kind]
    db = str(tmp_path / "none.duckdb")  # never opened: the check comes first
    argv = {"export": ["export", "--all", "--out", out, "--db", db],
            "report": ["report", "1", "--html", out, "--db", db],
            "simulate": ["simulate", "--followers", "10", "--out", out]}[command]
    clear_error(cli(*argv), out)
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only directory")
def test_read_only_directory_is_refused(cli: Run, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    clear_error(cli("simulate", "--followers", "10", "--out", str(ro / "x.jsonl")),
                "cannot write")


def test_an_existing_output_is_not_truncated_by_the_check(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "keep.jsonl"
    out.write_text("old\n")
    r = cli("simulate", "--followers", "10", "--viewers", "abc", "--out", str(out))
    assert r.code == 2 and out.read_text() == "old\n"
    probe = tmp_path / "new.jsonl"
    r = cli("simulate", "--followers", "10", "--viewers", "abc", "--out", str(probe))
    assert r.code == 2 and not probe.exists()  # the check leaves no file behind


@pytest.mark.parametrize("command", ["export", "report"])
def test_an_output_that_is_the_database_is_refused(cli: Run, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   command: str) -> None:
    db = tmp_path / "d.duckdb"
    db.write_bytes(b"precious")
    option = {"export": "--out", "report": "--html"}[command]
    argv = {"export": ["export", "--all"], "report": ["report", "1"]}[command]
    clear_error(cli(*argv, option, str(db), "--db", str(db)), "that is the database")
    monkeypatch.setenv("LIVEWORTH_DB", str(db))  # the default database, named another way
    monkeypatch.chdir(tmp_path)
    clear_error(cli(*argv, option, "d.duckdb"), "that is the database")
    assert db.read_bytes() == b"precious"


@pytest.mark.parametrize("speed", ["0", "-1", "nan", "1e-300", "1e300", "inf"])
def test_replay_speed_out_of_range_is_one_clear_error(cli: Run, speed: str) -> None:
    r = cli("record", "--replay", "missing.json.gz", "--speed", speed)
    clear_error(r, "speed must lie between 0.001 and 1,000,000")


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--poll", "9", "must lie between 10 and 86,400 seconds"),
    ("--poll", "nan", "must lie between 10 and 86,400 seconds"),
    ("--poll", "soon", "not a number of seconds"),
    ("--linger", "-1", "must lie between 0 and 86,400 seconds"),
    ("--linger", "1e9", "must lie between 0 and 86,400 seconds")])
def test_record_seconds_out_of_range_are_one_clear_error(cli: Run, option: str, value: str,
                                                         says: str) -> None:
    clear_error(cli("record", "@someone", option, value), says)


def test_estimate_at_the_top_of_every_range_answers(cli: Run) -> None:
    """The estimator's compound sampler cannot draw billions of gifts one by one (it used to
    allocate tens of GiB here) and the drivers table has no doubling past a range's top."""
    r = cli("estimate", "--followers", "10000000000", "--viewers", "99999999", "--engagement",
            "100", "--per-week", "50", "--minutes", "1440", "--json", "--seed", "3")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    drivers = {d["name"] for d in out["drivers"]}
    assert "viewers" not in drivers and "per_week" not in drivers and "whales" in drivers


@pytest.mark.parametrize("argv", [("serve", "--port", "99999999"), ("serve", "--port", "0"),
                                  ("record", "--replay", "x.json.gz", "--serve", "70000")])
def test_ports_out_of_range_are_one_clear_error(cli: Run, argv: tuple[str, ...]) -> None:
    clear_error(cli(*argv), "a port lies between 1 and 65535")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("convert", "--coins", "0_0_1"), "not a whole number: '0_0_1'"),
        (("convert", "--coins", "1,00"), "not a whole number: '1,00'"),
        (("convert", "--coins", "1_000,000"), "not a whole number"),
        (("convert", "--coins", "\u0661\u0662"), "not a whole number"),
        (("convert", "--coins", "+5"), "not a whole number"),
        (("convert", "--usd", "0_0_1"), "not a number: '0_0_1'"),
        (("convert", "--usd", "1,0.5"), "not a number"),
        (("convert", "--coins", "5", "--reward-rate", "0.4_6"), "not a number"),
        (("convert", "--coins", "5", "--set", "payout_processing_days=0_0_1"),
         "command line: payout_processing_days must be a whole number"),
        (("convert", "--coins", "5", "--set", "reward_rate=0_0_1"),
         "command line: reward_rate must be a decimal number"),
        (("estimate", "--followers", "0_0_1"), "--followers: not a number: '0_0_1'"),
        (("estimate", "--followers", "100", "--what-if", "followers=0_0_1"),
         "what-if followers: not a number: '0_0_1'"),
        (("simulate", "--followers", "10", "--minutes", "3_0", "--out", "-"), "--minutes"),
    ],
)
def test_non_canonical_numbers_are_one_clear_error(cli: Run, argv: tuple[str, ...],
                                                   needle: str) -> None:
    clear_error(cli(*argv), needle)


@pytest.mark.parametrize(("text", "coins"), [("1,000", 1000), ("1_000_000", 1_000_000),
                                             ("0", 0), ("007", 7), (" 42 ", 42)])
def test_grouped_thousands_are_still_accepted(cli: Run, text: str, coins: int) -> None:
    r = cli("convert", "--coins", text, "--json")
    assert r.code == 0 and r.json()["coins"] == coins, r.err
    r = cli("convert", "--usd", "$1,000.50", "--json")
    assert r.code == 0 and r.json()["input_usd"] == "1000.5", r.err


@pytest.mark.parametrize("text", ["8_0_8_0", "\uff18\uff10\uff18\uff10", "+80", "80.0"])
def test_non_canonical_ports_are_refused(text: str) -> None:
    import argparse

    from liveworth.cli.options import port_number

    with pytest.raises(argparse.ArgumentTypeError, match="not a port number"):
        port_number(text)
    assert port_number("8080") == 8080


@pytest.mark.parametrize("text", ["gold:0_0_1", "gold:1,00", "gold:5:1_2", "gold:5:\u0663"])
def test_non_canonical_tier_numbers_are_refused(text: str) -> None:
    from liveworth.analysis.roster import parse_tier
    from liveworth.errors import UsageError

    with pytest.raises(UsageError, match="whole numbers"):
        parse_tier(text)
    assert parse_tier("gold:50,000:12:25").diamonds == 50_000


def test_a_seed_is_read_exactly(cli: Run, tmp_path: Path) -> None:
    """Seeds beyond 2^53 differ by their last digit: read through a float they were the same
    run (two different seeds, one output)."""
    outs = []
    for seed in ("9007199254740992", "9007199254740993"):
        path = tmp_path / f"{seed}.jsonl"
        r = cli("simulate", "--followers", "100", "--minutes", "1", "--seed", seed, "--out",
                str(path), "--json")
        assert r.code == 0 and r.json()["seed"] == int(seed), r.err
        outs.append(path.read_bytes())
    assert outs[0] != outs[1]
    for bad, message in (("1.5", "not a whole number"), ("-1", "must lie between 0 and")):
        r = cli("simulate", "--followers", "100", "--seed", bad, "--out", str(tmp_path / "x"))
        assert r.code == 2 and message in r.err

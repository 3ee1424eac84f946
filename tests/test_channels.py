"""--channel on every command that shows money (issue #19, item 4): the viewers' money of the
same coins priced on the channel asked for, in sessions, analyze, gifters, roster and forecast."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liveworth.economy.money import usd
from test_money_cli import paid

Run = Callable[..., Any]


@pytest.fixture
def db(tmp_path: Path, cli: Run) -> str:
    hist = tmp_path / "hist"
    r = cli("simulate", "--followers", "5000", "--sessions", "3", "--seed", "11", "--host",
            "alice", "--start", "2026-11-02", "--out", f"{hist}/")
    assert r.code == 0, r.err
    path = str(tmp_path / "m.duckdb")
    r = cli("import", "--db", path, *sorted(str(p) for p in hist.glob("*.jsonl")))
    assert r.code == 0, r.err
    return path


@pytest.mark.parametrize("channel", ["web", "ios-bonus"])
def test_channel_prices_the_viewers_money_on_every_command(db: str, cli: Run,
                                                           channel: str) -> None:
    rows = cli("sessions", "--db", db, "--json", "--channel", channel).json()
    assert rows and all(r["channel"] == channel and r["viewer_usd"] == paid(r["coins"], channel)
                        for r in rows)
    total = sum(r["coins"] for r in rows)
    a = cli("analyze", "--db", db, "--host", "alice", "--json", "--channel", channel).json()
    assert a["totals"]["coins"] == total and a["totals"]["viewer_usd"] == paid(total, channel)
    board = cli("gifters", "--db", db, "--json", "--channel", channel).json()
    assert all(g["viewer_usd"] == paid(g["coins"], channel) for g in board)
    roster = cli("roster", "--db", db, "--json", "--as-of", "2026-11-30", "--channel",
                 channel).json()
    alice = next(r for r in roster["creators"] if r["host"] == "alice")
    assert alice["viewer_usd"] == paid(alice["coins"], channel)
    f = cli("forecast", "--db", db, "--host", "alice", "--month", "2026-11", "--as-of",
            "2026-11-30", "--json", "--channel", channel)
    assert f.code == 0, f.err
    mtd = f.json()["month_to_date"]
    assert mtd["viewer_usd"] == paid(mtd["coins"], channel)
    text = cli("sessions", "--db", db, "--channel", channel).out
    assert all(usd(Decimal(r["viewer_usd"])) in text for r in rows)



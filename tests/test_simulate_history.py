"""A creator's simulated history (issue #15, item 4): one host, one audience size the sessions vary
around, regulars who return and gift again, a schedule's spacing — and every session's truth
equal to what the counting credits once imported."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.ingest.importer import import_paths
from liveworth.model.generative import ModelParams
from liveworth.model.simulate_history import HistoryPlan, HistorySession, simulate_history
from liveworth.model.simulated import GIFT
from liveworth.store.database import Store

from conftest import Result

Run = Callable[..., Result]
PARAMS = ModelParams.from_prior()


def _history(seed: int, **kw: object) -> list[HistorySession]:
    plan = HistoryPlan(**{"host": "alice", "followers": 3000, "sessions": 30, "per_week": 3.0,
                          "start": dt.date(2026, 1, 5), "minutes": 30.0, **kw})  # type: ignore
    return list(simulate_history(PARAMS, plan, np.random.default_rng(seed)))


def _gifters(h: HistorySession) -> set[int]:
    s = h.session
    return {int(v) for v in s.viewer_numbers(np.unique(s.tables[GIFT]["user"])).tolist()}


@pytest.mark.parametrize("seed", [1, 2])
def test_one_creator_on_a_schedule(seed: int) -> None:
    hist = _history(seed, sessions=60)
    assert {h.session.host for h in hist} == {"alice"}
    assert len({h.session.host_id for h in hist}) == 1
    starts = [h.start_ts for h in hist]
    assert starts == sorted(starts)
    assert dt.datetime.fromtimestamp(starts[0] / 1000, dt.UTC).date() == dt.date(2026, 1, 5)
    for a, b in itertools.pairwise(hist):  # never overlapping
        assert b.start_ts > a.session.ts[-1]
    gaps = [(b - a) / 86_400_000 for a, b in itertools.pairwise(starts)]
    assert 1.9 < statistics.mean(gaps) < 2.8  # 3 a week: 7/3 days apart on average
    assert min(gaps) > 0.5 and statistics.pstdev(gaps) > 0.3  # a day apart at least; irregular
    followers = [h.session.followers for h in hist]
    assert followers == sorted(followers) and followers[0] == 3000


def test_the_audience_is_the_creators() -> None:
    """Sessions vary around one audience size (the session spread), not a new creator each."""
    for seed in (3, 4):
        typical = [h.session.truth.typical_viewers for h in _history(seed, sessions=40)]
        spread = statistics.pstdev(math.log(v) for v in typical)
        assert 0.15 < spread < 0.45, spread  # the model's session sigma is 0.3
    sizes = [statistics.median(h.session.truth.typical_viewers for h in _history(s))
             for s in range(5, 11)]
    assert max(sizes) / min(sizes) > 1.5  # creators of one size differ (sigma 0.6)


@pytest.mark.parametrize("share", [0.0, 0.35, 0.7])
def test_regulars_return_and_gift_again(share: float) -> None:
    hist = _history(7, returning=share)
    seen: set[int] = set()
    back = total = 0
    for h in hist:
        gifters = _gifters(h)
        assert h.returning_gifters == len(gifters & seen)
        if seen:
            back += h.returning_gifters
            total += len(gifters)
        seen |= gifters
    got = back / total
    assert abs(got - share) < 0.08, (share, got)


def test_a_returning_viewer_keeps_their_name(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    with path.open("w") as f:
        for h in _history(8, sessions=6):
            h.session.write_jsonl(f)
    names: dict[str, set[tuple[str, str]]] = {}
    for line in path.read_text().splitlines():
        e = json.loads(line)
        if "user_id" in e:
            names.setdefault(e["user_id"], set()).add((e.get("user"), e.get("nickname")))
    assert all(len(v) == 1 for v in names.values())


def test_every_session_imports_to_its_truth(tmp_path: Path) -> None:
    hist = _history(9, sessions=8)
    path = tmp_path / "h.jsonl"
    with path.open("w") as f:
        for h in hist:
            h.session.write_jsonl(f)
    with Store.open(str(tmp_path / "h.duckdb")) as store:
        import_paths(store, [path])
        coins = dict(store.query("SELECT room_id, sum(coins) FROM credits GROUP BY 1"))
    assert coins == {h.session.room_id: h.session.truth.coins
                     for h in hist if h.session.truth.coins}


def test_the_cli_writes_a_history(cli: Run, tmp_path: Path) -> None:
    out, truth = tmp_path / "days", tmp_path / "t.json"
    r = cli("simulate", "--followers", "3,000", "--host", "@bob", "--sessions", "5",
            "--per-week", "2", "--start", "2026-03-02", "--minutes", "20", "--seed", "4",
            "--out", f"{out}/", "--truth", str(truth))
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == [f"sim-4-{i}.jsonl" for i in range(1, 6)]
    t = json.loads(truth.read_text())
    assert t["host"] == "bob" and len(t["sessions"]) == 5
    assert t["sessions"][0]["start"].startswith("2026-03-02")
    db = str(tmp_path / "d.duckdb")
    assert cli("import", "--db", db, *map(str, sorted(out.iterdir()))).code == 0
    listed = cli("sessions", "--db", db, "--json").json()
    assert {s["host"] for s in listed} == {"bob"} and len(listed) == 5
    assert cli("gifters", "--db", db, "--json").code == 0


@pytest.mark.parametrize("argv, message", [
    (["--sessions", "0"], "sessions must lie between 1 and 1,000"),
    (["--per-week", "0"], "sessions per week must be more than 0"),
    (["--returning", "1.5"], "returning share must lie between 0 and 1"),
    (["--start", "soon"], "--start: not a date YYYY-MM-DD"),
    (["--start", "2026-01-01", "--start-ts", "1"], "--start and --start-ts: give one"),
    (["--host", "x y"], "not a TikTok @unique_id"),
])
def test_history_options_are_checked(cli: Run, tmp_path: Path, argv: list[str],
                                     message: str) -> None:
    r = cli("simulate", "--followers", "1000", *argv, "--out", str(tmp_path / "x.jsonl"))
    assert r.code == 2 and message in r.err, r.err


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5_000), st.sets(st.integers(0, 5_000), max_size=40), st.data())
def test_the_free_viewer_numbers_are_those_of_the_listed_complement(
        seen: int, taken: set[int], data: st.DataObject) -> None:
    """_nth_free picks, without listing them, exactly the numbers indexing
    setdiff1d(arange(seen), taken) picks (a history of 200 sessions listed millions each
    session: quadratic; the draws, and so every seed's history, are unchanged)."""
    from liveworth.model.simulate_history import _nth_free

    gone = np.array(sorted(t for t in taken if t < seen), dtype=np.int64)
    free = np.setdiff1d(np.arange(seen), gone)
    if not free.size:
        return
    i = np.array(data.draw(st.lists(st.integers(0, free.size - 1), max_size=30)),
                 dtype=np.int64)
    assert np.array_equal(_nth_free(i, gone), free[i])

"""The per-session report's figures against brute force on hand-made sessions."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from liveworth.analysis.report import GAP_MS, session_report
from liveworth.decode.events import Comment, Event, Viewers
from liveworth.economy.ratecard import load_rate_card
from liveworth.store.database import Store, events_table

CARD = load_rate_card()
T0 = 1_700_000_000_000  # a whole minute of the clock


def _store(path: Path, times: list[int]) -> None:
    events: list[Event] = [
        Comment(room_id="r", msg_id=f"c{i}", ts=ts, user_id="u", user="u", nickname="u",
                text="hi") for i, ts in enumerate(times)]
    events += [Viewers(room_id="r", msg_id=f"v{i}", ts=ts, current=10 + i)
               for i, ts in enumerate(times[::3])]
    with Store.open(path) as store:
        store.insert_events(events_table(events))


def _gaps(times: list[int]) -> list[tuple[int, int]]:
    ts = sorted(times)
    return [(a, b) for a, b in pairwise(ts) if b - a > GAP_MS]


@pytest.mark.parametrize("times", [
    # exactly a minute apart (no gap), a millisecond more (a gap), across clock minutes
    [T0, T0 + GAP_MS, T0 + 2 * GAP_MS + 1, T0 + 2 * GAP_MS + 1],
    [T0 + 59_999, T0 + 120_000, T0 + 120_001, T0 + 300_000, T0 + 300_500],
    [T0 - 1, T0 + GAP_MS - 1, T0 + 10 * GAP_MS, T0 + 10 * GAP_MS + 1],
])
def test_gaps_are_every_stretch_longer_than_a_minute(tmp_path: Path, times: list[int]) -> None:
    _store(tmp_path / "g.duckdb", times)
    with Store.open(tmp_path / "g.duckdb", read_only=True) as store:
        rep = session_report(store, "r", CARD)
    got = [(g["from_ts"], g["to_ts"]) for f in rep.flags if f["flag"] == "gaps"
           for g in f["gaps"]]
    assert got == _gaps(times)


@pytest.mark.parametrize("seed", range(3))
def test_gaps_and_viewers_per_minute_on_random_sessions(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = rng.choice([0, 1_000, 59_999, 60_000, 60_001, 200_000], size=300,
                       p=[0.1, 0.5, 0.1, 0.1, 0.1, 0.1])
    times = (T0 + 12_345 + np.cumsum(steps)).tolist()
    _store(tmp_path / "g.duckdb", times)
    with Store.open(tmp_path / "g.duckdb", read_only=True) as store:
        rep = session_report(store, "r", CARD)
    got = [(g["from_ts"], g["to_ts"]) for f in rep.flags if f["flag"] == "gaps"
           for g in f["gaps"]]
    assert got == _gaps(times)[:100]
    per_minute: dict[int, list[int]] = {}
    for i, ts in enumerate(times[::3]):
        per_minute.setdefault((ts - rep.start_ts) // 60_000, []).append(10 + i)
    assert rep.viewers_per_minute == tuple(
        (m, sum(v) / len(v)) for m, v in sorted(per_minute.items()))
    assert rep.viewers_peak_per_minute == tuple(  # what the viewers chart draws
        (m, max(v)) for m, v in sorted(per_minute.items()))
    assert max(p for _, p in rep.viewers_peak_per_minute) == rep.peak_viewers
    assert rep.engagement["comments"] == len(times) and rep.events == len(times) + len(
        times[::3])

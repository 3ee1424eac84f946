"""The simulator writes event format v1 as TikTok sends it; its truth obeys the counting rules.

A tiny reference counter here applies DESIGN.md's counting rules to the simulated events; the
simulator's ground truth must agree with it exactly.
"""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.decode import events
from liveworth.errors import UsageError
from liveworth.model.generative import GiftMenu, ModelParams
from liveworth.model.simulate import SimulatedSession, simulate, simulate_session
from liveworth.store import ledger

from conftest import Result

Run = Callable[..., Result]
PRIOR = ModelParams.from_prior()
MENU = GiftMenu.from_catalogue()


# ---------------------------------------------------------------------------- reference counter


@dataclass
class Credited:
    """What the counting rules credit: coins confirmed and not, per gifter and per gift."""

    confirmed: int = 0
    unconfirmed: int = 0
    units: int = 0
    records: int = 0
    resends: int = 0
    missing: int = 0
    by_user: Counter[str] = field(default_factory=Counter)
    units_by_price: Counter[int] = field(default_factory=Counter)
    coins_by_price: Counter[int] = field(default_factory=Counter)

    @property
    def coins(self) -> int:
        return self.confirmed + self.unconfirmed

    def add(self, g: events.Gift, repeat: int, confirmed: bool) -> None:
        coins = g.coins * repeat
        if confirmed:
            self.confirmed += coins
        else:
            self.unconfirmed += coins
        self.units += repeat
        self.records += 1
        self.by_user[g.user_id] += coins
        self.units_by_price[g.coins] += repeat
        self.coins_by_price[g.coins] += coins


def credit(stream: Iterable[events.Event]) -> Credited:
    """DESIGN.md's counting rules, plainly: dedupe, one-shots at once, streaks once."""
    seen: set[tuple[str, str]] = set()
    gifts: list[events.Gift] = []
    for e in stream:
        if (e.room_id, e.msg_id) in seen:
            continue
        seen.add((e.room_id, e.msg_id))
        if isinstance(e, events.Gift):
            gifts.append(e)
    gifts.sort(key=lambda g: (g.ts, g.msg_id))
    out = Credited()
    streaks: dict[tuple[str, str, int, str], list[events.Gift]] = defaultdict(list)
    for g in gifts:
        if g.gift_type != 1:
            out.add(g, g.repeat_count, confirmed=True)
        else:
            streaks[(g.room_id, g.user_id, g.gift_id, g.group_id)].append(g)
    for frames in streaks.values():
        gaps = [b.ts - a.ts for a, b in itertools.pairwise(frames)]
        assert all(gap < 5 * 60_000 for gap in gaps), "a streak idles past the 5-minute rule"
        finals = [f for f in frames if f.repeat_end]
        if finals:
            out.add(finals[0], finals[0].repeat_count, confirmed=True)
            for again in finals[1:]:
                assert again.ts - finals[0].ts <= 60_000
                out.resends += 1
        else:
            out.add(frames[0], max(f.repeat_count for f in frames), confirmed=False)
            out.missing += 1
    return out


def _session(followers: int = 20_000, seed: int = 1, **kw: float) -> SimulatedSession:
    return simulate(PRIOR, followers=followers, rng=np.random.default_rng(seed), menu=MENU,
                    **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- format


def test_fast_writer_is_byte_for_byte_the_event_writer() -> None:
    s = _session(50_000, seed=3)
    fast, slow = io.StringIO(), io.StringIO()
    assert s.write_jsonl(fast) == len(s)
    events.write_jsonl(s.events(), slow)
    assert fast.getvalue() == slow.getvalue()
    parsed = list(events.read_jsonl(fast.getvalue().splitlines()))
    assert [events.dumps(e) for e in parsed] == fast.getvalue().splitlines()


def test_stream_is_ordered_unique_and_framed_by_start_and_end() -> None:
    evs = list(_session(seed=2).events())
    assert isinstance(evs[0], events.LiveStart) and evs[0].followers == 20_000
    assert isinstance(evs[-1], events.LiveEnd)
    ts = [e.ts for e in evs]
    assert ts == sorted(ts)
    assert len({e.msg_id for e in evs}) == len(evs)
    assert [e.msg_id for e in evs] == sorted(e.msg_id for e in evs)
    kinds = Counter(e.type for e in evs)
    for kind in ("viewers", "join", "comment", "like", "gift", "follow"):
        assert kinds[kind] > 0, kind


def test_streak_frames_are_cumulative_with_one_final_three_seconds_later() -> None:
    s = _session(100_000, seed=4)
    streaks: dict[str, list[events.Gift]] = defaultdict(list)
    for e in s.events():
        if isinstance(e, events.Gift) and e.gift_type == 1:
            streaks[e.group_id].append(e)
    assert streaks
    missing = resent = 0
    for frames in streaks.values():
        steps = [f for f in frames if not f.repeat_end]
        finals = [f for f in frames if f.repeat_end]
        assert [f.repeat_count for f in steps] == list(range(1, len(steps) + 1))
        assert len({(f.user_id, f.gift_id) for f in frames}) == 1
        assert all(f.coins <= 99 for f in frames)
        if not finals:
            missing += 1
            continue
        assert all(f.repeat_count == len(steps) for f in finals)
        assert 2_400 <= finals[0].ts - steps[-1].ts <= 3_600
        assert len({f.msg_id for f in frames}) == len(frames)
        resent += len(finals) - 1
        assert all(0 < f.ts - finals[0].ts <= 60_000 for f in finals[1:])
    assert missing == s.truth.missing_finals > 0
    assert resent == s.truth.resent_finals > 0
    assert s.truth.streaks == len(streaks)


def test_expensive_gifts_are_one_shot_frames() -> None:
    one_shots = [e for e in _session(200_000, seed=5).events()
                 if isinstance(e, events.Gift) and e.gift_type != 1]
    assert one_shots
    assert all(g.repeat_end and g.repeat_count == 1 and g.coins >= 99 for g in one_shots)


# ---------------------------------------------------------------------------- truth


@pytest.mark.parametrize(("followers", "seed"), [(2_000, 1), (50_000, 2), (300_000, 3)])
def test_truth_is_what_the_counting_rules_credit(followers: int, seed: int) -> None:
    s = _session(followers, seed=seed)
    evs = list(s.events())
    ref = credit(evs)
    t = s.truth
    assert (t.coins, t.coins_confirmed, t.coins_unconfirmed) == (ref.coins, ref.confirmed,
                                                                 ref.unconfirmed)
    assert t.gifts == ref.units and t.gift_events == ref.records
    assert t.missing_finals == ref.missing and t.resent_finals == ref.resends
    assert t.unique_gifters == len(ref.by_user)
    kinds = Counter(e.type for e in evs)
    assert (t.comments, t.joins, t.follows, t.shares) == (
        kinds["comment"], kinds["join"], kinds["follow"], kinds["share"])
    assert t.likes == sum(e.count for e in evs if isinstance(e, events.Like))
    assert t.viewers_peak == max(e.current for e in evs if isinstance(e, events.Viewers))
    assert t.events == len(evs)


def test_gift_totals_and_gifters_are_the_credited_gifts() -> None:
    s = _session(200_000, seed=8)
    ref = credit(s.events())
    rows = s.gift_totals()
    assert sum(r.total_coins for r in rows) == s.truth.coins
    assert sum(r.count for r in rows) == s.truth.gifts
    assert all(r.total_coins == r.count * r.coin_value for r in rows)
    assert [r.total_coins for r in rows] == sorted((r.total_coins for r in rows), reverse=True)
    by_price: Counter[int] = Counter()
    for r in rows:
        by_price[r.coin_value] += r.total_coins
    assert by_price == ref.coins_by_price
    assert s.gifter_coins().tolist() == sorted(ref.by_user.values(), reverse=True)


@pytest.mark.parametrize(("followers", "seed"), [(5_000, 1), (300_000, 2)])
def test_the_projects_ledger_credits_the_truth(followers: int, seed: int) -> None:
    s = _session(followers, seed=seed)
    credits = ledger.credit_events((e for e in s.events() if isinstance(e, events.Gift)),
                                   {s.room_id: s.host_id})
    assert sum(c.coins for c in credits if c.confirmed) == s.truth.coins_confirmed
    assert sum(c.coins for c in credits if not c.confirmed) == s.truth.coins_unconfirmed
    assert len(credits) == s.truth.gift_events


def test_truth_survives_shuffled_and_duplicated_input() -> None:
    evs = list(_session(30_000, seed=6).events())
    rng = np.random.default_rng(0)
    noisy = [evs[i] for i in rng.permutation(len(evs))] + evs[: len(evs) // 3]
    assert credit(noisy).coins == credit(evs).coins


@settings(max_examples=12, deadline=None)
@given(followers=st.integers(0, 100_000), minutes=st.floats(1, 90),
       engagement=st.floats(0.2, 3), seed=st.integers(0, 2**32))
def test_truth_matches_the_rules_for_any_session(followers: int, minutes: float,
                                                  engagement: float, seed: int) -> None:
    s = _session(followers, seed=seed, minutes=minutes, engagement=engagement)
    ref = credit(s.events())
    assert (s.truth.coins, s.truth.coins_unconfirmed) == (ref.coins, ref.unconfirmed)


def test_same_seed_same_session_and_other_seed_another() -> None:
    def text(seed: int) -> str:
        buf = io.StringIO()
        _session(10_000, seed=seed).write_jsonl(buf)
        return buf.getvalue()

    assert text(7) == text(7)
    assert text(7) != text(8)


def test_simulate_session_returns_events_and_truth() -> None:
    stream, truth = simulate_session(PRIOR, followers=5_000, minutes=30, engagement=1.0,
                                     rng=np.random.default_rng(1), room_id="r1",
                                     start_ts=1_600_000_000_000)
    evs = list(stream)
    assert {e.room_id for e in evs} == {"r1"}
    assert evs[0].ts == 1_600_000_000_000
    assert truth.coins == credit(evs).coins
    assert evs[-1].ts >= 1_600_000_000_000 + 30 * 60_000


def test_no_audience_means_no_gifts() -> None:
    s = _session(0, seed=1)
    assert s.truth.coins == 0 and s.truth.unique_viewers == 0
    assert {e.type for e in s.events()} <= {"live_start", "viewers", "live_end"}


def test_viewers_override_followers() -> None:
    s = _session(1_000, seed=1, viewers=2_000)
    assert 1_000 < s.truth.viewers_mean < 4_000


@pytest.mark.parametrize("kw", [{"followers": -1}, {"minutes": 0}, {"minutes": 2000},
                                {"engagement": 0}, {"viewers": -5}])
def test_bad_inputs_are_usage_errors(kw: dict[str, float]) -> None:
    args: dict[str, float] = {"followers": 100, **kw}
    with pytest.raises(UsageError):
        simulate(PRIOR, rng=np.random.default_rng(0), **args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- CLI


def test_cli_simulate_writes_events_and_truth(cli: Run, tmp_path: Path) -> None:
    out, truth = tmp_path / "s.jsonl", tmp_path / "t.json"
    r = cli("simulate", "--followers", "20000", "--minutes", "30", "--seed", "5",
            "--out", str(out), "--truth", str(truth))
    assert r.code == 0, r.err
    assert "coins credited" in r.out
    data = json.loads(truth.read_text())
    evs = list(events.read_jsonl(out.read_text().splitlines()))
    assert data["coins"] == credit(evs).coins and data["events"] == len(evs)
    assert data["seed"] == 5 and data["room_id"] == "sim-5"
    again = cli("simulate", "--followers", "20000", "--minutes", "30", "--seed", "5",
                "--out", str(tmp_path / "again.jsonl"), "--json")
    assert again.json()["coins"] == data["coins"]
    assert (tmp_path / "again.jsonl").read_text() == out.read_text()


def test_import_and_report_read_a_simulated_session_like_a_real_one(cli: Run,
                                                                   tmp_path: Path) -> None:
    out, truth = tmp_path / "s.jsonl", tmp_path / "t.json"
    assert cli("simulate", "--followers", "300000", "--seed", "2", "--out", str(out),
               "--truth", str(truth)).code == 0
    imported = cli("import", str(out))
    assert imported.code == 0, imported.err
    report = cli("report", "sim-2", "--json")
    assert report.code == 0, report.err
    got, want = report.json(), json.loads(truth.read_text())
    for key in ("coins", "coins_confirmed", "coins_unconfirmed", "unique_gifters"):
        assert got[key] == want[key], key


def test_cli_simulate_to_stdout(cli: Run) -> None:
    r = cli("simulate", "--followers", "3000", "--minutes", "5", "--seed", "1", "--out", "-")
    assert r.code == 0
    lines = r.out.splitlines()
    assert json.loads(lines[0])["type"] == "live_start"
    assert json.loads(lines[-1])["type"] == "live_end"


@pytest.mark.parametrize("argv", [
    ("simulate", "--followers", "many", "--out", "x.jsonl"),
    ("simulate", "--followers", "10", "--minutes", "-3", "--out", "x.jsonl"),
    ("simulate", "--followers", "10", "--engagement", "wild", "--out", "x.jsonl"),
    ("simulate", "--followers", "10", "--out", "/no/such/dir/x.jsonl"),
    ("simulate", "--followers", "10"),
])
def test_cli_simulate_bad_input_is_one_line(cli: Run, argv: tuple[str, ...]) -> None:
    r = cli(*argv)
    assert r.code == 2
    assert r.err.count("\n") == 1 and "Traceback" not in r.err

"""The counting rules (DESIGN.md 1–6), on synthetic frames and on real streak frames."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.decode.events import Event, Gift, LiveStart
from liveworth.decode.rawsources import RawMessage, decode_raw, iter_dump
from liveworth.store import database as store_module
from liveworth.store import ledger
from liveworth.store.database import Store
from liveworth.store.ledger import (
    CREDIT_SCHEMA,
    RESEND_WINDOW_MS,
    STREAK_IDLE_MS,
    Credit,
    credit_events,
    credit_frames,
    sort_key,
)

from conftest import DUMPS

HOST = "host-1"


def gift(msg: str, ts: int, rc: int, end: bool, *, user: str = "u1", gift_id: int = 5655,
         coins: int = 1, gtype: int = 1, group: str = "g1", to: str | None = None,
         room: str = "r1") -> Gift:
    return Gift(room_id=room, ts=ts, msg_id=msg, user_id=user, user=user, nickname=user,
                gift_id=gift_id, gift_name="Rose", coins=coins, gift_type=gtype,
                repeat_count=rc, repeat_end=end, group_id=group, to_user_id=to)


def credited(gifts: list[Gift], host: str | None = HOST) -> list[Credit]:
    return credit_events(gifts, {"r1": host})


def total(credits: list[Credit]) -> tuple[int, int]:
    """(confirmed coins, unconfirmed coins)."""
    return (sum(c.coins for c in credits if c.confirmed),
            sum(c.coins for c in credits if not c.confirmed))


def test_streak_is_credited_once_at_its_final() -> None:
    frames = [gift(f"m{i}", 1000 * i, i, False) for i in range(1, 6)]
    frames.append(gift("final", 8000, 5, True))
    cr = credited(frames)
    assert len(cr) == 1
    assert cr[0].coins == 5 and cr[0].confirmed and cr[0].closed_by == "final"
    assert cr[0].frames == 6


def test_one_shot_gift_is_credited_on_arrival() -> None:
    cr = credited([gift("lion", 1, 1, True, gift_id=6369, coins=29999, gtype=2, group="")])
    assert total(cr) == (29999, 0)


def test_one_shot_gift_with_repeat_count() -> None:
    cr = credited([gift("x", 1, 3, False, coins=100, gtype=2)])
    assert total(cr) == (300, 0)


def test_resent_final_within_60s_is_not_credited() -> None:
    frames = [gift("a", 0, 1, False), gift("b", 1000, 2, False), gift("f1", 4000, 2, True),
              gift("f2", 4000 + RESEND_WINDOW_MS, 2, True)]
    assert total(credited(frames)) == (2, 0)


def test_final_after_the_resend_window_is_a_new_gift() -> None:
    frames = [gift("f1", 0, 2, True), gift("f2", RESEND_WINDOW_MS + 1, 3, True)]
    assert total(credited(frames)) == (5, 0)


def test_missing_final_closes_unconfirmed_at_highest_count() -> None:
    frames = [gift("a", 0, 1, False), gift("b", 500, 3, False), gift("c", 900, 2, False)]
    cr = credited(frames)
    assert total(cr) == (0, 3)
    assert cr[0].closed_by == "end"


def test_idle_streak_closes_after_five_minutes() -> None:
    frames = [gift("a", 0, 4, False), gift("b", STREAK_IDLE_MS + 1, 1, False),
              gift("c", STREAK_IDLE_MS + 2000, 2, True)]
    cr = credited(frames)
    assert total(cr) == (2, 4)
    assert [c.closed_by for c in cr] == ["idle", "final"]


def test_frames_within_five_minutes_stay_one_streak() -> None:
    frames = [gift("a", 0, 4, False), gift("b", STREAK_IDLE_MS, 5, False),
              gift("c", STREAK_IDLE_MS + 10, 5, True)]
    assert total(credited(frames)) == (5, 0)


def test_late_step_of_a_closed_streak_is_ignored() -> None:
    frames = [gift("a", 0, 1, False), gift("f", 3000, 2, True), gift("late", 3500, 2, False)]
    assert total(credited(frames)) == (2, 0)


def test_replayed_message_is_counted_once() -> None:
    frames = [gift("a", 0, 1, False), gift("f", 3000, 2, True), gift("f", 3000, 2, True)]
    assert total(credited(frames)) == (2, 0)


def test_streaks_are_keyed_by_user_gift_and_group() -> None:
    frames = [gift("a", 0, 2, True, user="u1"), gift("b", 0, 3, True, user="u2"),
              gift("c", 0, 4, True, group="g2"), gift("d", 0, 1, True, gift_id=5479)]
    assert total(credited(frames)) == (10, 0)


def test_guest_gifts_are_apart() -> None:
    cr = credited([gift("a", 0, 1, True, to=HOST), gift("b", 0, 5, True, to="guest", group="x")])
    assert [(c.coins, c.guest) for c in cr] == [(1, False), (5, True)]
    # Unknown host: nothing can be called a guest's.
    assert not any(c.guest for c in credited([gift("b", 0, 5, True, to="guest")], None))


frame_st = st.tuples(
    st.integers(0, 3),  # user
    st.integers(0, 1),  # group
    st.integers(0, 20 * 60_000),  # ts
    st.integers(1, 50),  # repeat count
    st.booleans(),  # final
)


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(frame_st, max_size=40), seed=st.integers(0, 2**32))
def test_result_does_not_depend_on_input_order(
    specs: list[tuple[int, int, int, int, bool]], seed: int
) -> None:
    frames = [gift(f"m{i}", ts, rc, end, user=f"u{u}", group=f"g{g}")
              for i, (u, g, ts, rc, end) in enumerate(specs)]
    shuffled = frames[:]
    random.Random(seed).shuffle(shuffled)
    doubled = frames + frames[: len(frames) // 2]
    assert credited(frames) == credited(shuffled) == credited(doubled)
    confirmed, unconfirmed = total(credited(frames))
    # Never more than summing every frame (the classic double count), never negative.
    assert 0 <= confirmed + unconfirmed <= sum(f.repeat_count for f in frames)


# ------------------------------------------------------------------ recompute (SQL) == the fold

Row = tuple[Any, ...]


def stored_credits(events: Sequence[Event], nulls: Iterable[tuple[int, str]] = ()
                   ) -> tuple[list[Row], dict[str, str | None]]:
    """``recompute`` over ``events`` in a real store: the credits table (rows sorted) and the
    hosts it saw. ``nulls`` lists (event index, column) stored as NULL (beyond the format)."""
    table = store_module.events_table(events)
    for i, column in nulls:
        values = table.column(column).to_pylist()
        values[i] = None
        table = table.set_column(table.schema.get_field_index(column), column,
                                 pa.array(values, table.schema.field(column).type))
    store = scratch_store()
    store.query("DELETE FROM events")
    store.query("DELETE FROM credits")
    store.insert_events(table)
    rooms = store.rooms()
    hosts = ledger.host_ids(store.con, rooms)
    made = ledger.recompute(store.con, rooms)
    rows = store.query(f"SELECT {', '.join(CREDIT_SCHEMA.names)} FROM credits")
    assert made == len(rows)
    return sorted(rows, key=repr), hosts


@cache
def scratch_store() -> Store:
    """One in-memory store for the tests below (emptied by each use)."""
    return Store.open(":memory:")


def as_rows(credits: Iterable[Credit]) -> list[Row]:
    return sorted((tuple(getattr(c, n) for n in CREDIT_SCHEMA.names) for c in credits), key=repr)


# Event times around the boundaries that matter: ties, the resend window, the idle gap.
ANCHORS = (0, 1_000, 2_000, RESEND_WINDOW_MS, RESEND_WINDOW_MS + 1_500, STREAK_IDLE_MS,
           STREAK_IDLE_MS + 1, STREAK_IDLE_MS + 3_000, 2 * STREAK_IDLE_MS + 5)

event_st = st.tuples(
    st.sampled_from(["r1", "r2"]),  # room (r1 has a live_start naming its host)
    st.sampled_from(["u1", "u2", ""]),  # user
    st.sampled_from(["g1", "g2", ""]),  # group
    st.sampled_from([5655, 5479]),  # gift
    st.tuples(st.sampled_from(ANCHORS), st.integers(0, 2)).map(sum),  # ts
    st.integers(1, 5),  # repeat count
    st.booleans(),  # final
    st.sampled_from([1, 1, 1, 1, 2, 4]),  # gift type
    st.sampled_from([None, "", "0", "h", "guest"]),  # recipient
    st.integers(0, 3),  # coins
)
Spec = tuple[str, str, str, int, int, int, bool, int, str | None, int]


def build_events(specs: Sequence[Spec], order: Sequence[int]) -> list[Event]:
    """Gift events from specs, message ids numbered by ``order`` (so that ties in ``ts`` are
    broken by ids unrelated to the input order), and the start of room r1."""
    events: list[Event] = [LiveStart(room_id="r1", ts=0, msg_id="start", host_id="h", host="h")]
    for n, (room, user, group, gift_id, ts, rc, end, gtype, to, coins) in zip(
            order, specs, strict=True):
        events.append(Gift(room_id=room, ts=ts, msg_id=f"m{n}", user_id=user, user=f"@{user}",
                           nickname=f"N{n}", gift_id=gift_id, gift_name=f"G{gift_id}",
                           coins=coins, gift_type=gtype, repeat_count=rc, repeat_end=end,
                           group_id=group, to_user_id=to))
    return events


@settings(max_examples=120, deadline=None)
@given(specs=st.lists(event_st, max_size=40), seed=st.integers(0, 2**32))
def test_recompute_gives_exactly_the_folds_credits(specs: list[Spec], seed: int) -> None:
    order = list(range(len(specs)))
    random.Random(seed).shuffle(order)
    events = build_events(specs, order)
    rows, hosts = stored_credits(events)
    assert rows == as_rows(credit_events([e for e in events if isinstance(e, Gift)], hosts))


@settings(max_examples=40, deadline=None)
@given(specs=st.lists(event_st, max_size=30),
       nulls=st.lists(st.tuples(st.integers(0, 29), st.sampled_from(["user_id", "group_id"]))))
def test_recompute_handles_null_keys_like_the_fold(
    specs: list[Spec], nulls: list[tuple[int, str]]
) -> None:
    """NULL user or group ids (not in the format, but the table allows them) stay consistent."""
    events = build_events(specs, range(len(specs)))
    nulls = [(i + 1, c) for i, c in nulls if i < len(specs)]  # + 1: the live_start comes first
    frames = [ledger.frame_of(e) for e in events if isinstance(e, Gift)]
    for i, column in nulls:
        f = list(frames[i - 1])
        f[ledger.FRAME_COLUMNS.index(column)] = None
        frames[i - 1] = tuple(f)
    rows, hosts = stored_credits(events, nulls)
    assert rows == as_rows(credit_frames(sorted(frames, key=sort_key), hosts))


@pytest.fixture
def folded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The msg_ids of the frames ``recompute`` hands to the Python fold."""
    seen: list[str] = []
    real = ledger.iter_credits

    def spy(frames: Iterable[ledger.Frame], host_ids: dict[str, str | None]
            ) -> Iterator[list[Credit]]:
        def watched() -> Iterator[ledger.Frame]:
            for f in frames:
                seen.append(f[1])
                yield f
        return real(watched(), host_ids)

    monkeypatch.setattr(ledger, "iter_credits", spy)
    return seen


def check(gifts: list[Gift], folded: list[str]) -> tuple[list[Row], list[str]]:
    """``recompute`` over ``gifts`` (room r1, hosted by HOST) equals the fold; returns the credits
    and the msg_ids that recompute handed to the fold."""
    start = LiveStart(room_id="r1", ts=0, msg_id="start", host_id=HOST, host=HOST)
    rows, _ = stored_credits([start, *gifts])
    by_recompute = sorted(folded)
    assert rows == as_rows(credited(gifts))
    return rows, by_recompute


@pytest.mark.parametrize("name, frames", [
    ("two finals", [gift("a", 0, 1, False), gift("f1", 1000, 2, True),
                    gift("f2", 2000, 2, True), gift("f3", 2000 + RESEND_WINDOW_MS, 3, True)]),
    ("idle gap", [gift("a", 0, 4, False), gift("b", STREAK_IDLE_MS + 1, 1, False),
                  gift("c", STREAK_IDLE_MS + 2000, 2, True)]),
    ("long but never idle", [gift(f"m{i}", i * STREAK_IDLE_MS // 2, i + 1, False)
                             for i in range(4)]),
    ("final tied with a step", [gift("a", 0, 1, False), gift("z", 1000, 2, False),
                                gift("f", 1000, 2, True)]),
    ("late step", [gift("a", 0, 1, False), gift("f", 3000, 2, True),
                   gift("late", 3500, 2, False)]),
    ("empty group", [gift("a", 0, 1, False, group=""), gift("f", 10, 1, True, group="")]),
])
def test_hard_streak_keys_go_through_the_fold(
    name: str, frames: list[Gift], folded: list[str]
) -> None:
    _, by_fold = check(frames, folded)
    assert by_fold == sorted(f.msg_id for f in frames), name


def test_simple_streak_keys_are_credited_in_sql(folded: list[str]) -> None:
    frames = [
        # A streak and its final; the last step ties another step (ids break the tie).
        gift("s1", 0, 1, False), gift("s3", 500, 3, False), gift("s2", 500, 2, False),
        gift("sf", 900, 3, True, to="guest"),
        # No final: the last frame (by ts, then msg_id) credits the highest count.
        gift("n1", 0, 4, False, group="g2", to="guest"),
        gift("n3", 1000, 2, False, group="g2"),
        gift("n2", 2000, 1, False, group="g2"), gift("n4", 2000, 3, False, group="g2"),
        # A span of exactly the idle limit is still one streak.
        gift("i1", 0, 1, False, group="g3"), gift("i2", STREAK_IDLE_MS, 2, False, group="g3"),
        gift("one", 5, 3, True, gtype=2, coins=7, to="guest", group=""),
    ]
    rows, by_fold = check(frames, folded)
    assert by_fold == []
    by_msg = {r[1]: dict(zip(CREDIT_SCHEMA.names, r, strict=True)) for r in rows}
    assert set(by_msg) == {"sf", "n4", "i2", "one"}
    assert by_msg["sf"]["repeat_count"] == 3 and by_msg["sf"]["frames"] == 4
    assert by_msg["sf"]["guest"] and by_msg["sf"]["closed_by"] == "final"
    assert by_msg["n4"]["repeat_count"] == 4 and not by_msg["n4"]["confirmed"]
    assert by_msg["n4"]["closed_by"] == "end" and not by_msg["n4"]["guest"]
    assert by_msg["one"]["coins"] == 21 and by_msg["one"]["closed_by"] == "one-shot"


# ------------------------------------------------------------------ real streak frames


def _real_gifts() -> list[Gift]:
    out: list[Gift] = []
    for path in sorted(DUMPS.glob("*.json.gz")):
        for item in iter_dump(path):
            if isinstance(item, RawMessage) and item.method == "WebcastGiftMessage":
                out.extend(e for e in decode_raw(item) if isinstance(e, Gift))
    return out


@pytest.fixture(scope="module")
def real_gifts() -> list[Gift]:
    return _real_gifts()


def test_real_streaks_are_not_double_counted(real_gifts: list[Gift]) -> None:
    rooms = {g.room_id for g in real_gifts}
    credits = credit_events(real_gifts, dict.fromkeys(rooms))
    naive = sum(g.coins * g.repeat_count for g in {(g.room_id, g.msg_id): g
                                                   for g in real_gifts}.values())
    counted = sum(c.coins for c in credits)
    assert 0 < counted < naive  # summing frames double counts cumulative streaks
    streak_keys = {(g.room_id, g.user_id, g.gift_id, g.group_id)
                   for g in real_gifts if g.gift_type == 1}
    streak_credits = [c for c in credits if c.closed_by != "one-shot"]
    # One credit per streak key unless the key idled or was re-used after a final.
    assert len(streak_credits) >= len(streak_keys) * 0.9


def test_a_real_streak_credits_its_final_count(real_gifts: list[Gift]) -> None:
    finals = [g for g in real_gifts if g.gift_type == 1 and g.repeat_end]
    assert finals, "the real dumps hold streak finals"
    f = finals[0]
    same = [g for g in real_gifts if (g.room_id, g.user_id, g.gift_id, g.group_id)
            == (f.room_id, f.user_id, f.gift_id, f.group_id)]
    credits = credit_events(same, {f.room_id: None})
    finals_credit = [c for c in credits if c.closed_by == "final"]
    assert finals_credit[0].coins == f.coins * f.repeat_count


# ------------------------------------------------------------------ live: incremental == full


@settings(max_examples=120, deadline=None)
@given(specs=st.lists(event_st, max_size=40), seed=st.integers(0, 2**32),
       cuts=st.lists(st.integers(0, 41), max_size=6), repeats=st.lists(st.integers(0, 40)))
def test_live_ledger_updates_give_exactly_the_full_recompute(
    specs: list[Spec], seed: int, cuts: list[int], repeats: list[int]
) -> None:
    """Events stored batch by batch (in any order, some sent again), the live ledger updated
    after each batch: its credits are those of one full recompute, after every batch."""
    rng = random.Random(seed)
    order = list(range(len(specs)))
    rng.shuffle(order)
    events = build_events(specs, order)
    rng.shuffle(events)  # the host's live_start may come late: the host changes midway
    events += [events[i] for i in repeats if i < len(events)]
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    store = scratch_store()
    store.query("DELETE FROM events")
    store.query("DELETE FROM credits")
    live = ledger.LiveLedger()
    columns = ", ".join(CREDIT_SCHEMA.names)
    for a, b in itertools.pairwise(bounds):
        batch = events[a:b]
        store.insert_events(store_module.events_table(batch))
        if a % 2:
            live.note(e for e in batch if isinstance(e, Gift))
        else:
            live.note_table(store_module.events_table(batch))
        live.update(store.con, store.rooms())
        incremental = sorted(store.query(f"SELECT {columns} FROM credits"), key=repr)
        ledger.recompute(store.con, store.rooms())
        full = sorted(store.query(f"SELECT {columns} FROM credits"), key=repr)
        assert incremental == full


def test_live_ledger_recomputes_only_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    start = LiveStart(room_id="r1", ts=0, msg_id="start", host_id=HOST, host=HOST)
    first = [gift(f"a{i}", 1000 * i, i, False) for i in range(1, 4)]
    store = scratch_store()
    store.query("DELETE FROM events")
    store.query("DELETE FROM credits")
    live = ledger.LiveLedger()
    whole: list[list[str]] = []
    real = ledger.recompute
    monkeypatch.setattr(ledger, "recompute", lambda con, rooms, hosts=None: (
        whole.append(list(rooms)), real(con, rooms, hosts))[1])
    for batch in ([start, *first], [gift("f", 5000, 4, True), gift("o", 6000, 1, False, gtype=2)]):
        store.insert_events(store_module.events_table(batch))
        live.note(e for e in batch if isinstance(e, Gift))
        live.update(store.con, ["r1"])
    assert whole == [["r1"], []]  # new room: whole; then only the touched parts
    rows = store.query("SELECT msg_id, coins, closed_by FROM credits ORDER BY msg_id")
    assert rows == [("f", 4, "final"), ("o", 1, "one-shot")]

"""The leaderboard's names: each gifter is shown with the names of their last gift among the
credits counted — the latest by (ts, room, message), whatever the rooms and the ties — checked
against a plain Python pick, with and without a limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveworth.analysis.gifters import leaderboard
from liveworth.economy.ratecard import load_rate_card
from liveworth.ingest.importer import import_paths
from liveworth.store.database import Store

CARD = load_rate_card()
GIFT = {"v": 1, "type": "gift", "gift_id": 5655, "gift_name": "Rose", "gift_type": 2,
        "repeat_count": 1, "repeat_end": True, "group_id": "g"}

gifts = st.lists(st.tuples(
    st.sampled_from(["r1", "r2", "r3"]),  # room
    st.integers(0, 3),  # ts: few values, so that ties across rooms and within one are common
    st.sampled_from(["1", "2", "3", "10"]),  # user id (an import refuses a gift without one)
    st.sampled_from(["ann", "bo", "ça", ""]),  # the name at that gift
    st.integers(1, 50)), min_size=1, max_size=40)


def _store(tmp: Path, rows: list[tuple[str, int, str, str, int]]) -> Store:
    lines = []
    for i, (room, ts, user_id, name, coins) in enumerate(rows):
        obj: dict[str, Any] = {**GIFT, "room_id": room, "ts": 1_700_000_000_000 + ts,
                               "msg_id": f"m{i:03d}", "coins": coins, "user_id": user_id,
                               "user": name, "nickname": name.upper()}
        lines.append(json.dumps(obj))
    path = tmp / "g.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = tmp / "g.duckdb"
    db.unlink(missing_ok=True)
    store = Store.open(str(db))
    import_paths(store, [path])
    return store


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=gifts, limit=st.sampled_from([None, 1, 2]))
def test_each_gifter_has_the_names_of_their_last_gift(tmp_path: Path, rows: list[Any],
                                                      limit: int | None) -> None:
    with _store(tmp_path, rows) as store:
        got = leaderboard(store, CARD, ["r1", "r2", "r3"], limit)
    last: dict[str, tuple[tuple[int, str, str], str]] = {}
    coins: dict[str, int] = {}
    for i, (room, ts, user_id, name, c) in enumerate(rows):
        key = (ts, room, f"m{i:03d}")
        if user_id not in last or key > last[user_id][0]:
            last[user_id] = (key, name)
        coins[user_id] = coins.get(user_id, 0) + c
    order = sorted(coins, key=lambda u: (-coins[u], u))
    want = order if limit is None else order[:limit]
    assert [g.user_id for g in got] == want
    assert [(g.user, g.nickname) for g in got] == [
        (last[u][1], last[u][1].upper()) for u in want]
    assert [g.coins for g in got] == [coins[u] for u in want]

"""The live page's Scaled LIVE rewards progress (preset ``us-scaled``) in a real headless Chromium:
the line is there when the page loads and follows follows and minutes recorded during the test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveworth.economy.ratecard import load_rate_card
from liveworth.web import create_app
from test_web_browser import Server, Watched, browser, page  # noqa: F401 (fixtures)
from websupport import build_db, live_start_events, record

MIN = 60_000


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    db = build_db(Path(tmp_path_factory.mktemp("missions")) / "m.duckdb", real=False)
    with Server(create_app(db, card=load_rate_card("us-scaled"), stream_lifetime_s=60)) as s:
        yield s, db


def _follow(room: str, i: int, ts: int) -> dict[str, object]:
    return {"v": 1, "type": "follow", "room_id": room, "msg_id": f"f{i}", "ts": ts,
            "user_id": f"fan{i}", "user": f"<i>fan{i}</i>", "nickname": "f"}


def test_the_live_page_follows_the_missions(scaled: tuple[Server, str],
                                            page: Watched) -> None:  # noqa: F811
    server, db = scaled
    room, host, t0 = "room-missions", "host_missions", int(time.time() * 1000) - 18 * MIN
    record(db, [*live_start_events(room, host, t0), *(_follow(room, i, t0 + 1000 * i)
                                                       for i in range(3)),
                {"v": 1, "type": "comment", "room_id": room, "msg_id": "c18",
                 "ts": t0 + 18 * MIN, "user_id": "u", "user": "u", "nickname": "u",
                 "text": "hi"}])
    page.goto(f"{server.url}/live/{host}")
    assert page.text('[data-field="missions"]') == \
        "LIVE for 18 min: 7 more for the 38 % rate; 3 of 5 new followers"
    assert page.text('[data-field="reward_rate"]') == "30 %"
    assert page.text('[data-field="creator_usd"]') == "$0.02"  # 5 coins × $0.01 × 0.30
    page.wait_streaming()
    record(db, [_follow(room, 3, t0 + 20 * MIN), _follow(room, 4, t0 + 25 * MIN)])
    page.wait_text('[data-field="missions"]',
                   "LIVE for 25 min: the 38 % rate reached; 5 of 5 new followers: +2 %")
    assert page.text('[data-field="reward_rate"]') == "40 %"
    page.shot("live-missions", full_page=True)

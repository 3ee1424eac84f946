"""The web session page's LIVE subscriptions in a real headless Chromium (as
tests/test_web_browser.py drives it): shown apart from gifts, the parts adding up, no console
error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from liveworth.web import create_app
from test_web_browser import Server, Watched, browser  # noqa: F401 (a fixture)
from test_web_browser import page as page_fixture  # noqa: F401 (the fixture "page")

T = 1_762_000_000_000  # 2025-11-01


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from liveworth.ingest.importer import import_paths
    from liveworth.store.database import Store

    base = {"v": 1, "room_id": "s1", "ts": T, "user_id": "9", "user": "u9", "nickname": "N"}
    lines = [{**base, "type": "live_start", "msg_id": "0", "host_id": "1", "host": "subhost"},
             {**base, "type": "gift", "msg_id": "g", "gift_id": 5655, "gift_name": "Rose",
              "coins": 1000, "gift_type": 4, "repeat_count": 1, "repeat_end": True,
              "group_id": "0"},
             {**base, "type": "subscribe", "msg_id": "a", "months": 1, "price_usd": "9.99"},
             {**base, "type": "subscribe", "msg_id": "b", "months": 2}]
    folder = tmp_path_factory.mktemp("subs")
    src = folder / "s.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    path = str(folder / "s.duckdb")
    with Store.open(path) as store:
        import_paths(store, [src])
    return path


@pytest.fixture(scope="module")
def server(db: str) -> Iterator[Server]:
    with Server(create_app(db)) as s:
        yield s


def test_the_session_page_shows_subscriptions_apart(server: Server,
                                                    request: pytest.FixtureRequest) -> None:
    page: Watched = request.getfixturevalue("page_fixture")  # test_web_browser's watched page
    assert page.goto(server.url + "/sessions/s1").status == 200
    line = page.text("[data-testid=subscriptions]")
    assert line.startswith("gifts: creator $5.00; subscriptions: creator $5.24 (2 paid $14.98; "
                           "estimated from the rate card's $4.99 price (1 of 2")
    assert line.endswith("; total $10.24")
    cells = page.page.locator("table.subscriptions td.n").all_text_contents()
    assert cells == ["$14.98", "$5.24", "$5.25", "$4.49"]  # viewers = creator + TikTok + store
    page.shot("session-subscriptions", full_page=True)

"""The sessions list in a real headless Chromium (issue 18, item 3): the filter form submitted as a
person would (no script on the page), a column header sorting, the next page keeping the filters,
the empty sessions shown on request and the CSV link's answer — with no console error (a CSP
violation is one) and no dialog."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from collections.abc import Iterator

import pytest

import test_web_browser
from listsupport import add_simulated
from liveworth.web import create_app
from test_web_browser import CHROMIUM, Server, Watched
from websupport import build_db

assert CHROMIUM.exists()


#: The browser and its watched page (console errors and dialogs fail the test) are shared.
browser, page = test_web_browser.browser, test_web_browser.page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("lists-browser")
    db = build_db(work / "lb.duckdb")
    add_simulated(db, work)
    with Server(create_app(db)) as s:
        yield s


def hosts(page: Watched) -> list[str]:
    return [str(c.text_content()) for c in
            page.page.locator("table.sessions tbody tr td:nth-child(2)").all()]


def test_filter_sort_page_and_download(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/sessions")
    form = page.page.locator('form[data-testid="session-filter"]')
    form.locator('input[name="host"]').fill("@SIM_ALPHA")
    form.locator('input[name="since"]').fill("2024-03-01")
    form.locator('input[name="all"]').check()
    with page.page.expect_navigation():
        form.locator('button[type="submit"]').click()
    page.page.wait_for_load_state("load")
    assert "host=%40SIM_ALPHA" in page.page.url and "all=true" in page.page.url
    assert set(hosts(page)) == {"sim_alpha"} and len(hosts(page)) == 9  # 6 + 3 empty
    with page.page.expect_navigation():
        page.page.locator('[data-testid="sort-coins"]').click()
    assert "sort=-coins" in page.page.url and "host=" in page.page.url
    coins = [int(re.sub(r"\D", "", str(c.text_content()).split("(")[0]) or 0) for c in
             page.page.locator("table.sessions tbody tr td:nth-child(5)").all()]
    assert coins == sorted(coins, reverse=True)
    page.shot("sessions-filtered")
    link = page.page.locator('[data-testid="csv-link"]').get_attribute("href")
    assert link is not None
    with urllib.request.urlopen(server.url + link, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8"), newline="")))
    assert [x["host"] for x in rows] == hosts(page)


def test_next_page_keeps_the_filters_and_empty_ones_on_request(server: Server,
                                                               page: Watched) -> None:
    page.goto(f"{server.url}/sessions?limit=5&sort=host")
    shown = page.text('[data-testid="showing"]')
    assert shown.startswith("Showing 1–5 of ")
    with page.page.expect_navigation():
        page.page.locator('[data-testid="next"]').click()
    assert "limit=5" in page.page.url and "sort=host" in page.page.url
    assert page.text('[data-testid="showing"]').startswith("Showing 6–10 of ")
    hidden = page.text('[data-testid="hidden-empty"]')
    assert "empty sessions (under a minute with no gift) hidden" in hidden
    with page.page.expect_navigation():
        page.page.locator('[data-testid="show-empty"]').click()
    assert "all=true" in page.page.url and "sort=host" in page.page.url
    assert page.page.locator('[data-testid="empty-shown"]').count() == 1

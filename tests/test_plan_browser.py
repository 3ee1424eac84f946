"""The plan form and the estimate's what-if form in a real headless Chromium (issue 18, item 5):
filled in and submitted as a person would (no script on either page), each shows its result,
with no console error (a CSP violation is one) and no dialog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import test_web_browser
from liveworth.web import create_app
from test_web_browser import CHROMIUM, Server, Watched
from websupport import STEADY_HOST, build_db

assert CHROMIUM.exists()


#: The browser and its watched page (console errors and dialogs fail the test) are shared.
browser, page = test_web_browser.browser, test_web_browser.page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = build_db(tmp_path_factory.mktemp("plan-browser") / "pb.duckdb")
    with Server(create_app(db)) as s:
        yield s


def test_the_plan_form_submits_and_shows_the_levers(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/plan")
    form = page.page.locator('form[data-testid="plan-form"]')
    form.locator('input[name="target_usd_month"]').fill("2,000")
    form.locator('input[name="followers"]').fill("5000")
    form.locator('input[name="minutes"]').fill("90")
    form.locator('select[name="preset"]').select_option("us-scaled")
    form.locator('select[name="channel"]').select_option("ios")
    with page.page.expect_navigation():
        form.locator('button[type="submit"]').click()
    page.page.wait_for_load_state("load")
    assert "/plan?" in page.page.url and "preset=us-scaled" in page.page.url
    summary = page.text('[data-testid="plan-summary"]')
    assert "odds of $2,000.00 a month" in summary
    assert page.page.locator('[data-testid="plan-result"] table tbody tr').count() == 4
    assert "us-scaled" in page.text('[data-testid="plan-result"] p.sub')
    page.shot("plan")


def test_the_estimate_what_if_form_shows_each_case(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/estimate")
    form = page.page.locator('form[data-testid="estimate-form"]')
    form.locator('input[name="followers"]').fill("5000")
    form.locator('input[data-testid="what-if-0"]').fill("minutes=120")
    form.locator('input[data-testid="what-if-1"]').fill("per-week=5")
    with page.page.expect_navigation():
        form.locator('button[type="submit"]').click()
    page.page.wait_for_load_state("load")
    rows = page.page.locator('table[data-testid="what-if"] tbody tr')
    assert rows.count() == 4  # as now, each change, both together
    assert rows.nth(0).locator("td").first.text_content() == "as now"
    assert rows.nth(3).locator("td").first.text_content() == "minutes=120, per-week=5"
    assert "%" in str(rows.nth(1).locator("td").nth(2).text_content())
    page.shot("estimate-what-if")


def test_the_estimate_from_history_names_its_sessions(server: Server, page: Watched) -> None:
    page.goto(f"{server.url}/estimate")
    form = page.page.locator('form[data-testid="estimate-form"]')
    form.locator('input[data-testid="from-history"]').check()
    form.locator('select[data-testid="host-picker"]').select_option(STEADY_HOST)
    with page.page.expect_navigation():
        form.locator('button[type="submit"]').click()
    page.page.wait_for_load_state("load")
    assert "Calibrated to 12 recorded sessions" in page.text('[data-testid="calibrated"]')

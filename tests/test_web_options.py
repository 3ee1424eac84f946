"""The rate-card preset and coin channel as page options (issue 18, item 5): every money page
takes ``?preset=`` and ``?channel=`` where its command has ``--preset`` and ``--channel``, offers
them as a GET form listing the rate card's presets and channels, carries them in its JSON-twin
link, and answers what the CLI answers for a non-default preset and channel; answers are
remembered per preset and channel (the default stays the default)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from liveworth.economy.money import usd
from liveworth.economy.ratecard import load_rate_card, preset_help
from liveworth.web import create_app
from websupport import HOSTILE, REAL_ROOM, STEADY_HOST, build_db

from conftest import run_cli

LOCAL = "http://127.0.0.1"
CARD = load_rate_card()
#: (page, JSON twin, CLI command) of every money page, with the query they share.
PAGES: list[tuple[str, str, list[str], dict[str, str]]] = [
    (f"/sessions/{REAL_ROOM}", f"/api/sessions/{REAL_ROOM}", ["report", REAL_ROOM], {}),
    (f"/creators/{STEADY_HOST}/analysis", f"/api/creators/{STEADY_HOST}/analysis",
     ["analyze", "--host", STEADY_HOST], {}),
    ("/gifters", "/api/gifters", ["gifters"], {}),
    ("/roster", "/api/roster", ["roster", "--as-of", "2024-06-20"], {"as_of": "2024-06-20"}),
]
OPTIONS = [("us-scaled", "web"), ("us-scaled", "ios"), ("default", "android-bonus")]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("options") / "options.duckdb")


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db), base_url=LOCAL) as c:
        yield c


def cli_json(db: str, argv: list[str], *options: str) -> Any:
    out = run_cli(*argv, "--db", db, *options, "--json")
    assert out.code == 0, out.err
    return out.json()


@pytest.mark.parametrize("preset, channel", OPTIONS)
@pytest.mark.parametrize("page, twin, argv, rest", PAGES)
def test_the_twin_is_the_cli_json_for_a_preset_and_channel(
        api: TestClient, db: str, page: str, twin: str, argv: list[str], rest: dict[str, str],
        preset: str, channel: str) -> None:
    want = cli_json(db, argv, "--preset", preset, "--channel", channel)
    r = api.get(f"{twin}?{urlencode({**rest, 'preset': preset, 'channel': channel})}")
    assert r.status_code == 200, r.text
    assert r.json() == want


def test_the_brief_takes_a_preset(api: TestClient, db: str) -> None:
    want = cli_json(db, ["brief", "--date", "2024-06-10"], "--preset", "us-scaled")
    r = api.get("/api/brief?date=2024-06-10&preset=us-scaled")
    assert r.status_code == 200 and r.json() == want
    page = api.get("/brief?date=2024-06-10&preset=us-scaled")
    assert 'name="preset"' in page.text and 'name="channel"' not in page.text  # no --channel


def test_the_page_shows_the_cli_figure(api: TestClient, db: str) -> None:
    """The figures on the page are the non-default card's, as the CLI prints them."""
    report = cli_json(db, ["report", REAL_ROOM], "--preset", "us-scaled", "--channel", "ios")
    page = api.get(f"/sessions/{REAL_ROOM}?preset=us-scaled&channel=ios").text
    assert usd(Decimal(report["viewer_usd"])) in page
    assert usd(Decimal(report["creator_usd"])) in page
    roster = cli_json(db, ["roster", "--as-of", "2024-06-20"], "--preset", "us-scaled",
                      "--channel", "web")
    page = api.get("/roster?as_of=2024-06-20&preset=us-scaled&channel=web").text
    assert usd(Decimal(roster["totals"][0]["creator_usd"])) in page  # at us-scaled's rate
    board = cli_json(db, ["gifters"], "--preset", "us-scaled", "--channel", "ios")
    page = api.get("/gifters?preset=us-scaled&channel=ios").text
    assert usd(Decimal(board[0]["creator_usd"])) in page


@pytest.mark.parametrize("page, twin, argv, rest", PAGES)
def test_the_form_lists_the_cards_presets_and_channels(api: TestClient, page: str, twin: str,
                                                       argv: list[str],
                                                       rest: dict[str, str]) -> None:
    r = api.get(f"{page}?{urlencode({**rest, 'preset': 'us-scaled', 'channel': 'web'})}")
    assert r.status_code == 200, r.text
    form = re.search(r'<form class="filter card-options".*?</form>', r.text, re.S)
    assert form is not None, page
    presets = re.findall(r'<select name="preset".*?</select>', form.group(0), re.S)[0]
    assert re.findall(r'<option value="([^"]+)"', presets) == list(preset_help())
    assert '<option value="us-scaled" selected>' in presets
    channels = re.findall(r'<select name="channel".*?</select>', form.group(0), re.S)[0]
    assert re.findall(r'<option value="([^"]+)"', channels) == sorted(CARD.channels)
    assert '<option value="web" selected>' in channels
    for k, v in rest.items():  # the page's other options are kept
        assert f'<input type="hidden" name="{k}" value="{v}">' in form.group(0)
    link = re.search(r'href="([^"]+)" data-testid="json-twin"', r.text)
    assert link is not None and link.group(1).startswith(twin)
    assert "preset=us-scaled" in link.group(1) and "channel=web" in link.group(1)


def test_estimate_and_plan_take_the_options_in_their_form(api: TestClient) -> None:
    for path in ("/estimate?followers=5000&sessions=500", "/plan?followers=5000&sessions=500"
                 "&target_usd_month=100"):
        page = api.get(f"{path}&preset=us-scaled&channel=ios").text
        assert '<option value="us-scaled" selected>' in page
        assert '<option value="ios" selected>' in page
        assert "preset=us-scaled&amp;channel=ios" in page  # the JSON twin


def test_answers_are_remembered_per_preset_and_channel(api: TestClient) -> None:
    plain = api.get("/api/roster?as_of=2024-06-20").json()
    scaled = api.get("/api/roster?as_of=2024-06-20&preset=us-scaled&channel=ios").json()
    assert scaled["rate_card"].startswith("us-scaled") and plain["rate_card"].startswith(
        "default")
    assert scaled["totals"][0]["creator_usd"] != plain["totals"][0]["creator_usd"]
    assert scaled["totals"][0]["viewer_usd"] != plain["totals"][0]["viewer_usd"]  # ios
    assert api.get("/api/roster?as_of=2024-06-20").json() == plain  # the default unchanged
    g = api.get("/api/gifters?channel=ios").json()
    assert g != api.get("/api/gifters").json()
    assert api.get("/api/gifters?channel=").json() == api.get("/api/gifters").json()  # empty


@pytest.mark.parametrize("page, twin, argv, rest", PAGES)
def test_hostile_options_are_refused_and_escaped(api: TestClient, page: str, twin: str,
                                                 argv: list[str], rest: dict[str, str]) -> None:
    for text in HOSTILE:
        for name in ("preset", "channel"):
            q = urlencode({**rest, name: text})
            r = api.get(f"{twin}?{q}")
            assert r.status_code == 400 and "\n" not in r.json()["detail"], (name, text)
            html = api.get(f"{page}?{q}")
            assert html.status_code == 400 and (text not in html.text or "<" not in text)
    # a hostile value of another field is kept escaped in the options form's hidden fields
    r = api.get(f"{page}?{urlencode({**rest, 'junk': HOSTILE[0]})}")
    assert r.status_code == 200 and HOSTILE[0] not in r.text
    assert 'name="junk" value="&lt;script&gt;alert(1)&lt;/script&gt;"' in r.text


def test_serve_keeps_its_own_options_under_a_page_preset(db: str) -> None:
    """A page's preset replaces the preset only: serve's --set stays (its preset_loader)."""
    base = load_rate_card(None, {"agency_cut": "0.5"})
    app = create_app(db, card=base,
                     preset_loader=lambda p: load_rate_card(p, {"agency_cut": "0.5"}))
    with TestClient(app, base_url=LOCAL) as c:
        r = c.get("/api/roster?as_of=2024-06-20&preset=us-scaled").json()
    assert r["rate_card"] == load_rate_card("us-scaled", {"agency_cut": "0.5"}).name


def test_the_csv_downloads_carry_the_options(api: TestClient) -> None:
    q = "as_of=2024-06-20&preset=us-scaled&channel=ios"
    page = api.get(f"/roster?{q}").text
    assert f'href="/api/roster.csv?period=month&amp;{q.replace("&", "&amp;")}"' in page
    scaled = api.get(f"/api/roster?{q}").json()["totals"][0]["creator_usd"]
    plain = api.get("/api/roster?as_of=2024-06-20").json()["totals"][0]["creator_usd"]
    assert scaled != plain
    assert scaled in api.get(f"/api/roster.csv?{q}").text
    assert scaled not in api.get("/api/roster.csv?as_of=2024-06-20").text
    board = api.get("/api/gifters?preset=us-scaled&channel=ios").json()
    assert board[0]["viewer_usd"] in api.get("/api/gifters.csv?preset=us-scaled&channel=ios").text

"""The planner and the estimator's what-ifs and history on the web (issue 18, item 5): /plan and
/api/plan equal ``liveworth plan --json``, /api/estimate with what-ifs and from history equals
``liveworth estimate --json`` (less the web's histogram), every field is checked as the CLI
checks it (a 400 of one line) and hostile text in any field is refused or escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from liveworth.web import create_app
from websupport import HOSTILE, STEADY_HOST, STEADY_SESSIONS, build_db

from conftest import run_cli

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("plan") / "plan.duckdb")


@pytest.fixture(scope="module")
def api(db: str) -> Iterator[TestClient]:
    with TestClient(create_app(db), base_url=LOCAL) as c:
        yield c


def cli_json(*argv: str) -> Any:
    out = run_cli(*argv)
    assert out.code == 0, out.err
    return out.json()


def query(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


# ------------------------------------------------------------------------------------ plan


@pytest.mark.parametrize("args", [
    ["--target-usd-month", "500", "--followers", "5000"],
    ["--target-usd-month", "$2,000", "--followers", "20,000", "--minutes", "90",
     "--per-week", "4", "--engagement", "high", "--seed", "11", "--sessions", "5000"],
    ["--target-usd-month", "300", "--followers", "5000", "--calibration", "population",
     "--preset", "us-scaled", "--channel", "ios"],
])
def test_api_plan_is_the_cli_json(api: TestClient, args: list[str]) -> None:
    want = cli_json("plan", *args, *([] if "--seed" in args else ["--seed", "0"]), "--json")
    pairs = [(k[2:].replace("-", "_"), v) for k, v in zip(args[::2], args[1::2], strict=True)]
    r = api.get(f"/api/plan?{query(pairs)}")
    assert r.status_code == 200, r.text
    assert r.json() == want


def test_api_plan_from_history_is_the_cli_json(api: TestClient, db: str) -> None:
    want = cli_json("plan", "--from-history", "--db", db, "--host", f"@{STEADY_HOST}",
                    "--target-usd-month", "150", "--seed", "3", "--sessions", "4000", "--json")
    r = api.get(f"/api/plan?from_history=true&host=%40{STEADY_HOST}&target_usd_month=150"
                "&seed=3&sessions=4000")
    assert r.status_code == 200, r.text
    assert r.json() == want and want["calibration_set"] == "history"


def test_plan_page_shows_the_levers_and_links_its_twin(api: TestClient) -> None:
    page = api.get("/plan?target_usd_month=2000&followers=5000&seed=0")
    assert page.status_code == 200
    p = api.get("/api/plan?target_usd_month=2000&followers=5000&seed=0").json()
    assert p["now"]["odds"] < 0.5  # off track: the table of levers
    assert 'data-testid="plan-summary"' in page.text and "What it takes" in page.text
    for option in p["options"]:
        assert f"<td>{option['lever']}</td>" in page.text
    assert 'href="/api/plan?target_usd_month=2000&amp;followers=5000&amp;seed=0"' in page.text
    assert '<a href="/plan">Plan</a>' in page.text  # in the navigation
    empty = api.get("/plan")
    assert empty.status_code == 200 and 'data-testid="plan-form"' in empty.text
    assert 'data-testid="plan-result"' not in empty.text


def test_plan_page_from_history_says_how_many_sessions(api: TestClient) -> None:
    page = api.get(f"/plan?from_history=true&host={STEADY_HOST}&target_usd_month=150")
    assert page.status_code == 200
    assert f"Calibrated to {STEADY_SESSIONS} recorded sessions of @{STEADY_HOST}" in page.text
    assert f'<option value="{STEADY_HOST}" selected>' in page.text  # the host picker


@pytest.mark.parametrize("pairs, says", [
    ([("followers", "5000")], "target_usd_month is required"),
    ([("target_usd_month", "abc"), ("followers", "5000")], "target_usd_month: not a number"),
    ([("target_usd_month", "0"), ("followers", "5000")], "must be a positive amount"),
    ([("target_usd_month", "100")], "followers is required"),
    ([("target_usd_month", "100"), ("followers", "0")], "followers must be at least 1"),
    ([("target_usd_month", "100"), ("followers", "1.5")], "followers: must be a whole number"),
    ([("target_usd_month", "100"), ("followers", "10"), ("minutes", "9999")],
     "minutes: must be at most 1,440"),
    ([("target_usd_month", "100"), ("followers", "10"), ("engagement", "loud")], "engagement"),
    ([("target_usd_month", "100"), ("followers", "10"), ("seed", "-1")],
     "seed: must lie between 0"),
    ([("target_usd_month", "100"), ("followers", "10"), ("sessions", "10000000")],
     "sessions: must be at most 200,000"),
    ([("target_usd_month", "100"), ("followers", "10"), ("calibration", "vibes")],
     "calibration"),
    ([("target_usd_month", "100"), ("followers", "10"), ("preset", "nope")], "unknown preset"),
    ([("target_usd_month", "100"), ("followers", "10"), ("channel", "nope")],
     "unknown coin channel"),
    ([("target_usd_month", "100"), ("from_history", "true"), ("host", "nobody_here")],
     "nobody_here"),
])
def test_plan_checks_each_field_in_one_line(api: TestClient, pairs: list[tuple[str, str]],
                                            says: str) -> None:
    r = api.get(f"/api/plan?{query(pairs)}")
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and says in detail and "\n" not in detail
    page = api.get(f"/plan?{query(pairs)}")
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]


# -------------------------------------------------------------------------------- estimate


def without_histogram(e: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k != "histogram"}


@pytest.mark.parametrize("args", [
    ["--followers", "5000", "--seed", "7", "--sessions", "5000"],
    ["--followers", "5000", "--seed", "7", "--sessions", "5000", "--what-if", "minutes=120"],
    ["--followers", "5,000", "--viewers", "40", "--seed", "2", "--sessions", "5000",
     "--what-if", "minutes=30", "--what-if", "per-week=5", "--what-if", "engagement=low",
     "--preset", "us-scaled", "--channel", "web"],
])
def test_api_estimate_with_what_ifs_is_the_cli_json(api: TestClient, args: list[str]) -> None:
    want = cli_json("estimate", *args, "--json")
    pairs = [(k[2:].replace("-", "_"), v) for k, v in zip(args[::2], args[1::2], strict=True)]
    r = api.get(f"/api/estimate?{query(pairs)}")
    assert r.status_code == 200, r.text
    got = r.json()
    assert without_histogram(got) == want and got["histogram"]
    if "what_if" in want:
        n = sum(1 for a in args if a == "--what-if")
        assert len(got["what_if"]) == (n + 1 if n > 1 else n)  # several: also all together


def test_api_estimate_from_history_is_the_cli_json(api: TestClient, db: str) -> None:
    want = cli_json("estimate", "--from-history", "--db", db, "--host", STEADY_HOST,
                    "--seed", "5", "--sessions", "4000", "--what-if", "minutes=90", "--json")
    r = api.get(f"/api/estimate?from_history=true&host={STEADY_HOST}&seed=5&sessions=4000"
                "&what_if=minutes%3D90")
    assert r.status_code == 200, r.text
    assert without_histogram(r.json()) == want
    assert want["calibration"]["sessions"] == STEADY_SESSIONS


def test_estimate_page_shows_what_ifs_beside_the_base(api: TestClient) -> None:
    q = "followers=5000&seed=7&sessions=5000&what_if=minutes%3D20&what_if=per-week%3D6"
    page = api.get(f"/estimate?{q}")
    assert page.status_code == 200
    e = api.get(f"/api/estimate?{q}").json()
    table = re.search(r'<table data-testid="what-if">.*?</table>', page.text, re.S)
    assert table is not None
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    assert "as now" in rows[1]
    labels = ["minutes=20", "per-week=6", "minutes=20, per-week=6"]
    for label, case, row in zip(labels, e["what_if"], rows[2:], strict=True):
        assert f"<td>{label}</td>" in row
        pct = case["p50_creator_usd_change_pct"]["per_month"]
        assert f"{pct:+.0f} %" in row  # the difference, signed: a loss shows as a loss
    shorter = e["what_if"][0]["p50_creator_usd_change_pct"]["per_month"]
    assert shorter < 0 and "recommend" not in table.group(0).lower()
    assert "what_if=minutes%3D20&amp;what_if=per-week%3D6" in page.text  # the JSON twin


def test_estimate_page_from_history_names_the_sessions_used(api: TestClient) -> None:
    page = api.get(f"/estimate?from_history=true&host={STEADY_HOST}&sessions=4000")
    assert page.status_code == 200
    assert f"Calibrated to {STEADY_SESSIONS} recorded sessions</b> of @{STEADY_HOST}" in page.text
    hosts = re.findall(r'<option value="([^"]*)"', page.text.split('data-testid="host-picker"')[1]
                       .split("</select>")[0])
    assert STEADY_HOST in hosts and "crecee.saraa" in hosts


@pytest.mark.parametrize("pairs, says", [
    ([], "followers is required"),
    ([("followers", "5000"), ("what_if", "minutes")], "what_if expects NAME=VALUE"),
    ([("followers", "5000"), ("what_if", "height=3")], "unknown what-if"),
    ([("followers", "5000"), ("what_if", "followers=0")], "what-if followers must be at least"),
    ([("followers", "5000"), ("from_history", "true"), ("calibration", "population")],
     "calibration is for estimates from followers"),
    # 200,000 sessions for the base, two what-ifs and their combination: 800,000 in all
    ([("followers", "5000"), ("sessions", "200000"), ("what_if", "minutes=90"),
      ("what_if", "per_week=5")], "at most 400,000 a request"),
])
def test_estimate_checks_each_field_in_one_line(api: TestClient, pairs: list[tuple[str, str]],
                                                says: str) -> None:
    r = api.get(f"/api/estimate?{query(pairs)}")
    assert r.status_code == 400, r.text
    assert says in r.json()["detail"] and "\n" not in r.json()["detail"]


# ------------------------------------------------------------------------------ hostile text

PLAN_FIELDS = ("target_usd_month", "followers", "viewers", "minutes", "per_week", "engagement",
               "seed", "sessions", "calibration", "host", "preset", "channel")


@pytest.mark.parametrize("path, fields, base", [
    ("plan", PLAN_FIELDS, {"target_usd_month": "100", "followers": "5000", "sessions": "500"}),
    ("estimate", (*PLAN_FIELDS[1:], "what_if"), {"followers": "5000", "sessions": "500"}),
])
def test_hostile_text_in_every_field_is_refused_or_escaped(api: TestClient, path: str,
                                                           fields: tuple[str, ...],
                                                           base: dict[str, str]) -> None:
    for field in fields:
        for text in HOSTILE:
            q = {**base, field: text}
            if field == "host":
                q["from_history"] = "true"
            r = api.get(f"/api/{path}?{urlencode(q)}")
            assert r.status_code in (200, 400, 422), (field, text, r.text)  # 422: too long
            if r.status_code == 400:
                assert "\n" not in r.json()["detail"]
            page = api.get(f"/{path}?{urlencode(q)}")
            assert page.status_code in (200, 400, 422), (field, text)
            if "<" in text:
                assert text not in page.text, (field, text)  # escaped, never markup


def test_hostile_host_in_the_store_is_escaped_in_the_picker(api: TestClient) -> None:
    page = api.get("/plan")
    picker = page.text.split('data-testid="host-picker"')[1].split("</select>")[0]
    assert "<img" not in picker and "&lt;img src=x onerror=alert(1)&gt;" in picker


def test_the_form_fields_are_the_twins_query(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()["paths"]
    for path in ("/plan", "/api/plan", "/estimate", "/api/estimate"):
        names = {p["name"] for p in spec[path]["get"]["parameters"]}
        assert {"followers", "from_history", "host", "preset", "channel"} <= names, path
    presets = next(p for p in spec["/api/plan"]["get"]["parameters"] if p["name"] == "preset")
    assert {"default", "us-scaled"} <= set(presets["schema"]["enum"])

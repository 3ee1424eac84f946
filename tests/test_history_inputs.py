"""Estimates and plans from a creator's history say where each input came from, place a creator
whose sessions never recorded followers by their audience, and plan from the calibrated sessions
(issue #15, item 9)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.model.generative import ModelParams, median_viewers
from liveworth.model.history_inputs import followers_for_viewers

from conftest import Result

Run = Callable[..., Result]
PARAMS = ModelParams.from_prior()


@pytest.fixture(scope="module")
def no_followers_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A recorded history of a 200k-follower creator whose live_start never said followers."""
    from liveworth.cli import main

    work = tmp_path_factory.mktemp("hist")
    sim, stripped, db = work / "h.jsonl", work / "nof.jsonl", str(work / "h.duckdb")
    assert main(["simulate", "--followers", "200000", "--host", "carol", "--sessions", "8",
                 "--per-week", "3", "--start", "2026-01-05", "--minutes", "30", "--seed", "11",
                 "--out", str(sim), "--json"]) == 0
    with sim.open() as f, stripped.open("w") as out:
        for line in f:
            e = json.loads(line)
            e.pop("followers", None)
            out.write(json.dumps(e) + "\n")
    assert main(["import", "--db", db, str(stripped), "--json"]) == 0
    return db


def test_unknown_followers_are_placed_by_the_audience(no_followers_db: str, cli: Run) -> None:
    r = cli("estimate", "--from-history", "--db", no_followers_db, "--seed", "1",
            "--sessions", "2000", "--json")
    assert r.code == 0, r.err
    out = r.json()
    viewers = out["inputs"]["typical_viewers"]
    assert out["inputs"]["followers"] == followers_for_viewers(PARAMS, viewers) > 10_000
    assert out["input_sources"] == {"followers": "the model", "viewers": "your sessions",
                                    "minutes": "your sessions", "per_week": "your sessions",
                                    "engagement": "your sessions"}
    assert not out["tier"].startswith("under 10k")  # a room of hundreds is no small creator
    assert any("viewers" in a and "(measured in your sessions)" in a for a in out["assumptions"])
    assert not any("as stated" in a for a in out["assumptions"])
    text = " ".join(cli("estimate", "--from-history", "--db", no_followers_db, "--seed", "1",
                        "--sessions", "2000").out.split())
    assert not re.search(r"(?<![\d,])0 followers", text) and "(placed by the audience)" in text


def test_stated_inputs_say_so(no_followers_db: str, cli: Run) -> None:
    r = cli("estimate", "--from-history", "--db", no_followers_db, "--seed", "1",
            "--sessions", "2000", "--viewers", "500", "--followers", "80000", "--json")
    assert r.code == 0, r.err
    src = r.json()["input_sources"]
    assert (src["viewers"], src["followers"], src["minutes"]) == ("stated", "stated",
                                                                 "your sessions")
    assert any("viewers 500 (as stated)" in a for a in r.json()["assumptions"])


def test_plan_from_history_agrees_with_the_estimate(no_followers_db: str, cli: Run) -> None:
    est = cli("estimate", "--from-history", "--db", no_followers_db, "--seed", "3",
              "--sessions", "20000", "--json").json()
    p50 = float(est["per_month"]["creator_usd"]["p50"])
    r = cli("plan", "--from-history", "--db", no_followers_db, "--seed", "3", "--sessions",
            "20000", "--target-usd-month", f"{p50:.2f}", "--json")
    assert r.code == 0, r.err
    plan = r.json()
    assert plan["calibration_set"] == "history"
    assert plan["input_sources"]["followers"] == "the model"
    assert 0.45 <= plan["now"]["odds"] <= 0.55  # the estimate's typical month: even odds
    assert abs(float(plan["now"]["p50_creator_usd_month"]) / p50 - 1) < 0.05
    for option in plan["options"]:  # what it takes from here, each at least as now
        assert option["needed"] is None or option["needed"] >= option["now"] - 1e-9


def test_plan_needs_followers_or_a_history(cli: Run) -> None:
    r = cli("plan", "--target-usd-month", "100")
    assert r.code == 2 and "--followers is required (or plan from your sessions" in r.err


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=1.0, max_value=50_000.0))
def test_followers_for_viewers_inverts_the_model(viewers: float) -> None:
    f = followers_for_viewers(PARAMS, viewers)
    assert median_viewers(PARAMS, f) >= viewers  # enough followers for that audience
    assert f == 1 or median_viewers(PARAMS, f - 1) < viewers  # and no more

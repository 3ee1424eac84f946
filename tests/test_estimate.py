"""The estimator: distributions with exact money, what-ifs, plans, and the CLI commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from liveworth.economy.money import earnings, fmt
from liveworth.economy.ratecard import load_rate_card
from liveworth.errors import UsageError
from liveworth.model.estimate import (
    Inputs,
    apply_changes,
    estimate,
    expected_coins,
    sample_coins,
    what_if,
)
from liveworth.model.generative import ModelParams, gifters_per_viewer, session_noise, spend_table
from liveworth.model.plan import plan

from conftest import Result

Run = Callable[..., Result]
PRIOR = ModelParams.from_prior()


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------- the estimate


def test_estimate_json_has_the_issue_keys_and_exact_money() -> None:
    card = load_rate_card()
    e = estimate(Inputs(followers=20_000), rng=_rng(), card=card)
    d = e.as_dict()
    for key in ("per_session", "per_month", "tier", "inputs", "assumptions", "drivers"):
        assert key in d
    for period in ("per_session", "per_month"):
        coins = d[period]["coins"]
        assert isinstance(coins["p10"], int) and coins["p10"] <= coins["p50"] <= coins["p90"]
        for q in ("p10", "p50", "p90"):
            money = earnings(coins[q], card)
            assert d[period]["creator_usd"][q] == fmt(money.creator_usd)
            assert d[period]["viewer_usd"][q] == fmt(money.viewer_usd)
            assert isinstance(d[period]["creator_usd"][q], str)
            Decimal(d[period]["creator_usd"][q])  # a decimal string
    assert d["inputs"]["followers"] == 20_000 and d["inputs"]["sessions_per_month"] > 12
    assert d["tier"].startswith("10k–100k followers")
    assert [x["name"] for x in d["drivers"]][-1] == "whales"


def test_same_seed_same_estimate_and_seeds_agree() -> None:
    a = estimate(Inputs(followers=50_000), rng=_rng(4)).as_dict()
    assert a == estimate(Inputs(followers=50_000), rng=_rng(4)).as_dict()
    b = estimate(Inputs(followers=50_000), rng=_rng(5)).as_dict()
    pa, pb = (Decimal(x["per_session"]["creator_usd"]["p50"]) for x in (a, b))
    assert abs(pa - pb) / pa < Decimal("0.1")


def test_more_followers_earn_more() -> None:
    p50s = [estimate(Inputs(followers=f), rng=_rng()).per_session.creator_usd[1]
            for f in (1_000, 10_000, 100_000, 1_000_000)]
    assert p50s == sorted(p50s)


def test_per_month_is_many_sessions() -> None:
    e = estimate(Inputs(followers=50_000, per_week=3), rng=_rng())
    assert e.per_month.coins[1] > 5 * e.per_session.coins[1]
    # Both means are the model's exact expectation rounded to whole coins.
    assert e.per_month.mean_coins == pytest.approx(e.per_session.mean_coins * 3 * 365.25 / 84,
                                                   abs=e.sessions_per_month)
    assert estimate(Inputs(followers=50_000, per_week=0), rng=_rng()).per_month.coins == (
        0, 0, 0)


def test_stated_viewers_narrow_the_estimate() -> None:
    guessed = estimate(Inputs(followers=50_000), rng=_rng()).per_month
    stated = estimate(Inputs(followers=50_000, viewers=339), rng=_rng()).per_month
    assert stated.coins[2] / stated.coins[0] < guessed.coins[2] / guessed.coins[0]


def test_monte_carlo_mean_matches_the_models_mean() -> None:
    inputs = Inputs(followers=0, viewers=2_000)
    s = sample_coins(PRIOR, inputs, _rng(3), 200_000)
    assert float(s.session.mean()) == pytest.approx(expected_coins(PRIOR, inputs)[0], rel=0.05)


def test_compound_sampler_matches_brute_force() -> None:
    """The split sampler (large gifts exact, small ones by a gamma) against plain sums."""
    inputs = Inputs(followers=0, viewers=60)
    fixed = replace(PRIOR, stated_viewers_sigma=0.0)  # one room, so one spend table
    fast = sample_coins(fixed, inputs, _rng(8), 100_000).session
    rng = _rng(9)
    table = spend_table(PRIOR, 60)
    mean, shape = session_noise(PRIOR)
    rate = (60 * gifters_per_viewer(PRIOR, 60, 1.0) * rng.gamma(shape, mean / shape, 20_000))
    counts = rng.poisson(rate)
    draws = table.draw(rng, int(counts.sum()))
    brute = np.bincount(np.repeat(np.arange(counts.size), counts), weights=draws,
                        minlength=counts.size)
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(fast, q) == pytest.approx(np.quantile(brute, q), rel=0.1)


def test_a_million_sessions_run() -> None:
    """The benchmark size runs (timing is recorded in docs/MODEL.md, not asserted)."""
    s = sample_coins(PRIOR, Inputs(followers=100_000), _rng(), 1_000_000)
    assert s.session.shape == (1_000_000,) and (s.month >= 0).all()


@pytest.mark.parametrize("kw", [{"followers": -1}, {"followers": 1, "minutes": 0},
                                {"followers": 1, "per_week": -1},
                                {"followers": 1, "engagement": 0},
                                {"followers": 1, "viewers": -3.0},
                                {"followers": 1.5}])
def test_bad_inputs_are_usage_errors(kw: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        Inputs(**kw)  # type: ignore[arg-type]


def test_session_count_is_bounded() -> None:
    with pytest.raises(UsageError):
        estimate(Inputs(followers=10), rng=_rng(), sessions=0)


def test_channel_changes_what_viewers_pay_not_what_the_creator_gets() -> None:
    web = estimate(Inputs(followers=50_000), rng=_rng(), channel="web")
    ios = estimate(Inputs(followers=50_000), rng=_rng(), channel="ios")
    assert web.per_session.creator_usd == ios.per_session.creator_usd
    assert web.per_session.viewer_usd[1] < ios.per_session.viewer_usd[1]


# ---------------------------------------------------------------------------- what-if


def test_what_if_longer_sessions() -> None:
    w = what_if(Inputs(followers=50_000), {"minutes": 120}, rng=_rng())
    assert w.changed.inputs.minutes == 120
    assert w.month_change_pct is not None and 0 < w.month_change_pct < 100
    assert w.mean_month_change_pct is not None and 0 < w.mean_month_change_pct < 100
    d = w.as_dict()
    assert d["changes"] == {"minutes": 120.0}
    assert set(d["per_session"]) == {"creator_usd", "viewer_usd", "coins"}


def test_what_if_base_is_the_plain_estimate() -> None:
    w = what_if(Inputs(followers=8_000), {"per-week": 5}, rng=_rng(3))
    assert w.base == estimate(Inputs(followers=8_000), rng=_rng(3))


def test_what_if_nothing_changes_nothing() -> None:
    w = what_if(Inputs(followers=50_000), {"minutes": 60}, rng=_rng())
    assert w.session_change_pct == 0 and w.month_change_pct == 0


def test_what_if_frequency_moves_stated_viewers() -> None:
    base = Inputs(followers=50_000, viewers=400, per_week=3)
    more = apply_changes(PRIOR, base, {"per-week": "6"})
    assert more.per_week == 6 and more.viewers is not None and more.viewers < 400
    assert apply_changes(PRIOR, base, {"engagement": "high"}).engagement == 2.0


@pytest.mark.parametrize("changes", [{"volume": "3"}, {"minutes": "long"},
                                     {"followers": "1.5"}, {}])
def test_bad_what_ifs_are_usage_errors(changes: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        what_if(Inputs(followers=10), changes, rng=_rng())


# ---------------------------------------------------------------------------- plan


def test_plan_for_a_reachable_target() -> None:
    p = plan(Decimal(5_000), Inputs(followers=20_000), rng=_rng(), sessions=5_000)
    assert p.odds_now < 0.5
    assert p.target_coins == 1_000_000
    by = {o.lever: o for o in p.options}
    assert by["viewers"].needed is not None and by["viewers"].needed > by["viewers"].now
    assert by["viewers"].odds is not None and by["viewers"].odds >= 0.5
    per_week = by["per_week"]
    assert per_week.needed is not None and per_week.hours_per_month is not None
    assert per_week.hours_per_month > p.hours_now
    assert p.as_dict()["now"]["odds"] == round(p.odds_now, 3)


def test_plan_when_already_on_track_and_out_of_reach() -> None:
    easy = plan(Decimal(10), Inputs(followers=100_000), rng=_rng(), sessions=3_000)
    assert easy.odds_now > 0.9 and "on track" in easy.summary()
    hard = plan(Decimal(10**9), Inputs(followers=1_000), rng=_rng(), sessions=3_000)
    assert hard.odds_now == 0
    assert all(o.needed is None for o in hard.options if o.lever != "viewers")


def test_plan_needs_a_positive_target() -> None:
    with pytest.raises(UsageError):
        plan(Decimal(0), Inputs(followers=10), rng=_rng())


# ---------------------------------------------------------------------------- CLI


def test_cli_estimate_json(cli: Run) -> None:
    r = cli("estimate", "--followers", "5000", "--seed", "3", "--sessions", "5000", "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["seed"] == 3 and d["simulations"] == 5_000
    assert set(d["per_session"]["creator_usd"]) >= {"p10", "p50", "p90"}
    assert d == cli("estimate", "--followers", "5,000", "--seed", "3", "--sessions", "5000",
                    "--json").json()


def test_cli_estimate_table_and_what_ifs(cli: Run) -> None:
    r = cli("estimate", "--followers", "50000", "--seed", "1", "--sessions", "4000",
            "--what-if", "minutes=120", "--what-if", "per-week=5", "--channel", "ios")
    assert r.code == 0, r.err
    for text in ("creator receives", "viewers pay", "p50", "Tier", "What if", "minutes=120",
                 "per-week=5", "minutes=120, per-week=5", "ios"):
        assert text in r.out, text
    d = cli("estimate", "--followers", "50000", "--seed", "1", "--sessions", "4000",
            "--what-if", "engagement=high", "--json").json()
    assert d["what_if"][0]["changes"] == {"engagement": 2.0}


def test_cli_plan(cli: Run) -> None:
    r = cli("plan", "--target-usd-month", "2000", "--followers", "10000", "--seed", "2",
            "--sessions", "3000", "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["target_usd_month"] == "2000" and d["target_coins"] == 400_000
    assert {o["lever"] for o in d["options"]} == {"viewers", "minutes", "per_week",
                                                  "engagement"}
    human = cli("plan", "--target-usd-month", "$20,000", "--followers", "10000", "--seed", "2",
                "--sessions", "3000")
    assert human.code == 0 and "What it takes" in human.out
    on_track = cli("plan", "--target-usd-month", "100", "--followers", "10000", "--seed", "2",
                   "--sessions", "3000")
    assert on_track.code == 0 and "on track" in on_track.out


@pytest.mark.parametrize("argv", [
    ("estimate", "--followers", "-5"),
    ("estimate", "--followers", "lots"),
    ("estimate", "--followers", "10", "--minutes", "0"),
    ("estimate", "--followers", "10", "--engagement", "wild"),
    ("estimate", "--followers", "10", "--what-if", "minutes"),
    ("estimate", "--followers", "10", "--what-if", "hair=blue"),
    ("estimate", "--followers", "10", "--sessions", "0"),
    ("estimate", "--followers", "10", "--channel", "paypal"),
    ("estimate",),
    ("plan", "--target-usd-month", "-3", "--followers", "10"),
    ("plan", "--target-usd-month", "lots", "--followers", "10"),
])
def test_cli_bad_input_is_one_line(cli: Run, argv: tuple[str, ...]) -> None:
    r = cli(*argv)
    assert r.code == 2
    assert r.err.count("\n") == 1 and "Traceback" not in r.err


@pytest.mark.parametrize("command", ["simulate", "estimate", "plan"])
def test_model_commands_have_help(cli: Run, command: str) -> None:
    r = cli(command, "--help")
    assert r.code == 0 and len(r.out) > 200 and "--json" in r.out

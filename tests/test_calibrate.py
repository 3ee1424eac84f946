"""Personal calibration and the month forecast, on a store of simulated sessions.

The fixture database holds 20 twenty-minute sessions of @test_creator, one a day from
2023-11-01, simulated with four times the prior's gifting (known truth), and two sessions of
@other_creator. Tests read it; none writes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth import cli as cli_main
from liveworth.analysis.report import list_sessions, session_report
from liveworth.economy.ratecard import load_rate_card
from liveworth.errors import ConfigError, UsageError
from liveworth.ingest.importer import import_paths
from liveworth.model.calibrate import (
    PRIOR_SESSIONS,
    History,
    Posterior,
    calibrate,
    estimate_from_history,
    load_history,
    offset,
    t_quantile,
)
from liveworth.model.estimate import Inputs, sample_coins
from liveworth.model.forecast import (
    DEFAULT_TIERS,
    Tier,
    TierSettings,
    forecast,
    load_tiers,
    parse_month,
)
from liveworth.model.generative import ModelParams
from liveworth.model.simulate import simulate
from liveworth.store.database import Store

from conftest import Result

Run = Callable[..., Result]
CARD = load_rate_card()
PRIOR = ModelParams.from_prior()
#: The creator's true model: four times the prior's gifting.
TRUE = replace(PRIOR, gifter_rate=PRIOR.gifter_rate * 4)
DAY_MS = 86_400_000
NOV_1_18H = 1_698_861_600_000  # 2023-11-01 18:00 UTC
HOST = "test_creator"
N_SESSIONS = 20


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """20 sessions of @test_creator (one a day from 2023-11-01) and 2 of @other_creator."""
    folder = tmp_path_factory.mktemp("history")
    path = folder / "sessions.jsonl"
    rng = np.random.default_rng(1)
    with path.open("w", encoding="utf-8") as f:
        for i in range(N_SESSIONS):
            simulate(TRUE, followers=5_000, viewers=50, minutes=20, rng=rng, room_id=f"t{i:02d}",
                     start_ts=NOV_1_18H + i * DAY_MS, host=HOST).write_jsonl(f)
        for i in range(2):
            simulate(PRIOR, followers=20_000, viewers=150, minutes=15, rng=rng,
                     room_id=f"o{i}", start_ts=NOV_1_18H + i * DAY_MS + 3_600_000,
                     host="other_creator").write_jsonl(f)
    out = str(folder / "history.duckdb")
    with Store.open(out) as store:
        assert import_paths(store, [path]).rejected == 0
    return out


@pytest.fixture(scope="module")
def history(db: str) -> History:
    with Store.open(db, read_only=True) as store:
        return load_history(store, "@" + HOST, CARD)


@pytest.fixture
def run(cli: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI with the forecast command registered (until cli.py lists it itself)."""
    if "liveworth.cli.forecast" not in cli_main._COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "_COMMAND_MODULES",
                            (*cli_main._COMMAND_MODULES, "liveworth.cli.forecast"))
    return cli


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def _one_line_error(r: Result) -> None:
    assert r.code == 2, r
    assert r.out == ""
    assert len(r.err.strip().splitlines()) == 1 and "error" in r.err


# ---------------------------------------------------------------------------- the history


def test_history_reads_the_store_like_the_report(db: str, history: History) -> None:
    assert history.host == HOST and len(history.sessions) == N_SESSIONS
    assert [s.room_id for s in history.sessions] == [f"t{i:02d}" for i in range(N_SESSIONS)]
    with Store.open(db, read_only=True) as store:
        for s in history.sessions[:3]:
            rep = session_report(store, s.room_id, CARD)
            assert s.coins == rep.coins and s.start_ts == rep.start_ts
            assert s.minutes == pytest.approx(rep.minutes)
            assert s.avg_viewers == pytest.approx(rep.avg_viewers)
            assert s.comments == rep.engagement["comments"] and s.followers == 5_000


def test_several_hosts_need_a_host_and_unknown_hosts_are_usage_errors(db: str) -> None:
    with Store.open(db, read_only=True) as store:
        with pytest.raises(UsageError, match="choose one with --host"):
            load_history(store, None, CARD)
        with pytest.raises(UsageError, match="no sessions of @nobody"):
            load_history(store, "@nobody", CARD)
        assert len(load_history(store, "OTHER_creator", CARD).sessions) == 2


# ---------------------------------------------------------------------------- the calibration


def test_calibration_moves_from_the_prior_towards_the_creator(history: History) -> None:
    cal = calibrate(history, rng=_rng())
    assert cal.sessions == N_SESSIONS
    assert cal.weight == pytest.approx(N_SESSIONS / (N_SESSIONS + PRIOR_SESSIONS))
    assert cal.viewers_from == "history" and cal.viewers is not None
    assert 35 < cal.viewers < 75 and cal.minutes == pytest.approx(20, abs=0.5)
    assert 0.6 < cal.engagement < 1.6
    # The true level: the true model's mean log(1 + coins) at the same inputs, less the offset.
    truth = sample_coins(replace(TRUE, stated_viewers_sigma=0.0),
                         Inputs(followers=5_000, viewers=cal.viewers, minutes=cal.minutes,
                                engagement=cal.engagement), _rng(2), 20_000).session
    true_level = float(np.log1p(truth).mean()) - offset(PRIOR, cal.viewers, cal.minutes,
                                                        cal.engagement)
    assert abs(cal.fitted.mean - true_level) < abs(cal.prior.mean - true_level) / 2
    assert cal.multiplier > 2
    assert cal.p50_coins(cal.fitted) > 2 * cal.p50_coins(cal.prior)


def test_leave_one_out_coverage_is_reported_and_about_right(history: History) -> None:
    loo = calibrate(history, rng=_rng()).loo
    assert loo.sessions == N_SESSIONS and loo.inside + loo.below + loo.above == N_SESSIONS
    assert loo.coverage is not None and 0.6 <= loo.coverage <= 0.95
    assert loo.level == 0.8


def test_one_or_two_sessions_stay_near_the_prior_and_say_so(history: History) -> None:
    full = calibrate(history, rng=_rng())
    for n in (1, 2):
        few = calibrate(History(HOST, history.sessions[:n]), rng=_rng())
        assert few.weight == pytest.approx(n / (n + PRIOR_SESSIONS)) and few.weight < 0.3
        assert few.prior == full.prior or abs(few.prior.mean - full.prior.mean) < 0.3
        r = np.array([s.log_coins for s in history.sessions[:n]]) - np.array(
            [offset(PRIOR, few.viewers or 0, s.minutes, few.engagement)
             for s in history.sessions[:n]])
        assert few.fitted.mean == pytest.approx(
            few.prior.mean + few.weight * (float(r.mean()) - few.prior.mean))
        assert "mostly the public prior" in few.note
        assert few.loo.sessions == n
        assert few.fitted.kappa == PRIOR_SESSIONS + n


def test_calibration_is_deterministic(history: History) -> None:
    a = calibrate(history, rng=_rng(5)).as_dict()
    assert a == calibrate(history, rng=_rng(5)).as_dict()
    assert json.loads(json.dumps(a)) == a


def test_no_sessions_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no recorded sessions"):
        calibrate(History("x", ()), rng=_rng())


@pytest.mark.parametrize(("p", "nu", "exact"), [
    (0.9, 5, 1.475884), (0.9, 10, 1.372184), (0.9, 30, 1.310415), (0.1, 6, -1.439756),
    (0.95, 5, 2.015048),
])
def test_t_quantile(p: float, nu: float, exact: float) -> None:
    assert t_quantile(p, nu) == pytest.approx(exact, abs=2e-4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-8, 8), min_size=1, max_size=12),
       st.lists(st.floats(-8, 8), min_size=1, max_size=12))
def test_updating_in_two_steps_equals_one_update(a: list[float], b: list[float]) -> None:
    prior = Posterior(-1.0, 1.5, PRIOR_SESSIONS, PRIOR_SESSIONS)
    one, two = prior.update(a + b), prior.update(a).update(b)
    for x, y in ((one.mean, two.mean), (one.scale, two.scale), (one.kappa, two.kappa),
                 (one.nu, two.nu)):
        assert x == pytest.approx(y, rel=1e-9, abs=1e-9)


def test_estimate_from_history_has_the_estimate_shape(history: History) -> None:
    cal = calibrate(history, rng=_rng())
    e = estimate_from_history(cal, cal.inputs(), rng=_rng(), card=CARD, sessions=5_000)
    d = e.as_dict()
    assert d["inputs"]["followers"] == 5_000 and d["inputs"]["minutes"] == pytest.approx(20)
    for period in ("per_session", "per_month"):
        q = d[period]["coins"]
        assert q["p10"] <= q["p50"] <= q["p90"]
    assert e.per_month.coins[1] > 10 * e.per_session.coins[1]
    # The median session sits near the fitted level (the observed sessions' scale).
    observed = float(np.median([s.coins for s in history.sessions]))
    assert observed / 4 < e.per_session.coins[1] < observed * 4
    longer = estimate_from_history(cal, replace(cal.inputs(), minutes=40), rng=_rng(),
                                   card=CARD, sessions=5_000)
    assert 1.3 < longer.per_session.mean_coins / e.per_session.mean_coins < 2.0


# ---------------------------------------------------------------------------- the forecast

AS_OF = dt.date(2023, 11, 15)


def test_month_to_date_is_the_exact_sum_of_the_months_sessions(db: str,
                                                               history: History) -> None:
    f = forecast(history, month="2023-11", as_of=AS_OF, rng=_rng(), card=CARD,
                 simulations=2_000)
    with Store.open(db, read_only=True) as store:
        rows = [r for r in list_sessions(store, CARD) if r.host == HOST
                and dt.datetime.fromtimestamp(r.start_ts / 1000, dt.UTC).date() <= AS_OF]
    assert f.month_to_date.sessions == len(rows) == 15
    assert f.month_to_date.coins == sum(r.coins for r in rows)
    assert f.month_to_date.creator_usd == sum((r.creator_usd for r in rows), Decimal(0))
    assert f.month_to_date.hours == pytest.approx(sum(r.duration_s for r in rows) / 3600)
    assert f.days_in_month == 30 and f.days_remaining == 15
    assert f.calibration.sessions == 15  # later sessions are not used
    coins = f.coins.values
    assert f.month_to_date.coins <= coins[0] <= coins[1] <= coins[2]
    assert f.sessions.values[0] >= 15 and f.sessions.values[2] <= 15 + 15 * 20


def test_a_month_that_is_over_projects_itself_and_a_future_month_starts_at_zero(
        history: History) -> None:
    over = forecast(history, month="2023-11", as_of=dt.date(2024, 1, 5), rng=_rng(),
                    card=CARD, simulations=500)
    total = sum(s.coins for s in history.sessions)
    assert over.days_remaining == 0 and over.coins.values == (total, total, total)
    ahead = forecast(history, month="2023-12", as_of=AS_OF, rng=_rng(), card=CARD,
                     simulations=500)
    assert ahead.days_remaining == 31 and ahead.month_to_date.coins == 0
    assert ahead.coins.values[2] > 0


def test_tier_odds_fall_as_the_threshold_rises(history: History) -> None:
    ladder = {"diamonds": (0, 100_000, 400_000, 600_000, 1e6, 3e6, 1e9),
              "airtime_hours": (0, 5, 7, 8, 9, 10, 1_000),
              "active_days": (0, 10, 15, 20, 25, 30, 31)}
    key = {"diamonds": "diamonds", "airtime_hours": "hours", "active_days": "active_days"}
    tiers = tuple(Tier(f"{m} {t:g}", **{key[m]: int(t) if m != "airtime_hours" else t})
                  for m, ts in ladder.items() for t in ts)
    f = forecast(history, month="2023-11", as_of=AS_OF, rng=_rng(), card=CARD,
                 settings=TierSettings(tiers, active_day_minutes=0), simulations=4_000)
    by_name = {t.tier.name: t.odds for t in f.tiers}
    for metric, ts in ladder.items():
        odds = [by_name[f"{metric} {t:g}"] for t in ts]
        assert odds == sorted(odds, reverse=True), (metric, odds)
        assert odds[0] == 1.0 and odds[-1] == 0.0
    reached = {t.tier.name: t.reached for t in f.tiers}
    assert reached["diamonds 0"] and reached["active_days 10"]  # 15 active days so far
    assert not reached["active_days 20"]
    assert f.month_to_date.active_days == 15  # any LIVE day counts at 0 minutes


def test_default_tiers_count_active_days_from_an_hour_of_live(history: History) -> None:
    f = forecast(history, month="2023-11", as_of=AS_OF, rng=_rng(), card=CARD,
                 simulations=500)
    assert [t.tier for t in f.tiers] == list(DEFAULT_TIERS)
    assert f.month_to_date.active_days == 0  # 20-minute days are not active days
    assert f.tier_reached is None and f.as_dict()["tier_reached"] is None
    assert f.month_to_date.live_days == 15


def test_forecast_is_deterministic(history: History) -> None:
    kw = {"month": "2023-11", "as_of": AS_OF, "card": CARD, "simulations": 1_000}
    assert forecast(history, rng=_rng(3), **kw).as_dict() == \
        forecast(history, rng=_rng(3), **kw).as_dict()  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ("2023-12", dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
    (" 2023-11 ", dt.date(2023, 11, 1), dt.date(2023, 11, 30)),
])
def test_parse_month(text: str, first: dt.date, last: dt.date) -> None:
    assert parse_month(text) == (first, last)


@pytest.mark.parametrize("text", ["2023-13", "2023-00", "2023-1", "nov", "", "23-11",
                                  "2023-11-01"])
def test_bad_months_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="YYYY-MM"):
        parse_month(text)


def test_tiers_file(tmp_path: Path) -> None:
    p = tmp_path / "tiers.toml"
    p.write_text('active_day_minutes = 30\n[[tier]]\nmetric = "diamonds"\nthreshold = 5000\n'
                 '[[tier]]\nname = "gold"\nmetric = "airtime_hours"\nthreshold = 12.5\n')
    s = load_tiers(p, legacy=True)  # the former format, read for --thresholds
    assert s.active_day_minutes == 30
    assert s.tiers == (Tier("gold", hours=12.5), Tier("diamonds 5000", diamonds=5000))
    p.write_text("active_day_minutes = 90\n")
    assert load_tiers(p).tiers == DEFAULT_TIERS
    assert load_tiers(p).active_day_minutes == 90


@pytest.mark.parametrize("text", [
    '[[tier]]\nmetric = "followers"\nthreshold = 1\n',
    '[[tier]]\nmetric = "diamonds"\nthreshold = -1\n',
    '[[tier]]\nmetric = "diamonds"\nthreshold = "many"\n',
    '[[tier]]\nmetric = "diamonds"\n',
    'tiers = 3\n',
    'active_day_minutes = 2000\n',
    'not toml [',
])
@pytest.mark.parametrize("legacy", [False, True])
def test_bad_tier_files_are_config_errors(tmp_path: Path, text: str, legacy: bool) -> None:
    p = tmp_path / "tiers.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=f"^{p}: ") as err:
        load_tiers(p, legacy=legacy)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------- the commands


def test_forecast_json(run: Run, db: str) -> None:
    r = run("forecast", "--db", db, "--host", "@test_creator", "--month", "2023-11",
            "--as-of", "2023-11-15", "--seed", "7", "--sessions", "2000", "--json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["month"] == "2023-11" and d["seed"] == 7
    mtd = d["month_to_date"]
    assert set(mtd) >= {"sessions", "coins", "creator_usd", "hours", "active_days"}
    assert mtd["sessions"] == 15 and isinstance(mtd["creator_usd"], str)
    assert Decimal(mtd["creator_usd"]) == Decimal(mtd["coins"]) * Decimal("0.005")
    for key in ("creator_usd", "coins", "diamonds"):
        assert set(d["projection"][key]) == {"p10", "p50", "p90"}
    for q in ("p10", "p50", "p90"):
        assert isinstance(d["projection"]["creator_usd"][q], str)
        assert isinstance(d["projection"]["coins"][q], int)
        Decimal(d["projection"]["diamonds"][q])
    assert d["tiers"] and all(set(t) == {"name", "diamonds", "active_days", "hours", "reached",
                                         "odds"} for t in d["tiers"])
    assert "tier_reached" in d and d["active_day_minutes"] == 60
    cal = d["calibration"]
    assert cal["sessions"] == 15 and 0 <= cal["loo"]["coverage"] <= 1
    again = run("forecast", "--db", db, "--host", "test_creator", "--month", "2023-11",
                "--as-of", "2023-11-15", "--seed", "7", "--sessions", "2000", "--json")
    assert again.out == r.out


def test_forecast_table_and_thresholds_file(run: Run, db: str, tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text('[[tier]]\nname = "starter"\nmetric = "airtime_hours"\nthreshold = 3\n')
    r = run("forecast", "--db", db, "--host", "@test_creator", "--month", "2023-11",
            "--as-of", "2023-11-15", "--seed", "1", "--sessions", "1000", "--thresholds",
            str(p))
    assert r.code == 0, r.err
    assert "Month to date" in r.out and "starter" in r.out and "reached" in r.out
    assert r.err.count("\n") == 1 and "--thresholds is deprecated" in r.err and "--tiers" in r.err
    assert "leave-one-out" not in r.out and "Calibration" in r.out


def test_estimate_from_history_json_and_table(run: Run, db: str) -> None:
    r = run("estimate", "--from-history", "--db", db, "--host", "@test_creator", "--seed", "2",
            "--sessions", "2000", "--json")
    assert r.code == 0, r.err
    d = r.json()
    for key in ("per_session", "per_month", "tier", "inputs", "assumptions", "calibration"):
        assert key in d
    cal = d["calibration"]
    assert cal["sessions"] == N_SESSIONS and cal["prior_strength_sessions"] == PRIOR_SESSIONS
    assert cal["fitted"]["level"] > cal["prior"]["level"]
    assert 0.6 <= cal["loo"]["coverage"] <= 0.95
    assert d["inputs"]["followers"] == 5_000 and d["inputs"]["viewers"] is not None
    t = run("estimate", "--from-history", "--db", db, "--host", "@test_creator", "--seed", "2",
            "--sessions", "2000", "--what-if", "minutes=40", "--followers", "9000")
    assert t.code == 0, t.err
    assert "Calibrated to 20 recorded sessions" in t.out and "leave-one-out" in t.out
    assert "minutes=40" in t.out and "9,000 followers" in t.out


def test_estimate_from_two_sessions_says_it_is_mostly_the_prior(run: Run, db: str) -> None:
    r = run("estimate", "--from-history", "--db", db, "--host", "other_creator", "--seed", "2",
            "--sessions", "1000", "--json")
    assert r.code == 0, r.err
    cal = r.json()["calibration"]
    assert cal["sessions"] == 2 and cal["history_weight"] < 0.3
    assert "mostly the public prior" in cal["note"]
    assert math.isclose(cal["fitted"]["level"], cal["prior"]["level"], abs_tol=1.5)


@pytest.mark.parametrize("argv", [
    ("forecast", "--host", "@nobody"),
    ("forecast", "--host", "@test_creator", "--month", "2023-13"),
    ("forecast", "--host", "@test_creator", "--month", "November"),
    ("forecast",),  # two hosts, none chosen
    ("forecast", "--host", "@test_creator", "--as-of", "2023-10-01"),  # nothing yet
    ("forecast", "--host", "@test_creator", "--as-of", "15/11/2023"),
    ("forecast", "--host", "@test_creator", "--thresholds", "/no/such/file.toml"),
    ("estimate", "--from-history", "--host", "@nobody"),
    ("estimate", "--minutes", "30"),  # neither --followers nor --from-history
])
def test_bad_input_is_one_line_exit_2(run: Run, db: str, argv: tuple[str, ...]) -> None:
    _one_line_error(run(*argv, "--db", db))


def test_a_missing_database_is_one_line_exit_2(run: Run, tmp_path: Path) -> None:
    _one_line_error(run("forecast", "--db", str(tmp_path / "none.duckdb")))

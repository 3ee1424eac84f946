"""The estimator's and the planner's answers as JSON, step for step what ``liveworth estimate
--json`` and ``liveworth plan --json`` compute (the same calls, random streams and key order),
so that the web's ``/api/estimate`` and ``/api/plan`` give the command line's answer.

The inputs come checked (:class:`liveworth.model.inputs.Inputs`, what-if changes as
``{NAME: VALUE}`` text); ``history`` is a creator's recorded sessions
(:func:`liveworth.model.calibrate.load_history`), for ``--from-history``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from liveworth.economy.ratecard import RateCard
from liveworth.model.calibrate import Calibration, History, calibrate, estimate_from_history
from liveworth.model.coverage import input_warnings
from liveworth.model.estimate import (
    Estimate,
    WhatIf,
    apply_changes,
    estimate,
    parse_change,
    what_if,
)
from liveworth.model.history_inputs import history_months, sourced_inputs
from liveworth.model.inputs import Inputs
from liveworth.model.plan import Plan, plan
from liveworth.model.population import calibration_params, population_check


@dataclasses.dataclass(frozen=True, slots=True)
class Stated:
    """What a creator stated beside their history (``--from-history``): None is not stated."""

    followers: int | None = None
    viewers: float | None = None
    minutes: float | None = None
    per_week: float | None = None
    engagement: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EstimateAnswer:
    """The base case, the what-ifs against it, the calibration (from history) and the seed."""

    base: Estimate
    cases: tuple[WhatIf, ...]
    seed: int
    calibration: Calibration | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.base.as_dict()}
        if self.calibration is not None:
            out["calibration"] = self.calibration.as_dict()
        out["seed"] = self.seed
        if self.cases:
            out["what_if"] = [c.as_dict() for c in self.cases]
        return out


def _with_together(changes: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """The changes, and all of them together when there are several (as the CLI shows)."""
    out = [dict(c) for c in changes]
    if len(out) > 1:
        out.append({k: v for c in out for k, v in c.items()})
    return out


def estimate_answer(inputs: Inputs, changes: Sequence[Mapping[str, str]], *, card: RateCard,
                    channel: str | None, sessions: int, seed: int,
                    calibration: str | None = None) -> EstimateAnswer:
    """``estimate --followers … [--what-if …] --seed SEED --json``."""
    name = calibration or "article"
    per_coin = card.channel(None).usd_per_coin
    kw: dict[str, Any] = {"params": calibration_params(name, per_coin), "card": card,
                          "channel": channel, "sessions": sessions, "calibration": name}
    cases = [what_if(inputs, c, rng=np.random.default_rng(seed), **kw)
             for c in _with_together(changes)]
    base = cases[0].base if cases else estimate(inputs, rng=np.random.default_rng(seed), **kw)
    if name == "article" and per_coin > 0:
        population = estimate(inputs, rng=np.random.default_rng(seed), **{
            **kw, "params": calibration_params("population", per_coin),
            "calibration": "population"})
        base = dataclasses.replace(base, population_check=population_check(base, population))
    return EstimateAnswer(base, tuple(cases), seed)


def calibrated(history: History, stated: Stated, seed: int) -> Calibration:
    """The calibration of ``--from-history`` (its own random stream of the seed)."""
    return calibrate(history, rng=np.random.default_rng([seed, 0]), viewers=stated.viewers,
                     followers=stated.followers)


def _sourced(cal: Calibration, stated: Stated) -> tuple[Inputs, dict[str, str]]:
    return sourced_inputs(cal, followers=stated.followers, viewers=stated.viewers,
                          minutes=stated.minutes, per_week=stated.per_week,
                          engagement=stated.engagement)


def history_estimate_answer(history: History, stated: Stated,
                            changes: Sequence[Mapping[str, str]], *, card: RateCard,
                            channel: str | None, sessions: int, seed: int) -> EstimateAnswer:
    """``estimate --from-history [--host …] [--what-if …] --seed SEED --json``: the calibration's
    stream and the estimate's (one for the base case and every what-if)."""
    cal = calibrated(history, stated, seed)
    inputs, sources = _sourced(cal, stated)

    def run(i: Inputs) -> Estimate:
        e = estimate_from_history(cal, i, rng=np.random.default_rng([seed, 1]), card=card,
                                  channel=channel, sessions=sessions,
                                  sources=sources if i is inputs else None)
        return dataclasses.replace(e, calibration_set="history",
                                   warnings=input_warnings(cal.params, i))

    base = run(inputs)
    cases = tuple(WhatIf(dict(parse_change(k, v) for k, v in change.items()), base,
                         run(apply_changes(cal.params, inputs, change)))
                  for change in _with_together(changes))
    return EstimateAnswer(base, cases, seed, cal)


def plan_answer(target: Decimal, inputs: Inputs, *, card: RateCard, sessions: int, seed: int,
                calibration: str | None = None) -> Plan:
    """``plan --target-usd-month X --followers … --seed SEED`` (its JSON: ``as_dict()`` and
    the seed)."""
    name = calibration or "article"
    return plan(target, inputs, rng=np.random.default_rng(seed),
                params=calibration_params(name, card.channel(None).usd_per_coin), card=card,
                sessions=sessions, calibration=name)


def history_plan_answer(target: Decimal, history: History, stated: Stated, *, card: RateCard,
                        sessions: int, seed: int) -> tuple[Plan, Calibration]:
    """``plan --from-history --target-usd-month X --seed SEED``, and the calibration."""
    cal = calibrated(history, stated, seed)
    inputs, sources = _sourced(cal, stated)
    result = plan(target, inputs, rng=np.random.default_rng([seed, 1]), params=cal.params,
                  card=card, sessions=sessions, calibration="history",
                  months=history_months(cal), viewers_now=cal.typical_viewers(inputs))
    return dataclasses.replace(result, input_sources=sources), cal

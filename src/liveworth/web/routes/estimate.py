"""The estimator's form and its twin (``/estimate``, ``/api/estimate``): ``liveworth estimate``
from followers or ``--from-history`` (a host's recorded sessions), with ``--what-if`` changes
compared with the base case, under the page's rate-card preset and coin channel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from liveworth.errors import UsageError
from liveworth.web import charts
from liveworth.web.asking import (
    Asked,
    CalibrationName,
    EngagementText,
    FromHistory,
    HistoryHost,
    Text,
    WhatIfs,
    calibration_name,
    changes,
    check_work,
    seed_value,
    simulations,
)
from liveworth.web.cardoptions import CardChannel, Preset, card_options, or_blank
from liveworth.web.context import Ctx, Web
from liveworth.web.estimator import estimator, histogram_of
from liveworth.web.models import ErrorOut, EstimateOut
from liveworth.web.params import PAGE_ERRORS, query_string
from liveworth.web.routes.plan import SeedText, creator_hosts, remembered, with_history

router = APIRouter()

#: The form's fields, in the order of the JSON twin's query.
FIELDS = ("followers", "viewers", "minutes", "per_week", "engagement", "seed", "sessions",
          "calibration", "what_if", "from_history", "host", "preset", "channel")


def _form(**given: Any) -> dict[str, Any]:
    out = {k: v if isinstance(v, bool | list) else or_blank(v) for k, v in given.items()}
    out["what_if"] = [w for w in given.get("what_if") or () if w.strip()]
    return out


def _answer(web: Web, form: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``estimate … --json`` of the form's fields (with the histogram), and the answer."""
    from liveworth.model.answers import estimate_answer, history_estimate_answer
    from liveworth.model.population import calibration_params

    seed, n, name = seed_value(form["seed"]), simulations(form["sessions"]), \
        calibration_name(form["calibration"])
    card = web.card_for(form["preset"], form["channel"])
    asked = Asked(form["followers"], form["viewers"], form["minutes"], form["per_week"],
                  form["engagement"])
    what = changes(form["what_if"])
    check_work(n, len(what))
    if form["from_history"]:
        if name is not None:
            raise UsageError("calibration is for estimates from followers; from_history "
                             "calibrates to the host's own sessions")
        stated = asked.stated()
        answer = with_history(
            web, ("estimate-history", form["host"], stated, tuple(form["what_if"]), n, seed,
                  form["preset"], form["channel"]), form["host"], card,
            lambda h: history_estimate_answer(h, stated, what, card=card,
                                              channel=form["channel"], sessions=n, seed=seed))
        return {**answer.as_dict(), "histogram": []}, answer
    inputs = asked.inputs()

    def compute() -> tuple[dict[str, Any], Any]:
        answer = estimate_answer(inputs, what, card=card, channel=form["channel"], sessions=n,
                                 seed=seed, calibration=name)
        params = calibration_params(name or "article", card.channel(None).usd_per_coin)
        hist = histogram_of(estimator(), params, inputs, seed, n, card)  # type: ignore[arg-type]
        return {**answer.as_dict(), "histogram": hist}, answer

    return remembered(web, ("estimate", inputs, tuple(tuple(c.items()) for c in what), n, seed,
                            name, form["preset"], form["channel"]), compute)


@router.get("/estimate", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the estimator's form, the distribution it gives and what-ifs")
def estimate_page(request: Request, web: Ctx, followers: Text = None, viewers: Text = None,
                  minutes: Text = None, per_week: Text = None,
                  engagement: EngagementText = None, seed: SeedText = None,
                  sessions: Text = None, calibration: CalibrationName = None,
                  what_if: WhatIfs = None, from_history: FromHistory = False,
                  host: HistoryHost = None, preset: Preset = None,
                  channel: CardChannel = None) -> HTMLResponse:
    form = _form(followers=followers, viewers=viewers, minutes=minutes, per_week=per_week,
                 engagement=engagement, seed=seed, sessions=sessions, calibration=calibration,
                 what_if=what_if, from_history=from_history, host=host, preset=preset,
                 channel=channel)
    mod = estimator()
    context: dict[str, Any] = {"form": form, "available": mod is not None, "est": None,
                               "answer": None, "chart": None, "json_url": None,
                               "hosts": creator_hosts(web) if mod is not None else []}
    if mod is None or (form["followers"] is None and not from_history):
        return web.page(request, "estimate.html", title="Estimate", **context,
                        **card_options(request, web, form["preset"], form["channel"]))
    context.update(card_options(request, web, form["preset"], form["channel"]))
    est, answer = _answer(web, form)
    chart = None
    if est["histogram"]:
        per = est["per_session"]
        marks = [(f"p{p}", int(per["coins"][f"p{p}"]), str(per["creator_usd"][f"p{p}"]))
                 for p in (10, 50, 90)]
        chart = charts.histogram(est["histogram"], marks)
    json_query = {k: form[k] for k in FIELDS}
    json_query["from_history"] = "true" if from_history else None
    context.update(est=est, answer=answer, chart=chart,
                   json_url="/api/estimate" + query_string(**json_query))
    return web.page(request, "estimate.html", title="Estimate", **context)


@router.get("/api/estimate", response_model=EstimateOut, tags=["api"],
            summary="Estimate a creator's earnings per session and per month, with what-ifs "
            "(liveworth estimate --json)",
            responses={501: {"model": ErrorOut,
                             "description": "the estimator is not installed"},
                       400: {"model": ErrorOut,
                             "description": "a bad value, or inputs the estimator cannot take "
                             "together (one line naming the field)"}})
def estimate_api(web: Ctx, followers: Text = None, viewers: Text = None, minutes: Text = None,
                 per_week: Text = None, engagement: EngagementText = None,
                 seed: SeedText = None, sessions: Text = None,
                 calibration: CalibrationName = None, what_if: WhatIfs = None,
                 from_history: FromHistory = False, host: HistoryHost = None,
                 preset: Preset = None, channel: CardChannel = None) -> Any:
    if estimator() is None:
        return JSONResponse({"detail": "the estimator is not available in this installation"},
                            status_code=501)
    form = _form(followers=followers, viewers=viewers, minutes=minutes, per_week=per_week,
                 engagement=engagement, seed=seed, sessions=sessions, calibration=calibration,
                 what_if=what_if, from_history=from_history, host=host, preset=preset,
                 channel=channel)
    return _answer(web, form)[0]

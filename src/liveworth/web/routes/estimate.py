"""The estimator's form and its twin (``/estimate``, ``/api/estimate``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from liveworth.web import charts
from liveworth.web.context import Ctx
from liveworth.web.estimator import EstimateQuery, estimator
from liveworth.web.estimator import run_estimate as _run_estimate
from liveworth.web.models import (
    ErrorOut,
    EstimateOut,
    EstimateParams,
)
from liveworth.web.params import (
    PAGE_ERRORS,
)

router = APIRouter()


@router.get("/estimate", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the estimator's form and the distribution it gives")
def estimate_page(request: Request, web: Ctx) -> HTMLResponse:
    mod = estimator()
    raw = {k: v for k, v in request.query_params.items() if v != "" and k != "token"}
    if mod is None or "followers" not in raw:
        return web.page(request, "estimate.html", title="Estimate", json_url=None,
                        available=mod is not None, q=None, est=None, chart=None)
    try:  # the form's fields, checked exactly as /api/estimate checks its query
        params = EstimateParams.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    q = EstimateQuery(**params.model_dump())
    est = _run_estimate(mod, q, web.card)
    marks = [(f"p{p}", int(est["per_session"]["coins"][f"p{p}"])) for p in (10, 50, 90)]
    chart = charts.histogram_svg(est["histogram"], marks, "simulated sessions by creator USD")
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.model_dump().items()
                     if v is not None)
    return web.page(request, "estimate.html", title="Estimate", available=True, q=q, est=est,
                    chart=chart, json_url=f"/api/estimate?{query}")


@router.get("/api/estimate", response_model=EstimateOut, tags=["api"],
            summary="Estimate a creator's earnings per session and per month",
            responses={501: {"model": ErrorOut,
                             "description": "the estimator is not installed"},
                       400: {"model": ErrorOut,
                             "description": "inputs the estimator cannot take together"}})
def estimate_api(web: Ctx, params: Annotated[EstimateParams, Query()]) -> Any:
    mod = estimator()
    if mod is None:
        return JSONResponse({"detail": "the estimator is not available in this installation"},
                            status_code=501)
    return _run_estimate(mod, EstimateQuery(**params.model_dump()), web.card)

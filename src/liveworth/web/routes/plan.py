"""The planner (``/plan``, ``/api/plan``): what it takes to earn a monthly target, lever by lever,
with the odds — ``liveworth plan``, from followers or from a host's recorded sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from liveworth.economy.ratecard import RateCard
from liveworth.errors import UsageError
from liveworth.model.history import History, load_history
from liveworth.store.database import Store
from liveworth.web.asking import (
    Asked,
    CalibrationName,
    EngagementText,
    FromHistory,
    HistoryHost,
    Text,
    calibration_name,
    seed_value,
    simulations,
    target_usd,
)
from liveworth.web.cardoptions import CardChannel, Preset, card_options, or_blank
from liveworth.web.context import Ctx, Web
from liveworth.web.db import NoDatabase
from liveworth.web.models import ErrorOut
from liveworth.web.params import PAGE_ERRORS, query_string
from liveworth.web.plan_models import PlanOut

router = APIRouter()
T = TypeVar("T")

Target = Annotated[str | None, Query(max_length=40, description="what the creator wants to "
                                     "receive a month, USD (as --target-usd-month)")]
SeedText = Annotated[str | None, Query(max_length=40, description="random seed (default 0: "
                                       "the same question gets the same answer)")]
#: The form's fields, in the order of the form and of the JSON twin's query.
FIELDS = ("target_usd_month", "followers", "viewers", "minutes", "per_week", "engagement",
          "seed", "sessions", "calibration", "from_history", "host", "preset", "channel")
BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a bad value (one line naming the field)"},
    503: {"model": ErrorOut, "description": "the database is busy; try again (Retry-After)"},
}


def creator_hosts(web: Web) -> list[str]:
    """The store's creators, for the host picker of ``from_history``."""
    return sorted({r.host for r in web.sessions() if r.host}, key=str.lower)


def with_history(web: Web, key: tuple[Any, ...], host: str | None, card: RateCard,
                 compute: Callable[[History], T]) -> T:
    """``compute`` over ``host``'s recorded sessions (``load_history``), remembered under ``key``
    while the data stay the same."""
    def run(store: Store) -> T:
        return compute(load_history(store, host, card))

    try:
        return web.read(key, run)
    except NoDatabase:
        raise UsageError(f"{web.db_label}: no recorded sessions (import or record some "
                         "first)") from None


def remembered(web: Web, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` (an answer of the model alone), remembered like the store's answers."""
    try:
        return web.read(key, lambda _: compute())
    except NoDatabase:
        return compute()


def _answer(web: Web, form: dict[str, Any]) -> tuple[Any, Any, int]:
    """The plan of the form's fields, its calibration (from history) and the seed."""
    from liveworth.model.answers import history_plan_answer, plan_answer

    target = target_usd(form["target_usd_month"])
    seed, n = seed_value(form["seed"]), simulations(form["sessions"])
    name = calibration_name(form["calibration"])
    card = web.card_for(form["preset"], form["channel"])
    asked = Asked(form["followers"], form["viewers"], form["minutes"], form["per_week"],
                  form["engagement"])
    if not form["from_history"]:
        inputs = asked.inputs()
        return remembered(web, ("plan", target, inputs, n, seed, name, form["preset"],
                                form["channel"]),
                          lambda: plan_answer(target, inputs, card=card, sessions=n, seed=seed,
                                              calibration=name)), None, seed
    if name is not None:
        raise UsageError("calibration is for plans from followers; from_history calibrates to "
                         "the host's own sessions")
    stated = asked.stated()
    plan, cal = with_history(
        web, ("plan-history", form["host"], target, stated, n, seed, form["preset"],
              form["channel"]), form["host"], card,
        lambda h: history_plan_answer(target, h, stated, card=card, sessions=n, seed=seed))
    return plan, cal, seed


def _form(**given: Any) -> dict[str, Any]:
    return {k: (v if isinstance(v, bool) else or_blank(v)) for k, v in given.items()}


@router.get("/plan", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: what it takes to earn a monthly target (liveworth plan)")
def plan_page(request: Request, web: Ctx, target_usd_month: Target = None,
              followers: Text = None, viewers: Text = None, minutes: Text = None,
              per_week: Text = None, engagement: EngagementText = None, seed: SeedText = None,
              sessions: Text = None, calibration: CalibrationName = None,
              from_history: FromHistory = False, host: HistoryHost = None,
              preset: Preset = None, channel: CardChannel = None) -> HTMLResponse:
    form = _form(target_usd_month=target_usd_month, followers=followers, viewers=viewers,
                 minutes=minutes, per_week=per_week, engagement=engagement, seed=seed,
                 sessions=sessions, calibration=calibration, from_history=from_history,
                 host=host, preset=preset, channel=channel)
    opts = card_options(request, web, form["preset"], form["channel"])
    context: dict[str, Any] = {"form": form, "hosts": creator_hosts(web), "p": None,
                               "cal": None, "seed": None, "json_url": None, **opts}
    if form["target_usd_month"] is not None or form["followers"] is not None or from_history:
        p, cal, used = _answer(web, form)
        json_query = {k: form[k] for k in FIELDS}
        json_query["from_history"] = "true" if from_history else None
        context.update(p=p, cal=cal, seed=used, json_url="/api/plan" + query_string(**json_query))
    return web.page(request, "plan.html", title="Plan", **context)


@router.get("/api/plan", response_model=PlanOut, tags=["api"], responses=BAD_INPUT,
            summary="What it takes to earn a monthly target (liveworth plan --json)")
def plan_api(web: Ctx, target_usd_month: Target = None, followers: Text = None,
             viewers: Text = None, minutes: Text = None, per_week: Text = None,
             engagement: EngagementText = None, seed: SeedText = None, sessions: Text = None,
             calibration: CalibrationName = None, from_history: FromHistory = False,
             host: HistoryHost = None, preset: Preset = None,
             channel: CardChannel = None) -> dict[str, Any]:
    form = _form(target_usd_month=target_usd_month, followers=followers, viewers=viewers,
                 minutes=minutes, per_week=per_week, engagement=engagement, seed=seed,
                 sessions=sessions, calibration=calibration, from_history=from_history,
                 host=host, preset=preset, channel=channel)
    p, _, used = _answer(web, form)
    return {**p.as_dict(), "seed": used}

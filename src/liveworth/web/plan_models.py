"""The response model of the planner (``/api/plan``, ``liveworth plan --json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PlanOptionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    lever: str
    unit: str
    now: float
    needed: float | None = Field(description="the value that gives the odds asked (even odds); "
                                 "null: out of reach with this lever alone")
    odds: float | None
    hours_per_month: float | None


class PlanOut(BaseModel):
    """What it takes to earn a target a month (``Plan.as_dict()`` of liveworth.model.plan) and
    the seed."""

    model_config = ConfigDict(extra="allow")

    warnings: list[str]
    calibration_set: str
    input_sources: dict[str, str] | None
    target_usd_month: str = Field(description="USD a month, a decimal string")
    target_coins: int | None
    inputs: dict[str, Any]
    now: dict[str, Any]
    options: list[PlanOptionOut]
    rate_card: str
    simulations: int
    seed: int

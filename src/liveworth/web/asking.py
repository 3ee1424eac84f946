"""The estimator's and the planner's form fields, read as text and checked as the command line
checks ``estimate`` and ``plan`` (:mod:`liveworth.cli.estimate`): the same rules and limits, a
bad value a :class:`UsageError` of one line naming the field (a 400 page or JSON). Fields come
as text so that ``1,000``, ``high`` or a wrong value all reach these checks, never a 422."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import Annotated

from fastapi import Query

from liveworth.decode.formats import MAX_HOST
from liveworth.economy.numbers import checked_number, plain_int, ungrouped
from liveworth.economy.numbers import shown as _shown
from liveworth.economy.ratecard import MAX_PLACES
from liveworth.errors import UsageError
from liveworth.model.answers import Stated
from liveworth.model.coverage import refuse_empty
from liveworth.model.estimate import parse_change
from liveworth.model.generative import engagement_value
from liveworth.model.inputs import MAX_FOLLOWERS, MAX_VIEWERS, Inputs
from liveworth.web.estimator import MAX_WEB_SESSIONS, WEB_SESSIONS

#: The largest value of each field (the CLI's, but simulations: a web request stays quick).
LIMITS: dict[str, float] = {"followers": MAX_FOLLOWERS, "viewers": MAX_VIEWERS,
                            "minutes": 24 * 60, "per_week": 7 * 24,
                            "sessions": MAX_WEB_SESSIONS}
MAX_WHAT_IFS = 8
#: Simulated sessions one request may ask for in all (the base case, each what-if and, with
#: several, their combination): a web request stays within a few seconds.
MAX_WEB_WORK = 400_000
MAX_TARGET_USD = Decimal(10) ** 13
CALIBRATIONS = ("article", "population")

Text = Annotated[str | None, Query(max_length=40, description="a number (1,000 and 1_000 "
                                   "accepted)")]
EngagementText = Annotated[str | None, Query(max_length=40, description="chat and likes per "
                                             "viewer: a number (1 = typical) or low, typical, "
                                             "high")]
WhatIfs = Annotated[list[str] | None, Query(max_length=MAX_WHAT_IFS, description="a change "
                                            "NAME=VALUE (followers, viewers, minutes, per-week, "
                                            "engagement), repeatable; several are also shown "
                                            "together")]
FromHistory = Annotated[bool, Query(description="calibrate to the host's recorded sessions")]
HistoryHost = Annotated[str | None, Query(max_length=MAX_HOST + 1, description="whose "
                                          "sessions (default: the only host in the store)")]
CalibrationName = Annotated[str | None, Query(max_length=40, description="article (default) "
                                              "or population (estimates from followers)")]


def number(text: str | None, name: str, default: str | None = None, *,
           whole: bool = False) -> float | None:
    """A field's number (None when empty and no default), checked as the CLI's options are."""
    text = text.strip() if text is not None and text.strip() else default
    if text is None:
        return None
    return checked_number(text, name, LIMITS.get(name), whole=whole)


def seed_value(text: str | None) -> int:
    """The seed (default 0: the same question gets the same answer)."""
    if text is None or not text.strip():
        return 0
    try:
        value = plain_int(text)
    except ValueError:
        raise UsageError(f"seed: not a whole number: {_shown(text)!r}") from None
    if not 0 <= value <= 2**63 - 1:
        raise UsageError(f"seed: must lie between 0 and {2**63 - 1:,}, got {_shown(text)!r}")
    return value


def simulations(text: str | None) -> int:
    n = int(number(text, "sessions", str(WEB_SESSIONS), whole=True) or 0)
    if not 1 <= n <= MAX_WEB_SESSIONS:
        raise UsageError(f"sessions must lie between 1 and {MAX_WEB_SESSIONS:,}, got {n}")
    return n


def check_work(sessions: int, what_ifs: int) -> None:
    """Refuse a request whose cases together simulate more than :data:`MAX_WEB_WORK`."""
    cases = 1 + what_ifs + (1 if what_ifs > 1 else 0)
    if sessions * cases > MAX_WEB_WORK:
        raise UsageError(f"sessions × cases is {sessions * cases:,} ({sessions:,} sessions, "
                         f"{cases} cases): at most {MAX_WEB_WORK:,} a request; ask for fewer "
                         "sessions or what-ifs (the CLI has no such limit)")


def calibration_name(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if text not in CALIBRATIONS:
        raise UsageError(f"calibration: choose article or population, got {_shown(text)!r}")
    return text


def changes(items: list[str] | None) -> list[dict[str, str]]:
    """The what-ifs ``NAME=VALUE`` (empty fields skipped), as ``estimate --what-if``."""
    out = []
    for item in items or ():
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"what_if expects NAME=VALUE, got {_shown(item)!r}")
        key, parsed = parse_change(name.strip(), value.strip())
        refuse_empty(parsed if key == "followers" else None,
                     parsed if key == "per_week" else None, option="what-if ")
        out.append({name.strip(): value.strip()})
    return out


def target_usd(text: str | None) -> Decimal:
    """``--target-usd-month``: a positive amount of dollars (``$1,000.50`` accepted)."""
    if text is None or not text.strip():
        raise UsageError("target_usd_month is required: what you want to receive a month, USD")
    try:
        value = Decimal(ungrouped(text.strip().removeprefix("$")))
    except (ValueError, InvalidOperation):
        raise UsageError(f"target_usd_month: not a number: {_shown(text)!r}") from None
    if not value.is_finite() or not 0 < value <= MAX_TARGET_USD:
        raise UsageError(f"target_usd_month must be a positive amount up to "
                         f"{MAX_TARGET_USD:,}, got {_shown(text)!r}")
    if value != value.quantize(Decimal(1).scaleb(-MAX_PLACES), context=Context(prec=60)):
        raise UsageError(f"target_usd_month: at most {MAX_PLACES} decimal places")
    return value


@dataclass(frozen=True, slots=True)
class Asked:
    """The creator fields as given (text), before any default."""

    followers: str | None = None
    viewers: str | None = None
    minutes: str | None = None
    per_week: str | None = None
    engagement: str | None = None

    def inputs(self) -> Inputs:
        """From followers (the CLI's defaults: 60 minutes, 3 a week, typical)."""
        followers = number(self.followers, "followers", whole=True)
        if followers is None:
            raise UsageError("followers is required (or calibrate to a host's sessions: "
                             "from_history=true)")
        per_week = number(self.per_week, "per_week", "3") or 0.0
        refuse_empty(int(followers), per_week, option="")
        return Inputs(followers=int(followers), viewers=number(self.viewers, "viewers"),
                      minutes=number(self.minutes, "minutes", "60") or 0.0, per_week=per_week,
                      engagement=engagement_value(self.engagement or "typical"))

    def stated(self) -> Stated:
        """What is stated beside a history (the rest comes from it)."""
        followers = number(self.followers, "followers", whole=True)
        per_week = number(self.per_week, "per_week")
        refuse_empty(None if followers is None else int(followers), per_week, option="")
        engagement = (None if self.engagement is None or not self.engagement.strip()
                      else engagement_value(self.engagement))
        return Stated(None if followers is None else int(followers),
                      number(self.viewers, "viewers"), number(self.minutes, "minutes"), per_week,
                      engagement)

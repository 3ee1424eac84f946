"""What a creator tells the model, and the bounds on it: :class:`Inputs` and the limits every
entry point checks (the estimator, the planner, the simulator, the command line).

Plain Python, no NumPy: the command line builds its parser from these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from liveworth.errors import UsageError

#: Default number of simulated worlds (sessions and months).
DEFAULT_SESSIONS = 20_000
#: Most simulated worlds one estimate may ask for.
MAX_SESSIONS = 5_000_000
#: The largest inputs the model takes.
MAX_FOLLOWERS = 10**10
MAX_VIEWERS = 10**8
MAX_ENGAGEMENT = 100.0
#: The longest session (a day) and the most sessions a week the model takes.
MAX_MINUTES = 24 * 60
MAX_PER_WEEK = 50
#: Days in an average month.
MONTH_DAYS = 365.25 / 12

#: What-if and plan lever names (CLI spelling → Inputs field).
LEVERS: Mapping[str, str] = MappingProxyType({
    "followers": "followers",
    "viewers": "viewers",
    "minutes": "minutes",
    "per-week": "per_week",
    "per_week": "per_week",
    "engagement": "engagement",
})


def _shown(value: float) -> str:
    """A number as the user gave it (``51``, not ``51.0``), shortened when it runs to hundreds of
    digits."""
    whole = isinstance(value, float) and value.is_integer() and abs(value) < 1e16
    text = str(int(value)) if whole else str(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def _bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def out_of_range(name: str, value: float, low: float, high: float, *,
                 above_low: bool = False) -> UsageError:
    """The error for ``value`` outside ``[low, high]`` (``(low, high]`` when ``above_low``),
    stating the rule exactly: ``minutes must be more than 0 and at most 1,440, got 0``."""
    rule = (f"must be more than {_bound(low)} and at most {_bound(high)}" if above_low
            else f"must lie between {_bound(low)} and {_bound(high)}")
    return UsageError(f"{name} {rule}, got {_shown(value)}")


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a creator knows about their LIVEs. ``viewers`` (typical concurrent) is optional."""

    followers: int
    viewers: float | None = None
    minutes: float = 60.0
    per_week: float = 3.0
    engagement: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.followers, bool) or not isinstance(self.followers, int):
            raise UsageError(f"followers must be a whole number, got {self.followers!r}")
        if not 0 <= self.followers <= MAX_FOLLOWERS:
            raise out_of_range("followers", self.followers, 0, MAX_FOLLOWERS)
        if self.viewers is not None and not (math.isfinite(self.viewers)
                                             and 0 <= self.viewers <= MAX_VIEWERS):
            raise out_of_range("viewers", self.viewers, 0, MAX_VIEWERS)
        if not (math.isfinite(self.minutes) and 1 <= self.minutes <= MAX_MINUTES):
            raise out_of_range("minutes", self.minutes, 1, MAX_MINUTES)
        if not (math.isfinite(self.per_week) and 0 <= self.per_week <= MAX_PER_WEEK):
            raise out_of_range("sessions per week", self.per_week, 0, MAX_PER_WEEK)
        if not (math.isfinite(self.engagement) and 0 < self.engagement <= MAX_ENGAGEMENT):
            raise out_of_range("engagement", self.engagement, 0, MAX_ENGAGEMENT, above_low=True)

    @property
    def sessions_per_month(self) -> float:
        return self.per_week * MONTH_DAYS / 7

    def as_dict(self) -> dict[str, Any]:
        return {"followers": self.followers, "viewers": self.viewers, "minutes": self.minutes,
                "per_week": self.per_week, "engagement": self.engagement}


#: Where an input of a history-based estimate came from (:mod:`liveworth.model.history_inputs`).
FROM_STATED = "stated"
FROM_HISTORY = "your sessions"
FROM_MODEL = "the model"

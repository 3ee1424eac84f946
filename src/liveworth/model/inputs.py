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
    """A number as the user gave it, shortened when it runs to hundreds of digits."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


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
            raise UsageError(f"followers must lie between 0 and {MAX_FOLLOWERS:,}, got "
                             f"{_shown(self.followers)}")
        if self.viewers is not None and not (math.isfinite(self.viewers)
                                             and 0 <= self.viewers <= MAX_VIEWERS):
            raise UsageError(f"viewers must lie between 0 and {MAX_VIEWERS:,}, got "
                             f"{_shown(self.viewers)}")
        if not (math.isfinite(self.minutes) and 1 <= self.minutes <= 24 * 60):
            raise UsageError(f"minutes must lie between 1 and 1440, got {_shown(self.minutes)}")
        if not (math.isfinite(self.per_week) and 0 <= self.per_week <= 50):
            raise UsageError(f"sessions per week must lie between 0 and 50, got "
                             f"{_shown(self.per_week)}")
        if not (math.isfinite(self.engagement) and 0 < self.engagement <= MAX_ENGAGEMENT):
            raise UsageError(f"engagement must lie between 0 and {MAX_ENGAGEMENT:g}, got "
                             f"{_shown(self.engagement)}")

    @property
    def sessions_per_month(self) -> float:
        return self.per_week * MONTH_DAYS / 7

    def as_dict(self) -> dict[str, Any]:
        return {"followers": self.followers, "viewers": self.viewers, "minutes": self.minutes,
                "per_week": self.per_week, "engagement": self.engagement}

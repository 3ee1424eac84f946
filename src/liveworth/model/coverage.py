"""What the calibration covers, and the warnings of an estimate or a plan that leaves it.

The model is fitted to creators who may go LIVE (TikTok asks for about 1,000 followers), up to
the largest creators its yardsticks describe (20 M followers), with audiences such followers
support and engagement within the named levels (low to high). An estimate outside that range is
still computed — the model's structure extends — but says so in ``warnings``: sentences for
people, in the JSON and on the terminal. Inputs that mean nothing to estimate (no followers, no
sessions) are usage errors instead (:func:`refuse_empty`).
"""

from __future__ import annotations

import math

from liveworth.errors import UsageError
from liveworth.model.generative import ENGAGEMENT_LEVELS, ModelParams, median_viewers
from liveworth.model.inputs import Inputs

#: TikTok's follower requirement for going LIVE (about 1,000 in the US and UK; ECONOMICS.md,
#: 2026 update, grade A): below it the model describes accounts that cannot go LIVE.
MIN_LIVE_FOLLOWERS = 1_000
#: Who may go LIVE and receive gifts: every estimate and plan assumes they hold (ECONOMICS.md,
#: 2026 update: A, TikTok support "LIVE Gifts"; B, press).
PRECONDITIONS: tuple[str, ...] = (
    "18 or older (TikTok's age for LIVE since 2022-11-23; guides that say 16 are outdated)",
    f"about {MIN_LIVE_FOLLOWERS:,} followers (the requirement in the US and UK; it differs by "
    "country)",
    "an account in good standing (no recent Community Guidelines violations)",
    "not a government, politician or political party account (those may not receive LIVE Gifts)",
)
#: The largest creators the calibration's yardsticks describe (the article's top tier, the real
#: 4.3 M-follower session); beyond them the power laws are extrapolated.
MAX_CALIBRATED_FOLLOWERS = 20_000_000
#: Engagement the model is described for: its named levels, low (0.5) to high (2).
ENGAGEMENT_RANGE = (min(ENGAGEMENT_LEVELS.values()), max(ENGAGEMENT_LEVELS.values()))
#: Stated viewers above this quantile of creators with the same followers are flagged (p99.9).
VIEWERS_Z = 3.09


def refuse_empty(followers: float | None, per_week: float | None, *,
                 option: str = "--") -> None:
    """0 followers or 0 sessions a week: nothing to estimate, a usage error (``option`` prefixes
    the names: ``--`` for ``--followers``, ``--what-if `` for a what-if)."""
    if followers is not None and followers == 0:
        raise UsageError(f"{option}followers must be at least 1 (TikTok asks for about 1,000 "
                         "to go LIVE), got 0")
    if per_week is not None and per_week == 0:
        raise UsageError(f"{option}per-week must be more than 0 (with no sessions there is "
                         "nothing to estimate), got 0")


def most_viewers(params: ModelParams, followers: int, per_week: float) -> float:
    """Typical concurrent viewers that 99.9 % of creators with ``followers`` stay below."""
    return (median_viewers(params, followers, per_week)
            * math.exp(VIEWERS_Z * params.creator_viewers_sigma))


def _followers(inputs: Inputs) -> str | None:
    f = inputs.followers
    if f < MIN_LIVE_FOLLOWERS:
        return (f"{f:,} followers is below the {MIN_LIVE_FOLLOWERS:,} TikTok asks for to go LIVE: "
                "the calibration covers 1,000 to 20,000,000 followers, so this is an "
                "extrapolation")
    if f > MAX_CALIBRATED_FOLLOWERS:
        return (f"{f:,} followers is beyond the largest creators the calibration covers "
                f"({MAX_CALIBRATED_FOLLOWERS:,}): the audience and the money are extrapolated "
                "from smaller creators and may be far off")
    return None


def viewers_warning(params: ModelParams, followers: int, viewers: float | None,
                    per_week: float) -> str | None:
    """A warning when ``viewers`` is beyond what ``followers`` support or any covered room."""
    if viewers is None:
        return None
    largest = median_viewers(params, MAX_CALIBRATED_FOLLOWERS, per_week)
    if viewers > largest:
        return (f"{viewers:,.0f} typical concurrent viewers is beyond the largest room the "
                f"calibration covers (~{largest:,.0f}, a 20 M-follower creator's): the money "
                "is extrapolated")
    if followers > 0 and viewers > most_viewers(params, followers, per_week):
        return (f"{viewers:,.0f} typical concurrent viewers is more than 99.9 % of creators "
                f"with {followers:,} followers have in this model (typical "
                f"{median_viewers(params, followers, per_week):,.0f}): check the figure; the "
                "estimate follows the viewers")
    return None


def engagement_warning(engagement: float) -> str | None:
    low, high = ENGAGEMENT_RANGE
    if low <= engagement <= high:
        return None
    return (f"engagement {engagement:g} is outside the range the model is described for "
            f"({low:g}, low, to {high:g}, high): its effect on gifting is extrapolated")


def input_warnings(params: ModelParams, inputs: Inputs) -> tuple[str, ...]:
    """Every warning for ``inputs``: followers, viewers and engagement outside the calibration."""
    found = (_followers(inputs),
             viewers_warning(params, inputs.followers, inputs.viewers, inputs.per_week),
             engagement_warning(inputs.engagement))
    return tuple(w for w in found if w)

"""The estimator behind the web form: :mod:`liveworth.model.estimate`, when it is installed.

The module is imported lazily; :func:`estimator` gives None when it is missing, and the page says
the estimator is not available. The answer is ``liveworth estimate --json``'s
(:mod:`liveworth.model.answers`) plus a histogram of the simulated sessions' earnings, drawn from
the very samples the estimate's quantiles come from (same seed, same draw).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from liveworth.economy.money import creator_usd, fmt
from liveworth.economy.ratecard import RateCard

#: Simulated sessions per web estimate (the CLI's default) and the most a request may ask for.
WEB_SESSIONS = 20_000
MAX_WEB_SESSIONS = 200_000
#: Histogram bins per factor of ten of coins.
BINS_PER_DECADE = 4


def estimator() -> ModuleType | None:
    """``liveworth.model.estimate`` if it can be imported, else None."""
    try:
        return importlib.import_module("liveworth.model.estimate")
    except ImportError:
        return None


@dataclass(frozen=True, slots=True)
class Bin:
    coins_from: int
    coins_to: int
    share: float

    def as_dict(self, card: RateCard) -> dict[str, Any]:
        return {"coins_from": self.coins_from, "coins_to": self.coins_to,
                "creator_usd_from": fmt(creator_usd(self.coins_from, card)),
                "creator_usd_to": fmt(creator_usd(self.coins_to, card)),
                "share": round(self.share, 6)}


def histogram(coins: np.ndarray[Any, np.dtype[np.int64]]) -> list[Bin]:
    """Shares of sessions by coins, in log-spaced bins (``BINS_PER_DECADE`` per factor of ten);
    sessions with no coins form the first bin, [0, 1)."""
    n = int(coins.shape[0])
    if n == 0:
        return []
    top = int(coins.max())
    decades = max(1, math.ceil(math.log10(top + 1)))
    edges = np.unique(np.round(
        np.logspace(0, decades, decades * BINS_PER_DECADE + 1)).astype(np.int64))
    edges = np.concatenate(([0], edges))
    counts, _ = np.histogram(coins, bins=edges)
    return [Bin(int(a), int(b), int(c) / n)
            for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)]


def histogram_of(mod: ModuleType, params: Any, inputs: Any, seed: int, sessions: int,
                 card: RateCard) -> list[dict[str, Any]]:
    """The histogram of the simulated sessions an estimate from followers draws (the same
    seed, the same draw as its quantiles); empty when the model has no sampler."""
    sample = getattr(mod, "sample_coins", None)
    if sample is None:
        return []
    draws = sample(params, inputs, np.random.default_rng(seed), sessions)
    return [b.as_dict(card) for b in histogram(draws.session)]

"""The whales' coins in a session, world by world: the estimator's half of the room-scaled tail.

A gifter is a whale with a probability that grows with the room (:func:`generative.whale_share_at`)
and spends a Pareto amount from ``whale_min`` with index ``whale_alpha``, cut at a largest spend
that grows with the room too (:func:`generative.whale_max_at`). Everything here is that truncated
Pareto in closed form, vectorised over worlds that each have their own cut: survival, the partial
moments below a threshold and exact draws above it, so that the compound sum of a world's whales
can be drawn with the same Asmussen–Rosiński split as the other gifters (a few exact draws, a gamma
with the exact mean and variance of the rest).
"""

from __future__ import annotations

import numpy as np

from liveworth.model.generative import FloatArray, IntArray, ModelParams

#: Expected number of exactly drawn whales per world (the rest by a moment-matched gamma).
EXACT_WHALES = 8.0


def _integral(a: float, b: FloatArray, p: float) -> FloatArray:
    """∫ₐᵇ x^(p−1) dx for each b (the logarithm when p is 0)."""
    if abs(p) < 1e-12:
        return np.asarray(np.log(b / a), dtype=np.float64)
    return np.asarray((b ** p - a ** p) / p, dtype=np.float64)


class WhaleTail:
    """Truncated Pareto spends of one whale, one cut per world."""

    def __init__(self, params: ModelParams, cap: FloatArray) -> None:
        self.low = params.whale_min
        self.alpha = params.whale_alpha
        self.cap = np.maximum(np.asarray(cap, dtype=np.float64), self.low * (1 + 1e-9))
        self.u_cap = (self.low / self.cap) ** self.alpha
        self.norm = 1.0 - self.u_cap

    def partial(self, t: FloatArray, power: int) -> FloatArray:
        """E[X^power; X < t] (t within [low, cap])."""
        scale = self.alpha * self.low ** self.alpha / self.norm
        return np.asarray(scale * _integral(self.low, t, power - self.alpha), dtype=np.float64)

    @property
    def mean(self) -> FloatArray:
        return self.partial(self.cap, 1)

    def threshold(self, whales: FloatArray) -> FloatArray:
        """Per world, the spend above which ``EXACT_WHALES`` of ``whales`` are expected (the
        smallest spend when fewer whales than that are expected at all)."""
        above = np.minimum(EXACT_WHALES / np.maximum(whales, 1e-300), 1.0)
        u = self.u_cap + above * self.norm
        return np.asarray(np.minimum(self.low * u ** (-1.0 / self.alpha), self.cap),
                          dtype=np.float64)

    def draw_above(self, t: FloatArray, world: IntArray,
                   rng: np.random.Generator) -> FloatArray:
        """One spend per entry of ``world``, at least ``t[world]`` and at most its cut."""
        span = (self.low / t) ** self.alpha - self.u_cap  # per world: P(X ≥ t) × norm
        x: FloatArray = np.asarray(rng.random(world.shape[0]), dtype=np.float64)
        x *= span[world]
        x += self.u_cap[world]
        return np.asarray(self.low * x ** (-1.0 / self.alpha), dtype=np.float64)


def whale_coins(whales: FloatArray, cap: FloatArray, params: ModelParams,
                rng: np.random.Generator) -> IntArray:
    """Per world, the whole coins of Poisson(``whales``) whales with spends cut at ``cap``."""
    n = whales.shape[0]
    tail = WhaleTail(params, cap)
    t = tail.threshold(whales)
    mean = whales * tail.partial(t, 1)
    var = whales * tail.partial(t, 2)
    rest = np.zeros(n, dtype=np.float64)
    some = (mean > 0) & (var > 0)
    rest[some] = rng.gamma(mean[some] ** 2 / var[some], var[some] / mean[some])
    counts = rng.poisson(np.minimum(whales, EXACT_WHALES))
    world = np.repeat(np.arange(n), counts)
    drawn = np.rint(tail.draw_above(t, world, rng))
    exact = np.bincount(world, weights=drawn, minlength=n)
    return (np.rint(rest) + exact).astype(np.int64)

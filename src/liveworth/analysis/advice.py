"""Recommendations: the seed article's five strategies tied to a creator's measured levers.

The article's advice — promote your LIVEs, engage your audience, go live consistently, optimise
your content, analyse your performance — is the same for everyone. Here each strategy is tied to
the lever of this creator's own sessions that measures it (:mod:`liveworth.analysis.drivers`), with
the evidence and the money a change of that lever is expected to make per session, with its
interval; when the data are too few it says so instead of inventing a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from liveworth.analysis.drivers import LEVEL, MIN_SESSIONS, TOO_FEW, Driver
from liveworth.analysis.gifters import TREND_DAYS, WhaleDependence
from liveworth.analysis.sessionstats import SessionStats
from liveworth.economy.money import fmt, usd

#: What a recommendation's expected effect changes a log-scale lever by (+20 %).
LEVER_STEP = 0.20


@dataclass(frozen=True, slots=True)
class Expected:
    """The money a change of one lever is expected to make per session, with its interval."""

    change: str
    pct: float
    pct_low: float
    pct_high: float
    usd_per_session: Decimal
    usd_low: Decimal
    usd_high: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, "pct": round(self.pct, 2),
                "pct_low": round(self.pct_low, 2), "pct_high": round(self.pct_high, 2),
                "usd_per_session": fmt(self.usd_per_session), "usd_low": fmt(self.usd_low),
                "usd_high": fmt(self.usd_high)}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One of the article's strategies, tied to the creator's own measured lever.

    ``status``: ``measured`` (the interval excludes no effect), ``unclear`` (measured, but the
    interval includes no effect), ``too few sessions`` or ``not measurable`` (e.g. every session
    had the same length).
    """

    strategy: str
    lever: str
    status: str
    advice: str
    evidence: str
    expected: Expected | None

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "lever": self.lever, "status": self.status,
                "advice": self.advice, "evidence": self.evidence,
                "expected": None if self.expected is None else self.expected.as_dict()}


def signed_usd(value: Decimal) -> str:
    """A dollar amount with its sign in front: ``-$0.12``, ``$3.40``."""
    return f"-{usd(-value)}" if value < 0 else usd(value)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _expected(change: str, pcts: tuple[float, float, float], base: Decimal) -> Expected:
    pct, lo, hi = pcts
    lo, hi = min(lo, hi), max(lo, hi)

    def money(p: float) -> Decimal:
        return _cents(base * Decimal(repr(round(p, 6))) / 100)

    return Expected(change, pct, lo, hi, money(pct), money(lo), money(hi))


Triple = tuple[float, float, float]


def _triple(d: Driver, change: Callable[[float], float]) -> Triple:
    """``change`` applied to the effect and to both ends of its interval."""
    if d.effect is None or d.ci_low is None or d.ci_high is None:
        raise ValueError(f"driver {d.name} was not measured")
    return change(d.effect), change(d.ci_low), change(d.ci_high)


def _step(d: Driver, step: float) -> Triple:
    """% change in coins when a log-scale lever grows by ``step`` (e.g. 0.2 = +20 %)."""
    return _triple(d, lambda b: 100 * ((1 + step) ** b - 1))


def _one_day_less(d: Driver) -> Triple:
    """% change in coins for one day less since the previous LIVE (effect in % per day)."""
    return _triple(d, lambda p: 100 * (100 / (100 + p) - 1))


def _say(d: Driver) -> str:
    if d.effect is None:
        return f"{d.label}: {d.note}"
    unit = "" if d.unit == "elasticity" else " %"
    what = "elasticity " if d.unit == "elasticity" else ""
    return (f"{d.label}: {what}{d.effect:+.2f}{unit} ({LEVEL:.0%} CI {d.ci_low:+.2f} to "
            f"{d.ci_high:+.2f}{unit}; {d.n} sessions)")


def _status(d: Driver) -> str:
    if d.effect is None:
        return TOO_FEW if d.note.startswith(TOO_FEW) else "not measurable"
    return "measured" if d.significant else "unclear"


def _grow(d: Driver) -> Triple:
    """% change in coins when a log-scale lever grows by :data:`LEVER_STEP`."""
    return _step(d, LEVER_STEP)


@dataclass(frozen=True, slots=True)
class _Lever:
    """One strategy tied to its lever: the change to price and the advice for each outcome.

    ``good``: the change measurably pays; ``bad``: it measurably costs; ``flat``: unclear.
    """

    strategy: str
    driver: Driver
    change: str
    pcts: Callable[[Driver], Triple]
    good: str
    flat: str
    bad: str
    extra: Sequence[Driver] = ()
    note: str = ""

    def recommend(self, base: Decimal, min_sessions: int) -> Recommendation:
        d = self.driver
        status = _status(d)
        evidence = "; ".join([_say(d), *(_say(e) for e in self.extra)]) + self.note
        if d.effect is None:
            advice = f"Not measurable yet — {d.note}. " + (
                f"Keep recording every LIVE: at least {min_sessions} sessions are needed."
                if status == TOO_FEW else "Vary this lever between sessions to learn what it "
                "does for you.")
            return Recommendation(self.strategy, d.name, status, advice, evidence, None)
        exp = _expected(self.change, self.pcts(d), base)
        advice = self.good if status == "measured" and exp.pct > 0 else (
            self.bad if status == "measured" else self.flat)
        return Recommendation(self.strategy, d.name, status, advice, evidence, exp)


def _promote(by: Mapping[str, Driver], step: str) -> _Lever:
    return _Lever(
        "Promote your LIVEs", by["avg_viewers"], f"+{step} average viewers", _grow,
        "Promote every LIVE ahead of time (a post or story with the time, a LIVE event, "
        "collaborations): your coins grow with your audience.",
        "Your coins have not yet moved measurably with your audience; promotion is still the "
        "surest lever for most creators — keep measuring.",
        "Bigger audiences have not brought you more coins: look at who you attract when you "
        "promote (a broad audience that does not gift).")


def _engage(by: Mapping[str, Driver], step: str) -> _Lever:
    return _Lever(
        "Engage your audience", by["comments_per_viewer_minute"],
        f"+{step} comments per viewer-minute", _grow,
        "Talk with your viewers — questions, shout-outs, thanking gifters by name: your "
        "sessions with more chat per viewer earn more.",
        "More chat per viewer has not yet shown up in your coins; engagement still keeps "
        "viewers, so keep it up while more sessions come in.",
        "Sessions with more chat per viewer earned less: chat that crowds out gifting "
        "moments (games, Q&A) may not pay.",
        extra=[by["likes_per_viewer_minute"], by["follows_shares_per_viewer_minute"]])


def _best_times(found: Sequence[Driver]) -> list[Driver]:
    """Start dayparts and weekdays that measurably earn more, the strongest first."""
    return sorted((d for d in found if d.name.startswith(("start_daypart:", "weekday:"))
                   and d.significant and d.effect is not None and d.effect > 0),
                  key=lambda d: -(d.effect or 0.0))


def _per_week(sessions: Sequence[SessionStats]) -> float:
    """Sessions a week over the span of ``sessions`` (at least one week)."""
    weeks = max((sessions[-1].start_ts - sessions[0].start_ts) / (7 * 86_400_000), 1.0) \
        if sessions else 1.0
    return len(sessions) / weeks


def _consistency(by: Mapping[str, Driver], sessions: Sequence[SessionStats],
                 found: Sequence[Driver], base: Decimal) -> _Lever:
    gap = by["days_since_previous"]
    best = _best_times(found)
    per_week = _per_week(sessions)
    return _Lever(
        "Go live consistently", gap, "one day less between LIVEs", _one_day_less,
        "Go live on a regular schedule: your sessions after shorter breaks earn more.",
        "Breaks between LIVEs have not measurably changed a session's coins; a fixed "
        "schedule still adds sessions — each one is money.",
        "Sessions after longer breaks earned more: rest between LIVEs seems to pay, so "
        "plan fewer, stronger sessions.",
        extra=best[:2],
        note=(f"; you go live {per_week:.1f} times a week; one more session a week adds "
              f"about {usd(base * Decimal(52) / Decimal(12))} a month at your mean "
              f"{usd(base)} per session"))


def _content(by: Mapping[str, Driver], step: str) -> _Lever:
    length, battles = by["session_length"], by["battles"]
    return _Lever(
        "Optimise your content", length, f"sessions {step} longer", _grow,
        "Your longer sessions earn more at the same audience: stretch your best format.",
        "Session length has not measurably changed your coins at a given audience: improve "
        "what happens in the session (battles, gift goals) rather than its length.",
        "Longer sessions earned less at the same audience: keep sessions tight.",
        extra=[battles])


def recommendations(sessions: Sequence[SessionStats], found: Sequence[Driver],
                    whales: WhaleDependence, min_sessions: int = MIN_SESSIONS
                    ) -> list[Recommendation]:
    """The five strategies of the seed article, each with this creator's evidence.

    Expected effects are per session, applied to the creator's mean creator USD per session
    (the drivers are changes of *expected* coins, so this is their money).
    """
    by = {d.name: d for d in found}
    n = len(sessions)
    base = (sum((s.creator_usd for s in sessions), Decimal(0)) / n) if n else Decimal(0)
    step = f"{LEVER_STEP:.0%}"
    return [
        _promote(by, step).recommend(base, min_sessions),
        _engage(by, step).recommend(base, min_sessions),
        _consistency(by, sessions, found, base).recommend(base, min_sessions),
        _content(by, step).recommend(base, min_sessions),
        _analyse(whales, base, n, min_sessions),
    ]


def _analyse(whales: WhaleDependence, base: Decimal, n: int,
             min_sessions: int) -> Recommendation:
    strategy, lever = "Analyse your performance", "whale_dependence"
    evidence = (f"{whales.top1_share:.0%} of your coins come from your top gifter and "
                f"{whales.top5_share:.0%} from your top 5 ({n} session(s), {whales.gifters:,} "
                "gifters)")
    if whales.trend_top5 is not None and whales.trend_ci_low is not None \
            and whales.trend_ci_high is not None:
        evidence += (f"; a session's top-5 share changes {whales.trend_top5:+.1%} per "
                     f"{TREND_DAYS} days ({LEVEL:.0%} CI {whales.trend_ci_low:+.1%} to "
                     f"{whales.trend_ci_high:+.1%})")
    loss = -100 * whales.top1_share
    exp = _expected("your top gifter stops gifting (as recorded, no interval)",
                    (loss, loss, loss), base)
    if n < min_sessions:
        return Recommendation(strategy, lever, TOO_FEW,
                              f"{TOO_FEW} for a reliable picture ({n}, at least "
                              f"{min_sessions} needed): keep recording every LIVE and review "
                              "this analysis again.", evidence, exp)
    advice = ("Review this analysis monthly. Your earnings depend heavily on a few gifters: "
              "thank and keep them, and grow the number of mid-size gifters so that one "
              "departure does not sink a month." if whales.top5_share >= 0.5 else
              "Review this analysis monthly. Your earnings are spread over many gifters, "
              "which keeps them steady; keep widening that base.")
    return Recommendation(strategy, lever, "measured", advice, evidence, exp)

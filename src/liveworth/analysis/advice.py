"""Recommendations and risks: the seed article's five strategies tied to a creator's measured
levers, and what the money rests on.

The article's advice — promote your LIVEs, engage your audience, go live consistently, optimise
your content, analyse your performance — is the same for everyone. Here each strategy is tied to
the lever of this creator's own sessions that measures it (:mod:`liveworth.analysis.drivers`).

**The rules.** A recommendation's ``expected`` is the money of *following that advice*, never of
some other change: its direction is the measured driver's — sessions 20 % shorter when shorter
sessions earned more, one more day between LIVEs when sessions after longer breaks earned more —
so a ``measured`` recommendation's expected gain, and its whole interval, are never negative.
When the driver's interval includes no effect the direction is unknown: the status is
``unclear``, the advice says so and there is no ``expected`` (the evidence keeps the interval).
When the data are too few, or the lever cannot be estimated, it says so instead of inventing a
number. What could *cost* money — a top gifter stopping, whale dependence — is not a
recommendation: it is a :class:`Risk`, in its own list with its own words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from liveworth.analysis.drivers import LEVEL, MIN_SESSIONS, TOO_FEW, Driver
from liveworth.analysis.gifters import TREND_DAYS, GifterStats, WhaleDependence
from liveworth.analysis.sessionstats import SessionStats
from liveworth.economy.money import fmt, usd
from liveworth.economy.numbers import count

#: What a recommendation's expected effect changes a log-scale lever by (20 %).
LEVER_STEP = 0.20
#: A risk's level by the share of coins at stake: at least this much is ``high``…
HIGH_SHARE = 0.5
#: … and at least this much ``moderate`` (below it, ``low``).
MODERATE_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Expected:
    """The money that following a recommendation is expected to make per session.

    ``step`` is the change of the lever the advice asks for: ``0.2`` = 20 % more, ``-0.2`` =
    20 % less, ``1`` / ``-1`` = one day more / less between LIVEs. Money is the creator's USD.
    """

    change: str
    step: float
    pct: float
    pct_low: float
    pct_high: float
    usd_per_session: Decimal
    usd_low: Decimal
    usd_high: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, "step": self.step, "pct": round(self.pct, 2),
                "pct_low": round(self.pct_low, 2), "pct_high": round(self.pct_high, 2),
                "usd_per_session": fmt(self.usd_per_session), "usd_low": fmt(self.usd_low),
                "usd_high": fmt(self.usd_high)}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One of the article's strategies, tied to the creator's own measured lever.

    ``status``: ``measured`` (the interval excludes no effect), ``unclear`` (measured, but the
    interval includes no effect: no direction, no ``expected``), ``too few sessions`` or ``not
    measurable`` (e.g. every session had the same length). ``direction``: ``more`` or ``less``
    of the lever, as the advice asks (None without a measured direction).
    """

    strategy: str
    lever: str
    status: str
    direction: str | None
    advice: str
    evidence: str
    expected: Expected | None

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "lever": self.lever, "status": self.status,
                "direction": self.direction, "advice": self.advice, "evidence": self.evidence,
                "expected": None if self.expected is None else self.expected.as_dict()}


@dataclass(frozen=True, slots=True)
class Risk:
    """What the creator's money rests on, and what it would lose (as recorded, no model).

    ``coin_share``: the share of all coins at stake; ``creator_usd_per_session``: the creator's
    USD per session at stake (both None for a trend); ``level``: ``high``, ``moderate`` or
    ``low`` (see :data:`HIGH_SHARE`).
    """

    name: str
    level: str
    what: str
    coin_share: float | None
    creator_usd_per_session: Decimal | None
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        money = self.creator_usd_per_session
        return {"name": self.name, "level": self.level, "what": self.what,
                "coin_share": None if self.coin_share is None else round(self.coin_share, 4),
                "creator_usd_per_session": None if money is None else fmt(money),
                "evidence": self.evidence}


def signed_usd(value: Decimal) -> str:
    """A dollar amount with its sign in front: ``-$0.12``, ``$3.40``."""
    return f"-{usd(-value)}" if value < 0 else usd(value)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


Triple = tuple[float, float, float]


def _growth(rate: float, times: float) -> float:
    """``100 × (rate^times − 1)``: infinite where that overflows a float."""
    if rate <= 0:  # a lever that takes all the coins away
        return -100.0 if times > 0 else math.inf
    try:
        return 100.0 * math.expm1(times * math.log(rate))
    except OverflowError:
        return math.inf


def _price(d: Driver, kind: str, step: float) -> Triple:
    """% change in coins, with its interval, when the lever changes by ``step``.

    ``kind`` ``log``: an elasticity β, the lever times ``1 + step``; ``days``: β % per day,
    ``step`` days more.
    """
    if d.effect is None or d.ci_low is None or d.ci_high is None:
        raise ValueError(f"driver {d.name} was not measured")
    if kind == "log":
        values = [_growth(1 + step, b) for b in (d.effect, d.ci_low, d.ci_high)]
    else:
        values = [_growth(1 + p / 100, step) for p in (d.effect, d.ci_low, d.ci_high)]
    pct, lo, hi = values
    return pct, min(lo, hi), max(lo, hi)


def _expected(change: str, step: float, pcts: Triple, base: Decimal) -> Expected:
    pct, lo, hi = pcts

    def money(p: float) -> Decimal:
        return _cents(base * Decimal(repr(round(p, 6))) / 100)

    return Expected(change, step, pct, lo, hi, money(pct), money(lo), money(hi))


def _say(d: Driver) -> str:
    if d.effect is None:
        return f"{d.label}: {d.note}"
    unit = "" if d.unit == "elasticity" else " %"
    what = "elasticity " if d.unit == "elasticity" else ""
    note = f"; {d.note}" if d.note else ""
    return (f"{d.label}: {what}{d.effect:+.2f}{unit} ({LEVEL:.0%} CI {d.ci_low:+.2f} to "
            f"{d.ci_high:+.2f}{unit}; {d.n} sessions{note})")


def _status(d: Driver) -> str:
    if d.effect is None:
        return TOO_FEW if d.note.startswith(TOO_FEW) else "not measurable"
    return "measured" if d.significant else "unclear"


@dataclass(frozen=True, slots=True)
class _Way:
    """One direction of a lever: the change it prices (``step``, see :class:`Expected`) and the
    advice that asks for it."""

    change: str
    step: float
    advice: str


@dataclass(frozen=True, slots=True)
class _Lever:
    """One strategy tied to its lever: the advice when more of the lever measurably earns more
    (``more``), when less does (``less``), and when the direction is unclear (``flat``)."""

    strategy: str
    driver: Driver
    kind: str  # "log" (an elasticity) or "days" (% per day)
    more: _Way
    less: _Way
    flat: str
    extra: Sequence[Driver] = ()
    note: str = ""

    def recommend(self, base: Decimal, min_sessions: int) -> Recommendation:
        d = self.driver
        status = _status(d)
        evidence = "; ".join([_say(d), *(_say(e) for e in self.extra)]) + self.note

        def without(status: str, advice: str) -> Recommendation:
            return Recommendation(self.strategy, d.name, status, None, advice, evidence, None)

        if d.effect is None:
            return without(status, f"Not measurable yet — {d.note}. " + (
                f"Keep recording every LIVE: at least {min_sessions} sessions are needed."
                if status == TOO_FEW else "Vary this lever between sessions to learn what it "
                "does for you."))
        if status == "unclear":
            return without(status, f"Not measured yet (the {LEVEL:.0%} interval includes no "
                           f"effect: which way pays is unknown). {self.flat}")
        up = d.effect > 0
        way = self.more if up else self.less
        pcts = _price(d, self.kind, way.step)
        if not all(math.isfinite(p) for p in pcts):
            return without("not measurable", "Not measurable yet — the effect is too large to "
                           "put a number on; keep recording every LIVE.")
        return Recommendation(self.strategy, d.name, status, "more" if up else "less",
                              way.advice, evidence, _expected(way.change, way.step, pcts, base))


def _promote(by: Mapping[str, Driver], step: str) -> _Lever:
    return _Lever(
        "Promote your LIVEs", by["avg_viewers"], "log",
        _Way(f"{step} more average viewers", LEVER_STEP,
             "Promote every LIVE ahead of time (a post or story with the time, a LIVE event, "
             "collaborations): your sessions with more viewers earned more."),
        _Way(f"{step} fewer average viewers", -LEVER_STEP,
             "At the same length your sessions with fewer viewers earned more: promote to the "
             "people who gift (your regulars, your niche) rather than to the broadest audience."),
        "Your coins have not yet moved measurably with your audience; promotion is still the "
        "surest lever for most creators — keep measuring.")


def _engage(by: Mapping[str, Driver], step: str) -> _Lever:
    return _Lever(
        "Engage your audience", by["comments_per_viewer_minute"], "log",
        _Way(f"{step} more comments per viewer-minute", LEVER_STEP,
             "Talk with your viewers — questions, shout-outs, thanking gifters by name: your "
             "sessions with more chat per viewer earned more."),
        _Way(f"{step} fewer comments per viewer-minute", -LEVER_STEP,
             "Your sessions with less chat per viewer earned more: leave room for gifting "
             "moments (gift goals, thank-yous) rather than filling every minute with games or "
             "Q&A."),
        "More chat per viewer has not yet shown up in your coins; engagement still keeps "
        "viewers, so keep it up while more sessions come in.",
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
    per_week = _per_week(sessions)
    return _Lever(
        "Go live consistently", by["days_since_previous"], "days",
        _Way("one more day between LIVEs", 1.0,
             "Your sessions after longer breaks earned more: rest between LIVEs seems to pay — "
             "but a session you skip also skips its money, so weigh the two."),
        _Way("one day less between LIVEs", -1.0,
             "Go live on a regular, close schedule: your sessions after shorter breaks earned "
             "more."),
        "Breaks between LIVEs have not measurably changed a session's coins; a fixed "
        "schedule still adds sessions — each one is money.",
        extra=_best_times(found)[:2],
        note=(f"; you go live {per_week:.1f} times a week; one more session a week adds "
              f"about {usd(base * Decimal(52) / Decimal(12))} of creator USD a month at your "
              f"mean {usd(base)} per session"))


def _content(by: Mapping[str, Driver], step: str) -> _Lever:
    return _Lever(
        "Optimise your content", by["session_length"], "log",
        _Way(f"sessions {step} longer", LEVER_STEP,
             "At the same audience your longer sessions earned more: stretch your best "
             "format."),
        _Way(f"sessions {step} shorter", -LEVER_STEP,
             "At the same audience your shorter sessions earned more: keep sessions tight and "
             "end on a high."),
        "Session length has not measurably changed your coins at a given audience: improve "
        "what happens in the session (battles, gift goals) rather than its length.",
        extra=[by["battles"]])


def _mean_usd(sessions: Sequence[SessionStats]) -> Decimal:
    """The creator's mean USD per session (exact; 0 without sessions)."""
    n = len(sessions)
    return (sum((s.creator_usd for s in sessions), Decimal(0)) / n) if n else Decimal(0)


def recommendations(sessions: Sequence[SessionStats], found: Sequence[Driver],
                    whales: WhaleDependence, min_sessions: int = MIN_SESSIONS
                    ) -> list[Recommendation]:
    """The five strategies of the seed article, each with this creator's evidence.

    Expected effects are per session, applied to the creator's mean creator USD per session
    (the drivers are changes of *expected* coins, so this is their money).
    """
    by = {d.name: d for d in found}
    base = _mean_usd(sessions)
    step = f"{LEVER_STEP:.0%}"
    return [
        _promote(by, step).recommend(base, min_sessions),
        _engage(by, step).recommend(base, min_sessions),
        _consistency(by, sessions, found, base).recommend(base, min_sessions),
        _content(by, step).recommend(base, min_sessions),
        _analyse(whales, len(sessions), min_sessions),
    ]


def _analyse(whales: WhaleDependence, n: int, min_sessions: int) -> Recommendation:
    """Review the analysis: a practice, not a lever, so no expected money (risks are
    :func:`risks`)."""
    strategy, lever = "Analyse your performance", "whale_dependence"
    evidence = (f"{whales.top1_share:.0%} of your coins come from your top gifter and "
                f"{whales.top5_share:.0%} from your top 5 ({count(n, 'session')}, "
                f"{count(whales.gifters, 'gifter')})")
    if whales.trend_top5 is not None and whales.trend_ci_low is not None \
            and whales.trend_ci_high is not None:
        evidence += (f"; a session's top-5 share changes {whales.trend_top5:+.1%} per "
                     f"{TREND_DAYS} days ({LEVEL:.0%} CI {whales.trend_ci_low:+.1%} to "
                     f"{whales.trend_ci_high:+.1%})")
    if n < min_sessions:
        return Recommendation(strategy, lever, TOO_FEW, None,
                              f"{TOO_FEW} for a reliable picture ({n}, at least "
                              f"{min_sessions} needed): keep recording every LIVE and review "
                              "this analysis again.", evidence, None)
    advice = ("Review this analysis monthly. Your earnings depend heavily on a few gifters: "
              "thank and keep them, and grow the number of mid-size gifters so that one "
              "departure does not sink a month." if whales.top5_share >= HIGH_SHARE else
              "Review this analysis monthly. Your earnings are spread over many gifters, "
              "which keeps them steady; keep widening that base.")
    return Recommendation(strategy, lever, "measured", None, advice, evidence, None)


def _level(share: float) -> str:
    return "high" if share >= HIGH_SHARE else "moderate" if share >= MODERATE_SHARE else "low"


def risks(sessions: Sequence[SessionStats], whales: WhaleDependence,
          board: Sequence[GifterStats]) -> list[Risk]:
    """What the money rests on: the top gifter, the top five, and a rising top-5 share.

    The money at stake is what those gifters gave, as recorded, in creator USD per session over
    ``sessions`` (``board`` is the leaderboard of those sessions, biggest first).
    """
    n = len(sessions)
    if not n or whales.coins <= 0 or not board:
        return []
    top = board[0]
    lost = _cents(top.creator_usd / n)
    out = [Risk("top_gifter_stops", _level(whales.top1_share),
                f"If your top gifter stopped gifting, your sessions would have earned "
                f"{whales.top1_share:.1%} less: about {usd(lost)} of your creator USD per "
                "session (as recorded, no interval).", whales.top1_share, lost,
                f"your top gifter gave {top.coins:,} coins ({usd(top.creator_usd)} creator "
                f"USD) in {top.sessions:,} of your {count(n, 'session')}")]
    k = min(5, whales.gifters)
    if k > 1:
        at_stake = _cents(sum((g.creator_usd for g in board[:k]), Decimal(0)) / n)
        out.append(Risk("whale_dependence", _level(whales.top5_share),
                        f"Your top {k} gifters gave {whales.top5_share:.1%} of your coins: "
                        f"about {usd(at_stake)} of your creator USD per session rests on "
                        f"{k} people.", whales.top5_share, at_stake,
                        f"{count(whales.gifters, 'gifter')} in {count(n, 'session')}"))
    lo, hi, trend = whales.trend_ci_low, whales.trend_ci_high, whales.trend_top5
    if trend is not None and lo is not None and hi is not None and lo > 0:
        out.append(Risk("whale_dependence_rising", "moderate",
                        f"Your money is concentrating on fewer gifters: a session's top-5 "
                        f"share grows {trend:+.1%} per {TREND_DAYS} days.", None, None,
                        f"{LEVEL:.0%} CI {lo:+.1%} to {hi:+.1%} per {TREND_DAYS} days"))
    return out

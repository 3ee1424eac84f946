"""The Python API of the cross-session analytics: :func:`analyze` and tables for analysts.

One creator's sessions, analysed: :func:`analyze` returns an :class:`Analysis` with the sessions
(:class:`SessionStats`), the weekly trend, the drivers of coins with their intervals
(:mod:`liveworth.analysis.drivers`), whale dependence and the gifter leaderboard
(:mod:`liveworth.analysis.gifters`), recommendations and risks (:mod:`liveworth.analysis.advice`).
``liveworth analyze``, its ``--json`` and its ``--html`` page all render that one object. Agency
roll-ups are in :mod:`liveworth.analysis.roster`.

:func:`to_arrow` and :func:`to_pandas` turn any list of these records into a table
(money stays exact as Arrow ``decimal128``); :meth:`Analysis.frames` gives them all as pandas
DataFrames. docs/ANALYTICS.md walks through it like a notebook.
"""

from __future__ import annotations

import datetime as dt
import importlib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from liveworth.analysis.advice import Expected, Recommendation, Risk, recommendations, risks
from liveworth.analysis.battles import Battles
from liveworth.analysis.battles import battles as battle_stats
from liveworth.analysis.drivers import (
    BOOTSTRAP,
    DEFAULT_SEED,
    LEVEL,
    MIN_GROUP,
    MIN_SESSIONS,
    TOO_FEW,
    Driver,
    drivers,
)
from liveworth.analysis.gifters import (
    GifterStats,
    Loyalty,
    WhaleDependence,
    gifters,
    leaderboard,
    loyalty,
    store_loyalty,
    whale_dependence,
)
from liveworth.analysis.heatmap import Heatmap, axes, heatmap
from liveworth.analysis.sessionstats import (
    SessionStats,
    WeekTrend,
    gift_pairs,
    money_avg,
    parse_since,
    rounded,
    select_sessions,
    session_stats,
    weekly_trend,
)
from liveworth.economy.money import fmt, split_cents, viewer_usd
from liveworth.economy.numbers import count
from liveworth.economy.ratecard import RateCard
from liveworth.errors import NotFoundError, UsageError
from liveworth.store.adjustments import adjusted_coins, signed_creator_usd
from liveworth.store.database import Store

__all__ = [
    "LEVEL",
    "MIN_SESSIONS",
    "TOO_FEW",
    "Analysis",
    "Driver",
    "Expected",
    "GifterStats",
    "Loyalty",
    "Recommendation",
    "Risk",
    "SessionStats",
    "WeekTrend",
    "WhaleDependence",
    "analyze",
    "drivers",
    "gifters",
    "loyalty",
    "select_sessions",
    "session_stats",
    "to_arrow",
    "to_pandas",
    "weekly_trend",
]

#: Gifters listed in an analysis (the whole leaderboard: :func:`gifters`).
TOP_GIFTERS = 10


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything ``liveworth analyze`` shows about one creator's sessions."""

    host: str | None
    since: dt.date | None
    tz: str
    rate_card: str
    sessions: tuple[SessionStats, ...]
    trend: tuple[WeekTrend, ...]
    drivers: tuple[Driver, ...]
    whales: WhaleDependence
    top_gifters: tuple[GifterStats, ...]
    loyalty: Loyalty
    recommendations: tuple[Recommendation, ...]
    notes: tuple[str, ...]
    risks: tuple[Risk, ...] = ()
    #: Manual adjustments not undone of these sessions (``coins`` and the money are counted;
    #: only the totals show them, apart: counted + adjusted).
    adjusted_coins: int = 0
    adjusted_creator_usd: Decimal = Decimal(0)
    #: Coins per hour LIVE by weekday (Monday first) and local hour (:mod:`.heatmap`).
    heatmap: Heatmap | None = None
    #: Coins during battles against outside them, per opponent, results (:mod:`.battles`).
    battles: Battles | None = None
    #: What viewers paid for the counted coins, on ``channel`` (the rate card's, or --channel).
    viewer_usd: Decimal = Decimal(0)
    channel: str = ""

    @property
    def elasticity_viewers(self) -> Driver:
        return next(d for d in self.drivers if d.name == "avg_viewers")

    def creator_usd_shown(self) -> tuple[Decimal, Decimal, Decimal]:
        """Counted, adjusted and total creator USD as shown in cents (the parts add up)."""
        counted, adjusted = split_cents(self.creator_usd, self.adjusted_creator_usd)
        return counted, adjusted, counted + adjusted

    @property
    def coins(self) -> int:
        return sum(s.coins for s in self.sessions)

    @property
    def creator_usd(self) -> Decimal:
        return sum((s.creator_usd for s in self.sessions), Decimal(0))

    @property
    def hours(self) -> float:
        return sum(s.end_ts - s.start_ts for s in self.sessions) / 3_600_000

    @property
    def usd_per_session(self) -> Decimal:
        return money_avg(self.creator_usd / len(self.sessions))

    @property
    def usd_per_hour(self) -> Decimal | None:
        ms = sum(s.end_ts - s.start_ts for s in self.sessions)
        return money_avg(self.creator_usd * 3_600_000 / ms) if ms else None

    def frames(self) -> dict[str, Any]:
        """Each table as a pandas DataFrame (needs pandas)."""
        return {"sessions": to_pandas(self.sessions, SessionStats),
                "trend": to_pandas(self.trend, WeekTrend),
                "drivers": to_pandas(self.drivers, Driver),
                "top_gifters": to_pandas(self.top_gifters, GifterStats),
                "recommendations": to_pandas(self.recommendations, Recommendation),
                "risks": to_pandas(self.risks, Risk)}

    def as_dict(self) -> dict[str, Any]:
        e = self.elasticity_viewers
        per_hour = self.usd_per_hour
        return {
            "host": self.host, "since": None if self.since is None else self.since.isoformat(),
            "tz": self.tz, "rate_card": self.rate_card,
            "totals": {"sessions": len(self.sessions), "hours": round(self.hours, 3),
                       "coins": self.coins, "adjusted_coins": self.adjusted_coins,
                       "total_coins": self.coins + self.adjusted_coins,
                       "creator_usd": fmt(self.creator_usd),
                       "adjusted_creator_usd": fmt(self.adjusted_creator_usd),
                       "total_creator_usd": fmt(self.creator_usd + self.adjusted_creator_usd),
                       "viewer_usd": fmt(self.viewer_usd), "channel": self.channel,
                       "usd_per_session": fmt(self.usd_per_session),
                       "usd_per_hour": None if per_hour is None else fmt(per_hour)},
            "sessions": [s.as_dict() for s in self.sessions],
            "trend": [w.as_dict() for w in self.trend],
            "drivers": [d.as_dict() for d in self.drivers],
            "elasticity_viewers": {"estimate": rounded(e.effect), "ci_low": rounded(e.ci_low),
                                   "ci_high": rounded(e.ci_high), "n": e.n, "note": e.note},
            "whale_dependence": self.whales.as_dict(),
            "top_gifters": [g.as_dict() for g in self.top_gifters],
            "loyalty": self.loyalty.as_dict(),
            "recommendations": [r.as_dict() for r in self.recommendations],
            "risks": [r.as_dict() for r in self.risks],
            "notes": list(self.notes),
            "heatmap": None if self.heatmap is None else self.heatmap.as_dict(),
            "heatmap_axes": axes(self.tz),
            "battles": None if self.battles is None else self.battles.as_dict(),
            "method": {"model": "E[coins] = exp(Xb), Poisson pseudo-maximum likelihood",
                       "errors": "HC3", "level": LEVEL, "min_sessions": MIN_SESSIONS,
                       "min_group": MIN_GROUP, "bootstrap": BOOTSTRAP},
        }


def analyze(store: Store, card: RateCard, *, host: str | None = None,
            since: str | dt.date | None = None, tz: str = "UTC",
            rng: np.random.Generator | None = None,
            min_sessions: int = MIN_SESSIONS) -> Analysis:
    """Analyse one creator's sessions (``host`` may be left out when the store holds one).

    Raises :class:`NotFoundError` when nothing is selected and :class:`UsageError` when several
    creators would be mixed.
    """
    rng = rng if rng is not None else np.random.default_rng(DEFAULT_SEED)
    since_day = parse_since(since)
    chosen = select_sessions(session_stats(store, card, tz=tz), host=host, since=since_day)
    if not chosen:
        raise NotFoundError("no sessions to analyse" + (
            f" since {since_day}" if since_day else "") + " (import some first)")
    hosts = sorted({(s.host or "?").lower() for s in chosen})
    if len(hosts) > 1:
        listed = ", ".join("@" + h for h in hosts[:10]) + (" …" if len(hosts) > 10 else "")
        raise UsageError(f"the database holds {len(hosts)} creators ({listed}): choose one "
                         "with --host")
    pairs = gift_pairs(store, chosen)
    found = drivers(chosen, rng=rng, min_sessions=min_sessions)
    whales = whale_dependence(chosen, pairs, min_sessions)
    board = leaderboard(store, card, [s.room_id for s in chosen], limit=TOP_GIFTERS)
    notes: list[str] = []
    if len(chosen) < min_sessions:
        notes.append(f"{TOO_FEW}: {len(chosen)} selected, at least {min_sessions} are needed "
                     "before any driver is estimated")
    unconfirmed = sum(s.coins_unconfirmed for s in chosen)
    if unconfirmed:
        notes.append(f"{unconfirmed:,} coins come from gift streaks without a final frame "
                     "(counted at their highest repeat count)")
    if any(s.coins == 0 for s in chosen):
        notes.append(f"{count(sum(s.coins == 0 for s in chosen), 'session')} had no gift to "
                     "the host")
    if any(s.avg_viewers is None for s in chosen):
        blind = sum(s.avg_viewers is None for s in chosen)
        has, are = ("has", "is") if blind == 1 else ("have", "are")
        notes.append(f"{count(blind, 'session')} {has} no viewer counts and {are} left out of "
                     "the viewer-based drivers")
    measured = [d for d in found if d.effect is not None]
    if measured:
        notes.append(f"{sum(d.significant for d in measured)} of {len(measured)} levers show "
                     f"an effect at {LEVEL:.0%}; with this many, about "
                     f"{len(measured) * (1 - LEVEL):.1f} would by chance alone")
    notes.append("effects are associations across your own sessions, not proof of cause")
    adjusted = sum(adjusted_coins(store, [s.room_id for s in chosen]).values())
    return Analysis(
        host=chosen[0].host, since=since_day, tz=tz, rate_card=card.name,
        sessions=tuple(chosen), trend=tuple(weekly_trend(chosen, pairs)), drivers=tuple(found),
        whales=whales, top_gifters=tuple(board),
        loyalty=store_loyalty(store, chosen),
        recommendations=tuple(recommendations(chosen, found, whales, min_sessions)),
        notes=tuple(notes), risks=tuple(risks(chosen, whales, board)),
        adjusted_coins=adjusted, adjusted_creator_usd=signed_creator_usd(adjusted, card),
        heatmap=heatmap(store, chosen, tz), battles=battle_stats(store, chosen),
        viewer_usd=viewer_usd(sum(s.coins for s in chosen), card),
        channel=card.channel(None).name)


# ---------------------------------------------------------------------------- tables


def _arrow_type(tp: Any, name: str) -> pa.DataType | None:
    """The Arrow type of a field annotation (None: flatten or skip)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return _arrow_type(args[0], name) if len(args) == 1 else pa.string()
    if typing.get_origin(tp) is tuple:
        inner = _arrow_type(args[0], name) if args else pa.string()
        return pa.list_(inner if inner is not None else pa.string())
    simple: dict[Any, pa.DataType] = {bool: pa.bool_(), float: pa.float64(), str: pa.string(),
                                      Decimal: pa.decimal128(38, 12), dt.date: pa.date32()}
    if tp is int:
        return pa.timestamp("ms", tz="UTC") if name.endswith("_ts") else pa.int64()
    return simple.get(tp)


def _columns(cls: type, rows: Sequence[Any], prefix: str = "") -> dict[str, pa.Array]:
    hints = typing.get_type_hints(cls)
    cols: dict[str, pa.Array] = {}
    for f in fields(cls):
        tp = hints[f.name]
        values = [None if r is None else getattr(r, f.name) for r in rows]
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        target = inner[0] if len(inner) == 1 and typing.get_origin(tp) is not tuple else tp
        if isinstance(target, type) and is_dataclass(target):
            cols.update(_columns(target, values, f"{prefix}{f.name}_"))
            continue
        arrow = _arrow_type(tp, f.name)
        if arrow is None:
            continue
        if pa.types.is_decimal(arrow):
            values = [None if v is None else v.quantize(Decimal("1e-12")) for v in values]
        if pa.types.is_timestamp(arrow):
            cols[prefix + f.name] = pa.array(values, pa.int64()).cast(arrow)
        else:
            cols[prefix + f.name] = pa.array(
                [list(v) if isinstance(v, tuple) else v for v in values], arrow)
    return cols


def to_arrow(rows: Sequence[Any], cls: type | None = None) -> pa.Table:
    """Any list of this module's records (or :mod:`liveworth.analysis.roster`'s) as an Arrow table.

    Money is ``decimal128(38, 12)`` (exact), ``*_ts`` fields are UTC timestamps, nested records
    are flattened with their field name as prefix. ``cls`` names the record type of an empty list.
    """
    kind = cls or (type(rows[0]) if rows else None)
    if kind is None:
        return pa.table({})
    return pa.table(_columns(kind, rows))


def to_pandas(rows: Sequence[Any], cls: type | None = None) -> Any:
    """:func:`to_arrow` as a ``pandas.DataFrame`` (pandas must be installed)."""
    try:
        importlib.import_module("pandas")
    except ImportError:
        raise UsageError("pandas is not installed: `pip install pandas`, or use to_arrow()"
                         ) from None
    return to_arrow(rows, cls).to_pandas()

"""The package's Jinja2 templates with liveworth's formatting filters (autoescaped)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from liveworth.analysis.advice import signed_usd
from liveworth.economy.money import fmt, usd
from liveworth.economy.numbers import count
from liveworth.render.pagecharts import tier_label
from liveworth.web import charts


def _when(ts: int | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else \
        f"{s // 60}m{s % 60:02d}s"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _usd(value: Decimal | str) -> str:
    return usd(value if isinstance(value, Decimal) else Decimal(value))


def _pct(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}%}"


def _path_segment(value: object) -> str:
    """``value`` quoted as one URL path segment (``/`` included)."""
    return quote(str(value), safe="")


def _signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _signed_usd(value: Decimal | str) -> str:
    return signed_usd(value if isinstance(value, Decimal) else Decimal(value))


def _day(ts: int | None) -> str:
    return "-" if ts is None else _when(ts)[:10]


def templates() -> Environment:
    """The package's Jinja2 templates, autoescaped, with liveworth's formatting filters."""
    env = Environment(loader=PackageLoader("liveworth.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"num": _number, "usd": _usd, "fmt": fmt, "when": _when,
                        "duration": _duration, "pct": _pct, "pathq": _path_segment,
                        "signed": _signed, "signed_usd": _signed_usd, "day": _day,
                        "ci_bar": charts.ci_bar, "count": count, "tier": tier_label})
    return env

"""Charts as inline SVG, drawn on the server: nothing to fetch, nothing to run in the browser.

The session charts are :mod:`liveworth.render.report_html`'s, the drivers' interval bars
:mod:`liveworth.render.analysis_html`'; this module adds the estimator's histogram.
Every label goes through :func:`html.escape`; the result is :class:`markupsafe.Markup` so that
templates insert it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from markupsafe import Markup

from liveworth.analysis.battles import Battles
from liveworth.analysis.drivers import Driver
from liveworth.analysis.heatmap import Heatmap
from liveworth.economy.money import usd
from liveworth.render import analysis_html as htmlanalytics
from liveworth.render import analysis_sections as sections
from liveworth.render import report_html as htmlreport

#: Coin amounts whose bin gets an axis label (powers of ten).
_DECADES = frozenset(10**k for k in range(1, 19))


def bar_chart(points: Sequence[tuple[int, float]], title: str, unit: str) -> Markup:
    return Markup(htmlreport.bar_chart(points, title, unit))


def line_chart(points: Sequence[tuple[int, float]], title: str, unit: str) -> Markup:
    return Markup(htmlreport.line_chart(points, title, unit))


def _position(bins: Sequence[dict[str, Any]], coins: int) -> float:
    """Where ``coins`` falls along the bins, in bins (log-interpolated inside one)."""
    for i, b in enumerate(bins):
        lo, hi = int(b["coins_from"]), int(b["coins_to"])
        if lo <= coins < hi:
            if lo == 0:
                return i + 0.5
            return i + (math.log(coins) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return float(len(bins))


def histogram_svg(bins: Sequence[dict[str, Any]], marks: Sequence[tuple[str, int]],
                  title: str, width: int = 900, height: int = 240) -> Markup:
    """Bars of ``bins`` (the estimator's histogram) with vertical lines at ``marks``
    (label, coins), e.g. p10 / p50 / p90; the axis is labelled in creator dollars."""
    if not bins:
        return Markup(f"<p class='sub'>No distribution to draw for {escape(title)}.</p>")
    top = max(float(b["share"]) for b in bins) or 1.0
    left, right, base = 40, width - 10, height - 30
    w = (right - left) / len(bins)
    parts = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}'>",
             f"<text class='axis' x='4' y='14'>{escape(title)}</text>"]
    for i, b in enumerate(bins):
        h = (base - 24) * float(b["share"]) / top
        tip = (f"{usd_label(b['creator_usd_from'])}–{usd_label(b['creator_usd_to'])}: "
               f"{float(b['share']):.1%} of sessions")
        parts.append(f"<rect class='bar' x='{left + i * w:.1f}' y='{base - h:.1f}' "
                     f"width='{max(w - 1, 1):.1f}' height='{h:.1f}'><title>{escape(tip)}"
                     "</title></rect>")
        if i == 0 or int(b["coins_from"]) in _DECADES:
            parts.append(f"<text class='axis' x='{left + i * w:.1f}' y='{height - 14}'>"
                         f"{escape(usd_label(b['creator_usd_from']))}</text>")
    for label, coins in marks:
        x = left + _position(bins, coins) * w
        parts.append(f"<line class='mark' x1='{x:.1f}' x2='{x:.1f}' y1='20' y2='{base}'/>"
                     f"<text class='axis' x='{x + 3:.1f}' y='30'>{escape(label)}</text>")
    parts.append(f"<text class='axis' x='{left}' y='{height - 2}'>creator USD per session "
                 "(log scale)</text></svg>")
    return Markup("".join(parts))


def usd_label(value: str) -> str:
    """A decimal string of dollars for people: ``"0.05"`` → ``$0.05``."""
    return usd(Decimal(value))


def heatmap(h: Heatmap | None) -> Markup:
    """The analysis's weekday × hour table (:mod:`liveworth.render.analysis_sections`)."""
    return Markup("" if h is None else sections.heatmap_html(h))


def battles(b: Battles | None) -> Markup:
    """The analysis's battles section (:mod:`liveworth.render.analysis_sections`)."""
    return Markup("" if b is None else sections.battles_html(b))


def ci_bar(driver: Driver) -> Markup:
    """A driver's interval as a small bar against zero (the analysis page's, see
    :mod:`liveworth.render.analysis_html`); empty when the driver has no number."""
    return Markup(htmlanalytics._ci_bar(driver))

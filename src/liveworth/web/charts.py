"""The pages' charts as :class:`markupsafe.Markup`: thin wrappers of :mod:`liveworth.render`.

The charts are :mod:`liveworth.render.pagecharts`' Vega-Lite specs rendered to inline SVG on the
server (:mod:`liveworth.render.charts`), the very ones of ``report --html`` and
``analyze --html``: nothing to fetch, nothing to run in the browser. They escape every label
themselves, so templates insert the result as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from liveworth.render import analysis_sections as sections
from liveworth.render import pagecharts

if TYPE_CHECKING:
    from liveworth.analysis.analytics import Analysis
    from liveworth.analysis.battles import Battles
    from liveworth.analysis.drivers import Driver
    from liveworth.analysis.heatmap import Heatmap
    from liveworth.analysis.report import SessionReport


def session_charts(rep: SessionReport) -> dict[str, Any]:
    """The session page's ``coins_chart``, ``viewers_chart`` and ``tiers_chart``."""
    return {f"{k}_chart": Markup(v) for k, v in pagecharts.session_figures(rep).items()}


def analysis_charts(a: Analysis) -> dict[str, Any]:
    """The analysis page's ``sessions_chart``, ``weekly_chart`` and ``top5_chart``."""
    return {"sessions_chart": Markup(pagecharts.sessions_figure(a)),
            "weekly_chart": Markup(pagecharts.weekly_figure(a)),
            "top5_chart": Markup(pagecharts.top5_figure(a))}


def histogram(bins: Sequence[dict[str, Any]], marks: Sequence[tuple[str, int, str]]) -> Markup:
    """The estimator's histogram with its p10 / p50 / p90 rules
    (:func:`liveworth.render.pagecharts.histogram_figure`)."""
    return Markup(pagecharts.histogram_figure(bins, marks))


def heatmap(h: Heatmap | None) -> Markup:
    """The analysis's weekday × hour table (:mod:`liveworth.render.analysis_sections`)."""
    return Markup("" if h is None else sections.heatmap_html(h))


def battles(b: Battles | None) -> Markup:
    """The analysis's battles section (:mod:`liveworth.render.analysis_sections`)."""
    return Markup("" if b is None else sections.battles_html(b))


def ci_bar(driver: Driver) -> Markup:
    """A driver's interval as a small chart against zero; empty when the driver has no number."""
    return Markup(pagecharts.ci_svg(driver))


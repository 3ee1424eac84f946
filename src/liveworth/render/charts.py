"""Charts: Vega-Lite specs as plain dicts, rendered to SVG on the server by ``vl-convert``.

One definition serves the web pages and the self-contained HTML reports (``report --html``,
``analyze --html``): the SVG is inlined, so there is no script, nothing to fetch, and the strict
Content-Security-Policies stay. Tooltips need no script either: vl-convert gives every mark an
``aria-label`` ("time: 14:03 UTC; coins: 120"); :func:`svg` copies it into a ``<title>`` child of
the mark, which every browser shows as a native tooltip. Every chart also comes with a text
alternative (:func:`figure`: a ``<details>`` table of its points).

Honest axes: time axes carry dates or clock times (never an index), ticks are labelled, axis
titles say the unit and whose money it is; a series with no points gives a short text instead of
an empty chart, and an all-zero one says so instead of drawing a maximum.

vl-convert starts a JavaScript runtime on its first conversion (about 0.4 s); later ones take a
few tens of milliseconds, and identical specs are cached (:func:`_convert`). The library is
imported on first use, so the CLI starts without it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from hashlib import blake2s
from html import escape, unescape
from typing import Any
from zoneinfo import ZoneInfo

from liveworth.economy.money import usd

Spec = dict[str, Any]

#: The colours of the marks: readable on a light and on a dark page (non-text contrast >= 3:1).
PINK, TEAL, GREY = "#e8265e", "#0f9bb0", "#888888"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
#: Width and height of a chart's plot area in SVG pixels; the SVG scales down to its container.
WIDTH, HEIGHT = 820, 200

#: The theme every spec gets (:func:`svg`): system fonts, a transparent background, grey axes and
#: grid that read on light and dark pages (the page's CSS sets the text colour, :data:`CSS`).
THEME: Spec = {
    "background": None,
    "font": FONT,
    "padding": 4,
    "view": {"stroke": None},
    "axis": {"labelColor": "#666666", "titleColor": "#666666", "domainColor": GREY,
             "tickColor": GREY, "gridColor": GREY, "gridOpacity": 0.25, "labelFontSize": 11,
             "titleFontSize": 11, "titleFontWeight": "normal"},
    "title": {"color": "#666666", "fontSize": 13, "anchor": "start", "fontWeight": "bold"},
    "legend": {"labelColor": "#666666", "titleColor": "#666666"},
    "mark": {"color": PINK},
    "line": {"color": TEAL, "strokeWidth": 2},
    "point": {"color": TEAL, "filled": True},
    "bar": {"color": PINK},
    "rule": {"color": GREY},
    "text": {"color": "#666666"},
    "locale": {"number": {"decimal": ".", "thousands": ",", "grouping": [3],
                          "currency": ["$", ""]}},
}

#: The CSS the charts need, in the reports' ``<style>`` and in ``static/liveworth.css``
#: (under ``/* charts */``): the SVG scales to its box, its text takes the page's colour.
CSS = ("figure.chart{margin:1rem 0}figure.chart svg{display:block;width:auto;max-width:100%;"
       "height:auto}figure.chart svg text{fill:currentColor}figure.chart figcaption,"
       "figure.chart details,p.nochart{font-size:.85rem;color:var(--muted,#595959)}"
       "figure.chart table{width:auto}p.nochart{font-style:italic}"
       "svg.ci{width:160px;max-width:100%;height:auto}")

_lock = threading.Lock()
_MARK = re.compile(r'<(path|rect|circle|line|symbol|text|g|image)\b([^>]*?role="graphics-symbol"'
                   r"[^>]*?)(/?)>")
_LABEL = re.compile(r'aria-label="([^"]*)"')
_ID = re.compile(r'\bid="([^"]+)"')


def _e(value: object) -> str:
    return escape(str(value), quote=True)


@lru_cache(maxsize=512)
def _convert(text: str) -> str:
    """The SVG of one spec's JSON text (cached: the same spec converts once per process)."""
    import vl_convert

    with _lock:  # one conversion at a time through the module's runtime
        return str(vl_convert.vegalite_to_svg(text, allowed_base_urls=[]))


def _titled(svg_text: str) -> str:
    """Give each mark with an ``aria-label`` a ``<title>`` of the same text: the native tooltip.
    The label is unescaped once and escaped again as element text (it never becomes markup). A
    mark without a label (a rule at 0) is hidden from assistive technology instead: a
    ``graphics-symbol`` without a name is an accessibility error."""
    def one(m: re.Match[str]) -> str:
        tag, attrs, closed = m.group(1), m.group(2), m.group(3)
        label = _LABEL.search(attrs)
        if label is None:
            attrs = attrs.replace('role="graphics-symbol"', 'aria-hidden="true"')
            return f"<{tag}{attrs}{closed}>"
        title = f"<title>{escape(unescape(label.group(1)), quote=False)}</title>"
        if closed:
            return f"<{tag}{attrs}>{title}</{tag}>"
        return f"<{tag}{attrs}>{title}"
    return _MARK.sub(one, svg_text)


def _unique_ids(svg_text: str, key: str) -> str:
    """Prefix every ``id`` (clip paths, gradients) so that several charts on one page never
    share one: vl-convert numbers them from 1 in every SVG."""
    prefix = "c" + blake2s(key.encode(), digest_size=4).hexdigest() + "-"
    ids = set(_ID.findall(svg_text))
    for i in sorted(ids, key=len, reverse=True):
        svg_text = (svg_text.replace(f'id="{i}"', f'id="{prefix}{i}"')
                    .replace(f"url(#{i})", f"url(#{prefix}{i})")
                    .replace(f'href="#{i}"', f'href="#{prefix}{i}"'))
    return svg_text


def svg(spec: Spec, label: str | None = None, css_class: str = "") -> str:
    """The chart of ``spec`` as inline SVG: the theme applied, one ``<title>`` per mark (its
    tooltip), ``role="img"`` and an ``aria-label`` (``label``, else the spec's title) on the root,
    ``width``/``height`` kept with a ``viewBox`` so that CSS can scale it to its box;
    ``css_class`` joins vl-convert's ``class="marks"``."""
    full = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            **spec, "config": {**THEME, **spec.get("config", {})}}
    text = json.dumps(full, sort_keys=True, default=str, ensure_ascii=False)
    out = _unique_ids(_titled(_convert(text)), text)
    name = label if label is not None else _title_text(spec)
    if css_class:
        out = out.replace('class="marks"', f'class="marks {_e(css_class)}"', 1)
    return out.replace("<svg ", f'<svg role="img" aria-label="{_e(name)}" ', 1)


def _title_text(spec: Spec) -> str:
    title = spec.get("title", spec.get("description", "chart"))
    return str(title.get("text", "chart") if isinstance(title, dict) else title)


def no_chart(text: str) -> str:
    """The short text that stands where a chart has nothing to draw."""
    return f"<p class='nochart'>{_e(text)}</p>"


def figure(spec: Spec | None, caption: str, rows: Iterable[Sequence[object]],
           headers: Sequence[str], *, empty: str | None = None) -> str:
    """A ``<figure>`` with the chart, its ``<figcaption>`` and a text alternative: the points as a
    table in a ``<details>``. ``spec`` None gives ``empty`` (or "No data for …") as a short text.
    Every caption, header and cell is escaped."""
    if spec is None:
        return no_chart(empty or f"No data for {caption}.")
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<figure class='chart'>{svg(spec, caption)}<figcaption>{_e(caption)}</figcaption>"
            f"<details><summary>data</summary><table><tr>{head}</tr>{body}</table></details>"
            "</figure>")


def wall_ms(ts_ms: int, tz: str = "UTC") -> int:
    """``ts_ms`` (UTC) as the wall clock of ``tz``, in ms: charts draw it on a UTC scale, so the
    axis shows ``tz``'s dates and times whatever the machine's own time zone."""
    when = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC)
    offset = when.astimezone(ZoneInfo(tz)).utcoffset() or dt.timedelta(0)
    return ts_ms + int(offset.total_seconds() * 1000)


def day_label(ts_ms: int, tz: str = "UTC") -> str:
    """``2026-01-31`` in ``tz``."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).astimezone(ZoneInfo(tz)).strftime(
        "%Y-%m-%d")


def time_axis(title: str, *, clock: bool = False) -> Spec:
    """An x encoding on a UTC scale of wall-clock ms (:func:`wall_ms`): dates, or clock times."""
    axis: Spec = {"labelOverlap": True, "tickCount": 8}
    if clock:
        axis["format"] = "%H:%M"  # on a UTC scale a format is UTC's (a formatType drops it)
    return {"field": "t", "type": "temporal", "title": title, "scale": {"type": "utc"},
            "axis": axis}


def money_axis(title: str) -> Spec:
    """A y encoding of dollars: ``$0.25`` ticks, from 0."""
    return {"type": "quantitative", "title": title, "scale": {"zero": True},
            "axis": {"format": "$,.2~f", "tickCount": 5}}


def _layer_series(field: str, title: str, mark: Spec, axis: Spec, tz: str) -> Spec:
    return {"title": title, "width": WIDTH, "height": HEIGHT // 2 + 30, "mark": mark,
            "transform": [{"filter": f"isValid(datum.{field})"}],
            "encoding": {"x": time_axis(f"session start ({tz})"),
                         "y": {**axis, "field": field},
                         "description": {"field": f"{field}_label"}}}


def trend_spec(points: Sequence[tuple[int, Decimal | float, Decimal | float | None]],
               title: str, tz: str = "UTC") -> Spec | None:
    """The spec of :func:`trend_chart` (None without points)."""
    if not points:
        return None
    values = []
    for ts, per_session, per_hour in sorted(points, key=lambda p: p[0]):
        day = day_label(ts, tz)
        values.append({
            "t": wall_ms(ts, tz), "usd": float(per_session),
            "usd_label": f"{day}: creator {usd(Decimal(str(per_session)))} this session",
            "per_hour": None if per_hour is None else float(per_hour),
            "per_hour_label": "" if per_hour is None else
            f"{day}: creator {usd(Decimal(str(per_hour)))} per hour live"})
    bars = {"type": "bar", "width": {"band": 0.9} if len(values) < 3 else 4}
    line = {"type": "line", "point": True, "aria": False}  # the points carry the tooltips
    return {"description": title, "data": {"values": values},
            "resolve": {"scale": {"x": "shared"}}, "vconcat": [
        _layer_series("usd", "creator USD per session", bars,
                      money_axis("creator USD per session"), tz),
        _layer_series("per_hour", "creator USD per hour live", line,
                      money_axis("creator USD per hour"), tz),
    ]}


def trend_chart(points: Sequence[tuple[int, Decimal | float, Decimal | float | None]],
                title: str, *, tz: str = "UTC") -> str:
    """A creator's trend over time, as an HTML ``<figure>`` (for the creator home page).

    ``points``: one per session, ``(start_ts, creator_usd, creator_usd_per_hour)`` with the
    session's start in ms since the epoch (UTC), what the creator receives for the session, and
    per hour live (None when the session has no duration). Gives two charts one above the other
    on one date axis (the session's start date, in ``tz``: UTC unless given): bars of creator
    USD per session and a line of creator USD per hour live (sessions without a rate are left
    out of the line, not drawn at 0). The ``<figure>`` carries the SVG (native tooltips on
    every bar and point), ``title`` as its caption and the points as a table; without points it
    is a one-line text. Every string is escaped; the result is safe to insert as it is
    (``Markup(trend_chart(...))``).
    """
    spec = trend_spec(points, title, tz)
    rows = [(day_label(ts, tz), usd(Decimal(str(s))),
             "–" if h is None else usd(Decimal(str(h))))
            for ts, s, h in sorted(points, key=lambda p: p[0])]
    return figure(spec, title, rows, (f"session start ({tz})", "creator USD",
                                      "creator USD per hour"),
                  empty=f"No sessions yet for {title}.")

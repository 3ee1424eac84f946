"""CSV that a spreadsheet cannot run: the one rule for every CSV liveworth writes (``export``,
``adjust --csv``, the web's ``.csv`` downloads).

A text cell a spreadsheet would read as a formula (``=HYPERLINK(...)`` as a nickname) starts with
one of :data:`FORMULA_START`; it gets a leading ``'``, which spreadsheets show as text. Numbers
(ints, floats, and money given as Decimal: exact decimal text, as in JSON) are written as they
are: a negative amount such as ``-0.50`` is a number, not a formula, so only text is guarded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO

from liveworth.economy.money import fmt

#: A CSV cell a spreadsheet would run as a formula starts with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The same rule as a regular expression (for DuckDB's ``regexp_matches`` in ``export``).
FORMULA_START_RE = "^[=+@\\t\\r-]"


def safe_text(text: str) -> str:
    """``text``, with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: object) -> object:
    """One CSV cell: None is empty, bools are ``true``/``false``, numbers stay numbers
    (Decimals as exact text), any other value is text made formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return fmt(value)  # as in JSON: plain, exact, no exponent
    if isinstance(value, int | float):
        return value
    return safe_text(str(value))


def write_rows(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """``header`` then ``rows`` as CSV into ``out`` (opened with ``newline=""``)."""
    w = csv.writer(out)
    w.writerow([safe_text(h) for h in header])
    for row in rows:
        w.writerow([cell(v) for v in row])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """``header`` then ``rows`` as CSV text (``\\r\\n`` line ends, as RFC 4180 says)."""
    buf = io.StringIO(newline="")
    write_rows(buf, header, rows)
    return buf.getvalue()

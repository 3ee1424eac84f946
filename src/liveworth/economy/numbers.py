"""Numbers as people read and write them: counts printed with thousands separators and the right
plural, and the plain text a number must be written in to be read at all.

Python's ``int()``, ``float()`` and ``Decimal()`` read more than digits: ``0_0_1`` is 1, ``+5``
and ``٣`` (an Arabic-Indic three) are numbers too. A value that reads as something other than
what its writer meant is refused instead:

- in a rate card (TOML or JSON strings, ``--set``), a whole number is ASCII digits with an
  optional leading minus (:data:`INTEGER_TEXT`), a decimal is that with an optional fraction and
  exponent (:data:`DECIMAL_TEXT`) — no separators at all;
- on the command line, an amount may also group its digits in threes with commas or underscores,
  one kind throughout (``1,000`` and ``1_000_000``, never ``0_0_1`` or ``1,00``): :func:`ungrouped`.
"""

from __future__ import annotations

import math
import re
from decimal import Context, Decimal

#: A whole number as a rate card writes it: ``7``, ``-1``, ``007``.
INTEGER_TEXT = re.compile(r"-?[0-9]+")
#: A decimal as a rate card writes it: ``0.46``, ``.5``, ``1e-2``.
DECIMAL_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
#: Digits grouped in threes by one kind of separator, with an optional sign and fraction.
_GROUPED = re.compile(r"-?[0-9]{1,3}(?P<sep>[,_])[0-9]{3}(?:(?P=sep)[0-9]{3})*(?:\.[0-9]*)?")
_CONTEXT = Context(prec=60)


def ungrouped(text: str) -> str:
    """``text`` (stripped) without its thousands separators, for ``int``/``float``/``Decimal``.

    Raises ValueError for anything but ASCII, and for separators that do not group the whole part
    in threes (``0_0_1``, ``1,00``, ``1_000,000``). What is left may still not be a number
    (``abc``, ``1e400``): the caller's parser and range check say so.
    """
    t = text.strip()
    if not t.isascii():
        raise ValueError(text)
    if "," not in t and "_" not in t:
        return t
    if not _GROUPED.fullmatch(t):
        raise ValueError(text)
    return t.replace(",", "").replace("_", "")


def plain_int(text: str) -> int:
    """A whole number written as ASCII digits (optional minus, grouped thousands allowed) —
    raises ValueError for anything else (``+5``, ``5.0``, ``٣``)."""
    t = ungrouped(text)
    if not INTEGER_TEXT.fullmatch(t):
        raise ValueError(text)
    return int(t)


def grouped(value: Decimal | int) -> str:
    """A count with thousands separators, without exponent or trailing zeros; it may be fractional
    (diamonds at a fractional rate): ``11,459,993``, ``1,234.5``."""
    if isinstance(value, int):
        return f"{value:,}"
    if value == 0:
        return "0"
    return format(value.normalize(_CONTEXT), ",f")


def count(n: int | Decimal, word: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``word`` in the right number: ``1 event``,
    ``0 events``, ``11,459,993 diamonds``; ``plural`` for a plural that is not ``word + "s"``."""
    return f"{grouped(n)} {word if n == 1 else plural or word + 's'}"


def shown(text: str) -> str:
    """A value as an error line quotes it: at most 40 characters."""
    return text if len(text) <= 40 else text[:40] + "…"


def checked_number(text: str, name: str, limit: float | None = None, *,
                   whole: bool = False) -> float:
    """``text`` as a number >= 0 (``1,000`` and ``1_000`` accepted), at most ``limit`` and whole
    when asked: the one check of the command line's and the web forms' numbers."""
    from liveworth.errors import UsageError

    try:
        value = float(ungrouped(text))
    except ValueError:
        raise UsageError(f"{name}: not a number: {shown(text)!r}") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{name}: must be a number >= 0, got {shown(text)!r}")
    if limit is not None and value > limit:
        raise UsageError(f"{name}: must be at most {limit:,.0f}, got {shown(text)!r}")
    if whole and not value.is_integer():
        raise UsageError(f"{name}: must be a whole number, got {shown(text)!r}")
    return value

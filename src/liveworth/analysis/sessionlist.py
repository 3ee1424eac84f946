"""Which sessions a list shows: the filters, the sort and the page of ``liveworth sessions``,
``/sessions`` and ``/api/sessions`` (and their CSV), in one place.

The rows come from :func:`liveworth.analysis.report.list_sessions` (the web keeps them per
version of the data); :func:`select` filters, sorts and pages them in memory, which takes a few
milliseconds for 10,000 sessions. Values come as text (a form field, a query parameter, an
option) and are checked here, so every front end refuses the same values with the same line.

- ``host``: the creator (``@`` optional, case-insensitive).
- ``since`` / ``until``: the session's start, a date ``YYYY-MM-DD`` (UTC; ``until`` takes in
  that whole day) or an ISO date-time (``2023-11-13T18:00``, UTC unless it names its offset;
  ``until`` up to that instant, inclusive).
- ``min_coins``: at least this many coins in all (counted + manual adjustments).
- ``sort``: a column, ``-`` before it for biggest / newest / longest first; ties by room id.
- ``limit`` / ``offset``: the page.
- empty sessions (under a minute with no gift and no subscription: a multi-room collector
  dump makes dozens) are hidden unless ``show_empty``; :class:`SessionPage` says how many were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from liveworth.errors import NotFoundError, UsageError

if TYPE_CHECKING:  # the command line builds its parser from this module: no store import
    from liveworth.analysis.report import SessionRow

#: A session shorter than this (seconds) with no gift is empty.
EMPTY_S = 60
#: Rows a page shows unless asked (the web's sessions page), and the most one answer may hold.
PAGE_LIMIT = 50
MAX_LIMIT = 1000
#: The newest first: the order of every list unless ``sort`` says otherwise.
DEFAULT_SORT = "-started"


def _host_key(r: SessionRow) -> tuple[bool, str]:
    return (r.host is None, (r.host or "").lower())


#: Sortable columns (the table's), each with the value it sorts by.
SORT_KEYS: dict[str, Callable[[SessionRow], Any]] = {
    "room": lambda r: r.room_id,
    "host": _host_key,
    "started": lambda r: r.start_ts,
    "duration": lambda r: r.end_ts - r.start_ts,
    "coins": lambda r: r.total_coins,
    "creator_usd": lambda r: r.total_creator_usd,
    "viewer_usd": lambda r: r.viewer_usd,
    "gifters": lambda r: r.gifters,
    "events": lambda r: r.events,
}
#: Other names the same columns go by (the JSON's keys).
SORT_ALIASES = {"room_id": "room", "start": "started", "start_ts": "started",
                "duration_s": "duration", "total_coins": "coins",
                "total_creator_usd": "creator_usd", "unique_gifters": "gifters"}
MAX_FILTER = 101  # "@" + the longest host (decode.formats.MAX_HOST)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What a list asks for, checked (see the module's docstring)."""

    host: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None  # inclusive
    min_coins: int | None = None
    sort: str = DEFAULT_SORT
    limit: int | None = None
    offset: int = 0
    show_empty: bool = False

    def matches(self, r: SessionRow) -> bool:
        """Every filter but the empty-session one."""
        return ((self.host is None or (r.host or "").lstrip("@").lower() == self.host)
                and (self.since_ms is None or r.start_ts >= self.since_ms)
                and (self.until_ms is None or r.start_ts <= self.until_ms)
                and (self.min_coins is None or r.total_coins >= self.min_coins))


@dataclass(frozen=True, slots=True)
class SessionPage:
    """One page of a list: its rows, how many match in all, how many empty ones were hidden."""

    rows: tuple[SessionRow, ...]
    total: int
    hidden_empty: int
    offset: int
    limit: int | None

    @property
    def first(self) -> int:
        """The 1-based number of the first row shown (0 when none is)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)

    @property
    def next_offset(self) -> int | None:
        return self.last if self.limit is not None and self.last < self.total else None

    @property
    def prev_offset(self) -> int | None:
        if self.offset <= 0:
            return None
        step = self.limit or self.offset
        return max(0, min(self.offset, self.total) - step)

    @property
    def last_offset(self) -> int:
        """The offset of the last page."""
        if not self.limit or self.total <= self.limit:
            return 0
        return (self.total - 1) // self.limit * self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "hidden_empty": self.hidden_empty, "offset": self.offset,
                "limit": self.limit, "first": self.first, "last": self.last}


def is_empty(r: SessionRow) -> bool:
    """Under a minute and no money: not one gift (counted or adjusted), no subscription."""
    return (r.end_ts - r.start_ts < EMPTY_S * 1000 and r.coins == 0 and r.gifters == 0
            and r.adjusted_coins == 0 and r.subscriptions == 0)


def select(rows: Sequence[SessionRow], f: SessionFilter) -> SessionPage:
    """The page of ``rows`` that ``f`` asks for."""
    chosen = [r for r in rows if f.matches(r)]
    shown = chosen if f.show_empty else [r for r in chosen if not is_empty(r)]
    desc = f.sort.startswith("-")
    key = SORT_KEYS[f.sort.lstrip("-")]
    ordered = sorted(shown, key=lambda r: r.room_id)  # the tiebreak: stable sorts keep it
    ordered.sort(key=key, reverse=desc)  # reverse keeps equal keys in order: room ids ascending
    end = None if f.limit is None else f.offset + f.limit
    return SessionPage(tuple(ordered[f.offset:end]), len(shown), len(chosen) - len(shown),
                       f.offset, f.limit)


def latest_session(rows: Sequence[SessionRow], host: str | None) -> SessionRow:
    """The latest session of ``host`` that is not empty (else its latest empty one); without a
    host, of the only creator in ``rows`` (several: a :class:`UsageError` naming how many)."""
    want = parse_host(host)
    if want is None:
        hosts = {(r.host or "").lstrip("@").lower() for r in rows if r.host}
        if len(hosts) > 1:
            raise UsageError(f"the store has {len(hosts):,} creators: name one, "
                             "e.g. --latest @creator (see `liveworth sessions`)")
        if not hosts:
            raise NotFoundError("no session with a known host in the store")
        want = hosts.pop()
    mine = select(rows, SessionFilter(host=want, limit=1, show_empty=True))
    if not mine.rows:
        raise NotFoundError(f"no session of @{want} in the store (see `liveworth sessions`)")
    full = select(rows, SessionFilter(host=want, limit=1))
    return (full.rows or mine.rows)[0]


# ---------------------------------------------------------------------------- parsing


def _text(value: object, name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_FILTER + 20:
        raise UsageError(f"{name} is too long ({len(text):,} characters)")
    return text or None


def parse_instant(text: str | None, name: str, *, end_of_day: bool = False) -> int | None:
    """``YYYY-MM-DD`` or an ISO date-time as ms since the epoch (UTC unless it says). A date
    is its first instant, or with ``end_of_day`` its last (for ``until``)."""
    text = _text(text, name)
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            if not end_of_day:
                return int(start.timestamp() * 1000)
            return int((start + dt.timedelta(days=1)).timestamp() * 1000) - 1
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise UsageError(f"{name}: not a date (YYYY-MM-DD) or an ISO date-time "
                         f"(YYYY-MM-DDTHH:MM[:SS][+HH:MM]): {text[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def parse_count(text: object, name: str, *, low: int, high: int | None = None) -> int | None:
    """A whole number from ``low`` (to ``high``), or None for no value."""
    raw = _text(text, name)
    if raw is None:
        return None
    digits = raw.replace(",", "")
    if not digits.removeprefix("-").isdigit() or not digits.isascii():
        raise UsageError(f"{name}: not a whole number: {raw[:40]!r}")
    value = int(digits)
    if value < low or (high is not None and value > high):
        span = f"from {low:,}" + (f" to {high:,}" if high is not None else "")
        raise UsageError(f"{name} must be a whole number {span}: {raw[:40]!r}")
    return value


def parse_sort(text: str | None) -> str:
    """A sort column, ``-`` before it for descending (aliases allowed); default newest first."""
    raw = _text(text, "sort")
    if raw is None:
        return DEFAULT_SORT
    sign, name = ("-", raw[1:]) if raw.startswith("-") else ("", raw.lstrip("+"))
    name = SORT_ALIASES.get(name.lower(), name.lower())
    if name not in SORT_KEYS:
        raise UsageError(f"sort: no column {raw[:40]!r} (choose from "
                         f"{', '.join(SORT_KEYS)}; '-' before it for descending)")
    return sign + name


def parse_host(text: str | None) -> str | None:
    raw = _text(text, "host")
    if raw is None:
        return None
    name = raw.lstrip("@").strip().lower()
    if not name:
        raise UsageError("host needs a creator's unique id, e.g. @creator")
    return name


def session_filter(*, host: str | None = None, since: str | None = None,
                   until: str | None = None, min_coins: object = None, sort: str | None = None,
                   limit: object = None, offset: object = None, show_empty: bool = False,
                   default_limit: int | None = None,
                   max_limit: int | None = MAX_LIMIT) -> SessionFilter:
    """A :class:`SessionFilter` from text values (empty or None: not given), checked: a bad
    value is a :class:`UsageError` of one line naming it."""
    since_ms = parse_instant(since, "since")
    until_ms = parse_instant(until, "until", end_of_day=True)
    if since_ms is not None and until_ms is not None and until_ms < since_ms:
        raise UsageError(f"until ({until}) is before since ({since})")
    chosen = parse_count(limit, "limit", low=1, high=max_limit)
    return SessionFilter(host=parse_host(host), since_ms=since_ms, until_ms=until_ms,
                         min_coins=parse_count(min_coins, "min_coins", low=0),
                         sort=parse_sort(sort),
                         limit=default_limit if chosen is None else chosen,
                         offset=parse_count(offset, "offset", low=0) or 0,
                         show_empty=show_empty)


def parse_flag(value: object, name: str) -> bool:
    """``true``/``1``/``yes`` or ``false``/``0``/``no``/empty (a form's checkbox)."""
    text = (_text(value, name) or "false").lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"{name}: not true or false: {text[:40]!r}")

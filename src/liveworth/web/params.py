"""The query and path parameters the routes take, the answers they declare besides 200, and how
an empty form field reads."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Path, Query

from liveworth.decode.formats import MAX_HOST, MAX_ROOM_ID
from liveworth.web.live import (
    MAX_LIST,
)
from liveworth.web.models import (
    ErrorOut,
)

# The limits of the door (decode.formats): whatever was imported has its pages.
RoomId = Annotated[str, Path(min_length=1, max_length=MAX_ROOM_ID,
                             description="the session's room id")]
Host = Annotated[str, Path(min_length=1, max_length=MAX_HOST + 1,  # "@" + the longest
                           description="the host's TikTok unique id (with or without @)")]
Top = Annotated[int, Query(ge=0, le=MAX_LIST, description="how many top gifters to list")]
Recent = Annotated[int, Query(ge=0, le=MAX_LIST, description="how many latest gifts to list")]
Channel = Annotated[str | None, Query(max_length=40, description="coin channel viewers buy on "
                                      "(web, ios, android, blended); default: the rate card's")]
Redact = Annotated[bool, Query(description="replace viewers' names with stable pseudonyms")]
Region = Annotated[str | None, Query(max_length=5, description="the creator's country for the "
                                     "LIVE subscription share: US, CA, GB, ... or other "
                                     "(default: other, the 50 % rule)")]
SubBonus = Annotated[bool, Query(description="count the LIVE subscription bonus (up to 20 %; "
                                 "default: not eligible)")]
Since = Annotated[str | None, Query(max_length=10, description="only sessions starting on or "
                                    "after this date (YYYY-MM-DD, local to tz)")]
Tz = Annotated[str, Query(max_length=64, description="time zone of start hours, weekdays, "
                          "weeks and months (IANA name; empty: UTC)")]
Seed = Annotated[int, Query(ge=0, le=2**63 - 1, description="seed of the bootstrap (same seed, "
                            "same answer; the CLI's default)")]
#: Gifters listed on the leaderboard page unless ``top`` says otherwise (the JSON lists all).
PAGE_GIFTERS = 100
BUSY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "the database is busy (a writer holds it) or "
          "unreadable; try again (Retry-After)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such session"},
    400: {"model": ErrorOut, "description": "an unknown coin channel"}, **BUSY,
}
BAD_SCOPE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a bad date, time zone or tier"}, **BUSY,
}
#: What a page may answer besides 200: an error page (HTML) saying why.
HTML_ERROR = {"text/html": {"schema": {"type": "string"}}}
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "an error page: a bad value (date, time zone, channel, tier, …)",
          "content": HTML_ERROR},
    404: {"description": "an error page: no such session (or no session of this host)",
          "content": HTML_ERROR},
    422: {"description": "an error page: a parameter out of its range or of the wrong type",
          "content": HTML_ERROR},
    503: {"description": "an error page: the database is busy; try again (Retry-After)",
          "content": HTML_ERROR},
}
NO_CREATOR: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no session of this host (since the date given)"},
    **BAD_SCOPE,
}




def query_string(**params: object) -> str:
    """``?k=v&…`` of the parameters that are set (values quoted), or empty."""
    pairs = [(k, v) for k, v in params.items() if v is not None and v != ""]
    items: list[tuple[str, object]] = []
    for k, v in pairs:
        items += [(k, x) for x in v] if isinstance(v, list | tuple) else [(k, v)]
    return ("?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in items)) if items else ""


def or_none(value: str | None) -> str | None:
    """An empty form field is no value."""
    return value if value is not None and value.strip() else None


def tz_or_utc(value: str) -> str:
    """The time zone asked for; an empty form field is UTC."""
    return value.strip() or "UTC"

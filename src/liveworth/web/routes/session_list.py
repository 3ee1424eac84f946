"""The sessions list that scales (``/sessions``, ``/api/sessions``, ``/api/sessions.csv``):
filters, sort and pages by :mod:`liveworth.analysis.sessionlist`, the same as ``liveworth
sessions``.

The API keeps its row shape (a JSON list of sessions) for the clients that read it; the page's
place in the whole travels in headers, as GitHub's API does: ``X-Total-Count`` (rows matching),
``X-Hidden-Empty`` (empty sessions left out), ``X-Offset``, ``X-Limit`` and an RFC 8288 ``Link``
(``first``, ``prev``, ``next``, ``last``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from liveworth.analysis.sessionlist import (
    MAX_LIMIT,
    PAGE_LIMIT,
    SORT_KEYS,
    SessionFilter,
    SessionPage,
    parse_flag,
    select,
    session_filter,
)
from liveworth.render.csvtables import filename, sessions_csv
from liveworth.web.context import Ctx, Web
from liveworth.web.models import ErrorOut, SessionRowOut
from liveworth.web.params import PAGE_ERRORS, query_string

router = APIRouter()

#: Taken as text and checked by sessionlist, so a bad value is a 400 with one line, as on the CLI.
FHost = Annotated[str | None, Query(max_length=120, description="only this creator's sessions "
                                    "(@ optional, any case)")]
FSince = Annotated[str | None, Query(max_length=40, description="sessions starting on or after: "
                                     "YYYY-MM-DD (UTC) or an ISO date-time")]
FUntil = Annotated[str | None, Query(max_length=40, description="sessions starting on or before: "
                                     "YYYY-MM-DD (that whole day, UTC) or an ISO date-time")]
FMinCoins = Annotated[str | None, Query(max_length=40, description="at least this many coins "
                                        "in all (counted + adjusted)")]
FSort = Annotated[str | None, Query(max_length=40, description="a column: " +
                                    ", ".join(SORT_KEYS) + "; '-' before it for descending "
                                    "(default -started: newest first; ties by room id)")]
FLimit = Annotated[str | None, Query(max_length=40, description="rows per page, 1-1000")]
FOffset = Annotated[str | None, Query(max_length=40, description="rows to skip (default 0)")]
FAll = Annotated[str | None, Query(alias="all", max_length=10, description="true: list empty "
                                   "sessions too (under a minute with no gift or subscription)")]
LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a bad filter, sort, limit or offset"},
    503: {"model": ErrorOut, "description": "the database is busy; try again (Retry-After)"},
}


def _params(host: str | None, since: str | None, until: str | None, min_coins: str | None,
            sort: str | None, show_all: bool) -> dict[str, object]:
    """The filters of a URL, as they were given (empty ones left out)."""
    return {"host": host, "since": since, "until": until, "min_coins": min_coins,
            "sort": sort, "all": "true" if show_all else None}


def _page(web: Web, given: dict[str, Any], *, default_limit: int | None,
          max_limit: int | None) -> tuple[SessionFilter, SessionPage]:
    show = parse_flag(given.pop("all"), "all")
    f = session_filter(**given, show_empty=show, default_limit=default_limit,
                       max_limit=max_limit)
    return f, select(web.sessions(), f)


def _links(path: str, keep: dict[str, object], page: SessionPage,
           default_limit: int | None = None) -> dict[str, str]:
    """first / prev / next / last of a page, each keeping the filters (and the limit, unless
    it is the default)."""
    limit = None if page.limit == default_limit else page.limit

    def url(offset: int) -> str:
        return path + query_string(**keep, limit=limit, offset=offset or None)

    out = {"first": url(0), "last": url(page.last_offset)}
    if page.prev_offset is not None:
        out["prev"] = url(page.prev_offset)
    if page.next_offset is not None:
        out["next"] = url(page.next_offset)
    return out


@router.get("/sessions", response_class=HTMLResponse, tags=["pages"], responses=PAGE_ERRORS,
            summary="Page: the recorded sessions, filtered, sorted and in pages")
def sessions_page(request: Request, web: Ctx, host: FHost = None, since: FSince = None,
                  until: FUntil = None, min_coins: FMinCoins = None, sort: FSort = None,
                  limit: FLimit = None, offset: FOffset = None,
                  show_all: FAll = None) -> HTMLResponse:
    def build() -> HTMLResponse:
        given = {"host": host, "since": since, "until": until, "min_coins": min_coins,
                 "sort": sort, "limit": limit, "offset": offset, "all": show_all}
        f, page = _page(web, given, default_limit=PAGE_LIMIT, max_limit=MAX_LIMIT)
        keep = _params(host, since, until, min_coins, sort, f.show_empty)
        keep_limit = {**keep, "limit": None if f.limit == PAGE_LIMIT else f.limit}
        nosort = {k: v for k, v in keep_limit.items() if k != "sort"}
        links = _links("/sessions", keep, page, PAGE_LIMIT)
        return web.page(
            request, "sessions.html", title="Sessions", rows=list(page.rows), page=page,
            f=f, db=web.db_label, links=links, form=_form(host, since, until, min_coins),
            sort=f.sort, limit=f.limit, show_all=f.show_empty,
            sort_url={c: "/sessions" + query_string(**nosort, sort=_toggle(f.sort, c))
                      for c in SORT_KEYS},
            all_url="/sessions" + query_string(**{**keep_limit, "all": "true"}),
            some_url="/sessions" + query_string(**{**keep_limit, "all": None}),
            csv_url="/api/sessions.csv" + query_string(**keep),
            json_url="/api/sessions" + query_string(**keep_limit, offset=offset or None))

    return web.cached_page(request, build)


def _toggle(current: str, column: str) -> str:
    """The sort a column header links to: the other way round when it is the current one;
    text columns ascending first, numbers and times biggest / newest first."""
    if current.lstrip("-") == column:
        return column if current.startswith("-") else "-" + column
    return column if column in ("room", "host") else "-" + column


def _form(*values: str | None) -> dict[str, str]:
    names = ("host", "since", "until", "min_coins")
    return {n: v or "" for n, v in zip(names, values, strict=True)}


@router.get("/api/sessions", response_model=list[SessionRowOut], tags=["api"],
            summary="The recorded sessions, newest first (filters, sort, pages: liveworth "
            "sessions --json)", responses=LIST_ERRORS)
def sessions_api(response: Response, web: Ctx, host: FHost = None, since: FSince = None,
                 until: FUntil = None, min_coins: FMinCoins = None, sort: FSort = None,
                 limit: FLimit = None, offset: FOffset = None,
                 show_all: FAll = None) -> list[dict[str, object]]:
    """At most 1,000 rows an answer (the default); the headers say where the page stands."""
    given = {"host": host, "since": since, "until": until, "min_coins": min_coins,
             "sort": sort, "limit": limit, "offset": offset, "all": show_all}
    f, page = _page(web, given, default_limit=MAX_LIMIT, max_limit=MAX_LIMIT)
    keep = _params(host, since, until, min_coins, sort, f.show_empty)
    links = _links("/api/sessions", keep, page, MAX_LIMIT)
    response.headers.update({
        "X-Total-Count": str(page.total), "X-Hidden-Empty": str(page.hidden_empty),
        "X-Offset": str(page.offset), "X-Limit": str(page.limit),
        "Link": ", ".join(f'<{u}>; rel="{rel}"' for rel, u in links.items())})
    return [r.as_dict() for r in page.rows]


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "CSV (formula-safe text, coins as integers, money as exact decimals)"},
    **LIST_ERRORS,
}


def csv_response(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/sessions.csv", response_class=Response, tags=["api"],
            summary="The sessions list as CSV (the same filters and sort; every matching row "
            "unless limit)", responses=CSV_RESPONSE)
def sessions_csv_api(web: Ctx, host: FHost = None, since: FSince = None, until: FUntil = None,
                     min_coins: FMinCoins = None, sort: FSort = None, limit: FLimit = None,
                     offset: FOffset = None, show_all: FAll = None) -> Response:
    given = {"host": host, "since": since, "until": until, "min_coins": min_coins,
             "sort": sort, "limit": limit, "offset": offset, "all": show_all}
    f, page = _page(web, given, default_limit=None, max_limit=None)
    return csv_response(sessions_csv(page.rows), filename("sessions", f.host, since, until))

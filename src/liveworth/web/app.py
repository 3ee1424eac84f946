"""The FastAPI app: server-rendered pages, each with a JSON twin under ``/api``.

- ``/sessions`` and ``/api/sessions`` (and ``.csv``): the recorded sessions, filtered, sorted
  and in pages;
- ``/sessions/{room_id}`` and ``/api/sessions/{room_id}``: one session's earnings report;
- ``/estimate`` and ``/api/estimate``: the estimator (when it is installed);
- ``/live/{host}`` and ``/api/live/{host}``: a host's current or latest LIVE, kept up to date
  through ``/api/live/{host}/events`` (server-sent events);
- ``/overlay/{host}``: the OBS / TikTok LIVE Studio overlay (its twin: ``/api/live/{host}``);
- ``/creators/{host}/analysis`` and ``/api/creators/{host}/analysis``: one creator's analysis
  across sessions (``liveworth analyze``);
- ``/gifters`` and ``/api/gifters`` (and ``.csv``): the gifter leaderboard (``liveworth gifters``);
- ``/roster`` and ``/api/roster`` (and ``.csv``): the agency roll-up per creator and month or week
  (``liveworth roster``).

Routes are thin: they open the store read-only for the request (:mod:`liveworth.web.db`), call
one library function and render its result with a Jinja2 template (autoescaped) or return its
``as_dict()`` through a response model. Data for scripts travels as JSON or ``data-``
attributes; the only scripts are the app's static files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveworth import __version__
from liveworth.alerts.rules import Rule
from liveworth.alerts.watch import AlertWatch
from liveworth.economy.ratecard import RateCard, load_rate_card, preset_help
from liveworth.errors import LiveworthError, NotFoundError, UsageError
from liveworth.store.database import resolve_db_path
from liveworth.web.context import POLL_S, STREAM_LIFETIME_S, Web, web_of
from liveworth.web.db import (
    BUSY_TIMEOUT_S,
    DatabaseBusy,
    Opener,
    ReadOnlyStore,
)
from liveworth.web.routes import (
    agency,
    alerts,
    brief,
    creators,
    crm,
    downloads,
    estimate,
    home,
    live,
    plan,
    session_list,
    sessions,
)
from liveworth.web.security import LOOPBACK_HOSTS, Guard, check_token
from liveworth.web.templating import templates


def warm_charts() -> None:
    """Start the chart renderer (vl-convert's JavaScript runtime: about 0.4 s, once a process)
    before the first page needs it; ``serve`` calls it in a thread as it starts."""
    from liveworth.render.charts import svg

    svg({"mark": "point", "data": {"values": [{"x": 1}]},
         "encoding": {"x": {"field": "x", "type": "quantitative"}}})


# ---------------------------------------------------------------------------- errors


_STATUS: tuple[tuple[type[LiveworthError], int], ...] = (
    (NotFoundError, 404),
    (UsageError, 400),
    (DatabaseBusy, 503),
    (LiveworthError, 503),  # any other store or config trouble: the server cannot answer now
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


async def _liveworth_error(request: Request, exc: Exception) -> Response:
    status = next(code for kind, code in _STATUS if isinstance(exc, kind))
    headers = {"retry-after": "1"} if status == 503 else None
    if _wants_json(request):
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
    web = web_of(request)
    response = web.page(request, "error.html", status=status, title=f"Error {status}",
                        json_url=None, status_code=status, messages=[str(exc)])
    if headers:
        response.headers.update(headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    errors = cast(RequestValidationError, exc).errors()
    if _wants_json(request):
        return JSONResponse({"detail": jsonable(errors)}, status_code=422)
    messages = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'input'}: {e.get('msg')}"
                for e in errors]
    return web_of(request).page(request, "error.html", status=422, title="Error 422",
                              json_url=None, status_code=422, messages=messages)


def jsonable(errors: Iterable[Any]) -> list[dict[str, Any]]:
    """Validation errors as plain JSON (their ``ctx`` may hold exceptions)."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in errors]


# ---------------------------------------------------------------------------- the OpenAPI schema


#: Query parameters whose accepted values the route checks itself (400 otherwise); the schema
#: says exactly which, so that every request it describes is answered.
_DAY = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
        "description": "a date, YYYY-MM-DD (empty: none)"}
_TIER = {"type": "array", "maxItems": 20, "uniqueItems": True,
         "items": {"type": "string", "pattern": r"^[A-Za-z0-9_.+#&@-]{1,40}:[0-9]{1,12}"
                   r"(:[0-9]{1,3}(:[0-9]{1,4})?)?$"}}
_PART = "(coins|usd|goal|gifters|recent)"
_HIDE = {"type": "string", "maxLength": 60, "default": "",
         "pattern": f"^ *({_PART} *(, *{_PART} *)*)?$"}
_GOAL = {"type": "number", "minimum": 0, "maximum": 10**12}


def _described(app: FastAPI, card: RateCard) -> dict[str, Any]:
    """FastAPI's schema with the values of ``tz``, ``since``, ``as_of``, ``channel``, ``tier``,
    ``hide`` and ``goal`` spelled out (time zones and channels as enums), and no ``null``
    alternative for query parameters (absent is None)."""
    from zoneinfo import available_timezones

    spec = get_openapi(title=app.title, version=app.version, description=app.description,
                       routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["TimeZone"] = {"type": "string", "description": "an IANA time zone (empty: UTC)",
                           "enum": ["", "UTC", *sorted(available_timezones() - {"UTC"})]}
    schemas["Day"] = _DAY
    channels = ["", *sorted(card.channels)]
    for item in spec.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param.get("in") != "query":
                    continue
                name, schema = param["name"], param.get("schema", {})
                options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
                if len(options) == 1:  # an absent parameter is None; "null" is no value
                    schema = param["schema"] = {**{k: v for k, v in schema.items()
                                                   if k != "anyOf"}, **options[0]}
                if name == "tz":
                    param["schema"] = {"$ref": "#/components/schemas/TimeZone", "default": "UTC"}
                elif name in ("since", "as_of"):
                    param["schema"] = {"$ref": "#/components/schemas/Day"}
                elif name == "preset":
                    param["schema"] = {"type": "string", "enum": ["", *preset_help()],
                                       "description": schema.get("description", "")}
                elif name == "channel":
                    param["schema"] = {"type": "string", "enum": channels,
                                       "description": schema.get("description", "")}
                elif name == "tier":
                    param["schema"] = {**_TIER, "description": schema.get("description", "")}
                elif name == "hide":
                    param["schema"] = {**_HIDE, "description": schema.get("description", "")}
                elif name == "goal":
                    param["schema"] = {**_GOAL, "description": schema.get("description", "")}
    return spec


# ---------------------------------------------------------------------------- HEAD


class HeadAsGet:
    """HEAD answered like GET, without the body, on every route (FastAPI routes declare GET
    only, so HEAD was 405). The body never leaves: the answer ends with its first part, which
    also ends a stream at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if ended:
                return
            if message["type"] == "http.response.body":
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


# ---------------------------------------------------------------------------- the factory


def create_app(
    db_path: str | os.PathLike[str] | None,
    *,
    token: str | None = None,
    card: RateCard | None = None,
    allowed_hosts: Iterable[str] | None = None,
    opener: Opener | None = None,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
    poll_s: float = POLL_S,
    stream_lifetime_s: float = STREAM_LIFETIME_S,
    clock: Callable[[], int | None] | None = None,
    rules: Sequence[Rule] = (),
    preset_loader: Callable[[str], RateCard] | None = None,
) -> FastAPI:
    """The web app over the database at ``db_path`` (``--db`` rules: else ``$LIVEWORTH_DB``,
    else ``./liveworth.duckdb``).

    ``token``: when set, every request must carry it (:mod:`liveworth.web.security`).
    ``allowed_hosts``: the Host names answered; by default loopback names only when there is no
    token, any with one. ``card``: the rate card (default: the bundled one). ``opener``: how to
    open the store for reading (default: the file, read-only, per request, waiting up to
    ``busy_timeout_s`` for a writer). ``poll_s`` and ``stream_lifetime_s`` tune live streams.
    ``clock`` (ms, event time) tells a live session from an idle one: the recording's own when
    served by ``record --serve`` (a replay's is its recording's), else the wall clock.
    ``rules`` (``serve --alerts``): alert rules the live pages evaluate over the stored events,
    read-only (shown, never stored nor sent: the recorder does that). ``preset_loader``: the
    card of another preset, for a page's ``?preset=`` (default: that preset's bundled card).
    """
    if token is not None:
        check_token(token)
    path = resolve_db_path(db_path)
    web = Web(open_store=opener or ReadOnlyStore(path, busy_timeout_s), db_label=path,
              card=card or load_rate_card(), templates=templates(), poll_s=poll_s,
              stream_lifetime_s=stream_lifetime_s, clock=clock, preset_loader=preset_loader)
    if rules:
        web.alert_watch = AlertWatch(rules, web.card, persist=False)
    app = FastAPI(title="liveworth", version=__version__,
                  description="What a TikTok LIVE earns: recorded sessions, live state, "
                  "estimates. Every page has a JSON twin under /api.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.web = web
    for module in (home, session_list, sessions, estimate, plan, live, creators, agency,
                   downloads, crm, brief, alerts):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("liveworth.web", "static")]), name="static")
    described = _described(app, web.card)
    app.openapi = lambda: described  # type: ignore[method-assign]
    app.add_exception_handler(LiveworthError, _liveworth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    hosts = allowed_hosts if allowed_hosts is not None else (
        LOOPBACK_HOSTS if token is None else None)
    app.add_middleware(Guard, token=token, allowed_hosts=hosts)
    app.add_middleware(HeadAsGet)  # outermost: the guard sees a GET
    return app

"""``liveworth serve``: the web dashboard and the OBS overlay (docs/WEB.md)."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from liveworth.cli.alerts import read_rules
from liveworth.cli.options import (
    CommandFactory,
    add_card_options,
    card_from_args,
    port_number,
    print_json,
)
from liveworth.errors import StoreError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Where the token may come from instead of --token (command lines are visible to other users).
TOKEN_ENV = "LIVEWORTH_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The token the server requires, and whether it was generated here.

    A given token is always required. Bound beyond loopback, a server without one gets a fresh
    ``secrets.token_urlsafe`` token; on loopback none is needed.
    """
    if token:
        return token, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def mask(token: str) -> str:
    """A token given to us, as printed: enough to tell which one, not enough to use."""
    return f"{token[:2]}…"


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    from liveworth.store.database import resolve_db_path

    try:
        from liveworth.web import create_app
        from liveworth.web.server import listen, make_server
    except ImportError as exc:  # the web extra is not installed
        raise UsageError(f"the web dashboard needs fastapi, uvicorn and jinja2 ({exc})") from None
    card = card_from_args(args)
    rules = read_rules(args)
    db = resolve_db_path(args.db)
    token, generated = resolve_token(args.host, args.token or os.environ.get(TOKEN_ENV))
    app = create_app(db, token=token, card=card, rules=rules,
                     preset_loader=lambda preset: card_from_args(  # a page's ?preset=
                         argparse.Namespace(**{**vars(args), "preset": preset})))
    import threading

    from liveworth.web.app import warm_charts

    threading.Thread(target=warm_charts, name="liveworth-charts", daemon=True).start()
    sockets = listen(args.host, args.port)  # before anything is printed: a busy port is one line
    server = make_server(app, log_level=args.log_level)
    base = _url(args.host, args.port)
    if args.json:  # a given token is the caller's own: it is not repeated
        print_json(console, {"url": f"{base}/sessions", "db": db, "host": args.host,
                             "port": args.port, "token": token if generated else None,
                             "token_required": token is not None,
                             "token_generated": generated})
    else:
        _print_start(console, db, base, token, generated)
    _warn_if_busy(db)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once stopped
        server.run(sockets=sockets)
    return 0


def _print_start(console: Console, db: str, base: str, token: str | None,
                 generated: bool) -> None:
    """The address and, when one is needed, the token: in full when generated here (the user
    needs it), masked when given (it is in the environment or on the command line already, and
    a terminal is often shared or on stream)."""
    from rich.markup import escape

    console.print(f"liveworth serving {escape(db)} at [bold]{base}/sessions[/bold]")
    if token and generated:
        console.print(f"token (generated; every request needs it): [bold]{token}[/bold]")
        console.print(f"  open {base}/sessions?token={token}")
        console.print(f"  OBS browser source: {base}/overlay/HOST?token={quote(token)}&goal=10000")
    elif token:
        console.print(f"token (given; every request needs it): {escape(mask(token))} (not shown; "
                      f"put it in place of TOKEN)")
        console.print(f"  open {base}/sessions?token=TOKEN")
        console.print(f"  OBS browser source: {base}/overlay/HOST?token=TOKEN&goal=10000")
    else:
        console.print(f"OBS browser source: {base}/overlay/HOST?goal=10000")


def _warn_if_busy(db: str) -> None:
    """Say so on stderr at start when the database cannot be read yet."""


    from liveworth.store.database import Store
    from liveworth.web.db import is_lock_error

    if not os.path.exists(db):
        sys.stderr.write(f"note: no database at {db} yet; pages fill in once something is "
                         "imported or recorded\n")
        return
    try:
        Store.open(db, read_only=True).close()
    except StoreError as exc:
        if is_lock_error(exc):
            sys.stderr.write(f"warning: another process holds {db} for writing; DuckDB lets no "
                             "one read it meanwhile, so pages answer 503 until it lets go (see "
                             "docs/WEB.md)\n")
        else:
            sys.stderr.write(f"warning: {exc}\n")


def register(command: CommandFactory) -> None:
    p = command("serve", cmd_serve, "web dashboard, live page and OBS overlay",
                "Serve the sessions, their reports, the estimator, a live page and an OBS / "
                "TikTok LIVE Studio overlay, each page with a JSON twin under /api "
                "(described at /openapi.json). Binds to 127.0.0.1; bound to any other address "
                "it requires a token on every request (generated and printed if not given). "
                "The rate card options are the pages' default; a money page's ?preset= and "
                "?channel= choose another, as --preset and --channel do (docs/WEB.md).")
    p.add_argument("--db", help="database file (default: $LIVEWORTH_DB or ./liveworth.duckdb)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to bind (default {DEFAULT_HOST}; anything else needs a token)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--token", help=f"token every request must carry (default: ${TOKEN_ENV}; "
                   "generated when bound beyond loopback)")
    p.add_argument("--log-level", default="warning",
                   choices=("critical", "error", "warning", "info", "debug"),
                   help="server log level (default warning)")
    add_card_options(p)
    p.add_argument("--alerts", type=Path, metavar="FILE",
                   help="alert rules (TOML, docs/ALERTS.md) the live pages and overlay try on "
                        "the stored events, next to the alerts recordings stored (shown only: "
                        "record --alerts stores and sends them)")
    p.add_argument("--json", action="store_true",
                   help="print the address and token as JSON (for scripts), then serve")

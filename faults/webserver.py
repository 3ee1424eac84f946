"""Serve the web app the way ``liveworth serve`` does, for builds whose CLI lacks ``serve``.

    python faults/webserver.py --db FILE [--host H] [--port P] [--token T]

The suite prefers ``liveworth serve``; while the command is not registered in the CLI yet, this
runs the same thing: ``liveworth.web.create_app`` under uvicorn, with the token rules of
``liveworth.cli.serve`` (a token is generated and printed when bound beyond loopback).
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--token")
    args = ap.parse_args()
    import uvicorn

    from liveworth.cli.serve import TOKEN_ENV, resolve_token
    from liveworth.web import create_app

    token, _ = resolve_token(args.host, args.token or os.environ.get(TOKEN_ENV))
    app = create_app(args.db, token=token)
    if token:
        print(f"token (generated; every request needs it): {token}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False,
                proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The web dashboard and the OBS overlay: ``liveworth serve``.

Server-rendered pages over the store, each with a JSON twin under ``/api`` described by
``/openapi.json``; a live page and a transparent overlay that follow a LIVE as it is recorded.
See docs/WEB.md.
"""

from __future__ import annotations

from liveworth.web.app import create_app

__all__ = ["create_app"]

"""The rate-card options of the money pages: ``?preset=`` and ``?channel=``, as ``--preset`` and
``--channel`` on the command line, offered as a small GET form whose select boxes list the rate
card's own presets and coin channels (read from the card, never written here)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request

from liveworth.economy.ratecard import preset_help
from liveworth.web.context import Web

Preset = Annotated[str | None, Query(max_length=40, description="named rate card preset, as "
                                     "--preset (default: the server's)")]
CardChannel = Annotated[str | None, Query(max_length=40, description="coin channel viewers buy "
                                          "on, as --channel (default: the rate card's)")]


def presets() -> list[tuple[str, str]]:
    """Each preset of the bundled rate card and its one-line description."""
    return list(preset_help().items())


def card_options(request: Request, web: Web, preset: str | None, channel: str | None, *,
                 channels: bool = True) -> dict[str, Any]:
    """What the options form (``_card_options.html``) needs: the choices, the chosen ones, and
    the page's other query parameters (kept as hidden fields, so a choice keeps the rest)."""
    card = web.card_for(preset, channel)  # an unknown preset or channel: 400 before any read
    keep = [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("preset", "channel", "token")]
    return {"card_opts": {
        "action": quote(request.url.path, safe="/"), "presets": presets(), "preset": card.preset,
        "channels": sorted(card.channels) if channels else None,
        "channel": card.channel(channel).name, "keep": keep, "card_name": card.name}}


def or_blank(value: str | None) -> str | None:
    """An empty option is no option."""
    return value if value is not None and value.strip() else None

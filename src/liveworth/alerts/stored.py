"""Alerts as the store keeps them (the ``alerts`` table), for ``liveworth alerts``, the pages and
the brief."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from liveworth.alerts.engine import Alert
from liveworth.store.database import Store

MAX_LISTED = 10_000


def stored_alerts(store: Store, *, host: str | None = None, room_id: str | None = None,
                  since_ms: int | None = None, until_ms: int | None = None,
                  limit: int = 1000, newest_first: bool = False) -> list[Alert]:
    """Stored alerts in event-time order (newest first when asked), at most ``limit``."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if host is not None:
        where.append("lower(host) = lower(?)")
        params.append(host.strip().lstrip("@"))
    if room_id is not None:
        where.append("room_id = ?")
        params.append(room_id)
    if since_ms is not None:
        where.append("ts >= ?")
        params.append(since_ms)
    if until_ms is not None:
        where.append("ts < ?")
        params.append(until_ms)
    order = "DESC" if newest_first else "ASC"
    rows = store.query(
        'SELECT room_id, host, rule, "key", kind, ts, text, user_id, who, detail FROM alerts '
        f"WHERE {' AND '.join(where)} ORDER BY ts {order}, room_id {order}, rule {order}, "
        f'"key" {order} LIMIT ?', [*params, max(0, min(limit, MAX_LISTED))])
    return [_alert(r) for r in rows]


def _alert(r: Sequence[Any]) -> Alert:
    try:
        detail = json.loads(r[9]) if r[9] else {}
    except ValueError:
        detail = {}
    return Alert(str(r[0]), str(r[1] or ""), str(r[2]), str(r[3]), str(r[4]), int(r[5]),
                 str(r[6]), r[7], r[8], detail if isinstance(detail, dict) else {})

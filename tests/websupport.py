"""What the web tests share: databases of real and hostile sessions, and a writer that records
into a database while the app reads it."""

from __future__ import annotations

import io
import json
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from liveworth.decode.events import event_from_dict
from liveworth.errors import StoreError
from liveworth.ingest.importer import import_paths
from liveworth.store import ledger
from liveworth.store.database import Store, events_table
from liveworth.web.db import is_lock_error

from conftest import DUMPS

with warnings.catch_warnings():  # starlette nags about httpx2; httpx is what the project pins
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient as TestClient

REAL_DUMPS = sorted(DUMPS.glob("*.json.gz"))
assert len(REAL_DUMPS) == 8, f"the real dumps are missing from {DUMPS}"
REAL_ROOM = "7309128470994258694"  # the longest recording in the dumps
REAL_HOST = "crecee.saraa"

#: Names a viewer can choose; none may ever run as script in a page.
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
HOSTILE = (*XSS, '"><svg onload=alert(1)>', "javascript:alert(1)", "'; DROP TABLE events; --")

#: A token for servers that require one.
TOKEN = "test-token-0123456789abcdef"
T0 = 1_700_000_000_000
XSS_ROOM = "xss-room"
XSS_HOST = "xss_host"
#: A host whose very name is hostile (it appears in URLs, links and titles).
EVIL_HOST_ROOM = "evil-host-room"
EVIL_HOST = XSS[1]
LIVE_ROOM = "live-room"
LIVE_HOST = "live_host"
#: A creator with enough sessions for the analysis to measure its drivers (simulated).
STEADY_HOST = "steady_creator"
STEADY_SESSIONS = 12


def gift(room: str, msg_id: str, ts: int, user_id: str, name: str, coins: int, *,
         gift_name: str = "Rose", gift_type: int = 2, repeat: int = 1,
         end: bool = True, group: str = "g") -> dict[str, Any]:
    return {"v": 1, "type": "gift", "room_id": room, "msg_id": msg_id, "ts": ts,
            "user_id": user_id, "user": name, "nickname": name, "gift_id": 5655,
            "gift_name": gift_name, "coins": coins, "gift_type": gift_type,
            "repeat_count": repeat, "repeat_end": end, "group_id": group}


def hostile_events() -> list[dict[str, Any]]:
    """Two sessions whose viewers, comments, gift names (and in one, the host) are hostile."""
    out: list[dict[str, Any]] = []
    for room, host in ((XSS_ROOM, XSS_HOST), (EVIL_HOST_ROOM, EVIL_HOST)):
        out.append({"v": 1, "type": "live_start", "room_id": room, "msg_id": "start",
                    "ts": T0, "host_id": "999", "host": host})
        for i, name in enumerate(HOSTILE):
            ts = T0 + 1000 * (i + 1)
            out.append(gift(room, f"g{i}", ts, f"u{i}", name, 10 * (i + 1), gift_name=name))
            out.append({"v": 1, "type": "comment", "room_id": room, "msg_id": f"c{i}",
                        "ts": ts + 1, "user_id": f"u{i}", "user": name, "nickname": name,
                        "text": name})
            out.append({"v": 1, "type": "join", "room_id": room, "msg_id": f"j{i}",
                        "ts": ts + 2, "user_id": f"u{i}", "user": name, "nickname": name})
        out.append({"v": 1, "type": "viewers", "room_id": room, "msg_id": "v1",
                    "ts": T0 + 500, "current": 42})
    return out


def live_start_events(room: str = LIVE_ROOM, host: str = LIVE_HOST,
                      t0: int = T0) -> list[dict[str, Any]]:
    """A LIVE that started at ``t0``: a start, a viewer count and one 5-coin gift."""
    return [
        {"v": 1, "type": "live_start", "room_id": room, "msg_id": "start", "ts": t0,
         "host_id": "777", "host": host},
        {"v": 1, "type": "viewers", "room_id": room, "msg_id": "v0", "ts": t0 + 10,
         "current": 120},
        gift(room, "first", t0 + 20, "fan1", "first_fan", 5),
    ]


def steady_jsonl() -> str:
    """Twelve simulated sessions of :data:`STEADY_HOST` in June 2024 (seeded: always the same),
    as JSONL: 20–60 viewers, 20 or 40 minutes, starting at 13:00, 19:00 or 21:00 UTC."""
    from liveworth.model.generative import ModelParams
    from liveworth.model.simulate import simulate

    rng = np.random.default_rng(2)
    params = ModelParams.from_prior()
    day, start, buf = 86_400_000, 1_717_200_000_000, io.StringIO()
    for i in range(STEADY_SESSIONS):
        start += day * int(rng.integers(1, 3))
        simulate(params, followers=5000, viewers=float(rng.uniform(20, 60)),
                 minutes=float(rng.choice([20, 40])), rng=rng, room_id=f"steady-{i:02d}",
                 start_ts=start + int(rng.choice([13, 19, 21])) * 3_600_000,
                 host=STEADY_HOST).write_jsonl(buf)
    return buf.getvalue()


def write_jsonl(path: Path, events: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events),
                    encoding="utf-8")
    return path


def build_db(path: Path, *, real: bool = True) -> str:
    """A database of the real dumps (if ``real``: with them, the steady creator's sessions too),
    the hostile sessions and a started LIVE."""
    jsonl = write_jsonl(path.with_suffix(".jsonl"), [*hostile_events(), *live_start_events()])
    steady = path.with_name(path.stem + "-steady.jsonl")
    if real:
        steady.write_text(steady_jsonl(), encoding="utf-8")
    with Store.open(path) as store:
        result = import_paths(store, [*(REAL_DUMPS if real else []), jsonl,
                                      *([steady] if real else [])])
    assert result.rejected == 0
    return str(path)


@contextmanager
def writer(db: str, timeout_s: float = 10.0) -> Iterator[Store]:
    """The database opened for writing, waiting while the app's readers hold it (DuckDB allows
    no writer while a reader has the file open, in this process or another)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            store = Store.open(db)
            break
        except StoreError as exc:
            if not is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    try:
        yield store
    finally:
        store.close()


def record(db: str, events: Sequence[dict[str, Any]]) -> None:
    """Store ``events`` and recompute their rooms' ledger, as the recorder does."""
    table = events_table([event_from_dict(e) for e in events])
    with writer(db) as store:
        store.begin()
        store.insert_events(table)
        ledger.recompute(store.con, sorted({e["room_id"] for e in events}))
        store.commit()

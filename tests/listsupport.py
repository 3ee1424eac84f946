"""What the sessions-list and CSV tests share: a store of the real dumps (websupport.build_db)
plus a simulated multi-creator history, empty sessions, a same-time tie, a manual adjustment and
spreadsheet-hostile names (``=HYPERLINK(`` as a host, a gifter and a gift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveworth.ingest.importer import import_paths
from liveworth.store.database import Store
from websupport import T0, gift, write_jsonl

from conftest import run_cli

#: Creators of the simulated history, each with SIM_SESSIONS sessions from 2024-03-01.
SIM_HOSTS = ("sim_alpha", "Sim_Beta", "sim_gamma")
SIM_SESSIONS = 6
#: Empty sessions (a start, no gift, seconds long) of the first simulated creator.
EMPTY_ROOMS = ("empty-1", "empty-2", "empty-3")
#: Two sessions starting at the same millisecond with the same coins (the tiebreak).
TIE_ROOMS = ("tie-b", "tie-a")
TIE_TS = 1_710_000_000_000  # 2024-03-09 16:00 UTC
#: Spreadsheet formulas as names: each must come out of a CSV as text.
FORMULA = '=HYPERLINK("http://evil.example/?x","click me")'
FORMULAS = (FORMULA, "+1+2", "-3+4", "@SUM(A1:A2)", "\tTAB", "\rCR")
FORMULA_ROOM = "formula-room"
FORMULA_HOST = FORMULA


def extra_events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, room in enumerate(EMPTY_ROOMS):  # 10 s, a viewer count, no gift
        t = TIE_TS + (i + 1) * 86_400_000
        out += [{"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": t,
                 "host_id": "1", "host": SIM_HOSTS[0]},
                {"v": 1, "type": "viewers", "room_id": room, "msg_id": "v", "ts": t + 10_000,
                 "current": 3}]
    for room in TIE_ROOMS:
        out += [{"v": 1, "type": "live_start", "room_id": room, "msg_id": "s", "ts": TIE_TS,
                 "host_id": "2", "host": SIM_HOSTS[1]},
                gift(room, "g", TIE_TS + 90_000, "tie-fan", "tie_fan", 7)]
    out.append({"v": 1, "type": "live_start", "room_id": FORMULA_ROOM, "msg_id": "s",
                "ts": T0, "host_id": "3", "host": FORMULA_HOST})
    for i, name in enumerate(FORMULAS):
        out.append(gift(FORMULA_ROOM, f"f{i}", T0 + 1000 * (i + 1), f"fu{i}", name,
                        10 * (i + 1), gift_name=name))
    return out


def add_simulated(db: str, work: Path) -> None:
    """Import the simulated creators, the extra sessions and one manual adjustment into ``db``."""
    paths: list[Path] = []
    for n, host in enumerate(SIM_HOSTS):
        folder = work / f"sim{n}"
        r = run_cli("simulate", "--followers", str(400 + 300 * n), "--minutes", "4",
                    "--sessions", str(SIM_SESSIONS), "--per-week", "4", "--start",
                    "2024-03-01", "--seed", str(n + 1), "--host", host, "--room-id",
                    f"sim{n}", "--out", f"{folder}/", "--json")
        assert r.code == 0, r.err
        paths += sorted(folder.glob("*.jsonl"))
    paths.append(write_jsonl(work / "extra.jsonl", extra_events()))
    with Store.open(db) as store:
        assert import_paths(store, paths).rejected == 0
    r = run_cli("adjust", "tie-a", "--db", db, "--coins", "300", "--reason", "paid off-app",
                "--by", "test")
    assert r.code == 0, r.err

"""Shared fixtures: where the real data lives, an isolated config, a CLI runner."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from liveworth.cli import main

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the fault suite's helpers (faults.simraw …), whatever runs first
    sys.path.insert(0, str(REPO))
#: Real data (see tests/data/README.md for where each file comes from and its licence).
DATA = Path(__file__).resolve().parent / "data"
DUMPS = DATA / "real" / "webcast_dumps"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file or database."""
    monkeypatch.setenv("LIVEWORTH_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("LIVEWORTH_DB", str(tmp_path / "test.duckdb"))
    monkeypatch.setenv("COLUMNS", "120")


def run_cli(*argv: str) -> Result:
    """The CLI in-process: exit code, stdout and stderr (for module-scoped fixtures too)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""

    return run_cli


def reports(db: Path | str) -> dict[str, Any]:
    """Every session's report in ``db`` by room, without the ``disconnected`` flag (a recording's
    reconnects are not in a clean import of its journal)."""
    from liveworth.analysis.report import session_report
    from liveworth.economy.ratecard import load_rate_card
    from liveworth.store.database import Store

    card = load_rate_card()
    with Store.open(str(db), read_only=True) as store:
        out = {}
        for room in store.rooms():
            rep = session_report(store, room, card).as_dict()
            rep["flags"] = [f for f in rep["flags"] if f["flag"] != "disconnected"]
            out[room] = rep
        return out

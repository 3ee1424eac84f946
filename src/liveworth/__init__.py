"""liveworth — how much money do you make on TikTok LIVE, and how do you make more?

The public Python API: ``from liveworth import Store, import_paths, analyze, load_rate_card``.
Each name lives in the package of its pipeline stage (README, "Layout") and is loaded only when
first asked for, so that ``import liveworth`` — and the command line — start without DuckDB,
PyArrow or NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Where each public name lives. The functions ``estimate``, ``simulate``, ``forecast``,
#: ``calibrate`` and ``roster`` join them when the deprecated module paths of the same names
#: (``liveworth.estimate`` …, kept until 0.3) are gone: a package attribute cannot be both.
_WHERE: dict[str, str] = {
    # economy: what a coin is worth
    "RateCard": "liveworth.economy.ratecard",
    "load_rate_card": "liveworth.economy.ratecard",
    "earnings": "liveworth.economy.money",
    # decode: bytes to events
    "Event": "liveworth.decode.events",
    "iter_journal": "liveworth.decode.rawsources",
    # store and ingest
    "Store": "liveworth.store.database",
    "import_paths": "liveworth.ingest.importer",
    # analysis
    "SessionReport": "liveworth.analysis.report",
    "list_sessions": "liveworth.analysis.report",
    "session_report": "liveworth.analysis.report",
    "Analysis": "liveworth.analysis.analytics",
    "analyze": "liveworth.analysis.analytics",
    "to_arrow": "liveworth.analysis.analytics",
    "to_pandas": "liveworth.analysis.analytics",
    "leaderboard": "liveworth.analysis.gifters",
    "Roster": "liveworth.analysis.roster",
    "Tier": "liveworth.analysis.roster",
    # model
    "ModelParams": "liveworth.model.generative",
    "Inputs": "liveworth.model.inputs",
    "SimulatedSession": "liveworth.model.simulated",
    "simulate_session": "liveworth.model.simulate",
    "Estimate": "liveworth.model.estimate",
    "what_if": "liveworth.model.estimate",
    "plan": "liveworth.model.plan",
    "History": "liveworth.model.history",
    "load_history": "liveworth.model.history",
    "estimate_from_history": "liveworth.model.calibrate",
    "Forecast": "liveworth.model.forecast",
}

#: The public API (tests/test_layout.py pins it).
__all__ = [
    "Analysis",
    "Estimate",
    "Event",
    "Forecast",
    "History",
    "Inputs",
    "ModelParams",
    "RateCard",
    "Roster",
    "SessionReport",
    "SimulatedSession",
    "Store",
    "Tier",
    "__version__",
    "analyze",
    "earnings",
    "estimate_from_history",
    "import_paths",
    "iter_journal",
    "leaderboard",
    "list_sessions",
    "load_history",
    "load_rate_card",
    "plan",
    "session_report",
    "simulate_session",
    "to_arrow",
    "to_pandas",
    "what_if",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'liveworth' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what type checkers and editors see
    from liveworth.analysis.analytics import Analysis, analyze, to_arrow, to_pandas
    from liveworth.analysis.gifters import leaderboard
    from liveworth.analysis.report import SessionReport, list_sessions, session_report
    from liveworth.analysis.roster import Roster, Tier
    from liveworth.decode.events import Event
    from liveworth.decode.rawsources import iter_journal
    from liveworth.economy.money import earnings
    from liveworth.economy.ratecard import RateCard, load_rate_card
    from liveworth.ingest.importer import import_paths
    from liveworth.model.calibrate import estimate_from_history
    from liveworth.model.estimate import Estimate, what_if
    from liveworth.model.forecast import Forecast
    from liveworth.model.generative import ModelParams
    from liveworth.model.history import History, load_history
    from liveworth.model.inputs import Inputs
    from liveworth.model.plan import plan
    from liveworth.model.simulate import simulate_session
    from liveworth.model.simulated import SimulatedSession
    from liveworth.store.database import Store

"""Agency tiers: the one format and the one rule that ``roster`` and ``forecast`` share.

A **tier** is a monthly threshold: at least ``diamonds`` diamonds, ``active_days`` active days
and ``hours`` hours LIVE in the month. Each is optional (0: no minimum); a tier is reached when
every one it sets is met.

An **active day** is a calendar day on which the creator's sessions add up to at least
``active_day_minutes`` minutes of LIVE (:data:`DEFAULT_ACTIVE_DAY_MINUTES`, an assumption:
agencies commonly count a "valid day" from an hour of LIVE; 0 counts every day with a LIVE).

**A session counts whole, on the day it starts** — its minutes, coins and diamonds, in the day,
the month and the active day of its start. So as of the end of day D a session that started on D
counts in full (even if it ran past midnight), and one that started after D not at all; this is
how the forecast's month to date and the roster's pace have always counted.

**Every threshold is an assumption.** TikTok and the agencies publish no common table; each
agency sets its own. :data:`DEFAULT_TIERS` are liveworth's placeholders, shaped like such tables.
Set your agency's with a TOML file (``--tiers FILE`` on ``roster`` and ``forecast``)::

    active_day_minutes = 60   # optional: minutes of LIVE that make a day active

    [[tier]]
    name = "A"
    diamonds = 50000          # optional: diamonds in the month
    active_days = 12          # optional: active days in the month
    hours = 25                # optional: hours LIVE in the month

or ``--tier A:50000:12:25`` (``NAME:DIAMONDS[:ACTIVE_DAYS[:HOURS]]``, repeatable). Tiers given
replace the defaults; a file with only ``active_day_minutes`` keeps them. The forecast's former
format (``metric`` and ``threshold`` per tier, ``forecast --thresholds``) is still read by
:func:`load_tiers` with ``legacy=True``, for one release.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from liveworth.economy.numbers import plain_int, ungrouped
from liveworth.errors import ConfigError, UsageError

#: Minutes of LIVE in a day that make it an active day (assumption: agencies commonly count a
#: "valid day" from one hour of LIVE).
DEFAULT_ACTIVE_DAY_MINUTES = 60.0
#: Slack for sums of floating-point minutes and hours (a few microseconds), so that the same
#: sessions give the same verdict however their lengths were added up.
TOLERANCE = 1e-9
#: The keys of a ``[[tier]]`` table, and of the file.
TIER_KEYS = ("name", "diamonds", "active_days", "hours")
FILE_KEYS = ("active_day_minutes", "tier")
#: The former forecast format: ``metric`` → the key it sets.
LEGACY_METRICS = {"diamonds": "diamonds", "active_days": "active_days", "airtime_hours": "hours"}
DEFAULT_SOURCE = "defaults (assumptions)"


@dataclass(frozen=True, slots=True)
class Tier:
    """A monthly threshold: ``diamonds`` in the month, at least ``active_days`` and ``hours``."""

    name: str
    diamonds: int = 0
    active_days: int = 0
    hours: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.diamonds, str):  # the forecast's former Tier(name, metric, threshold)
            raise UsageError(f"tier {self.name!r}: a tier is Tier(name, diamonds, active_days, "
                             "hours); for one metric write e.g. Tier(name, hours=20)")

    def reached(self, diamonds: Decimal | int, active_days: float, hours: float) -> bool:
        """Whether a month with these figures meets every threshold of the tier."""
        return diamonds >= self.diamonds and active_days >= self.active_days \
            and hours + TOLERANCE >= self.hours

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "diamonds": self.diamonds, "active_days": self.active_days,
                "hours": self.hours}

    def describe(self) -> str:
        """``starter ≥ 10,000 diamonds, 7 active days, 15 h``."""
        return (f"{self.name} ≥ {self.diamonds:,} diamond{'' if self.diamonds == 1 else 's'}, "
                f"{self.active_days:,} active day{'' if self.active_days == 1 else 's'}, "
                f"{self.hours:g} h")


#: liveworth's placeholder thresholds (an assumption, not TikTok's: see the module docstring).
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("starter", 10_000, 7, 15.0),
    Tier("rising", 50_000, 12, 25.0),
    Tier("pro", 200_000, 15, 40.0),
    Tier("star", 1_000_000, 20, 60.0),
)
TIERS_NOTE = ("tier thresholds are liveworth's placeholders unless set with --tiers/--tier: "
              "TikTok and agencies publish no common table")


@dataclass(frozen=True, slots=True)
class TierSettings:
    """The tiers and what makes a day active; ``source`` says where they come from."""

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    active_day_minutes: float = DEFAULT_ACTIVE_DAY_MINUTES
    source: str = DEFAULT_SOURCE


# ---------------------------------------------------------------------------- the rule


def is_active_day(minutes: float, active_day_minutes: float) -> bool:
    """Whether a day with ``minutes`` of LIVE (its sessions' summed lengths) is active."""
    return minutes + TOLERANCE >= active_day_minutes


def check_active_day_minutes(value: float) -> float:
    """``value`` if it is a number of minutes from 0 to a whole day (1440)."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not (math.isfinite(value) and 0 <= value <= 24 * 60):
        raise UsageError(f"active_day_minutes must lie between 0 and 1440, got {value!r}")
    return float(value)


def minutes_by_day(sessions: Iterable[tuple[dt.date, float]]) -> dict[dt.date, float]:
    """Minutes of LIVE per day from ``(start day, minutes)`` of each session."""
    out: dict[dt.date, float] = {}
    for day, minutes in sessions:
        out[day] = out.get(day, 0.0) + minutes
    return out


def active_days(sessions: Iterable[tuple[dt.date, float]], active_day_minutes: float) -> int:
    """Active days among ``(start day, minutes)`` of sessions: the days whose sessions add up to
    at least ``active_day_minutes``."""
    return sum(1 for m in minutes_by_day(sessions).values()
               if is_active_day(m, active_day_minutes))


def highest_reached(tiers: Sequence[Tier], diamonds: Decimal | int, active: float,
                    hours: float) -> Tier | None:
    """The last tier (in :func:`check_tiers` order) that these figures reach, or None."""
    reached = [t for t in tiers if t.reached(diamonds, active, hours)]
    return reached[-1] if reached else None


def check_tiers(tiers: Iterable[Tier]) -> tuple[Tier, ...]:
    """Tiers sorted by diamonds; names unique, numbers non-negative, at least one tier."""
    out = tuple(sorted(tiers, key=lambda t: (t.diamonds, t.active_days, t.hours)))
    if not out:
        raise UsageError("no tier thresholds given")
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise UsageError(f"tier names must be unique: {', '.join(names)}")
    for t in out:
        if not t.name.strip():
            raise UsageError("a tier needs a name")
        if t.diamonds < 0 or t.active_days < 0 or not (math.isfinite(t.hours) and t.hours >= 0):
            raise UsageError(f"tier {t.name!r}: thresholds must be non-negative numbers")
    return out


def parse_tier(text: str) -> Tier:
    """``NAME:DIAMONDS[:ACTIVE_DAYS[:HOURS]]`` as a :class:`Tier`."""
    parts = [p.strip() for p in text.split(":")]
    if not 2 <= len(parts) <= 4 or not parts[0]:
        raise UsageError(f"--tier wants NAME:DIAMONDS[:ACTIVE_DAYS[:HOURS]], got {text!r}")
    try:
        diamonds = plain_int(parts[1])  # "50_000" and "50,000", not "0_0_1"
        days = plain_int(parts[2]) if len(parts) > 2 else 0
        hours = float(ungrouped(parts[3])) if len(parts) > 3 else 0.0
    except ValueError:
        raise UsageError(f"--tier {text!r}: diamonds and days must be whole numbers, hours a "
                         "number") from None
    return check_tiers([Tier(parts[0], diamonds, days, hours)])[0]


# ---------------------------------------------------------------------------- the file


def _read(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{p}: tiers file not found") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not a readable TOML file: {str(exc).splitlines()[0]}") from None


def _whole(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {key}: expected a whole number >= 0, got {value!r}")
    return value


def _number(value: object, where: str, key: str, top: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not (math.isfinite(value) and 0 <= value <= top):
        bound = "" if top == math.inf else f" and <= {top:g}"
        raise ConfigError(f"{where}: {key}: expected a number >= 0{bound}, got {value!r}")
    return float(value)


def _name(row: Mapping[str, Any], where: str, default: str | None = None) -> str:
    name = row.get("name", default)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name: expected a non-empty text, got {name!r}")
    return name.strip()


def _named(row: Mapping[str, Any], where: str) -> str:
    """``where`` with the tier's name, when it has a usable one."""
    name = row.get("name")
    return f"{where} ({name.strip()})" if isinstance(name, str) and name.strip() else where


def _tier(row: Mapping[str, Any], where: str) -> Tier:
    unknown = sorted(set(row) - set(TIER_KEYS))
    if unknown:
        old = " — metric and threshold are the old format, read by forecast --thresholds" \
            if unknown[0] in ("metric", "threshold") else ""
        raise ConfigError(f"{_named(row, where)}: {unknown[0]}: unknown key (a tier has "
                          f"{', '.join(TIER_KEYS)}){old}")
    name = _name(row, where)
    where = _named(row, where)
    if not set(row) & {"diamonds", "active_days", "hours"}:
        raise ConfigError(f"{where}: diamonds: a tier needs at least one of diamonds, "
                          "active_days, hours")
    return Tier(name, _whole(row.get("diamonds", 0), where, "diamonds"),
                _whole(row.get("active_days", 0), where, "active_days"),
                _number(row.get("hours", 0), where, "hours"))


def _legacy_tier(row: Mapping[str, Any], where: str) -> Tier:
    """A tier of the former forecast format: ``name`` (optional), ``metric``, ``threshold``."""
    where = _named(row, where)
    unknown = sorted(set(row) - {"name", "metric", "threshold"})
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key (a --thresholds tier has name, "
                          "metric, threshold)")
    for key in ("metric", "threshold"):
        if key not in row:
            raise ConfigError(f"{where}: {key}: missing (a --thresholds tier needs metric and "
                              "threshold)")
    metric = row["metric"]
    if not isinstance(metric, str) or metric not in LEGACY_METRICS:
        raise ConfigError(f"{where}: metric: unknown metric {metric!r} (choose from "
                          f"{', '.join(LEGACY_METRICS)})")
    threshold = _number(row["threshold"], where, "threshold")
    name = _name(row, where, f"{metric} {threshold:g}")
    if metric == "airtime_hours":
        return Tier(name, hours=threshold)
    whole = math.ceil(threshold)  # diamonds and days are whole: 12.5 days means 13
    return Tier(name, diamonds=whole) if metric == "diamonds" else Tier(name, active_days=whole)


def _file(p: Path, legacy: bool) -> tuple[tuple[Tier, ...] | None, float]:
    """The tiers of file ``p`` (None: it sets none) and its ``active_day_minutes``."""
    data = _read(p)
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(f"{p}: {unknown[0]}: unknown setting (a tiers file has "
                          "active_day_minutes and [[tier]] tables)")
    minutes = DEFAULT_ACTIVE_DAY_MINUTES
    if "active_day_minutes" in data:
        minutes = _number(data["active_day_minutes"], str(p), "active_day_minutes", 24 * 60)
    if "tier" not in data:
        return None, minutes
    rows = data["tier"]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(f"{p}: tier: expected one or more [[tier]] tables")
    tiers: list[Tier] = []
    for i, row in enumerate(rows, 1):
        where = f"{p}: tier {i}"
        old = legacy and ("metric" in row or "threshold" in row)
        tier = _legacy_tier(row, where) if old else _tier(row, where)
        same = [j for j, t in enumerate(tiers, 1) if t.name == tier.name]
        if same:
            raise ConfigError(f"{where} ({tier.name}): name: also the name of tier {same[0]}")
        tiers.append(tier)
    return check_tiers(tiers), minutes


def load_tiers(path: str | Path, *, legacy: bool = False) -> TierSettings:
    """Tier settings from a TOML file (the module docstring shows the format); a file without
    ``[[tier]]`` tables keeps the default tiers.

    With ``legacy``, a ``[[tier]]`` table may also be in the former forecast format (``metric``
    and ``threshold``). Errors name the file, the tier and the key, in one line.
    """
    tiers, minutes = _file(Path(path), legacy)
    return TierSettings(DEFAULT_TIERS if tiers is None else tiers, minutes, str(path))


def settings_from(path: str | Path | None, specs: Sequence[str] = (), *,
                  legacy: bool = False) -> TierSettings:
    """The tiers of a file (if any) and of ``--tier`` specs together, which replace the
    defaults; the file's ``active_day_minutes`` (default :data:`DEFAULT_ACTIVE_DAY_MINUTES`)."""
    if path is None and not specs:
        return TierSettings()
    tiers, minutes = (None, DEFAULT_ACTIVE_DAY_MINUTES) if path is None \
        else _file(Path(path), legacy)
    if not specs:
        return TierSettings(DEFAULT_TIERS if tiers is None else tiers, minutes, str(path))
    given = [*(tiers or ()), *(parse_tier(s) for s in specs)]
    source = "--tier" if path is None else f"{path} and --tier"
    return TierSettings(check_tiers(given), minutes, source)

"""The tier options ``roster`` and ``forecast`` share: ``--tiers FILE`` and ``--tier SPEC``.

One format and one rule (:mod:`liveworth.analysis.tiers`); ``forecast --thresholds FILE`` is a
deprecated alias of ``--tiers`` (until 0.3) that also reads the former forecast format, with a
one-line note on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liveworth.analysis.tiers import TierSettings

DEPRECATED_THRESHOLDS = ("note: --thresholds is deprecated and goes in 0.3; use --tiers FILE "
                         "(it also reads the old metric/threshold tables until then)")


def add_tier_options(p: argparse.ArgumentParser, *, thresholds: bool = False) -> None:
    """``--tiers FILE`` and ``--tier NAME:DIAMONDS[:DAYS[:HOURS]]`` (and, with ``thresholds``,
    the deprecated ``--thresholds FILE``)."""
    files = p.add_mutually_exclusive_group() if thresholds else p
    files.add_argument("--tiers", metavar="FILE",
                       help="TOML file: active_day_minutes (default 60) and [[tier]] tables of "
                       "name, diamonds, active_days, hours (docs/ANALYTICS.md, Tiers)")
    if thresholds:
        files.add_argument("--thresholds", metavar="FILE", help="deprecated: use --tiers")
    p.add_argument("--tier", action="append", default=[], metavar="NAME:DIAMONDS[:DAYS[:H]]",
                   help="a monthly tier threshold (repeatable; with --tiers' tiers, replaces "
                   "the defaults)")


def tier_settings(args: argparse.Namespace) -> TierSettings:
    """The tiers of ``--tiers`` / ``--thresholds`` and ``--tier``, else the defaults."""
    from liveworth.analysis.tiers import settings_from

    old = getattr(args, "thresholds", None)
    if old is None:
        return settings_from(args.tiers, args.tier)
    settings = settings_from(old, args.tier, legacy=True)
    sys.stderr.write(DEPRECATED_THRESHOLDS + "\n")  # after the file is read: errors stay one line
    return settings

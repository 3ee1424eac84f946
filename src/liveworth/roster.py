"""Deprecated path (until 0.3): use :mod:`liveworth.analysis.roster`."""

from liveworth.analysis.roster import *  # noqa: F403

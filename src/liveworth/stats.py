"""Deprecated path (until 0.3): use :mod:`liveworth.analysis.stats`."""

from liveworth.analysis.stats import *  # noqa: F403

"""Deprecated path (until 0.3): use :mod:`liveworth.analysis.analytics`."""

from liveworth.analysis.analytics import *  # noqa: F403

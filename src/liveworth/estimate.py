"""Deprecated path (until 0.3): use :mod:`liveworth.model.estimate`."""

from liveworth.model.estimate import *  # noqa: F403

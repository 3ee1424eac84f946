"""Deprecated path (until 0.3): use :mod:`liveworth.model.forecast`."""

from liveworth.model.forecast import *  # noqa: F403

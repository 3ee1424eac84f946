"""Deprecated path (until 0.3): use :mod:`liveworth.model.calibrate`."""

from liveworth.model.calibrate import *  # noqa: F403

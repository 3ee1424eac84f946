"""Deprecated path (until 0.3): use :mod:`liveworth.model.simulate`."""

from liveworth.model.simulate import *  # noqa: F403

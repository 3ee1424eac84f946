"""Deprecated path (until 0.3): use :mod:`liveworth.economy.ratecard`."""

from liveworth.economy.ratecard import *  # noqa: F403

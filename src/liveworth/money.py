"""Deprecated path (until 0.3): use :mod:`liveworth.economy.money`."""

from liveworth.economy.money import *  # noqa: F403

"""Deprecated path (until 0.3): use :mod:`liveworth.decode.rawsources`."""

from liveworth.decode.rawsources import *  # noqa: F403

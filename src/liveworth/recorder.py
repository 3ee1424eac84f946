"""Deprecated path (until 0.3): use :mod:`liveworth.ingest.recorder`."""

from liveworth.ingest.recorder import *  # noqa: F403

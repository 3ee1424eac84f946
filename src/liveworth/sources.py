"""Deprecated path (until 0.3): use :mod:`liveworth.ingest.sources`."""

from liveworth.ingest.sources import *  # noqa: F403

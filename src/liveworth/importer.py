"""Deprecated path (until 0.3): use :mod:`liveworth.ingest.importer`."""

from liveworth.ingest.importer import *  # noqa: F403

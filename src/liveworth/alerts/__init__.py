"""Alerts: rules read from a TOML file (:mod:`~liveworth.alerts.rules`), a pure engine that fires
them on what happens in a room (:mod:`~liveworth.alerts.engine`), the watcher that runs it on a
store being written and keeps what fires in the ``alerts`` table (:mod:`~liveworth.alerts.watch`)
and webhook delivery off the recorder's threads (:mod:`~liveworth.alerts.delivery`).

The layer sits on the store and the economy; the recorder (``ingest``, below it) knows nothing of
alerts: the command line hands the watcher to it as a hook, and the web app reads the table.
"""

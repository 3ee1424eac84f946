"""The lake answered with Apache Spark (``--engine spark``, docs/SCALE.md "Spark").

Spark does the heavy, data-sized work: it scans the lake's event parts, keeps one copy of each
``(room_id, msg_id)`` by the store's rule in lake order (:mod:`.events`), pseudonymizes forgotten
gifters, and runs the ledger (:mod:`.ledger`: simple streaks in Spark SQL, the hard keys through
the same fold as the store, :func:`liveworth.store.ledger.iter_credits`, in a grouped Arrow UDF).
For ``sessions``, ``gifters``, ``roster`` and ``brief`` the events and credits then stay in
Spark (:mod:`.answers`): every event-sized part of those answers is a portable aggregation
(:mod:`liveworth.store.portable`) that Spark runs, and only its small result reaches the
driver's in-memory store, where the rest of the answer runs in DuckDB. For ``report`` and
``analyze`` the driver receives the kept events and the credits and puts them, with the lake's
merged metadata (:mod:`liveworth.store.lakemeta`), in an in-memory store, where the unchanged
command code answers. Either way: the same answers, byte for byte, as ``--engine duckdb``.

PySpark is imported only inside these modules' functions: ``liveworth --help`` never loads it.
"""

from __future__ import annotations

from liveworth.store.spark.checks import SparkUnavailable
from liveworth.store.spark.engine import open_spark_lake, spark_session

__all__ = ["SparkUnavailable", "open_spark_lake", "spark_session"]

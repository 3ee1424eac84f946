"""A lake whose events and credits stay in Spark: the portable aggregations
(:mod:`liveworth.store.portable`) run there and only their small results reach the driver.

:func:`open_spark_answers` keeps the lake's events (one copy of each key, in lake order,
forgotten gifters pseudonymized: :mod:`.engine`) and their credits (the ledger in Spark:
:mod:`.ledger`, each room's host picked from Spark's candidates by the store's own rule) as
persisted DataFrames. The returned store holds the lake's metadata only; its ``events`` and
``credits`` tables are dropped, so an answer that has not been split into a portable
aggregation fails loudly instead of answering from nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from liveworth.store import ledger
from liveworth.store.database import EVENT_SCHEMA, Store, registered, run
from liveworth.store.portable import spark_text
from liveworth.store.spark.engine import kept_events, pseudonymized, spark_errors
from liveworth.store.spark.ledger import ddl, spark_credits

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession


class SparkRemote:
    """The events and credits of a lake in Spark (:attr:`Store.remote`)."""

    def __init__(self, spark: SparkSession, events: DataFrame, credits: DataFrame) -> None:
        self.spark, self.events, self.credits = spark, events, credits

    def aggregate(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        frames: dict[str, Any] = {name: self.spark.createDataFrame(t.to_pylist(), ddl(t.schema))
                  for name, t in tables.items()}
        with spark_errors():
            got: pa.Table = self.spark.sql(spark_text(sql), events=self.events,
                                           credits=self.credits, **frames).toArrow()
        return got

    def load(self, store: Store, room_ids: Sequence[str]) -> None:
        """The events and credits of ``room_ids`` as the store's ``events`` and ``credits``
        tables (replacing what an earlier load put there)."""
        from pyspark.sql import functions as F

        rooms = F.col("room_id").isin(list(room_ids))
        for name, frame, schema in (("events", self.events, EVENT_SCHEMA),
                                    ("credits", self.credits, ledger.CREDIT_SCHEMA)):
            with spark_errors():
                rows: pa.Table = frame.where(rooms).toArrow()
            table = rows.select(schema.names).cast(schema)
            with registered(store.con, "_spark_rows", table):
                run(store.con, f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _spark_rows")

    def close(self) -> None:
        self.events.unpersist()
        self.credits.unpersist()


def remote_store(spark: SparkSession, store: Store, parts: list[Path]) -> SparkRemote:
    """Keep the events of ``parts`` and their credits in Spark for ``store`` (whose metadata
    is loaded: its forgotten gifters apply); drop the store's own event and credit tables."""
    forgotten = [(str(u), str(p)) for u, p in
                 run(store.con, "SELECT user_id, pseudonym FROM gifter_forgotten")]
    events = (pseudonymized(spark, kept_events(spark, parts), forgotten)
              .drop("_place", "_row").persist())
    remote = SparkRemote(spark, events, events)
    candidates = remote.aggregate(ledger.HOST_CANDIDATES_SQL.replace("{rooms}", ""), {})
    rooms = sorted(set(candidates.column("room_id").to_pylist()))
    hosts = ledger.pick_hosts(store.con, candidates, rooms)
    remote.credits = spark_credits(spark, events, hosts).persist()
    run(store.con, "DROP TABLE credits")
    run(store.con, "DROP TABLE events")
    return remote

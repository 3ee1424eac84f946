"""The Spark session, the lake's events read and kept once each in Spark, and the lake as an
in-memory store answered from (:func:`open_spark_lake`).

Lake order, as :mod:`liveworth.store.lake` defines it (partition, then part name, then row): the
driver lists the parts (:func:`~liveworth.store.lake.event_parts`) and gives each part *name* its
first place in that list; Spark reads every part with partition discovery off (the files are
named one by one) and tags each row with its part's place and ``_metadata.row_index``. Of the
copies of one key the first in that order is kept — the store's rule (:mod:`..staging`). Two
parts of one name have the same bytes (a name is its content's hash), so the first place of the
name is the right one for both.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from liveworth.store import ledger
from liveworth.store.database import EVENT_SCHEMA, Store, registered, run
from liveworth.store.lake import META, LakeError, as_events, check_lake, check_part, event_parts
from liveworth.store.lakemeta import load_meta
from liveworth.store.spark.checks import (
    SparkUnavailable,
    check_java,
    check_master,
    check_pyspark,
)
from liveworth.store.spark.ledger import PANDAS_WARNING, ddl, spark_credits

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The default master: every core of this machine.
LOCAL = "local[*]"
#: Shuffle partitions in local mode (Spark's 200 are for clusters; adaptive execution merges).
LOCAL_SHUFFLE_PARTITIONS = 8


def submitted() -> bool:
    """Whether this process runs under ``spark-submit`` (which started the JVM and chose the
    master)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def check_engine(master: str | None) -> None:
    """Every check before Spark starts (:mod:`.checks`); under spark-submit only PySpark's."""
    check_pyspark()
    if submitted() and master is None:
        return
    check_master(master or LOCAL)
    check_java()


def spark_session(master: str | None = None, **conf: str) -> SparkSession:
    """The active Spark session, else a new one on ``master`` (default ``local[*]``; under
    spark-submit the submitted one), with the UI and the console progress bar off."""
    check_engine(master)
    # PySpark 4.3 warns that pandas 3 is new to it; its grouped Arrow UDF (all liveworth uses)
    # never converts to pandas. Under spark-submit stderr joins stdout, the --json's stream.
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("liveworth")
    if not (submitted() and master is None):
        builder = builder.master(master or LOCAL)
        # The workers run this interpreter (it has liveworth); a cluster's are its own.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # The kept events and credits are collected (the module docstring): no cap below memory.
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.session.timeZone": "UTC", "spark.driver.maxResultSize": "0"}
    if (master or LOCAL).startswith("local"):
        settings["spark.sql.shuffle.partitions"] = str(LOCAL_SHUFFLE_PARTITIONS)
    for key, value in {**settings, **conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Spark's own errors: one line, not its Java stack
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise SparkUnavailable(f"--engine spark: Spark did not start ({first[:160]})") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _check_schemas(parts: list[Path]) -> None:
    """Refuse, before Spark reads it, a part that is not Parquet, lacks a key column or has a
    column of another type than the lake's (what the DuckDB engine would cast, Spark cannot)."""
    for p in parts:
        check_part(p)
        try:
            schema = pq.read_schema(p)
        except (pa.ArrowException, OSError) as exc:
            raise LakeError(f"{p}: not a readable Parquet file ({str(exc)[:120]})") from None
        as_events(schema.empty_table(), str(p))
        for f in schema:
            want = EVENT_SCHEMA.field(f.name).type if f.name in EVENT_SCHEMA.names else None
            if want is not None and f.type != want:
                raise LakeError(f"{p}: column {f.name!r} is {f.type}, not {want}: the Spark "
                                "engine reads the lake's own types (use --engine duckdb)")


def kept_events(spark: SparkSession, parts: list[Path]) -> DataFrame:
    """The events of ``parts`` (in lake order), one copy of each ``(room_id, msg_id)``: the
    first in lake order; with the columns ``_place`` and ``_row`` (its lake order)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    places: dict[str, int] = {}
    for i, p in enumerate(parts):
        places.setdefault(p.name, i)
    order = spark.createDataFrame(list(places.items()), "_name STRING, _place BIGINT")
    raw = (spark.read.schema(ddl(EVENT_SCHEMA)).parquet(*[str(p) for p in parts])
           .select("*", F.col("_metadata.file_name").alias("_name"),
                   F.col("_metadata.row_index").alias("_row")))
    tagged = raw.join(F.broadcast(order), "_name").drop("_name")
    first = Window.partitionBy("room_id", "msg_id").orderBy("_place", "_row")
    return (tagged.withColumn("_rank", F.row_number().over(first))
            .where("_rank = 1").drop("_rank"))


def pseudonymized(spark: SparkSession, events: DataFrame,
                  forgotten: list[tuple[str, str]]) -> DataFrame:
    """``events`` with forgotten gifters' names replaced by their pseudonyms, as
    ``liveworth.store.forgotten.PSEUDONYMIZE_STAGE`` does in the store."""
    if not forgotten:
        return events
    from pyspark.sql import functions as F

    f = spark.createDataFrame(forgotten, "_uid STRING, _pseudonym STRING")
    joined = events.join(F.broadcast(f), events["user_id"] == f["_uid"], "left")
    named = ("CASE WHEN length(coalesce(`user`, '')) < 3 THEN text "
             "ELSE replace(text, `user`, _pseudonym) END")
    text = (f"CASE WHEN length(coalesce(nickname, '')) < 3 THEN {named} "
            f"ELSE replace({named}, nickname, _pseudonym) END")
    hit = F.col("_uid").isNotNull()
    return (joined
            .withColumn("text", F.when(hit, F.expr(text)).otherwise(F.col("text")))
            .withColumn("user", F.when(hit, F.col("_pseudonym")).otherwise(F.col("user")))
            .withColumn("nickname", F.when(hit, F.col("_pseudonym")).otherwise(F.col("nickname")))
            .drop("_uid", "_pseudonym"))


def _insert(store: Store, table_name: str, table: pa.Table) -> None:
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    with registered(store.con, "_spark_rows", table):
        run(store.con, f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM _spark_rows")


def _arrow(df: DataFrame, schema: pa.Schema) -> pa.Table:
    table: pa.Table = df.toArrow()
    return table.select(schema.names).cast(schema)


def fill_store(spark: SparkSession, store: Store, parts: list[Path]) -> None:
    """Put the kept events of ``parts`` and their credits, both computed in Spark, in
    ``store`` (whose metadata is loaded: its forgotten gifters are applied)."""
    forgotten = [(str(u), str(p)) for u, p in
                 run(store.con, "SELECT user_id, pseudonym FROM gifter_forgotten")]
    events = pseudonymized(spark, kept_events(spark, parts), forgotten).persist()
    try:
        _insert(store, "events", _arrow(events.orderBy("_place", "_row"), EVENT_SCHEMA))
        rooms = [str(r[0]) for r in run(store.con, "SELECT DISTINCT room_id FROM events")]
        # The hosts' user ids: from the events now in the store, by the store's own query.
        hosts = ledger.host_ids(store.con, rooms)
        credits = spark_credits(spark, events.drop("_place", "_row"), hosts)
        _insert(store, "credits", _arrow(credits, ledger.CREDIT_SCHEMA))
    finally:
        events.unpersist()


@contextmanager
def spark_errors() -> Iterator[None]:
    """A failure inside Spark (a part removed while it ran, an executor lost, the driver out of
    memory) as one :class:`SparkUnavailable` line instead of a Java stack."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        text = str(exc).strip()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        first = next((ln for ln in lines if "Exception" in ln or "Error" in ln), None)
        raise SparkUnavailable("--engine spark: Spark failed: "
                               f"{(first or (lines or [exc.__class__.__name__])[0])[:200]}"
                               ) from None


def open_spark_lake(path: str | os.PathLike[str], master: str | None = None,
                    spark: SparkSession | None = None, *, collect: bool = True) -> Store:
    """The lake at ``path`` as an in-memory :class:`Store` whose events and credits Spark
    computed (module docstring); the same store :func:`liveworth.store.lake.open_lake` gives.
    ``spark``: a session to use (else :func:`spark_session` on ``master``). ``collect=False``:
    the events and credits stay in Spark and only portable aggregations reach the store
    (:mod:`.answers`; for the answers split that way)."""
    lake = check_lake(path)
    parts = event_parts(lake)
    _check_schemas(parts)
    if spark is None:
        spark = spark_session(master)
    store = Store.open(":memory:")
    try:
        store.begin()
        load_meta(store, lake / META)
        if parts and not collect:
            from liveworth.store.spark.answers import remote_store

            with spark_errors():
                store.remote = remote_store(spark, store, parts)
        elif parts:
            with spark_errors():
                fill_store(spark, store, parts)
        store.commit()
    except BaseException:
        store.close()
        raise
    store.path = f"lake {lake}"
    return store


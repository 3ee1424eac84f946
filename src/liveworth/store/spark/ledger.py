"""The ledger (:mod:`liveworth.store.ledger`) in Spark: the same credits as
:func:`~liveworth.store.ledger.recompute`, split the same way.

- one-shot gifts: one credit per frame, in Spark SQL;
- *simple* streak keys (the store's definition, ``_streak_keys``): one ``GROUP BY`` and a join
  to each key's last frame, in Spark SQL;
- every other streak key goes, grouped by the fold's sort key ``(room, user_id, gift_id,
  group_id)`` (NULL read as empty, as :func:`~liveworth.store.ledger.sort_key` does), through a
  grouped Arrow UDF (``groupBy(...).applyInArrow``) that sorts the group's frames and calls
  :func:`~liveworth.store.ledger.credit_frames` — the store's fold itself, not a copy. The fold
  starts afresh at each such group, so folding groups apart gives the credits of one pass.

Arrow rather than pandas for the UDF: a pandas frame reads a NULL integer as a float NaN, Arrow
keeps the fold's ``None`` and exact integers.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pyarrow as pa

from liveworth.store.ledger import (
    CREDIT_SCHEMA,
    FRAME_COLUMNS,
    STREAK_IDLE_MS,
    STREAKABLE,
    credit_frames,
    credits_table,
    sort_key,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: What PySpark 4.3 warns, on pandas 3, where a grouped UDF is made.
PANDAS_WARNING = "PySpark does not yet fully support pandas"
_SPARK_TYPES = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}
_FINAL = "coalesce(repeat_end, false)"
_GUEST = ("coalesce(e.to_user_id NOT IN ('', '0') AND h.host_id IS NOT NULL "
          "AND e.to_user_id <> h.host_id, false)")


def ddl(schema: pa.Schema) -> str:
    """A Spark DDL schema string of an Arrow schema of strings, longs and booleans."""
    return ", ".join(f"`{f.name}` {_SPARK_TYPES[f.type]}" for f in schema)


def _credit_row(count: str, confirmed: str, frames: str, closed_by: str) -> str:
    """The select list of one credit (:data:`CREDIT_SCHEMA`) from the frame ``e`` and the
    room's host ``h``: ``liveworth.store.ledger._credit_row`` in Spark SQL."""
    return f"""
        e.room_id, e.msg_id, e.ts, coalesce(e.user_id, '') AS user_id,
        coalesce(e.`user`, '') AS `user`, coalesce(e.nickname, '') AS nickname, e.gift_id,
        coalesce(e.gift_name, '') AS gift_name, e.coins AS coins_each,
        CAST({count} AS BIGINT) AS repeat_count, e.coins * {count} AS coins,
        {confirmed} AS confirmed, {_GUEST} AS guest, e.to_user_id,
        CAST({frames} AS BIGINT) AS frames, {closed_by} AS closed_by"""


def _streak_keys(spark: SparkSession, gifts: DataFrame) -> DataFrame:
    """Every streak key's summary and whether it is simple (``ledger._streak_keys``)."""
    return spark.sql(f"""
        WITH k AS (
            SELECT room_id, user_id, gift_id, group_id,
                   count(*) AS frames, count_if({_FINAL}) AS finals,
                   max(repeat_count) AS high, max(ts) - min(ts) AS span,
                   max(CASE WHEN NOT {_FINAL} THEN ts END) AS last_step_ts,
                   max(CASE WHEN {_FINAL} THEN ts END) AS final_ts,
                   max(struct(ts, msg_id)).msg_id AS last_msg_id
            FROM {{g}} WHERE gift_type = {STREAKABLE}
            GROUP BY room_id, user_id, gift_id, group_id)
        SELECT *,
               coalesce(user_id <> '' AND group_id <> '' AND span <= {STREAK_IDLE_MS}
                        AND (finals = 0 OR (finals = 1 AND coalesce(last_step_ts < final_ts,
                                                                    true))), false) AS simple
        FROM k""", g=gifts)


def fold_group(table: pa.Table) -> pa.Table:
    """The credits of one streak group's frames (with each frame's room host ``host_id``), by
    the store's fold."""
    columns = [table.column(c).to_pylist() for c in FRAME_COLUMNS]
    frames = sorted(zip(*columns, strict=True), key=sort_key)
    hosts = dict(zip(table.column("room_id").to_pylist(), table.column("host_id").to_pylist(),
                     strict=True))
    return credits_table(credit_frames(frames, hosts))


def spark_credits(spark: SparkSession, events: DataFrame,
                  hosts: dict[str, str | None]) -> DataFrame:
    """The credits of ``events`` (one copy of each key), ``hosts``: each room's host user id
    (:func:`liveworth.store.ledger.host_ids`)."""
    from pyspark.sql import functions as F

    h = F.broadcast(spark.createDataFrame(list(hosts.items()), "room_id STRING, host_id STRING"))
    gifts = events.where("type = 'gift'").select(*FRAME_COLUMNS)
    keys = _streak_keys(spark, gifts)
    one_shots = spark.sql(f"""
        SELECT {_credit_row("e.repeat_count", "true", "1", "'one-shot'")}
        FROM {{g}} e LEFT JOIN {{h}} h ON h.room_id = e.room_id
        WHERE NOT (e.gift_type <=> {STREAKABLE})""", g=gifts, h=h)
    simple = spark.sql(f"""
        SELECT {_credit_row("CASE WHEN s.finals = 1 THEN e.repeat_count ELSE s.high END",
                            "s.finals = 1", "s.frames",
                            "CASE WHEN s.finals = 1 THEN 'final' ELSE 'end' END")}
        FROM {{s}} s JOIN {{g}} e ON e.room_id = s.room_id AND e.msg_id = s.last_msg_id
        LEFT JOIN {{h}} h ON h.room_id = s.room_id
        WHERE s.simple""", s=keys, g=gifts, h=h)
    hard_frames = spark.sql(f"""
        SELECT e.*, h.host_id, coalesce(e.user_id, '') AS _uid, coalesce(e.group_id, '') AS _grp
        FROM {{g}} e LEFT SEMI JOIN (SELECT * FROM {{s}} WHERE NOT simple) s
          ON e.room_id = s.room_id AND e.user_id <=> s.user_id AND e.gift_id <=> s.gift_id
             AND e.group_id <=> s.group_id
        LEFT JOIN {{h}} h ON h.room_id = e.room_id
        WHERE e.gift_type = {STREAKABLE}""", g=gifts, s=keys, h=h)
    with warnings.catch_warnings():  # on pandas 3 (never used here: the UDF is Arrow's)
        warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
        hard = (hard_frames.groupBy("room_id", "_uid", "gift_id", "_grp")
                .applyInArrow(fold_group, ddl(CREDIT_SCHEMA)))
    names = CREDIT_SCHEMA.names
    return (one_shots.select(*names).unionByName(simple.select(*names))
            .unionByName(hard.select(*names)).orderBy("room_id", "ts", "msg_id"))


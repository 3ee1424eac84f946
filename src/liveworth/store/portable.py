"""One query, two engines: the data-sized part of an answer written once, run by DuckDB on the
store or by Apache Spark on a lake (``--engine spark``).

An answer that reads every event (a session list, a leaderboard) is split in two: the
*aggregation* over ``events`` and ``credits``, whose result is small (a row per session, per
gifter), and the rest, which runs in DuckDB on that small result. :func:`aggregate` runs the
first part where the data is: on a local :class:`~liveworth.store.database.Store` in its DuckDB;
on a store whose events stayed in Spark (:attr:`Store.remote`,
:mod:`liveworth.store.spark.answers`) in Spark SQL, only the result coming to this machine. The
rules are written once, in the subset of SQL both engines read the same way:

- tables are named ``{events}``, ``{credits}`` or ``{name}`` of a small table passed along;
- identifiers that are keywords are double-quoted (``"user"``; Spark gets backticks);
- an ordering of several columns is ``ROW(a, b)`` (Spark gets ``struct(a, b)``), and every
  ``min_by``/``max_by`` orders by a unique key so that ties cannot pick differently;
- no ``ORDER BY`` (each engine orders NULLs its own way): the DuckDB part sorts;
- whole-number sums are ``CAST(... AS BIGINT)`` (DuckDB's would be 128-bit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from liveworth.store.database import registered

if TYPE_CHECKING:
    from liveworth.store.database import Store

#: The store's own tables a portable query may read.
DATA_TABLES = ("events", "credits")


class Remote(Protocol):
    """Where a store's events and credits are when they are not in its DuckDB (Spark)."""

    def aggregate(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table: ...

    def load(self, store: Store, room_ids: Sequence[str]) -> None: ...

    def close(self) -> None: ...


def spark_text(sql: str) -> str:
    """A portable query in Spark SQL's spelling (the module docstring's rules)."""
    return re.sub(r"\bROW\(", "struct(", re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', r"`\1`", sql))


def _names(tables: Mapping[str, pa.Table]) -> dict[str, str]:
    return {**{t: t for t in DATA_TABLES}, **{n: n for n in tables}}


def aggregate(store: Store, sql: str, tables: Mapping[str, pa.Table] | None = None) -> pa.Table:
    """The result of the portable query ``sql`` over the store's events and credits (and the
    small ``tables`` it names), computed where they are (module docstring)."""
    tables = dict(tables or {})
    remote: Remote | None = getattr(store, "remote", None)
    if remote is not None:
        return remote.aggregate(sql, tables)
    with ExitStack() as stack:
        for name, table in tables.items():
            stack.enter_context(registered(store.con, name, table))
        return store.con.sql(sql.format(**_names(tables))).to_arrow_table()


def rows(store: Store, sql: str, tables: Mapping[str, pa.Table] | None = None
         ) -> list[tuple[Any, ...]]:
    """:func:`aggregate` as a list of tuples (as :meth:`Store.query` returns)."""
    got = aggregate(store, sql, tables)
    return list(zip(*(c.to_pylist() for c in got.columns), strict=True)) if got.num_rows else []


@contextmanager
def aggregated(store: Store, name: str, sql: str,
               tables: Mapping[str, pa.Table] | None = None) -> Iterator[None]:
    """:func:`aggregate`'s result visible to the store's DuckDB as ``name`` inside the block,
    for the part of the answer that runs there."""
    with registered(store.con, name, aggregate(store, sql, tables)):
        yield


def ids_table(column: str, values: Sequence[str]) -> pa.Table:
    """A one-column table of string ids (rooms, users) for a portable query to join."""
    return pa.table({column: pa.array(list(values), pa.string())})


def focus(store: Store, room_ids: Sequence[str]) -> None:
    """Make the events and credits of ``room_ids`` readable in the store's own DuckDB (an
    answer about those sessions alone, a report): a no-op on a local store; on a remote one
    they are fetched (and only they), while :func:`aggregate` still reads every session."""
    remote: Remote | None = getattr(store, "remote", None)
    if remote is not None:
        remote.load(store, room_ids)

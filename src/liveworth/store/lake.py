"""The lake: a store's events (and the sessions' metadata) as hive-partitioned Parquet files that
many writers feed, and every read command can answer from (docs/SCALE.md).

Layout under the lake directory::

    events/date=YYYY-MM-DD/host=NAME/part-<sha256>.parquet   # event columns, zstd
    meta/<table>/part-<sha256>.parquet                       # rooms, adjustments, alerts, ...

- ``date`` is the UTC day of the event's ``ts``; ``host`` is the room's host (the event's own
  ``host``, else the one the store's ``rooms`` table keeps), percent-encoded (:func:`encode_value`)
  so that no host escapes the lake or breaks hive parsing. The partition columns are layout only:
  every part holds all the event columns (the event's own ``host`` column included), so readers
  read parts with hive partitioning off.
- A part is written whole under a hidden temporary name in its directory and renamed
  (``os.replace``); it is never appended to or changed. Its name is the SHA-256 of its bytes, so
  writing the same rows twice adds nothing, and two writers writing the same rows write the same
  name. A writer skips the rows whose ``(room_id, msg_id)`` the partition holds already.
- Duplicates can still arise (two writers at once, two stores' exports): every read deduplicates
  by ``(room_id, msg_id)`` with the store's own rule (:mod:`.staging`), parts taken in *lake
  order* — partition, then part name, then row — and :func:`compact` keeps that rule.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.parquet as pq

from liveworth.errors import UsageError
from liveworth.store import ledger
from liveworth.store.database import EVENT_SCHEMA, Store
from liveworth.store.lakemeta import META_TABLES, load_meta, meta_tables

EVENTS = "events"
META = "meta"
#: The partition value of a NULL host (as Hive spells it).
NULL_VALUE = "__HIVE_DEFAULT_PARTITION__"
#: Longest encoded partition value kept whole (a file name has 255 bytes); a longer one is cut
#: at a character and ends in ``~`` and 16 hex digits of its SHA-256 (then lossy to decode).
MAX_VALUE = 180
COMPRESSION = "zstd"
#: Rows staged before the stage is flushed, while a lake is read into a store.
LOAD_BLOCK = 500_000
_COLUMNS = [f.name for f in EVENT_SCHEMA]
_QUOTED = ", ".join(f'e."{c}"' for c in _COLUMNS)
_MAGIC = b"PAR1"


class LakeError(UsageError):
    """A path that is not a lake, or a part in it that is not Parquet (one line, exit 2)."""


# ---------------------------------------------------------------------------- partition names


def encode_value(value: str | None) -> str:
    """A partition value safe as one path component and for hive parsing: every byte but
    ``A-Z a-z 0-9 . - _`` percent-encoded (so ``/``, ``=``, ``%`` and ``..`` tricks cannot
    escape or split it); NULL is :data:`NULL_VALUE`."""
    if value is None:
        return NULL_VALUE
    out = quote(value, safe="").replace("~", "%7E")  # "~" marks a value cut short
    if out == NULL_VALUE or out in (".", ".."):
        out = "".join(f"%{b:02X}" for b in value.encode())
    if not out:
        return "~"  # the empty host: nothing to cut
    if len(out) > MAX_VALUE:
        cut = out[:MAX_VALUE - 17]
        cut = cut[:cut.rfind("%")] if "%" in cut[-2:] else cut
        out = cut + "~" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return out


def decode_value(text: str) -> str | None:
    """The value :func:`encode_value` encoded (a cut one: its beginning)."""
    if text == NULL_VALUE:
        return None
    return unquote(text.split("~", 1)[0])


@dataclass(frozen=True, slots=True)
class Partition:
    date: str
    host: str | None
    path: Path

    def parts(self) -> list[Path]:
        """Its parts in lake order (by name); temporary files are not parts."""
        return sorted(p for p in self.path.iterdir()
                      if p.name.startswith("part-") and p.name.endswith(".parquet"))


def partition_dir(lake: Path, date: str, host: str | None) -> Path:
    return lake / EVENTS / f"date={date}" / f"host={encode_value(host)}"


# ---------------------------------------------------------------------------- the lake itself


def check_lake(path: str | os.PathLike[str], *, create: bool = False) -> Path:
    """``path`` as a lake: a directory with ``events/``. With ``create``, an absent directory
    (its parent existing) or an empty one passes too (:func:`export_lake` makes it a lake);
    anything else is a :class:`LakeError`. Writes nothing."""
    lake = Path(path)
    if str(path).startswith(("s3://", "gs://", "gcs://", "abfs://", "hdfs://")):
        raise LakeError(f"{path}: object storage is not built into the command line yet; "
                        "mount it, or see docs/SCALE.md")
    if lake.exists() and not lake.is_dir():
        raise LakeError(f"{path}: not a lake (a file, not a directory)")
    if (lake / EVENTS).is_dir():
        return lake
    if (lake / EVENTS).exists():
        raise LakeError(f"{path}: not a lake ({lake / EVENTS} is not a directory)")
    if not create:
        why = "no such directory" if not lake.exists() else f"no {EVENTS}/ directory"
        raise LakeError(f"{path}: not a lake ({why}; write one with `liveworth lake export`)")
    if lake.exists() and any(lake.iterdir()):
        raise LakeError(f"{path}: not a lake (no {EVENTS}/ directory) and not empty; choose "
                        "an empty or new directory")
    if not lake.parent.is_dir():
        raise LakeError(f"{path}: directory {lake.parent} does not exist")
    return lake


def _make(lake: Path) -> None:
    try:
        (lake / EVENTS).mkdir(parents=True, exist_ok=True)
        (lake / META).mkdir(exist_ok=True)
    except OSError as exc:
        raise LakeError(f"{lake}: cannot create the lake ({exc.strerror})") from None


def partitions(lake: Path) -> list[Partition]:
    """The lake's event partitions, in lake order (date, then encoded host)."""
    out = []
    for d in sorted((lake / EVENTS).iterdir()):
        if not (d.is_dir() and d.name.startswith("date=")):
            continue
        for h in sorted(d.iterdir()):
            if h.is_dir() and h.name.startswith("host="):
                out.append(Partition(d.name[5:], decode_value(h.name[5:]), h))
    return out


def event_parts(lake: Path) -> list[Path]:
    """Every event part, in lake order."""
    return [p for part in partitions(lake) for p in part.parts()]


def check_part(path: Path) -> None:
    """Refuse a part that is not a Parquet file (its first and last 4 bytes are ``PAR1``)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(max(0, path.stat().st_size - 4))
            tail = f.read(4)
    except OSError as exc:
        raise LakeError(f"{path}: cannot read ({exc.strerror})") from None
    if head != _MAGIC or tail != _MAGIC or path.stat().st_size < 12:
        raise LakeError(f"{path}: not a Parquet file (a damaged or foreign file in the lake; "
                        "move it out)")


def read_part(path: Path) -> pa.Table:
    """One part's events with :data:`EVENT_SCHEMA` (a column it lacks is NULL)."""
    check_part(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise LakeError(f"{path}: not a readable Parquet file ({str(exc)[:120]})") from None
    return as_events(table, str(path))


def as_events(table: pa.Table, where: str) -> pa.Table:
    """``table`` cut and cast to :data:`EVENT_SCHEMA`; a table without the key columns, or
    with a column of another type, is a :class:`LakeError`."""
    cols = []
    for f in EVENT_SCHEMA:
        if f.name in table.column_names:
            try:
                cols.append(table.column(f.name).cast(f.type))
            except (pa.ArrowException, ValueError):
                raise LakeError(f"{where}: column {f.name!r} is not {f.type}") from None
        elif f.name in ("room_id", "msg_id", "type", "ts"):
            raise LakeError(f"{where}: not a table of liveworth events (no {f.name!r} column)")
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=EVENT_SCHEMA)


# ---------------------------------------------------------------------------- writing parts


def write_part(directory: Path, table: pa.Table) -> Path | None:
    """Write ``table`` as one part of ``directory`` (created): whole, under a temporary name,
    synced, then renamed to its content's hash. None when it has no rows; the existing path
    when a part of the same bytes is there already."""
    if table.num_rows == 0:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".tmp-{os.getpid()}-{uuid.uuid4().hex}.parquet"
    try:
        pq.write_table(table, tmp, compression=COMPRESSION)
        digest = hashlib.sha256()
        with tmp.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
            os.fsync(f.fileno())
        final = directory / f"part-{digest.hexdigest()[:32]}.parquet"
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
            _sync_dir(directory)
        return final
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keys(parts: Sequence[Path]) -> pa.Array:
    """The ``room_id \\0 msg_id`` keys the ``parts`` hold."""
    chunks = []
    for p in parts:
        check_part(p)
        t = pq.read_table(p, columns=["room_id", "msg_id"])
        chunks.append(_key_column(t))
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())


def _key_column(t: pa.Table) -> pa.Array:
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(t.column("room_id"), t.column("msg_id"),
                                       "\x00").combine_chunks()


def _new_rows(directory: Path, table: pa.Table) -> pa.Table:
    """The rows of ``table`` whose key the partition at ``directory`` does not hold yet."""
    import pyarrow.compute as pc

    if not directory.is_dir():
        return table
    held = _keys(Partition("", None, directory).parts())
    if not len(held):
        return table
    return table.filter(pc.invert(pc.is_in(_key_column(table), value_set=held)))


# ---------------------------------------------------------------------------- export


@dataclass(slots=True)
class Written:
    """What one export wrote: event rows and parts (new ones), metadata parts."""

    rows: int = 0
    parts: int = 0
    skipped: int = 0  # rows the lake held already
    meta_parts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "parts": self.parts, "skipped": self.skipped,
                "meta_parts": self.meta_parts}


def _export_select(rooms: Sequence[str] | None) -> tuple[str, list[object]]:
    where = "WHERE e.room_id IN (SELECT unnest($1::VARCHAR[]))" if rooms is not None else ""
    sql = f"""
        WITH rh AS (
            SELECT e.room_id, coalesce(arg_min(e.host, e.ts) FILTER (WHERE e.host IS NOT NULL),
                                       any_value(r.host)) AS _host
            FROM events e LEFT JOIN rooms r USING (room_id) {where} GROUP BY e.room_id)
        SELECT strftime(epoch_ms(e.ts), '%Y-%m-%d') AS _date, rh._host, {_QUOTED}
        FROM events e JOIN rh USING (room_id) {where}
        ORDER BY _date, rh._host NULLS LAST, e.room_id, e.ts, e.msg_id"""
    return sql, ([list(rooms)] if rooms is not None else [])


def export_lake(store: Store, lake: Path, rooms: Sequence[str] | None = None) -> Written:
    """Write the events of ``rooms`` (all when None) and the metadata to ``lake`` (checked
    with :func:`check_lake` first; made a lake when it is not yet): one new part per
    partition, holding the rows it lacks."""
    _make(lake)
    sql, params = _export_select(rooms)
    table = store.con.sql(sql, params=params or None).to_arrow_table()
    out = Written()
    if table.num_rows:
        for (date, host), start, length in _runs(table):
            part = table.slice(start, length).drop_columns(["_date", "_host"])
            directory = partition_dir(lake, date, host)
            new = _new_rows(directory, part)
            out.skipped += part.num_rows - new.num_rows
            if write_part(directory, new) is not None:
                out.rows += new.num_rows
                out.parts += 1
    for name, meta in meta_tables(store):
        if meta.num_rows and not _has_part(lake / META / name, meta):
            write_part(lake / META / name, meta)
            out.meta_parts += 1
    return out


def _has_part(directory: Path, table: pa.Table) -> bool:
    """Whether ``directory`` holds a part of these rows already (as :func:`write_part` names
    it, without writing)."""
    if not directory.is_dir():
        return False
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION)
    name = f"part-{hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:32]}.parquet"
    return (directory / name).exists()


def _runs(table: pa.Table) -> Iterator[tuple[tuple[str, str | None], int, int]]:
    """The (date, host) runs of a table sorted by them: the key, the first row, the length."""
    dates = table.column("_date").to_pylist()
    hosts = table.column("_host").to_pylist()
    start = 0
    for i in range(1, len(dates) + 1):
        if i == len(dates) or dates[i] != dates[start] or hosts[i] != hosts[start]:
            yield (dates[start], hosts[start]), start, i - start
            start = i


# ---------------------------------------------------------------------------- reading


def stage_parts(store: Store, parts: Sequence[Path]) -> int:
    """Stage the events of ``parts`` in order into ``store`` (which keeps, of the copies of one
    key, the first: :mod:`.staging`) and flush; returns the conflicts (same key, other
    content: the first copy kept)."""
    conflicts = 0
    staged = 0
    for p in parts:
        table = read_part(p)
        store.stage_arrow(table)
        staged += table.num_rows
        if staged >= LOAD_BLOCK:
            conflicts += len(store.stage_flush())
            staged = 0
    conflicts += len(store.stage_flush())
    return conflicts


def open_lake(path: str | os.PathLike[str]) -> Store:
    """The lake at ``path`` as a :class:`Store` in memory: its metadata, then its events in
    lake order (duplicates kept once, by the store's rule), the ledger run over every room —
    every read command then runs unchanged on it."""
    lake = check_lake(path)
    parts = event_parts(lake)
    for p in parts:
        check_part(p)  # refuse a foreign file before any work
    store = Store.open(":memory:")
    try:
        store.begin()
        load_meta(store, lake / META)
        store.stage_begin()
        stage_parts(store, parts)
        staged = store.stage_commit()
        ledger.recompute(store.con, staged.rooms)
        store.commit()
    except BaseException:
        store.close()
        raise
    store.path = f"lake {lake}"
    return store


# ---------------------------------------------------------------------------- compact


@dataclass(slots=True)
class Compacted:
    partitions: int = 0
    parts_merged: int = 0
    rows_dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"partitions": self.partitions, "parts_merged": self.parts_merged,
                "rows_dropped": self.rows_dropped}


def compact(path: str | os.PathLike[str], *, min_parts: int = 2) -> Compacted:
    """Merge the parts of every partition that has at least ``min_parts``, keeping one copy of
    each ``(room_id, msg_id)`` by the store's rule (forgotten gifters pseudonymized, as a store
    would): the merged part is written first, then the old ones removed — a crash between the
    two leaves duplicates (every read drops them), never a loss. The metadata parts of each
    table are merged the same way."""
    lake = check_lake(path)
    out = Compacted()
    every = [(p, p.parts()) for p in partitions(lake)]
    for _, parts in every:
        for part in parts:
            check_part(part)
    for partition, parts in every:
        if len(parts) < max(2, min_parts):
            continue
        merged, before = _merged(lake, parts)
        written = write_part(partition.path, merged)
        for p in parts:
            if p != written:
                p.unlink(missing_ok=True)
        out.partitions += 1
        out.parts_merged += len(parts)
        out.rows_dropped += before - merged.num_rows
    _compact_meta(lake)
    return out


def _merged(lake: Path, parts: Sequence[Path]) -> tuple[pa.Table, int]:
    """The events of ``parts`` kept once each, in the export's order; and the rows read."""
    with Store.open(":memory:") as store:
        load_meta(store, lake / META, only=("gifter_forgotten",))
        store.stage_begin()
        stage_parts(store, parts)
        staged = store.stage_commit()
        table = store.con.sql(
            f"SELECT {_QUOTED} FROM events e ORDER BY e.room_id, e.ts, e.msg_id"
        ).to_arrow_table()
    return as_events(table, "merged"), staged.staged


def _compact_meta(lake: Path) -> None:
    for name in META_TABLES:
        directory = lake / META / name
        if not directory.is_dir():
            continue
        parts = sorted(directory.glob("part-*.parquet"))
        if len(parts) < 2:
            continue
        with Store.open(":memory:") as store:
            load_meta(store, lake / META, only=(name,))
            table = dict(meta_tables(store, only=(name,)))[name]
        written = write_part(directory, table)
        for p in parts:
            if p != written:
                p.unlink(missing_ok=True)

"""Import of the project's own tables: ``liveworth export --format parquet|csv`` files and lake
parts (:mod:`liveworth.store.lake`), told apart from the other inputs by their bytes.

Every row is checked as an event-format-v1 line is (:func:`~liveworth.decode.events.
event_from_dict`): a bad row is rejected (``FILE:row N``) and the rest imported. A CSV export
marks a text cell a spreadsheet would run as a formula with a leading ``'``; the mark is taken
off again (so a text that itself began with ``'`` and a formula character loses that ``'``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from liveworth.decode.events import Event, event_from_dict
from liveworth.errors import InputFormatError
from liveworth.ingest.rejects import MAX_KEPT_RAW, Reject
from liveworth.store.database import EVENT_SCHEMA, Store, events_table
from liveworth.store.export import row_to_event_dict

#: The formats this module reads (``import --format``).
TABLE_FORMATS = ("parquet", "csv")
BATCH = 50_000
_CSV_HEAD = b"room_id,msg_id,type,ts"
_NAMES = [f.name for f in EVENT_SCHEMA]


def sniff_table(path: Path) -> str | None:
    """``"parquet"`` (a Parquet file: ``PAR1`` first), ``"csv"`` (a ``.csv`` whose header is
    the events' columns), else None."""
    try:
        with path.open("rb") as f:
            head = f.read(len(_CSV_HEAD) + 3)
    except OSError:
        return None
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.removeprefix(b"\xef\xbb\xbf").startswith(_CSV_HEAD):
        return "csv"
    return None


def _batches(path: Path, kind: str) -> Iterator[pa.RecordBatch]:
    if kind == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH)
        return
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(path, convert_options=pcsv.ConvertOptions(
        column_types={f.name: f.type for f in EVENT_SCHEMA}, strings_can_be_null=True,
        quoted_strings_can_be_null=False))
    for batch in reader:
        cols = [pc.replace_substring_regex(c, pattern="^'([=+@\t\r-])", replacement="\\1")
                if pa.types.is_string(c.type) else c for c in batch.columns]
        yield pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


def _rows(batch: pa.RecordBatch) -> Iterator[tuple[object, ...]]:
    have = set(batch.schema.names)
    cols = [batch.column(n).to_pylist() if n in have else [None] * batch.num_rows
            for n in _NAMES]
    return zip(*cols, strict=True)


def import_table_file(store: Store, path: Path, kind: str, hosts: dict[str, str | None],
                      report: Callable[[list[Reject]], None],
                      flush: Callable[[], None]) -> None:
    """Stage the events of one Parquet or CSV table (export or lake part), block by block."""
    row_no = 0
    room_host = _partition_host(path)
    try:
        for batch in _batches(path, kind):
            events: list[Event] = []
            numbers: list[int] = []
            rejects: list[Reject] = []
            for row in _rows(batch):
                row_no += 1
                where = f"{path}:row {row_no}"
                try:
                    obj = row_to_event_dict(row)
                    ev = event_from_dict(obj, where)
                except InputFormatError as exc:
                    rejects.append(Reject(where, str(exc).removeprefix(where + ": "),
                                          _shown(row)))
                    continue
                except (ValueError, TypeError, KeyError) as exc:  # a bad "extra" JSON text
                    rejects.append(Reject(where, f"not an event ({exc.__class__.__name__})",
                                          _shown(row)))
                    continue
                host = getattr(ev, "host", None) or room_host
                if host and hosts.get(ev.room_id) is None:
                    hosts[ev.room_id] = host
                events.append(ev)
                numbers.append(row_no)
            report(rejects)
            if events:
                store.stage_arrow(events_table(events).append_column(
                    "line_no", pa.array(numbers, pa.int64())))
            flush()
    except (pa.ArrowException, OSError) as exc:
        report([Reject(f"{path}:row {row_no + 1}", f"unreadable {kind} "
                       f"({str(exc).splitlines()[0][:160] if str(exc) else exc}); the rest of "
                       "the file is lost")])


def _partition_host(path: Path) -> str | None:
    """The room host a lake part's directory names (``.../date=D/host=NAME/part-*``)."""
    from liveworth.store.lake import decode_value

    if path.parent.name.startswith("host=") and path.parent.parent.name.startswith("date="):
        return decode_value(path.parent.name[5:])
    return None


def _shown(row: tuple[object, ...]) -> str:
    return json.dumps(dict(zip(_NAMES, row, strict=True)), ensure_ascii=False,
                      default=str)[:MAX_KEPT_RAW]

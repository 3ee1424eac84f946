"""The file formats liveworth reads and writes, named once for the importer, the exporter and the
command line (which builds its parser without importing either)."""

#: Largest integer accepted in a count or coin field (fits DuckDB BIGINT with room to sum, and
#: JSON readers that hold numbers as doubles keep it exact).
MAX_INT = 2**53
#: The latest event time, ms since the epoch: the last millisecond of 9999-12-31 UTC, the latest
#: instant a date can be written in (Python's datetime, every report, page and export). A time
#: beyond it in any input is refused at the door, not left to break a report later.
MAX_TS = 253_402_300_799_999

#: The longest room id and host (@unique id) accepted, in characters. TikTok's are far shorter
#: (a room id is a 19-digit number, a unique id at most 24 characters); the limit is one for the
#: door (every importer and the recorder) and the pages (their paths), so that what is stored
#: can always be shown.
MAX_ROOM_ID = 200
MAX_HOST = 100

#: What ``liveworth import --format`` reads: ``auto`` sniffs each file; the others name one
#: (event format v1 JSONL, collector dumps, the raw journal, WebcastResponse frames).
FORMATS = ("auto", "events", "webcast-dump", "journal", "webcast-response")

#: What ``liveworth export --format`` writes (JSONL is event format v1 and round-trips).
EXPORT_FORMATS = ("jsonl", "parquet", "csv")

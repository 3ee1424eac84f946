"""The file formats liveworth reads and writes, named once for the importer, the exporter and the
command line (which builds its parser without importing either)."""

#: Largest integer accepted in a count or coin field (fits DuckDB BIGINT with room to sum, and
#: JSON readers that hold numbers as doubles keep it exact).
MAX_INT = 2**53
#: The latest event time, ms since the epoch: 9999-12-31 09:59:59.999 UTC, the latest instant
#: that has a date in every time zone (UTC+14 is then 9999-12-31 23:59:59.999, the last date
#: Python's datetime, every report, page and export can write). A time beyond it in any input is
#: refused at the door, not left to break a report in some time zone later.
MAX_TS = 253_402_250_399_999
#: MAX_TS as people read it.
MAX_TS_TEXT = "9999-12-31 09:59:59.999 UTC"

#: The longest room id and host (@unique id) accepted, in characters. TikTok's are far shorter
#: (a room id is a 19-digit number, a unique id at most 24 characters); the limit is one for the
#: door (every importer and the recorder) and the pages (their paths), so that what is stored
#: can always be shown.
MAX_ROOM_ID = 200
MAX_HOST = 100

#: What ``liveworth import --format`` reads: ``auto`` sniffs each file; the others name one
#: (event format v1 JSONL, collector dumps, the raw journal, WebcastResponse frames, and the
#: project's own Parquet and CSV exports and lake parts).
FORMATS = ("auto", "events", "webcast-dump", "journal", "webcast-response", "parquet", "csv")

#: What ``liveworth export --format`` writes (JSONL is event format v1 and round-trips).
EXPORT_FORMATS = ("jsonl", "parquet", "csv")

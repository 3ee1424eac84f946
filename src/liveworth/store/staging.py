"""The rule that decides which copy of an event is kept, as SQL over the staging table.

Every writer (import, recorder) stages events, then :meth:`liveworth.store.database.Store.
stage_flush` stores those whose ``(room_id, msg_id)`` is new. Of several copies of one key the
first is kept — the one stored already, else the first staged (by input line, else staging
order) — so that no block or batch boundary changes what is kept. A later copy with the same
content is a duplicate; one with different content is a :class:`Conflict`, reported, not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class Conflict(NamedTuple):
    """A staged event whose ``(room_id, msg_id)`` was already kept with different content.
    ``line_no``: its input line, or its place in the staging order of an input without lines."""

    line_no: int
    room_id: str
    msg_id: str
    event: dict[str, Any]  # its columns


class Staged(NamedTuple):
    """What one input staged: events, how many were new, the rooms, how many conflicts."""

    staged: int
    inserted: int
    rooms: list[str]
    conflicts: int


def judge_stage_sql(columns: Sequence[str]) -> str:
    """SQL making ``_judged``: the staged events with ``stored`` (their key is stored already),
    ``rank`` (among the staged copies of their key, by ``line_no``) and ``differs`` (from the
    copy kept: the stored one, else the first staged)."""
    staged = ", ".join(f's."{c}"' for c in columns)
    stored = ", ".join(f'e."{c}"' for c in columns)
    return f"""
        CREATE OR REPLACE TEMP TABLE _judged AS
        SELECT s.*, e.msg_id IS NOT NULL AS stored, row_number() OVER k AS rank,
               CASE WHEN e.msg_id IS NOT NULL THEN row({staged}) IS DISTINCT FROM row({stored})
                    ELSE row({staged}) IS DISTINCT FROM first_value(row({staged})) OVER k
               END AS differs
        FROM _stage s LEFT JOIN events e ON e.room_id = s.room_id AND e.msg_id = s.msg_id
        WINDOW k AS (PARTITION BY s.room_id, s.msg_id ORDER BY s.line_no)
    """

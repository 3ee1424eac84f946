"""Forgotten gifters (``liveworth gifter USER_ID --forget``): their stable pseudonym, and the
statement that pseudonymizes their events as they are stored later (a recording, an import).

The pseudonym is ``gifter-`` and 8 hex digits of a SHA-256 of the user id (salted with a fixed
label): the same person gets the same pseudonym in every store, and it carries nothing of their
names. ``gifter_forgotten`` (migration 4) lists who was forgotten.
"""

from __future__ import annotations

import hashlib

PREFIX = "gifter-"

#: Run on the staging table before staged events are judged and stored (``Store.stage_flush``):
#: the user name and nickname of a forgotten user's events become their pseudonym, and so do
#: those names where the event's own text repeats them. A re-import of events stored before the
#: forget then matches the stored (pseudonymized) copies, instead of conflicting with them.
_NAMED = ("CASE WHEN length(coalesce(_stage.\"user\", '')) < 3 THEN _stage.text "
          "ELSE replace(_stage.text, _stage.\"user\", f.pseudonym) END")
PSEUDONYMIZE_STAGE = f"""
    UPDATE _stage SET
        text = CASE WHEN length(coalesce(_stage.nickname, '')) < 3 THEN {_NAMED}
                    ELSE replace({_NAMED}, _stage.nickname, f.pseudonym) END,
        "user" = f.pseudonym, nickname = f.pseudonym
    FROM gifter_forgotten f
    WHERE _stage.user_id = f.user_id
"""


def pseudonym(user_id: str) -> str:
    """The stable pseudonym of a forgotten user."""
    digest = hashlib.sha256(b"liveworth forgotten gifter\x00" + user_id.encode()).hexdigest()
    return PREFIX + digest[:8]

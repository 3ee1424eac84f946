"""The error hierarchy: every error liveworth raises on purpose is a :class:`LiveworthError`.

The CLI turns any of them into one line on stderr and exit status 2 (usage and input errors) —
never a traceback.
"""

from __future__ import annotations


class LiveworthError(Exception):
    """Root of every error liveworth raises on purpose."""


class UsageError(LiveworthError):
    """A bad argument or option value given by the user."""


class ConfigError(LiveworthError):
    """A broken rate card, preset or configuration file."""


class InputFormatError(LiveworthError):
    """A line or record of an input file that cannot be read.

    ``where`` names the place (``file:line``) and ``field`` the offending field when known.
    """

    def __init__(self, message: str, *, where: str = "", field: str = "") -> None:
        self.where = where
        self.field = field
        self.reason = message
        parts = [p for p in (where, f"field {field!r}" if field else "") if p]
        super().__init__(": ".join([*parts, message]) if parts else message)


class DecodeError(InputFormatError):
    """A raw webcast payload that is not valid protobuf of the expected message."""


class StoreError(LiveworthError):
    """The database cannot be opened, written or migrated."""


class NotFoundError(LiveworthError):
    """A session, creator or other named thing that is not in the store."""

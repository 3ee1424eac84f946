"""What an import could not take: :class:`Reject` records and the rejects file that keeps them.

Rejects are streamed, never held: each goes to a spool file as it is found (its raw text cut to
:data:`MAX_KEPT_RAW` characters), so memory stays flat whatever share of the input is bad. After
the import commits, the spool is appended to ``<database>.rejects.jsonl`` — opened without
following a symbolic link and only as a regular file — so that an import killed half-way leaves
no rejects of lines a rerun will reject again. A full disk while keeping rejects loses only
rejects, never an event, and the result says how many were not kept.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from typing import IO

from liveworth.errors import StoreError

#: The characters of a rejected line or message kept in the rejects file (the rest is cut).
MAX_KEPT_RAW = 10_000


@dataclass(frozen=True, slots=True)
class Reject:
    """One input line or message that was not imported, and why."""

    where: str
    reason: str
    raw: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"where": self.where, "reason": self.reason, "raw": self.raw}


def rejects_path_for(db_path: str) -> str | None:
    """The rejects file kept next to the database (none for an in-memory database)."""
    return None if db_path == ":memory:" else db_path + ".rejects.jsonl"


def open_rejects(path: str) -> IO[str]:
    """The rejects file, opened to append without following a symlink (a planted link would
    send hostile rejected lines into any file the user can write) and only if it is a regular
    file; a clear error otherwise."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        if os.path.islink(path):
            raise StoreError(f"{path}: the rejects file is a symbolic link; not written "
                             "(remove it); everything valid was imported") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path}: the rejects file is not a regular file; not written "
                         "(everything valid was imported)")
    return os.fdopen(fd, "a", encoding="utf-8")


class RejectSpool:
    """Rejects on their way to the rejects file: counted, and spooled to an unnamed temporary
    file next to the database (``spool_dir``; none for an in-memory database)."""

    def __init__(self, spool_dir: str | None) -> None:
        self.count = 0
        self.spooled = 0  # in the spool; after keep(), in the rejects file
        self.error: str | None = None  # why some rejects could not be kept
        self._file: IO[str] | None = None
        self._dir = spool_dir
        self._at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def add(self, r: Reject) -> None:
        self.count += 1
        if self._dir is None or self.error is not None:
            return
        raw = r.raw if r.raw is None or len(r.raw) <= MAX_KEPT_RAW else r.raw[:MAX_KEPT_RAW]
        line = json.dumps({"at": self._at, "where": r.where, "reason": r.reason, "raw": raw},
                          ensure_ascii=False) + "\n"
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(  # noqa: SIM115 (closed by keep or close)
                    "w+", encoding="utf-8", dir=self._dir,
                    prefix=".liveworth-rejects-")
            self._file.write(line)
        except OSError as exc:
            self.error = exc.strerror or str(exc)
            return
        self.spooled += 1

    def keep(self, path: str) -> None:
        """Append the spooled rejects to the rejects file at ``path``. A failure to write is
        noted in :attr:`error` (the import itself is committed by then), never raised; a
        rejects file that is a link or not a regular file raises :class:`StoreError`."""
        if self._file is None:
            return
        try:
            self._file.flush()
            self._file.seek(0)
            with open_rejects(path) as out:
                shutil.copyfileobj(self._file, out, 64 << 10)
        except OSError as exc:
            self.error = exc.strerror or str(exc)
            self.spooled = 0  # an append cut short keeps an unknown share: claim none
        finally:
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

"""How the web app reads the store: a short read-only connection per request.

DuckDB lets one process hold a database file for writing, or any number of processes hold it
read-only — never both at once. So the app never keeps the file open: each request (and each
0.5 s poll of a live page) opens it read-only, reads, and closes it again, which leaves the
writer (an import, the live recorder) windows to get in. When the writer holds the file, opening
fails with a lock error; :class:`ReadOnlyStore` retries for a moment and then gives up with
:class:`DatabaseBusy` (HTTP 503). A writer must likewise retry, and should hold the file only
while it flushes a batch, not for a whole LIVE.

Within one process the same rule holds between a writable and a read-only connection. A recorder
that serves the app from its own process passes :class:`SharedConnection` (cursors of its own
connection) as the ``opener`` of :func:`liveworth.web.create_app` instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb

from liveworth.errors import StoreError
from liveworth.store import Store

#: How long a request waits for a writer to let go of the database before answering 503.
BUSY_TIMEOUT_S = 2.0
#: Words of DuckDB's errors when another connection holds the file (another process: a lock;
#: this process: a connection "with a different configuration").
_LOCK_MARKERS = ("lock", "different configuration")

#: Opens the store for reading for the duration of a ``with`` block.
Opener = Callable[[], AbstractContextManager[Store]]


class DatabaseBusy(StoreError):
    """A writer held the database for longer than a request may wait."""


class NoDatabase(StoreError):
    """There is no database file yet (nothing imported or recorded)."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether opening failed only because another connection holds the file."""
    text = str(exc).lower()
    return any(marker in text for marker in _LOCK_MARKERS)


class ReadOnlyStore:
    """Opens the database file read-only, retrying while a writer holds it."""

    def __init__(self, path: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s

    def exists(self) -> bool:
        return Path(self.path).is_file()

    @contextmanager
    def __call__(self) -> Iterator[Store]:
        if not self.exists():
            raise NoDatabase(f"{self.path}: no database yet (import or record a session first)")
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.005
        while True:
            try:
                store = Store.open(self.path, read_only=True)
                break
            except StoreError as exc:
                if not is_lock_error(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(f"{self.path}: the database is busy (a writer holds it); "
                                       "try again in a moment") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            yield store
        finally:
            store.close()


class SharedConnection:
    """Reads through cursors of a connection that is already open — the seam for serving the
    app from the process that writes (e.g. the recorder), where DuckDB refuses a second,
    read-only open of the same file.

    Each request gets its own cursor (DuckDB's way to use one database from several threads)
    and sees what the writer has committed. Cursors are made from a root cursor taken here, so
    the writer's own connection is never touched from another thread. Routes only run SELECTs
    with bound parameters; DuckDB itself does not make these cursors read-only.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self._root = con.cursor()
        self._lock = threading.Lock()
        self.path = path

    @contextmanager
    def __call__(self) -> Iterator[Store]:
        with self._lock:
            cur = self._root.cursor()
        try:
            yield Store(cur, self.path, read_only=True)
        finally:
            cur.close()

"""How the web app reads the store: one read-only connection, shared by the requests and handed
back to the file now and then so that writers get in.

DuckDB lets one process hold a database file for writing, or any number of processes hold it
read-only — never both at once. Opening the file for every request is slow (the schema is read
each time) and, under load, leaves writers no moment when the file is free. So
:class:`ReadOnlyStore` keeps one read-only connection (each request reads through a cursor of
its own) for at most ``hold_s`` (1 s), then lets the requests in flight finish, closes it, and
keeps the file free for ``gap_s`` (0.1 s) before opening it again: a writer (an import, the
recorder) that retries its open in that window gets in. While a writer holds the file, opening
fails with a lock error; requests wait for up to ``busy_timeout_s`` and then give up with
:class:`DatabaseBusy` (HTTP 503, Retry-After). A writer must likewise retry, and should hold the
file only while it writes, not for a whole LIVE.

While the connection is open nobody else can write, so the file's identity (device, inode, size
and modification time of the database and its WAL) names the data it reads:
:func:`data_version` gives it for a store handed out here, and the app remembers its answers
under it; :meth:`ReadOnlyStore.current_version` tells, without opening the file, whether they
still hold, so repeated requests are answered without touching the database at all.

Within one process the same rule holds between a writable and a read-only connection. A recorder
that serves the app from its own process passes :class:`SharedConnection` (a connection of its
own to the writer's database) as the ``opener`` of :func:`liveworth.web.create_app` instead.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb

from liveworth.errors import StoreError
from liveworth.store.database import Store

#: How long a request waits for a writer to let go of the database before answering 503.
BUSY_TIMEOUT_S = 2.0
#: How long the shared read-only connection is kept before it is handed back to the file, and
#: how long the file is then left free for a writer to take (writers retry their open more often
#: than that).
HOLD_S = 1.0
GAP_S = 0.1
#: Words of DuckDB's errors when another connection holds the file (another process: a lock;
#: this process: a connection "with a different configuration").
_LOCK_MARKERS = ("lock", "different configuration")

#: Opens the store for reading for the duration of a ``with`` block.
Opener = Callable[[], AbstractContextManager[Store]]
#: What identifies the data a read sees (see :func:`data_version`).
Version = tuple[int, ...]


class DatabaseBusy(StoreError):
    """A writer held the database for longer than a request may wait."""


class NoDatabase(StoreError):
    """There is no database file yet (nothing imported or recorded)."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether opening failed only because another connection holds the file."""
    text = str(exc).lower()
    return any(marker in text for marker in _LOCK_MARKERS)


class VersionedStore(Store):
    """A store read through the shared connection, with the version of the data it sees."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str,
                 version: Version | None) -> None:
        super().__init__(con, path, read_only=True)
        self.version = version


def data_version(store: Store) -> Version | None:
    """What names the data ``store`` reads (equal versions, equal data), or None when the data
    may change under it (a connection shared with a writer)."""
    return store.version if isinstance(store, VersionedStore) else None


def _file_version(path: str) -> Version:
    out: list[int] = []
    for p in (path, f"{path}.wal"):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            out += [0, 0, 0, 0]
            continue
        out += [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    return tuple(out)


class ReadOnlyStore:
    """One read-only connection to the database file, shared by the requests (a cursor each),
    handed back to the file every ``hold_s`` for ``gap_s`` so that writers get in; opening
    retries while a writer holds the file."""

    def __init__(self, path: str, busy_timeout_s: float = BUSY_TIMEOUT_S, *,
                 hold_s: float = HOLD_S, gap_s: float = GAP_S) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.hold_s = hold_s
        self.gap_s = gap_s
        self._cond = threading.Condition()
        self._store: Store | None = None
        self._version: Version | None = None
        self._opened_at = 0.0
        self._free_since = -float("inf")
        self._users = 0
        self._generation = 0
        self._timer: threading.Timer | None = None

    def exists(self) -> bool:
        return Path(self.path).is_file()

    @contextmanager
    def __call__(self) -> Iterator[Store]:
        if not self.exists():
            raise NoDatabase(f"{self.path}: no database yet (import or record a session first)")
        cur, version = self._acquire()
        try:
            yield VersionedStore(cur, self.path, version)
        finally:
            try:
                cur.close()
            finally:
                self._release()

    def current_version(self) -> Version | None:
        """The version of the data in the file now, without opening it (None: no file). Equal
        to the version of a read made since the file last changed: answers remembered under it
        still hold (a writer's transaction in progress changes nothing until it writes)."""
        return _file_version(self.path) if self.exists() else None

    def close(self) -> None:
        """Hand the file back now (waiting for the requests in flight)."""
        with self._cond:
            while self._users:
                self._cond.wait()
            self._close_locked()

    # -- the shared connection (every method below runs with self._cond held)

    def _acquire(self) -> tuple[duckdb.DuckDBPyConnection, Version | None]:
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.005
        with self._cond:
            while True:
                now = time.monotonic()
                if self._store is not None and now - self._opened_at < self.hold_s:
                    return self._lend_locked()
                if self._store is not None:  # expired: let the requests in flight finish
                    if not self._users:
                        self._close_locked()
                    elif now < deadline:
                        self._cond.wait(deadline - now)
                    else:  # long reads in flight: read along, the next gap comes later
                        return self._lend_locked()
                    continue
                wait = self._free_since + self.gap_s - now
                if wait > 0:  # leave the file free for a writer for a moment
                    self._cond.wait(wait)
                    continue
                try:
                    self._open_locked()
                except StoreError as exc:
                    if not is_lock_error(exc):
                        raise
                    if time.monotonic() >= deadline:
                        raise DatabaseBusy(f"{self.path}: the database is busy (a writer holds "
                                           "it); try again in a moment") from None
                    self._free_since = time.monotonic() - self.gap_s  # retry after `delay`
                    self._cond.wait(min(delay, max(0.0, deadline - time.monotonic())))
                    delay = min(delay * 2, 0.05)

    def _open_locked(self) -> None:
        store = Store.open(self.path, read_only=True)
        self._store, self._opened_at = store, time.monotonic()
        self._version = _file_version(self.path)  # stable: no one can write while we read
        self._generation += 1
        timer = threading.Timer(self.hold_s, self._expire, (self._generation,))
        timer.daemon = True
        timer.start()
        self._timer = timer
        _HELD.add(self)

    def _lend_locked(self) -> tuple[duckdb.DuckDBPyConnection, Version | None]:
        """A cursor on the open connection for one more request in flight."""
        assert self._store is not None
        self._users += 1
        try:
            return self._store.con.cursor(), self._version
        except BaseException:
            self._users -= 1
            raise

    def _close_locked(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            self._free_since = time.monotonic()
            store.close()
            self._cond.notify_all()

    def _expire(self, generation: int) -> None:
        with self._cond:
            if generation == self._generation and not self._users:
                self._close_locked()

    def _release(self) -> None:
        with self._cond:
            self._users -= 1
            if not self._users:
                if self._store is not None and \
                        time.monotonic() - self._opened_at >= self.hold_s:
                    self._close_locked()
                self._cond.notify_all()



#: Every ReadOnlyStore that has opened its file (see :func:`_close_at_exit`).
_HELD: weakref.WeakSet[ReadOnlyStore] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """Close the held connections before the interpreter finalizes. Left to the expiry timer (a
    daemon thread), a close that is still running then is killed inside DuckDB, which aborts
    the process ("FATAL: exception not rethrown") after everything else went well."""
    for held in list(_HELD):
        timer = held._timer
        if timer is not None:
            timer.cancel()
        with held._cond:
            if not held._users:
                held._close_locked()

class SharedConnection:
    """Reads through a connection of its own to a database this process already has open for
    writing — the seam for serving the app from the process that writes (e.g. the recorder),
    where DuckDB refuses a read-only open of the same file.

    The connection is a second one to the same database (DuckDB shares the open database between
    the connections of one process), so it stays valid when the writer closes its own. Each
    request reads through a cursor of it and sees what the writer has committed. Routes only run
    SELECTs with bound parameters; DuckDB itself does not make these cursors read-only.

    :meth:`close` waits for the requests in flight; requests after it answer 503. Stop the
    server before, so that none arrive.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.path = path
        try:
            self._con = duckdb.connect(path)  # the same database, a connection of our own
        except duckdb.Error:  # a differently configured writer: fall back to its cursors
            self._con = con.cursor()
        self._cond = threading.Condition()
        self._users = 0
        self._closed = False

    @contextmanager
    def __call__(self) -> Iterator[Store]:
        with self._cond:
            if self._closed:
                raise DatabaseBusy(f"{self.path}: the recording has ended; the dashboard is "
                                   "closing")
            cur = self._con.cursor()
            self._users += 1
        try:
            yield Store(cur, self.path, read_only=True)
        finally:
            try:
                cur.close()
            finally:
                with self._cond:
                    self._users -= 1
                    self._cond.notify_all()

    def close(self, timeout_s: float = 10.0) -> None:
        """Refuse new requests, wait (up to ``timeout_s``) for those in flight, close."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._closed = True
            while self._users and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            self._con.close()

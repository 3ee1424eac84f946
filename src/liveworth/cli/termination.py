"""SIGTERM as a normal stop for ``liveworth record`` (issue #16, item 6): one handler for the
whole command, installed before anything else of it runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


class Stop(Exception):
    """SIGTERM while the dashboard lingers after a replay."""


class Termination:
    """SIGTERM — what systemd and docker send to stop a service — is a normal stop, like Ctrl-C,
    whenever it comes: before the recording starts it is never started; during it the sources
    stop, the writer drains, journals and stores what was taken, the ledger runs and the summary
    is printed (exit 0, ``"interrupted": true``); during the final report it is noted and the
    report finishes; during a linger it ends the linger. One handler for the whole command, so
    there is no moment at which SIGTERM kills the process (asyncio's own handler would leave
    the default in place around the loop)."""

    def __init__(self) -> None:
        self.received = False
        self.lingering = False
        self._before: Any = None
        self._installed = False
        self._wake: Callable[[], None] | None = None

    def install(self) -> None:
        """Take SIGTERM (once; again is a no-op). ``liveworth record`` does it first thing in
        :func:`liveworth.cli.main`, before the parser and the commands' modules are imported:
        what is left is the interpreter's own start-up, before any Python runs."""
        import signal

        if self._installed:
            return
        with contextlib.suppress(ValueError, AttributeError):  # not the main thread; not POSIX
            self._before = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True

    def _handle(self, *_: object) -> None:
        self.received = True
        if self._wake is not None:
            self._wake()
        if self.lingering:
            raise Stop

    def done(self) -> None:
        """The work is done: the handler before goes back, and SIGTERM is ignored once the
        interpreter exits. Python's finalisation puts the default action back for a signal that
        has a handler, so one arriving while DuckDB and pyarrow shut down would end a complete,
        clean stop with exit 143; an ignored signal stays ignored."""
        import atexit
        import signal

        if not self._installed:
            return
        self._installed = False
        atexit.register(_ignore_sigterm)
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            signal.signal(signal.SIGTERM, self._before)

    def stop_on_term(self, stop: Any) -> None:
        """During the recording's loop: SIGTERM sets ``stop`` (an asyncio.Event)."""
        import asyncio

        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(stop.set)

        self._wake = wake
        if self.received:
            stop.set()

    def loop_over(self) -> None:
        self._wake = None


def _ignore_sigterm() -> None:
    import signal

    with contextlib.suppress(ValueError, AttributeError):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

"""The live recorder: raw messages → journal (durable) → decode → store → ledger, for many
creators at once.

Shape (datasette's single writer, asyncio for the connections):

- one asyncio task per creator (:mod:`liveworth.ingest.connection`) asks whether the creator is
  live, pulls raw messages from its :class:`~liveworth.ingest.sources.LiveSource` and puts them on
  the writer's queue; it owns reconnects (jittered exponential backoff), polling while the
  creator is offline, and the sign-server :class:`Quota`;
- one :class:`Writer` thread owns the journal: every ~100 ms it
  appends the queued messages to the per-creator journal and ``fsync`` s it — only then are they
  *recorded* — and decodes them with the same code as ``import``; its store thread stores the
  events (deduplicated by room and message id, so TikTok's backlog replays after a reconnect
  count once) with the journal's checkpoint while the writer journals and decodes the next
  batch, one batch at a time and in order; the writer recomputes the ledger of the rooms
  touched at most once a second, with no batch in the store thread;
- after a crash (``kill -9`` at any moment), :func:`recover` re-imports every journal that grew
  past its checkpoint: each message that reached the journal ends up in the store exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from liveworth.decode.rawsources import JournalWriter, RawMessage, journal_line
from liveworth.economy.numbers import count
from liveworth.errors import InputFormatError, LiveworthError, StoreError
from liveworth.ingest.batches import Latency, decode_chunk, journal_fingerprints, line_fingerprint
from liveworth.ingest.connection import Backoff as Backoff
from liveworth.ingest.connection import CreatorState as CreatorState
from liveworth.ingest.connection import Gap, Quota, record_creator
from liveworth.ingest.recovery import HEAD_BYTES as HEAD_BYTES
from liveworth.ingest.recovery import JOURNAL_SUFFIX as JOURNAL_SUFFIX
from liveworth.ingest.recovery import checkpoints, journal_path
from liveworth.ingest.recovery import recover as recover
from liveworth.ingest.sources import LiveSource
from liveworth.store import ledger
from liveworth.store.database import Store, run

#: Called by the writer with the open store and the recording's clock (:meth:`Writer.clock_ms`).
OnOpen = Callable[[Store, Callable[[], int | None]], None]
#: Called by the writer after each ledger update with the rooms it touched, and once more with
#: every room and ``final=True`` when the recording stops (the alert watcher).
OnLedger = Callable[[Store, Sequence[str], bool], None]
#: Called by the writer with each batch's decoded events once they are stored (some may have
#: been in the store already: a reconnect's backlog).
OnStored = Callable[[pa.Table], None]

# The batch window: a batch's fixed cost (~10 ms of store statements, one fsync per journal it
# wrote) is paid once per window. One room: 30 ms (p99 event-to-store under 100 ms at 10 k
# msg/s); each journal the last batch wrote widens the next window by 0.5 ms, up to 100 ms, so
# that 200 rooms fsync each journal ~10 times a second, not 33 (docs/PERFORMANCE.md).
FLUSH_S = 0.03
FLUSH_PER_JOURNAL_S = 0.0005
FLUSH_MAX_S = 0.1
BATCH_MAX = 50_000  # messages per batch at most (under load a batch takes what came meanwhile)
RECOMPUTE_S = 1.0
SYNC_THREADS = 16  # journals fsync'ed at once, when a batch wrote to several
# ---------------------------------------------------------------------------- the writer

_Item = tuple[str, RawMessage, float]  # creator, message, when it was handed to the writer


class Writer(threading.Thread):
    """The one thread that writes: journal, then store, then ledger.

    For the creators in ``journal_once`` (replays) a message is journaled once: the first time
    the writer opens such a creator's journal it reads a fingerprint of every line already there
    (:func:`line_fingerprint`, a 64-bit hash kept as an int in a set: about 90 bytes of
    memory a line, 90 MB for a million) and appends no message whose line is among them (or
    was appended since); such a message is still decoded and stored, which the store's dedupe
    makes harmless. Every message the journal holds is then stored exactly once, as crash
    recovery needs. Live creators journal every message they receive.
    """

    def __init__(self, db: str, journal_dir: Path, states: dict[str, CreatorState],
                 lock: threading.Lock, flush_s: float = FLUSH_S,
                 recompute_s: float = RECOMPUTE_S,
                 on_open: OnOpen | None = None, journal_once: Collection[str] = (),
                 on_ledger: OnLedger | None = None,
                 on_stored: OnStored | None = None) -> None:
        super().__init__(name="liveworth-writer", daemon=True)
        self.db = db
        self.journal_dir = journal_dir
        self.states = states
        self.lock = lock
        self.flush_s = flush_s
        self._window = flush_s  # the next batch's window (FLUSH_PER_JOURNAL_S)
        self.recompute_s = recompute_s
        # Appended to by the connection tasks (a deque's append is atomic), drained by this
        # thread every ``flush_s``: no lock or wake-up per message.
        self.inbox: deque[_Item | Gap | None] = deque()
        self.error: BaseException | None = None
        self.failed = threading.Event()  # set as soon as the store has failed
        self.rooms_seen: set[str] = set()
        self._journals: dict[str, JournalWriter] = {}
        self.journal_once = frozenset(journal_once)
        self._in_journal: dict[str, set[int]] = {}  # journal_once creators: lines' fingerprints
        self._dirty: set[str] = set()
        self._ledger = ledger.LiveLedger()
        self._last_recompute = 0.0
        # Per message: from the moment it was handed to the writer until its batch was stored
        # (the event-to-store latency, the ledger's waits included).
        self.latency = Latency()
        # Seconds of this thread's wall time per step: journal, decode, store, after (the
        # batch's hooks and figures), ledger (with the live view and the alerts).
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.on_open = on_open  # called in this thread with the open store (e.g. to serve it)
        self.on_ledger = on_ledger
        self.on_stored = on_stored
        self.hook_error: Exception | None = None  # the first failure of on_ledger (a bug)
        # The recording's own clock: the latest event time stored, and when (monotonic).
        self._clock_mark: tuple[int, float] | None = None
        self.stop_seen = False  # stop() was taken from the inbox (by the batch in hand)
        self._unstored = 0  # messages in the journal, not yet stored (at most two batches)
        # The store thread: one batch at a time, while this thread journals the next.
        self._storing = ThreadPoolExecutor(1, thread_name_prefix="liveworth-store")
        self._pending: tuple[Future[_Stored], Sequence[_Item], pa.Table] | None = None
        self._ledger_job: Future[None] | None = None
        self._heads: dict[Path, tuple[str, int, str]] = {}  # the journals' checkpoint heads
        self._syncing = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="liveworth-fsync")

    def clock_ms(self) -> int | None:
        """The recording's own clock, in event time: the latest event time stored plus the wall
        time since it was stored (None before any). Live, it is the wall clock; in a replay of
        a 2023 dump it is 2023, so a page judges liveness by the recording, not by today."""
        mark = self._clock_mark
        if mark is None:
            return None
        return mark[0] + int((time.monotonic() - mark[1]) * 1000)

    def put(self, host: str, msg: RawMessage) -> None:
        self.inbox.append((host, msg, time.monotonic()))

    def put_gap(self, gap: Gap) -> None:
        self.inbox.append(gap)

    def stop(self) -> None:
        self.inbox.append(None)

    def _take(self, limit: int) -> tuple[list[_Item | Gap], bool]:
        """Up to ``limit`` queued items, and whether :meth:`stop` was reached."""
        out: list[_Item | Gap] = []
        pop = self.inbox.popleft
        while len(out) < limit:
            try:
                item = pop()
            except IndexError:
                break
            if item is None:
                self.stop_seen = True
                return out, True
            out.append(item)
        return out, False

    def run(self) -> None:
        failure = None
        try:
            with Store.open(self.db) as store:
                if self.on_open:
                    self.on_open(store, self.clock_ms)
                try:
                    self._loop(store)
                except BaseException as exc:  # nothing left in the store thread at the close
                    self.failed.set()
                    failure = self._settle_failed(exc)
        except BaseException as exc:
            failure = failure or (exc, None, 0)
        try:
            if failure is not None:  # surfaced by the recorder
                self.failed.set()  # the recorder stops the sources; we journal until then
                self.error = self._journal_rest(*failure)
        finally:
            self._storing.shutdown(wait=True)
            self._syncing.shutdown(wait=True)
            for j in self._journals.values():
                with contextlib.suppress(OSError):
                    j.close()

    def _settle_failed(self, exc: BaseException) -> tuple[BaseException, Exception | None, int]:
        """After a failure: wait for the batch being stored. Returns the failure to tell (the
        store's, when it failed while the journal failed on the next batch), the journal's
        error if it failed, and how many messages its failure lost."""
        lost = exc.messages if isinstance(exc, _JournalFailed) else 0
        journal_error = exc.error if isinstance(exc, _JournalFailed) else None
        try:
            self._settle()
        except BaseException as store_exc:
            if journal_error is not None:
                exc = store_exc  # the store failed first, on the batch before
        return exc, journal_error, lost

    def _journal_rest(self, exc: BaseException, journal_error: Exception | None,
                      lost: int) -> BaseException:
        """After a failure: journal (durably) every message still queued or yet to come until
        :meth:`stop`, so that every message taken from a connection is recorded if the journal
        can still be written; returns the error the recording ends with, which says where the
        messages are (stored, in the journal only, or lost)."""
        journal_only = self._unstored  # journaled, not stored (the failed batches)
        done = self.stop_seen  # the failed batch may have carried stop(): none will come
        while not done:
            items, done = self._take(BATCH_MAX)
            batch = [b for b in items if not isinstance(b, Gap)]
            if not items and not done:
                time.sleep(self.flush_s)
            if journal_error is not None:
                lost += len(batch)
                continue
            try:
                self._journal_durably(batch)
                journal_only += len(batch)
            except (OSError, InputFormatError) as jexc:  # the journal failed too: nothing more
                journal_error, lost = jexc, lost + len(batch)
        if isinstance(exc, _JournalFailed):
            exc = exc.error
        elif not isinstance(exc, (LiveworthError, duckdb.Error, OSError)):
            return exc  # a bug, not a storage failure: keep its traceback
        return StoreError(self._where_messages_are(exc, journal_error, journal_only, lost))

    def _where_messages_are(self, exc: BaseException, journal_error: Exception | None,
                            journal_only: int, lost: int) -> str:
        where = f"the journal in {self.journal_dir}"
        loads = "the next `liveworth record` with this journal directory loads"
        if journal_error is exc:  # the journal failed first
            return (f"{where} could not be written ({_reason(exc)}); recording stopped. Every "
                    f"message before the last {count(lost, 'message')} taken is stored; of "
                    f"those, the journal holds only what it wrote before the failure ({loads} "
                    "it) and the rest is lost")
        kept = (f"the last {count(journal_only, 'message')} taken "
                f"{'is' if journal_only == 1 else 'are'} in the journal only ({loads} them)")
        if journal_error is not None:
            return (f"the store failed ({_reason(exc)}) and so did {where} "
                    f"({_reason(journal_error)}); recording stopped. Before that, {kept}; the "
                    f"{count(lost, 'message')} taken after that {'is' if lost == 1 else 'are'} "
                    "lost, beyond what the journal wrote before it failed")
        return (f"the store failed: {_reason(exc)}; recording stopped. Every message taken is "
                f"recorded: {kept}, every one before them is stored")

    def _loop(self, store: Store) -> None:
        done = False
        last = time.monotonic()
        while not done:
            # Under load the previous batch took the whole window: take what came meanwhile
            # at once (batches grow with the load); otherwise wait for the window to end.
            wait = last + self._window - time.monotonic()
            if wait > 0 and len(self.inbox) < BATCH_MAX:
                time.sleep(wait)
            last = time.monotonic()
            batch, done = self._take(BATCH_MAX)
            if batch:
                self._write(store, batch)
            if not batch or done or (self._pending is not None and self._pending[0].done()):
                self._settle()
            if (self._dirty or self._pending) and (
                    done or time.monotonic() - self._last_recompute >= self.recompute_s):
                self._settle()  # the ledger reads what is stored: no batch in flight
                if self._dirty:  # in the store thread too, while the next batch is journaled
                    rooms = sorted(self._dirty)
                    self._dirty.clear()
                    self._last_recompute = time.monotonic()
                    self._ledger_job = self._storing.submit(self._recompute, store, rooms)
        self._settle()
        self._after_ledger(store, sorted(self.rooms_seen), final=True)

    def _after_ledger(self, store: Store, rooms: Sequence[str], *, final: bool) -> None:
        """``on_ledger``: its store failures are the recording's; any other failure (a bug in
        the hook) is kept, once, and never stops the recording."""
        if self.on_ledger is not None and rooms:
            self._hook(self.on_ledger, store, rooms, final)

    def _hook(self, hook: Callable[..., None], *args: object) -> None:
        try:
            hook(*args)
        except (StoreError, duckdb.Error, OSError):
            raise
        except Exception as exc:
            if self.hook_error is None:
                self.hook_error = exc

    def _journal(self, host: str) -> JournalWriter:
        j = self._journals.get(host)
        if j is None:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            j = JournalWriter(journal_path(self.journal_dir, host))
            if host in self.journal_once:
                self._in_journal[host] = journal_fingerprints(j.path)
            self._journals[host] = j
        return j

    def _journal_durably(self, messages: Sequence[_Item]) -> dict[str, int]:
        """Append each message to its creator's journal (once, for ``journal_once``): one write
        of the batch's lines per journal, then an fsync of each; returns the creators written
        and their journals' sizes."""
        lines: dict[str, list[bytes]] = {}
        for host, msg, _ in messages:
            if host not in self._journals:
                self._journal(host)
            line = journal_line(msg)
            seen = self._in_journal.get(host)
            if seen is not None:
                fp = line_fingerprint(line)
                if fp in seen:
                    continue
                seen.add(fp)
            lines.setdefault(host, []).append(line)
        written = [self._journals[host] for host in lines]
        for j, mine in zip(written, lines.values(), strict=True):
            j.append_lines(mine)
        if len(written) > 1:  # many creators: their fsyncs at once (the disk groups them)
            list(self._syncing.map(JournalWriter.flush, written))
        elif written:
            written[0].flush(durable=True)
        return {host: j.size() for host, j in zip(lines, written, strict=True)}

    def _journal_batch(self, messages: Sequence[_Item]) -> dict[str, int]:
        """The journal, durably; a failure of its disk is a :class:`_JournalFailed`."""
        try:
            sizes = self._journal_durably(messages)
        except (OSError, InputFormatError) as exc:  # its disk, or a file it cannot append to
            raise _JournalFailed(exc, len(messages)) from exc
        self._window = max(self.flush_s, min(FLUSH_MAX_S,
                                             self.flush_s + FLUSH_PER_JOURNAL_S * len(sizes)))
        self._unstored += len(messages)
        return sizes

    def _write(self, store: Store, batch: Sequence[_Item | Gap]) -> None:
        """Journal and decode a batch here, then store it in the store thread — while this
        thread journals and decodes the next batch (DuckDB and fsync let go of the GIL)."""
        messages = [b for b in batch if not isinstance(b, Gap)]
        gaps = [b for b in batch if isinstance(b, Gap)]
        t0 = time.perf_counter()
        sizes = self._journal_batch(messages)  # 1. from here on a message is recorded
        t1 = time.perf_counter()
        # 2. decode with the same code as import
        table, made = decode_chunk([m for _, m, _ in messages])
        self.spent["journal"] += t1 - t0
        self.spent["decode"] += time.perf_counter() - t1
        self._settle()  # one batch in the store at a time, in order
        job = self._storing.submit(self._store_job, store, messages, made, table, gaps, sizes)
        self._pending = (job, messages, table)

    def _store_job(self, store: Store, messages: Sequence[_Item], made: Sequence[int],
                   table: pa.Table, gaps: Sequence[Gap], sizes: dict[str, int]) -> _Stored:
        """3. In the store thread: the batch's events, gaps and journal checkpoints (the sizes
        its journaling left: a later batch's lines may be in the journal already)."""
        t = time.perf_counter()
        per_host, last_room = self._tally(store, messages, made, table)
        rooms = self._store(store, table, gaps, sizes, last_room)
        self.spent["store"] += time.perf_counter() - t
        return _Stored(rooms, per_host, last_room, time.monotonic())

    def _settle(self) -> None:
        """Wait for the store thread: the ledger's turn, if one is there, and the batch, if
        any (re-raising their failures); then tell what the batch stored: the clock, the
        ledger's notes, the hooks, the figures, the latency."""
        ledger_job, self._ledger_job = self._ledger_job, None
        try:
            if ledger_job is not None:
                ledger_job.result()
        finally:
            self._settle_batch()

    def _settle_batch(self) -> None:
        if self._pending is None:
            return
        job, messages, table = self._pending
        self._pending = None
        done = job.result()
        self._unstored -= len(messages)
        t = time.perf_counter()
        if table.num_rows:
            latest = int(pc.max(table.column("ts")).as_py())
            if self._clock_mark is None or latest >= self._clock_mark[0]:
                self._clock_mark = (latest, time.monotonic())
        self._dirty.update(done.rooms)
        self._ledger.note_table(table)
        if self.on_stored is not None:
            self._hook(self.on_stored, table)
        self._count(done.per_host, done.last_room)
        self.latency.add(done.at, [t for _, _, t in messages])
        self.spent["after"] += time.perf_counter() - t

    def _tally(self, store: Store, messages: Sequence[_Item], made: Sequence[int],
               table: pa.Table) -> tuple[dict[str, list[int]], dict[str, str]]:
        """Per creator: messages, events, rejects; and the room of its last event (new rooms
        are noted in the store)."""
        rooms_of = table.column("room_id").to_pylist()
        per_host: dict[str, list[int]] = {}
        last_room: dict[str, str] = {}
        new_rooms: dict[str, str] = {}
        at = 0
        for (host, msg, _), n in zip(messages, made, strict=True):
            counts = per_host.setdefault(host, [0, 0, 0])
            counts[0] += 1
            if n < 0:
                counts[2] += 1
                continue
            counts[1] += n
            for room in rooms_of[at:at + n]:
                if room not in self.rooms_seen:
                    self.rooms_seen.add(room)
                    new_rooms[room] = msg.host or host
            at += n
            if n:
                last_room[host] = rooms_of[at - 1]
        store.note_rooms(new_rooms, "record")
        return per_host, last_room

    def _store(self, store: Store, table: pa.Table, gaps: Sequence[Gap], sizes: dict[str, int],
               last_room: dict[str, str]) -> list[str]:
        """The events, the gaps and the journal checkpoints, in one transaction; returns the
        rooms whose events were staged."""
        store.begin()
        try:
            rooms = store.store_batch(table).rooms
            for gap in gaps:
                with self.lock:
                    room = (gap.room_id or last_room.get(gap.host)
                            or self.states[gap.host].room_id)
                run(store.con, "INSERT INTO recorder_gaps VALUES (?, ?, ?, ?, ?)",
                    [room, gap.host, gap.from_ms, gap.to_ms, gap.reason])
            checkpoints(store, [(self._journals[h].path, size) for h, size in sizes.items()],
                        self._heads)
            store.commit()
        except BaseException:
            store.rollback()
            raise
        return rooms

    def _count(self, per_host: dict[str, list[int]], last_room: dict[str, str]) -> None:
        """The creators' figures after a batch: messages, events, rejects, their room."""
        with self.lock:
            for host, room in last_room.items():
                self.states[host].room_id = room
            for host, (n, e, r) in per_host.items():
                st = self.states[host]
                st.messages += n
                st.events += e
                st.rejected += r

    def _recompute(self, store: Store, rooms: Sequence[str]) -> None:
        """The ledger of ``rooms``, the live view's figures and ``on_ledger`` (in the store
        thread, after the batches before it and before the next one)."""
        t0 = time.perf_counter()
        store.begin()
        try:
            self._ledger.update(store.con, rooms)
            store.commit()
        except BaseException:
            store.rollback()
            raise
        self._refresh_view(store, rooms)
        self._after_ledger(store, rooms, final=False)
        self.spent["ledger"] += time.perf_counter() - t0

    def _refresh_view(self, store: Store, rooms: Sequence[str]) -> None:
        """The live view's figures of ``rooms``: a few queries for all of them together."""
        with self.lock:
            by_room = {st.room_id: st for st in self.states.values() if st.room_id}
        wanted = [r for r in rooms if r in by_room]
        if not wanted:
            return
        in_rooms = "room_id IN (SELECT unnest(?::VARCHAR[]))"
        coins = dict(store.query(f"SELECT room_id, sum(coins) FROM credits WHERE {in_rooms} "
                                 "AND NOT guest GROUP BY room_id", [wanted]))
        viewers = dict(store.query(f"SELECT room_id, arg_max(current, ts) FROM events "
                                   f"WHERE {in_rooms} AND type = 'viewers' GROUP BY room_id",
                                   [wanted]))
        last = dict(store.query(f"""
            SELECT room_id, count(*) FILTER (WHERE ts >= top - 60000) FROM (
                SELECT room_id, ts, max(ts) OVER (PARTITION BY room_id) AS top FROM credits
                WHERE {in_rooms}) GROUP BY room_id""", [wanted]))
        top: dict[str, list[tuple[str, int]]] = {}
        for room, user, c in store.query(f"""
                SELECT room_id, coalesce(arg_max("user", ts), user_id), sum(coins) AS c
                FROM credits WHERE {in_rooms} AND NOT guest GROUP BY room_id, user_id
                QUALIFY row_number() OVER (PARTITION BY room_id ORDER BY c DESC) <= 3
                ORDER BY room_id, c DESC""", [wanted]):
            top.setdefault(room, []).append((str(user), int(c)))
        with self.lock:
            for room in wanted:
                st = by_room[room]
                st.coins = int(coins.get(room) or 0)
                v = viewers.get(room)
                st.viewers = None if v is None else int(v)
                st.gifts_last_minute = int(last.get(room) or 0)
                st.top_gifters = top.get(room, [])


@dataclass(frozen=True)
class _Stored:
    """What the store thread stored of one batch, and when."""

    rooms: list[str]
    per_host: dict[str, list[int]]
    last_room: dict[str, str]
    at: float  # time.monotonic()


class _JournalFailed(Exception):
    """The journal could not be written: the batch of ``messages`` in hand is not recorded."""

    def __init__(self, error: OSError | InputFormatError, messages: int) -> None:
        super().__init__(str(error))
        self.error, self.messages = error, messages


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


@dataclass
class RecordResult:
    states: dict[str, CreatorState]
    rooms: list[str]
    recovered: list[str]
    latency: Latency
    hook_error: Exception | None = None  # on_ledger's first failure (the recording went on)
    spent: dict[str, float] = field(default_factory=dict)  # the writer's seconds per step


async def record(sources: Sequence[LiveSource], db: str, journal_dir: Path, *,
                 quota: Quota | None = None, rng: random.Random | None = None,
                 stop: asyncio.Event | None = None, poll_s: float = 60.0,
                 stop_when_ended: bool = True, backoff_base_s: float = 1.0,
                 on_tick: Callable[[dict[str, CreatorState]], None] | None = None,
                 on_open: OnOpen | None = None,
                 on_change: Callable[[CreatorState], None] | None = None,
                 on_ledger: OnLedger | None = None,
                 on_stored: OnStored | None = None,
                 ) -> RecordResult:
    """Record every source concurrently until they end (or ``stop`` is set).

    ``on_change`` is called (under the states' lock) with each creator whose status or reason
    changed: the ``--json`` state lines; ``on_ledger`` (in the writer's thread) after each
    ledger update, with the rooms it touched, and ``on_stored`` with each batch's events once
    stored (the alerts)."""
    recovered = recover(db, journal_dir)
    decode_chunk([])  # pyarrow imports pandas for its first table (~0.2 s): not on a message
    quota = quota or Quota(60, 600, 100_000)
    rng = rng or random.Random()
    lock = threading.Lock()
    states = {s.host: CreatorState(s.host, on_change=on_change) for s in sources}
    once = {s.host for s in sources if getattr(s, "journal_once", False)}
    writer = Writer(db, journal_dir, states, lock, on_open=on_open, journal_once=once,
                    on_ledger=on_ledger, on_stored=on_stored)
    writer.start()
    stop = stop or asyncio.Event()
    tasks = [asyncio.create_task(record_creator(
        s, writer, states[s.host], lock, quota, Backoff(rng, base_s=backoff_base_s),
        poll_s=poll_s, stop_when_ended=stop_when_ended, stop=stop)) for s in sources]
    try:
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=0.5)
            if writer.failed.is_set() or stop.is_set():
                break  # the writer journals what is still coming until the sources stop
            if on_tick:
                with lock:
                    on_tick(states)
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        writer.stop()
        await asyncio.to_thread(writer.join)
    if writer.error:
        raise writer.error
    return RecordResult(states, sorted(writer.rooms_seen), recovered, writer.latency,
                        writer.hook_error, dict(writer.spent))

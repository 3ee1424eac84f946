"""Recovery: what every recorder start runs first, and the journal checkpoints it relies on.

A journal is imported up to a checkpoint (``journal_files``: path, bytes stored, and the hash of
its first bytes, which tells the file from a successor at the same path). After a kill, or when
a creator's next journal replaces an archived one, :func:`recover` imports every journal its
checkpoint does not cover; it first settles the credits a killed writer left lagging.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from liveworth.ingest.importer import import_paths
from liveworth.store import ledger
from liveworth.store.database import Store, run

JOURNAL_SUFFIX = ".journal.jsonl"
_GZIP_MAGIC = b"\x1f\x8b"


def journal_path(journal_dir: Path, host: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in host.lstrip("@")) or "_"
    return journal_dir / f"{safe}{JOURNAL_SUFFIX}"


#: How much of a journal's beginning identifies it (its first lines: arrival times, room, host).
HEAD_BYTES = 4096


def _head(path: Path, size: int) -> tuple[int, str]:
    """``(n, sha256 of the first n bytes)``, n = min(size, HEAD_BYTES): what tells this journal
    from another one later found at the same path (an archived journal's successor)."""
    n = min(size, HEAD_BYTES)
    with path.open("rb") as f:
        return n, hashlib.sha256(f.read(n)).hexdigest()


def checkpoint(store: Store, path: Path, size: int) -> None:
    """Remember that ``path``'s first ``size`` bytes are stored, and which file that was."""
    checkpoints(store, [(path, size)])


def checkpoints(store: Store, marks: Sequence[tuple[Path, int]],
                known: dict[Path, tuple[str, int, str]] | None = None) -> None:
    """:func:`checkpoint` of each ``(path, size)``, in one statement (a recorder of 200
    creators checkpoints 200 journals a batch). ``known``: the caller's memo of each journal it
    is appending to — its resolved path and whole head, which cannot change once written."""
    if not marks:
        return
    rows = [_mark(path, size, known) for path, size in marks]
    run(store.con, """
        INSERT INTO journal_files (path, bytes_done, head_bytes, head_sha256)
        SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]),
               unnest(?::VARCHAR[])
        ON CONFLICT (path) DO UPDATE SET bytes_done = excluded.bytes_done,
            head_bytes = excluded.head_bytes, head_sha256 = excluded.head_sha256""",
        [[r[0] for r in rows], [size for _, size in marks], [r[1] for r in rows],
         [r[2] for r in rows]])


def _mark(path: Path, size: int, known: dict[Path, tuple[str, int, str]] | None
          ) -> tuple[str, int, str]:
    """``(resolved path, head bytes, head sha256)`` of a checkpoint, from ``known`` once the
    head is whole."""
    if known is not None and path in known:
        return known[path]
    n, sha = _head(path, size)
    mark = (str(path.resolve()), n, sha)
    if known is not None and n == HEAD_BYTES:
        known[path] = mark
    return mark


def _stored_already(path: Path, size: int, mark: tuple[int, int | None, str | None] | None
                    ) -> bool:
    """Whether the checkpoint ``mark`` covers this very file up to ``size``: the same beginning
    (a new journal at an archived one's path has another) and no byte beyond it."""
    if mark is None:
        return False
    done, head_bytes, head_sha = mark
    if head_bytes is None or head_sha is None or size != done:
        return False  # a checkpoint from before content identity, or the file changed size
    return _head(path, head_bytes) == (head_bytes, head_sha)


def journals(journal_dir: Path) -> list[Path]:
    """Every journal of a directory: the ones being written (``NAME.journal.jsonl``) and the
    archives (``NAME.journal.jsonl.gz``, and ``NAME.journal.jsonl.N.gz`` set aside by
    :func:`set_archives_aside`)."""
    return sorted(p for p in journal_dir.glob(f"*{JOURNAL_SUFFIX}*")
                  if (p.name.endswith(JOURNAL_SUFFIX) or p.name.endswith(".gz")) and p.is_file())


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == _GZIP_MAGIC


def set_archives_aside(store: Store, journal_dir: Path) -> list[Path]:
    """Move each journal compressed in place (docs/JOURNAL.md allows it once a journal is
    closed) to a free archive name, ``NAME.journal.jsonl.N.gz``, with its checkpoint, so that
    the creator's next journal starts afresh at the path; returns the archives made."""
    made = []
    for path in sorted(journal_dir.glob(f"*{JOURNAL_SUFFIX}")):
        if not path.is_file() or not _is_gzip(path):
            continue
        k = 1
        while True:
            archive = path.with_name(f"{path.name}.{k}.gz")
            try:
                os.link(path, archive)  # never over another file
                break
            except FileExistsError:
                k += 1
        store.begin()
        run(store.con, "UPDATE journal_files SET path = ? WHERE path = ?",
            [str(archive.resolve()), str(path.resolve())])
        store.commit()
        path.unlink()
        made.append(archive)
    return made


def recover(db: str, journal_dir: Path) -> list[str]:
    """What every recorder start does first: bring the credits of rooms a killed writer left
    behind up to date (:func:`liveworth.store.ledger.settle`), set aside journals compressed in
    place, then import every journal of ``journal_dir`` (archives included) its checkpoint does
    not cover — one that grew, or a new file at a known path. Returns the journals imported."""
    done: list[str] = []
    with Store.open(db) as store:
        store.begin()
        ledger.settle(store.con)
        store.commit()
        if not journal_dir.is_dir():
            return done
        set_archives_aside(store, journal_dir)
        marks = {str(r[0]): (int(r[1]), r[2], r[3]) for r in store.query(
            "SELECT path, bytes_done, head_bytes, head_sha256 FROM journal_files")}
        for path in journals(journal_dir):
            size = path.stat().st_size
            if not _stored_already(path, size, marks.get(str(path.resolve()))):
                import_paths(store, [path], "journal")
                store.begin()
                checkpoint(store, path, size)
                store.commit()
                done.append(str(path))
    return done

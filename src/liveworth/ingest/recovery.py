"""Recovery: what every recorder start runs first, and the journal checkpoints it relies on.

A journal is imported up to a checkpoint (``journal_files``: path, bytes stored, and the hash of
its first bytes, which tells the file from a successor at the same path). After a kill, or when
a creator's next journal replaces an archived one, :func:`recover` imports every journal its
checkpoint does not cover; it first settles the credits a killed writer left lagging.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from liveworth.ingest.importer import import_paths
from liveworth.store import ledger
from liveworth.store.database import Store, run

JOURNAL_SUFFIX = ".journal.jsonl"


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
    head_bytes, head_sha = _head(path, size)
    run(store.con, """
        INSERT INTO journal_files (path, bytes_done, head_bytes, head_sha256) VALUES (?, ?, ?, ?)
        ON CONFLICT (path) DO UPDATE SET bytes_done = excluded.bytes_done,
            head_bytes = excluded.head_bytes, head_sha256 = excluded.head_sha256""",
        [str(path.resolve()), size, head_bytes, head_sha])


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


def recover(db: str, journal_dir: Path) -> list[str]:
    """What every recorder start does first: bring the credits of rooms a killed writer left
    behind up to date (:func:`liveworth.store.ledger.settle`), then import every journal of
    ``journal_dir`` its checkpoint does not cover — one that grew, or a new file at a known path.
    Returns the journals imported."""
    done: list[str] = []
    with Store.open(db) as store:
        store.begin()
        ledger.settle(store.con)
        store.commit()
        if not journal_dir.is_dir():
            return done
        marks = {str(r[0]): (int(r[1]), r[2], r[3]) for r in store.query(
            "SELECT path, bytes_done, head_bytes, head_sha256 FROM journal_files")}
        for path in sorted(journal_dir.glob(f"*{JOURNAL_SUFFIX}")):
            size = path.stat().st_size
            if not _stored_already(path, size, marks.get(str(path.resolve()))):
                import_paths(store, [path], "journal")
                store.begin()
                checkpoint(store, path, size)
                store.commit()
                done.append(str(path))
    return done

"""Which recorder records which creator: rendezvous (highest-random-weight) hashing.

Each creator goes to the shard, of ``1..N``, with the highest weight ``SHA-256(shard, creator)``
(the creator case-folded, as TikTok's @unique_ids are). The weights never depend on N, so adding
shard N+1 moves only the creators whose weight for N+1 beats their old shard's (they move to it),
and removing a shard moves only its own creators. The hash is :mod:`hashlib`'s, not Python's
``hash()``, so every machine and every run agrees.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from liveworth.errors import UsageError

#: The most shards ``--shard`` and ``shard --of`` take.
MAX_SHARDS = 10_000
_SPEC = re.compile(r"([0-9]{1,5})/([0-9]{1,5})")


def weight(shard: int, creator: str) -> int:
    digest = hashlib.sha256(f"liveworth shard\x00{shard}\x00{creator.casefold()}".encode())
    return int.from_bytes(digest.digest()[:8], "big")


def shard_of(creator: str, shards: int) -> int:
    """The shard (1..``shards``) that records ``creator``."""
    return max(range(1, shards + 1), key=lambda k: (weight(k, creator), -k))


def assignment(creators: Iterable[str], shards: int) -> dict[str, int]:
    """Each creator (first spelling kept, case-insensitive duplicates once) → its shard."""
    out: dict[str, int] = {}
    seen: set[str] = set()
    for c in creators:
        if c.casefold() not in seen:
            seen.add(c.casefold())
            out[c] = shard_of(c, shards)
    return out


def check_count(n: int) -> int:
    if not 1 <= n <= MAX_SHARDS:
        raise UsageError(f"the number of shards must lie between 1 and {MAX_SHARDS:,}: {n}")
    return n


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (shard K of N, 1 ≤ K ≤ N) as ``(K, N)``; a :class:`UsageError` otherwise."""
    m = _SPEC.fullmatch(text.strip())
    if not m:
        raise UsageError(f"--shard: expected K/N, shard K of N (e.g. 2/5): {text[:40]!r}")
    k, n = int(m.group(1)), int(m.group(2))
    check_count(n)
    if not 1 <= k <= n:
        raise UsageError(f"--shard {k}/{n}: K must lie between 1 and N ({n})")
    return k, n

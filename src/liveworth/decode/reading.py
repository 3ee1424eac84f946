"""Reading the bytes of raw inputs, gzip-compressed or plain, keeping what a damaged stream held.

Gzip is recognised by its magic bytes, whatever the file's name. :class:`GzipStream` returns every
byte before damage and says what went wrong (:func:`gzip_damage`), so readers can keep the valid
part of a cut file and report the rest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from liveworth.errors import InputFormatError

_GZIP_MAGIC: Final = b"\x1f\x8b"


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == _GZIP_MAGIC


class GzipStream(io.RawIOBase):
    """Gzip decompression that keeps what it could read when the data is cut short or damaged.

    :func:`gzip.open` raises on a truncated or corrupt stream and loses the data it had
    decompressed in that read. This reader returns every byte before the damage, then ends (EOF)
    and says what went wrong in :attr:`damage` (``None`` for a sound file). Concatenated gzip
    members are read one after another, as ``gzip`` does.
    """

    CHUNK = 64 * 1024

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False
        self._started = False  # a member has begun (its header read)
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            self._pending = self._next()
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _next(self) -> bytes:
        chunk = self._d.unused_data if self._d.eof else self._raw.read(self.CHUNK)
        if self._d.eof:
            if not chunk.strip(b"\0"):
                chunk = self._raw.read(self.CHUNK)
                if not chunk.strip(b"\0"):  # end of the last member (zero padding is allowed)
                    self._done = True
                    return b""
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = False
        if not chunk:
            self._done = True
            if self._started or not self._d.eof:
                self.damage = "damaged gzip (cut short)"
            return b""
        self._started = True
        saved = self._d.copy()
        try:
            return self._d.decompress(chunk)
        except zlib.error as exc:  # keep what comes before the bad spot, in small steps
            self._d, out = saved, []
            for i in range(0, len(chunk), 256):
                try:
                    out.append(self._d.decompress(chunk[i:i + 256]))
                except zlib.error:
                    break
            self._done = True
            self.damage = f"damaged gzip ({exc})"
            return b"".join(out)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def gzip_damage(f: IO[bytes] | io.BufferedIOBase) -> str | None:
    """What :class:`GzipStream` found wrong under ``f`` (``None`` when sound or not gzip)."""
    raw = getattr(f, "raw", f)
    return raw.damage if isinstance(raw, GzipStream) else None


def open_binary(path: Path) -> io.BufferedReader:
    """``path`` opened for binary reading, decompressing when it is gzip (see
    :class:`GzipStream`: a damaged stream ends early, with :func:`gzip_damage` saying why)."""
    if _is_gzip(path):
        return io.BufferedReader(GzipStream(path.open("rb")), 1 << 20)
    return path.open("rb")


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[io.BufferedReader]:
    """Open ``path`` for binary reading (gzip or plain); read errors raise InputFormatError."""
    try:
        with open_binary(path) as f:
            yield f
    except OSError as exc:
        raise InputFormatError(f"cannot read ({exc.strerror or exc})", where=str(path)) from None


def _read_all(path: Path, limit: int | None = None) -> bytes:
    """The whole (decompressed) content of ``path``; damaged gzip, or content longer than
    ``limit`` bytes (never read whole), raises InputFormatError."""
    with _reading(path) as f:
        data = f.read() if limit is None else f.read(limit + 1)
        if limit is not None and len(data) > limit:
            raise InputFormatError(f"more than {limit:,} bytes: not one WebcastResponse "
                                   "frame", where=str(path))
        damage = gzip_damage(f)
    if damage:
        raise InputFormatError(damage, where=str(path))
    return data


def _b64(value: object) -> bytes:
    """Strict base64 decoding; raises ValueError with a short reason."""
    if not isinstance(value, str):
        raise ValueError("payload is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("bad base64") from None

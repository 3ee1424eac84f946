"""Coverage-guided fuzzing with atheris (libFuzzer) of what reads untrusted bytes.

    python faults/atheris_fuzz.py -runs=N -seed=S [libFuzzer options]

One input drives one of: ``webcast.decode_message`` (any method the decoder reads, on the rest
of the input as payload), ``webcast.decode_response`` (a whole frame), ``events.event_from_dict``
(the input as a JSON line) and ``rawsources.parse_dump_ts`` (the input as a dump's time).
Allowed outcomes: events, ``LiveworthError`` (``DecodeError`` is one), and for JSON and times
``ValueError``/``RecursionError`` raised before liveworth sees the data. Anything else is a
crash: atheris prints it and exits non-zero, leaving the input under ``-artifact_prefix``.
The real dumps' payloads seed the corpus, so mutation starts from real messages.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from liveworth.decode import webcast
    from liveworth.decode.events import event_from_dict
    from liveworth.decode.rawsources import parse_dump_ts
    from liveworth.errors import LiveworthError

METHODS = sorted(webcast.SUPPORTED_METHODS)
DUMPS = Path(__file__).resolve().parents[1] / "tests" / "data" / "real" / "webcast_dumps"


def target(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 3)
    if which == 0:
        method = METHODS[fdp.ConsumeIntInRange(0, len(METHODS) - 1)]
        with contextlib.suppress(LiveworthError):
            webcast.decode_message(method, fdp.ConsumeBytes(fdp.remaining_bytes()),
                                   arrival_ms=1_700_000_000_000)
    elif which == 1:
        with contextlib.suppress(LiveworthError):
            webcast.decode_response(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif which == 2:
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return
        with contextlib.suppress(LiveworthError):
            event_from_dict(obj, "fuzz:1")
    else:
        with contextlib.suppress(ValueError):
            parse_dump_ts(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))


def seed_corpus() -> str:
    """A directory of real payloads (mutation starts from real messages)."""
    out = Path(tempfile.mkdtemp(prefix="liveworth-atheris-"))
    n = 0
    for dump in sorted(DUMPS.glob("*.json.gz"))[:2]:
        with gzip.open(dump, "rt", encoding="utf-8") as f:
            data = json.load(f)
        for method, entries in data.items():
            if method not in METHODS:
                continue
            for entry in entries[:5]:
                payload = base64.b64decode(entry["eventData"])
                (out / f"seed{n}").write_bytes(bytes([0, METHODS.index(method)]) + payload)
                n += 1
    return str(out)


if __name__ == "__main__":
    atheris.Setup([*sys.argv, seed_corpus()], target)
    atheris.Fuzz()

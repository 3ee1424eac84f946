"""What every row of `make bench` shares: the table row, timing, the data files and the real
messages the live rows replay."""

from __future__ import annotations

import codecs
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
DUMPS = ROOT / "tests" / "data" / "real" / "webcast_dumps"
sys.path.insert(0, str(ROOT / "src"))

from liveworth.decode import webcast  # noqa: E402
from liveworth.decode.rawsources import RawMessage, iter_dump  # noqa: E402
from liveworth.model.generative import ModelParams  # noqa: E402
from liveworth.model.simulate import simulate  # noqa: E402


@dataclass
class Row:
    n: int | str
    what: str
    ours: str
    theirs: str
    ratio: str
    target: str
    met: str


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---------------------------------------------------------------------------- data


def events_file(target: int, seed: int = 7) -> Path:
    """A JSONL file of about ``target`` events: one big simulated LIVE (cached).

    Each part's lines come from the simulator's column writer
    (:meth:`~liveworth.model.simulate.SimulatedSession.write_jsonl`, byte for byte its events'
    JSON), with the part in the message id and the text ASCII-escaped as ``json.dumps`` does by
    default: the file the per-event loop wrote before, several times faster.
    """
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"session-{target}.jsonl"
    if path.exists():
        return path
    params = ModelParams.from_prior()
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("wb") as f:
        part = 0
        while written < target:
            # One room: parts are consecutive half-hours of the same LIVE (the simulator takes
            # at most 2 M viewer-minutes a session).
            sim = simulate(params, followers=4_300_000, viewers=60_000, minutes=30, rng=rng,
                           room_id="bench-room", host="bench_creator",
                           start_ts=1_700_000_000_000 + part * 1_800_000)
            buf = io.StringIO()
            sim.write_jsonl(buf)
            lines = buf.getvalue().split("\n")[:-1][: target - written]
            block = "\n".join(lines).replace('"msg_id":"', f'"msg_id":"{part}-') + "\n"
            f.write(block.encode("ascii", "json-ascii"))
            written += len(lines)
            part += 1
    tmp.rename(path)
    return path


def _json_ascii(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: non-ASCII text as JSON's ``\\uXXXX`` escapes, as ``json.dumps``
    writes them by default (surrogate pairs beyond the BMP)."""
    assert isinstance(error, UnicodeEncodeError)
    return json.dumps(error.object[error.start:error.end])[1:-1], error.end


codecs.register_error("json-ascii", _json_ascii)


def with_msg_id(msg: RawMessage, msg_id: int, room_id: str, arrival_ms: int,
                host: str, cycle: int = 0) -> RawMessage:
    """A real message re-stamped with a new message id and room (so it is not a duplicate);
    ``cycle`` > 0 (a later pass over the same messages) gives its gift streaks new ids, as a
    live room has new streaks, not the same ones growing for ever."""
    m = webcast._parse(msg.method, msg.payload)
    m.common.msgId = msg_id
    m.common.roomId = int(room_id)
    if cycle and msg.method == "WebcastGiftMessage" and m.groupId:
        m.groupId = m.groupId + cycle * 10**15  # each pass over the messages: new streaks
    return RawMessage(msg.method, m.SerializeToString(), room_id, arrival_ms, host)


def real_messages() -> list[RawMessage]:
    out = []
    for p in sorted(DUMPS.glob("*.json.gz")):
        out.extend(m for m in iter_dump(p) if isinstance(m, RawMessage)
                   and m.method in webcast.SUPPORTED_METHODS)
    return out

"""3. Bad input: fuzz the decoder, the importers, the config loader and the command line.

Property-based (hypothesis, seeded, no shrinking: every finding is kept with its input):

- **decoder** — ``webcast.decode_message`` / ``decode_response`` on random bytes and on mutated
  real payloads (bit flips, cuts, insertions, oversized varints, splices): only ``DecodeError``
  or events; and every event decoded must be valid event format v1 (what ``export`` writes and
  ``import`` reads back);
- **event JSONL importer** — files mixing valid events with hostile lines (wrong types, missing
  fields, numbers out of range, negative counts, NUL characters, invalid UTF-8, deep nesting,
  lines over 1 MiB, duplicated keys, truncated lines): the SQL fast path must agree line by line
  with the Python authority (``events.event_from_dict``): the same lines accepted, the same values
  stored, every valid line imported next to the bad ones;
- **dump and journal importers** — valid real entries or lines next to hostile ones, and whole
  files truncated, re-encoded (UTF-16, Latin-1), NUL-filled, deeply nested: either a clear
  ``LiveworthError`` for a file that cannot be read at all, or every valid message imported;
- **config loader** — random TOML (and broken TOML) through ``read_config`` and
  ``load_rate_card``, and the card through the money model as the CLI uses it: a
  ``LiveworthError`` or a usable card;
- **command line** — random argv through ``liveworth.cli.main`` in a separate, memory-capped
  process (``faults/cli_fuzz.py``): exit status 0, 1 or 2, never a traceback, never an
  "internal error";
- **atheris** (coverage-guided, when ``pip install atheris`` works): the decoder, the event
  validator and the dump time parser (``faults/atheris_fuzz.py``).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import gzip
import json
import random
import subprocess
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from faults.common import DUMPS, PY, ROOT, Ctx, Figure, at_least, cli_env, info, skip, zero
from liveworth.decode import webcast
from liveworth.decode.events import MAX_INT, Event, event_from_dict, event_to_dict
from liveworth.decode.rawsources import RawMessage, decode_raw, iter_dump
from liveworth.economy.money import coins_for_usd, earnings, payout_plan
from liveworth.economy.ratecard import PARAMETERS, load_rate_card, read_config
from liveworth.errors import DecodeError, LiveworthError
from liveworth.ingest.importer import MAX_LINE, import_paths
from liveworth.store.database import EVENT_COLUMNS, Store, events_table

SCENARIO = "3. bad input (fuzzing)"


# ---------------------------------------------------------------------------- bookkeeping


@dataclass
class Findings:
    """Examples run and unexpected outcomes, per target, each with a short reproduction."""

    examples: collections.Counter[str] = field(default_factory=collections.Counter)
    problems: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    notes: collections.Counter[str] = field(default_factory=collections.Counter)

    def ran(self, target: str) -> None:
        self.examples[target] += 1

    def bad(self, target: str, what: str, repro: Any) -> None:
        text = repr(repro)
        self.problems[target].append(f"{what} ← {text[:300]}{'…' if len(text) > 300 else ''}")

    def count(self, target: str) -> int:
        return len(self.problems.get(target, []))

    def first(self, target: str, n: int = 2) -> str:
        seen: dict[str, str] = {}
        for p in self.problems.get(target, []):
            seen.setdefault(p.split(" ← ")[0][:80], p)
        return " | ".join(list(seen.values())[:n])


def _settings(examples: int, rng_seed: int) -> Callable[[Any], Any]:
    def wrap(fn: Any) -> Any:
        return seed(rng_seed)(settings(
            max_examples=examples, database=None, deadline=None, derandomize=False,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )(fn))
    return wrap


def _why(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


# ---------------------------------------------------------------------------- the decoder


def real_payloads() -> dict[str, list[bytes]]:
    """Real payloads of every method the decoder reads, from the dumps."""
    out: dict[str, list[bytes]] = collections.defaultdict(list)
    for dump in sorted(DUMPS.glob("*.json.gz")):
        with gzip.open(dump, "rt", encoding="utf-8") as f:
            data = json.load(f)
        for method, entries in data.items():
            if method in webcast.SUPPORTED_METHODS:
                out[method] += [base64.b64decode(e["eventData"]) for e in entries]
    return out


def event_problem(ev: Event) -> str | None:
    """Why a decoded event is not valid event format v1 (None when it is)."""
    try:
        back = event_from_dict(json.loads(json.dumps(event_to_dict(ev))))
    except LiveworthError as exc:
        return f"decoded event not valid format v1: {exc}"
    if back != ev:
        return "decoded event changes through export and import"
    return None


def _mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, a, b, blob in ops:
        if not buf:
            buf = bytearray(blob)
            continue
        i = a % len(buf)
        if kind == 0:  # flip a bit
            buf[i] ^= 1 << (b % 8)
        elif kind == 1:  # cut
            del buf[i:]
        elif kind == 2:  # insert bytes
            buf[i:i] = blob
        elif kind == 3:  # delete a range
            del buf[i:i + 1 + b % 16]
        elif kind == 4:  # an oversized varint (11 bytes of continuation)
            buf[i:i] = b"\xff" * 10 + b"\x01"
        elif kind == 5:  # duplicate a slice
            buf[i:i] = buf[i:i + 1 + b % 32]
        else:  # a field header with a huge length
            buf[i:i] = bytes([0x0A]) + b"\xff\xff\xff\xff\x0f"
    return bytes(buf)


MUTATIONS = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 255),
                               st.binary(min_size=1, max_size=24)), min_size=1, max_size=6)


def _check_decode(found: Findings, target: str, method: str, payload: bytes,
                  room: str | None, arrival: int | None) -> None:
    found.ran(target)
    try:
        if method == webcast.RESPONSE_METHOD:
            events = webcast.decode_response(payload, room_id=room, arrival_ms=arrival)
        else:
            events = webcast.decode_message(method, payload, room_id=room, arrival_ms=arrival)
    except DecodeError:
        found.notes[f"{target}: DecodeError"] += 1
        return
    except Exception as exc:
        found.bad(target, _why(exc), (method, payload))
        return
    found.notes[f"{target}: decoded"] += 1
    for ev in events:
        problem = event_problem(ev)
        if problem:
            found.bad(f"{target} (format v1)", problem, (method, payload))
            return


def fuzz_decoder(found: Findings, examples: int, rng_seed: int) -> None:
    payloads = real_payloads()
    methods = [*sorted(webcast.SUPPORTED_METHODS), webcast.RESPONSE_METHOD,
               "WebcastUnknownMessage"]
    rooms = st.none() | st.integers(1, 2**63).map(str)
    arrivals = st.none() | st.integers(0, MAX_INT)

    @_settings(examples, rng_seed)
    @given(st.sampled_from(methods), st.binary(max_size=400), rooms, arrivals)
    def random_bytes(method: str, payload: bytes, room: str | None,
                     arrival: int | None) -> None:
        _check_decode(found, "decoder: random bytes", method, payload, room, arrival)

    @_settings(examples, rng_seed + 1)
    @given(st.sampled_from(sorted(payloads)), st.integers(0, 10**6), MUTATIONS, rooms,
           arrivals)
    def mutated(method: str, pick: int, ops: list[tuple[int, int, int, bytes]],
                room: str | None, arrival: int | None) -> None:
        real = payloads[method][pick % len(payloads[method])]
        _check_decode(found, "decoder: mutated real payloads", method, _mutate(real, ops),
                      room, arrival)

    @_settings(max(10, examples // 2), rng_seed + 2)
    @given(st.lists(st.tuples(st.sampled_from(sorted(payloads)), st.integers(0, 10**6),
                              st.integers(-2**63, 2**63 - 1)), min_size=1, max_size=8),
           MUTATIONS, st.integers(0, 2**63 - 1))
    def frames(picks: list[tuple[str, int, int]], ops: list[tuple[int, int, int, bytes]],
               now: int) -> None:
        msgs = [(m, payloads[m][i % len(payloads[m])], mid) for m, i, mid in picks]
        frame = _mutate(webcast.encode_response(msgs, now_ms=now), ops)
        _check_decode(found, "decoder: mutated response frames", webcast.RESPONSE_METHOD,
                      frame, None, None)

    random_bytes()
    mutated()
    frames()


# ---------------------------------------------------------------------------- event JSONL

_TYPES = ("live_start", "live_end", "gift", "comment", "like", "join", "follow", "share",
          "viewers", "battle")
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", "a\x00b", "<script>alert(1)</script>", "💎" * 3, "\u202e", "0", "-0", "\ufeff"])
_INTS = (st.integers(-5, 10**6) | st.sampled_from([0, -1, MAX_INT, MAX_INT + 1, -MAX_INT - 1,
                                                   2**63, -2**63 - 1, 2**64]))
_IDS = st.integers(0, 10**12).map(str) | _TEXT


def _event_dict(kind: str, i: int, draw: Callable[[Any], Any]) -> dict[str, Any]:
    ev: dict[str, Any] = {"v": 1, "type": kind, "room_id": "r1", "ts": draw(
        st.integers(0, 2 * 10**12)), "msg_id": f"m{i}"}
    who = {"user_id": draw(_IDS), "user": draw(_TEXT), "nickname": draw(_TEXT)}
    if kind == "live_start":
        ev.update(host_id=draw(_IDS), host=draw(_TEXT))
    elif kind == "gift":
        ev.update(who, gift_id=draw(st.integers(1, 10**6)), gift_name=draw(_TEXT),
                  coins=draw(st.integers(0, 50_000)), gift_type=draw(st.sampled_from([1, 2])),
                  repeat_count=draw(st.integers(1, 500)), repeat_end=draw(st.booleans()),
                  group_id=draw(_IDS))
    elif kind == "comment":
        ev.update(who, text=draw(_TEXT))
    elif kind == "like":
        ev.update(who, count=draw(st.integers(0, 100)))
    elif kind in ("join", "follow", "share"):
        ev.update(who)
    elif kind == "viewers":
        ev.update(current=draw(st.integers(0, 10**6)))
    elif kind == "battle":
        ev.update(battle_id=draw(_IDS))
    return ev


_NASTY_VALUES = st.sampled_from([None, "", "soon", 1.5, 1e400, -1, -10**6, 2**53 + 1, 2**63,
                                 True, [], {}, [1, [2, [3]]], {"a": {"b": 1}}, "\x00", "12",
                                 "-7", "1e3", " 5"]) | _INTS


def _mutate_dict(ev: dict[str, Any], draw: Callable[[Any], Any]) -> dict[str, Any]:
    ev = dict(ev)
    keys = [k for k in ev if k != "msg_id"]
    how = draw(st.integers(0, 4))
    if how == 0:
        ev.pop(draw(st.sampled_from(keys)))
    elif how in (1, 2):
        ev[draw(st.sampled_from(keys))] = draw(_NASTY_VALUES)
    elif how == 3:
        ev[draw(st.sampled_from(["extra", "x", "host", "teams", "💎"]))] = draw(
            _NASTY_VALUES | st.just({"deep": [[[[{"x": 1}]]]]}))
    else:
        ev["type"] = draw(st.sampled_from([*_TYPES, "unknown", "", "GIFT"]))
    return ev


def _raw_mutation(line: bytes, draw: Callable[[Any], Any], known_bugs: bool) -> bytes:
    kinds = ["cut", "badutf8", "nul", "bom", "crlf", "nest", "garbage", "latin1", "dupkey"]
    kind = draw(st.sampled_from(kinds))
    if kind == "cut":
        return line[:draw(st.integers(0, max(0, len(line) - 2)))] + b"\n"
    if kind == "badutf8":
        at = draw(st.integers(0, len(line) - 1))
        return line[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + line[at:]
    if kind == "nul":
        at = draw(st.integers(0, len(line) - 1))
        return line[:at] + b"\x00" + line[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + line
    if kind == "crlf":
        return line.rstrip(b"\n") + b"\r\n"
    if kind == "nest":
        depth = draw(st.sampled_from([50, 2000, 100_000]))
        return line.rstrip(b"}\n") + b',"deep":' + b"[" * depth + b"]" * depth + b"}\n"
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=40)).replace(b"\n", b" ") + b"\n"
    if kind == "latin1":
        return line.rstrip(b"}\n") + b',"note":"Jos\xe9"}\n'
    # a key given twice with different values: which one counts?
    obj = json.loads(line)
    key = draw(st.sampled_from([k for k in ("coins", "repeat_count", "count", "current", "ts",
                                            "user_id") if k in obj] or ["ts"]))
    other = draw(st.sampled_from([-7, 0, 123_456, "x"]))
    return line.rstrip(b"}\n") + f',"{key}":{json.dumps(other)}'.encode() + b"}\n"


def _has_duplicate_keys(text: str) -> bool:
    dup = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal dup
        keys = [k for k, _ in pairs]
        dup = dup or len(keys) != len(set(keys))
        return dict(pairs)

    with contextlib.suppress(ValueError, RecursionError):
        json.loads(text, object_pairs_hook=hook)
    return dup


def reference(lines: list[bytes]) -> tuple[dict[tuple[str, str], Event],
                                           set[tuple[str, str]]]:
    """What event format v1 accepts, line by line (the Python authority, docs/EVENTS.md); and
    the keys of lines that give some key twice (JSON leaves their meaning open)."""
    out: dict[tuple[str, str], Event] = {}
    twice: set[tuple[str, str]] = set()
    for i, line in enumerate(lines):
        if i == 0:  # a byte order mark is no part of the first line (docs/EVENTS.md)
            line = line.removeprefix(b"\xef\xbb\xbf")
        if len(line) > MAX_LINE or not line.strip():
            continue
        text = line.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if _has_duplicate_keys(text) and isinstance(obj, dict):
            twice.add((str(obj.get("room_id")), str(obj.get("msg_id"))))
            continue  # format v1 rejects a line that gives a key twice (docs/EVENTS.md)
        try:
            ev = event_from_dict(obj)
        except LiveworthError:
            continue
        out.setdefault((ev.room_id, ev.msg_id), ev)
    return out, twice


def _rows(events: dict[tuple[str, str], Event]) -> dict[tuple[str, str], tuple[Any, ...]]:
    if not events:
        return {}
    table = events_table(list(events.values())).to_pylist()
    return {(r["room_id"], r["msg_id"]): tuple(r[n] for n, _, _ in EVENT_COLUMNS)
            for r in table}


DUPLICATE_KEYS = "importer: event JSONL, lines giving a key twice"


def check_jsonl(found: Findings, target: str, lines: list[bytes], work: Path) -> None:
    found.ran(target)
    path = work / "fuzz.jsonl"
    path.write_bytes(b"".join(lines))
    events, twice = reference(lines)
    want = _rows(events)
    try:
        with Store.open(":memory:") as store:
            result = import_paths(store, [path], "events")
            cols = ", ".join(f'"{n}"' for n, _, _ in EVENT_COLUMNS)
            got = {(r[0], r[1]): tuple(r) for r in store.query(f"SELECT {cols} FROM events")}
    except LiveworthError as exc:
        found.bad(target, f"the whole file refused: {_why(exc)}", lines)
        return
    except Exception as exc:
        found.bad(target, _why(exc), lines)
        return
    found.notes["lines with invalid UTF-8 accepted with U+FFFD"] += sum(
        1 for k, row in got.items() if any(isinstance(v, str) and "\ufffd" in v for v in row))
    problems: dict[str, list[str]] = collections.defaultdict(list)
    for k in set(want) | set(got):
        where = DUPLICATE_KEYS if k in twice else target
        if k not in got:
            problems[where].append("a valid line not imported")
        elif k not in want:
            problems[where].append("a line imported that format v1 rejects")
        elif want[k] != got[k]:
            diff = {n: (w, g) for (n, _, _), w, g in zip(EVENT_COLUMNS, want[k], got[k],
                                                          strict=True) if w != g}
            problems[where].append(f"stored with other values than format v1 reads "
                                   f"(format v1, stored): {diff}")
    for where, items in problems.items():
        found.bad(where, f"{len(items)} line(s): {items[0]}", lines)
    if twice:
        found.ran(DUPLICATE_KEYS)
    found.notes["JSONL lines rejected"] += result.rejected


def fuzz_jsonl(found: Findings, examples: int, rng_seed: int, work: Path,
               known_bugs: bool = True) -> None:
    @_settings(examples, rng_seed + 10)
    @given(st.data())
    def files(data: st.DataObject) -> None:
        draw = data.draw
        lines: list[bytes] = []
        for i in range(draw(st.integers(1, 12))):
            ev = _event_dict(draw(st.sampled_from(_TYPES)), i, draw)
            kind = draw(st.integers(0, 5))
            if kind == 1:
                ev = _mutate_dict(ev, draw)
            line = (json.dumps(ev, ensure_ascii=draw(st.booleans())) + "\n").encode()
            if kind == 2:
                line = _raw_mutation(line, draw, known_bugs)
            lines.append(line)
        if draw(st.integers(0, 30)) == 0:  # a line over the 1 MiB limit
            lines.insert(draw(st.integers(0, len(lines))), b'{"pad":"' + b"x" * MAX_LINE +
                         b'"}\n')
        if draw(st.booleans()):  # the last line without its newline
            lines[-1] = lines[-1].rstrip(b"\n")
        check_jsonl(found, "importer: event JSONL (fast path vs format v1)", lines, work)

    files()
    duplicate_keys(found, work)


def duplicate_keys(found: Findings, work: Path) -> None:
    """Lines that give a key twice (valid JSON; Python's reader keeps the last value)."""
    base = {"v": 1, "type": "gift", "room_id": "r1", "ts": 1_700_000_000_000, "user_id": "1",
            "user": "a", "nickname": "a", "gift_id": 5655, "gift_name": "Rose", "coins": 5,
            "gift_type": 2, "repeat_count": 1, "repeat_end": True, "group_id": "g"}
    lines = []
    for i, (key, value) in enumerate((("coins", -7), ("coins", 30_000), ("repeat_count", 0),
                                      ("repeat_count", 99), ("ts", 5), ("type", "comment"),
                                      ("room_id", "r2"))):
        line = json.dumps({**base, "msg_id": f"d{i}"})
        lines.append(line[:-1].encode() + f', "{key}": {json.dumps(value)}}}\n'.encode())
    check_jsonl(found, DUPLICATE_KEYS, lines, work)


# ---------------------------------------------------------------------------- dumps and journals


def _real_entries() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for dump in sorted(DUMPS.glob("*.json.gz"))[:3]:
        with gzip.open(dump, "rt", encoding="utf-8") as f:
            for method, entries in json.load(f).items():
                out += [(method, e) for e in entries]
    return out


def _keys_of(messages: list[RawMessage]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for m in messages:
        try:
            keys.update((e.room_id, e.msg_id) for e in decode_raw(m))
        except LiveworthError:
            continue
    return keys


def _imported(path: Path) -> tuple[set[tuple[str, str]] | None, str | None]:
    """Event keys imported from ``path``; or the clear error that refused the whole file."""
    with Store.open(":memory:") as store:
        try:
            import_paths(store, [path])
        except LiveworthError as exc:
            return None, _why(exc)
        return {(r[0], r[1]) for r in store.query("SELECT room_id, msg_id FROM events")}, None


_BAD_ENTRIES = st.sampled_from([
    "not an object", 17, None, [], {}, {"eventData": 5, "ts": "2023-10-04 12:00:00"},
    {"eventData": "!!notbase64!!", "ts": "2023-10-04 12:00:00"},
    {"eventData": "", "ts": "2023-10-04 12:00:00"},
    {"eventData": "AAAA", "ts": "yesterday"}, {"eventData": "AAAA"},
    {"eventData": "CgA=", "ts": "0000-00-00 00:00:00"},
    {"eventData": "CgA=", "ts": "1969-12-31 23:59:59"},
    {"eventData": "CgA=", "ts": "2023-13-45 99:99:99"},
    {"eventData": "CgA=", "ts": "2023-10-04 12:00:00", "uniqueId": {"x": 1}},
    {"eventData": "\x00\x00", "ts": "\x00"},
    {"eventData": "CgA=", "ts": "9999-12-31 23:59:59.999999999+23:59"},
])


def fuzz_dumps(found: Findings, examples: int, rng_seed: int, work: Path) -> None:
    entries = _real_entries()
    target = "importer: webcast dumps (valid next to bad)"

    @_settings(examples, rng_seed + 20)
    @given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**6), _BAD_ENTRIES), min_size=1,
                    max_size=25), MUTATIONS, st.booleans())
    def dumps(picks: list[tuple[bool, int, Any]], ops: list[tuple[int, int, int, bytes]],
              mutate_payloads: bool) -> None:
        found.ran(target)
        data: dict[str, list[Any]] = collections.defaultdict(list)
        valid: list[RawMessage] = []
        for good, i, bad in picks:
            method, entry = entries[i % len(entries)]
            if good:
                entry = dict(entry)
                if mutate_payloads:
                    entry["eventData"] = base64.b64encode(
                        _mutate(base64.b64decode(entry["eventData"]), ops)).decode()
                data[method].append(entry)
            else:
                data[method].append(bad)
        path = work / "fuzz-dump.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            valid = [m for m in iter_dump(path) if isinstance(m, RawMessage)]
            keys, error = _imported(path)
        except Exception as exc:
            found.bad(target, _why(exc), dict(data))
            return
        if error is not None:
            found.bad(target, f"whole dump refused: {error}", dict(data))
        elif keys != _keys_of(valid):
            found.bad(target, "valid entries not all imported", dict(data))

    dumps()


_GOOD_LINE = json.dumps({"v": 1, "arrival_ms": 1_700_000_000_000, "room_id": "7", "host": "h",
                         "method": "WebcastChatMessage", "payload": ""})


def fuzz_journals(found: Findings, examples: int, rng_seed: int, work: Path,
                  known_bugs: bool = True) -> None:
    entries = _real_entries()
    target = "importer: raw journals (valid next to bad)"
    bad_lines = [b"garbage", b"{", b"[]", b'{"v":2}', b"\x00\x00\x00", b"\xff\xfe{}",
                 _GOOD_LINE.replace('"v": 1', '"v": "1"').encode(),
                 _GOOD_LINE.replace("1700000000000", "-1").encode(),
                 _GOOD_LINE.replace("1700000000000", "1.5").encode(),
                 _GOOD_LINE.replace('"WebcastChatMessage"', '""').encode(),
                 _GOOD_LINE.replace('"payload": ""', '"payload": "@@@"').encode(),
                 _GOOD_LINE.replace('"room_id": "7"', '"room_id": 7').encode(),
                 b'{"v":1,"arrival_ms":1,"method":"M","payload":"' + b"[" * 10_000 + b'"}',
                 b"[" * 100_000 + b"]" * 100_000,
                 _GOOD_LINE.replace("1700000000000", str(2**70)).encode()]  # beyond 2**53

    @_settings(examples, rng_seed + 30)
    @given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**6),
                              st.sampled_from(bad_lines) | st.binary(max_size=30)),
                    min_size=1, max_size=25), st.booleans(), st.booleans())
    def journals(picks: list[tuple[bool, int, bytes]], torn: bool, crlf: bool) -> None:
        found.ran(target)
        lines: list[bytes] = []
        valid: list[RawMessage] = []
        for good, i, bad in picks:
            if good:
                method, entry = entries[i % len(entries)]
                msg = RawMessage(method, base64.b64decode(entry["eventData"]), None,
                                 1_700_000_000_000 + i, "h")
                valid.append(msg)
                lines.append(json.dumps({"v": 1, "arrival_ms": msg.arrival_ms, "room_id": None,
                                         "host": "h", "method": method,
                                         "payload": entry["eventData"]}).encode())
            else:
                lines.append(bad.replace(b"\n", b" "))
        end = b"\r\n" if crlf else b"\n"
        body = end.join(lines) + (b"" if torn else end)
        path = work / "fuzz.journal.jsonl"
        path.write_bytes(body)
        try:
            keys, error = _imported(path)
        except Exception as exc:
            found.bad(target, _why(exc), body[:400])
            return
        if error is not None:
            if lines and lines[0].lstrip().startswith(b"{"):
                found.notes["journals not recognised as journals (first line unreadable)"] += 1
            return
        if keys != _keys_of(valid):
            found.bad(target, "valid lines not all imported", body[:400])

    journals()


def whole_files(found: Findings, work: Path) -> None:
    """Files that cannot be read at all: a clear LiveworthError, never another exception."""
    target = "importer: whole damaged files"
    dump = sorted(DUMPS.glob("*.json.gz"))[0]
    raw = dump.read_bytes()
    plain = gzip.decompress(raw)
    rng = random.Random(5)
    cases: dict[str, bytes] = {
        "empty file": b"",
        "only whitespace": b" \n\n\t\n",
        "NUL bytes": b"\x00" * 5000,
        "UTF-16 dump": plain.decode("utf-8").encode("utf-16"),
        "UTF-16 events": '{"v":1,"type":"live_end","room_id":"r","ts":1,"msg_id":"m"}\n'.encode(
            "utf-16"),
        "Latin-1 events": b'{"v":1,"type":"comment","room_id":"r","ts":1,"msg_id":"m",'
                          b'"user_id":"1","user":"a","nickname":"Jos\xe9","text":"\xe9"}\n',
        "deeply nested dump": b'{"WebcastChatMessage":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        "dump of the wrong shape": b'{"WebcastChatMessage": {"eventData": "x"}}',
        "a JSON array": b"[1, 2, 3]",
        "huge single line": b'{"v":1,"type":"' + b"x" * (3 * MAX_LINE) + b'"}\n',
        "random bytes": bytes(rng.randrange(256) for _ in range(4096)),
        "gzip of garbage": gzip.compress(bytes(rng.randrange(256) for _ in range(4096))),
        "gzip header only": raw[:10],
    }
    for cut in (20, 100, len(raw) // 3, len(raw) // 2, len(raw) - 9):
        cases[f"gzip dump cut at byte {cut}"] = raw[:cut]
    corrupt = bytearray(raw)
    for i in range(200, len(corrupt), 997):
        corrupt[i] ^= 0x55
    cases["gzip dump with flipped bytes"] = bytes(corrupt)
    events = b"".join(json.dumps({"v": 1, "type": "live_end", "room_id": "r", "ts": i,
                                  "msg_id": f"m{i}"}).encode() + b"\n" for i in range(3000))
    gz = gzip.compress(events)
    cases["gzip events cut in the middle"] = gz[: len(gz) // 2]
    for name, content in cases.items():
        found.ran(target)
        path = work / "whole.bin"
        path.write_bytes(content)
        try:
            with Store.open(":memory:") as store:
                result = import_paths(store, [path])
            found.notes[f"whole file '{name}': imported {result.accepted}, rejected "
                        f"{result.rejected}"] += 1
        except LiveworthError as exc:
            found.notes[f"whole file '{name}': {_why(exc)[:90]}"] += 1
        except Exception as exc:
            found.bad(target, f"{name}: {_why(exc)}", name)
    truncated_gzip(found, work, gz)


def _readable(gz: bytes) -> bytes:
    """What a truncated gzip stream still gives, up to its last complete line."""
    data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(gz)
    return data[: data.rfind(b"\n") + 1]


def truncated_gzip(found: Findings, work: Path, events_gz: bytes) -> None:
    """Valid data before a damaged gzip tail (a copy cut short): is what can be read kept?"""
    target = "importer: gzip files cut short (readable lines kept)"
    messages = [RawMessage(m, base64.b64decode(e["eventData"]), None, 1_700_000_000_000 + i, "h")
                for i, (m, e) in enumerate(_real_entries()[:600])]
    journal = b"".join(json.dumps({"v": 1, "arrival_ms": m.arrival_ms, "room_id": None,
                                   "host": "h", "method": m.method,
                                   "payload": base64.b64encode(m.payload).decode()}).encode()
                       + b"\n" for m in messages)
    cases = {"event JSONL": events_gz, "raw journal": gzip.compress(journal)}
    for name, gz in cases.items():
        found.ran(target)
        cut = gz[: len(gz) * 3 // 4]
        readable = _readable(cut)
        path = work / f"cut-{name.replace(' ', '-')}.gz"
        path.write_bytes(cut)
        whole = work / f"whole-{name.replace(' ', '-')}.jsonl"
        whole.write_bytes(readable)
        try:
            got, error = _imported(path)
            want, _ = _imported(whole)
        except Exception as exc:
            found.bad(target, f"{name}: {_why(exc)}", name)
            continue
        kept = len(got or set())
        found.notes[f"{name} cut at 3/4: events kept"] = kept
        found.notes[f"{name} cut at 3/4: events readable"] = len(want or set())
        if kept < len(want or set()):
            found.bad(target, f"{name} cut at 3/4 of its gzip: {kept} of {len(want or set())} "
                              f"readable events imported" + (f" ({error})" if error else ""),
                      name)


# ---------------------------------------------------------------------------- config


def _toml_value(draw: Callable[[Any], Any], known_bugs: bool, depth: int = 0) -> str:
    # Non-finite and absurd values are always drawn: the rate card refuses them (issue #9).
    floats = ["0.5", "1.0", "-0.0", "1e308", "1e-400", "0.0", "3.14", "-2.5",
              "inf", "-inf", "nan", "+inf"]
    strings = ['"0.5"', '"1"', '"-1"', '""', '"abc"', '"1e5"', '"NaN"', '"Infinity"', '"0"',
               '" 0.25 "', '"1_000"', '"💎"',
               '"1e999999"', '"1e-999999"', '"99999999999999999999"', '"sNaN"']
    ints = ["0", "1", "-1", "70", "100", "9223372036854775807", "-9223372036854775808",
            "99999999999999999999999999"]
    choices = ["int", "float", "str", "bool", "date"] + (["array", "table"] if depth < 2 else [])
    kind = draw(st.sampled_from(choices))
    if kind == "int":
        return str(draw(st.sampled_from(ints)))
    if kind == "float":
        return str(draw(st.sampled_from(floats)))
    if kind == "str":
        return str(draw(st.sampled_from(strings)))
    if kind == "bool":
        return str(draw(st.sampled_from(["true", "false"])))
    if kind == "date":
        return "1979-05-27T07:32:00Z"
    if kind == "array":
        n = draw(st.integers(0, 3))
        return "[" + ", ".join(_toml_value(draw, known_bugs, depth + 1) for _ in range(n)) + "]"
    n = draw(st.integers(0, 3))
    keys = draw(st.lists(st.sampled_from(["pack_usd", "pack_coins", "a", "help"]), min_size=n,
                         max_size=n, unique=True))
    return "{" + ", ".join(f"{k} = {_toml_value(draw, known_bugs, depth + 1)}"
                           for k in keys) + "}"


PRESET_VALUES = ('"default"', '"us-scaled"', '"nope"', "5")
CHANNEL_VALUES = ('"web"', '"ios"', '"mine"', '"x"', '""', "[]")
GOOD_NUMBERS = ('"0.5"', '"1"', '"0.74"', "70", '"2.5"', '"0.25"', "1", "3", '"7.5"')


def _toml_doc(draw: Callable[[Any], Any], known_bugs: bool) -> str:
    """A config that mostly gets past the first checks (a good preset, known keys, both pack
    fields), so that hostile values reach the code behind them."""
    def value() -> str:
        if draw(st.integers(0, 2)) == 0:
            return str(draw(st.sampled_from(GOOD_NUMBERS)))
        return _toml_value(draw, known_bugs)

    out = []
    if draw(st.booleans()):
        pick = draw(st.integers(0, 9))
        out.append("preset = " + (PRESET_VALUES[pick % 2] if pick < 8 else
                                  draw(st.sampled_from(PRESET_VALUES))))
    if draw(st.integers(0, 3)) == 0:
        out.append("channel = " + draw(st.sampled_from(CHANNEL_VALUES)))
    if draw(st.integers(0, 9)) == 0:
        out.append(f"unknown = {_toml_value(draw, known_bugs)}")
    if draw(st.booleans()):
        out.append("[rates]")
        for key in draw(st.lists(st.sampled_from([*PARAMETERS, "bogus"]), min_size=1,
                                 max_size=4, unique=True)):
            out.append(f"{key} = {value()}")
    for name in draw(st.lists(st.sampled_from(["web", "mine", "x y"]), max_size=2, unique=True)):
        out.append(f'[channels."{name}"]')
        keys = ["pack_usd", "pack_coins"] if draw(st.integers(0, 4)) else []
        keys += draw(st.lists(st.sampled_from(["pack_usd", "pack_coins", "help", "source"]),
                              max_size=2, unique=True))
        for key in dict.fromkeys(keys):
            out.append(f"{key} = {value()}")
    text = "\n".join(out) + "\n"
    if draw(st.integers(0, 12)) == 0:  # broken TOML
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["=", "[", '"', "\x00", "\ufffd", "]]"])) + \
            text[cut:]
    return text


def use_card(config: dict[str, Any]) -> None:
    """What the CLI does with a config: load the card and compute money with it."""
    card = load_rate_card(config=config, config_name="fuzz.toml")
    _ = card.name
    for channel in card.channels:
        e = earnings(12_345, card, channel)
        e.as_dict()
        coins_for_usd(Decimal("19.99"), card, channel)
    payout_plan(Decimal("12345.67"), card, dt.date(2024, 1, 1))


def fuzz_config(found: Findings, examples: int, rng_seed: int, work: Path,
                known_bugs: bool = True) -> None:
    target = "config loader (random TOML → rate card → money)"

    @_settings(examples, rng_seed + 40)
    @given(st.data())
    def configs(data: st.DataObject) -> None:
        found.ran(target)
        text = _toml_doc(data.draw, known_bugs)
        path = work / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            use_card(read_config(path))
            found.notes["configs accepted"] += 1
        except LiveworthError:
            found.notes["configs refused with a clear error"] += 1
        except Exception as exc:
            found.bad(target, _why(exc), text)

    configs()


# ---------------------------------------------------------------------------- CLI and atheris


def fuzz_cli(ctx: Ctx, examples: int, work: Path, known_bugs: bool = True) -> dict[str, Any]:
    """Random argv in a separate process (``faults/cli_fuzz.py``); its JSON summary."""
    out = work / "cli-fuzz.json"
    cmd = [PY, str(ROOT / "faults" / "cli_fuzz.py"), "--examples", str(examples), "--seed",
           str(ctx.seed), "--work", str(work / "cli"), "--out", str(out)]
    if not known_bugs:
        cmd.append("--no-known-bugs")
    done = subprocess.run(cmd, env=cli_env(work), capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0 or not out.exists():
        return {"error": (done.stderr or done.stdout)[-800:]}
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _distinct_errors(items: list[str], n: int = 6) -> list[str]:
    """One example of each kind of error (told by what follows the arrow)."""
    seen: dict[str, str] = {}
    for it in items:
        seen.setdefault(it.split(" → ")[-1][:40], it)
    return list(seen.values())[:n]


def atheris_available() -> bool:
    done = subprocess.run([PY, "-c", "import atheris"], capture_output=True)
    return done.returncode == 0


def run_atheris(ctx: Ctx, runs: int, work: Path) -> dict[str, Any]:
    artifacts = work / "atheris"
    artifacts.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    done = subprocess.run([PY, str(ROOT / "faults" / "atheris_fuzz.py"), f"-runs={runs}",
                           f"-seed={ctx.seed}", f"-artifact_prefix={artifacts}/",
                           "-max_len=2048", "-rss_limit_mb=4096"],
                          env=cli_env(work), capture_output=True, text=True, timeout=1800)
    text = done.stdout + done.stderr
    crashed = done.returncode != 0
    executed = runs
    for line in text.splitlines():
        if line.startswith("Done ") and "runs" in line:
            executed = int(line.split()[1])
    return {"runs": executed, "crashed": crashed, "seconds": time.monotonic() - t0,
            "tail": "\n".join(ln for ln in text.splitlines()
                              if "Uncaught" in ln or "Error" in ln)[-600:]}


# ---------------------------------------------------------------------------- the scenario


def run(ctx: Ctx) -> list[Figure]:
    s = SCENARIO
    n = ctx.size(400, 40)
    found = Findings()
    work = ctx.dir("fuzz")
    t0 = time.monotonic()
    ctx.log(f"  fuzz: decoder ({n * 2 + n // 2} examples)")
    fuzz_decoder(found, n, ctx.seed)
    ctx.log(f"  fuzz: event JSONL importer ({n // 2} files)")
    fuzz_jsonl(found, n // 2, ctx.seed, work)
    ctx.log(f"  fuzz: dump and journal importers ({n // 4} files each), damaged files")
    fuzz_dumps(found, n // 4, ctx.seed, work)
    fuzz_journals(found, n // 4, ctx.seed, work)
    whole_files(found, work)
    ctx.log(f"  fuzz: config loader ({n} configs)")
    fuzz_config(found, n, ctx.seed, work)
    cli_n = ctx.size(800, 60)
    ctx.log(f"  fuzz: command line ({cli_n} argv, separate process)")
    cli = fuzz_cli(ctx, cli_n, work)
    out = []
    targets = ["decoder: random bytes", "decoder: mutated real payloads",
               "decoder: mutated response frames"]
    for t in targets:
        out.append(zero(s, f"{t}: exceptions other than DecodeError", found.count(t),
                        f"{found.examples[t]} inputs; " + (found.first(t) or "")))
    fmt_problems = sum(found.count(f"{t} (format v1)") for t in targets)
    out.append(zero(s, "decoded events that event format v1 rejects (export → import breaks)",
                    fmt_problems, "; ".join(filter(None, (found.first(f"{t} (format v1)", 1)
                                                          for t in targets)))))
    for t in ("importer: event JSONL (fast path vs format v1)", DUPLICATE_KEYS,
              "importer: webcast dumps (valid next to bad)",
              "importer: raw journals (valid next to bad)",
              "importer: whole damaged files",
              "importer: gzip files cut short (readable lines kept)",
              "config loader (random TOML → rate card → money)"):
        out.append(zero(s, f"{t}: crashes or wrong results", found.count(t),
                        f"{found.examples[t]} inputs; " + found.first(t)))
    utf8 = found.notes.get("lines with invalid UTF-8 accepted with U+FFFD", 0)
    out.append(info(s, "JSONL lines with invalid UTF-8 accepted, bytes replaced by U+FFFD",
                    utf8, "the fast path reads bad bytes as U+FFFD; a Latin-1 'é' in a "
                          "nickname is stored as '\ufffd' without a reject"))
    if "error" in cli:
        out.append(Figure(s, "command line fuzz", "harness error", "runs", False,
                          str(cli["error"])))
    else:
        out += [
            at_least(s, "command lines tried", cli["examples"], cli_n,
                     "exit statuses " + ", ".join(f"{k}: {v}" for k, v in
                                                  sorted(cli["codes"].items()))),
            zero(s, "command lines ending in a traceback", len(cli["tracebacks"]),
                 "; ".join(cli["tracebacks"][:2])),
            zero(s, "command lines ending in 'internal error' (an unhandled exception)",
                 len(cli["internal"]), "; ".join(_distinct_errors(cli["internal"]))),
            zero(s, "command lines with an exit status outside {0, 1, 2}",
                 len(cli["bad_codes"]), "; ".join(cli["bad_codes"][:2])),
            zero(s, "command lines still running after 20 s (stopped)", len(cli["timeouts"]),
                 "a command given an absurd number should refuse it, not run for ever; "
                 + "; ".join(cli["timeouts"][:3])),
        ]
    if atheris_available():
        runs = ctx.size(200_000, 20_000)
        ctx.log(f"  fuzz: atheris ({runs} runs)")
        a = run_atheris(ctx, runs, work)
        out.append(zero(s, "atheris (coverage-guided): crashes", int(a["crashed"]),
                        f"{a['runs']} runs in {a['seconds']:.0f} s over the decoder, the "
                        f"event validator and the dump time parser. {a['tail']}"))
    else:
        out.append(skip(s, "atheris (coverage-guided)",
                        "atheris is not installed here (`pip install atheris`: it installs "
                        "from a wheel on CPython 3.11 x86-64 Linux)"))
    out.append(info(s, "wall time", f"{time.monotonic() - t0:.0f} s"))
    return out


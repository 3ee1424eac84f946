"""Messages that say what is true (issue #14, item 13b): a directory is not "no such file", a
contradictory pair of options is refused, a range states its real bounds, and every count prints
with thousands separators and the right plural."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from liveworth.errors import UsageError
from liveworth.model.generative import ModelParams
from liveworth.model.inputs import Inputs

from conftest import Result

Run = Callable[..., Result]
T0 = 1_700_000_000_000
GIFT = {"v": 1, "type": "gift", "room_id": "r1", "gift_id": 5655, "gift_name": "Rose",
        "coins": 1, "gift_type": 1, "repeat_count": 1, "repeat_end": True, "group_id": "g",
        "user_id": "u1", "user": "alice", "nickname": "alice"}


def one_line(r: Result, *needles: str, code: int = 2) -> None:
    assert r.code == code, (r.code, r.out, r.err)
    assert r.err.count("\n") == 1 and "Traceback" not in r.err, r.err
    for needle in needles:
        assert needle in r.err, r.err


def _db(cli: Run, tmp_path: Path, lines: list[dict[str, object]]) -> tuple[str, Result]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    db = str(tmp_path / "m.duckdb")
    return db, cli("import", "--db", db, str(path))


# ---------------------------------------------------------------------------- paths and options


def test_import_of_a_directory_says_it_is_one(cli: Run, tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "a.json.gz").write_bytes(b"")
    r = cli("import", "--db", str(tmp_path / "x.duckdb"), str(folder))
    one_line(r, f"{folder}: is a directory; pass the files in it (e.g. {folder}/*.json.gz)")
    assert "no such file" not in r.err
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line(cli("import", "--db", str(tmp_path / "x.duckdb"), str(empty)),
             f"{empty}: is a directory; pass the files in it (e.g. {empty}/*.jsonl)")
    one_line(cli("import", "--db", str(tmp_path / "x.duckdb"), str(tmp_path / "nope.jsonl")),
             "nope.jsonl: no such file")


def test_export_of_a_room_and_all_is_refused(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    r = cli("export", "r1", "--all", "--out", str(out))
    one_line(r, "not both")
    assert not out.exists()


# ---------------------------------------------------------------------------- ranges


def test_simulate_minutes_zero_states_the_real_rule(cli: Run) -> None:
    r = cli("simulate", "--followers", "10", "--minutes", "0", "--out", "-")
    one_line(r, "minutes must be more than 0 and at most 1,440, got 0")


@pytest.mark.parametrize(("kw", "message"), [
    ({"minutes": 0.0}, "minutes must be more than 0 and at most 1,440, got 0"),
    ({"minutes": 2000.0}, "minutes must be more than 0 and at most 1,440, got 2000"),
    ({"engagement": 0.0}, "engagement must be more than 0 and at most 100, got 0"),
    ({"followers": -1}, "followers must lie between 0 and 10,000,000,000, got -1"),
])
def test_simulator_range_messages_state_the_real_rule(kw: dict[str, float], message: str
                                                      ) -> None:
    import numpy as np

    from liveworth.model.simulate import simulate

    args: dict[str, object] = {"followers": 10, **kw}
    with pytest.raises(UsageError) as raised:
        simulate(ModelParams.from_prior(), rng=np.random.default_rng(0), **args)  # type: ignore[arg-type]
    assert str(raised.value) == message


@pytest.mark.parametrize(("kw", "message"), [
    ({"minutes": 0.0}, "minutes must lie between 1 and 1,440, got 0"),
    ({"engagement": 0.0}, "engagement must be more than 0 and at most 100, got 0"),
    ({"per_week": 51.0}, "sessions per week must lie between 0 and 50, got 51"),
])
def test_input_range_messages_state_the_real_rule(kw: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        Inputs(followers=10, **kw)  # type: ignore[arg-type]
    assert str(raised.value) == message


# ---------------------------------------------------------------------------- counts


def test_one_event_session_says_event_not_events(cli: Run, tmp_path: Path) -> None:
    db, r = _db(cli, tmp_path, [{**GIFT, "ts": T0, "msg_id": "g1"}])
    assert r.code == 0, r.err
    assert "1 new event imported; 0 duplicates; 0 rejected; 1 session touched." in r.out, r.out
    rep = cli("report", "r1", "--db", db)
    assert rep.code == 0, rep.err
    assert " 1 event\n" in rep.out and "1 events" not in rep.out, rep.out
    assert "1 coin gifted to the host = 1 diamond:" in rep.out, rep.out
    assert "1 gift in 1 send from 1 gifter;" in rep.out, rep.out
    sessions = cli("sessions", "--db", db)
    assert "1 session " in sessions.out and "session(s)" not in sessions.out, sessions.out
    out = tmp_path / "out.jsonl"
    exported = cli("export", "r1", "--db", db, "--out", str(out))
    assert exported.out.startswith("1 event written to "), exported.out


def test_counts_have_thousands_separators(cli: Run, tmp_path: Path) -> None:
    r = cli("convert", "--coins", "11459993")
    assert r.code == 0, r.err
    assert "11,459,993 coins gifted (11,459,993 diamonds)" in r.out, r.out
    one = cli("convert", "--coins", "1")
    assert "1 coin gifted (1 diamond)" in one.out, one.out
    config = tmp_path / "config.toml"
    config.write_text('[channels.bulk]\npack_usd = "9999"\npack_coins = 1000000\n')
    rates = cli("rates", "--config", str(config))
    assert rates.code == 0, rates.err
    assert "70 coins = $0.74" in rates.out and "1,000,000 coins = $9999" in rates.out, rates.out


def test_big_session_report_groups_diamonds(cli: Run, tmp_path: Path) -> None:
    big = {**GIFT, "gift_id": 6064, "gift_name": "Universe", "coins": 34_999, "gift_type": 2}
    lines = [{**big, "ts": T0 + i, "msg_id": f"g{i}", "user_id": f"u{i}"} for i in range(40)]
    db, r = _db(cli, tmp_path, lines)
    assert r.code == 0, r.err
    assert "40 new events imported; 0 duplicates; 0 rejected; 1 session touched." in r.out
    rep = cli("report", "r1", "--db", db)
    assert "1,399,960 coins gifted to the host = 1,399,960 diamonds" in rep.out, rep.out


def test_payout_and_gift_counts_are_plural_aware(cli: Run) -> None:
    r = cli("payout", "--balance-usd", "500", "--start", "2026-01-01")
    assert "1 withdrawal of at most $1,000.00 a day; each arrives within 15 days" in r.out, r.out
    r = cli("gifts", "--id", "5655")
    assert "1 gift, official catalogue" in r.out, r.out


def test_a_full_disk_while_keeping_rejects_says_what_is_kept(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rejects file cannot be written after the commit: the import says every valid event
    was imported and how many rejects are not kept — not "run the command again" (item 9)."""
    import errno

    from liveworth.ingest import rejects

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rejects.shutil, "copyfileobj", full)
    path = tmp_path / "e.jsonl"
    good = ('{"v": 1, "type": "like", "room_id": "r", "ts": 1, "msg_id": "m", "user_id": "u", '
            '"count": 1}')
    path.write_text(good + "\nnot json\n{}\n")
    db = tmp_path / "x.duckdb"
    r = cli("import", "--db", str(db), str(path))
    assert r.code == 0, r.err
    assert (f"liveworth import: 2 rejected lines could not be kept in {db}.rejects.jsonl (No "
            "space left on device); every valid event was imported") in r.err
    assert "kept in" not in r.out and "run the command again" not in r.err + r.out
    assert "1 new event imported" in r.out

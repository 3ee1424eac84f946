"""Recorders on many machines (issue 20, item 4): `shard`, `record --roster --shard K/N`, and two
overlapping sharded replays into one lake answering as one clean store of the union."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveworth.errors import UsageError
from liveworth.ingest.shards import assignment, parse_shard, shard_of

from conftest import run_cli

NAMES = st.lists(st.from_regex(r"[a-z0-9._]{1,24}", fullmatch=True), min_size=1, max_size=40,
                 unique_by=str.casefold)


@settings(max_examples=60, deadline=None)
@given(NAMES, st.integers(1, 30))
def test_adding_a_shard_moves_only_creators_onto_it(names: list[str], n: int) -> None:
    before, after = assignment(names, n), assignment(names, n + 1)
    assert set(before) == set(after) == set(names)  # every creator on exactly one shard
    assert all(1 <= k <= n for k in before.values())
    moved = {h for h in names if before[h] != after[h]}
    assert all(after[h] == n + 1 for h in moved)
    # and removing it again moves exactly those back
    assert assignment(names, n) == before


def test_the_hash_is_stable_and_ignores_case() -> None:
    # fixed values: a shard never changes between runs, machines or Python versions
    assert [shard_of(h, 4) for h in ("ana", "bo", "cy", "dee")] == \
        [shard_of(h.upper(), 4) for h in ("ana", "bo", "cy", "dee")]
    assert shard_of("ana", 1) == 1
    assert len(set(assignment([f"c{i}" for i in range(400)], 4).values())) == 4


@pytest.mark.parametrize("text", ["3/2", "x", "0/2", "1/0", "1/", "/2", "-1/2", "1/2/3",
                                  "1/10001", "٣/٤"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_shard(text)


def test_shard_command(tmp_path: Path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("# agency\n@ana\nbo\nANA\ncy\n", encoding="utf-8")
    r = run_cli("shard", "--roster", str(roster), "--of", "3", "--json")
    assert r.code == 0, r.err
    placed = {c["host"]: c["shard"] for c in r.json()["creators"]}
    assert placed == {h: shard_of(h, 3) for h in ("ana", "bo", "cy")}
    table = run_cli("shard", "--roster", str(roster), "--of", "3")
    assert table.code == 0 and "@bo" in table.out
    for argv, says in ((["--of", "0"], "between 1 and"), (["--of", "x"], "not a number"),
                       (["--of", "2"], "cannot read roster")):
        path = str(tmp_path / "nope") if says == "cannot read roster" else str(roster)
        r = run_cli("shard", "--roster", path, *argv)
        assert r.code == 2 and r.err.count("\n") == 1 and says in r.err, r.err


@pytest.mark.parametrize("shard", ["3/2", "x", "0/1"])
def test_record_refuses_a_bad_shard_and_writes_nothing(tmp_path: Path, shard: str) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("ana\nbo\n", encoding="utf-8")
    r = run_cli("record", "--roster", str(roster), "--shard", shard, "--db",
                str(tmp_path / "x.duckdb"), "--journal", str(tmp_path / "j"), "--lake",
                str(tmp_path / "lake"))
    assert r.code == 2 and r.err.count("\n") == 1 and "--shard" in r.err, r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-config.toml", "roster.txt"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["roster.txt"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """Five simulated creators, two sessions each (seeded)."""
    d = tmp_path_factory.mktemp("archive")
    files: list[Path] = []
    for i, host in enumerate(("ana", "bo", "cy", "dee", "eve")):
        r = run_cli("simulate", "--followers", "1500", "--minutes", "6", "--host", host,
                    "--sessions", "2", "--seed", str(40 + i), "--room-id", host, "--out",
                    f"{d / host}/", "--start", "2024-03-01", "--json")
        assert r.code == 0, r.err
        files += sorted((d / host).glob("*.jsonl"))
    (d / "roster.txt").write_text("\n".join(("ana", "bo", "cy", "dee", "eve")) + "\n")
    return d, files


def _record(d: Path, files: list[Path], name: str, *extra: str) -> None:
    r = run_cli("record", *extra, "--replay", *map(str, files), "--speed", "max", "--quiet",
                "--db", str(d / f"{name}.duckdb"), "--journal", str(d / f"j-{name}"))
    assert r.code == 0, r.err


def test_overlapping_sharded_replays_answer_as_one_clean_store(
        archive: tuple[Path, list[Path]], tmp_path: Path) -> None:
    d, files = archive
    roster = str(d / "roster.txt")
    lake = str(tmp_path / "lake")
    ones = [h for h in ("ana", "bo", "cy", "dee", "eve") if shard_of(h, 2) == 1]
    twos = [h for h in ("ana", "bo", "cy", "dee", "eve") if shard_of(h, 2) == 2]
    assert ones and twos
    _record(tmp_path, files, "s1", "--roster", roster, "--shard", "1/2", "--lake", lake)
    # shard 2 fails over: for a while a spare recorder records one of its creators too
    _record(tmp_path, files, "spare", twos[0], "--lake", lake)
    _record(tmp_path, files, "s2", "--roster", roster, "--shard", "2/2", "--lake", lake)
    _record(tmp_path, files, "clean")
    s1 = run_cli("sessions", "--all", "--db", str(tmp_path / "s1.duckdb"), "--json").json()
    assert {s["host"] for s in s1} == set(ones)
    for argv in (["sessions", "--all"], ["gifters"], ["roster"], ["report", f"{twos[0]}-1"],
                 ["analyze", "--host", twos[0]]):
        a = run_cli(*argv, "--db", str(tmp_path / "clean.duckdb"), "--json")
        b = run_cli(*argv, "--lake", lake, "--json")
        assert a.code == b.code == 0, (a.err, b.err)
        assert a.out == b.out, argv

"""One creator's connection loop (issue #16, item 3): ask before connecting, poll on a slow
jittered schedule that costs no sign-server request, a creator who does not exist said once,
every failure with its real reason — in the state, the live view and each ``--json`` line."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from liveworth.decode.rawsources import RawMessage, iter_dump
from liveworth.ingest import connection
from liveworth.ingest.connection import Backoff, CreatorState, Quota, record_creator
from liveworth.ingest.recorder import record
from liveworth.ingest.sources import Disconnected, UserNotFound

from conftest import DUMPS, Result


def _messages(n: int = 40) -> list[RawMessage]:
    return [m for m in iter_dump(DUMPS / "link.json.gz") if isinstance(m, RawMessage)][:n]


class Checked:
    """A signed source that can say whether its creator is live: ``answers`` is what each
    check gives (a bool, or an exception to raise), then True."""

    signed = True

    def __init__(self, host: str, answers: list[Any], messages: list[RawMessage]) -> None:
        self.host, self.answers, self.messages = host, list(answers), messages
        self.checks = self.connects = 0
        self.end_reason = ""

    async def check_live(self) -> bool:
        self.checks += 1
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, BaseException):
            raise answer
        return bool(answer)

    async def connect(self) -> AsyncIterator[RawMessage]:
        self.connects += 1
        for m in self.messages:
            yield m
        self.end_reason = "the LIVE ended"


class Sink:
    def __init__(self) -> None:
        self.got: list[RawMessage] = []

    def put(self, host: str, msg: RawMessage) -> None:
        self.got.append(msg)

    def put_gap(self, gap: Any) -> None:
        pass


def _run(source: Any, *, poll_s: float = 60.0, quota: Quota | None = None,
         stop_when_ended: bool = True, waits: list[float] | None = None,
         changes: list[tuple[str, str]] | None = None,
         monkeypatch: pytest.MonkeyPatch) -> CreatorState:
    waits = [] if waits is None else waits

    async def no_wait(seconds: float, stop: asyncio.Event) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(connection, "_sleep", no_wait)
    state = CreatorState(source.host, on_change=(
        None if changes is None else lambda s: changes.append((s.status, s.reason))))
    asyncio.run(record_creator(source, Sink(), state, threading.Lock(),
                               quota or Quota(10, 60, 100), Backoff(random.Random(1)),
                               poll_s=poll_s, stop_when_ended=stop_when_ended))
    return state


def test_an_offline_creator_is_polled_without_spending_sign_server_quota(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Five checks say offline, then live: one sign-server request in all, five waits of
    poll ± 20 % between them (jittered: not all equal)."""
    source = Checked("c", [False] * 5, _messages())
    quota = Quota(10, 60, 100)
    waits: list[float] = []
    state = _run(source, poll_s=60.0, quota=quota, waits=waits, monkeypatch=monkeypatch)
    assert (source.checks, source.connects) == (6, 1)
    assert quota.left()["day"] == 99
    assert len(waits) == 5 and all(48.0 <= w <= 72.0 for w in waits) and len(set(waits)) > 1
    assert (state.status, state.reason) == ("ended", "the LIVE ended")


def test_a_user_that_does_not_exist_ends_that_creator_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = Checked("ghost", [UserNotFound("no TikTok user @ghost who can go LIVE")], [])
    changes: list[tuple[str, str]] = []
    state = _run(source, monkeypatch=monkeypatch, stop_when_ended=False, changes=changes)
    assert source.checks == 1 and source.connects == 0  # asked once, never retried
    assert state.status == "not found" and "@ghost" in state.reason
    assert changes == [("checking", ""), ("not found", "no TikTok user @ghost who can go LIVE")]


def test_a_failure_keeps_its_reason_and_a_rate_limit_waits_until_its_reset(
        monkeypatch: pytest.MonkeyPatch) -> None:
    limited = Disconnected("sign server rate limited: next request at 2026-12-02 17:00:00 UTC",
                           retry_after_s=900.0)
    source = Checked("c", [Disconnected("no network: [Errno -3] name resolution"), limited],
                     _messages(5))
    changes: list[tuple[str, str]] = []
    waits: list[float] = []
    _run(source, monkeypatch=monkeypatch, changes=changes, waits=waits)
    assert ("error", "no network: [Errno -3] name resolution") in changes
    assert ("error", limited.args[0]) in changes
    assert waits[1] >= 900.0  # the sign server's reset, not a short backoff
    assert changes[-2:] == [("live", ""), ("ended", "the LIVE ended")]


def test_a_roster_goes_on_without_the_creator_that_does_not_exist(tmp_path: Path) -> None:
    ghost = Checked("ghost", [UserNotFound("no TikTok user @ghost who can go LIVE")], [])
    real = Checked("crecee.saraa", [False], _messages(200))

    async def go() -> Any:
        stop = asyncio.Event()

        def tick(states: dict[str, CreatorState]) -> None:
            if states["crecee.saraa"].messages >= 200:
                stop.set()

        return await record([ghost, real], str(tmp_path / "r.duckdb"), tmp_path / "j",
                            stop=stop, poll_s=0.01, stop_when_ended=False, on_tick=tick)

    result = asyncio.run(go())
    assert result.states["ghost"].status == "not found"
    assert result.states["crecee.saraa"].messages >= 200


def _fake_tiktok(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[Any]]) -> None:
    """TikTokSource whose check_live gives ``answers[host]`` (no network, no TikTokLive)."""
    from liveworth.ingest import tiktok

    class Fake(Checked):
        def __init__(self, host: str) -> None:
            super().__init__(host, answers[host], [])

    monkeypatch.setattr(tiktok, "TikTokSource", Fake)
    monkeypatch.setattr(connection.Backoff, "delay", lambda self, attempt: 0.01)


def test_record_of_one_creator_that_does_not_exist_is_one_line_and_exit_2(
        cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tiktok(monkeypatch, {"ghost": [UserNotFound("no TikTok user @ghost who can go LIVE "
                                                      "(TikTok: user not found)")]})
    r = cli("record", "@ghost", "--db", str(tmp_path / "g.duckdb"), "--journal",
            str(tmp_path / "j"), "--quiet")
    assert r.code == 2
    assert r.err == ("liveworth: error: @ghost: no TikTok user @ghost who can go LIVE (TikTok: "
                     "user not found)\n")


def test_record_json_writes_a_line_per_state_change_with_the_real_reason(
        cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--json: each change of status or reason is one JSON line (time, host, status, reason),
    the summary last; with a roster the missing creator is a flagged entry and exit is 0."""
    roster = tmp_path / "roster.txt"
    roster.write_text("@ghost\n@flaky\n")
    _fake_tiktok(monkeypatch, {
        "ghost": [UserNotFound("no TikTok user @ghost who can go LIVE")],
        "flaky": [Disconnected("TikTok refused: HTTP 403"), UserNotFound("gone")]})
    r = cli("record", "--roster", str(roster), "--db", str(tmp_path / "g.duckdb"),
            "--journal", str(tmp_path / "j"), "--json")
    assert r.code == 0, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    states = [(x["host"], x["status"], x["reason"]) for x in lines if x["type"] == "state"]
    assert ("flaky", "error", "TikTok refused: HTTP 403") in states
    assert ("ghost", "not found", "no TikTok user @ghost who can go LIVE") in states
    assert all(x["time"].endswith("Z") for x in lines if x["type"] == "state")
    summary = lines[-1]
    assert summary["type"] == "summary"
    assert {c["host"]: c["status"] for c in summary["creators"]} == {"ghost": "not found",
                                                                     "flaky": "not found"}

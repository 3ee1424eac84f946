"""Every string from TikTok is data (issue #14, item 5): nicknames, user names, hosts, room ids and
comments are free text that viewers and creators choose. The terminal shows them as themselves
(no Rich markup read in them, control and bidi characters shown as escapes), CSV cannot run
them as formulas, JSON keeps them exactly, HTML escapes them, and text that no encoder can write
(a lone surrogate) or numbers of thousands of digits cost one line, never the file."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from liveworth.render.terminal import term

from conftest import Result

Run = Callable[..., Result]

ROOM = "r[bold]1[/]"
HOST = "[red]evil[/]\x1b[2J"
HOSTILE = [
    "[/]",                              # Rich's closing tag with nothing open: a crash
    "[bold red]FAKE $9,999[/]",         # restyled output
    "\x1b[2J\x1b[H total $1,000,000",   # clear the screen, paint fake totals
    "\x1b]0;pwned\x07",                 # retitle the terminal window (OSC)
    "\u202eevil\u202c",                 # right-to-left override: a spoofed name
    "=HYPERLINK(\"http://x\",\"click\")",  # a spreadsheet formula
    "@SUM(A1)", "+1", "-1", "\tTAB",
]
GIFT = {"v": 1, "type": "gift", "room_id": ROOM, "gift_id": 5655, "gift_name": "Rose",
        "coins": 1, "gift_type": 2, "repeat_count": 1, "repeat_end": True, "group_id": "g"}


@pytest.fixture()
def hostile_db(tmp_path: Path, cli: Run) -> tuple[str, Path]:
    lines = [json.dumps({"v": 1, "type": "live_start", "room_id": ROOM, "ts": 1_700_000_000_000,
                         "msg_id": "s", "host_id": "h1", "host": HOST})]
    for i, name in enumerate(HOSTILE):
        lines.append(json.dumps({**GIFT, "ts": 1_700_000_001_000 + i, "msg_id": f"g{i}",
                                 "user_id": str(100 + i), "user": name, "nickname": name}))
        lines.append(json.dumps({"v": 1, "type": "comment", "room_id": ROOM, "msg_id": f"c{i}",
                                 "ts": 1_700_000_002_000 + i, "user_id": str(100 + i),
                                 "user": name, "nickname": name, "text": name}))
    # JSON's "\ud800": a lone surrogate, no character at all; and a 5,000-digit number.
    lines.append(json.dumps({**GIFT, "ts": 1_700_000_003_000, "msg_id": "sur", "user_id": "7",
                             "user": "x", "nickname": "PLACEHOLDER"}).replace(
                                 "PLACEHOLDER", "\\ud800bad"))
    lines.append(json.dumps({**GIFT, "ts": 1_700_000_003_001, "msg_id": "big", "user_id": "8",
                             "user": "y", "nickname": "y", "coins": 7}).replace(
                                 '"coins": 7', '"coins": ' + "9" * 5000))
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = str(tmp_path / "h.duckdb")
    r = cli("import", "--db", db, str(path), "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert (out["accepted"], out["rejected"]) == (len(lines) - 1, 1)
    assert "5,000 digits" in r.err
    return db, tmp_path


def _shown_safely(text: str) -> None:
    for raw in ("\x1b", "\x07", "\u202e", "\u202c"):
        assert raw not in text


@pytest.mark.parametrize("argv", [
    ["sessions"], ["report", ROOM], ["gifters"], ["analyze", "--host", HOST], ["roster"],
])
def test_the_terminal_shows_hostile_text_as_itself(hostile_db: tuple[str, Path], cli: Run,
                                                   argv: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = hostile_db
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell is cut
    r = cli(*argv, "--db", db)
    assert r.code == 0, r.err
    _shown_safely(r.out)
    assert "\\x1b" in r.out  # the escape is visible, not hidden or run
    if argv[0] in ("report", "gifters"):
        assert "[/]" in r.out and "[bold red]FAKE $9,999[/]" in r.out
        assert "\\u202eevil\\u202c" in r.out
    if argv[0] in ("sessions", "report"):
        assert "r[bold]1[/]" in r.out


@pytest.mark.parametrize("argv", [["sessions"], ["report", ROOM], ["gifters"]])
def test_json_keeps_the_text_exactly(hostile_db: tuple[str, Path], cli: Run,
                                     argv: list[str]) -> None:
    db, _ = hostile_db
    r = cli(*argv, "--db", db, "--json")
    assert r.code == 0, r.err
    text = json.dumps(r.json(), ensure_ascii=False)
    assert ROOM in text
    if argv[0] == "gifters":
        names = {g["user"] for g in r.json()}
        assert set(HOSTILE) <= names
        assert "\ufffdbad" in {g["nickname"] for g in r.json()}


def test_csv_cells_cannot_run_as_formulas(hostile_db: tuple[str, Path], cli: Run) -> None:
    db, tmp = hostile_db
    out = tmp / "e.csv"
    assert cli("export", "--all", "--db", db, "--format", "csv", "--out", str(out)).code == 0
    with out.open(newline="", encoding="utf-8") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
                or (c.startswith("-") and not c.lstrip("-").isdigit())]
    assert "'=HYPERLINK(\"http://x\",\"click\")" in cells
    assert "1700000000000" in cells  # numbers stay numbers


def test_html_escapes_the_text(hostile_db: tuple[str, Path], cli: Run) -> None:
    db, tmp = hostile_db
    html = tmp / "r.html"
    assert cli("report", ROOM, "--db", db, "--html", str(html)).code == 0
    page = html.read_text(encoding="utf-8")
    assert "[bold red]FAKE $9,999[/]" in page  # text, and no markup language of its own
    assert "<script" not in page.lower()


@pytest.mark.parametrize("text, shown", [
    ("[/]", "\\[/]"), ("a\x1bb", "a\\x1bb"), ("\u202e", "\\u202e"), ("\x9b", "\\x9b"),
    ("plain ❤️ ü", "plain ❤️ ü"), ("", ""),
])
def test_term(text: str, shown: str) -> None:
    assert term(text) == shown

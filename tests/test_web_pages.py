"""Every page of the dashboard in Debian's Chromium, at a desktop's and a phone's width, in the
light and the dark colour scheme: no console error, no page-level horizontal scrolling, no
serious or critical axe-core violation, and a screenshot under out/screenshots/.

The pages are found from the app's own routes (those tagged ``pages``), their path parameters
filled from the test database (a real session, a real host, one of its real gifters): a page
added to the app is checked without touching this file. A path parameter this file cannot fill
fails the test, unless the route is in :data:`EXCLUDED` with its reason.

axe-core comes from the npm registry, pinned by tests/a11y/package-lock.json (``make unit`` runs
``npm ci`` there); without it the accessibility check skips, the other checks still run first.
``LIVEWORTH_SCREENSHOTS=docs`` also writes the README's small screenshots (``make screenshots``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.request import urlopen

import pytest

import test_web_browser
from liveworth.ingest.importer import import_paths
from liveworth.store.database import Store
from liveworth.web import create_app
from test_web_browser import SCREENSHOTS, Server
from websupport import EVIL_HOST, REAL_DUMPS, REAL_HOST, REAL_ROOM, STEADY_HOST, XSS_ROOM

from conftest import REPO

AXE = REPO / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
#: The widths every page is loaded at (px), and the colour schemes; dark is checked at one
#: width (its layout is the light one's; what changes is the colours, hence the contrast).
WIDTHS = (1280, 390)
VIEWS = (("1280", 1280, "light"), ("390", 390, "light"), ("1280-dark", 1280, "dark"))
#: The impacts that fail a page.
FAILING = ("serious", "critical")
#: Routes tagged "pages" that are not loaded here, each with its reason (none today).
EXCLUDED: dict[str, str] = {}
#: Transparent OBS browser sources: their text stands over the stream's video, not over the page,
#: so axe cannot judge its contrast (white text with a shadow on an unknown picture).
OBS_SOURCES = ("/overlay/",)
#: More than the bare route for a few pages: (name suffix, query string, path parameters that
#: differ from :func:`values`'). The hostile session and host: long strange strings on a phone.
VARIANTS: dict[str, tuple[tuple[str, str, dict[str, str]], ...]] = {
    "/estimate": (("", "", {}), ("result", "followers=5000&minutes=60&per_week=3", {}),
                  ("what-if", "followers=5000&sessions=2000&what_if=minutes%3D120"
                   "&what_if=per-week%3D5&preset=us-scaled&channel=ios", {}),
                  ("history", f"from_history=true&host={STEADY_HOST}&sessions=2000", {})),
    "/plan": (("", "", {}), ("result", "target_usd_month=2000&followers=5000&sessions=2000", {})),
    "/creators/{host}": (("", "", {}), ("month", "as_of=2023-12-31", {}),
                         ("steady", "as_of=2024-06-30", {"host": STEADY_HOST})),
    "/creators/{host}/analysis": (("", "", {}), ("steady", "", {"host": STEADY_HOST}),
                                  ("hostile", "", {"host": EVIL_HOST})),
    "/sessions/{room_id}": (("", "", {}), ("hostile", "", {"room_id": XSS_ROOM}),
                            ("missing", "", {"room_id": "no-such-room"})),
    "/gifters": (("", "", {}), ("host", f"host={quote(REAL_HOST)}", {})),
    "/roster": (("", "as_of=2024-06-20", {}),),
    "/overlay/{host}": (("", "goal=1000&top=5", {}),),
}
BARE: tuple[tuple[str, str, dict[str, str]], ...] = (("", "", {}),)
#: The README's screenshots (docs/img/, written when LIVEWORTH_SCREENSHOTS=docs): name, path,
#: width, colour scheme, height. The real dumps are of December 2023: the home page as of then;
#: the session report with its gifters' names redacted.
README_SHOTS = (
    ("home", f"/creators/{REAL_HOST}?as_of=2023-12-31", 1280, "light", 960),
    ("home-dark", f"/creators/{REAL_HOST}?as_of=2023-12-31", 1280, "dark", 960),
    ("session", f"/sessions/{REAL_ROOM}?redact=true", 1280, "light", 1200),
    ("sessions-phone", "/sessions", 390, "light", 844),
)
DOCS_IMG = REPO / "docs" / "img"
#: The browser suite's fixtures: one Chromium, one server over the test database of the real dumps.
browser, db, server = test_web_browser.browser, test_web_browser.db, test_web_browser.server


def page_routes() -> list[str]:
    """The paths of the app's HTML pages (its GET routes tagged ``pages``), in the app's order."""
    paths = create_app(None).openapi()["paths"]
    return [p for p, ops in paths.items() if "pages" in ops.get("get", {}).get("tags", ())]


def fill(path: str, values: dict[str, str]) -> str:
    """``path`` with its ``{param}``s filled from ``values``; a parameter without a value fails."""
    missing = [p for p in re.findall(r"{(\w+)(?::\w+)?}", path) if p not in values]
    assert not missing, (f"{path}: no value for {missing} in the test database — add one to "
                         f"path_values() or list the route in EXCLUDED with the reason")
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: quote(values[m.group(1)], safe=""), path)


def page_name(path: str) -> str:
    """A file name for a route: ``/creators/{host}/analysis`` → ``creators-host-analysis``."""
    return re.sub(r"[^a-z0-9_]+", "-", path.lower()).strip("-") or "home"


def cases() -> list[Any]:
    """(name, route) for every page and variant, in the app's order."""
    out = []
    for route in page_routes():
        if route in EXCLUDED:
            continue
        for suffix, _, _ in VARIANTS.get(route, BARE):
            name = page_name(route) + (f"-{suffix}" if suffix else "")
            out.append(pytest.param(name, route, id=name))
    return out


@pytest.fixture(scope="module")
def values(server: Server) -> dict[str, str]:
    """The path parameters' values, from the test database: the real dumps' longest session,
    its host and that host's biggest gifter."""
    with urlopen(f"{server.url}/api/gifters?host={quote(REAL_HOST)}&top=1") as r:
        top = json.load(r)
    assert top and top[0]["user_id"], "the real host has no gifter with a user id"
    return {"room_id": REAL_ROOM, "host": REAL_HOST, "user_id": str(top[0]["user_id"])}


@pytest.fixture(scope="module")
def contexts(browser: Any) -> Iterator[dict[str, Any]]:
    """One browser context per view (width and colour scheme), a new page in it per test."""
    made = {name: browser.new_context(viewport={"width": width, "height": 900},
                                      color_scheme=scheme) for name, width, scheme in VIEWS}
    yield made
    for context in made.values():
        context.close()


def url_of(server: Server, values: dict[str, str], name: str, route: str) -> str:
    suffix = name.removeprefix(page_name(route)).lstrip("-")
    query, given = next((q, g) for x, q, g in VARIANTS.get(route, BARE) if x == suffix)
    return server.url + fill(route, {**values, **given}) + (f"?{query}" if query else "")


def axe_violations(page: Any, source: str, *, contrast: bool,
                   only_contrast: bool) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands: every rule, or only
    the contrast (the dark view: its markup is the light one's), or all but the contrast."""
    if only_contrast and not contrast:
        return []
    page.evaluate(source)  # through the DevTools protocol: the page's CSP does not apply
    opts: dict[str, Any] = {"resultTypes": ["violations"]}
    if only_contrast:
        opts["runOnly"] = ["color-contrast"]
    elif not contrast:
        opts["rules"] = {"color-contrast": {"enabled": False}}
    result = page.evaluate("opts => axe.run(document, opts)", opts)
    return [v for v in result["violations"] if v["impact"] in FAILING]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}): {v['help']} — {targets}")
    return "\n".join(lines)


def test_pages_are_found_from_the_routes() -> None:
    """The discovery sees the app's pages (not its API), and fill() refuses a parameter it has no
    value for."""
    routes = page_routes()
    assert {"/sessions", "/sessions/{room_id}", "/creators/{host}", "/gifters/{host}/{user_id}",
            "/overlay/{host}"} <= set(routes)
    assert not [r for r in routes if r.startswith("/api/")]
    with pytest.raises(AssertionError, match="no value for"):
        fill("/new/{thing}", {"host": "x"})


TIMES: dict[str, float] = {}


@pytest.mark.parametrize("view", [v[0] for v in VIEWS])
@pytest.mark.parametrize(("name", "route"), cases())
def test_page(server: Server, contexts: dict[str, Any], values: dict[str, str], name: str,
              route: str, view: str) -> None:
    t0 = time.monotonic()
    _, width, scheme = next(v for v in VIEWS if v[0] == view)
    page = contexts[view].new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    try:
        response = page.goto(url_of(server, values, name, route))
        page.wait_for_load_state("load")
        want = 404 if name.endswith("-missing") else 200  # the error page, too
        assert response is not None and response.status == want, (name, response and
                                                                    response.status)
        if want == 404:  # the document's own status, which Chromium logs as an error
            errors[:] = [e for e in errors if "status of 404" not in e]
        if page.locator("[data-live]").count():
            page.wait_for_selector("[data-live][data-updated]", state="attached", timeout=5000)
        overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{view}.png"), full_page=True,
                        animations="disabled")
        problems = [f"console errors: {errors}"] if errors else []
        if overflow[0] > overflow[1]:
            problems.append(f"the page scrolls sideways at {width} px: {overflow[0]} px wide")
        if AXE.exists():
            bad = axe_violations(page, AXE.read_text(encoding="utf-8"),
                                 contrast=not any(s in route for s in OBS_SOURCES),
                                 only_contrast=scheme == "dark")
            if bad:
                problems.append(f"axe-core found\n{describe(bad)}")
        assert not problems, f"{name} at {view}: " + "\n".join(problems)
        if not AXE.exists():
            pytest.skip(f"{AXE} is missing (make unit runs npm ci in tests/a11y)")
    finally:
        page.close()
        TIMES[f"{name}-{view}"] = time.monotonic() - t0


def test_readme_screenshots(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With LIVEWORTH_SCREENSHOTS=docs (``make screenshots``): the README's screenshots in
    docs/img/, of a database of the real dumps alone, at the window's height, made small by
    pngquant (each at most 150 KB)."""
    if os.environ.get("LIVEWORTH_SCREENSHOTS") != "docs":
        pytest.skip("LIVEWORTH_SCREENSHOTS=docs writes docs/img/ (make screenshots)")
    pngquant = shutil.which("pngquant")
    assert pngquant, "pngquant is missing (apt-get install pngquant; make screenshots does)"
    monkeypatch.chdir(tmp_path)  # the pages name the database: "liveworth.duckdb", as by default
    with Store.open("liveworth.duckdb") as store:
        assert import_paths(store, REAL_DUMPS).rejected == 0
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    with Server(create_app("liveworth.duckdb")) as s:
        for name, path, width, scheme, height in README_SHOTS:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          color_scheme=scheme)
            page = context.new_page()
            page.goto(s.url + path)
            page.wait_for_load_state("load")
            raw = tmp_path / f"{name}.png"
            page.screenshot(path=str(raw), animations="disabled")
            context.close()
            target = DOCS_IMG / f"{name}.png"
            subprocess.run([pngquant, "--force", "--speed", "1", "--quality", "50-90",
                            "--strip", "--output", str(target), str(raw)], check=True)
            assert target.stat().st_size <= 150_000, f"{target} is over 150 KB"


def test_zz_timing_report() -> None:
    """Prints how long each page took (the file's budget: a few seconds a page)."""
    if not TIMES:
        pytest.skip("no page ran")
    slowest = sorted(TIMES.items(), key=lambda kv: -kv[1])[:5]
    print(f"\n{len(TIMES)} page loads, {sum(TIMES.values()):.1f} s; slowest: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in slowest))
    assert max(TIMES.values()) < 20, slowest

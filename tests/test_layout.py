"""The shape of the code: packages along the pipeline, data flowing one way, no import circle, small
modules and functions, a command line that starts without the heavy libraries, and a pinned public
API.

The layers (README "Layout"), from the bottom: ``economy`` and ``decode`` → ``store`` →
``ingest``, ``analysis`` and ``alerts`` → ``model`` → ``render`` → ``web`` → ``cli``. A package may
import only the packages below it (and :mod:`liveworth.errors`, which every layer shares).
Imports inside functions count too: a lazy import upwards is still an upward import.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import liveworth

PACKAGE = Path(liveworth.__file__).resolve().parent

#: What each package may import (besides itself and liveworth.errors).
ALLOWED: dict[str, frozenset[str]] = {
    "economy": frozenset(),
    "decode": frozenset(),
    "store": frozenset({"economy", "decode"}),
    "ingest": frozenset({"economy", "decode", "store"}),
    "analysis": frozenset({"economy", "decode", "store"}),
    "alerts": frozenset({"economy", "decode", "store"}),
    "model": frozenset({"economy", "decode", "store", "analysis"}),
    "render": frozenset({"economy", "decode", "store", "analysis", "model", "alerts"}),
    "web": frozenset({"economy", "decode", "store", "analysis", "model", "render", "alerts"}),
    "cli": frozenset({"economy", "decode", "store", "ingest", "analysis", "model", "render",
                      "web", "alerts"}),
}
#: Modules directly under liveworth/ that are no layer: the package itself, ``python -m``, the
#: shared errors, and the deprecated one-line re-exports of the old flat paths.
TOP = {"liveworth", "liveworth.__main__", "liveworth.errors"}
DEPRECATED = {"analytics", "calibrate", "estimate", "forecast", "importer", "money", "ratecard",
              "rawsources", "recorder", "roster", "simulate", "sources", "stats"}
HEAVY = ("duckdb", "pyarrow", "numpy", "fastapi", "uvicorn", "starlette", "pandas", "vl_convert",
         "pyspark", "py4j")
#: The optional engines' libraries, and the one package that may import each (inside functions).
OPTIONAL = {"pyspark": "liveworth.store.spark"}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports(name: str, tree: ast.AST, *, top_level_only: bool) -> Iterator[str]:
    """The liveworth modules ``name`` imports (the module itself for ``from m import x``, or the
    submodule when ``x`` is one)."""
    package = name if name in _PACKAGES else name.rpartition(".")[0]
    nodes = ast.iter_child_nodes(tree) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("liveworth"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if not base.startswith("liveworth"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                yield sub if sub in _ALL else base


_ALL = {name for name, _ in _modules()}
_PACKAGES = {name for name, path in _modules() if path.name == "__init__.py"}
_TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in _modules()}


def _layer(module: str) -> str | None:
    if module in TOP or module.removeprefix("liveworth.") in DEPRECATED:
        return None
    return module.split(".")[1]


def test_every_module_belongs_to_a_layer() -> None:
    stray = [m for m in _ALL if _layer(m) is not None and _layer(m) not in ALLOWED]
    assert not stray, f"modules outside the layers: {stray}"


def test_no_package_imports_one_above_it() -> None:
    wrong = []
    for module, tree in _TREES.items():
        src = _layer(module)
        if src is None:
            continue
        for target in _imports(module, tree, top_level_only=False):
            dst = _layer(target)
            if target == "liveworth" or target == "liveworth.errors" or dst in (None, src):
                if target != "liveworth" and dst is None and target not in TOP:
                    wrong.append(f"{module} imports the deprecated path {target}")
                continue
            if dst not in ALLOWED[src]:
                wrong.append(f"{module} ({src}) imports {target} ({dst})")
    assert not wrong, "\n".join(wrong)


def test_the_allowed_layers_form_no_circle() -> None:
    order: list[str] = []
    pending = dict(ALLOWED)
    while pending:
        ready = [p for p, deps in pending.items() if deps <= set(order)]
        assert ready, f"the layers import each other in a circle: {sorted(pending)}"
        order += ready
        for p in ready:
            del pending[p]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_between_modules() -> None:
    """Module-level imports (where a circle breaks ``import``); a package's ``__init__`` is
    left out as a target, since importing a submodule always runs it first."""
    graph = {m: {t for t in _imports(m, tree, top_level_only=True)
                 if t != m and t in _ALL and t not in _PACKAGES}
             for m, tree in _TREES.items()}
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph) or [])}"


def test_only_its_engine_imports_an_optional_library() -> None:
    wrong = []
    for module, tree in _TREES.items():
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                owner = OPTIONAL.get(name.split(".")[0])
                if owner and not (module == owner or module.startswith(owner + ".")):
                    wrong.append(f"{module} imports {name}")
                if owner and node in ast.iter_child_nodes(tree):
                    wrong.append(f"{module} imports {name} at top level")
    assert not wrong, "\n".join(wrong)


def test_the_checks_above_can_fail() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f():\n    from liveworth.cli import main\n")
    assert list(_imports("liveworth.store.ledger", tree, top_level_only=False)) == \
        ["liveworth.cli"]


@pytest.mark.parametrize("module", sorted(_ALL))
def test_modules_and_functions_stay_small(module: str) -> None:
    path = dict(_modules())[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines (split it by its jobs)"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for n in ast.walk(_TREES[module])
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return [m for m in json.loads(out.stdout.splitlines()[-1]) if m in HEAVY]


@pytest.mark.parametrize("code", [
    "import liveworth.cli",
    "import liveworth.cli; liveworth.cli.build_parser()",
    "import liveworth.cli as c\ntry:\n    c.build_parser().parse_args(['--help'])\n"
    "except SystemExit:\n    pass",
    "import liveworth.cli as c; c.main(['convert', '--coins', '100'])",
    "import liveworth.cli as c; c.main(['rates', '--json'])",
    "import liveworth",
])
def test_the_command_line_starts_without_heavy_libraries(code: str) -> None:
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_import() -> None:
    assert {"duckdb", "pyarrow"} <= set(_loaded_after("import liveworth.store"))


#: The public Python API (docs/ANALYTICS.md, docs/MODEL.md): ``from liveworth import X``.
PUBLIC_API = [
    "Analysis", "Estimate", "Event", "Forecast", "History", "Inputs", "ModelParams", "RateCard",
    "Roster", "SessionReport", "SimulatedSession", "Store", "Tier", "__version__", "analyze",
    "earnings", "estimate_from_history", "import_paths", "iter_journal", "leaderboard",
    "list_sessions", "load_history", "load_rate_card", "plan", "session_report",
    "simulate_session", "to_arrow", "to_pandas", "what_if",
]


def test_the_public_api_is_pinned() -> None:
    assert sorted(liveworth.__all__) == sorted(PUBLIC_API)
    assert set(liveworth._WHERE) == set(PUBLIC_API) - {"__version__"}
    for name in PUBLIC_API:
        assert getattr(liveworth, name) is not None, name
    with pytest.raises(AttributeError):
        liveworth.no_such_name  # noqa: B018


@pytest.mark.parametrize("old", sorted(DEPRECATED))
def test_old_import_paths_still_work(old: str) -> None:
    """The flat module paths the docs named before 0.2 re-export their new module for one
    release (CHANGELOG, Deprecated)."""
    module = __import__(f"liveworth.{old}", fromlist=["_"])
    public = [n for n in dir(module) if not n.startswith("_")]
    assert public, f"liveworth.{old} re-exports nothing"


def test_old_names_from_the_docs_resolve() -> None:
    from liveworth.analytics import analyze, to_arrow
    from liveworth.model import ModelParams
    from liveworth.recorder import record, recover
    from liveworth.simulate import simulate
    from liveworth.sources import FlakySource
    from liveworth.store import Store

    assert all(callable(x) for x in (analyze, to_arrow, record, recover, simulate, FlakySource,
                                      Store, ModelParams))


def test_every_data_file_ships_in_the_package() -> None:
    """A data file the code reads (rate card, catalogues, templates) must be named in
    pyproject's package-data, or a wheel install lacks it (the tests run from the sources)."""
    import fnmatch
    import tomllib

    config = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]
    missing = []
    for path in PACKAGE.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(PACKAGE.parent)
        owners = [(pkg, pats) for pkg, pats in shipped.items()
                  if rel.parts[: len(pkg.split("."))] == tuple(pkg.split("."))]
        ok = any(fnmatch.fnmatch("/".join(rel.parts[len(pkg.split(".")):]), pat)
                 for pkg, pats in owners for pat in pats)
        if not ok:
            missing.append(str(rel))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"

"""docs/MODEL.md's calibration table is what bench/calibration.py writes (regenerated here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "calibration.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibration_table", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_doc_holds_the_table_the_script_writes(script: ModuleType) -> None:
    doc = script.DOC.read_text(encoding="utf-8")
    section = doc[doc.index(script.BEGIN): doc.index(script.END) + len(script.END)]
    assert section == script.render(), "run python bench/calibration.py"
    assert script.main(["--check"]) == 0


def test_every_target_in_the_table_holds(script: ModuleType) -> None:
    table = script.render()
    assert "✗" not in table
    assert table.count("✓") == 6  # five sizes and the tail


def test_the_check_fails_on_a_stale_doc(script: ModuleType, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "MODEL.md"
    stale.write_text(f"intro\n{script.BEGIN}\nold figures\n{script.END}\nrest\n",
                     encoding="utf-8")
    monkeypatch.setattr(script, "DOC", stale)
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0
    text = stale.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("\nrest\n") and "old figures" not in text
    assert script.main(["--check"]) == 0

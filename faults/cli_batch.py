"""Run many ``liveworth`` command lines in one process (no start-up cost for each).

    python faults/cli_batch.py SPEC.json RESULT.json

SPEC is a list of ``{"argv": [...], "fresh": [SRC, DEST] | null, "cwd": DIR, "env": {...}}``:
before each command, SRC is copied over DEST (and DEST's WAL removed), so each command meets the
file as prepared, and the variables of ``env`` (optional) are set. RESULT lists ``{"code": int,
"stdout": str, "stderr": str}`` in the same order. ``main`` runs in this
process exactly as the ``liveworth`` script runs it; a crash of the process itself (a segfault
in DuckDB) leaves RESULT shorter than SPEC, which the caller reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import traceback
from pathlib import Path


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    out_path = Path(sys.argv[2])
    from liveworth.cli import main as cli

    results = []
    for item in spec:
        if item.get("fresh"):
            src, dest = item["fresh"]
            shutil.copy(src, dest)
            Path(dest + ".wal").unlink(missing_ok=True)
        os.chdir(item.get("cwd") or ".")
        os.environ.update(item.get("env") or {})
        err, out = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                try:
                    code = cli(item["argv"])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:
            code = -1
            err.write(traceback.format_exc())
        results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
        out_path.write_text(json.dumps(results))  # written as it goes: a crash keeps the rest
    return 0


if __name__ == "__main__":
    sys.exit(main())

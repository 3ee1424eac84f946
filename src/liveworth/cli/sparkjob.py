"""The read commands as a Spark application, for ``spark-submit`` (docs/SCALE.md "Spark")::

    spark-submit --master spark://HOST:7077 "$(python -m liveworth.cli.sparkjob --path)" \\
        sessions --lake /mnt/lake --json

runs ``liveworth sessions --lake /mnt/lake --json --engine spark`` in the session spark-submit
made (its master, its resources). ``sessions``, ``report``, ``gifters``, ``roster``, ``analyze``
and ``brief`` take every option they take on the command line; ``--engine spark`` is implied.
Outside spark-submit (``python -m liveworth.cli.sparkjob ...``) it runs on ``--spark-master``,
by default ``local[*]``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = ("sessions", "report", "gifters", "roster", "analyze", "brief")


def _refuse(message: str) -> int:
    sys.stderr.write(f"liveworth spark job: error: {message}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--path"]:  # the file to hand spark-submit
        print(__file__)
        return 0
    if not args or args[0] not in COMMANDS:
        return _refuse(f"name a command first: one of {', '.join(COMMANDS)} (then --lake DIR)")
    if "--engine" in args:
        i = args.index("--engine")
        if args[i + 1:i + 2] != ["spark"]:
            return _refuse("the Spark job answers with --engine spark only")
    else:
        args += ["--engine", "spark"]
    from liveworth.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())

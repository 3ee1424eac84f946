"""The ``liveworth`` command line: a thin skin over the library.

Each command group lives in a module of its own (:mod:`liveworth.cli.money`, ``sessions``,
``record``, ``estimate``, ``forecast``, ``analysis``, ``serve``) with a ``register(command)`` that
adds its subcommands; shared options are in :mod:`liveworth.cli.options`. A command parses its
options, calls one library function and renders the result as a table (people) or JSON
(``--json``, money as decimal strings). Every :class:`LiveworthError` becomes one line on stderr
and exit status 2.

The parser is built from light modules only: a command imports DuckDB, PyArrow, NumPy or the web
stack inside its handler, so ``liveworth --help`` and ``liveworth convert`` start at once
(``tests/test_layout.py`` fails when ``import liveworth.cli`` pulls one in).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from liveworth import __version__
from liveworth.cli.options import CommandFactory, Handler
from liveworth.errors import LiveworthError
from liveworth.render.terminal import visible

__all__ = ["CommandFactory", "Handler", "build_parser", "main"]

#: Modules with a ``register(command: CommandFactory) -> None`` that add their subcommands, in
#: the order ``--help`` lists them.
_COMMAND_MODULES: tuple[str, ...] = (
    "liveworth.cli.money",
    "liveworth.cli.sessions",
    "liveworth.cli.simulate",
    "liveworth.cli.estimate",
    "liveworth.cli.plan",
    "liveworth.cli.record",
    "liveworth.cli.lake",
    "liveworth.cli.forecast",
    "liveworth.cli.analysis",
    "liveworth.cli.crm",
    "liveworth.cli.adjust",
    "liveworth.cli.brief",
    "liveworth.cli.alerts",
    "liveworth.cli.serve",
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {visible(message)} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liveworth",
        description="How much money do you make on TikTok LIVE, and how do you make more?",
        epilog="Run `liveworth COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"liveworth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, handler: Handler, help_: str, desc: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=desc)
        p.set_defaults(handler=handler)
        return p

    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(command)
    return parser


def _storage_failure(exc: Exception, args: argparse.Namespace) -> LiveworthError | None:
    """The one line for a storage failure that reached here untranslated (a full disk while
    writing any file, a damaged database found by a query made outside the store's helpers);
    None for anything else, which is a bug."""
    if not isinstance(exc, OSError) and type(exc).__module__ not in ("duckdb", "_duckdb"):
        return None
    from liveworth.store.database import resolve_db_path, storage_error

    return storage_error(exc, resolve_db_path(getattr(args, "db", None)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["record"]:
        return _run(argv)
    # `record` takes SIGTERM before the parser imports the commands (issue #16, item 6)
    from liveworth.cli.termination import Termination

    term = Termination()
    term.install()
    try:
        return _run(argv, termination=term)
    finally:
        term.done()


def _run(argv: list[str], **extra: object) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for key, value in extra.items():
        setattr(args, key, value)
    from rich.console import Console

    interactive = sys.stdout.isatty()
    console = Console(highlight=False, soft_wrap=False,
                      width=None if interactive or os.environ.get("COLUMNS") else 120)
    handler: Handler = args.handler
    try:
        return handler(args, console)
    except LiveworthError as exc:  # its text may quote an input: shown, never obeyed
        sys.stderr.write(f"liveworth {args.command}: error: {visible(exc)}\n")
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, unless debugging
        told = _storage_failure(exc, args)
        if told is not None:  # not a bug: the disk or the database file failed
            sys.stderr.write(f"liveworth {args.command}: error: {visible(told)}\n")
            return 2
        if os.environ.get("LIVEWORTH_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"liveworth {args.command}: internal error: "
                         f"{exc.__class__.__name__}: {visible(first)}"
                         " (set LIVEWORTH_DEBUG=1 for details)\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m liveworth`` runs the command-line interface."""

from liveworth.cli import main

raise SystemExit(main())

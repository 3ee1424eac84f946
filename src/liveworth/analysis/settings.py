"""The settings the analyses share with the command line and the web, named once (and light:
the CLI builds its parser from them without importing NumPy or DuckDB)."""

#: Fewest sessions (with the data a driver needs) before a driver is estimated.
MIN_SESSIONS = 10
#: Confidence level of every interval.
LEVEL = 0.95
#: Seed of the bootstrap when no Generator is given.
DEFAULT_SEED = 0
#: The periods of the agency roll-up.
PERIODS = ("month", "week")

"""liveworth's fault and abuse suite: crashes, reconnect storms, hostile input, storage faults,
concurrency and web load, with the figures it measures (``make faults``; docs/RELIABILITY.md).

Run ``python faults/run.py`` (full) or ``python faults/run.py --short`` (CI). Each scenario is a
module with a ``run(ctx) -> list[Figure]``; ``tests/test_faults_short.py`` calls the fast ones
with small sizes so that ``make test`` covers them too.
"""

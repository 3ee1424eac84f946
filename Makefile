# liveworth — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
# The demo needs only the package itself (no dev tools, no AGPL connector).
DEMO_STAMP := $(VENV)/.installed-demo
DEMO_DB := out/demo.duckdb

.PHONY: demo test lint typecheck unit java bench faults screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall only when the project's metadata or pins change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,tiktok,spark]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e .
	touch $(DEMO_STAMP)

DEMO_ROOM := 7309128470994258694

demo: $(DEMO_STAMP)
	@mkdir -p out
	@rm -f $(DEMO_DB) $(DEMO_DB).rejects.jsonl
	$(VENV)/bin/liveworth import --db $(DEMO_DB) examples/real_live_2023-12-05_a.json.gz examples/real_live_2023-12-05_b.json.gz
	$(VENV)/bin/liveworth report --db $(DEMO_DB) $(DEMO_ROOM) --redact --html out/demo-report.html
	$(VENV)/bin/liveworth convert --coins 29999
	$(VENV)/bin/liveworth estimate --followers 50000 --seed 1

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench faults

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Browser tests drive Debian's Chromium (never a downloaded browser); they skip without it.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	-(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || echo "chromium not installed: browser tests will skip"

# axe-core (the accessibility check of tests/test_web_pages.py) from the npm registry, as pinned by
# tests/a11y/package-lock.json: installed again when the lock changes; without npm the check skips.
AXE := tests/a11y/node_modules/.package-lock.json
$(AXE): tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.package-lock.json; \
	else echo "npm not installed: the accessibility checks will skip"; fi

# The Spark tests (tests/test_spark.py) need Java 17+ (.ci/run installs Debian's where java is missing).
java: $(STAMP)
	@$(PY) -c 'from liveworth.store.spark.checks import main; raise SystemExit(main())'

unit: $(STAMP) $(AXE) java | $(CHROMIUM)
	$(VENV)/bin/pytest

test: lint typecheck unit

# Benchmarks against the alternatives (not part of `make test`); writes docs/PERFORMANCE.md.
bench: $(STAMP)
	$(PY) bench/run.py

# The fault and abuse suite with its figures (writes docs/RELIABILITY.md); CI runs its short form
# through tests/test_faults_short.py.
faults: $(STAMP) | $(CHROMIUM)
	$(PY) faults/run.py

# The README's screenshots (docs/img/): pages of the real dumps in Chromium, made small by pngquant.
PNGQUANT := /usr/bin/pngquant
$(PNGQUANT):
	-(apt-get update -qq && apt-get install -y -qq pngquant) >/dev/null 2>&1 || echo "pngquant not installed"

screenshots: $(STAMP) | $(CHROMIUM) $(PNGQUANT)
	LIVEWORTH_SCREENSHOTS=docs $(VENV)/bin/pytest tests/test_web_pages.py -k readme_screenshots

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

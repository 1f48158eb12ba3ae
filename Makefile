# `make run` and `make test` do every missing set-up step themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
WEB_ASSETS := .cache/web-assets

.PHONY: setup run test lint typecheck check system-deps web-assets test-deps clean

setup: $(STAMP) system-deps web-assets

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
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

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
test-deps:
	@scripts/ensure-system-deps.sh chromium:/usr/bin/chromium

run: setup
	$(BIN)/tweetheat run

test: setup test-deps
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check streamer analysis scripts tests
	$(BIN)/ruff format --check streamer analysis scripts tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

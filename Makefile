# `make run` and `make test` do every missing set-up step themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint typecheck check system-deps test-deps clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

system-deps:
	@scripts/ensure-system-deps.sh redis-server:redis-server

# The browser test needs Chromium and a local copy of Leaflet (there is no CDN offline).
test-deps:
	@scripts/ensure-system-deps.sh chromium:chromium libjs-leaflet:/usr/share/javascript/leaflet/leaflet.js

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

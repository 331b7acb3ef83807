# Two commands on a fresh Debian/Ubuntu machine:
#   make run   — install everything (system packages + .venv) and open the app
#   make test  — install everything and run the whole test suite headless
#   make bundle — the officer's app as one folder, dist/desmig/ (PyInstaller; no Python needed there)
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Qt's xcb platform plugin and fonts; Xvfb for headless screenshots; PostgreSQL for the server tests.
APT_RUN := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 \
	libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxkbcommon0 libegl1 libgl1 libfontconfig1 \
	libdbus-1-3 fonts-dejavu-core python3-venv
APT_TEST := $(APT_RUN) xvfb postgresql poppler-utils chromium chromium-driver

.PHONY: run test test-fast test-slow bench bundle system-run system-test venv clean

run: system-run venv
	$(VENV)/bin/desmig gui

test: system-test venv
	bash scripts/test.sh

# dist/desmig/desmig (desmig.exe on Windows) from packaging/desmig.spec; skipped when already built
# from the same sources (dist/desmig.stamp). scripts/test.sh builds it too, for tests/bundle.
bundle: system-run venv
	bash scripts/bundle.sh

# The full benchmark run (100k households, HQ load 50 × 2,000; tens of minutes): bench/results/<date>.json + .md.
# BENCH_ARGS="--keep /tmp/bench100k" reuses the generated databases across runs.
bench: venv
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# The same suite without apt (for a machine already set up).
test-fast: venv
	bash scripts/test.sh

# Longer chaos/property runs (more seeds); see README.
test-slow: venv
	DESMIG_RANDOM_SEED=1 bash scripts/test.sh -m slow --dist load

system-run:
	@bash scripts/apt.sh $(APT_RUN)

system-test:
	@bash scripts/apt.sh $(APT_TEST)

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[desktop,server,test,bundle]"
	touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

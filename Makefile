# The two commands: `make run` and `make test`. Everything they need is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The stamp tracks pyproject.toml, so a second run on a warm machine skips pip entirely.
STAMP := $(VENV)/.installed
OS_PACKAGES := ffmpeg espeak-ng
PYTEST_ARGS ?=

.PHONY: run test install os-deps lint

run: install os-deps
	$(BIN)/voicesmith serve

test: install os-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "voicesmith needs Python 3.11 or newer; set PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[train,dev]'
	@touch $(STAMP)

os-deps:
	@missing=""; \
	for cmd in $(OS_PACKAGES); do command -v $$cmd >/dev/null || missing="$$missing $$cmd"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "missing OS packages:$$missing; install them with: sudo apt-get install -y$$missing"; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations

# The two commands: `make run` and `make test`. Everything they need is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The stamp tracks pyproject.toml, so a second run on a warm machine skips pip entirely.
STAMP := $(VENV)/.installed
# Each is both the command looked for and the Debian package that provides it.
OS_PACKAGES := ffmpeg espeak-ng npm
BROWSER_PACKAGES := chromium
# The npm stamp tracks the lock file, as the venv stamp tracks pyproject.toml.
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: run test install os-deps browser-deps web-deps lint

run: install os-deps web-deps
	$(BIN)/voicesmith serve

test: install os-deps browser-deps web-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "voicesmith needs Python 3.11 or newer; set PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[train,dev]'
	@touch $(STAMP)

web-deps: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing; install it with: sudo apt-get install -y npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

os-deps:
	@$(call apt_ensure,$(OS_PACKAGES))

browser-deps:
	@$(call apt_ensure,$(BROWSER_PACKAGES))

define apt_ensure
	missing=""; \
	for cmd in $(1); do command -v $$cmd >/dev/null || missing="$$missing $$cmd"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "missing OS packages:$$missing; install them with: sudo apt-get install -y$$missing"; \
	fi
endef

lint: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations

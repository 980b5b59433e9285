# The two commands: `make run` and `make test`. Everything they need is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv installs exactly what uv.lock holds. It is itself pinned, and bootstrapped from PyPI
# into .tools/ with the machine's own pip, so a fresh clone needs nothing but Python.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
# The one download uv may make is a package from the lock; never an interpreter.
export UV_PYTHON_DOWNLOADS := never
# Each is both the command looked for and the Debian package that provides it.
OS_PACKAGES := ffmpeg espeak-ng npm
BROWSER_PACKAGES := chromium
# The npm stamp tracks the lock file, as uv tracks uv.lock.
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=
LOCK_HELP := uv.lock does not match pyproject.toml: run 'make lock', then commit uv.lock

.PHONY: run test fuzz lock lock-check python-check os-deps browser-deps web-deps lint

run: python-check $(UV) os-deps web-deps
	$(call uv_sync,--extra train --inexact)
	$(BIN)/voicesmith serve

test: python-check lock-check os-deps browser-deps web-deps
	$(call uv_sync,--extra train --extra dev)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Exploration, not a gate: schemathesis unseeded, with 300 examples a route instead of the
# seeded 45 of `make test`. Put what it finds into tests/hardening/corpus.py as fixed cases.
fuzz: python-check lock-check os-deps
	$(call uv_sync,--extra train --extra dev)
	VOICESMITH_FUZZ=explore $(BIN)/python -m pytest tests/hardening/test_schema.py $(PYTEST_ARGS)

# A no-op sync takes a tenth of a second, so there is no stamp to go stale; `--frozen`
# installs the lock as it is and never re-resolves. `make run` leaves the test tools be.
define uv_sync
	@$(UV) sync --frozen --quiet $(1)
endef

python-check:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "voicesmith needs Python 3.11 or newer; set PYTHON=python3.11"; exit 1; }

$(UV):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Refresh the lock on purpose: after editing dependencies in pyproject.toml, or to take
# upstream releases (`make lock LOCK_ARGS=--upgrade`). Then run `make test` and commit.
lock: $(UV)
	$(UV) lock $(LOCK_ARGS)

lock-check: $(UV)
	@$(UV) lock --check --quiet || { echo "$(LOCK_HELP)"; exit 1; }

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

lint: python-check $(UV)
	$(call uv_sync,--extra train --extra dev)
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations

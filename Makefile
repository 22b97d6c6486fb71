# Two entry points a newcomer needs: `make run` and `make test`.
# Both create .venv and install everything on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint setup browser clean

# the local web lab on http://127.0.0.1:8000 (PORT=8001 make run for another port)
run: $(STAMP)
	$(BIN)/convscope serve --port $(or $(PORT),8000)

# lint and types first (a failure stops here), then every test, the browser tests in Debian's
# chromium included (installed here when missing)
test: $(STAMP) browser lint
	CONVSCOPE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff and mypy with their settings in pyproject.toml
lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[torch,dev,notebook]'
	touch $(STAMP)

# Playwright drives Debian's chromium; Playwright's own browser download is never used.
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts

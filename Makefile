# Two entry points a newcomer needs: `make run` and `make test`.
# Both create .venv and install everything on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup clean

run: $(STAMP)
	$(BIN)/convscope tour

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[torch,dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

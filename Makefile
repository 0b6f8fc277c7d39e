# Two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit notebooks test-dates lab load eval bench clean help

help:
	@echo "make run    - install and start the platform on http://$(HOST):$(PORT)"
	@echo "make test   - install dev extras; ruff, mypy, pytest, nbval notebooks, shifted clocks"
	@echo "make lab    - JupyterLab on notebooks/ with the project's kernel"
	@echo "make load   - Locust load test (see loadtests/README.md)"
	@echo "make eval   - evaluation suites (see evals/README.md)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,otel]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/ai-platform db upgrade
	$(BIN)/ai-platform demo
	$(BIN)/ai-platform serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/pytest -q tests

NBVAL := $(BIN)/pytest -q -p no:cacheprovider --nbval --nbval-current-env \
	--nbval-sanitize-with notebooks/sanitize.cfg notebooks

notebooks: $(VENV)/.dev-installed
	$(NBVAL)

# The tests whose subject is the calendar (monthly budgets, tokens per day, the ledger,
# usage by day and month, key expiry) at a month's last second, the first seconds of a
# month, New Year's Eve turning and a leap day; every lesson in the two runs that cross
# all of those boundaries (tests/shifted_clock.py; needs Debian's faketime).
DATE_TESTS := tests/governance/test_budget.py tests/governance/test_ratelimit.py \
	tests/governance/test_ledger.py tests/governance/test_governed.py \
	tests/services/admin tests/test_cli.py

test-dates: $(VENV)/.dev-installed
	$(BIN)/python -m tests.shifted_clock --jobs 2 -- \
		$(BIN)/pytest -q -p no:cacheprovider $(DATE_TESTS)
	$(BIN)/python -m tests.shifted_clock --jobs 2 --crossings -- $(NBVAL)

test: lint typecheck unit notebooks test-dates

lab: $(VENV)/.dev-installed
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "AI Platform (venv)" >/dev/null
	$(BIN)/jupyter lab --notebook-dir=notebooks

load: $(VENV)/.dev-installed
	$(BIN)/python -m loadtests.run $(ARGS)

eval: $(VENV)/.dev-installed
	$(BIN)/python -m evals.run $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

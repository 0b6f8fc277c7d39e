# Two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit notebooks test-dates lab load eval bench clean help deploy-test

help: ## list the targets (this text)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {printf "make %-11s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST) | sed 's/\$$(HOST)/$(HOST)/; s/\$$(PORT)/$(PORT)/'

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

run: $(VENV)/.run-installed ## install and start the platform on http://$(HOST):$(PORT)
	$(BIN)/ai-platform db upgrade
	$(BIN)/ai-platform demo --host $(HOST) --port $(PORT)
	$(BIN)/ai-platform serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed ## ruff over the repository
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev-installed ## mypy --strict
	$(BIN)/mypy

# Three workers on two cores: most tests wait on servers, databases and sockets. A module
# stays on one worker (module-scoped fixtures, such as the split shape's processes).
unit: $(VENV)/.dev-installed ## pytest (tests/)
	$(BIN)/pytest -q -n 3 --dist loadscope tests

# Two workers, each lesson whole on one of them (a lesson's cells share a kernel).
NBVAL := $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --nbval --nbval-current-env \
	--nbval-sanitize-with notebooks/sanitize.cfg notebooks

notebooks: $(VENV)/.dev-installed ## nbval: execute every lesson and compare its outputs
	$(NBVAL)

# The tests whose subject is the calendar (monthly budgets, tokens per day, the ledger,
# usage by day and month, key expiry) at a month's last second, the first seconds of a
# month, New Year's Eve turning and a leap day; every lesson in the two runs that cross
# all of those boundaries (tests/shifted_clock.py; needs Debian's faketime).
DATE_TESTS := tests/governance/test_budget.py tests/governance/test_ratelimit.py \
	tests/governance/test_ledger.py tests/governance/test_governed.py \
	tests/services/admin tests/test_cli.py

test-dates: $(VENV)/.dev-installed ## calendar tests and lessons with the clock shifted (faketime)
	$(BIN)/python -m tests.shifted_clock --jobs 2 -- \
		$(BIN)/pytest -q -p no:cacheprovider $(DATE_TESTS)
	$(BIN)/python -m tests.shifted_clock --jobs 2 --crossings -- $(NBVAL)

test: lint typecheck unit notebooks test-dates ## everything: lint, typecheck, unit, notebooks, test-dates

# Jupyter refuses to run as root unless told to (containers, CI machines).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(VENV)/.dev-installed ## JupyterLab on notebooks/ with the project's kernel
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "AI Platform (venv)" >/dev/null
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT)

load: $(VENV)/.dev-installed ## Locust load test, ARGS=... (see loadtests/README.md)
	$(BIN)/python -m loadtests.run $(ARGS)

eval: $(VENV)/.dev-installed ## evaluation suites, ARGS=... (see evals/README.md)
	$(BIN)/python -m evals.run $(ARGS)

# Not part of `make test`: builds images and runs the whole stack (docs/deploy.md).
deploy-test: $(VENV)/.dev-installed ## build the image, run docker-compose.yml with podman, end to end
	$(BIN)/python -m deploy.podman_test $(ARGS)

clean: ## remove the virtualenv and tool caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The README's commands. `make run` and `make test` work on a fresh clone with no other step.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.DEFAULT_GOAL := help
.PHONY: help run test check-tools install install-test assets migrate demo jobs lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-13s %s\n", $$1, $$2}'

check-tools:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is missing: install python3.11 (with venv), or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "$(PYTHON) is not Python 3.11: install Python 3.11, or run make PYTHON=/path/to/python3.11"; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20 with npm (https://nodejs.org or your package manager)"; exit 1; }

$(BIN)/python: | check-tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: check-tools $(BIN)/python assets ## Install the portal into .venv and build front-end assets
	$(BIN)/pip install --quiet -e .

install-test: check-tools $(BIN)/python assets ## Install the portal with its test extras
	$(BIN)/pip install --quiet -e '.[test]'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

assets: check-tools node_modules/.package-lock.json ## Build static/build from pinned npm packages
	npm run --silent build

migrate: install ## Apply database migrations
	@mkdir -p instance
	$(BIN)/flask db upgrade

demo: migrate ## Load demo data (idempotent; only into a demo database)
	$(BIN)/flask demo load

run: demo ## Set everything up and serve on http://127.0.0.1:5000
	@echo "Serving on http://127.0.0.1:5000  (Ctrl+C to stop; mail is written to instance/mail/)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

jobs: install ## Run the periodic jobs once (mail delivery, reminders)
	$(BIN)/flask jobs run

test: install-test ## Run the whole test suite (pytest's "no tests collected" counts as a failure)
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

lint: install-test ## ruff
	$(BIN)/ruff check portal tests bench app.py

bench: install-test ## Run the benchmarks against their targets
	@failed=""; for script in bench/[!_]*.py; do $(BIN)/python "$$script" || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "Targets missed in:$$failed"; exit 1; fi

clean: ## Remove the virtualenv, node_modules, built assets and the development database
	rm -rf $(VENV) node_modules static/build instance

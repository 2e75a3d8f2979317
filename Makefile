# The two commands: `make run` (the whole stack, embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test faults venv lint format bench clean messages

venv: $(STAMP)

$(STAMP): requirements.txt requirements-gpu.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: sudo apt-get install python3.11 python3.11-venv"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

run: venv
	@PY=$(PY) bash scripts/run_stack.sh

dev: venv  # the same stack with Django's reloading development server instead of gunicorn
	@PY=$(PY) DEV=1 bash scripts/run_stack.sh

test: venv
	@mkdir -p "$${PLITKA_VAR_DIR:-var}"  # the SQLite test database lives there by default
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m pytest; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	  exit $$status

# Real processes broken on purpose (kill -9, Redis down or hung, a full or read-only disk,
# cut database connections, racing workers, 1,000 jobs); prints and writes the fault table
# to var/faults-report.md. Needs root for its tmpfs mounts, PostgreSQL for one test.
faults: venv
	@mkdir -p "$${PLITKA_VAR_DIR:-var}"
	PLITKA_FAULTS=1 $(PY) -m pytest tests/faults

# After changing text people read: update the Russian catalogs in locale/ru (translate what
# is new or changed there), then compile them. Needs GNU gettext (apt-get install gettext).
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=benchmarks --ignore=scripts --ignore=docs
messages: venv
	$(PY) manage.py makemessages -l ru $(I18N_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l ru $(I18N_IGNORE)
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var

lint: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/test-* .pytest_cache .ruff_cache .mypy_cache

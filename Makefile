# On a fresh machine: `make init` (set-up), `make run`; `make doctor` checks a set-up, `make test` the code.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
TESTING := $(VENV)/.installed-test

.PHONY: init run doctor login test bench install clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# What running needs: the bot and its runtime dependencies only.
$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME)

# Plus the test tools (the `test` extra).
$(TESTING): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TESTING) $(RUNTIME)

install: $(RUNTIME)

init: $(RUNTIME)
	$(PY) -m bot init

run: $(RUNTIME)
	$(PY) -m bot

doctor: $(RUNTIME)
	$(PY) -m bot doctor

login: $(RUNTIME)
	$(PY) -m bot login

# The tests run in parallel (pytest-xdist): the end-to-end ones mostly wait on the CLI and the
# stand-ins, so more workers than cores pay. Each test has its own bot, stand-ins (free ports on
# 127.0.0.1), HOME and SESSION_DIR; tests start in file order (the end-to-end ones first), one at a time
# per free worker (loadgroup: a module marked xdist_group stays on one worker). PYTEST_WORKERS=0: serial.
PYTEST_WORKERS ?= 3
test: $(TESTING)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: $(TESTING)
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) build *.egg-info

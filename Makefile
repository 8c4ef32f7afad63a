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

test: $(TESTING)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(TESTING)
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) build *.egg-info

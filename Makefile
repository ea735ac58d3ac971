# Two commands a newcomer needs: `make run` (set up, then the default job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup run test
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: setup
	$(PY) runner.py run --preset small --seed 42

test: setup
	$(PY) -m pytest -q

# visiongym: the two quick-start commands (and a few helpers).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-slow lint bench clean venv

venv: $(STAMP)

# Re-installs when pyproject.toml changes; a fresh machine gets the whole set-up here.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,zoo,atari,rllib]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/visiongym demo

test: $(STAMP)
	$(VENV)/bin/pytest -q

test-slow: $(STAMP)
	$(VENV)/bin/pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/env_speed.py

clean:
	rm -rf runs videos data .pytest_cache

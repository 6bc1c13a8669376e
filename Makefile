# `make serve` installs everything into .venv and runs the service; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build here; on a GPU host install the CUDA build of torch before `make install`.
TORCH_VERSION ?= 2.13.0

.PHONY: serve test lint install

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/pip install --quiet -e '.[kokoro,kokoro-torch,chatterbox,test]'
	$(BIN)/pip install --quiet --no-deps -r requirements/chatterbox-no-deps.txt
	touch $@

install: $(VENV)/.installed

serve: install
	$(BIN)/tts-router serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -W error

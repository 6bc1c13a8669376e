# `make serve` installs everything into .venv and runs the service; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build here; on a GPU host install the CUDA build of torch before `make install`.
TORCH_VERSION ?= 2.13.0

.PHONY: serve test lint install browser

# torchaudio's wheels ship a C++ extension linked to one torch release and its CUDA build
# (2.11.0: CUDA 13); where it cannot load, as beside CPU torch or another torch release,
# `import torchaudio` fails. Chatterbox and Perth use only its pure-Python parts (Resample,
# Spectrogram, compliance.kaldi), and torchaudio skips the extension when its library files
# are absent, so the install deletes them.
$(VENV)/.installed: pyproject.toml requirements/chatterbox-no-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/pip install --quiet -e '.[kokoro,kokoro-torch,chatterbox,test]'
	$(BIN)/pip install --quiet --no-deps -r requirements/chatterbox-no-deps.txt
	rm -f $$($(BIN)/python -c "import importlib.util as u; \
		print(u.find_spec('torchaudio').submodule_search_locations[0])")/lib/*.so
	touch $@

install: $(VENV)/.installed

# The console's browser tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

browser: $(CHROMIUM)

serve: install
	$(BIN)/tts-router serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Warnings are errors, except the few third-party ones pyproject.toml lists under filterwarnings.
test: lint browser
	$(BIN)/pytest

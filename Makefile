# ClauseCite: `make run` starts the app, `make test` runs the checks and every test. Both build .venv when needed.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: run test test-fast check bench browser clean model

# requirements.txt is what a user installs; requirements-dev.txt adds the test and check tools; the
# project itself goes in editable, so `clausecite` is on the venv's PATH and follows the checkout.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

browser:
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null)) || \
	  (echo "The browser tests need Debian's chromium: run 'apt-get install chromium chromium-driver' as root." && exit 1)

run: $(STAMP)
	$(BIN)/clausecite serve

# lint, format and types: seconds, so they run before the tests
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: check browser
	$(BIN)/python -m pytest -q

# the pure logic with a hashed fake embedder: no model, no ../shared, no browser (seconds). Only the files
# that hold `fast` tests are collected: importing the others (Gradio, torch) alone takes longer.
FAST_FILES = $(shell grep -rl --include='test_*.py' 'mark.fast' tests)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m fast $(FAST_FILES)

# Rebuilds models/ from train/questions with fixed seeds (53 minutes from nothing on 2 cores, timed); never part of `make test`.
model: $(STAMP)
	$(BIN)/python -m train.run

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data

# The two commands of the README's quick start, each doing its own set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-lowest test-wheel bench lint clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# One stamp per extra, remade whenever pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[$*]'
	touch $@

$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

run: $(VENV)/.installed-runtime
	$(BIN)/feedbrief run

# The browser test opens the HTML digest in Debian's headless Chromium.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

test: $(VENV)/.installed-test $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/pytest

# The lowest versions pyproject.toml allows of each direct dependency, in a throwaway
# environment, resolved by uv (installed from the package index with pip, and given pip's
# indexes), then the smoke tests: one or two files for each dependency's uses.
LOWEST      := .venv-lowest
SMOKE_TESTS := tests/test_packaging.py tests/dedup/test_canonical.py \
	tests/dedup/test_fingerprint.py tests/summarise/test_stemmers.py \
	tests/summarise/test_languages.py tests/ingest/test_html.py tests/ingest/test_parse.py \
	tests/ingest/test_charset.py tests/ingest/test_opml.py tests/ingest/test_clean.py \
	tests/ingest/test_fetch.py tests/storage/test_storage.py tests/feedbrief/test_settings.py \
	tests/feedbrief/test_metrics.py
# The two slowest checks of real-world data, to stay within two minutes.
SMOKE_SKIP  := not links_taken_as_already_normal and not no_real_world_feed_is_relabelled
SMOKE_CLI   := version or log_level or run_once or summarise_batch or invalid_config

test-lowest:
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install -q uv
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		$$($(PYTHON) .ci/uv-index-args) -e '.[test]'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" -k "$(SMOKE_SKIP)" \
		$(SMOKE_TESTS)
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/feedbrief/test_cli.py \
		-k "$(SMOKE_CLI)"

# The wheel a packager builds from the checkout, installed with its dependencies in a
# fresh environment (as `pipx install .` does), runs in an empty folder.
WHEEL_ENV := .venv-wheel

test-wheel:
	rm -rf $(WHEEL_ENV)
	$(PYTHON) -m venv $(WHEEL_ENV)
	$(WHEEL_ENV)/bin/pip install -q uv
	$(WHEEL_ENV)/bin/pip wheel -q --no-deps -w $(WHEEL_ENV)/dist .
	$(WHEEL_ENV)/bin/uv pip install -q --python $(WHEEL_ENV)/bin/python \
		$$($(PYTHON) .ci/uv-index-args) $(WHEEL_ENV)/dist/feedbrief-*.whl
	.ci/wheel-smoke $(WHEEL_ENV)/bin/feedbrief

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV) $(LOWEST) $(WHEEL_ENV)

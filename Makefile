# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers: most tests wait on sockets and timers, so more workers than cores pays
# (docs/developers/testing.md); `make test WORKERS=0` runs in one process.
WORKERS ?= 5
XDIST := -n $(WORKERS) --dist load

.PHONY: run test check soak bench docs docs-build docs-captures clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/deskalert demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST)

# The quick tier, while working: no real-process tests (marker `system`), a tenth of the
# property tests' examples. `make test` stays the gate.
check: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST) -m "not system and not soak" --hypothesis-profile=quick

# The long fault runs (repeated hub crashes under many desks); not part of `make test`.
soak: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m soak

# Not part of `make test`: minutes of load on loopback; writes bench/results.md.
bench: $(VENV)/.installed-bench
	@command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto || \
		echo "bench: mosquitto is missing (sudo apt-get install mosquitto); the peer figures are skipped"
	$(BIN)/python bench/run.py

# The documentation site (docs/, mkdocs.yml): the generated reference pages checked, built with
# --strict (a broken link, page or anchor fails) into site/, then served on 127.0.0.1:8000.
docs docs-build: export NO_MKDOCS_2_WARNING = 1
docs: docs-build
	@echo "docs: serving on http://127.0.0.1:8000/ (ctrl+c stops)"
	$(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

docs-build: $(VENV)/.installed-docs
	$(BIN)/python docs/generate.py --check
	$(BIN)/mkdocs build --strict

# The screens' text captures (tmux) and the page's picture (Chromium), from a demo hub of their own.
docs-captures: $(VENV)/.installed-test
	$(BIN)/python docs/capture.py

clean:
	rm -rf $(VENV) build site src/*.egg-info

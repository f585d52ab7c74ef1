# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers: most tests wait on sockets and timers, so more workers than cores pays
# (README, "Tests"); `make test WORKERS=0` runs in one process.
WORKERS ?= 5
XDIST := -n $(WORKERS) --dist load

.PHONY: run test check soak bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

clean:
	rm -rf $(VENV) build src/*.egg-info

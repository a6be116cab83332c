# make report: run the study (PROFILE=smoke|quick|standard|paper, default quick) and render the report;
# STUDY=table1 (or a study file) instead of the built-in default study.
# make test: install into .venv if needed, then the lint and type gate, the fast test lane (no training, about two minutes), then the rest.
# make test-fast: the fast lane only.   make bench: timing benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= quick
STORE ?= output/study.sqlite
STUDY ?= default
STAMP := $(VENV)/.installed
# GPU=1: the CUDA build of TensorFlow (NVIDIA GPUs, Linux) instead of the CPU-only one. To switch an
# existing .venv, remove it first (both builds install the same `tensorflow` package).
TF_EXTRA := $(if $(GPU),gpu,cpu)

.PHONY: install report run lint test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq -e '.[test,$(TF_EXTRA)]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/study run --study $(STUDY) --profile $(PROFILE) --store $(STORE)

report: run
	$(BIN)/study report --study $(STUDY) --profile $(PROFILE) --store $(STORE)

# The lint and type gate first (configured in pyproject.toml), then the fast tests.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test-fast: lint
	$(BIN)/python -m pytest -q -m "not train and not slow"

test: test-fast
	$(BIN)/python -m pytest -q -m "train or slow"

# The env notes: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE slow a current numpy; unset both for the sgemm peak.
bench: $(STAMP)
	mkdir -p output
	$(BIN)/python -m pytest benchmarks -q --benchmark-json=output/benchmarks.json --benchmark-columns=median,iqr,rounds
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/throughput.py --json output/throughput.json
	$(BIN)/python benchmarks/study_throughput.py --json output/study_throughput.json

clean:
	rm -rf output/figures output/report.html output/report.pdf output/results.csv

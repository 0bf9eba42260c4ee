# `make demo` and `make test` each create the virtual environment on first use.
# TORCH picks the torch build: the default is the CPU wheel this project's machines carry;
# on a GPU machine use e.g. `make TORCH=torch demo`.
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-all docs lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stilts chain mnli xnli

# The suite runs in two tiers, each test in exactly one. `make test` is the fast tier (every
# test not marked `slow`): ruff, mypy on stilts/ (its settings are in pyproject.toml), then
# every kind of check, a real Trainer run per head, the SIGKILL, lock and plugin-install tests
# included, and the documentation site built with --strict (a broken link or anchor fails it;
# a few seconds); it is meant to finish in under 10 minutes on 2 idle cores.
# `make test-slow` is the slow tier alone: the long end-to-end runs, of a minute or more each:
# each smoke recipe through `stilts run` and `stilts analyze`, the smoke grid through two local
# launcher workers (one job SIGKILLed), and each kind of generated plugin package installed,
# tested and chained (the fast tier checks each piece: the job graph, a job in-process, SLURM's
# submission, the generated files).
# `make test-all` is both, the fast tier first, so nothing runs twice; it is what CI runs.
# Test files run in PYTEST_WORKERS processes (one file per process at a time: module fixtures
# stay shared), each with one torch thread: most tests are single-threaded Python (data,
# tokenisers, subprocesses), so two processes finish in about 60 % of one's time on 2 cores.
PYTEST_WORKERS ?= 2
PYTEST := OMP_NUM_THREADS=1 $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile
test: $(STAMP)
	$(VENV)/bin/ruff check stilts tests bench tools docs/hooks
	$(VENV)/bin/mypy
	$(MKDOCS) --strict
	$(PYTEST) -m "not slow"

test-slow: $(STAMP)
	$(PYTEST) -m slow

test-all: test test-slow

# The documentation site (mkdocs.yml), built into site/: `make docs`, then open site/index.html,
# or `$(VENV)/bin/mkdocs serve` to rebuild as pages change. NO_MKDOCS_2_WARNING silences
# mkdocs-material's notice about its successor, which says nothing about this site. Not
# --quiet: it hides the warnings from --strict too, which then passes a broken link.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build
docs: $(STAMP)
	$(MKDOCS)

# bench/gpu.py's full shape (XLM-R large) needs a CUDA GPU; where torch sees none, its tiny shape.
bench: $(STAMP)
	$(PY) bench/cli_speed.py
	$(PY) bench/planning.py
	$(PY) bench/phase_overhead.py
	$(PY) bench/mining.py
	$(PY) bench/adapters.py
	$(PY) bench/reuse.py
	$(PY) bench/calibration.py
	if $(PY) -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; \
	then $(PY) bench/gpu.py; else $(PY) bench/gpu.py --cpu-tiny; fi

clean:
	rm -rf $(VENV) stilts-runs site

# symbolic: install, demo, test, bench. PYTHON may point at a virtual environment's python.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
export HF_HUB_OFFLINE = 1

.PHONY: install demo test test-fast bench mutate

# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build. Which build of
# torch==2.13.0 comes depends on where pip looks: on a stock Linux machine PyPI's wheel is the
# CUDA one (about 3 GB with its libraries); TORCH_INDEX=https://download.pytorch.org/whl/cpu
# takes the CPU-only wheel (about 200 MB) instead. Empty (the default) uses pip's own
# configuration, which on the project's machines offers the CPU wheel from local disk.
TORCH_INDEX ?=
install:
	$(PIP) install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
	$(PIP) install --quiet -e ".[dev]"

# Said first: the quiet install is the long silent part of a first run.
demo:
	@echo "make demo: installing torch (CPU) and symbolic first, quietly (2-3 minutes on a fresh machine, 10-20 s once installed), then composing: about 5 s on two idle cores, with a progress bar"
	@$(MAKE) --no-print-directory install
	$(PYTHON) -m symbolic demo --out out/demo

test: install
	$(PYTHON) -m pytest -n 2 -q tests

# Mutation testing, not part of `make test` (minutes per module on 2 cores; see the README):
# the six one-line bugs of issue 18 and mutmut's score of core modules, with the tests of
# MUTATE_BEFORE (the suite before that issue) and with today's.
MUTATE_MODULES ?= sandbox harmony
MUTATE_BEFORE ?= 5676d3a
mutate: install
	$(PIP) install --quiet -e ".[mutate]"
	-$(PYTHON) tests/mutations.py --tests-rev $(MUTATE_BEFORE)
	$(PYTHON) tests/mutations.py
	$(PYTHON) tests/mutation_score.py --tests-rev $(MUTATE_BEFORE) $(MUTATE_MODULES)
	$(PYTHON) tests/mutation_score.py $(MUTATE_MODULES)

test-fast:
	$(PYTHON) -m pytest -n 2 -q tests -m "not slow"

bench: install
	$(PYTHON) benchmarks/load.py
	$(PYTHON) benchmarks/fuzz_midi.py
	$(PYTHON) benchmarks/chords.py
	$(PYTHON) benchmarks/metrics.py
	$(PYTHON) benchmarks/representations.py --bach
	$(PYTHON) benchmarks/tokenize_corpus.py
	$(PYTHON) benchmarks/eval_harmony2vec.py
	$(PYTHON) benchmarks/eval_getdiff.py
	$(PYTHON) benchmarks/eval_hrnn.py
	$(PYTHON) benchmarks/render.py --threads 1
	$(PYTHON) benchmarks/codec_quality.py

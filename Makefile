# Two commands for a newcomer (see README.md):
#   make book   build the website into _build/html   (the main job)
#   make test   run every test: package, notebooks, and a strict build of the site
# and one for instructors:
#   make assignments   student copies of the labs (solutions taken out) in _build/assignments
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The extras of pyproject.toml that a working copy needs (CPU TensorFlow, JAX for the
# second backend, the offline MNIST subset, the book, the tests and JupyterLab).
EXTRAS := cpu,jax,offline,book,test,lab

# Quiet TensorFlow's C++ start-up lines in every process (the kernels nbval and the book
# start included); nntrain sets the same defaults when it is imported first.
export TF_CPP_MIN_LOG_LEVEL  := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED        := 0
# Progress bars (nt.sweep, nt.train) are for a reader at a live kernel; the book's pages
# and the tests executing notebooks show none (`make lab` unsets it).
export NNTRAIN_PROGRESS      ?= 0
# Offline machines: real data files in a `shared/datasets` folder beside the checkout are
# used when NNTRAIN_DATA_DIR is not set (see nntrain.data for the order of sources).
NNTRAIN_DATA_DIR ?= $(abspath $(wildcard ../shared/datasets))
export NNTRAIN_DATA_DIR

NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb labs/*.ipynb))

# Tests and notebooks run in this many processes side by side (pytest-xdist). A kernel keeps
# about one core busy (small models: Python-bound, not matmul-bound), so two workers on two
# cores nearly halve the wall time; each worker holds about 1.5 GiB. A notebook's cells all
# run in one worker, in order (--dist loadfile). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
XDIST        := -n $(TEST_WORKERS) --dist loadfile

.PHONY: all install book assignments test test-package test-notebooks test-colab test-book test-site test-matrix lab clean clean-venv

all: book

# constraints-book.txt locks the Jupyter Book 1 stack (see the file for how to move it on).
$(STAMP): pyproject.toml constraints-book.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints-book.txt -e ".[$(EXTRAS)]"
	@touch $@

install: $(STAMP)

# The website, at the scale of the `book` profile (override with NNTRAIN_PROFILE=...). Every
# assert the notebooks make is recorded in the claims ledger (nntrain.ledger) that the status
# page shows: the ledger of this build's own run.
# The notebooks run first, TEST_WORKERS side by side, into the build's jupyter-cache, emptied
# first (_ext/execute.py; KEEP_CACHE=1 keeps the cached runs of unchanged notebooks, as the
# Pages workflow does); the build then renders each notebook from its run.
EXECUTE = $(BIN)/python _ext/execute.py --workers $(if $(filter 0,$(TEST_WORKERS)),1,$(TEST_WORKERS)) $(if $(KEEP_CACHE),,--fresh)
book: $(STAMP)
	rm -rf _build/ledger/book
	export NNTRAIN_LEDGER=$(CURDIR)/_build/ledger/book NNTRAIN_PROFILE=$${NNTRAIN_PROFILE:-book}; \
	  $(EXECUTE) --cache _build/.jupyter_cache $(NOTEBOOKS) && \
	  $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The website is in _build/html/index.html"

# Student copies of the labs, for instructors to hand out: each solved lab with the code between
# nbgrader's `### BEGIN SOLUTION` / `### END SOLUTION` markers replaced by `# YOUR CODE HERE`
# (and a None answer, so that the `nt.check.exercise` line gives its hint), the `{solution}`
# blocks and the hidden test cells removed, outputs cleared (_ext/assignments.py). The website
# carries the same copies, linked from each lab's page.
ASSIGNMENTS_DIR ?= _build/assignments
assignments: $(STAMP)
	$(BIN)/python _ext/assignments.py --out $(ASSIGNMENTS_DIR) $(sort $(wildcard labs/*.ipynb))

# Every test, at the scale of the `smoke` profile.
test: test-package test-notebooks test-colab test-book test-site

# The package's tests run under both Keras backends; the pipeline tests (which build books and
# execute notebooks, whatever the backend) run once.
test-package: $(STAMP)
	NNTRAIN_PROFILE=smoke KERAS_BACKEND=tensorflow $(BIN)/python -m pytest $(XDIST) tests --ignore=tests/site
	NNTRAIN_PROFILE=smoke KERAS_BACKEND=jax $(BIN)/python -m pytest $(XDIST) tests --ignore=tests/test_pipeline.py --ignore=tests/site

test-notebooks: $(STAMP)
	NNTRAIN_PROFILE=smoke $(BIN)/python -m pytest -p no:cacheprovider $(XDIST) --nbval-lax --nbval-current-env $(NOTEBOOKS)

# Every lab in two environments shaped like Colab's runtimes (tests/colab/: Colab's own package
# lists), .venv-colab (TensorFlow) and .venv-tpu (JAX, no TensorFlow), each built once and
# reused: nntrain is installed as a lab's first cell installs it, from this checkout's last
# commit, and installing it must change no package that Colab ships. COLAB_KINDS=tpu runs one.
COLAB_KINDS ?= colab tpu
test-colab: $(STAMP)
	TEST_WORKERS=$(TEST_WORKERS) $(BIN)/python tests/colab/envs.py $(COLAB_KINDS)

# A strict build of the site into _build/smoke, so it never mixes with the book's outputs;
# built afresh, so that no page of an earlier build is left for test-site to check. It runs
# every notebook under the other backend and at another seed than test-notebooks does (JAX at
# seed 1, where test-notebooks runs TensorFlow at seed 0 unless KERAS_BACKEND or NNTRAIN_SEED
# say otherwise): the cheapest slice of the claims matrix that catches a claim true only on
# one backend or at one seed, at no extra cost, since the build executes every notebook anyway.
# Its claims ledger is on the smoke site's status page.
SITE_BACKEND ?= jax
SITE_SEED    ?= 1
test-book: $(STAMP)
	rm -rf _build/smoke _build/ledger/smoke
	export NNTRAIN_LEDGER=$(CURDIR)/_build/ledger/smoke NNTRAIN_PROFILE=smoke \
	  KERAS_BACKEND=$(SITE_BACKEND) NNTRAIN_SEED=$(SITE_SEED); \
	  $(EXECUTE) --cache _build/smoke/_build/.jupyter_cache $(NOTEBOOKS) && \
	  $(BIN)/jupyter-book build . --path-output _build/smoke --warningiserror --nitpick --keep-going

# Portable truth: every notebook at the smoke profile under each backend and seed, each assert
# recorded (nntrain.ledger), then one claims ledger over all runs in _build/matrix/ledger.csv
# with the smallest margin of every claim. Fails when a notebook or a claim fails in any run.
# A slice: `make test-matrix MATRIX_BACKENDS=jax MATRIX_SEEDS=1` (what test-book already runs).
MATRIX_BACKENDS ?= tensorflow jax
MATRIX_SEEDS    ?= 0 1 2
MATRIX_DIR      ?= _build/matrix
test-matrix: $(STAMP)
	rm -rf $(MATRIX_DIR)
	@status=0; for backend in $(MATRIX_BACKENDS); do for seed in $(MATRIX_SEEDS); do \
	  echo "== claims matrix: KERAS_BACKEND=$$backend NNTRAIN_SEED=$$seed"; start=$$(date +%s); \
	  NNTRAIN_LEDGER=$(CURDIR)/$(MATRIX_DIR)/$$backend-seed$$seed NNTRAIN_SEED=$$seed KERAS_BACKEND=$$backend \
	    NNTRAIN_PROFILE=smoke $(BIN)/python -m pytest -p no:cacheprovider -q $(XDIST) --nbval-lax --nbval-current-env \
	    $(NOTEBOOKS) || status=1; \
	  echo "== $$backend seed $$seed: $$(( $$(date +%s) - start )) s"; \
	done; done; \
	$(BIN)/python -m nntrain.ledger summarize $(MATRIX_DIR) $(NOTEBOOKS) || status=1; exit $$status

# The built site as a reader sees it (tests/site/, kept apart so that test-package never
# needs a built site): internal links and anchors, no log lines or warnings in a page, every
# page in headless Chromium with the network cut off, and each explorer's controls moved
# (screenshots in _build/screenshots). Check the website instead with SITE=_build/html.
SITE ?= _build/smoke/_build/html
test-site: $(STAMP)
	rm -rf _build/screenshots
	NNTRAIN_SITE=$(SITE) $(BIN)/python -m pytest -p no:cacheprovider tests/site

lab: $(STAMP)
	NNTRAIN_PROGRESS=1 $(BIN)/jupyter lab

clean:
	rm -rf _build .pytest_cache

# Every environment too (.venv and the Colab-shaped ones): the next command rebuilds them.
clean-venv: clean
	rm -rf $(VENV) .venv-colab .venv-tpu

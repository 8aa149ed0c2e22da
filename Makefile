# Conclave: `make up` runs the stack, `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help up down status restart test lint format docs lock deps system-deps ui llama-server clean

UV_VERSION := 0.13.9
TOOLS := .data/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# uv uses the machine's Python 3.11 and never downloads an interpreter.
export UV_PYTHON_DOWNLOADS := never
# llama-cpp-python has no wheel on PyPI: uv compiles llama.cpp once (~5 min) and caches the wheel. These flags
# build a portable CPU library (any x86-64 with AVX2) and skip the examples, tests and server (~4x faster).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

up: deps ui llama-server  ## install what is missing, build the web UI if it changed, start PostgreSQL, storage, Temporal, the model servers, the worker and the API (idempotent), print the URLs
	@$(PY) -m ops.stack up

down:  ## stop everything `make up` started (data stays in .data/)
	@if [ -x $(PY) ]; then $(PY) -m ops.stack down; else echo "the stack is not running"; fi

status:  ## each process of the local stack and its state
	@$(PY) -m ops.stack status

restart: deps ui llama-server  ## restart the stack (picks up code and configuration changes)
	@$(PY) -m ops.stack down
	@$(PY) -m ops.stack up

ui: deps  ## build the web UI (frontend-ui/) when its sources changed: npm ci when needed, then ng build
	@$(PY) -m ops.ui build

test: deps llama-server  ## install what is missing, then run all tests (they start their own PostgreSQL)
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: deps  ## ruff check, format check and mypy
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

docs: deps  ## regenerate docs/configuration.md from the settings class (config.py)
	@$(PY) -m scripts.config_doc

format:  ## ruff format and autofix
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

deps: system-deps $(VENV)/.synced

llama-server: deps  ## build llama.cpp's server from the llama.cpp that llama-cpp-python vendors (once, cached)
	@$(PY) -m ops.llama_server build >/dev/null

system-deps:
	@scripts/install-system-deps

$(UV):
	@python3 -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"

# The virtualenv holds exactly what requirements.lock pins (hashes checked); re-synced when the lock changes.
$(VENV)/.synced: requirements.lock $(UV)
	@$(UV) venv -q --allow-existing --python python3 $(VENV)
	@VIRTUAL_ENV=$(VENV) $(UV) pip sync -q --require-hashes requirements.lock
	@touch $@

lock: $(UV)  ## re-resolve requirements.lock after changing dependencies in pyproject.toml
	@$(UV) pip compile -q pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean: down  ## remove the virtualenv and tools (keeps the database in .data/pg)
	rm -rf $(VENV) $(TOOLS)

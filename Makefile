# Fenliu's entry points. Every target does its own set-up first (scripts/bootstrap.sh: system
# packages, .venv, `pip install -e '.[test]'`), so on a fresh Debian/Ubuntu machine with
# Python 3.11+ `make run` and `make test` are all there is to type.
#
#   make run            start the demo (`fenliu demo`)
#   make test           lint, then the test suite (PACKAGING=1 adds the tests that build the bundle)
#   make lint           ruff, import-linter contracts, mypy --strict on the pure cores
#   make bench          the benchmarks in bench/ (not part of `make test`)
#   make package        build the desktop bundle (packaging/build.sh)
#   make package-test   the packaging tests against that bundle

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

BIN := .venv/bin
PYTEST := $(BIN)/python -m pytest
# The bundle tests are slow and need the packaging tools: only on request.
PYTEST_MARKERS := $(if $(filter 1,$(PACKAGING)),,-m "not packaging")
# One worker per core. By file, not by test: a module's tests share its fixtures (the bundle is
# built once; the protocol fuzzer's last test counts what the others sent). Not --dist loadgroup:
# on pytest 9.2 it silently stops grouping (pytest-xdist#1386).
PYTEST_PARALLEL := -n auto --dist loadfile
STRICT_CORES := console/routing console/reception console/protocol

.PHONY: bootstrap run test lint bench package package-test

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	$(BIN)/fenliu demo

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy --strict $(STRICT_CORES)
	$(BIN)/mypy console/server

# pytest's exit code 5 (no tests collected) is a failure too, said plainly.
test: lint
	@echo '$(PYTEST) tests $(PYTEST_PARALLEL) $(PYTEST_MARKERS)'
	@$(PYTEST) tests $(PYTEST_PARALLEL) $(PYTEST_MARKERS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	  exit $$rc; }

# Each benchmark prints its figures (one JSON line per size) against a baseline of the same run.
bench: bootstrap
	@set -e; for b in bench/*.py; do echo "== $$b"; $(BIN)/python "$$b" --json; done

packaging/build.sh:
	@echo "packaging/build.sh does not exist yet: the desktop bundle cannot be built" >&2
	@exit 1

package: bootstrap packaging/build.sh
	bash packaging/build.sh

package-test: bootstrap packaging/build.sh
	@PACKAGING=1 $(PYTEST) tests $(PYTEST_PARALLEL) -m packaging || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make package-test: no packaging tests collected" >&2; fi; \
	  exit $$rc; }

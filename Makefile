# Two commands set everything up on a fresh machine:
#   make demo   - the emulator, a check of examples/, a real token exchange
#   make test   - every test (lint, types, unit, LSP sessions, Neovim, VS Code end to end)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit client-deps consumer-deps e2e-vscode vsix reference fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check server tests examples benchmarks client-vscode/python client-vscode/scripts
	$(VENV)/bin/ruff format --check server tests examples benchmarks client-vscode/python client-vscode/scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy client-vscode/python/start.py client-vscode/scripts/bundle.py client-vscode/scripts/icon.py

# the extension's launch code is tested from Python too (tests/security): it needs esbuild
client-deps:
	$(MAKE) -C client-vscode deps

# tools no one here wrote that read snowauth's exports (tests/consumers): the httpyac and newman CLIs;
# and the SARIF 2.1.0 schema (@microsoft/jest-sarif) that --format sarif is validated against
consumer-deps: tests/consumers/node_modules/.package-lock.json

tests/consumers/node_modules/.package-lock.json: tests/consumers/package.json tests/consumers/package-lock.json
	npm ci --no-audit --no-fund --prefix tests/consumers

unit: $(STAMP) client-deps consumer-deps
	$(VENV)/bin/pytest -q

reference: $(STAMP)
	$(PY) -m snowauth reference > docs/reference.md

fuzz: $(STAMP)
	SNOWAUTH_FUZZ=long $(VENV)/bin/pytest -q tests/hardening -k fuzz

e2e-vscode: $(STAMP)
	bash tests/e2e/vscode/run.sh

bench: $(STAMP)
	$(PY) benchmarks/run.py

vsix: $(STAMP)
	$(MAKE) -C client-vscode vsix

test: lint typecheck unit e2e-vscode

clean:
	rm -rf $(VENV) client-vscode/node_modules client-vscode/dist artifacts

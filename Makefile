# Two commands do everything on a fresh machine (python3 and make are all they assume):
#   make demo   create .venv, install, run the demo study on the simulated backend, write its report
#   make test   create .venv, install, run the lint and type gates (make check), then the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.maestro-installed

.PHONY: install demo check test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies or pins change.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/maestro study run studies/demo.toml
	$(BIN)/maestro report traces/demo

# Lint (ruff, [tool.ruff] in pyproject.toml) and type-check (mypy, [tool.mypy]) the whole tree.
# mypy goes through tools/typecheck.py, which maps adapters/, instances/ and analysis/ to
# maestro.adapters etc. as installed. Both run even when the first fails.
check: install
	@status=0; \
	echo "ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "mypy (tools/typecheck.py)"; $(BIN)/python tools/typecheck.py || status=1; \
	exit $$status

test: install check
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) traces/*/ .pytest_cache .ruff_cache .typecheck

# Two commands matter (see README): `make report` and `make test`. Both set up .venv from the lock
# file first. Nothing here needs more than Python 3.11 and network access to PyPI.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := survey-lib
DEMO   := data/demo

.PHONY: setup report test lock clean-venv

setup: $(STAMP)

# The venv is rebuilt when the lock file or the package metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	# A kernel inside the venv, named explicitly, so papermill never picks up a system Python.
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "survey_lib (.venv)"
	touch $(STAMP)

# The main job on the built-in demo data: the synthetic twin, its validation, and the batch --
# every notebook for all municipalities together and for each one, HTML pages, tables (CSV +
# Excel), the index outputs/<wave>/index.html, and the leak audit. Reruns only what changed.
report: setup
	@test -f $(DEMO)/responses.csv || $(BIN)/survey-report demo-data --out $(DEMO)
	$(BIN)/survey-report validate $(DEMO) > /dev/null
	$(BIN)/survey-report run --data $(DEMO) --out outputs

test: setup
	$(BIN)/python -m pytest -n 2 -q

# Re-pin all dependencies (needs uv: pip install uv) and regenerate environment.yml from the lock.
lock:
	uv pip compile requirements.in -o requirements.lock --python-version 3.11 --no-header
	$(PYTHON) scripts/sync_environment.py

clean-venv:
	rm -rf $(VENV)

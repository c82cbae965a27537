# Two commands matter (see README): `make report` and `make test`. Both set up the venv from the lock
# file first. They need Python 3.11, 3.12 or 3.13 and access to a package index (PyPI or a mirror).
#
# Interpreter: PYTHON=... if given (make PYTHON=/usr/bin/python3.12 test); otherwise the first of
# python3.13, python3.12, python3.11, python3 on PATH that runs and is 3.11-3.13 (the newest, which is
# supported longest). A command that exists but does not run, such as a version manager's shim for a
# version not selected, is skipped. The venv remembers its Python: another version rebuilds it.
# VENV=... puts it elsewhere (CI builds a second one for a second Python next to .venv).
#
# One lock for all three versions: requirements.lock is compiled with `uv pip compile --universal`, so
# every package has the same version on 3.11, 3.12 and 3.13, and the few needed on some only carry an
# environment marker (papermill wants aiohttp on 3.12; importlib-metadata is for 3.11). One set of
# versions means a number cannot differ by Python version; it works because every pinned version has
# wheels for all three. pyproject.toml (requires-python) and environment.yml say the same range.

SUPPORTED := 3.11 3.12 3.13
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
  $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1 && { echo $$p; break; }; done)
endif
PYVER  := $(if $(PYTHON),$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-py$(PYVER)
KERNEL := survey-lib
DEMO   := data/demo

.PHONY: setup report test lock clean-venv

setup: $(STAMP)

# The venv is rebuilt when the lock file, the package metadata or the Python version changes.
$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "No Python 3.11, 3.12 or 3.13 found: tried python3.13, python3.12, python3.11 and python3 on PATH." >&2; \
	  echo "Install one (e.g. 'apt install python3.12 python3.12-venv') or name it: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
	  exit 1; fi
	@if [ -z "$(PYVER)" ]; then echo "PYTHON=$(PYTHON) does not run; give a working Python 3.11, 3.12 or 3.13." >&2; exit 1; fi
	@case " $(SUPPORTED) " in *" $(PYVER) "*) ;; *) \
	  echo "PYTHON=$(PYTHON) is Python $(PYVER); survey_lib supports $(SUPPORTED). Give another: make PYTHON=python3.12 ..." >&2; \
	  exit 1;; esac
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "$(PYTHON) cannot make a venv (no ensurepip); on Debian/Ubuntu: apt install python$(PYVER)-venv" >&2; exit 1; }
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYVER)" ]; then \
	  echo "$(VENV) was made with another Python; rebuilding it with $(PYTHON) ($(PYVER))"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	# A kernel inside the venv, named explicitly, so papermill never picks up a system Python.
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "survey_lib (.venv)"
	rm -f $(VENV)/.installed*
	touch $(STAMP)

# The main job on the built-in demo data: the synthetic twins, their validation, and the batch of
# the latest wave -- every notebook for all municipalities together and for each one, HTML pages,
# tables (CSV + Excel), the trend pages against the earlier waves, the index
# outputs/<wave>/index.html, and the leak audit. Reruns only what changed.
# The twins of the three waves (data/demo/<wave>/, docs/waves.md) are made once; the batch runs the
# latest wave with its trend pages against the earlier ones (survey-report run --wave latest).
WAVES := 2023 2024 2025

# A wave's twin is validated again only when its data, the parameters or survey_lib's code changed
# (a stamp per wave under outputs/.make/), so that a rerun with nothing changed takes seconds.
PARAM_FILES := $(wildcard params/*.yaml params/waves/*.yaml)
SOURCE      := $(shell find survey_lib -name '*.py' 2>/dev/null)
VALIDATED   := $(foreach w,$(WAVES),outputs/.make/validated-$(w))

$(DEMO)/%/responses.csv: | $(STAMP)
	$(BIN)/survey-report demo-data --wave $* --out $(DEMO)

# (the twins are never deleted as intermediate files; a wave's every data file is a prerequisite)
.SECONDARY:
.SECONDEXPANSION:
outputs/.make/validated-%: $(DEMO)/%/responses.csv $$(wildcard $(DEMO)/$$*/*.csv) params/waves/%/wave.yaml \
		$(PARAM_FILES) $(SOURCE) $(STAMP)
	$(BIN)/survey-report validate $(DEMO)/$* --wave $* > /dev/null
	@mkdir -p $(@D) && touch $@

report: setup $(VALIDATED)
	$(BIN)/survey-report run --wave latest --out outputs

test: setup
	$(BIN)/python -m pytest -n 2 -q

# Re-pin all dependencies for 3.11-3.13 at once (needs uv: pip install uv; the versions already in
# the lock are kept unless they no longer fit) and regenerate environment.yml from the lock.
lock:
	uv pip compile requirements.in -o requirements.lock --universal --python-version 3.11 --no-header
	$(PYTHON) scripts/sync_environment.py

clean-venv:
	rm -rf $(VENV)

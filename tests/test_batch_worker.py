"""One notebook run in a worker: honest status for every kind of failure, the partial notebook kept."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from survey_lib.batch.worker import kernel_python, run_job

KERNEL = "survey-lib"
PARAMS = "kommune = None\ndata_dir = None\nparams_dir = None\ntables_dir = None\nwave = 'test'"


def notebook(tmp_path, name, *sources):
    cells = [new_markdown_cell(f"# {name}")]
    p = new_code_cell(PARAMS)
    p.metadata["tags"] = ["parameters"]
    cells.append(p)
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": KERNEL, "display_name": KERNEL,
                                                            "language": "python"}})
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def spec(tmp_path, path, **over):
    s = {"job": f"alle/{path.stem}", "notebook": str(path),
         "parameters": {"kommune": None, "data_dir": None, "params_dir": None, "tables_dir": None, "wave": "test"},
         "kernel": KERNEL, "timeout": 30, "retries": 1, "html": str(tmp_path / "out" / f"{path.stem}.html"),
         "failed": str(tmp_path / "failed" / f"{path.stem}.ipynb"), "staging": str(tmp_path / "staging"),
         "cwd": str(tmp_path), "title": "Test <b>", "scope_label": "Alle", "wave": "test",
         "stylesheet": "../style.css", "index": "../index.html", "provenance": [("Data", "abc")]}
    s.update(over)
    return s


def test_kernel_is_the_projects_own():
    python = kernel_python(KERNEL)
    assert python.endswith("/python") or "python" in python.rsplit("/", 1)[-1]
    assert ".venv" in python                                   # make setup registers it inside .venv


def test_success_writes_the_page_and_key_numbers(tmp_path):
    path = notebook(tmp_path, "ok", "from IPython.display import display\n"
                    "display({'application/json': {'key_numbers': {'x': 1}}}, raw=True)\nprint('hej')")
    r = run_job(spec(tmp_path, path))
    assert r["status"] == "ok" and r["key_numbers"] == [{"x": 1}] and r["attempts"] == 1
    page = (tmp_path / "out" / "ok.html").read_text()
    assert "<details class=\"survey-code\">" in page and "Test &lt;b&gt;" in page
    assert not (tmp_path / "failed" / "ok.ipynb").exists() and not list((tmp_path / "staging").glob("*"))


@pytest.mark.parametrize("name, source, kind, timeout", [
    ("cellfejl", "raise ValueError('planted failure')", "cell_error", 30),
    ("tidsgraense", "import time\ntime.sleep(30)", "timeout", 2),
    ("doed_kerne", "import os\nos._exit(1)", "dead_kernel", 30),
])
def test_failures_are_classified_and_the_partial_notebook_kept(tmp_path, name, source, kind, timeout):
    path = notebook(tmp_path, name, "a = 1", source, "b = 2")
    r = run_job(spec(tmp_path, path, timeout=timeout))
    assert r["status"] == "failed" and r["kind"] == kind, r
    assert not (tmp_path / "out" / f"{name}.html").exists()
    kept = nbformat.read(tmp_path / "failed" / f"{name}.ipynb", as_version=4)
    assert kept.metadata["survey_batch"]["status"] == "failed" and kept.metadata["survey_batch"]["kind"] == kind
    assert kept.metadata["papermill"]["status"] == "failed"      # never 'completed' for a failure
    executed = [c for c in kept.cells if c.cell_type == "code" and c.get("execution_count")]
    assert executed, "the partial run is kept: the cells before the failure have run"
    if kind == "cell_error":
        assert "planted failure" in r["message"]


def test_a_missing_kernel_is_a_kernel_start_failure_without_retries(tmp_path):
    path = notebook(tmp_path, "ingen_kerne", "a = 1")
    r = run_job(spec(tmp_path, path, kernel="no-such-kernel-xyz", retries=3))
    assert r["status"] == "failed" and r["kind"] == "kernel_start" and r["attempts"] == 1
    assert json.loads((tmp_path / "failed" / "ingen_kerne.ipynb").read_text())["metadata"]["survey_batch"]["kind"] \
        == "kernel_start"


def test_kernel_start_failures_are_retried(tmp_path, monkeypatch):
    """The first start fails as a parallel start can ('Address already in use'); the retry succeeds."""
    import papermill

    real = papermill.execute_notebook
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            import zmq

            raise zmq.error.ZMQError(98, "Address already in use")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    path = notebook(tmp_path, "genstart", "a = 1")
    r = run_job(spec(tmp_path, path, retries=2))
    assert r["status"] == "ok" and r["attempts"] == 2

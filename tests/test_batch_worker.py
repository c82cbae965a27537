"""One notebook run in a worker: honest status for every kind of failure, the partial notebook kept."""

from __future__ import annotations

import errno
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from survey_lib.batch.jobs import JobSpec, RunSettings
from survey_lib.batch.warm import shutdown_warm_kernel, warm_kernel_state
from survey_lib.batch.worker import kernel_python, run_job

KERNEL = "survey-lib"
PARAMS = "kommune = None\ndata_dir = None\nparams_dir = None\ntables_dir = None\nwave = 'test'"


@pytest.fixture(autouse=True)
def _no_kernel_left_behind():
    """run_job runs in this process here, so a warm kernel would outlive the test."""
    yield
    shutdown_warm_kernel()


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


def spec(tmp_path, path, kernel=KERNEL, timeout=30, retries=1, reuse=1, staging=None):
    settings = RunSettings(kernel=kernel, timeout=timeout, retries=retries, reuse=reuse,
                           staging=staging or tmp_path / "staging", log_dir=None, cwd=tmp_path, wave="test",
                           stylesheet="../style.css", index="../index.html", provenance=(("Data", "abc"),))
    return JobSpec(job_id=f"alle/{path.stem}", notebook=path,
                   parameters={"kommune": None, "data_dir": None, "params_dir": None, "tables_dir": None, "wave": "test"},
                   html=tmp_path / "out" / f"{path.stem}.html", failed=tmp_path / "failed" / f"{path.stem}.ipynb",
                   title="Test <b>", scope_label="Alle", settings=settings)


def test_kernel_is_the_projects_own():
    python = kernel_python(KERNEL)
    assert python.endswith("/python") or "python" in python.rsplit("/", 1)[-1]
    assert ".venv" in python                                   # make setup registers it inside .venv


def test_success_writes_the_page_and_key_numbers(tmp_path):
    path = notebook(tmp_path, "ok", "from IPython.display import display\n"
                    "display({'application/json': {'key_numbers': {'x': 1}}}, raw=True)\nprint('hej')")
    r = run_job(spec(tmp_path, path))
    assert r.status == "ok" and r.key_numbers == ({"x": 1},) and r.attempts == 1
    page = (tmp_path / "out" / "ok.html").read_text()
    assert "<details class=\"survey-code\">" in page and "Test &lt;b&gt;" in page
    assert not (tmp_path / "failed" / "ok.ipynb").exists() and not list((tmp_path / "staging").glob("*"))


@pytest.mark.parametrize("reuse", [1, 3], ids=["fresh_kernel", "warm_kernel"])
@pytest.mark.parametrize("name, source, kind, timeout", [
    ("cellfejl", "raise ValueError('planted failure')", "cell_error", 30),
    ("tidsgraense", "import time\ntime.sleep(30)", "timeout", 2),
    ("doed_kerne", "import os\nos._exit(1)", "dead_kernel", 30),
])
def test_failures_are_classified_and_the_partial_notebook_kept(tmp_path, name, source, kind, timeout, reuse):
    path = notebook(tmp_path, name, "a = 1", source, "b = 2")
    r = run_job(spec(tmp_path, path, timeout=timeout, reuse=reuse))
    assert r.status == "failed" and r.kind == kind, r
    assert not (tmp_path / "out" / f"{name}.html").exists()
    kept = nbformat.read(tmp_path / "failed" / f"{name}.ipynb", as_version=4)
    assert kept.metadata["survey_batch"]["status"] == "failed" and kept.metadata["survey_batch"]["kind"] == kind
    assert kept.metadata["papermill"]["status"] == "failed"      # never 'completed' for a failure
    executed = [c for c in kept.cells if c.cell_type == "code" and c.get("execution_count")]
    assert executed, "the partial run is kept: the cells before the failure have run"
    if kind == "cell_error":
        assert "planted failure" in r.message


def test_a_missing_kernel_is_a_kernel_start_failure_without_retries(tmp_path):
    path = notebook(tmp_path, "ingen_kerne", "a = 1")
    r = run_job(spec(tmp_path, path, kernel="no-such-kernel-xyz", retries=3))
    assert r.status == "failed" and r.kind == "kernel_start" and r.attempts == 1
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
    assert r.status == "ok" and r.attempts == 2


def _pid_and_count(r):
    return r.key_numbers[0]


REPORT = ("import os\nfrom IPython.display import display\n"
          "display({'application/json': {'key_numbers': {'pid': os.getpid(), "
          "'count': get_ipython().execution_count, 'cwd': os.getcwd()}}}, raw=True)")


def test_a_warm_kernel_is_reused_with_a_clean_namespace(tmp_path):
    """The second notebook runs in the same kernel, but sees nothing the first left behind: no
    variables, matplotlib's settings restored, its working directory, counting from 1; modules stay
    imported (that is the point)."""
    dirty = notebook(tmp_path, "a_roeder", REPORT, "import os, sys, matplotlib\nsecret = 42\n"
                     "matplotlib.rcParams['lines.linewidth'] = 7\nos.chdir('/')")
    check = notebook(tmp_path, "b_tjekker", REPORT,
                     "import sys, matplotlib\nassert 'secret' not in globals(), 'namespace not wiped'\n"
                     # matplotlib's own default, as a fresh kernel has it
                     "assert matplotlib.rcParams['lines.linewidth'] == matplotlib.rcParamsDefault['lines.linewidth']\n"
                     "assert 'matplotlib.pyplot' in sys.modules")
    first = run_job(spec(tmp_path, dirty, reuse=5))
    second = run_job(spec(tmp_path, check, reuse=5))
    assert first.status == "ok" and second.status == "ok", second
    a, b = _pid_and_count(first), _pid_and_count(second)
    assert a["pid"] == b["pid"] == warm_kernel_state()["pid"] and warm_kernel_state()["runs"] == 2
    cold = _pid_and_count(run_job(spec(tmp_path, dirty, reuse=1)))
    assert a["count"] == b["count"] == cold["count"]      # counted as in a fresh kernel
    assert b["cwd"] == str(tmp_path)


def test_a_warm_kernel_is_replaced_after_a_failure_and_after_its_quota(tmp_path):
    ok = notebook(tmp_path, "ok", REPORT)
    dies = notebook(tmp_path, "doer", REPORT, "import os\nos._exit(1)")
    pids = []
    for path in (ok, ok, ok, dies, ok):          # quota of 2: the third notebook gets a fresh kernel
        r = run_job(spec(tmp_path, path, reuse=2))
        pids.append(_pid_and_count(r)["pid"] if r.status == "ok" else None)
    assert pids[0] == pids[1] != pids[2]
    assert pids[3] is None and pids[4] not in (pids[0], pids[2])   # the dead kernel is not reused
    cold = [_pid_and_count(run_job(spec(tmp_path, ok, reuse=1)))["pid"] for _ in range(2)]
    assert cold[0] != cold[1] and warm_kernel_state()["pid"] == pids[4]   # reuse 1: papermill's own kernel


def test_every_failure_kind_has_a_danish_label_on_the_index():
    from survey_lib.batch.index import KIND_DA
    from survey_lib.batch.worker import FAILURE_KINDS

    assert set(KIND_DA) == set(FAILURE_KINDS)


def _no_space(path="page.html"):
    return OSError(errno.ENOSPC, "No space left on device", path)


def test_a_full_disk_while_the_page_is_written_is_disk_full(tmp_path, monkeypatch):
    import survey_lib.batch.worker as worker

    def full(path, text):
        raise _no_space(str(path))

    monkeypatch.setattr(worker, "atomic_write_text", full)
    r = run_job(spec(tmp_path, notebook(tmp_path, "fuld", "a = 1")))
    assert r.status == "failed" and r.kind == "disk_full", r
    assert "No space left on device" in r.message


def test_a_full_disk_while_papermill_saves_the_notebook_is_disk_full(tmp_path, monkeypatch):
    """papermill writes the notebook after each cell; a full disk surfaces wrapped in whatever the
    engine raised (here as the kernel's death), and is still said as a full disk."""
    import papermill
    from nbclient.exceptions import DeadKernelError

    def dies(*args, **kwargs):
        try:
            raise _no_space("out.ipynb")
        except OSError as exc:
            raise DeadKernelError("Kernel died") from exc

    monkeypatch.setattr(papermill, "execute_notebook", dies)
    r = run_job(spec(tmp_path, notebook(tmp_path, "fuld2", "a = 1"), retries=2))
    assert r.status == "failed" and r.kind == "disk_full" and r.attempts == 1, r


def test_a_kernel_that_died_on_a_full_disk_is_disk_full(tmp_path, monkeypatch):
    """A kernel that dies because the disk filled says nothing about space; a probe write after
    the death finds it."""
    import survey_lib.batch.worker as worker

    monkeypatch.setattr(worker, "no_space_at", lambda folder: True)
    r = run_job(spec(tmp_path, notebook(tmp_path, "fuld3", "a = 1", "import os\nos._exit(1)")))
    assert r.status == "failed" and r.kind == "disk_full", r


def test_a_failed_rerun_removes_the_earlier_page(tmp_path):
    path = notebook(tmp_path, "igen", "a = 1")
    assert run_job(spec(tmp_path, path)).status == "ok" and (tmp_path / "out" / "igen.html").is_file()
    path = notebook(tmp_path, "igen", "a = 1", "raise ValueError('now it fails')")
    r = run_job(spec(tmp_path, path))
    assert r.status == "failed" and not (tmp_path / "out" / "igen.html").exists()

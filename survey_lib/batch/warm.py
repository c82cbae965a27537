"""A warm kernel per worker: a papermill engine that keeps its Jupyter kernel between notebooks.

Starting a kernel and importing pandas, matplotlib, seaborn, statsmodels and ``survey_lib`` costs
about 2.3 s, more than most of the batch's notebooks spend on their own work. This engine starts a
kernel once per worker process and reuses it: before each notebook the kernel's namespace is wiped
(IPython's ``reset`` with a new history session, so the execution count starts at 1 again), its
figures closed, matplotlib's settings restored to those the kernel had after its first imports and
the working directory set; the
imported modules stay, so the next notebook's ``import`` lines are free.

Everything else is papermill's own: the engine is registered with papermill
(:data:`ENGINE_NAME`) and ``papermill.execute_notebook`` still injects the parameters, records
metadata, marks errors and raises ``PapermillExecutionError``; only the kernel's life differs.

A kernel is replaced (shut down, a fresh one started for the next notebook)

* after any failure other than an error in a cell: a timeout, a dead kernel, a failed start or a
  failed reset leave its state unknown;
* after ``reuse`` notebooks (``survey.yaml: batch.kernel_reuse``), which bounds what a long batch can
  accumulate in one process;
* when the next notebook asks for another kernel name.

Each thread of a worker has its own kernel. The kernels are shut down when their process exits; a kernel whose worker is killed stops by
itself (ipykernel watches its parent process).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import threading
from contextlib import contextmanager

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

__all__ = ["ENGINE_NAME", "WarmEngine", "WarmKernelError", "shutdown_warm_kernel", "warm_kernel_state"]

ENGINE_NAME = "survey-warm"

# Run silently in the kernel before every notebook; the reset also removes the function's own name.
# ``reset`` wipes the namespace (and the output history ``_``, ``Out``); modules stay imported.
# matplotlib's settings are saved before the kernel's first notebook (pyplot imported, as every
# notebook of the batch does: the inline backend has set its own) and restored before each later one.
_RESET = r"""
def __survey_reset(cwd):
    import os
    ip = get_ipython()
    ip.reset(new_session=True)      # a new history session: the execution count starts at 1 again
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    plt.close("all")
    if getattr(ip, "_survey_rc", None) is None:
        ip._survey_rc = {k: v for k, v in mpl.rcParams.items() if k != "backend"}
    else:
        dict.update(mpl.rcParams, ip._survey_rc)   # as matplotlib.rc_context restores them
    os.chdir(cwd)
__survey_reset(%r)
"""


class WarmKernelError(RuntimeError):
    """The warm kernel could not be reset between notebooks."""


class _Warm:
    """A kept kernel: manager, client, name and how many notebooks it has run."""

    def __init__(self) -> None:
        self.km = None
        self.kc = None
        self.name: str | None = None
        self.runs = 0

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        km, kc = self.km, self.kc
        self.km = self.kc = self.name = None
        self.runs = 0
        try:
            if kc is not None:
                kc.stop_channels()
            if km is not None and km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone needs no more stopping
            pass


# One warm kernel per thread of a worker process (a process-pool worker has one thread; a Dask
# worker may run several tasks at once, each in its own thread, and each then has its own kernel).
_STATES: dict[int, _Warm] = {}
_LOCK = threading.Lock()


def _state() -> _Warm:
    with _LOCK:
        return _STATES.setdefault(threading.get_ident(), _Warm())


def warm_kernel_state() -> dict:
    """This thread's warm kernel: name, pid (or None) and notebooks run (for tests and logs)."""
    st = _state()
    pid = None
    if st.km is not None and st.km.has_kernel:
        pid = getattr(getattr(st.km, "provisioner", None), "pid", None)
    return {"name": st.name, "pid": pid, "runs": st.runs}


def shutdown_warm_kernel() -> None:
    """Stop every warm kernel of this process (at exit; tests)."""
    with _LOCK:
        states = list(_STATES.values())
    for st in states:
        st.shutdown()


atexit.register(shutdown_warm_kernel)
# a forked worker leaves through os._exit, which skips atexit; multiprocessing's finalizers still run
multiprocessing.util.Finalize(None, shutdown_warm_kernel, exitpriority=10)


class WarmClient(PapermillNotebookClient):
    """papermill's notebook client, with the kernel taken from (or started into) the worker's
    warm kernel instead of started and stopped for this notebook alone."""

    reuse: int = 1

    @contextmanager
    def setup_kernel(self, **kwargs):
        st = _state()
        if st.km is not None and (st.name != self.kernel_name or st.runs >= self.reuse or not st.km.has_kernel):
            st.shutdown()
        if st.km is None:
            self.km = self.create_kernel_manager()
            self.owns_km = False
            try:
                self.start_new_kernel(**kwargs)
                self.start_new_kernel_client()
            except BaseException:
                if self.km is not None and self.km.has_kernel:
                    self._cleanup_kernel()
                self.km, self.kc = None, None
                raise
            st.km, st.kc, st.name = self.km, self.kc, self.kernel_name
        else:
            self.km, self.kc, self.owns_km = st.km, st.kc, False
        ok = False
        try:
            self._reset_kernel()
            st.runs += 1
            yield
            ok = True
        finally:
            if not ok:
                st.shutdown()
            self.km = self.kc = None

    def _reset_kernel(self) -> None:
        """Wipe the namespace and restore the kernel's state (see the module docstring)."""
        msg_id = self.kc.execute(_RESET % os.getcwd(), silent=True, store_history=False)
        reply = self.wait_for_reply(msg_id)     # the notebook's own time limit applies
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise WarmKernelError(f"the kernel {self.kernel_name!r} could not be reset between notebooks: "
                                  f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}")


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`WarmClient`; ``reuse`` (how many notebooks a kernel
    runs before it is replaced) comes as an engine keyword argument."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, reuse=1, partial_path=None, **kwargs):
        """Run the notebook; ``partial_path``: where to write the notebook as far as it ran if the
        run stops with an exception (a timeout, a dead kernel), for a caller that turned papermill's
        save after every cell off (``request_save_on_cell_execute=False``: ~0.2 s a notebook)."""
        kwargs.pop("input_path", None)
        from papermill.log import logger

        client = WarmClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                            kernel_name=kernel_name, log=logger, log_output=log_output, stdout_file=stdout_file,
                            stderr_file=stderr_file, **{k: v for k, v in kwargs.items()
                                                         if k not in ("timeout", "startup_timeout")})
        client.reuse = max(1, int(reuse))
        try:
            return client.execute()
        except BaseException:
            if partial_path:
                from papermill.iorw import write_ipynb

                write_ipynb(nb_man.nb, partial_path)
            raise


papermill_engines.register(ENGINE_NAME, WarmEngine)

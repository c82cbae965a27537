"""Work spread over forked processes that share what this process has loaded, and worker processes
that never outlive the process that started them."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import threading
import time
from typing import Any, Callable, Iterable, TypeVar

__all__ = ["fork_map", "die_with_parent"]

T = TypeVar("T")
R = TypeVar("R")

_NOTHING = object()
# (func, shared) of each running fork_map call, by call number: filled before the workers fork, so
# each forked worker finds its call's data in its copy of this process's memory (nothing is pickled)
_CALLS: dict[int, tuple[Callable, Any]] = {}
_NUMBERS = itertools.count()


def _call(numbered: tuple[int, Any]) -> Any:
    number, item = numbered
    func, shared = _CALLS[number]
    return func(shared, item)


def fork_map(func: Callable[..., R], items: Iterable[T], jobs: int, chunksize: int = 1,
             shared: Any = _NOTHING) -> list[R]:
    """``[func(item) for item in items]`` in up to ``jobs`` forked processes, results in item order;
    with ``shared``: ``[func(shared, item) for item in items]``.

    ``shared`` (any object: loaded data, a table set) reaches the forked workers through their copy
    of this process's memory, not by pickling, so large data costs nothing to hand over; only the
    items and the results are pickled. ``func`` must be a module-level function. The workers stop
    when this process dies (:func:`die_with_parent`). With one job, one item, or where fork is not
    available, the items are done here, one after the other.
    """
    items = list(items)
    call = (lambda item: func(item)) if shared is _NOTHING else (lambda item: func(shared, item))
    if jobs <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [call(item) for item in items]
    ctx = multiprocessing.get_context("fork")
    number = next(_NUMBERS)
    _CALLS[number] = (func, None) if shared is _NOTHING else (func, shared)
    worker = _call if shared is not _NOTHING else func
    work = [(number, item) for item in items] if shared is not _NOTHING else items
    try:
        with cf.ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx,
                                    initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            return list(pool.map(worker, work, chunksize=chunksize))
    finally:
        del _CALLS[number]


def die_with_parent(parent_pid: int | None = None, interval: float = 0.5) -> None:
    """Make this (worker) process stop, with every process it started, when ``parent_pid`` (default:
    its parent now) is gone.

    A killed parent (``kill -9``) cannot stop its workers, and a worker busy with a notebook would
    otherwise run on for as long as the notebook takes. A daemon thread checks every ``interval``
    seconds whether the process is still the child of ``parent_pid``; when it is not, it kills this
    process's children (the Jupyter kernels) and then this process. On Linux the kernel's
    parent-death signal (``prctl(PR_SET_PDEATHSIG)``) is set as well, to SIGTERM, which wakes a
    blocked worker at once (the thread then does the same).
    """
    parent = os.getppid() if parent_pid is None else parent_pid
    if os.getppid() != parent:         # already orphaned before we could watch
        _die()
    _parent_death_signal()
    threading.Thread(target=_watch, args=(parent, interval), name="die-with-parent", daemon=True).start()


def _parent_death_signal() -> None:
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):     # no libc prctl: the watching thread alone does it
        pass
    signal.signal(signal.SIGTERM, lambda signum, frame: _die())


def _watch(parent: int, interval: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    _die()


def _die() -> None:
    """Kill this process's descendants, then this process (no cleanup: the parent is gone)."""
    try:
        import psutil

        for p in psutil.Process().children(recursive=True):
            try:
                p.kill()
            except psutil.Error:
                pass
    except Exception:  # noqa: BLE001 - whatever happens, this process must end
        pass
    os._exit(1)

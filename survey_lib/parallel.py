"""Work spread over forked processes that share what this process has loaded."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from typing import Callable, Iterable, TypeVar

__all__ = ["fork_map"]

T = TypeVar("T")
R = TypeVar("R")


def fork_map(func: Callable[[T], R], items: Iterable[T], jobs: int, chunksize: int = 1) -> list[R]:
    """``[func(item) for item in items]`` in up to ``jobs`` forked processes, results in item order.

    Forked workers see this process's memory as it is at the call (large data set aside in a module
    before the call is shared, not pickled); ``func`` must be a module-level function. With one job,
    one item, or where fork is not available, the items are done here, one after the other.
    """
    items = list(items)
    if jobs <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    ctx = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx) as pool:
        return list(pool.map(func, items, chunksize=chunksize))

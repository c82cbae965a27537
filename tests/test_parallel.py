"""fork_map: results in item order, the forked workers see the caller's module state."""

import os

from survey_lib.parallel import fork_map

SHARED: dict = {}


def _work(i: int) -> tuple[int, int, int]:
    return i, SHARED["offset"] + i, os.getpid()


def test_fork_map_keeps_order_and_shares_state():
    SHARED["offset"] = 100          # set after import, before the fork: seen by the workers
    try:
        out = fork_map(_work, range(20), jobs=2)
    finally:
        SHARED.clear()
    assert [o[:2] for o in out] == [(i, 100 + i) for i in range(20)]
    assert os.getpid() not in {o[2] for o in out}              # done in other processes


def test_fork_map_with_one_job_runs_here():
    SHARED["offset"] = 0
    try:
        assert {o[2] for o in fork_map(_work, range(3), jobs=1)} == {os.getpid()}
    finally:
        SHARED.clear()

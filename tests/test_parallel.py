"""fork_map: results in item order, the forked workers see the caller's state or the shared data handed in
the call, and die with their parent."""

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


def _with_shared(shared: dict, i: int) -> tuple[int, int, int]:
    return i, shared["offset"] + i, os.getpid()


def test_fork_map_hands_shared_data_to_the_workers_in_the_call():
    """The shared data is an argument (seen in the signature), reaches the forked workers without
    pickling (a lock cannot be pickled) and is not left behind in any module."""
    import threading

    from survey_lib import parallel

    shared = {"offset": 7, "unpicklable": threading.Lock()}
    out = fork_map(_with_shared, range(10), jobs=2, shared=shared)
    assert [o[:2] for o in out] == [(i, 7 + i) for i in range(10)]
    assert os.getpid() not in {o[2] for o in out}
    assert fork_map(_with_shared, range(3), jobs=1, shared=shared)[2][:2] == (2, 9)     # here, the same call
    assert not parallel._CALLS


def _running(p) -> bool:
    """Alive and not a zombie (a zombie has stopped; only its reaper has not collected it yet)."""
    import psutil

    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_fork_map_workers_die_with_their_parent(tmp_path):
    """kill -9 of the process that called fork_map stops its workers (they would sleep a minute)."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    script = ("import time\nfrom survey_lib.parallel import fork_map\n"
              "def nap(i):\n    time.sleep(60)\n    return i\n"
              "if __name__ == '__main__':\n    fork_map(nap, range(2), jobs=2)\n")
    (tmp_path / "napper.py").write_text(script)
    from pathlib import Path

    from survey_lib import parallel

    env = {**os.environ, "PYTHONPATH": str(Path(parallel.__file__).resolve().parents[1])}   # this survey_lib
    proc = subprocess.Popen([sys.executable, str(tmp_path / "napper.py")], cwd=tmp_path, env=env)
    try:
        deadline = time.time() + 60
        kids: list = []
        while time.time() < deadline and len(kids) < 2:
            time.sleep(0.2)
            kids = psutil.Process(proc.pid).children(recursive=True)
        assert len(kids) == 2, "the workers did not start"
        time.sleep(1.0)                                   # the workers' watch has started
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 20
        while time.time() < deadline and any(_running(k) for k in kids):
            time.sleep(0.2)
        alive = [k for k in kids if _running(k)]
        assert not alive, f"workers left running after their parent was killed: {alive}"
    finally:
        for k in kids:
            if _running(k):
                k.kill()

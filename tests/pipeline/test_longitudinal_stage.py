"""The longitudinal stage's mapper: units in forked workers, results in order; here with one worker."""

import os
from types import SimpleNamespace

from mobility.pipeline.engine import LocalEngine
from mobility.pipeline.stages import _forked_mapper


def _square(x):
    return os.getpid(), x * x


def test_units_run_in_forked_workers_and_come_back_in_order():
    here = os.getpid()
    mapper = _forked_mapper(SimpleNamespace(engine=LocalEngine(workers=2), progress=False), "test")
    out = mapper(_square, [3, 1, 4, 1, 5])
    assert [v for _, v in out] == [9, 1, 16, 1, 25]
    assert here not in {pid for pid, _ in out}
    dask_like = SimpleNamespace(engine=object(), progress=False)  # not the local engine: one local worker per core
    pids = {pid for pid, _ in _forked_mapper(dask_like, "test")(_square, [1, 2])}
    assert (here in pids) == (LocalEngine().workers == 1)


def test_one_worker_runs_the_units_here():
    mapper = _forked_mapper(SimpleNamespace(engine=LocalEngine(workers=1), progress=False), "test")
    assert mapper(_square, [2, 3]) == [(os.getpid(), 4), (os.getpid(), 9)]

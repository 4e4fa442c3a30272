"""Engines (local, Dask), the per-part unit of work, batched reading of input files."""

import contextlib
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.io.atomic import write_parquet
from mobility.io.pings import read_pings
from mobility.pipeline import read_table, run
from mobility.pipeline.engine import (
    LocalEngine,
    make_engine,
    read_ping_batches,
    run_part,
)
from mobility.pipeline.loading import load_unit, merge_partition, plan_units, remove_shards, shard_pieces
from mobility.synthetic import write_region_config

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask distributed not installed: pip install 'mobility[dist]'")
TABLES = ["pings", "quarantine", "stops", "visits", "locations", "home_work_daily", "metrics_weekly",
          "metrics_monthly", "user_features"]


def region_config(folder: Path, n_partitions: int = 4) -> Path:
    return write_region_config(folder / "small.toml", name="small", start="2020-03-02", end="2020-03-22", seed=11,
                               n_users=30, n_partitions=n_partitions,
                               synthetic={"users_per_part": 12, "inject_bad_share": 0.003},
                               sections={"validate": {"max_bad_share": 0.5}})


# ------------------------------------------------------------------------------------------ local engine
def test_local_engine_maps_in_order():
    with LocalEngine() as engine:
        assert engine.map(lambda x: -x, [3, 1, 2]) == [-3, -1, -2]
        assert engine.map(abs, []) == []


def test_make_engine_rejects_unknown_names_and_dask_options_without_dask():
    with pytest.raises(MobilityError, match="not one of"):
        make_engine("spark")
    with pytest.raises(MobilityError, match="need --engine dask"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(MobilityError, match="need --engine dask"):
        make_engine("local", memory_limit_gb=2.0)
    assert make_engine("local", n_workers=3).workers == 3
    with pytest.raises(MobilityError, match="workers=0 must be a whole number"):
        make_engine("local", n_workers=0)


def _log_and_square(x):
    import logging

    logging.getLogger("mobility.test_engine").warning("part %s: %d rows odd", "p", x)
    if x < 0:
        raise ValueError(f"bad part {x}")
    return x * x


def test_local_engine_worker_processes_keep_order_logs_and_errors(caplog):
    """Forked workers: results in the order of the items, what the units log said here, a unit's error raised
    here; a worker that dies is a MobilityError naming memory, not a hang."""
    engine = LocalEngine(workers=2)
    with caplog.at_level(logging.WARNING, logger="mobility"):
        assert engine.map(_log_and_square, [3, 1, 2, 5], processes=True) == [9, 1, 4, 25]
    said = [r.getMessage() for r in caplog.records if r.name == "mobility.test_engine"]
    assert said == [f"part p: {x} rows odd" for x in (3, 1, 2, 5)]
    assert all(isinstance(r.args[1], int) for r in caplog.records if r.name == "mobility.test_engine")  # summable
    with pytest.raises(ValueError, match="bad part -1"):
        engine.map(_log_and_square, [1, -1, 2], processes=True)
    with pytest.raises(MobilityError, match="worker process died.*memory"):
        engine.map(lambda x: os._exit(9) if x == 2 else x, [1, 2, 3], processes=True)
    assert engine.map(lambda x: os.getpid(), [1, 2], processes=True) != [os.getpid()] * 2  # really elsewhere
    assert LocalEngine(workers=1).map(lambda x: os.getpid(), [1, 2], processes=True) == [os.getpid()] * 2


def test_freed_memory_is_handed_back_before_workers_are_forked(monkeypatch):
    """Forking copies the parent's page tables: what earlier stages freed (Arrow's pool, glibc's heap) is
    handed back first, once per map that forks, and not where the units run in the parent."""
    import mobility.pipeline.engine as engine_module

    calls = []
    monkeypatch.setattr(engine_module, "release_free_memory", lambda: calls.append(os.getpid()))
    assert LocalEngine(workers=2).map(abs, [-1, 2, -3], processes=True) == [1, 2, 3]
    assert calls == [os.getpid()]
    assert LocalEngine(workers=1).map(abs, [-1, 2], processes=True) == [1, 2]
    assert calls == [os.getpid()]
    monkeypatch.undo()
    engine_module.release_free_memory()  # the real one runs here (glibc or not) without error


WORKERS_THEN_SLEEP = """
import sys, time
from mobility.pipeline.engine import LocalEngine
LocalEngine(workers=2).map(lambda x: time.sleep(60), [0, 1, 2], processes=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_forked_workers_die_when_the_parent_is_killed(tmp_path):
    """A run killed with SIGKILL (out of memory, a scheduler's limit) takes its worker processes with it: they
    held a copy of their task queue, so they used to live on, idle or still writing a partition into the
    staging folder of the rerun that follows."""
    import subprocess
    import time

    import psutil

    parent = subprocess.Popen([sys.executable, "-c", WORKERS_THEN_SLEEP], cwd=tmp_path)
    workers = []
    try:
        for _ in range(300):  # the workers start once the package is imported (a few seconds)
            workers = psutil.Process(parent.pid).children()
            if len(workers) == 2:
                break
            time.sleep(0.1)
        assert len(workers) == 2, "the parent never forked its two workers"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"workers {[p.pid for p in alive]} outlived their killed parent"
    finally:
        for p in [*workers, *psutil.Process().children(recursive=True)]:  # orphans are no longer our children
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()


def test_worker_processes_run_kernels_after_the_parent_used_the_thread_pool():
    """A process that ran Numba's parallel radius kernel (its GNU OpenMP pool) forks the workers: they run the
    same kernel on one thread and give the parent's numbers (a worker that used the inherited pool hung or was
    terminated, so the pipeline hung on its second run in one process)."""
    import numba

    from mobility.kernels.metrics import radius_of_gyration_km

    rng = np.random.default_rng(0)
    lat, lon = rng.random(200_000), rng.random(200_000)
    seg = np.sort(rng.integers(0, 50, lat.size))
    if numba.get_num_threads() < 2:
        pytest.skip("one core: the parallel kernel is never used")
    here = radius_of_gyration_km(lat, lon, None, seg, 50)  # 200,000 rows, 50 users: the parallel kernel
    there = LocalEngine(workers=2).map(lambda k: radius_of_gyration_km(lat, lon, None, seg, 50), [0, 1],
                                       processes=True)
    for rg in there:
        np.testing.assert_allclose(rg, here, rtol=1e-12)


@needs_dask
def test_dask_engine_rejects_local_cluster_sizes_with_a_scheduler_and_bad_limits():
    from mobility.pipeline.engine import DaskEngine

    with pytest.raises(MobilityError, match="set them on your workers"):
        DaskEngine("tcp://127.0.0.1:1", memory_limit_gb=2.0)
    with pytest.raises(MobilityError, match="positive number of GB"):
        DaskEngine(memory_limit_gb=0)


@needs_dask
@pytest.mark.slow
def test_worker_memory_limit_reaches_the_local_workers():
    from mobility.pipeline.engine import DaskEngine

    with make_engine("dask", n_workers=1, memory_limit_gb=1.5) as engine:
        assert isinstance(engine, DaskEngine)
        workers = engine.client.scheduler_info()["workers"].values()
        assert [w["memory_limit"] for w in workers] == [1_500_000_000]


@needs_dask
@pytest.mark.slow
def test_local_cluster_keeps_its_scratch_files_in_a_folder_removed_on_close(tmp_path):
    """Dask's default scratch folder, ``<temporary-directory>/dask-scratch-space``, outlived the cluster."""
    import dask

    from mobility.pipeline.engine import DaskEngine

    tmp = tmp_path / "tmp"  # made by the engine, as Dask makes its own
    with dask.config.set({"temporary-directory": str(tmp)}), DaskEngine(n_workers=1) as engine:
        (scratch,) = tmp.iterdir()
        assert scratch.name.startswith("mobility-dask-")
        workers = engine.client.scheduler_info()["workers"].values()
        assert [Path(w["local_directory"]).parent.parent for w in workers] == [scratch]
        assert engine.map(abs, [-1, -2]) == [1, 2]
    assert list(tmp.iterdir()) == []


def test_run_part_reads_matching_parts_and_writes_each_output(tmp_path):
    write_parquet(pd.DataFrame({"u": ["a", "b"], "x": [1, 2]}), tmp_path / "left" / "part-00003.parquet")
    write_parquet(pd.DataFrame({"u": ["a", "b"], "y": [10, 20]}), tmp_path / "right" / "part-00003.parquet")

    def fn(left, right):
        both = left.merge(right, on="u")
        return [both.assign(s=both.x + both.y), both[["u"]]]

    run_part(fn, [tmp_path / "left", tmp_path / "right"], [tmp_path / "o1", tmp_path / "o2"], "part-00003.parquet")
    assert pd.read_parquet(tmp_path / "o1" / "part-00003.parquet")["s"].tolist() == [11, 22]
    assert pd.read_parquet(tmp_path / "o2" / "part-00003.parquet")["u"].tolist() == ["a", "b"]
    with pytest.raises(MobilityError, match="returned 1 tables, expected 2"):
        run_part(lambda left: [left], [tmp_path / "left"], [tmp_path / "o1", tmp_path / "o2"], "part-00003.parquet")


# ------------------------------------------------------------------------------------------ batched reading
def _pings(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2020-03-02", tz="UTC") + pd.to_timedelta(rng.integers(0, 3 * 86400, n), unit="s")
    return pd.DataFrame({"user_id": rng.choice(["u1", "u2", "u3", "u4", "u5"], n), "timestamp": ts,
                         "lat": 40 + rng.random(n), "lon": -75 + rng.random(n),
                         "accuracy_m": rng.choice([5.0, 10.0, 500.0], n)})


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_batches_concatenate_to_the_whole_file(tmp_path, suffix):
    pings = _pings(1000).rename(columns={"user_id": "uid"})
    path = tmp_path / f"p.{suffix}"
    if suffix == "parquet":
        pings.to_parquet(path, index=False, row_group_size=300)
    else:
        pings.assign(timestamp=pings.timestamp.dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(path, index=False)
    whole = read_pings(path, columns={"user_id": "uid"})
    batches = list(read_ping_batches(path, columns={"user_id": "uid"}, batch_rows=128))
    assert [len(b) for b in batches[:-1]] == [128] * (len(batches) - 1) and len(batches) == 8
    joined = pd.concat(batches, ignore_index=True)
    assert joined["row"].tolist() == list(range(1000))
    assert set(joined["source"].astype(str)) == {f"p.{suffix}"}
    pd.testing.assert_frame_equal(joined.drop(columns="source"), whole.drop(columns="source"))


def test_batches_of_an_empty_file_and_bad_arguments(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("user_id,timestamp,lat,lon\n")
    batches = list(read_ping_batches(path))
    assert len(batches) == 1 and len(batches[0]) == 0
    with pytest.raises(MobilityError, match="batch_rows"):
        list(read_ping_batches(path, batch_rows=0))
    with pytest.raises(MobilityError, match="no such file"):
        list(read_ping_batches(tmp_path / "missing.parquet"))


def test_a_bad_row_in_a_later_chunk_is_a_clear_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("user_id,timestamp,lat,lon\n" + "a,2020-03-02T00:00:00Z,40,-75\n" * 50 + "a,1,2,3,4,5\n")
    with pytest.raises(MobilityError, match=r"ragged.csv: .*line 52"):  # names the file and the line
        list(read_ping_batches(path, batch_rows=10))
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"user_id,timestamp,lat,lon\n" + b"a,2020-03-02T00:00:00Z,40,-75\n" * 50 + b"\xe9,1,2,3\n")
    with pytest.raises(MobilityError, match="not UTF-8"):
        list(read_ping_batches(path, batch_rows=10))


def _load(path: Path, out: Path, batch_rows: int) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    params = {"format": None, "columns": None, "timezone": "America/New_York", "max_accuracy_m": 200.0,
              "n_partitions": 3, "batch_rows": batch_rows, "period": None}
    shards, quarantine, pings = out / "shards", out / "quarantine", out / "pings"
    for folder in (shards, quarantine, pings):
        folder.mkdir(parents=True)
    (unit,) = plan_units([path])
    summary = load_unit(0, unit, params, shards, quarantine)
    for k, pieces in shard_pieces([summary], shards, 3).items():
        merge_partition(k, pieces, summary["files"][0]["columns"], pings, quarantine, f"part-{k:05d}.parquet")
    remove_shards([summary], shards)
    assert not list(shards.glob("*.arrow")), "shards left behind"
    parts = {f.name: pd.read_parquet(f) for f in sorted(pings.glob("*.parquet"))}
    q = pd.concat([pd.read_parquet(f) for f in quarantine.glob("*.parquet")], ignore_index=True)
    return summary["files"], parts, q


def test_load_file_in_batches_equals_reading_the_file_whole(tmp_path):
    pings = _pings(3000, seed=1)
    pings.loc[5, "accuracy_m"] = 10.0
    # duplicates far apart in the file (different batches) and next to each other: the better accuracy wins
    dup = pings.iloc[[5, 40, 2900]].assign(accuracy_m=[1.0, 400.0, 20.0])
    pings = pd.concat([pings, dup], ignore_index=True)
    path = tmp_path / "p.parquet"
    pings.to_parquet(path, index=False, row_group_size=500)
    whole_summary, whole, whole_q = _load(path, tmp_path / "whole", 10_000)
    batch_summary, batched, batch_q = _load(path, tmp_path / "batched", 256)
    assert batch_summary == whole_summary
    assert whole.keys() == batched.keys()
    for name in whole:
        pd.testing.assert_frame_equal(batched[name], whole[name], obj=name)
    key = ["row", "reason", "source"]
    pd.testing.assert_frame_equal(batch_q[key].sort_values(key).reset_index(drop=True),
                                  whole_q[key].sort_values(key).reset_index(drop=True))
    # by hand: row 3000 (copy of row 5 with accuracy 1, in a later batch) wins, so row 5 is the duplicate;
    # row 3001 (accuracy 400 > 200) is low_accuracy
    reasons = dict(zip(batch_q["row"], batch_q["reason"]))
    assert reasons[5] == "duplicate" and reasons[3001] == "low_accuracy"
    assert 3000 not in reasons


# ------------------------------------------------------------------------------------------ dask engine
def _die_once(marker_dir: str, x: int) -> int:
    marker = Path(marker_dir) / f"died-{x}"
    if x == 2 and not marker.exists():
        marker.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
    return x * x


def _always_die(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def _user_error(x: int) -> int:
    raise MobilityError(f"part {x}: bad data")


@pytest.fixture(scope="module")
def dask_engine():
    if not HAVE_DASK:
        pytest.skip("dask distributed not installed: pip install 'mobility[dist]'")
    import sys

    import cloudpickle
    import dask
    import distributed  # noqa: F401  (loads its config defaults before dask.config.set, which restores on exit)

    from mobility.pipeline.engine import DaskEngine

    # the workers cannot import this test module: ship its functions by value (the tests pass lambdas, which
    # Dask pickles with cloudpickle, rather than module functions, which it pickles by reference)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), DaskEngine(n_workers=2) as engine:
        yield engine


@needs_dask
@pytest.mark.slow
def test_dask_engine_maps_in_order_and_reraises_package_errors(dask_engine):
    assert dask_engine.map(abs, [-3, 1, -2], desc="abs") == [3, 1, 2]
    assert dask_engine.describe() == {"engine": "dask", "scheduler": "LocalCluster", "workers": 2}
    with pytest.raises(MobilityError, match="part 1: bad data"):
        dask_engine.map(lambda x: _user_error(x), [1])


@needs_dask
@pytest.mark.slow
def test_a_worker_dying_mid_task_is_retried_elsewhere(dask_engine, tmp_path):
    assert dask_engine.map(lambda x: _die_once(str(tmp_path), x), [1, 2, 3], desc="die-once") == [1, 4, 9]
    assert (tmp_path / "died-2").exists()


@needs_dask
@pytest.mark.slow
def test_workers_dying_every_time_is_a_clear_error(dask_engine):
    with pytest.raises(MobilityError, match="workers died running the same part 1 time"):
        dask_engine.map(lambda x: _always_die(x), [1], desc="always-die")
    # the cluster recovers: the next map works
    assert dask_engine.map(abs, [-5], desc="after") == [5]


@needs_dask
def test_unreachable_scheduler_is_a_clear_error():
    from mobility.pipeline.engine import DaskEngine

    with pytest.raises(MobilityError, match="cannot reach the Dask scheduler"):
        DaskEngine("tcp://127.0.0.1:9", connect_timeout_s=1)


@needs_dask
@pytest.mark.slow
def test_dask_run_outputs_equal_local_run_row_for_row(tmp_path):
    config = region_config(tmp_path)
    # the per-user stages (the stages after census need a longer region than this test's three weeks)
    local = run(str(config), str(tmp_path / "local"), progress=False, until="census")
    dask_run = run(str(config), str(tmp_path / "dask"), progress=False, engine="dask", n_workers=3, until="census")
    assert dask_run["stage_order"] == local["stage_order"]
    for name in TABLES:
        parts_local = sorted(p.name for p in (tmp_path / "local" / name).glob("*.parquet"))
        parts_dask = sorted(p.name for p in (tmp_path / "dask" / name).glob("*.parquet"))
        assert parts_dask == parts_local, name
        pd.testing.assert_frame_equal(read_table(tmp_path / "dask", name), read_table(tmp_path / "local", name),
                                      obj=name, check_exact=True)
    assert len(read_table(tmp_path / "local", "stops")) > 0


@pytest.fixture
def standalone_cluster(tmp_path):
    """A Dask cluster of separate processes, as on a real machine: ``dask scheduler`` and two ``dask worker``
    processes started from the command line, meeting through a scheduler file."""
    if not HAVE_DASK:
        pytest.skip("dask distributed not installed: pip install 'mobility[dist]'")
    import subprocess
    import sys
    import time

    bin_dir = Path(sys.executable).parent
    dask_cli = [str(bin_dir / "dask")] if (bin_dir / "dask").exists() else [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # the workers import this checkout
           "DASK_TEMPORARY_DIRECTORY": str(tmp_path / "dask-temporary")}  # their dask-scratch-space, not TMPDIR's
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([*dask_cli, "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
                               "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(600):
            if scheduler_file.exists():
                break
            time.sleep(0.1)
        for _ in range(2):
            procs.append(subprocess.Popen([*dask_cli, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "2GB"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield str(scheduler_file)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@needs_dask
@pytest.mark.slow
def test_a_standalone_cluster_writes_the_same_files_byte_for_byte(tmp_path, standalone_cluster):
    config = region_config(tmp_path)
    local = run(str(config), str(tmp_path / "local"), progress=False, until="census")
    cluster = run(str(config), str(tmp_path / "cluster"), progress=False, engine="dask", scheduler=standalone_cluster,
                  until="census")
    assert cluster["engine"]["workers"] == 2 and cluster["stage_order"] == local["stage_order"]
    for name in TABLES:
        local_parts = {p.name: p.read_bytes() for p in sorted((tmp_path / "local" / name).glob("*.parquet"))}
        cluster_parts = {p.name: p.read_bytes() for p in sorted((tmp_path / "cluster" / name).glob("*.parquet"))}
        assert cluster_parts.keys() == local_parts.keys(), name
        for part, data in local_parts.items():
            assert cluster_parts[part] == data, f"{name}/{part} differs"
    assert len(read_table(tmp_path / "local", "pings")) > 0

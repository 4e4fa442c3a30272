"""Faults: SIGKILL inside every stage, a Dask worker dying mid-stage, a full disk, an unwritable output folder.

The kill points are deterministic: the run is a child process whose ``os.replace`` (the rename that makes
every part file and every table appear) kills the process and its worker processes with SIGKILL at the n-th
rename into a given stage's staging folder, or just before a given table is committed. So the process dies with a complete
temporary file beside its final name, which is the worst moment for a reader.
"""

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import MobilityError
from mobility.pipeline import Runner, load_config, read_table, run, stages_for
from mobility.synthetic import write_region_config

UNTIL = "census"  # the per-user stages; the stages after census need a longer region than these tests'
TABLES = ["pings", "quarantine", "stops", "visits", "locations", "home_work_daily", "metrics_weekly",
          "metrics_monthly", "user_features"]

KILLER = textwrap.dedent("""
    import os, signal, sys
    kind, what, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_replace, seen = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        src, dst = str(src), str(dst)
        if kind == "stage":  # a part file or a summary appearing in the stage's staging folder
            hit = f"{os.sep}.staging{os.sep}{what}-" in dst
        else:  # a table folder moving from staging to its final name
            hit = dst.endswith(os.sep + what) and f"{os.sep}.staging{os.sep}" in src
        if hit:
            seen[0] += 1
            if seen[0] == nth:  # the run and its worker processes (its own session, see below)
                os.killpg(os.getpgid(0), signal.SIGKILL)
        return real_replace(src, dst, *args, **kwargs)

    os.replace = replace
    from mobility.pipeline.__main__ import main
    sys.exit(main(sys.argv[4:]))
""")


def fault_config(folder: Path) -> Path:
    return write_region_config(folder / "faults.toml", name="faults", start="2020-03-02", end="2020-03-22", seed=5,
                               n_users=24, n_partitions=3, synthetic={"inject_bad_share": 0.003},
                               sections={"validate": {"max_bad_share": 0.5}})


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(out, name) for name in TABLES}


def assert_same_tables(out: Path, expected: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables(out).items():
        pd.testing.assert_frame_equal(frame, expected[name], obj=name, check_exact=True)


def assert_no_partial_output(out: Path) -> None:
    """Every file under a table's final name is complete: no temporary file, every part readable."""
    for name in TABLES:
        folder = out / name
        if folder.exists():
            assert not list(folder.glob(".tmp-*")), f"temporary file visible in {folder}"
            for part in folder.glob("*.parquet"):
                pd.read_parquet(part)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    config = fault_config(folder)
    run(str(config), str(folder / "reference"), progress=False, until=UNTIL)
    return config, tables(folder / "reference")


@pytest.mark.slow
def test_sigkill_inside_every_stage_then_rerun_gives_identical_outputs(reference, tmp_path):
    config, expected = reference
    out = tmp_path / "out"
    cli = ["--region", str(config), "--out", str(out), "--quiet", "--until", UNTIL]
    kill_points = [
        ("stage", "load", 1), ("stage", "load", 3), ("stage", "validate", 2), ("stage", "stops", 1),
        ("stage", "locations", 2), ("commit", "visits", 1), ("stage", "home_work", 1),
        ("stage", "metrics", 3), ("commit", "metrics_monthly", 1), ("stage", "census", 1),
    ]
    for kind, what, nth in kill_points:
        proc = subprocess.run([sys.executable, "-c", KILLER, kind, what, str(nth), *cli],
                              check=False, capture_output=True, text=True, timeout=600, start_new_session=True)
        assert proc.returncode == -9, f"{kind} {what} #{nth}: not killed (exit {proc.returncode}): {proc.stderr}"
        assert_no_partial_output(out)
    proc = subprocess.run([sys.executable, "-m", "mobility.pipeline", *cli], check=False, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(out, expected)
    assert not (out / ".staging").exists() or not any((out / ".staging").iterdir())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                    reason="dask distributed not installed: pip install 'mobility[dist]'")
def test_dask_worker_dying_mid_stage_then_the_run_completes_identically(reference, tmp_path):
    import os
    import signal

    import cloudpickle

    from mobility.pipeline import Stage
    from mobility.pipeline.engine import DaskEngine
    from mobility.stops import detect_stops

    config_path, expected = reference
    config = load_config(str(config_path))
    marker = tmp_path / "died"

    def dying_stops(ctx):
        def one(pings):
            if not marker.exists():  # the first partition to run kills its worker process, once
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return [detect_stops(pings, **ctx.params)]

        ctx.map_parts(["pings"], ["stops"], one)
        return {}

    stages = [Stage(s.name, s.after, s.outputs, dying_stops, s.params, s.inputs) if s.name == "stops" else s
              for s in stages_for(config)]
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with DaskEngine(n_workers=2) as engine:
        Runner(config, stages, tmp_path / "out", progress=False, engine=engine).run(until=UNTIL)
    assert marker.exists(), "no worker was killed"
    assert_same_tables(tmp_path / "out", expected)


def test_disk_full_while_writing_is_a_clear_error_and_earlier_outputs_stay(reference, tmp_path, monkeypatch):
    import errno

    config, expected = reference
    out = tmp_path / "out"
    shutil.copytree(Path(config).parent / "reference", out)
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    writes = {"n": 0}
    real = pd.DataFrame.to_parquet

    def full_disk(self, path, *args, **kwargs):
        writes["n"] += 1
        if writes["n"] >= 2:
            raise OSError(errno.ENOSPC, os_strerror(errno.ENOSPC), str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(MobilityError, match="No space left on device.*earlier outputs are intact"):
        run(str(config), str(out), from_stage="stops", until=UNTIL, progress=False)
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in out.rglob("*.parquet") if ".staging" not in p.parts}
    assert after == before  # committed tables untouched: the failed stage never committed
    assert not [p for p in out.rglob(".tmp-*")], "temporary file left after the failed write"
    run(str(config), str(out), until=UNTIL, progress=False)
    assert_same_tables(out, expected)


def os_strerror(code: int) -> str:
    import os

    return os.strerror(code)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 256 kB tmpfs (a real full disk: smaller than the pings table alone); skipped where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=False, capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()}); the monkeypatched test covers it")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


@pytest.mark.slow
def test_real_full_disk_then_more_space_then_rerun(reference, tiny_tmpfs):
    config, expected = reference
    out = tiny_tmpfs / "out"
    proc = subprocess.run([sys.executable, "-m", "mobility.pipeline", "--region", str(config), "--out", str(out),
                           "--quiet", "--until", UNTIL], check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert_no_partial_output(out)
    subprocess.run(["mount", "-o", "remount,size=200m", str(tiny_tmpfs)], check=True)
    proc = subprocess.run([sys.executable, "-m", "mobility.pipeline", "--region", str(config), "--out", str(out),
                           "--quiet", "--until", UNTIL], check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(out, expected)


def test_unwritable_output_directory_is_a_clear_error(reference, tmp_path):
    config, _ = reference
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = subprocess.run([sys.executable, "-m", "mobility.pipeline", "--region", str(config),
                           "--out", str(blocker / "out"), "--quiet"], check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert "cannot create output directory" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def _load_one(path: Path, folder: Path, n_partitions: int, batch_rows: int) -> dict:
    from mobility.pipeline.loading import load_unit, merge_partition, plan_units, shard_pieces

    params = {"format": None, "columns": None, "timezone": "UTC", "max_accuracy_m": 200.0,
              "n_partitions": n_partitions, "batch_rows": batch_rows, "period": None}
    for name in ("shards", "quarantine", "pings"):
        (folder / name).mkdir()
    summaries = [load_unit(i, unit, params, folder / "shards", folder / "quarantine")
                 for i, unit in enumerate(plan_units([path]))]
    for k, pieces in shard_pieces(summaries, folder / "shards", n_partitions).items():
        if not pieces:  # no users in this partition
            continue
        merge_partition(k, pieces, ["user_id", "timestamp", "lat", "lon"], folder / "pings", folder / "quarantine",
                        f"part-{k:05d}.parquet")
    return {"rows": sum(f["rows"] for s in summaries for f in s["files"]),
            "kept": sum(f["kept"] for s in summaries for f in s["files"]),
            "quarantine": {k: v for s in summaries for f in s["files"] for k, v in f["quarantine"].items()}}


@pytest.mark.slow
def test_one_user_with_ten_million_pings_loads_in_batches(tmp_path):
    import numpy as np

    n = 10_000_000
    ts = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(np.arange(n, dtype=np.int64) * 2, unit="s")
    frame = pd.DataFrame({"user_id": pd.Series(["whale"] * n, dtype="str"), "timestamp": ts,
                          "lat": np.full(n, 40.7), "lon": np.full(n, -74.0)})
    frame.iloc[::-1].to_parquet(tmp_path / "whale.parquet", index=False, row_group_size=1_000_000)  # reversed
    del frame
    summary = _load_one(tmp_path / "whale.parquet", tmp_path, 4, 2_000_000)
    assert summary["rows"] == summary["kept"] == n and summary["quarantine"] == {}
    parts = list((tmp_path / "pings").glob("*.parquet"))
    assert len(parts) == 1  # one user, one partition
    loaded = pd.read_parquet(parts[0], columns=["timestamp"])["timestamp"]
    assert len(loaded) == n and loaded.is_monotonic_increasing  # sorted across batches


@pytest.mark.slow
def test_a_million_users_with_one_ping_each(tmp_path):
    import numpy as np

    n = 1_000_000
    frame = pd.DataFrame({"user_id": pd.Series([f"u{i:07d}" for i in range(n)], dtype="str"),
                          "timestamp": pd.Timestamp("2020-03-02", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
                          "lat": np.full(n, 40.7), "lon": np.full(n, -74.0)})
    frame.to_parquet(tmp_path / "many.parquet", index=False)
    summary = _load_one(tmp_path / "many.parquet", tmp_path, 8, 300_000)
    assert summary["rows"] == summary["kept"] == n
    parts = [pd.read_parquet(p) for p in sorted((tmp_path / "pings").glob("*.parquet"))]
    assert len(parts) == 8 and sum(len(p) for p in parts) == n
    users = pd.concat([p["user_id"] for p in parts])
    assert users.is_unique and len(users) == n

"""The batch CLI end to end on a tiny synthetic region: outputs, rerun, SIGKILL at several points."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mobility.pipeline import read_table
from mobility.synthetic import write_region_config

TABLES = ["pings", "quarantine", "stops", "visits", "locations", "home_work_daily", "metrics_weekly",
          "metrics_monthly", "user_features", "employment_weekly", "area_unemployment"]


def tiny_config(folder: Path) -> Path:
    return write_region_config(folder / "tiny.toml", name="tiny", start="2020-03-02", end="2020-03-29", seed=7,
                               n_users=40, n_partitions=3, synthetic={"inject_bad_share": 0.002},
                               sections={"validate": {"max_bad_share": 0.5}})


def cli(config: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mobility.pipeline", "--region", str(config), "--out", str(out),
                             "--quiet", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out + err


def tables(out: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in TABLES:
        df = read_table(out, name)
        frames[name] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    config = tiny_config(folder)
    t0 = time.perf_counter()
    code, log = finish(cli(config, folder / "out"))
    assert code == 0, log
    return config, folder / "out", time.perf_counter() - t0


@pytest.mark.slow
def test_run_writes_every_table_and_manifest(clean_run):
    config, out, _ = clean_run
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["stage_order"] == ["generate", "load", "validate", "stops", "locations", "home_work", "metrics",
                                       "census", "employment", "longitudinal", "report"]
    assert "fewer than min_users" in manifest["stages"]["longitudinal"]["skipped"]  # 4 weeks: too few losers
    assert all(manifest["stages"][s]["status"] == "ran" for s in manifest["stage_order"])
    frames = tables(out)
    truth = json.loads((config.parent / "region" / "truth" / "bad_rows.json").read_text())
    planted = {}
    for kind in truth["kinds"].values():
        planted[kind["reason"]] = planted.get(kind["reason"], 0) + kind["count"]
    # every injected bad row is in quarantine, under the reason the generator planted, and nothing else is
    assert frames["quarantine"]["reason"].value_counts().to_dict() == planted
    assert manifest["stages"]["load"]["input_rows"] == len(frames["pings"]) + len(frames["quarantine"])
    assert set(frames["stops"]["user_id"]) <= set(frames["pings"]["user_id"])
    # privacy: the daily labels and features hold CBGs, never coordinates
    for name in ("home_work_daily", "user_features"):
        assert not {"lat", "lon"} & set(frames[name].columns)
    assert frames["home_work_daily"]["home_cbg"].dropna().str.fullmatch(r"42\d{10}").all()


@pytest.mark.slow
def test_second_run_skips_everything(clean_run):
    config, out, _ = clean_run
    code, log = finish(cli(config, out))
    assert code == 0, log
    manifest = json.loads((out / "run.json").read_text())
    assert {e["status"] for e in manifest["stages"].values()} == {"skipped"}


@pytest.mark.slow
def test_sigkill_at_several_points_then_rerun_gives_identical_outputs(clean_run, tmp_path):
    config, reference, duration = clean_run
    expected = tables(reference)
    out = tmp_path / "out"
    for fraction in (0.2, 0.45, 0.7, 0.9):
        proc = cli(config, out, "--force") if fraction == 0.2 else cli(config, out)
        time.sleep(duration * fraction)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for name in TABLES:  # no temporary file is ever visible under a table's name
            assert not list((out / name).glob(".tmp-*")) if (out / name).exists() else True
    code, log = finish(cli(config, out))
    assert code == 0, log
    got = tables(out)
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def test_bad_region_is_a_clear_error(tmp_path):
    code, log = finish(cli(tmp_path / "missing.toml", tmp_path / "out"))
    assert code == 2
    assert "error: region config" in log and "Traceback" not in log

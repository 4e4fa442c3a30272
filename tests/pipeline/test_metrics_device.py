"""[metrics] backend and --backend reach the metrics stage: auto, cpu, gpu."""

import logging

import pandas as pd
import pytest

from mobility.backend import gpu_status
from mobility.errors import MobilityError
from mobility.pipeline import read_table, run
from mobility.synthetic import write_region_config

HAVE_GPU, WHY = gpu_status()


def small(folder):
    return write_region_config(folder / "small.toml", name="small", start="2020-03-02", end="2020-03-22", seed=11,
                               n_users=20, n_partitions=2)


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("device")
    config = small(folder)
    manifest = run(str(config), str(folder / "out"), progress=False, until="metrics")
    return config, folder / "out", manifest


def test_auto_is_recorded_and_logged(auto_run, caplog):
    config, out, manifest = auto_run
    assert manifest["stages"]["metrics"]["params"]["backend"] == "auto"
    assert manifest["stages"]["metrics"]["device"] == ("gpu" if HAVE_GPU else "cpu")
    with caplog.at_level(logging.INFO, logger="mobility.pipeline"):
        run(str(config), str(out), progress=False, from_stage="metrics", until="metrics")
    assert f"metrics on the {'GPU' if HAVE_GPU else 'CPU'} ([metrics] backend = 'auto': {WHY})" in caplog.text


@pytest.mark.skipif(HAVE_GPU, reason="a usable GPU is present")
def test_gpu_without_one_stops_before_any_stage(tmp_path):
    with pytest.raises(MobilityError, match=r"--backend = 'gpu', but .*pip install mobility\[gpu\]"):
        run(str(small(tmp_path)), str(tmp_path / "out"), progress=False, backend="gpu")
    assert not (tmp_path / "out").exists()
    with pytest.raises(MobilityError, match="not one of"):
        run(str(small(tmp_path)), str(tmp_path / "out"), progress=False, backend="tpu")


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_GPU, reason=f"no usable GPU: {WHY}")
def test_gpu_and_cpu_metrics_agree(auto_run):
    config, out, _ = auto_run
    run(str(config), str(out), progress=False, from_stage="metrics", until="metrics", backend="gpu")
    gpu = read_table(out, "metrics_weekly")
    manifest = run(str(config), str(out), progress=False, from_stage="metrics", until="metrics", backend="cpu")
    assert manifest["stages"]["metrics"]["device"] == "cpu"
    pd.testing.assert_frame_equal(gpu, read_table(out, "metrics_weekly"), rtol=1e-9)


@pytest.mark.skipif(HAVE_GPU, reason="a usable GPU is present")
def test_the_cli_flag_reaches_the_choice(tmp_path, capsys):
    from mobility.pipeline.__main__ import main

    assert main(["--region", str(small(tmp_path)), "--out", str(tmp_path / "out"), "--quiet", "--backend", "gpu"]) == 2
    assert "error: --backend = 'gpu', but CuPy is not installed" in capsys.readouterr().err
